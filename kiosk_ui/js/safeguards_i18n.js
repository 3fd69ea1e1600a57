// Strings of the interview safeguards (issue 13): what the interview terminal lists before the start, the
// appropriate adult's record with the visitor tag, the female staff member's own verification. Added with extend().
import { extend } from "./i18n.js";

extend({
  "sg.title": ["开始前须满足的条件", "Required before the start"],
  "sg.none": ["该人员无特殊保护要求", "No special safeguards for this subject"],
  "sg.met": ["已满足", "met"],
  "sg.unmet": ["未满足", "not met"],
  "sg.req.adult_identified": ["已登记法定代理人或合适成年人（姓名、身份、身份证号码、联系方式）",
    "Appropriate adult recorded (name, relation, ID number, contact)"],
  "sg.req.adult_present.tag": ["合适成年人在场：其访客手环已在本室感应到", "Appropriate adult present: their visitor tag is seen in this room"],
  "sg.req.adult_present.officer_confirmed": ["合适成年人在场：由办案民警在本终端确认", "Appropriate adult present: confirmed here by the officer"],
  "sg.req.female_staff": ["女工作人员在场，并由其本人验证身份", "A female staff member present, verified in person"],
  "sg.req.interpreter": ["已登记翻译人员（含手语翻译）", "Interpreter (incl. sign language) recorded"],
  "sg.req.breath_test": ["酒精呼气检测结果低于本中心规定值（{threshold} mg/100ml）", "Breath test below the site threshold ({threshold} mg/100 ml)"],
  "sg.source": ["依据", "Source"],
  "sg.adult": ["合适成年人", "Appropriate adult"],
  "sg.adult_record": ["登记合适成年人", "Record the appropriate adult"],
  "sg.adult_name": ["姓名", "Name"],
  "sg.adult_relation": ["身份（关系）", "Relation"],
  "sg.adult_tag": ["访客手环编号", "Visitor tag number"],
  "sg.adult_tag_hint": ["发放给合适成年人的访客手环，进入讯问室后系统自动感应", "The visitor tag handed to the adult; the room's reader sees it"],
  "sg.adult_recorded": ["已登记", "recorded"],
  "sg.adult_confirm": ["我确认合适成年人已在本室", "I confirm the appropriate adult is in this room"],
  "sg.adult_wait_tag": ["等待感应到合适成年人的访客手环……", "Waiting for the appropriate adult's visitor tag…"],
  "sg.female_me": ["您本人为女工作人员", "You are the female staff member"],
  "sg.female_verify": ["女工作人员本人验证（警号和密码）", "Female staff member verifies herself (police no. and password)"],
  "sg.female_no": ["女工作人员警号", "Her police number"],
  "sg.female_pw": ["女工作人员密码", "Her password"],
  "sg.breath_latest": ["最近一次酒精呼气检测：{value} mg/100ml", "Latest breath test: {value} mg/100 ml"],
  "sg.breath_none": ["醉酒标记后尚无酒精呼气检测结果", "No breath test since the intoxication flag"],
  "sg.start_blocked": ["以上条件全部满足后方可开始", "The start is possible once all of the above are met"],
});
