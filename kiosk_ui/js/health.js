// The health screen (health.html): for a person in the centre, the entry health check (injuries marked on the body
// diagram with a description and a photo from the collection camera or an upload, declared illnesses, medication,
// pregnancy, self-harm risk: the server sets the risk flags), the doctor's check, the drug test (two collectors,
// the second proving himself here by step-up; A/B samples and seals; result per drug class; signature or refusal;
// the re-test deadline), the five-item exam, and breathalyser readings as the device sent them. Never an id or a
// code on screen: people, rooms and devices by name, refusals as the server's sentence.
import "./health_i18n.js";
import { ApiError, get, getToken, post } from "./api.js";
import { bodyDiagram, paintMarks } from "./body_diagram.js";
import { has, lang, t } from "./i18n.js";
import { deviceNote, deviceOnline, devices, findDevice, startPage } from "./page.js";
import { currentStaff } from "./session.js";
import { add, clear, errorBox, errorText, field, fmtTime, h, select, toast } from "./util.js";

const $ = (sel) => document.querySelector(sel);
const TABS = ["entry", "medical", "drug", "five", "breath", "records"];
const SAMPLES = ["urine", "blood", "hair", "saliva"];
const CLASSES = ["methamphetamine", "ketamine", "opioids", "mdma", "cannabis", "cocaine", "other"];
const FIVE = ["blood_pressure", "blood_routine", "ecg", "chest_xray", "abdominal_ultrasound"];
const S = { staff: [], stays: [], rooms: [], stayId: null, stay: null, records: [], tab: "entry", injuries: [],
  breath: {}, drugResult: null };

const staffName = (id) => S.staff.find((p) => p.id === id)?.name || t("actor.unknown");
const roomName = (id) => {
  const r = S.rooms.find((x) => x.id === id);
  return r ? (lang() === "en" ? r.name_en || r.name : r.name) : "";
};
const deviceName = (id) => {
  const d = devices.byId.get(id);
  const room = d?.room_id ? roomName(d.room_id) : "";
  return `${t("devkind.breathalyser")}${room ? `（${room}）` : ""}`;
};
const val = (form, n) => form.querySelector(`[name=${n}]`)?.value?.trim() || "";
const lines = (text) => text.split(/\n+/).map((x) => x.trim()).filter(Boolean);
const checked = (form, n) => !!form.querySelector(`[name=${n}]`)?.checked;

// ---------------------------------------------------------------- photos (injuries)
async function storePhoto(blob) {
  const res = await fetch("/api/v1/case-property/photos", { method: "POST", body: blob,
    headers: { "Authorization": `Bearer ${getToken()}`, "Content-Type": "image/jpeg" } });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data.photo_id;
}

