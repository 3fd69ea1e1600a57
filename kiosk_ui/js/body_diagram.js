// The body diagram of the entry health check: an inline SVG front and back figure whose regions carry the API's
// body-region codes (data-region). Tapping a region (or Enter/Space on it) calls onPick(region); marked regions
// are drawn filled on both figures. Left and right are the person's own, so on the front view his right arm is on
// the viewer's left, and on the back view on the viewer's right.
import { t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

// [region, shape, attributes]; drawn in order, so the face lies over the head and the hands over the arms
const FRONT = [
  ["head", "ellipse", { cx: 100, cy: 38, rx: 25, ry: 31 }],
  ["face", "ellipse", { cx: 100, cy: 46, rx: 17, ry: 20 }],
  ["neck", "rect", { x: 89, y: 68, width: 22, height: 14, rx: 3 }],
  ["chest", "rect", { x: 66, y: 82, width: 68, height: 60, rx: 10 }],
  ["abdomen", "rect", { x: 70, y: 142, width: 60, height: 56, rx: 6 }],
  ["genital", "path", { d: "M84,198 L116,198 L100,226 Z" }],
  ["right_arm", "path", { d: "M66,86 L52,90 L36,192 L52,195 L66,120 Z" }],
  ["left_arm", "path", { d: "M134,86 L148,90 L164,192 L148,195 L134,120 Z" }],
  ["right_hand", "ellipse", { cx: 43, cy: 207, rx: 11, ry: 15 }],
  ["left_hand", "ellipse", { cx: 157, cy: 207, rx: 11, ry: 15 }],
  ["right_leg", "path", { d: "M70,198 L84,198 L98,228 L96,378 L76,378 Z" }],
  ["left_leg", "path", { d: "M130,198 L116,198 L102,228 L104,378 L124,378 Z" }],
  ["right_foot", "ellipse", { cx: 84, cy: 392, rx: 15, ry: 9 }],
  ["left_foot", "ellipse", { cx: 116, cy: 392, rx: 15, ry: 9 }],
];

const BACK = [
  ["head", "ellipse", { cx: 100, cy: 38, rx: 25, ry: 31 }],
  ["neck", "rect", { x: 89, y: 68, width: 22, height: 14, rx: 3 }],
  ["back", "rect", { x: 66, y: 82, width: 68, height: 112, rx: 10 }],
  ["buttocks", "path", { d: "M70,194 L130,194 L130,226 Q100,240 70,226 Z" }],
  ["left_arm", "path", { d: "M66,86 L52,90 L36,192 L52,195 L66,120 Z" }],
  ["right_arm", "path", { d: "M134,86 L148,90 L164,192 L148,195 L134,120 Z" }],
  ["left_hand", "ellipse", { cx: 43, cy: 207, rx: 11, ry: 15 }],
  ["right_hand", "ellipse", { cx: 157, cy: 207, rx: 11, ry: 15 }],
  ["left_leg", "path", { d: "M70,226 L98,234 L96,378 L76,378 Z" }],
  ["right_leg", "path", { d: "M130,226 L102,234 L104,378 L124,378 Z" }],
  ["left_foot", "ellipse", { cx: 84, cy: 392, rx: 15, ry: 9 }],
  ["right_foot", "ellipse", { cx: 116, cy: 392, rx: 15, ry: 9 }],
];

export const REGIONS = ["head", "face", "neck", "chest", "abdomen", "back", "left_arm", "right_arm", "left_hand",
  "right_hand", "left_leg", "right_leg", "left_foot", "right_foot", "buttocks", "genital"];

function svgEl(name, attrs = {}) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function figure(view, shapes, marked, onPick) {
  const svg = svgEl("svg", { viewBox: "0 0 200 420", class: "body-figure", "data-view": view, role: "group",
    "aria-label": t(`hl.diagram.${view}`) });
  for (const [region, shape, attrs] of shapes) {
    const el = svgEl(shape, { ...attrs, class: marked.has(region) ? "region marked" : "region", "data-region": region,
      tabindex: 0, role: "button", "aria-pressed": String(marked.has(region)) });
    const title = svgEl("title");
    title.textContent = t(`hl.region.${region}`);
    el.append(title);
    el.addEventListener("click", () => onPick(region));
    el.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onPick(region); }
    });
    svg.append(el);
  }
  return svg;
}

/** The two figures side by side with their captions; `marked`: a Set of region codes. */
export function bodyDiagram(marked, onPick) {
  const wrap = document.createElement("div");
  wrap.className = "body-diagram";
  for (const [view, shapes] of [["front", FRONT], ["back", BACK]]) {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = t(`hl.diagram.${view}`);
    fig.append(figure(view, shapes, marked, onPick), cap);
    wrap.append(fig);
  }
  const note = document.createElement("p");
  note.className = "small muted";
  note.textContent = t("hl.diagram.sides");
  wrap.append(note);
  return wrap;
}

/** Redraws the marks in place (no rebuild, so a finger on the diagram never loses its target). */
export function paintMarks(root, marked) {
  root.querySelectorAll(".body-figure [data-region]").forEach((el) => {
    const on = marked.has(el.dataset.region || el.getAttribute("data-region"));
    el.setAttribute("class", on ? "region marked" : "region");
    el.setAttribute("aria-pressed", String(on));
  });
}
