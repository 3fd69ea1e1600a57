// The registration kiosk: the ledger of open stays with deadline countdowns, and one panel that walks the selected
// stay through its next step (registration, security check, face capture, property, placement, waiting-room
// actions, temporary leave and return, extension, exit). The live socket's deltas keep the ledger and the rooms
// (stay.updated, stay.removed, room.occupancy: nothing is loaded again for them); device events fill device data.
import { ApiError, get, getToken, isMissing, post } from "./api.js";
import { documentBar } from "./documents.js";
import { approvalPanel } from "./approval.js";
import { notificationForm } from "./notify.js";
import { checkPastStays, clearSearch, mountSearch, watchPastStays } from "./search.js";
import { basisClock, basisStartedAt, canTransfer, exitsFor, measureForm, overdueNote, transferForm } from "./measure.js";
import { lang, t } from "./i18n.js";
import "./password.js";
import "./nav_i18n.js";
import { atText, keyText, needsKey, openingFailure, retriedText } from "./locker_open.js";
import "./rights_i18n.js";
import { deviceNote, deviceOnline, deviceState, findDevice, startPage, upsert } from "./page.js";
import "./responsibility_i18n.js";
import "./health_i18n.js";
import { welfarePanel } from "./welfare.js";
import { checkRequired, isLight, pathSteps, stepLabel, stepProgress } from "./witness.js";
import { can, currentStaff, gate } from "./session.js";
import { add, changed, clear, forget, countdown, debounce, dismissToast, errorBox, field, fmtTime, h, officerChecks, select, toast } from "./util.js";

const $ = (sel) => document.querySelector(sel);
const S = {
  stays: [], staff: [], rooms: [], selected: null, stay: null, mode: "idle", lockerOpen: null, lastCard: null,
  gate: null,
};
const STEPS = ["registered", "searched", "collected", "property_stored", "waiting", "exited"];
const BASES = ["criminal_summons", "compelled_appearance", "admin_summons", "verbal_summons", "continued_questioning",
  "criminal_detention", "voluntary_surrender", "witness_inquiry"];
const CATEGORIES = ["personal", "valuable", "cash", "phone", "dangerous", "case_related"];
const DISPOSITIONS = ["released", "to_detention_centre", "to_detention_house", "bail", "residential_surveillance",
  "handed_over", "to_hospital", "to_rehab_centre"];
const ITEM_DISPOSITIONS = ["returned", "handed_to_family", "seized", "travels_with_subject", "destroyed"];
const ACTIVITIES = ["drug_test", "alcohol_test", "medical_check", "identification", "lawyer_meeting", "remote_meeting"];
const LEAVE_REASONS = ["scene_identification", "recover_goods", "hospital", "other"];
const MANUAL_REASONS = ["no_card", "reader_failed", "foreign", "other"];
// ISO 3166 alpha-3 codes go to the server; a person reads the country's Chinese name
const NATIONS = ["CHN", "HKG", "MAC", "TWN", "VNM", "MMR", "LAO", "KHM", "THA", "KOR", "PRK", "JPN", "MNG", "RUS",
  "KAZ", "PAK", "IND", "NPL", "PHL", "IDN", "MYS", "SGP", "USA", "GBR", "FRA", "DEU", "CAN", "AUS", "NGA"];

// Criminal Law art. 17 para 2: the offences a suspect aged 14-15 answers for (12-13: the first two, para 3)
const OFFENCES = ["intentional_homicide", "intentional_injury_serious", "rape", "robbery", "drug_trafficking", "arson",
  "explosion", "poisoning"];
const opts = (prefix, values) => values.map((v) => ({ value: v, label: t(`${prefix}.${v}`) }));
const staffName = (id) => S.staff.find((p) => p.id === id)?.name || id;
const roomName = (id) => {
  const r = S.rooms.find((x) => x.id === id);
  return r ? (lang() === "en" ? r.name_en || r.name : r.name) : (id || "—");
};
const staffWith = (role, filter = () => true) => S.staff.filter((p) => p.active !== false && p.roles.includes(role) && filter(p));
const staffOpts = (list) => list.map((p) => ({ value: p.id, label: `${p.name}（${t(`sex.${p.sex}`)}）` }));

// ---------------------------------------------------------------- data
async function loadAll() {
  const [stays, staff, rooms] = await Promise.all([get("/stays?state=open"), get("/staff"), get("/rooms")]);
  S.stays = stays; S.staff = staff; S.rooms = rooms;
  renderLedger();
  if (S.selected) await loadStay(S.selected, { keepForm: true });
}

async function loadStay(id, { keepForm = false } = {}) {
  const stay = await get(`/stays/${id}`);
  const changed = !S.stay || S.stay.id !== stay.id || S.stay.state !== stay.state;
  S.stay = stay; S.selected = id;
  if (changed || !keepForm) renderStay();
  else renderStayHead();
}

// The selected stay's full record (timeline, property, interviews) after a delta says it changed.
const reloadSelected = debounce(() => { if (S.selected) loadStay(S.selected, { keepForm: true }).catch(() => {}); }, 150);

// ---------------------------------------------------------------- ledger
function renderLedger() {
  const sig = [lang(), S.selected, S.stays.map((x) => [x.id, x.state, x.room_id, x.deadline_at, x.subject.name, x.open_alarm_ids?.length])];
  if (!changed("ledger", sig) && $("#ledger-list").childElementCount) return;
  const list = clear($("#ledger-list"));
  $("#ledger-count").textContent = String(S.stays.length);
  if (!S.stays.length) add(list, h("p.muted", {}, t("ledger.empty")));
  for (const s of S.stays) {
    add(list, h("button.ledger-row", {
      type: "button", "data-stay": s.id, "aria-pressed": s.id === S.selected ? "true" : "false",
      onclick: () => { dismissToast(); S.mode = "stay"; S.lockerOpen = null; S.selected = s.id; renderLedger(); loadStay(s.id); },
    },
    h("span.name", {}, s.subject.name),
    h("span.badge", {}, t(`state.${s.state}`)),
    h("span.room.small.muted", {}, roomName(s.room_id)),
    countdown(s.deadline_at),
    s.open_alarm_ids?.length ? h("span.badge.bad", {}, `${t("ledger.alarms")} ${s.open_alarm_ids.length}`) : null));
  }
}

// ---------------------------------------------------------------- stay panel
function panel() { return clear($("#work")); }

/** The intake steps: done ones green, the one to do now highlighted. Once placed, nothing is "now" until the exit
 * begins (the subject waits, is interviewed, goes on leave: none of that is the next intake step). A witness or
 * victim has the light path's steps (witness.js): no collection, their own wait or an inquiry straight away. */
function stepper(s) {
  const [done, now] = stepProgress(s);
  return h("ol.stepper", { "data-path": isLight(s) ? "light" : "suspect" }, pathSteps(s).map((k, i) =>
    h("li", { class: i === now ? "now" : i < done ? "done" : "", "data-step": k }, stepLabel(s, k))));
}