async function cameraFrame(cam) {
  const res = await fetch(`/api/v1/captures/preview/${encodeURIComponent(cam.id)}?once=1`,
    { headers: { "Authorization": `Bearer ${getToken()}` } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.blob();
}

// ---------------------------------------------------------------- stays
async function loadStays() {
  S.stays = await get("/stays?state=open");
  const list = clear($("#hl-stays"));
  list.append(h("h2", {}, t("hl.stays")));
  if (!S.stays.length) { list.append(h("p.muted", {}, t("hl.no_stays"))); return; }
  list.append(h("div", {}, S.stays.map((s) => h("button.ledger-row", { type: "button", "data-stay": s.id,
    "aria-pressed": String(s.id === S.stayId), onclick: () => pick(s.id).catch(showError) },
  h("span.name", {}, s.subject.name), h("span.small.muted", {}, t(`state.${s.state}`))))));
}

function showError(err) { if (err instanceof ApiError) toast(errorText(err)); }

async function pick(stayId) {
  if (stayId !== S.stayId) { S.injuries = []; S.drugResult = null; }
  S.stayId = stayId;
  document.querySelectorAll("#hl-stays [data-stay]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.stay === stayId)));
  await reloadStay();
}

async function reloadStay() {
  [S.stay, S.records] = await Promise.all([get(`/stays/${S.stayId}`), get(`/stays/${S.stayId}/health`)]);
  renderWork();
}

/** Someone changed the stay elsewhere (placement at the kiosk, a record at another screen): the head follows; the
 * form being filled in here is left as it is. */
async function refreshHead() {
  const sid = S.stayId;
  const [stay, records] = await Promise.all([get(`/stays/${sid}`), get(`/stays/${sid}/health`)]);
  if (sid !== S.stayId) return;
  S.stay = stay; S.records = records;
  $("#hl-head")?.replaceWith(head());
}

const hasRecord = (kind) => S.records.some((r) => r.kind === kind);

function head() {
  const s = S.stay;
  const flags = Object.entries(s.flags || {}).filter(([k, v]) => v && has(`hl.flag.${k}`)).map(([k]) => k);
  const needsDoctor = (s.flags?.injured || s.flags?.ill) && !hasRecord("medical_check");
  return h("section.panel#hl-head", {},
    h("h2.subject-name", {}, `${s.subject.name}（${t(`sex.${s.subject.sex}`)}）`),
    h("p.small.muted", {}, `${t("stay.case")} ${s.case.case_no} · ${t(`state.${s.state}`)}`),
    h("div.row#hl-flags", {}, h("span.muted", {}, `${t("hl.flags")}：`),
      flags.length ? flags.map((f) => h("span.badge.warn", { "data-flag": f }, t(`hl.flag.${f}`))) : h("span.badge", {}, t("hl.flags.none"))),
    needsDoctor ? h("div.info-box#hl-needs-medical", { role: "status" }, t("hl.needs_medical")) : null,
    (s.flags?.injured || s.flags?.ill) && hasRecord("medical_check") ? h("div.ok-box#hl-medical-done", {}, t("hl.medical_done")) : null);
}

function tabs() {
  return h("div.tabs.row#hl-tabs", {}, TABS.map((k) => h("button", { type: "button", "data-tab": k,
    "aria-pressed": String(S.tab === k), onclick: () => { S.tab = k; renderWork(); } }, t(`hl.tab.${k}`))));
}

function renderWork() {
  const work = clear($("#hl-work"));
  if (!S.stay) { work.append(h("p.panel.muted", {}, t("hl.pick"))); return; }
  const body = { entry: entryForm, medical: medicalForm, drug: drugForm, five: fiveForm, breath: breathPanel,
    records: recordsPanel }[S.tab]();
  add(work, head(), tabs(), body);
}

/** Posts, shows the server's sentence on refusal, reloads the stay on success. */
async function submit(form, path, body, doneKey) {
  const err = form.querySelector(".form-error");
  clear(err);
  const btn = form.querySelector("button[type=submit]");
  if (btn) btn.disabled = true;
  try {
    const r = await post(path, body);
    toast(t(doneKey));
    return r;
  } catch (ex) {
    err.append(errorBox(ex));
    return null;
  } finally {
    if (btn) btn.disabled = false;
  }
}

// ---------------------------------------------------------------- entry health check
function injuryRow(inj) {
  const cam = findDevice("capture_camera", "collect") || findDevice("capture_camera");
  const thumb = h("span.injury-photo");
  const note = h("span.small");
  const paintPhoto = () => {
    clear(thumb); clear(note);
    if (inj.photo_id) {
      note.textContent = t("hl.injury.has_photo");
      if (inj.preview) thumb.append(h("img.injury-thumb", { src: inj.preview, alt: t(`hl.region.${inj.region}`) }));
    }
  };
  const attach = async (blob) => {
    inj.photo_id = await storePhoto(blob);
    if (inj.preview) URL.revokeObjectURL(inj.preview);
    inj.preview = URL.createObjectURL(blob);
    paintPhoto();
  };
  const upload = h("input", { type: "file", accept: "image/jpeg", name: "injury_photo", "aria-label": t("hl.injury.upload"),
    onchange: (e) => { const f = e.target.files[0]; if (f) attach(f).catch(showError); } });
  const take = cam && deviceOnline(cam)
    ? h("button", { type: "button", "data-action": "injury-take",
      onclick: () => cameraFrame(cam).catch(() => null).then((blob) => (blob ? attach(blob).catch(showError)
        : toast(t("hl.injury.camera_absent")))) },
    t("hl.injury.take"), deviceNote(cam) ? `（${deviceNote(cam)}）` : "")
    : h("span.small.muted", {}, t("hl.injury.camera_absent"));
  const row = h("div.injury-row.panel", { "data-region": inj.region },
    h("div.row", {}, h("strong", {}, t(`hl.region.${inj.region}`)), h("span.spacer"),
      h("button.ghost", { type: "button", "data-action": "injury-remove", onclick: () => {
        S.injuries = S.injuries.filter((x) => x !== inj); row.remove(); paintMarks($("#hl-entry"), marks());
        if (!S.injuries.length) $("#injury-list").append(h("p.muted#no-injury", {}, t("hl.injuries.none")));
      } }, t("hl.injury.remove"))),
    field(t("hl.injury.description"), h("input", { name: "injury_desc", value: inj.description, required: true,
      oninput: (e) => { inj.description = e.target.value; } })),
    field(t("hl.injury.photo"), h("div.row", {}, take, h("label.upload", {}, t("hl.injury.upload"), upload), note, thumb)));
  paintPhoto();
  return row;
}

const marks = () => new Set(S.injuries.map((i) => i.region));

function entryForm() {
  const list = h("div#injury-list", {}, S.injuries.length ? S.injuries.map(injuryRow) : h("p.muted#no-injury", {}, t("hl.injuries.none")));
  const onPick = (region) => {
    let inj = S.injuries.find((i) => i.region === region);
    if (!inj) {
      inj = { region, description: "", photo_id: null };
      S.injuries.push(inj);
      list.querySelector("#no-injury")?.remove();
      list.append(injuryRow(inj));
      paintMarks(form, marks());
    }
    list.querySelector(`.injury-row[data-region=${region}] [name=injury_desc]`)?.focus();
  };
  const female = S.stay.subject.sex === "female";
  const form = h("form.panel#hl-entry", { autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault();
    const body = { injuries: S.injuries.map((i) => ({ region: i.region, description: i.description.trim(),
      ...(i.photo_id ? { photo_id: i.photo_id } : {}) })),
    illnesses: lines(val(form, "illnesses")), medications: lines(val(form, "medications")),
    pregnant: female && checked(form, "pregnant"), self_harm_risk: checked(form, "self_harm_risk") };
    if (val(form, "note")) body.note = val(form, "note");
    if (await submit(form, `/stays/${S.stayId}/health/entry-check`, body, "hl.entry.saved")) {
      S.injuries = []; await reloadStay();
    }
  } },
  h("h3", {}, t("hl.diagram")),
  h("div.entry-grid", {}, bodyDiagram(marks(), onPick), list),
  h("div.grid2", {}, field(t("hl.illnesses"), h("textarea", { name: "illnesses" })),
    field(t("hl.medications"), h("textarea", { name: "medications" }))),
  h("div.row", {}, female ? h("label.check", {}, h("input", { type: "checkbox", name: "pregnant" }), t("hl.pregnant")) : null,
    h("label.check", {}, h("input", { type: "checkbox", name: "self_harm_risk" }), t("hl.self_harm"))),
  field(t("hl.note"), h("input", { name: "note" })),
  h("div.row.actions", {}, h("button.primary", { type: "submit", "data-action": "hl-entry-save" }, t("hl.entry.save"))),
  h("div.form-error"));
  return form;
}

// ---------------------------------------------------------------- doctor's check
function medicalForm() {
  const form = h("form.panel#hl-medical", { autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault();
    const body = { doctor_name: val(form, "doctor_name"), findings: val(form, "findings"),
      fit_for_custody: checked(form, "fit") };
    if (val(form, "institution")) body.institution = val(form, "institution");
    if (await submit(form, `/stays/${S.stayId}/health/medical-check`, body, "hl.medical.saved")) await reloadStay();
  } },
  h("div.grid2", {}, field(t("hl.medical.doctor"), h("input", { name: "doctor_name", required: true })),
    field(t("hl.medical.institution"), h("input", { name: "institution" }))),
  field(t("hl.medical.findings"), h("textarea", { name: "findings", required: true })),
  h("label.check", {}, h("input", { type: "checkbox", name: "fit", checked: true }), t("hl.medical.fit")),
  h("div.row.actions", {}, h("button.primary", { type: "submit", "data-action": "hl-medical-save" }, t("hl.medical.save"))),
  h("div.form-error"));
  return form;
}

// ---------------------------------------------------------------- drug test
function drugForm() {
  const me = currentStaff();
  const others = S.staff.filter((p) => p.active !== false && p.id !== me?.id &&
    p.roles.some((r) => ["custody_staff", "case_officer", "supervisor"].includes(r)))
    .map((p) => ({ value: p.id, label: `${p.name}（${t(`sex.${p.sex}`)}）` }));
  const opt = (k) => ({ value: k, label: t(`hl.drug.result.${k}`) });
  const form = h("form.panel#hl-drug", { autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault();
    const results = {};
    for (const c of CLASSES) { const r = val(form, `res_${c}`); if (r && r !== "untested") results[c] = r; }
    const signed = form.querySelector("[name=signature]:checked")?.value !== "refused";
    const body = { sample_kind: val(form, "sample_kind"), collector_ids: [me.id, val(form, "second")].filter(Boolean),
      method: val(form, "method"), results, subject_signature: signed ? { signed: true }
        : { signed: false, refusal_note: val(form, "refusal_note") || null } };
    if (val(form, "kit_batch")) body.kit_batch = val(form, "kit_batch");
    if (val(form, "a_no")) body.sample_a_no = val(form, "a_no");
    if (val(form, "b_no")) body.sample_b_no = val(form, "b_no");
    body.seal_nos = [val(form, "seal_a"), val(form, "seal_b")].filter(Boolean);
    if (val(form, "police_no")) body.step_up = { police_no: val(form, "police_no"), password: val(form, "password") };
    const r = await submit(form, `/stays/${S.stayId}/drug-tests`, body, "hl.drug.saved");
    if (r) { S.drugResult = r; await reloadStay(); }
  } },
  S.drugResult ? drugSummary(S.drugResult) : null,
  h("div.grid2", {}, field(t("hl.drug.sample"), select("sample_kind", SAMPLES.map((k) => ({ value: k, label: t(`hl.drug.sample.${k}`) })))),
    field(t("hl.drug.method"), h("input", { name: "method", required: true }))),
  field(t("hl.drug.kit"), h("input", { name: "kit_batch" })),
  h("h3", {}, t("hl.drug.collectors")),
  h("p", {}, `${t("hl.drug.me")}${me?.name || ""}`),
  S.stay.subject.sex === "female" ? h("p.small.muted", {}, t("hl.drug.female_note")) : null,
  h("div.grid3", {}, field(t("hl.drug.second"), select("second", others, { empty: t("form.choose") })),
    field(t("hl.drug.police_no"), h("input", { name: "police_no", autocomplete: "off", inputmode: "numeric" })),
    field(t("hl.drug.password"), h("input", { name: "password", type: "password", autocomplete: "off" }))),
  h("h3", {}, t("hl.drug.results")),
  h("div.grid3.drug-results", {}, CLASSES.map((c) => field(t(`hl.drug.class.${c}`),
    select(`res_${c}`, ["untested", "negative", "positive", "invalid"].map(opt), { value: "untested" })))),
  h("h3", {}, t("hl.drug.samples")),
  h("div.grid2", {}, field(t("hl.drug.a_no"), h("input", { name: "a_no" })), field(t("hl.drug.b_no"), h("input", { name: "b_no" })),
    field(t("hl.drug.seal_a"), h("input", { name: "seal_a" })), field(t("hl.drug.seal_b"), h("input", { name: "seal_b" }))),
  h("h3", {}, t("hl.drug.signature")),
  h("div.row", {}, h("label.check", {}, h("input", { type: "radio", name: "signature", value: "signed", checked: true }), t("hl.drug.signed")),
    h("label.check", {}, h("input", { type: "radio", name: "signature", value: "refused" }), t("hl.drug.refused"))),
  field(t("hl.drug.refusal_note"), h("input", { name: "refusal_note" })),
  h("p.small.muted", {}, t("hl.drug.retest_note")),
  h("div.row.actions", {}, h("button.primary", { type: "submit", "data-action": "hl-drug-save" }, t("hl.drug.save"))),
  h("div.form-error"));
  return form;
}

