// The light path of witnesses and victims (issue 13): which intake steps a stay goes through (the server says so
// in `stay.path`; a role alone gives the same default) and the stepper's labels. The server enforces the path
// (controller/domain/stay.py LIGHT_ROLES); this only shows it.
import { t } from "./i18n.js";
import "./witness_i18n.js";

export const LIGHT_ROLES = ["witness", "victim"];
const SUSPECT_STEPS = ["registration", "search", "collection", "property", "placement", "exit"];

/** Whether this stay takes the light path. */
export function isLight(stay) {
  return stay?.path ? !!stay.path.light : LIGHT_ROLES.includes(stay?.role);
}

/** The intake steps the stepper shows for this stay. */
export function pathSteps(stay) {
  if (stay?.path?.steps) return stay.path.steps;
  return isLight(stay) ? ["registration", "search", "placement", "exit"] : SUSPECT_STEPS;
}

/** Whether the site requires a check of this witness or victim before anything else. */
export function checkRequired(stay) {
  return !isLight(stay) || (stay?.path?.security_check ?? "light") !== "none";
}

/** The label of one step: the light path names its check and its wait differently. */
export function stepLabel(stay, key) {
  if (isLight(stay) && (key === "search" || key === "placement")) return t(`witness.step.${key}`);
  return t(`step.${key}`);
}

/** [done, now] indices into pathSteps(stay) for the stay's state. */
export function stepProgress(stay) {
  const steps = pathSteps(stay);
  const state = stay.state;
  const at = (k) => steps.indexOf(k);
  if (state === "exited") return [steps.length, -1];
  if (state === "exiting") return [at("exit"), at("exit")];
  if (!isLight(stay)) {
    const INTAKE = ["registered", "searched", "collected", "property_stored"];
    if (INTAKE.includes(state)) { const d = INTAKE.indexOf(state) + 1; return [d, d]; }
    return [at("exit"), -1];
  }
  if (state === "registered") return [1, 1];
  if (state === "searched" || state === "property_stored") return [at("placement"), at("placement")];
  return [at("exit"), -1]; // waiting, inquired, on an activity: nothing of the intake is "now"
}