function renderStayHead() {
  const s = S.stay;
  const head = $("#stay-head");
  if (!head || !s) return;
  add(clear(head), 
    h("div.row", {},
      h("h2.subject-name", {}, s.subject.name),
      h("span.badge", {}, t(`sex.${s.subject.sex}`)),
      s.subject.is_minor ? h("span.badge.warn", {}, t("stay.minor")) : null,
      h("span.badge", {}, t(`role.${s.role}`)),
      h("span.badge.state", { "data-state": s.state }, t(`state.${s.state}`)),
      h("span.spacer"),
      h("span.muted.small", {}, t("stay.deadline")), countdown(s.deadline_at, { ended: s.state === "exited" ? s.exited_at || "exited" : null })),
    h("div.small.muted", {}, `${t("stay.case")} ${s.case.case_no} · ${t(`basis.${s.legal_basis}`)} · ${t("stay.entered")} ${fmtTime(s.entered_at)} · ${t("stay.room")} ${roomName(s.room_id)}`),
    stepper(s), overdueNote(s), documentBar(s));
}

// A toast said about one step of a stay (已登记入区) goes once the stay has moved on to another step or another
// stay is shown, so it never sits over the next step's form.
let toastKey = null;
function stayKey() { return S.stay ? `${S.stay.id}:${S.stay.state}` : S.mode; }
function say(text) { toast(text); toastKey = stayKey(); }

function renderStay() {
  if (toastKey !== null && toastKey !== stayKey()) { dismissToast(); toastKey = null; }
  const p = panel();
  const s = S.stay;
  add(p, h("div#stay-head.panel"));
  renderStayHead();
  const body = h("div#step.panel");
  add(p, body);
  if (!can("intake") && !["exited"].includes(s.state)) {
    add(body, h("p.muted", {}, t("role.view_only")));
    return;
  }
  const views = {
    registered: searchForm, returned: searchForm, searched: collectionForm, collected: propertyForm,
    property_stored: S.lockerOpen ? lockerWait : placementForm, waiting: waitingActions, in_activity: activityNow,
    in_interview: interviewNow, on_temporary_leave: leaveNow, exiting: exitForm, exited: exitedView,
  };
  if (isLight(s)) { // a witness or victim: the check the site sets, then their own wait, an inquiry, or the exit
    views.searched = witnessNext; views.property_stored = witnessNext;
    if (!checkRequired(s)) views.registered = witnessNext;
  }
  (views[s.state] || (() => add(body, h("p", {}, s.state))))(body, s);
}

/** Sends a step; on success shows the new state, on refusal shows the Chinese rule message in `where`. */
async function act(where, path, body, { after = null, onError = null } = {}) {
  const old = where.querySelector(":scope > .error-box");
  if (old) old.remove();
  const btns = where.querySelectorAll("button");
  btns.forEach((b) => { b.disabled = true; });
  try {
    const res = await post(path, body);
    if (after) await after(res);
    else if (res && res.state) { S.stay = res; renderStay(); }
    return res; // the ledger follows from the step's stay.updated
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) return null;
    const box = errorBox(err, onError ? onError(err) : null);
    where.prepend(box);
    box.scrollIntoView({ block: "nearest" });
    return null;
  } finally {
    btns.forEach((b) => { b.disabled = false; });
  }
}

function submitRow(labelKey, onclick, cls = "button.primary") {
  return h("div.row.actions", {}, h(cls, { type: "button", "data-action": labelKey, onclick }, t(labelKey)));
}

// ---------------------------------------------------------------- registration
async function registrationForm() {
  S.mode = "register"; S.selected = null; S.stay = null; S.card = null;
  if (!S.staff.length) S.staff = await get("/staff"); // the officer list must be there before the form is
  renderLedger();
  const p = panel();
  const reader = findDevice("id_reader");
  const readerBox = h("div#card-status.info-box", {}, readerText(reader));
  const f = h("form#reg-form.panel", { autocomplete: "off", onsubmit: (e) => e.preventDefault() });
  const officers = staffWith("case_officer");
  add(f, 
    h("h2", {}, t("reg.title")), readerBox,
    h("input", { type: "hidden", name: "identity_source", value: "manual" }),
    h("div#card-reason.hidden", {}, field(t("reg.card_problem_reason"), h("input", { name: "card_problem_reason" }))),
    h("div.grid3", {},
      field(t("reg.name"), h("input", { name: "name", required: true })),
      field(t("reg.sex"), select("sex", opts("sex", ["male", "female"]), { empty: t("form.choose") })),
      field(t("reg.birth_date"), h("input", { name: "birth_date", type: "date", required: true })),
      field(t("reg.id_type"), select("id_type", opts("idtype", ["resident_id", "passport", "other"]), { value: "resident_id" })),
      field(t("reg.id_number"), h("input", { name: "id_number", required: true, autocomplete: "off" })),
      field(t("reg.nationality"), select("nationality", opts("nation", NATIONS), { value: "CHN" })),
      field(t("reg.ethnicity"), h("input", { name: "ethnicity" })),
      h("div.span2", {}, field(t("reg.address"), h("input", { name: "address" })))),
    h("div#manual-reason.grid2", {},
      field(t("reg.manual_reason"), select("manual_reason", opts("manual", MANUAL_REASONS), { empty: t("form.choose") })),
      field(t("reg.manual_note"), h("input", { name: "manual_note" }))),
    h("h3", {}, t("reg.case_section")),
    h("div.grid3", {},
      field(t("reg.role"), select("role", opts("role", ["suspect", "witness", "victim"]), { value: "suspect" })),
      caseField(),
      field(t("reg.case_kind"), select("case_kind", opts("casekind", ["criminal", "administrative"]), { value: "criminal" })),
      field(t("reg.legal_basis"), select("legal_basis", opts("basis", BASES), { value: "criminal_summons" })),
      field(t("reg.wristband"), h("input", { name: "wristband_id" })),
      field(t("reg.summary"), h("input", { name: "summary" })),
      field(t("reg.offence_category"), select("offence_category", opts("offence", OFFENCES), { empty: t("offence.none") })),
      field(t("reg.spp_approval_no"), h("input", { name: "spp_approval_no" })), basisClock(get)),
    h("h3", {}, t("reg.officers")),
    officerChecks(officers),
    h("h3", {}, t("reg.flags")),
    h("div.checks", {}, ["intoxicated", "injured", "ill", "pregnant", "needs_interpreter", "disabled"].map((k) =>
      h("label.check", {}, h("input", { type: "checkbox", name: "flag", value: k }), t(`flag.${k}`)))),
    submitRow("reg.submit", () => submitRegistration(f)));
  add(p, f);
  // a witness or victim is inquired (证人询问), never summoned: the role picks the basis, the server checks the pair
  f.role.addEventListener("change", () => {
    const light = ["witness", "victim"].includes(f.role.value);
    if (light) f.legal_basis.value = "witness_inquiry";
    else if (f.legal_basis.value === "witness_inquiry") f.legal_basis.value = "criminal_summons";
    f.legal_basis.dispatchEvent(new Event("change"));
  });
  watchPastStays(f);
}

/**
 * The case number is picked from the centre's known cases as one types (or, for a new case, typed once): every
 * subject of one case then carries the same number, which same-case separation relies on. Picking a known case
 * also sets its kind.
 */