function drugSummary(r) {
  const d = r.data;
  return h("div#drug-result", { class: d.positive ? "info-box" : "ok-box" },
    h("strong", {}, d.positive ? t("hl.drug.positive") : t("hl.drug.negative")),
    h("div", {}, Object.entries(d.results).map(([c, v]) => `${t(`hl.drug.class.${c}`)} ${t(`hl.drug.result.${v}`)}`).join("；")),
    h("div#drug-retest", {}, `${t("hl.drug.retest")}：${fmtTime(d.retest_deadline)}`));
}

// ---------------------------------------------------------------- five-item exam
function fiveForm() {
  const form = h("form.panel#hl-five", { autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault();
    const items = {};
    for (const k of FIVE) items[k] = { result: val(form, `r_${k}`), normal: checked(form, `n_${k}`) };
    const body = { doctor_name: val(form, "doctor_name"), institution: val(form, "institution"), items,
      conclusion: val(form, "conclusion"), fit_for_detention: checked(form, "fit") };
    if (await submit(form, `/stays/${S.stayId}/health/five-item-exam`, body, "hl.five.saved")) await reloadStay();
  } },
  hasRecord("five_item_exam") ? null : h("p.small.muted", {}, t("hl.five.needed")),
  h("table.list", {}, h("tr", {}, h("th", {}, t("hl.five.items")), h("th", {}, t("hl.five.result")), h("th", {}, t("hl.five.normal"))),
    FIVE.map((k) => h("tr", {}, h("td", {}, t(`hl.five.${k}`)),
      h("td", {}, h("input", { name: `r_${k}`, required: true, "aria-label": t(`hl.five.${k}`) })),
      h("td", {}, h("input", { type: "checkbox", name: `n_${k}`, checked: true, "aria-label": t("hl.five.normal") }))))),
  h("div.grid2", {}, field(t("hl.medical.doctor"), h("input", { name: "doctor_name", required: true })),
    field(t("hl.medical.institution"), h("input", { name: "institution", required: true }))),
  field(t("hl.five.conclusion"), h("input", { name: "conclusion", required: true })),
  h("label.check", {}, h("input", { type: "checkbox", name: "fit", checked: true }), t("hl.five.fit")),
  h("div.row.actions", {}, h("button.primary", { type: "submit", "data-action": "hl-five-save" }, t("hl.five.save"))),
  h("div.form-error"));
  return form;
}

