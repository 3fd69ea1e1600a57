// The interview-room terminal (interview.html?room=int-1): the room's current subject, the officers present, the
// recording status live, elapsed time and the stay's deadline countdown, and start / pause / resume / end.
import { ApiError, get, post } from "./api.js";
import { lang, t } from "./i18n.js";
import { ADULT_RELATIONS, requirements } from "./rights.js";
import { deviceOnline, devices, startPage } from "./page.js";
import { can, currentStaff, holdIdleLockWhile } from "./session.js";
import { add, clear, countdown, debounce, errorBox, field, fmtDuration, fmtTime, h, officerChecks, select, serverNow } from "./util.js";

const $ = (sel) => document.querySelector(sel);
const ROOM = new URLSearchParams(location.search).get("room") || "int-1";
const S = { room: null, stays: [], staff: [], stay: null, interview: null, rec: null, confirmEnd: null };

const staffName = (id) => S.staff.find((p) => p.id === id)?.name || id;
const roomLabel = () => (S.room ? (lang() === "en" ? S.room.name_en || S.room.name : S.room.name) : ROOM);

async function load() {
  const [rooms, stays] = await Promise.all([get("/rooms"), get("/stays?state=open")]);
  if (!S.staff.length) S.staff = await get("/staff");
  S.room = rooms.find((r) => r.id === ROOM) || null;
  S.stays = stays;
  const here = stays.find((s) => s.room_id === ROOM && s.state === "in_interview");
  S.stay = here ? await get(`/stays/${here.id}`) : null;
  S.interview = S.stay ? [...S.stay.interviews].reverse().find((iv) => iv.room_id === ROOM && iv.state !== "ended") : null;
  if (S.rec && S.interview && S.rec.recording_id && S.rec.recording_id !== S.interview.recording_id) S.rec = null;
  render();
}

const reload = debounce(() => load().catch(() => {}), 150);

function recorderDevice() {
  const id = S.room?.recorder_id;
  return id && devices.list ? devices.list.find((d) => d.id === id) || null : null;
}

function recordingBadge() {
  const iv = S.interview;
  const dev = recorderDevice();
  if (dev && !deviceOnline(dev) && devices.list) {
    return h("span.rec.rec-off#rec-status", {}, `${t("iv.rec_device")}：${t("dev.not_connected")}`);
  }
  if (!iv) return h("span.rec.rec-idle#rec-status", {}, t("iv.rec_idle"));
  const live = S.rec ? S.rec.recording : iv.state === "active";
  if (iv.state === "paused") {
    // a recorder failure pauses the interview and drops its recording id (rule 3); a person's pause keeps it
    return iv.recording_id ? h("span.rec.rec-off#rec-status", {}, t("iv.rec_paused"))
      : h("span.rec.rec-off#rec-status", {}, t("iv.rec_failed"));
  }
  return live ? h("span.rec.rec-on#rec-status", {}, `● ${t("iv.rec_on")}`) : h("span.rec.rec-off#rec-status", {}, t("iv.rec_lost"));
}

function render() {
  $("#room-name").textContent = roomLabel();
  const main = clear($("#iv-main"));
  add(main, h("div.row.rec-row", {}, recordingBadge()));
  if (!S.stay || !S.interview) { startForm(main); return; }
  const s = S.stay; const iv = S.interview;
  add(main, 
    h("div.panel.subject", {},
      h("div.row", {}, h("h2.subject-name", {}, s.subject.name), h("span.badge", {}, t(`sex.${s.subject.sex}`)),
        s.subject.is_minor ? h("span.badge.warn", {}, t("stay.minor")) : null, h("span.badge", {}, t(`role.${s.role}`)),
        h("span.badge", { "data-iv-state": iv.state }, t(`iv.state.${iv.state}`))),
      h("div.small.muted", {}, `${t("stay.case")} ${s.case.case_no} · ${t(`basis.${s.legal_basis}`)}`)),
    h("div.big-clocks", {},
      h("div.clockbox", {}, h("div.label", {}, t("iv.elapsed")), h("div.value#elapsed", { "data-elapsed-from": iv.started_at }, fmtDuration(serverNow() - new Date(iv.started_at).getTime()))),
      h("div.clockbox", {}, h("div.label", {}, t("stay.deadline")), h("div.value", {}, countdown(s.deadline_at)))),
    h("div.panel", {}, h("h3", {}, t("iv.officers")),
      h("ul.officers", {}, iv.officer_ids.map((id) => h("li", {}, staffName(id)))),
      iv.appropriate_adult ? h("p", {}, `${t("iv.adult")}：${iv.appropriate_adult.name}（${iv.appropriate_adult.relation}）`) : null,
      h("p.small.muted", {}, `${t("iv.started")} ${fmtTime(iv.started_at)}${iv.gaps?.length ? ` · ${t("iv.gaps")} ${iv.gaps.length}` : ""}`)),
    iv.state === "paused" && !iv.recording_id ? failureGuide() : null,
    controls(iv));
}