function caseField() {
  const list = h("datalist#case-list");
  const hint = h("div.small.muted#case-hint");
  const input = h("input", { name: "case_no", required: true, list: "case-list", autocomplete: "off" });
  let known = [];
  const show = () => {
    const v = input.value.trim().toUpperCase();
    const hit = known.find((c) => c.case_no.toUpperCase() === v);
    hint.textContent = !v ? "" : hit ? t("reg.case_known", { n: hit.inside }) : t("reg.case_new");
    hint.className = `small ${hit ? "ok-text" : "muted"}`;
    const kind = input.closest("form")?.case_kind;
    if (hit && kind) kind.value = hit.case_kind;
  };
  const lookup = debounce(async () => {
    try { known = await get(`/cases?q=${encodeURIComponent(input.value.trim())}&limit=20`); } catch { known = []; }
    add(clear(list), known.map((c) => h("option", { value: c.case_no }, `${c.summary || ""}${c.inside ? `（${t("reg.case_inside", { n: c.inside })}）` : ""}`)));
    show();
  }, 200);
  input.addEventListener("input", () => { show(); lookup(); });
  input.addEventListener("change", show);
  lookup();
  return h("div.field", {}, h("label", {}, t("reg.case_no")), input, list, hint);
}

function readerText(reader) {
  const st = deviceState(reader);
  if (st === "online") return t("reg.card_ready");
  if (deviceOnline(reader)) return `${t("reg.card_ready")}（${deviceNote(reader)}）`;
  return `${deviceNote(reader)} — ${t("reg.reader_absent")}`;
}

function gateText(gateDev) {
  const st = deviceState(gateDev);
  if (st === "online") return t("search.gate_waiting");
  if (deviceOnline(gateDev)) return `${t("search.gate_waiting")}（${deviceNote(gateDev)}）`;
  return `${deviceNote(gateDev)} — ${t("search.gate_manual")}`;
}

/** A device came or went: the waiting messages of the open form follow (a read card or transit stays shown). */
function onAvailability(ev) {
  if (ev.kind === "id_reader" && !S.card && $("#card-status")) $("#card-status").textContent = readerText(findDevice("id_reader"));
  if (ev.kind === "metal_gate" && !S.gate && $("#gate-status")) $("#gate-status").textContent = gateText(findDevice("metal_gate"));
  if (ev.kind === "lock_board" && S.lockerOpen && S.stay?.state === "property_stored") renderStay();
}

function fillFromCard(data, deviceId) {
  const f = $("#reg-form");
  if (!f) return;
  S.card = { device_id: deviceId, data };
  const set = (n, v) => { if (f[n] && v !== undefined && v !== null) f[n].value = v; };
  set("name", data.name); set("sex", data.sex); set("birth_date", data.birth_date); set("id_number", data.id_number);
  set("ethnicity", data.ethnicity); set("address", data.address); set("id_type", "resident_id"); set("nationality", "CHN");
  f.identity_source.value = "id_card";
  $("#manual-reason")?.classList.add("hidden");
  const box = $("#card-status");
  const problems = data.problems || [];
  $("#card-reason").classList.toggle("hidden", !problems.length);
  box.className = data.valid === false || problems.length ? "error-box" : "ok-box";
  box.textContent = data.valid === false || problems.length
    ? `${t("reg.card_problem")}：${problems.map((p) => t(`cardproblem.${p}`)).join("；") || t("reg.card_invalid")}`
    : `${t("reg.card_read")}：${data.name}（${t("reg.valid_to")} ${data.valid_to || "—"}）`;
  checkPastStays(f);
}

async function submitRegistration(f) {
  const officerIds = [...f.querySelectorAll("input[name=officer]:checked")].map((i) => i.value);
  const flags = Object.fromEntries([...f.querySelectorAll("input[name=flag]:checked")].map((i) => [i.value, true]));
  const manual = f.identity_source.value === "manual";
  const body = {
    subject: {
      name: f.name.value.trim(), id_type: f.id_type.value, id_number: f.id_number.value.trim(), sex: f.sex.value,
      birth_date: f.birth_date.value, nationality: f.nationality.value || "CHN",
      ethnicity: f.ethnicity.value.trim() || null, address: f.address.value.trim() || null,
    },
    role: f.role.value,
    case: {
      case_no: f.case_no.value.trim(), case_kind: f.case_kind.value, summary: f.summary.value.trim() || null,
      offence_category: f.offence_category.value || null, spp_approval_no: f.spp_approval_no.value.trim() || null,
    },
    legal_basis: f.legal_basis.value, case_officer_ids: officerIds, wristband_id: f.wristband_id.value.trim() || null,
    flags, identity_source: manual ? "manual" : "id_card",
  };
  if (basisStartedAt(f)) body.basis_started_at = basisStartedAt(f);
  if (manual) {
    if (!f.manual_reason.value) { showLocalError(f, "reg.need_manual_reason"); return; }
    body.manual_entry_reason = t(`manual.${f.manual_reason.value}`) + (f.manual_note.value.trim() ? `：${f.manual_note.value.trim()}` : "");
  } else if (S.card) {
    body.id_reader_id = S.card.device_id;
    if ((S.card.data.problems || []).length) body.card_problem_reason = f.card_problem_reason.value.trim() || null;
  }
  if (!body.subject.sex) { showLocalError(f, "reg.need_sex"); return; }
  await act(f, "/stays", body, {
    after: (stay) => { S.mode = "stay"; S.selected = stay.id; S.stay = stay; renderStay(); say(t("reg.done")); },
  });
}

function showLocalError(where, key) {
  where.querySelector(":scope > .error-box")?.remove();
  where.prepend(h("div.error-box", { role: "alert" }, t(key)));
}

// ---------------------------------------------------------------- security check
function searchForm(body, s) {
  const female = s.subject.sex === "female";
  const checkers = S.staff.filter((p) => p.active !== false && (p.roles.includes("custody_staff") || p.roles.includes("case_officer")) &&
    (!female || p.sex === "female"));
  const me = currentStaff();
  const gateDev = findDevice("metal_gate");
  const gateBox = h("div#gate-status.info-box", {}, gateText(gateDev));
  const f = h("form#search-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, s.state === "returned" ? t("search.title_return") : isLight(s) ? t("witness.search_title") : t("search.title")),
    isLight(s) ? h("p.small.muted#light-hint", {}, t("witness.search_hint")) : null,
    gateBox,
    h("div.grid3", {},
      // with a gate in service the result comes from the gate's own transit (or a deliberate choice): no default
      // that could be submitted unread; only a gate the controller says is gone defaults to "not used"
      field(t("search.gate_result"), select("gate_result", opts("gate", ["pass", "alarm", "not_used"]), deviceOnline(gateDev) ? { empty: t("form.choose") } : { value: "not_used" })),
      field(t("search.handheld"), select("handheld_result", opts("handheld", ["clear", "found", "not_used"]), { empty: t("form.none") })),
      field(t("search.zones"), h("input", { name: "gate_zones", placeholder: "3,4", inputmode: "numeric" }))),
    h("div.grid2", {},
      field(t("search.checker"), select("checker_id", staffOpts(checkers), { empty: t("form.choose"), value: checkers.some((c) => c.id === me?.id) ? me.id : null })),
      field(t("search.witness"), select("witness_id", staffOpts(S.staff.filter((p) => p.active !== false && !p.roles.includes("admin") && !p.roles.includes("platform"))), { empty: t("form.choose") }))),
    female ? h("p.small.muted#checker-hint", {}, t("search.female_hint")) : null,
    h("div.grid3", {},
      field(t("search.injuries"), h("input", { name: "injuries" })),
      field(t("search.contraband"), h("input", { name: "contraband" })),
      field(t("search.illness"), h("input", { name: "illness" }))),
    s.state === "returned" ? field(t("search.back_room"), select("room_id", holdingRoomOpts(), { empty: t("form.choose"), value: s.waiting_room_id || lastPlacedRoom(s) })) : null,
    submitRow("search.submit", () => {
      const zones = f.gate_zones.value.split(/[,，\s]+/).filter(Boolean).map(Number).filter((n) => n >= 1 && n <= 32);
      const findings = {};
      if (f.injuries.value.trim()) findings.injuries = f.injuries.value.trim();
      if (f.contraband.value.trim()) findings.contraband = f.contraband.value.trim();
      if (f.illness.value.trim()) findings.self_reported_illness = f.illness.value.trim();
      const b = { checker_id: f.checker_id.value, witness_id: f.witness_id.value, gate_result: f.gate_result.value, findings };
      if (zones.length) b.gate_zones = zones;
      if (S.gate && b.gate_result !== "not_used") { b.gate_device_id = S.gate.device_id; b.gate_counter = S.gate.data.counter; }
      if (f.handheld_result.value) b.handheld_result = f.handheld_result.value;
      if (s.state === "returned") b.room_id = f.room_id.value;
      return act(f, `/stays/${s.id}/search`, b);
    }));
  add(body, f);
  S.gate = null; // a transit before this form opened belongs to someone else
}

