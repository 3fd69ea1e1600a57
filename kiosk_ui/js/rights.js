// The subject's rights before an interview (issue 13): which protections the law requires for this subject, shown
// on the interview terminal before the start; the server enforces the same rules (controller/domain/rules.py).
import "./rights_i18n.js";

// 《刑事诉讼法》第281条: who may be the appropriate adult (codes; the server refuses anything else)
export const ADULT_RELATIONS = ["parent", "guardian", "other_relative", "teacher", "community_representative", "youth_representative"];

/** The i18n keys of what must be recorded before this stay's interview can start. */
export function requirements(stay) {
  if (!stay) return [];
  const out = [];
  if (stay.subject?.is_minor) out.push("rights.req.adult");
  if (stay.subject?.is_minor && stay.subject?.sex === "female") out.push("rights.req.female_staff");
  if (stay.flags?.needs_interpreter) out.push("rights.req.interpreter");
  return out;
}