// ---------------------------------------------------------------- breathalyser
function breathPanel() {
  const testers = (devices.list || []).filter((d) => d.kind === "breathalyser");
  const box = h("section.panel#hl-breath");
  if (!testers.length) return add(box, h("p.muted", {}, t("hl.breath.none")));
  for (const d of testers) {
    const reading = S.breath[d.id];
    const err = h("div.form-error");
    add(box, h("div.breath-device", { "data-device": d.id },
      h("h3", {}, deviceName(d.id), deviceNote(d) ? h("span.small.muted", {}, `（${deviceNote(d)}）`) : null),
      reading === undefined ? h("p.muted", {}, t("hl.breath.waiting"))
        : h("p.breath-reading", {}, `${t("hl.breath.latest")}${Number(reading).toFixed(2)} ${t("hl.breath.unit")}`),
      h("button.primary", { type: "button", "data-action": "breath-store", onclick: async () => {
        clear(err);
        try {
          await post(`/stays/${S.stayId}/alcohol-readings`, { device_id: d.id });
          toast(t("hl.breath.stored")); delete S.breath[d.id]; await reloadStay();
        } catch (ex) { err.append(errorBox(ex)); }
      } }, t("hl.breath.store")), err));
  }
  const stored = S.records.filter((r) => r.kind === "alcohol_reading");
  if (stored.length) add(box, h("ul", {}, stored.map(recordItem)));
  return box;
}