function applyGate(data, deviceId) {
  const f = $("#search-form");
  if (!f) return;
  S.gate = { device_id: deviceId, data };
  f.gate_result.value = data.alarm ? "alarm" : "pass";
  f.gate_zones.value = (data.zones || []).join(",");
  const box = $("#gate-status");
  box.className = data.alarm ? "error-box" : "ok-box";
  box.textContent = data.alarm ? `${t("search.gate_alarm")} ${t("search.zones")} ${(data.zones || []).join(",")}` : t("search.gate_pass");
}

/** The waiting room the subject was last placed in (the leave clears it from the stay; the timeline keeps it). */
function lastPlacedRoom(s) {
  const e = [...(s.timeline || [])].reverse().find((x) => x.action === "stay_placed" && x.after?.room_id);
  return e ? e.after.room_id : null;
}

function holdingRoomOpts() {
  return S.rooms.filter((r) => ["waiting", "sobering"].includes(r.kind))
    .map((r) => ({ value: r.id, label: `${roomName(r.id)}（${r.occupant_stay_ids.length}/${r.capacity}）` }));
}

// ---------------------------------------------------------------- face capture + collection
function collectionForm(body, s) {
  const cam = findDevice("capture_camera", "collect") || findDevice("capture_camera");
  let captureId = null;
  const preview = h("div#preview.preview");
  const live = h("div#quality-live.info-box", {}, "…");
  const report = h("div#capture-report");
  const previewUrl = () => `/api/v1/captures/preview/${encodeURIComponent(cam.id)}?token=${encodeURIComponent(getToken())}&max_s=110`;
  const absent = () => add(clear(preview), h("div.info-box#cam-absent", {}, `${t("dev.not_connected")} — ${t("cap.camera_absent")}`));
  if (cam) {
    const img = h("img", { alt: t("cap.preview"), src: previewUrl() });
    img.addEventListener("error", absent);
    add(preview, img);
    // the stream ends after max_s: start it again; and say live which quality gate the picture fails
    const poll = setInterval(async () => {
      if (!document.body.contains(preview)) { clearInterval(poll); return; }
      try {
        const q = await get(`/captures/preview/${encodeURIComponent(cam.id)}/report`);
        live.className = q.ok ? "ok-box" : "error-box";
        live.textContent = q.ok ? t("cap.live_ok") : `${t("cap.live_bad")}：${t(`qgate.${q.failing_gate}`)}${lang() === "en" ? "" : q.hint_zh ? `（${q.hint_zh}）` : ""}`;
      } catch (err) {
        if (err.status === 401) { clearInterval(poll); return; }
        live.className = "info-box"; live.textContent = `${t("dev.not_connected")} — ${t("cap.camera_absent")}`;
      }
    }, 1000);
    const restart = setInterval(() => {
      if (!document.body.contains(preview)) { clearInterval(restart); return; }
      img.src = previewUrl();
    }, 100000);
  } else {
    absent();
    live.textContent = `${t("dev.not_connected")} — ${t("cap.camera_absent")}`;
  }
  const captureBtn = h("button.primary", { type: "button", "data-action": "cap.take", disabled: !cam }, t("cap.take"));
  captureBtn.addEventListener("click", async () => {
    if (!cam) return;
    clear(report);
    captureBtn.disabled = true;
    add(report, h("div.info-box", {}, t("cap.taking")));
    try {
      const r = await post("/captures", { camera_id: cam.id, stay_id: s.id });
      captureId = r.capture_id;
      add(clear(report), h("div.ok-box#capture-ok", { "data-capture": captureId }, t("cap.ok")));
      showCapture(report, captureId);
    } catch (err) {
      clear(report);
      if (!(err instanceof ApiError) || err.status === 401) return;
      if (isMissing(err)) { add(report, h("div.info-box", {}, `${t("dev.not_connected")} — ${t("cap.camera_absent")}`)); return; }
      const gateName = err.details?.gate || err.details?.failing_gate;
      add(report, errorBox(err, gateName ? h("div.gate-failed", {}, `${t("cap.failed_gate")}：${t(`qgate.${gateName}`)}`) : null));
    } finally {
      captureBtn.disabled = false;
    }
  });
  const f = h("form#collect-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, t("cap.title")),
    h("div.capture", {}, preview, h("div", {}, live, captureBtn, report)),
    h("label.check", {}, h("input", { type: "checkbox", name: "fingerprints" }), t("cap.fingerprints")),
    h("label.check", {}, h("input", { type: "checkbox", name: "dna" }), t("cap.dna")),
    field(t("cap.notes"), h("input", { name: "notes" })),
    submitRow("cap.submit", () => {
      const b = { fingerprints_taken: f.fingerprints.checked, dna_taken: f.dna.checked };
      if (captureId) b.capture_id = captureId;
      if (f.notes.value.trim()) b.notes = f.notes.value.trim();
      return act(f, `/stays/${s.id}/collection`, b);
    }));
  add(body, f);
}

/** The accepted face image: fetched with the bearer header (an <img> URL would need the token) as a blob. */
async function showCapture(where, captureId) {
  try {
    const res = await fetch(`/api/v1/captures/${encodeURIComponent(captureId)}/image`, { headers: { Authorization: `Bearer ${getToken()}` } });
    if (!res.ok) return;
    const url = URL.createObjectURL(await res.blob());
    add(where, h("img.capture-thumb", { src: url, alt: t("cap.ok") }));
  } catch { /* the capture id is shown; the picture is a courtesy */ }
}

