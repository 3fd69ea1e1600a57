// Strings of the live connection's endings and of the dashboard's live locations: added to the dictionary.
import { extend } from "./i18n.js";

extend({
  "lock.ended": ["本次登录已结束（已退出或在别处登出），请重新登录", "Your session has ended: sign in again"],
  "lock.disabled": ["该账号已停用，请联系系统管理员", "This account has been disabled: ask the administrator"],
  "lock.kiosk_revoked": ["本终端已被注销，请联系系统管理员重新登记", "This kiosk has been revoked: ask the administrator"],
  "lock.forbidden": ["此页面无权连接控制器，请从控制器的地址重新打开并登录", "This page may not connect to the controller: open it from its own address"],
  "where.title": ["实时位置（手环）", "Live locations (wristbands)"],
  "where.none": ["暂无手环定位信息", "No wristband positions yet"],
  "where.unknown_room": ["未登记区域", "an unlisted area"],
  "where.since": ["到达", "since"],
});