function controls(iv) {
  const box = h("div.panel.controls#iv-controls");
  if (!can("interview")) { add(box, h("p.muted", {}, t("role.view_only"))); return box; }
  const reason = h("input", { name: "reason", placeholder: t("iv.reason"), "aria-label": t("iv.reason") });
  const doIt = (action) => async () => {
    box.querySelector(".error-box")?.remove();
    try {
      await post(`/interviews/${iv.id}/${action}`, reason.value.trim() ? { reason: reason.value.trim() } : {});
      await load();
    } catch (err) { if (err instanceof ApiError && err.status !== 401) box.prepend(errorBox(err)); }
  };
  add(box, h("div.row", {},
    iv.state === "active" ? h("button", { type: "button", "data-action": "pause", onclick: doIt("pause") }, t("iv.pause")) : null,
    iv.state === "paused" ? h("button.primary", { type: "button", "data-action": "resume", onclick: doIt("resume") }, t("iv.resume")) : null,
    h("button.danger", { type: "button", "data-action": "end", onclick: () => { S.confirmEnd = iv.id; render(); } }, t("iv.end")),
    reason));
  // the confirmation lives in the page's state, so a live update that redraws the terminal keeps it open
  if (S.confirmEnd === iv.id) box.append(endSummary(iv, doIt("end")));
  return box;
}

/** What a person should do while the controller holds the interview paused after a recorder failure. */
function failureGuide() {
  return h("div.panel.guide#failure-guide", { role: "alert" },
    h("h3", {}, t("iv.guide.title")),
    h("ol", {}, ["stop", "call", "wait", "resume"].map((k) => h("li", {}, t(`iv.guide.${k}`)))));
}

/** The gaps of an interview as spans with a reason a person can read. */
function gapReason(g) {
  const r = g.reason || "";
  if (r.startsWith("recording_failed")) return t("iv.gap.recording_failed");
  if (r === "paused" || !r) return t("iv.gap.paused");
  return r; // typed by the officer who paused
}

function spanMs(from, to) { return Math.max(0, new Date(to || new Date(serverNow()).toISOString()).getTime() - new Date(from).getTime()); }

/** Ending is not one tap: a summary (duration, recorded time, every gap with its reason) and an explicit confirm. */
function endSummary(iv, end) {
  const total = spanMs(iv.started_at, null);
  const gaps = iv.gaps || [];
  const gapTotal = gaps.reduce((a, g) => a + spanMs(g.from, g.to), 0);
  const close = () => { S.confirmEnd = null; render(); };
  return h("div.panel.confirm#end-confirm", { role: "dialog", "aria-modal": "true" },
    h("h3", {}, t("iv.end_confirm_title")),
    h("dl.summary", {},
      h("dt", {}, t("iv.sum.duration")), h("dd#sum-duration", {}, fmtDuration(total)),
      h("dt", {}, t("iv.sum.recorded")), h("dd#sum-recorded", {}, fmtDuration(total - gapTotal)),
      h("dt", {}, t("iv.sum.gaps")), h("dd#sum-gaps", {}, gaps.length ? `${gaps.length}（${fmtDuration(gapTotal)}）` : t("iv.sum.no_gaps"))),
    gaps.length ? h("ol.small.gap-list", {}, gaps.map((g) => h("li", {}, `${fmtTime(g.from)} – ${g.to ? fmtTime(g.to) : t("iv.sum.now")} · ${gapReason(g)}`))) : null,
    h("div.row", {},
      h("button.danger", { type: "button", "data-action": "end-confirm", onclick: () => { S.confirmEnd = null; end(); } }, t("iv.end_confirm")),
      h("button", { type: "button", "data-action": "end-cancel", onclick: close }, t("iv.end_cancel"))));
}