// ---------------------------------------------------------------- property
async function propertyForm(body, s) {
  let lockers = [];
  try { lockers = await get("/lockers"); } catch { /* shown below as none free */ }
  const free = lockers.filter((l) => l.state === "free" && !l.stay_id);
  const custodians = staffWith("custody_staff", (p) => !s.case_officer_ids.includes(p.id));
  const me = currentStaff();
  const items = h("div#items");
  const addItem = () => add(items, h("div.item-row.row", {},
    h("input", { name: "desc", placeholder: t("prop.desc"), "aria-label": t("prop.desc") }),
    h("input", { name: "qty", type: "number", min: "1", value: "1", "aria-label": t("prop.qty") }),
    select("category", opts("cat", CATEGORIES), { value: "personal" }),
    h("button", { type: "button", "aria-label": t("prop.remove"), onclick: (e) => e.target.closest(".item-row").remove() }, "✕")));
  addItem();
  let chosen = null;
  const lockerGrid = h("div.locker-grid#locker-grid", {}, free.slice(0, 48).map((l) => h("button.locker", {
    type: "button", "data-locker": l.id,
    onclick: (e) => { chosen = l.id; lockerGrid.querySelectorAll(".locker").forEach((b) => b.setAttribute("aria-pressed", b === e.currentTarget ? "true" : "false")); },
  }, l.id.toUpperCase())));
  const sigCanvas = h("canvas.sig#intake-signature", { width: "900", height: "220", "aria-label": t("prop.signature") });
  signaturePad(sigCanvas);
  const f = h("form#property-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, t("prop.title")), items,
    h("div.row", {}, h("button", { type: "button", "data-action": "prop.add", onclick: addItem }, `＋ ${t("prop.add")}`)),
    h("h3", {}, `${t("prop.locker")}（${t("prop.free")} ${free.length}）`), lockerGrid,
    field(t("prop.custodian"), select("custodian_id", staffOpts(custodians), { empty: t("form.choose"), value: custodians.some((c) => c.id === me?.id) ? me.id : null })),
    h("p.small.muted", {}, t("prop.custodian_hint")),
    h("h3", {}, t("prop.signature")), h("p.small.muted", {}, t("prop.signature_hint")), sigCanvas,
    h("div.row", {}, h("button", { type: "button", "data-action": "prop.clear_sig", onclick: () => sigCanvas.clearPad() }, t("exit.clear_sig"))),
    submitRow("prop.submit", async () => {
      const list = [...items.querySelectorAll(".item-row")].map((r) => ({
        description: r.querySelector("[name=desc]").value.trim(), quantity: Number(r.querySelector("[name=qty]").value || 1),
        category: r.querySelector("[name=category]").value,
      })).filter((i) => i.description);
      if (!chosen) { showLocalError(f, "prop.need_locker"); return null; }
      if (!sigCanvas.hasInk()) { showLocalError(f, "exit.need_signature"); return null; }
      let sig;
      try { sig = await post("/ui/signatures", { png: sigCanvas.toDataURL("image/png"), stay_id: s.id }); } catch (err) {
        if (err instanceof ApiError && err.status !== 401) f.prepend(errorBox(err));
        return null;
      }
      return act(f, `/stays/${s.id}/property`, { custodian_id: f.custodian_id.value, locker_id: chosen, items: list, signature_id: sig.signature_id }, {
        after: (stay) => {
          // the step is recorded either way; a failed opening is shown with a retry, never as "locker open"
          S.stay = stay; S.lockerOpen = { id: chosen, closed: false, failed: openingFailure(stay.locker_open) }; renderStay();
        },
      });
    }));
  add(body, f);
}

function lockerWait(body) {
  const lk = S.lockerOpen;
  const board = findDevice("lock_board");
  const online = deviceOnline(board);
  const byKey = needsKey(lk.failed);
  const status = h("div#locker-status", { class: lk.closed ? "ok-box" : "info-box" },
    lk.closed ? t("prop.locker_closed", { id: lk.id.toUpperCase() })
      : t(online && !byKey ? "prop.locker_open" : "prop.locker_manual", { id: lk.id.toUpperCase() }));
  const retry = h("button", { type: "button", "data-action": "prop.reopen" }, t("prop.reopen"));
  retry.addEventListener("click", async () => {
    try {
      await post(`/lockers/${lk.id}/open`, { reason: t("prop.reopen_reason") });
      lk.failed = null; renderStay();
    } catch (err) { if (err.status !== 401) { lk.failed = err; renderStay(); } }
  });
  add(body, h("h2", {}, t("prop.locker_title")),
    lk.failed && !byKey ? errorBox(lk.failed, h("div", {}, t("prop.open_failed", { id: lk.id.toUpperCase() }))) : status,
    online ? null : h("p.info-box#board-absent", {}, `${t("dev.not_connected")} — ${t("prop.board_absent")}`),
    h("div.row.actions", {},
      h("button.primary", {
        type: "button", "data-action": "prop.confirm_closed", disabled: online && !lk.closed && !lk.failed,
        onclick: () => { S.lockerOpen = null; renderStay(); },
      }, t("prop.confirm_closed")),
      lk.failed && !byKey && can("guard") ? retry : null));
}

// ---------------------------------------------------------------- placement (rule 5 refusals and override)
/**
 * Lawful rooms first, the suggested one already chosen; rooms the rules forbid stand apart with their reasons,
 * visible before anyone taps. The exception (a supervisor's approval) is a small secondary link on a forbidden
 * room, never the main action.
 */
async function placementForm(body, s) {
  let options = [];
  try { options = await get(`/stays/${s.id}/placement-options`); } catch (err) { if (err.status === 401) return; }
  let chosen = options.find((o) => o.suggested)?.room_id || null;
  const roomOf = (id) => S.rooms.find((r) => r.id === id) || { occupant_stay_ids: [], restrictions: [], capacity: 0 };
  const occupantsOf = (r) => r.occupant_stay_ids.map((id) => S.stays.find((x) => x.id === id)).filter(Boolean);
  const pick = (grid, id) => {
    chosen = id;
    body.querySelectorAll(".room-pick").forEach((b) => b.setAttribute("aria-pressed", b.dataset.room === id ? "true" : "false"));
  };
  const card = (o, lawful) => {
    const r = roomOf(o.room_id);
    const occ = occupantsOf(r);
    return h(lawful ? "button.room-pick" : "div.room-pick.forbidden", {
      type: lawful ? "button" : null, "data-room": o.room_id, "aria-pressed": lawful && o.room_id === chosen ? "true" : "false",
      onclick: lawful ? () => pick(null, o.room_id) : null,
    }, h("strong", {}, roomName(o.room_id)),
    o.suggested ? h("span.badge.ok", {}, t("place.suggested")) : null,
    h("span.small", {}, `${o.occupants}/${o.capacity}`),
    h("span.small.muted", {}, occ.filter((x) => x.id !== s.id).map((x) => `${x.subject.name}（${t(`sex.${x.subject.sex}`)}）`).join("、") || t("room.empty")),
    (r.restrictions || []).length ? h("span.small.badge.warn", {}, r.restrictions.map((x) => t(`restr.${x}`)).join("、")) : null,
    lawful ? null : h("ul.small.reasons", {}, o.violations.map((v) => h("li", { "data-violation": v.code }, lang() === "en" ? v.message_en : v.message))),
    !lawful && o.overridable && can("intake") ? h("button.linkish.small", {
      type: "button", "data-action": "place.exception", "data-exception-room": o.room_id,
      onclick: () => {
        const err = { code: o.violations[0].code, details: { violations: o.violations.map((v) => v.code), room_id: o.room_id } };
        body.querySelector("#override")?.remove();
        const box = overrideBox(f, s, err);
        if (box) { f.append(box); box.scrollIntoView({ block: "nearest" }); }
      },
    }, t("place.ask_exception")) : null);
  };
  const lawful = options.filter((o) => o.lawful);
  const forbidden = options.filter((o) => !o.lawful);
  const light = isLight(s);
  const f = h("form#placement-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, t(light ? "witness.place_title" : "place.title")),
    lawful.length ? h("div.room-grid#room-grid", {}, lawful.map((o) => card(o, true)))
      : h("p.info-box#no-lawful-room", {}, t(light ? "witness.no_room" : "place.no_lawful")),
    submitRow(light ? "witness.place_submit" : "place.submit", () => {
      if (!chosen) { showLocalError(f, "place.need_room"); return null; }
      return act(f, `/stays/${s.id}/placement`, { room_id: chosen }, { onError: (err) => overrideBox(f, s, err, chosen) });
    }),
    forbidden.length ? h("details.forbidden-rooms", { open: !lawful.length },
      h("summary", {}, `${t("place.forbidden")}（${forbidden.length}）`),
      h("div.room-grid#forbidden-grid", {}, forbidden.map((o) => card(o, false)))) : null);
  add(body, f);
}

