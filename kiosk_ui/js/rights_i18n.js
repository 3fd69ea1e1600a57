// Strings of the subject's rights (issue 13): item decisions at exit, vulnerable people at interview start,
// notifications. Added to the dictionary with extend() so the big dictionary stays untouched.
import { extend } from "./i18n.js";

extend({
  "apr.kind.item_return": ["危险/涉案物品发还", "Return of a dangerous or case-related item"],
  "apr.kind.no_notification": ["不通知家属", "Not notifying the family"],
  "audit.notification_recorded": ["通知家属/单位/监护人", "Notification recorded"],
  "itemdisp.destroyed": ["销毁（填写销毁记录编号）", "Destroyed (record number)"],
  "adult_rel.parent": ["父母", "Parent"],
  "adult_rel.guardian": ["监护人", "Guardian"],
  "adult_rel.other_relative": ["其他成年亲属", "Other adult relative"],
  "adult_rel.teacher": ["学校代表（老师）", "School representative (teacher)"],
  "adult_rel.community_representative": ["基层组织代表", "Community representative"],
  "adult_rel.youth_representative": ["未成年人保护组织代表", "Youth-protection representative"],
  "rights.adult_id_number": ["合适成年人身份证号码", "Appropriate adult's ID number"],
  "rights.adult_contact": ["合适成年人联系电话", "Appropriate adult's phone"],
  "rights.requirements": ["开始前须满足", "Required before the start"],
  "rights.req.adult": ["未成年人：须有法定代理人或合适成年人在场，并登记其姓名、身份、身份证号码和联系方式（刑诉法第281条）",
    "Minor: an appropriate adult present, with name, relation, ID number and contact (CPL art. 281)"],
  "rights.req.female_staff": ["女性未成年人：在场民警中须有女工作人员（刑诉法第281条）",
    "Female minor: a female staff member among the officers present (CPL art. 281)"],
  "rights.req.interpreter": ["需要翻译（含手语）：须先登记翻译人员（刑诉法第121条）",
    "Needs an interpreter (incl. sign language): record one first (CPL art. 121)"],
});