function startForm(main) {
  const waiting = S.stays.filter((s) => s.state === "waiting");
  const officers = S.staff.filter((p) => p.active !== false && p.roles.includes("case_officer"));
  const f = h("form#start-form.panel", { onsubmit: (e) => e.preventDefault() });
  if (!can("interview")) { add(main, h("div.panel", {}, h("h2", {}, t("iv.empty")), h("p.muted", {}, t("role.view_only")))); return; }
  const relations = ADULT_RELATIONS.map((r) => ({ value: r, label: t(`adult_rel.${r}`) }));
  const adult = h("div#adult.hidden", {}, h("div.grid2", {},
    field(t("iv.adult_name"), h("input", { name: "adult_name" })),
    field(t("iv.adult_relation"), select("adult_relation", relations, { empty: t("form.choose") })),
    field(t("rights.adult_id_number"), h("input", { name: "adult_id_number", maxlength: 18, autocomplete: "off" })),
    field(t("rights.adult_contact"), h("input", { name: "adult_contact", inputmode: "tel" }))));
  // what the law requires for this subject, shown before the start (CPL arts. 9, 121, 281)
  const needs = h("div#iv-requirements");
  const subject = h("select", { name: "stay_id", "data-field": "stay_id" }, h("option", { value: "" }, t("form.choose")),
    ...waiting.map((s) => h("option", { value: s.id }, `${s.subject.name} · ${t(`role.${s.role}`)} · ${s.case.case_no}`)));
  subject.addEventListener("change", () => {
    const s = waiting.find((x) => x.id === subject.value);
    adult.classList.toggle("hidden", !s?.subject.is_minor);
    clear(needs);
    const reqs = requirements(s);
    if (reqs.length) add(needs, h("div.panel.notice", {}, h("h3", {}, t("rights.requirements")), h("ul", {}, reqs.map((k) => h("li", {}, t(k))))));
    f.querySelectorAll("input[name=officer]").forEach((cb) => { cb.checked = !!s && s.case_officer_ids.includes(cb.value); });
  });
  add(f, h("h2", {}, t("iv.start_title")),
    waiting.length ? null : h("p.muted", {}, t("iv.nobody_waiting")),
    field(t("iv.subject"), subject),
    needs,
    h("h3", {}, t("iv.officers_pick")),
    officerChecks(officers),
    adult,
    field(t("iv.interpreter"), h("input", { name: "interpreter" })),
    h("p.small.muted", {}, t("iv.needs_recorder")),
    h("div.row.actions", {}, h("button.primary", { type: "button", "data-action": "start", onclick: async () => {
      f.querySelector(".error-box")?.remove();
      const body = { room_id: ROOM, officer_ids: [...f.querySelectorAll("input[name=officer]:checked")].map((i) => i.value) };
      if (!adult.classList.contains("hidden") && f.adult_name.value.trim()) {
        body.appropriate_adult = { name: f.adult_name.value.trim(), relation: f.adult_relation.value,
          id_number: f.adult_id_number.value.trim(), contact: f.adult_contact.value.trim() };
      }
      if (f.interpreter.value.trim()) body.interpreter = f.interpreter.value.trim();
      if (!subject.value) { f.prepend(h("div.error-box", { role: "alert" }, t("iv.need_subject"))); return; }
      try {
        await post(`/stays/${subject.value}/interviews`, body);
        await load();
      } catch (err) { if (err instanceof ApiError && err.status !== 401) f.prepend(errorBox(err)); }
    } }, t("iv.start"))));
  add(main, f);
}

function onEvent(ev) {
  if (ev.type === "device_event") {
    if (ev.event === "recording_status" && (ev.room_id === ROOM || ev.data?.room_id === ROOM)) { S.rec = ev.data; render(); }
    if (ev.event === "recording_failed" && ev.room_id === ROOM) { S.rec = { recording: false, ...ev.data }; render(); }
    return;
  }
  if (ev.type === "device_availability") { render(); return; }
  reload();
}

// The terminal does not lock for idleness while the signed-in officer conducts the running interview here.
holdIdleLockWhile(() => !!S.interview && S.interview.state !== "ended" && S.interview.officer_ids.includes(currentStaff()?.id));

startPage({
  kioskId: `interview-${ROOM}`,
  onSignedIn: async () => { await load(); },
  onLocked: () => { clear($("#iv-main")); },
  onEvent,
  onResync: () => load().catch(() => {}),
  onLang: () => render(),
});