/** A witness or victim after the check (or at registration where the site requires none): a witness waiting room,
 * an inquiry straight away (started at the inquiry room's terminal), or the exit. Never a holding room. */
function witnessNext(body, s) {
  add(body, h("h2", {}, t("witness.next_title")), h("p.info-box#witness-next", {}, t("witness.next_hint")),
    s.state === "registered" ? h("p.small.muted", {}, t("witness.skip_search")) : null);
  const placeArea = h("div#witness-place");
  const exitArea = h("div#witness-exit", {}, h("h3", {}, t("witness.exit")));
  add(body, placeArea, exitArea);
  placementForm(placeArea, s);
  exitStartForm(exitArea, s);
}

function overrideBox(f, s, err, chosenRoom = null) {
  if (err.code === "MEDICAL_CHECK_REQUIRED" && chosenRoom) {
    // injured or ill: a doctor's check first (health.html), or the duty supervisor's approval to place now
    return h("div#override.override", {}, approvalPanel({
      kind: "placement_without_medical_check", stayId: s.id, terms: () => ({}),
      onGranted: (id) => act(f, `/stays/${s.id}/placement`, { room_id: chosenRoom, medical_approval_id: id }),
    }));
  }
  const v = err.details?.violations || [];
  if (!err.code.startsWith("ROOM_") || v.includes("ROOM_NOT_HOLDING") || !err.details?.room_id) return null;
  if (err.details.overridable === false) return null; // an absolute rule: there is no exception to ask for
  const roomId = err.details.room_id;
  // the placement goes ahead only with a supervisor's approval for this room, granted by the supervisor himself
  return h("div#override.override", {}, approvalPanel({
    kind: "placement_override", stayId: s.id, terms: () => ({ room_id: roomId }),
    onGranted: (id) => act(f, `/stays/${s.id}/placement`, { room_id: roomId, approval_id: id }),
  }));
}

// ---------------------------------------------------------------- waiting: activities, leave, extension, exit, care
function waitingActions(body, s) {
  const tabs = [
    ["act", "intake", activityForm], ["leave", "intake", leaveForm], ["ext", "interview", extensionForm],
    ["measure", "interview", (area, st) => measureForm(area, st, act)],
    ["exit", "intake", exitStartForm],
    ...(canTransfer(s) ? [["transfer", "intake", (area, st) => transferForm(area, st, act, S.staff)]] : []),
    ["care", "guard", careForm],
    ["notify", "intake", (area, st) => notificationForm(area, st, staffName)],
  ].filter(([, cap]) => can(cap));
  const light = isLight(s);
  if (light) { // a witness or victim: no leave, no measure, no activity; a witness waiting room, care, the exit
    tabs.splice(0, tabs.length, ...tabs.filter(([k]) => ["exit", "care"].includes(k)));
    if (can("intake")) tabs.unshift(["place", "intake", placementForm]);
  }
  const area = h("div#action-area");
  add(body, h("h2", {}, `${light ? t("witness.next_title") : t("wait.title")} · ${roomName(s.room_id)}`),
    h("div.row.tabs", {}, tabs.map(([k, , fn]) => h("button", {
      type: "button", "data-tab": k,
      onclick: (e) => { body.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-pressed", b === e.currentTarget ? "true" : "false")); fn(clear(area), s); },
    }, t(`wait.${k}`)))), area);
}

function activityForm(area, s) {
  const f = h("form#activity-form", { onsubmit: (e) => e.preventDefault() });
  const performers = () => {
    const kind = f.kind?.value;
    const female = s.subject.sex === "female" && kind === "drug_test";
    return staffOpts(S.staff.filter((p) => p.active !== false && !p.roles.includes("admin") && !p.roles.includes("platform") && (!female || p.sex === "female")));
  };
  const perfSel = () => select("performed_by_id", performers(), { empty: t("form.choose") });
  const kindSel = select("kind", opts("activity", ACTIVITIES), { value: "drug_test" });
  const perfWrap = h("div", {}, field(t("act.by"), perfSel()));
  add(f, h("div.grid3", {}, field(t("act.kind"), kindSel), perfWrap,
    field(t("act.room"), select("room_id", S.rooms.filter((r) => ["activity", "medical"].includes(r.kind)).map((r) => ({ value: r.id, label: roomName(r.id) })), { empty: t("form.none") }))),
  submitRow("act.submit", () => {
    const b = { kind: f.kind.value, performed_by_id: f.performed_by_id.value };
    if (f.room_id.value) b.room_id = f.room_id.value;
    return act(f, `/stays/${s.id}/activities`, b, { after: () => loadStay(s.id) });
  }));
  kindSel.addEventListener("change", () => { add(clear(perfWrap), field(t("act.by"), perfSel())); });
  add(area, f);
}

function activityNow(body, s) {
  const a = [...(s.activities || [])].reverse().find((x) => !x.ended_at);
  const f = h("form#activity-end", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, `${t("act.now")}：${a ? t(`activity.${a.kind}`) : "—"}`),
    a ? h("p", {}, `${t("act.by")} ${staffName(a.performed_by_id)} · ${t("act.since")} ${fmtTime(a.started_at)}`) : null,
    field(t("act.result"), h("input", { name: "result" })),
    a ? submitRow("act.end", () => act(f, `/activities/${a.id}/end`, f.result.value.trim() ? { result: f.result.value.trim() } : {}, { after: () => loadStay(s.id) })) : null);
  add(body, f);
}

function interviewNow(body, s) {
  const iv = [...(s.interviews || [])].reverse().find((x) => x.state !== "ended");
  add(body, h("h2", {}, t("state.in_interview")),
    h("p", {}, iv ? `${roomName(iv.room_id)} · ${iv.officer_ids.map(staffName).join("、")} · ${fmtTime(iv.started_at)}` : ""));
}

function leaveForm(area, s) {
  const escorts = S.staff.filter((p) => p.active !== false && (p.roles.includes("case_officer") || p.roles.includes("custody_staff")));
  const f = h("form#leave-form", { onsubmit: (e) => e.preventDefault() },
    h("div.grid2", {},
      field(t("leave.reason"), select("reason", opts("leavereason", LEAVE_REASONS), { value: "scene_identification" }))),
    h("h3", {}, t("leave.escorts")),
    h("div.checks", {}, escorts.map((p) => h("label.check", {}, h("input", { type: "checkbox", name: "escort", value: p.id }), p.name))),
    field(t("leave.note"), h("input", { name: "note" })),
    h("p.small.muted", {}, t("leave.clock_runs")),
    approvalPanel({
      kind: "temporary_leave", stayId: s.id, terms: () => ({ leave_reason: f.reason.value }),
      reason: () => f.note.value.trim() || t(`leavereason.${f.reason.value}`),
      onGranted: (id) => {
        const b = { reason: f.reason.value, approval_id: id,
          escort_ids: [...f.querySelectorAll("input[name=escort]:checked")].map((i) => i.value) };
        if (f.note.value.trim()) b.note = f.note.value.trim();
        return act(f, `/stays/${s.id}/leave`, b);
      },
    }));
  add(area, f);
}

