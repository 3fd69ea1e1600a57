// Strings of the welfare panel (issue 13): meal and night-rest timers, the welfare-check interval and its reasons.
// Added to the dictionary with extend() so the big dictionary stays untouched.
import { extend } from "./i18n.js";

extend({
  "wf.title": ["饮食、休息与巡查", "Meals, rest and welfare checks"],
  "wf.meal": ["下次供餐", "Next meal"],
  "wf.meal_every": ["白天每 {h} 小时供餐一次", "A meal every {h} h by day"],
  "wf.meal_last": ["上次供餐", "Last meal"],
  "wf.meal_record": ["记录供餐", "Record a meal"],
  "wf.rest": ["夜间休息", "Night rest"],
  "wf.rest_rule": ["{start}–{end} 之间须保证连续休息不少于 {h} 小时", "At least {h} h of continuous rest between {start} and {end}"],
  "wf.rest_start_by": ["最迟开始休息", "Rest must start within"],
  "wf.rest_given": ["本时段已安排休息", "Rest given tonight"],
  "wf.rest_next": ["下一休息时段开始", "Next rest window opens"],
  "wf.rest_last": ["上次休息", "Last rest"],
  "wf.rest_record": ["记录开始休息", "Record rest"],
  "wf.check": ["巡查间隔", "Welfare-check interval"],
  "wf.check_minutes": ["每 {m} 分钟", "every {m} min"],
  "wf.check_reasons": ["原因：", "Because: "],
  "wf.check_default": ["一般人员（本中心默认）", "no particular risk (site default)"],
  "wf.check_room_due": ["本房间下次巡查", "Next check of the room"],
  "wf.check_here": ["巡查须由巡查人员本人在房间内登记（佩戴定位手环或使用本房间终端）", "A welfare check is recorded by the guard in the room (own tag, or the room's kiosk)"],
  "wf.other": ["其他看护", "Other care"],
  "wf.alarm": ["已超时", "Late"],
  "wf.reason.self_harm_risk": ["有自伤自残风险", "self-harm risk"],
  "wf.reason.intoxicated": ["醉酒", "intoxicated"],
  "wf.reason.minor": ["未成年人", "minor"],
  "wf.reason.pregnant": ["怀孕", "pregnant"],
  "wf.reason.ill": ["患病", "ill"],
  "wf.reason.injured": ["受伤", "injured"],
});
