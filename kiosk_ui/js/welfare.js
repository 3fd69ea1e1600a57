// The welfare panel of a stay (issue 13): the meal and night-rest timers with their record buttons, and the
// welfare-check interval with the risks behind it. The server keeps the timers and raises meal_due / rest_due
// (controller/services/welfare.py); this panel only shows them and records what was given.
import { get } from "./api.js";
import { has, lang, t } from "./i18n.js";
import { can } from "./session.js";
import { add, clear, countdown, fmtTime, h, toast } from "./util.js";
import "./welfare_i18n.js";

const OTHER_CARE = ["water", "medication", "toilet"];

// the reason's name from the dictionary; a risk this screen does not know yet by the server's own names
const reasonName = (r) => (has(`wf.reason.${r.code}`) ? t(`wf.reason.${r.code}`) : (lang() === "en" ? r.name_en : r.name));

/** The interval and its reasons as one line of text, e.g. "每 10 分钟 · 原因：有自伤自残风险". */
export function intervalText(iv) {
  if (!iv) return "";
  const why = iv.reasons?.length ? iv.reasons.map(reasonName).join("、") : t("wf.check_default");
  return `${t("wf.check_minutes", { m: iv.minutes })} · ${t("wf.check_reasons")}${why}`;
}

/** Draws the panel for stay `s` into `area`; `act(where, path, body, opts)` is the kiosk's step sender. */
export async function welfarePanel(area, s, act) {
  const box = h("form#welfare-panel", { onsubmit: (e) => e.preventDefault() }, h("p.muted", {}, "…"));
  add(area, box);
  const draw = async () => {
    let w;
    try { w = await get(`/stays/${s.id}/welfare`); } catch { return; }
    const record = (kind) => act(box, `/stays/${s.id}/care`, { kind }, {
      after: async () => { toast(`${t("care.done")}：${t(`care.${kind}`)}`); await draw(); } });
    const rest = w.rest;
    clear(box);
    add(box, h("h3", {}, t("wf.title")),
      h("div.wf-meal", { "data-timer": "meal", class: w.meal.alarm_open ? "alarmed" : "" },
        h("div.row", {}, h("strong", {}, t("wf.meal")), countdown(w.meal.due_at, { kind: "welfare" }), h("span.spacer"),
          h("button.primary", { type: "button", "data-care": "meal", onclick: () => record("meal") }, t("wf.meal_record"))),
        h("p.small.muted", {}, `${t("wf.meal_every", { h: w.meal.interval_hours })} · ${t("wf.meal_last")} ${fmtTime(w.meal.last_at)}`)),
      h("div.wf-rest", { "data-timer": "rest", class: rest.alarm_open ? "alarmed" : "" },
        h("div.row", {}, h("strong", {}, t("wf.rest")),
          rest.due_at ? h("span", {}, `${t("wf.rest_start_by")} `, countdown(rest.due_at, { kind: "welfare" }))
            : rest.in_window ? h("span.badge.ok", {}, t("wf.rest_given"))
              : h("span", {}, `${t("wf.rest_next")} ${fmtTime(rest.next_window_at)}`),
          h("span.spacer"),
          h("button.primary", { type: "button", "data-care": "rest", onclick: () => record("rest") }, t("wf.rest_record"))),
        h("p.small.muted", {}, `${t("wf.rest_rule", { start: rest.window.start, end: rest.window.end, h: rest.min_hours })} · ${t("wf.rest_last")} ${fmtTime(rest.last_at)}`)),
      h("div.row.wf-check", { "data-timer": "check" },
        h("strong", {}, t("wf.check")), h("span.wf-reasons", {}, intervalText(w.welfare_check)),
        w.welfare_check.room_next_due ? h("span", {}, `${t("wf.check_room_due")} `, countdown(w.welfare_check.room_next_due, { kind: "welfare" })) : null,
        h("span.spacer"),
        // the check of the room the subject is in, from this kiosk: the server accepts it only from a guard shown
        // to be there (own tag reported in the room, or the kiosk enrolled in it)
        w.welfare_check.room_next_due && can("guard") ? ["ok", "concern"].map((o) => h("button", {
          type: "button", "data-action": `welfare-${o}`,
          onclick: () => act(box, `/rooms/${w.welfare_check.room_id}/welfare-checks`, { observation: o }, {
            after: async () => { toast(t("welfare.recorded")); await draw(); } }),
        }, t(`welfare.${o}`))) : null),
      h("p.small.muted", {}, t("wf.check_here")),
      h("div.row", {}, h("span.muted", {}, t("wf.other")), OTHER_CARE.map((k) => h("button", {
        type: "button", "data-care": k, onclick: () => record(k) }, t(`care.${k}`)))));
  };
  await draw();
}
