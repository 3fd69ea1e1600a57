// Strings of the subject's rights (issue 13): item decisions at exit, vulnerable people at interview start,
// notifications. Added to the dictionary with extend() so the big dictionary stays untouched.
import { extend } from "./i18n.js";

extend({
  "itemdisp.destroyed": ["销毁（填写销毁记录编号）", "Destroyed (record number)"],
});
