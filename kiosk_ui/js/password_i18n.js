// Strings of the password screens (issue 16): a staff member's own change, an admin's reset, and the sign-in
// screen's reason after either. Added with extend() so the big dictionary stays untouched.
import { extend } from "./i18n.js";

extend({
  "pw.open": ["修改密码", "Change password"],
  "pw.title": ["修改我的密码", "Change my password"],
  "pw.current": ["当前密码", "Current password"],
  "pw.new": ["新密码", "New password"],
  "pw.again": ["再次输入新密码", "New password again"],
  "pw.submit": ["确认修改", "Change password"],
  "pw.cancel": ["取消", "Cancel"],
  "pw.mismatch": ["两次输入的新密码不一致，请重新输入", "The two new passwords differ: type them again"],
  "pw.policy.title": ["密码要求", "Password rules"],
  "pw.policy.length": ["至少10位；", "At least 10 characters;"],
  "pw.policy.police_no": ["不能包含本人警号；", "must not contain your police number;"],
  "pw.policy.common": ["不能是常见密码（如123456、password、woaini1314）或简单重复、连续的字符（如1111111111、abcdefghijk、qwertyuiop）；", "not a common password (123456, password, ...) nor repeated or consecutive characters (1111111111, abcdefghijk, qwertyuiop);"],
  "pw.policy.differ": ["新密码不能与当前密码相同。", "the new password must differ from the current one."],
  "pw.policy.ends": ["修改成功后，您在所有终端上的登录都会结束，请用新密码重新登录。", "When the change succeeds every session of yours ends, on every terminal: sign in again with the new password."],
  "pw.reset.open": ["重置他人密码", "Reset a password"],
  "pw.reset.title": ["重置工作人员密码（管理员）", "Reset a staff member's password (admin)"],
  "pw.reset.staff": ["工作人员", "Staff member"],
  "pw.reset.choose": ["请选择工作人员", "Choose a staff member"],
  "pw.reset.ends": ["重置后，该人员在所有终端上的登录都会结束；请当面告知新密码，并提醒其登录后自行修改。", "After the reset every session of that person ends, on every terminal; tell him the new password in person and ask him to change it after signing in."],
  "pw.reset.submit": ["确认重置", "Reset password"],
  "pw.reset.done": ["密码已重置，该人员的所有登录已结束", "Password reset: every session of that person has ended"],
  "lock.password_changed": ["密码已修改，所有登录已结束，请用新密码重新登录", "Password changed: every session has ended, sign in with the new password"],
});