function leaveNow(body, s) {
  const lv = [...(s.leaves || [])].reverse().find((x) => !x.returned_at);
  const f = h("form#return-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, t("state.on_temporary_leave")),
    lv ? h("p", {}, `${t(`leavereason.${lv.reason}`)} · ${t("leave.approver")} ${staffName(lv.approved_by)} · ${fmtTime(lv.left_at)}`) : null,
    h("p.small.muted", {}, t("leave.return_hint")),
    submitRow("leave.return", () => act(f, `/stays/${s.id}/return`, {})));
  add(body, f);
}

function extensionForm(area, s) {
  const f = h("form#extension-form", { onsubmit: (e) => e.preventDefault() },
    h("div.grid2", {},
      field(t("ext.until"), h("input", { name: "until", type: "datetime-local" })),
      field(t("ext.reason"), h("input", { name: "reason" }))),
    approvalPanel({
      kind: "extension", stayId: s.id,
      terms: () => ({ until: f.until.value ? new Date(f.until.value).toISOString() : null }),
      reason: () => f.reason.value,
      onGranted: (id) => act(f, `/stays/${s.id}/extension`, {
        approval_id: id, until: new Date(f.until.value).toISOString(), reason: f.reason.value.trim() }),
    }));
  add(area, f);
}

function exitStartForm(area, s) {
  const f = h("form#exit-start", { onsubmit: (e) => e.preventDefault() },
    field(t("exit.disposition"), select("disposition", opts("disp", DISPOSITIONS.filter((d) => exitsFor(s).includes(d))), { empty: t("form.choose") })),
    h("p.small.muted", {}, t("exit.locker_opens")),
    submitRow("exit.start", () => act(f, `/stays/${s.id}/exit`, { disposition: f.disposition.value })));
  add(area, f);
}

function careForm(area, s) {
  welfarePanel(area, s, act);  // meal and rest timers with their buttons, the welfare-check interval (welfare.js)
}

// ---------------------------------------------------------------- exit: checklist, signature, completion
/** Where the property is: open (the board said so), failed (with a retry), by key (no board), or just where. */
function exitLocker(s) {
  const id = s.property.locker_id;
  const failed = openingFailure(s.locker_open);
  if (needsKey(failed)) return h("p.info-box#exit-locker", {}, keyText(id));
  if (failed) {
    const retry = h("button", { type: "button", "data-action": "exit.reopen" }, t("prop.reopen"));
    const box = h("div#exit-locker", {}, errorBox(failed), can("guard") ? retry : null);
    retry.addEventListener("click", async () => {
      try {
        await post(`/lockers/${id}/open`, { reason: t("exit.locker_opens") });
        box.replaceChildren(h("p.ok-box", {}, retriedText(id)));
      } catch (err) { if (err.status !== 401) box.replaceChildren(errorBox(err), retry); }
    });
    return box;
  }
  return h("p.info-box#exit-locker", {}, s.locker_open?.ok ? t("exit.locker_open", { id: id.toUpperCase() }) : atText(id));
}

function exitForm(body, s) {
  const female = s.subject.sex === "female";
  const checkers = S.staff.filter((p) => p.active !== false && (p.roles.includes("custody_staff") || p.roles.includes("case_officer")) && (!female || p.sex === "female"));
  const rows = (s.property?.items || []).map((it) => {
    const extra = h("div.item-extra");
    const sel = select("disposition", opts("itemdisp", ITEM_DISPOSITIONS), { empty: t("form.choose") });
    // what was chosen survives a redraw of the form (a live update of the stay while the officer works)
    const kept = (S.exitChoices ||= {})[it.id];
    if (kept) queueMicrotask(() => { sel.value = kept; sel.dispatchEvent(new Event("change")); });
    sel.addEventListener("change", () => {
      S.exitChoices[it.id] = sel.value;
      clear(extra);
      if (sel.value === "handed_to_family") {
        add(extra, h("div.grid2", {}, field(t("exit.receiver_name"), h("input", { name: "receiver_name" })),
          field(t("exit.receiver_id"), h("input", { name: "receiver_id" }))));
      } else if (sel.value === "seized" || sel.value === "destroyed") {
        add(extra, field(t("exit.document_no"), h("input", { name: "document_no" })));
      }
      // a dangerous or case-related item goes back only with a supervisor's item_return approval for it
      if (["returned", "handed_to_family"].includes(sel.value) && ["dangerous", "case_related"].includes(it.category)) {
        add(extra, itemReturnApproval(s, it));
      }
    });
    return h("div.exit-item.panel", { "data-item": it.id },
      h("div.row", {}, h("strong", {}, `${it.description} × ${it.quantity}`), h("span.badge", {}, t(`cat.${it.category}`)),
        h("span.spacer"), sel), extra);
  });
  const canvas = h("canvas.sig#signature", { width: "900", height: "220", "aria-label": t("exit.signature") });
  signaturePad(canvas);
  const f = h("form#exit-form", { onsubmit: (e) => e.preventDefault() },
    h("h2", {}, `${t("exit.title")} · ${t(`disp.${s.disposition}`)}`),
    h("h3", {}, t("exit.items")),
    rows.length ? h("div.row", {}, h("button", {
      type: "button", "data-action": "exit.return_all",
      // one tap for the usual case; dangerous and case-related items are left for a deliberate choice
      onclick: () => {
        for (const r of rows) {
          const it = (s.property?.items || []).find((x) => x.id === r.dataset.item);
          const sel = r.querySelector("[name=disposition]");
          if (it && !["dangerous", "case_related"].includes(it.category) && !sel.value) {
            sel.value = "returned"; sel.dispatchEvent(new Event("change"));
          }
        }
      },
    }, t("exit.return_all")), h("span.small.muted", {}, t("exit.return_all_hint"))) : null,
    rows.length ? rows : h("p.muted", {}, t("exit.no_items")),
    h("h3", {}, t("exit.search")),
    h("div.grid2", {},
      field(t("search.checker"), select("checker_id", staffOpts(checkers), { empty: t("form.choose"), value: S.exitChecker || null })),
      field(t("search.contraband"), h("input", { name: "contraband" }))),
    h("h3", {}, t("exit.signature")),
    canvas, h("div.row", {}, h("button", { type: "button", "data-action": "exit.clear_sig", onclick: () => canvas.clearPad() }, t("exit.clear_sig"))),
    submitRow("exit.complete", async () => {
      const items = [];
      for (const r of f.querySelectorAll(".exit-item")) {
        const d = r.querySelector("[name=disposition]").value;
        if (!d) { showLocalError(f, "exit.need_disposition"); return null; }
        const it = { item_id: r.dataset.item, disposition: d };
        if (d === "handed_to_family") it.receiver = { name: r.querySelector("[name=receiver_name]").value.trim(), id_number: r.querySelector("[name=receiver_id]").value.trim() };
        if (d === "seized" || d === "destroyed") it.document_no = r.querySelector("[name=document_no]").value.trim();
        const granted = (S.itemApprovals || {})[it.item_id];
        if (granted && ["returned", "handed_to_family"].includes(d)) it.approval_id = granted;
        items.push(it);
      }
      if (!canvas.hasInk()) { showLocalError(f, "exit.need_signature"); return null; }
      const findings = f.contraband.value.trim() ? { contraband: f.contraband.value.trim() } : {};
      let sig;
      try { sig = await post("/ui/signatures", { png: canvas.toDataURL("image/png"), stay_id: s.id }); } catch (err) {
        if (err instanceof ApiError && err.status !== 401) f.prepend(errorBox(err));
        return null;
      }
      return act(f, `/stays/${s.id}/exit/complete`, { exit_search: { checker_id: f.checker_id.value, findings }, items, signature_id: sig.signature_id });
    }));
  f.checker_id.addEventListener("change", () => { S.exitChecker = f.checker_id.value; });
  // the locker line sits above the form: its own failure box is not one of the form's refusals
  add(body, s.property?.locker_id ? exitLocker(s) : null, f);
}

