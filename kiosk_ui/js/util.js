// Small DOM and time helpers shared by the three screens: element builder, toast, error box, server-clock
// offset (the controller may run a test clock) and deadline countdowns coloured by urgency.
import { t, lang } from "./i18n.js";

/** h("div.cls#id", {attrs}, ...children): a tiny element builder. Strings become text nodes. */
export function h(spec, attrs = {}, ...kids) {
  const m = spec.match(/^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i);
  const el = document.createElement(m && m[1] ? m[1] : "div");
  for (const part of (m && m[2] ? m[2].match(/[.#][\w-]+/g) : []) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** parent.append(...) that skips null/false and flattens arrays, so conditional children stay out of view. */
export function add(parent, ...kids) {
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    parent.append(kid);
  }
  return parent;
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

let toastTimer = null;
export function toast(text) {
  let el = document.getElementById("toast");
  if (!el) { el = h("div#toast", { role: "status" }); document.body.append(el); }
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

/** The server's message in the current language, and every rule it names (details.violations). */
export function errorText(err) {
  const main = lang() === "en" ? (err.message_en || err.message) : (err.message_zh || err.message);
  return main;
}

export function errorBox(err, extra = null) {
  const box = h("div.error-box", { role: "alert", "data-code": err.code || "" },
    h("div", {}, h("strong", {}, errorText(err))));
  const v = err.details?.violations;
  if (Array.isArray(v) && v.length > 1) {
    box.append(h("ul", {}, v.map((code) => h("li", { "data-violation": code }, t(`rule.${code}`)))));
  }
  if (err.details?.hint_zh && lang() !== "en") box.append(h("div", {}, err.details.hint_zh));
  // the stable code stays in data-code for support staff and tests; a person reads only the sentence
  if (extra) box.append(extra);
  return box;
}

// --- server time: the controller's clock may be a test clock, so countdowns use its "now", not ours.
let offsetMs = 0;
export function setServerNow(iso) { if (iso) offsetMs = new Date(iso).getTime() - Date.now(); }
export function serverNow() { return Date.now() + offsetMs; }

export function fmtDuration(ms) {
  const neg = ms < 0; let s = Math.floor(Math.abs(ms) / 1000);
  const hh = Math.floor(s / 3600); s -= hh * 3600; const mm = Math.floor(s / 60); const ss = s - mm * 60;
  const txt = `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
  return neg ? `-${txt}` : txt;
}

/** Urgency class of a deadline: > 2 h ok, <= 2 h warn, <= 30 min bad, past it overdue. */
export function urgency(ms) {
  if (ms <= 0) return "u-over";
  if (ms <= 30 * 60e3) return "u-bad";
  if (ms <= 120 * 60e3) return "u-warn";
  return "u-ok";
}

/** Urgency of a welfare check due time: a check is due every 15–30 minutes, so the deadline thresholds (hours)
 * do not apply. Green until 5 minutes before, amber in the last 5 minutes, red once late. */
export function welfareUrgency(ms) {
  if (ms <= 0) return "u-over";
  if (ms <= 5 * 60e3) return "u-warn";
  return "u-ok";
}

/**
 * A live countdown element; tick() (called every second by each page) refreshes all of them. `kind` "welfare"
 * colours by the welfare thresholds. A closed stay has no countdown: pass `ended` (e.g. the exit time) and the
 * element shows that the clock stopped instead of ticking on as "overdue".
 */
export function countdown(deadlineIso, { kind = "deadline", ended = null } = {}) {
  if (ended) return h("span.cd.u-done", { "data-ended": ended }, t("cd.stopped"));
  const el = h("span.cd", { "data-deadline": deadlineIso || "", "data-kind": kind });
  paintCountdown(el);
  return el;
}

function paintCountdown(el) {
  const d = el.dataset.deadline;
  if (!d) { el.textContent = "—"; return; }
  const ms = new Date(d).getTime() - serverNow();
  el.className = `cd ${el.dataset.kind === "welfare" ? welfareUrgency(ms) : urgency(ms)}`;
  el.textContent = ms <= 0 ? `${t("cd.overdue")} ${fmtDuration(-ms)}` : fmtDuration(ms);
}

export function tickCountdowns(root = document) {
  root.querySelectorAll(".cd[data-deadline]").forEach(paintCountdown);
  root.querySelectorAll("[data-elapsed-from]").forEach((el) => {
    el.textContent = fmtDuration(serverNow() - new Date(el.dataset.elapsedFrom).getTime());
  });
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(lang() === "en" ? "en-GB" : "zh-CN", { hour12: false, month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

const lastDrawn = new Map();
/** True when `data` differs from what was last drawn under `name`: redraw only then, so a button is never
 * replaced under a finger that is about to press it. */
export function changed(name, data) {
  const key = JSON.stringify(data);
  if (lastDrawn.get(name) === key) return false;
  lastDrawn.set(name, key);
  return true;
}

export function forget(name) { lastDrawn.delete(name); }

export function debounce(fn, ms = 150) {
  let timer = null;
  return (...a) => { clearTimeout(timer); timer = setTimeout(() => fn(...a), ms); };
}

/** A <select> of options [{value, label}] with an optional empty first choice. */
export function select(name, options, { empty = null, value = null } = {}) {
  const s = h("select", { name, "data-field": name });
  if (empty !== null) s.append(h("option", { value: "" }, empty));
  for (const o of options) s.append(h("option", { value: o.value, selected: o.value === value }, o.label));
  return s;
}

export function field(labelText, input) {
  return h("div.field", {}, h("label", {}, labelText), input);
}

/** Officer check boxes with a search box above them (a centre has dozens of officers): typing a name or police
 * number narrows the list; ticked officers always stay in view. */
export function officerChecks(officers, name = "officer") {
  const list = h("div.checks", {}, officers.map((o) => h("label.check", { "data-search": `${o.name} ${o.police_no || ""}`.toLowerCase() },
    h("input", { type: "checkbox", name, value: o.id }), o.name)));
  const box = h("input.officer-search", { type: "search", placeholder: t("form.search_officer"), "aria-label": t("form.search_officer"),
    oninput: () => {
      const q = box.value.trim().toLowerCase();
      list.querySelectorAll("label.check").forEach((l) => {
        l.classList.toggle("hidden", !!q && !l.dataset.search.includes(q) && !l.querySelector("input").checked);
      });
    } });
  return h("div.officer-pick", {}, box, list);
}
