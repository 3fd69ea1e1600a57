// Strings of the subject's rights (issue 13): item decisions at exit, vulnerable people at interview start,
// notifications. Added to the dictionary with extend() so the big dictionary stays untouched.
import { extend } from "./i18n.js";

extend({
  "apr.kind.item_return": ["危险/涉案物品发还", "Return of a dangerous or case-related item"],
  "apr.kind.no_notification": ["不通知家属", "Not notifying the family"],
  "audit.appropriate_adult_recorded": ["登记合适成年人", "Appropriate adult recorded"],
  "audit.appropriate_adult_left": ["合适成年人离开", "Appropriate adult left"],
  "audit.notification_recorded": ["通知家属/单位/监护人", "Notification recorded"],
  "exit.item_approved": ["值班领导已批准发还该物品", "A supervisor approved returning this item"],
  "itemdisp.destroyed": ["销毁（填写销毁记录编号）", "Destroyed (record number)"],
  "adult_rel.parent": ["父母", "Parent"],
  "adult_rel.guardian": ["监护人", "Guardian"],
  "adult_rel.other_relative": ["其他成年亲属", "Other adult relative"],
  "adult_rel.teacher": ["学校代表（老师）", "School representative (teacher)"],
  "adult_rel.community_representative": ["基层组织代表", "Community representative"],
  "adult_rel.youth_representative": ["未成年人保护组织代表", "Youth-protection representative"],
  "rights.adult_id_number": ["合适成年人身份证号码", "Appropriate adult's ID number"],
  "rights.adult_contact": ["合适成年人联系电话", "Appropriate adult's phone"],
});