/** The item_return approval of one item at exit: asked for here, granted by a supervisor here (step-up) or on his
 * dashboard; once granted the item's return carries it. A granted one survives a redraw of the form. */
function itemReturnApproval(s, it) {
  const done = (S.itemApprovals ||= {})[it.id];
  const okLine = () => h("p.ok-box.small.item-approved", {}, t("exit.item_approved"));
  if (done) return okLine();
  const holder = h("div.item-approval");
  holder.append(approvalPanel({ kind: "item_return", stayId: s.id, terms: () => ({ item_id: it.id }),
    reason: () => "", onGranted: async (id) => { S.itemApprovals[it.id] = id; holder.replaceChildren(okLine()); } }));
  return holder;
}

/** Finger/pen/mouse drawing on a canvas through pointer events (works with touch; no hover needed). */
function signaturePad(canvas) {
  const ctx = canvas.getContext("2d");
  let drawing = false; let ink = 0;
  const pos = (e) => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
  ctx.lineWidth = 4; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
  canvas.addEventListener("pointerdown", (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); ctx.beginPath(); ctx.moveTo(...pos(e)); });
  canvas.addEventListener("pointermove", (e) => { if (!drawing) return; ctx.lineTo(...pos(e)); ctx.stroke(); ink += 1; });
  const end = () => { drawing = false; };
  canvas.addEventListener("pointerup", end); canvas.addEventListener("pointercancel", end);
  canvas.clearPad = () => { ctx.clearRect(0, 0, canvas.width, canvas.height); ink = 0; };
  canvas.hasInk = () => ink > 3;
}

function exitedView(body, s) {
  // a transfer opens the locker for the property that travels: a failed opening is said here, with its retry
  const failedLocker = s.property?.locker_id && openingFailure(s.locker_open) ? exitLocker(s) : null;
  add(body, h("div.ok-box#exited", {}, h("h2", {}, t("exit.done")),
    h("p", {}, `${t(`disp.${s.disposition}`)} · ${fmtTime(s.exited_at)}`)), failedLocker,
  h("div.row", {}, h("button", { type: "button", onclick: () => { S.selected = null; S.stay = null; idleView(); } }, t("exit.back"))));
}

function idleView() {
  S.mode = "idle";
  renderLedger();
  const p = panel();
  add(p, h("div.panel.welcome", {}, h("h2", {}, t("kiosk.welcome")), h("p.muted", {}, t("kiosk.pick")),
    gate(h("button.primary.big", { type: "button", "data-action": "new-stay", onclick: registrationForm }, `＋ ${t("kiosk.new")}`), "intake")));
}

// ---------------------------------------------------------------- live events
function onEvent(ev) {
  if (ev.type === "device_event") {
    if (ev.event === "card_read") fillFromCard(ev.data || {}, ev.device_id);
    if (ev.event === "card_removed") { const b = $("#card-status"); if (b && b.className === "info-box") b.textContent = t("reg.card_ready"); }
    if (ev.event === "gate_transit") applyGate(ev.data || {}, ev.device_id);
    if (ev.event === "locker_changed" && S.lockerOpen && ev.data?.locker_id === S.lockerOpen.id) {
      S.lockerOpen.closed = !ev.data.open;
      if (S.stay?.state === "property_stored") renderStay();
    }
    return;
  }
  if (ev.type === "device_availability") { onAvailability(ev); return; }
  if (ev.type === "stay.updated") {
    S.stays = upsert(S.stays, ev.stay, ev.stay.state !== "exited");
    renderLedger();
    if (S.selected === ev.stay.id) reloadSelected();
  } else if (ev.type === "stay.removed") {
    S.stays = S.stays.filter((x) => x.id !== ev.stay_id);
    renderLedger();
  } else if (ev.type === "room.occupancy") {
    S.rooms = S.rooms.some((r) => r.id === ev.room.id) ? S.rooms.map((r) => (r.id === ev.room.id ? ev.room : r)) : [...S.rooms, ev.room];
  }
  // the committed changes themselves need nothing: the deltas above follow each of them
}

document.getElementById("new-stay-btn").addEventListener("click", registrationForm);
document.addEventListener("hcc:open-stay", (e) => { dismissToast(); S.mode = "stay"; S.lockerOpen = null; loadStay(e.detail.id); });

/**
 * An idle lock keeps a half-filled form for the officer who was filling it: the panel is taken out of the page
 * (nothing of it stays visible behind the lock) and put back when the same person signs in again; anyone else
 * starts afresh and the kept form is dropped.
 */
function keepForm({ reason, staffId }) {
  const work = $("#work");
  if (!staffId) return; // already locked (a late request's 401): whatever is kept stays kept
  S.kept = null;
  if (reason !== "lock.idle" || S.mode === "idle" || !work.childElementCount) return;
  const frag = document.createDocumentFragment();
  while (work.firstChild) frag.append(work.firstChild);
  S.kept = { staffId, frag, mode: S.mode, selected: S.selected, stay: S.stay, lockerOpen: S.lockerOpen, card: S.card };
}

function restoreForm(staff) {
  const k = S.kept;
  S.kept = null;
  if (!k) return false;
  if (k.staffId !== staff?.id) { // someone else: start afresh, the other person's form is gone
    Object.assign(S, { mode: "idle", selected: null, stay: null, lockerOpen: null, card: null });
    return false;
  }
  clear($("#work")).append(k.frag);
  Object.assign(S, { mode: k.mode, selected: k.selected, stay: k.stay, lockerOpen: k.lockerOpen, card: k.card });
  return true;
}

startPage({
  kioskId: "kiosk-1",
  onSignedIn: async (staff) => {
    mountSearch($("#ledger-list"));
    const restored = restoreForm(staff);
    await loadAll();
    document.getElementById("new-stay-btn").classList.toggle("hidden", !can("intake"));
    if (!restored && !S.stay && S.mode === "idle") idleView(); // unless a registration was begun meanwhile
  },
  onLocked: (info) => {
    clearSearch();
    keepForm(info);
    document.getElementById("new-stay-btn").classList.add("hidden"); $("#ledger-count").textContent = "0"; forget("ledger");
    if (!S.kept) { S.mode = "idle"; S.selected = null; S.stay = null; S.lockerOpen = null; }
    clear($("#work")); clear($("#ledger-list"));
  },
  onEvent,
  onResync: () => loadAll().catch(() => {}),
  onLang: () => { renderLedger(); if (S.stay) renderStay(); else if (S.mode === "register") registrationForm(); else idleView(); },
});