// ---------------------------------------------------------------- records
function recordLine(r) {
  const d = r.data || {};
  switch (r.kind) {
    case "entry_check":
      return [...(d.injuries || []).map((i) => `${t(`hl.region.${i.region}`)}：${i.description}${i.photo_id ? `（${t("hl.injury.has_photo")}）` : ""}`),
        ...(d.illnesses || []), ...(d.medications || []),
        ...Object.entries(d.flags || {}).filter(([k, v]) => v && has(`hl.flag.${k}`)).map(([k]) => t(`hl.flag.${k}`))].join("；");
    case "medical_check":
      return `${t("hl.rec.doctor")} ${d.doctor_name} · ${d.findings} · ${d.fit_for_custody ? t("hl.rec.fit") : t("hl.rec.unfit")}`;
    case "five_item_exam":
      return `${t("hl.rec.doctor")} ${d.doctor_name}（${d.institution}）· ${FIVE.map((k) => `${t(`hl.five.${k}`)} ${d.items?.[k]?.result || ""}`).join("；")} · ${d.conclusion}`;
    case "drug_test":
      return `${t(`hl.drug.sample.${d.sample_kind}`)} · ${Object.entries(d.results || {}).map(([c, v]) => `${t(`hl.drug.class.${c}`)} ${t(`hl.drug.result.${v}`)}`).join("；")}` +
        ` · ${t("hl.rec.collectors")} ${(r.staff_ids || []).map(staffName).join("、")} · ${t("hl.drug.retest")} ${fmtTime(d.retest_deadline)}`;
    case "alcohol_reading":
      return `${deviceName(r.device_id)} · ${Number(d.value_mg_100ml).toFixed(2)} ${t("hl.breath.unit")}`;
    default:
      return "";
  }
}

