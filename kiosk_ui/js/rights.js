// The subject's rights before an interview (issue 13): who may be the appropriate adult. The interview terminal
// lists each safeguard with its state from the server (safeguards.js); the server enforces them
// (controller/domain/safeguards.py, controller/domain/rules.py).
import "./rights_i18n.js";

// 《刑事诉讼法》第281条: who may be the appropriate adult (codes; the server refuses anything else)
export const ADULT_RELATIONS = ["parent", "guardian", "other_relative", "teacher", "community_representative", "youth_representative"];