function recordItem(r) {
  return h("li", { "data-kind": r.kind }, h("strong", {}, t(`hl.rec.${r.kind}`)), ` · ${fmtTime(r.recorded_at)} · `,
    `${t("hl.rec.by")} ${staffName(r.recorded_by)} · `, recordLine(r));
}

function recordsPanel() {
  return h("section.panel#hl-records", {}, S.records.length ? h("ul", {}, S.records.map(recordItem))
    : h("p.muted", {}, t("hl.records.none")));
}

// ---------------------------------------------------------------- page
function render() {
  clear($("#hl-main")).append(h("section.ledger.panel#hl-stays"), h("section.work#hl-work"));
  renderWork();
}

startPage({
  kioskId: new URLSearchParams(location.search).get("kiosk") || "kiosk-health",
  onSignedIn: async () => {
    [S.staff, S.rooms] = await Promise.all([get("/staff"), get("/rooms")]);
    render(); await loadStays();
    const want = new URLSearchParams(location.search).get("stay");
    if (S.stayId || want) await pick(S.stayId || want).catch(() => {});
  },
  onEvent: (ev) => {
    if (ev.entity && S.stayId && ev.stay_id === S.stayId) refreshHead().catch(() => {});
    if (ev.entity === "stay") loadStays().catch(() => {});  // the list's states follow the kiosk
    if (ev.type === "device_event" && ev.event === "breath_result" && ev.data) {
      S.breath[ev.device_id] = ev.data.value_mg_100ml;  // what the device sent; stored only by the button
      if (S.stay && S.tab === "breath") renderWork();
    }
  },
  onResync: () => loadStays().catch(() => {}),
  onLang: () => { render(); loadStays().catch(() => {}); },
});
