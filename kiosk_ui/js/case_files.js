// The case-file screen (卷宗管理, case-files.html): the list of case-file folders with who holds each and what is
// overdue, registering a folder, and its handovers as the folder's state allows (into the cabinet, check-out to an
// officer, check-in), the other person proving himself here by step-up while the signed-in user stays signed in;
// then the folder's trail (GET /case-files/{id}/trail). The server decides who did what; the page names no proof.
import "./case_files_i18n.js";
import { get, post } from "./api.js";
import { lang, t } from "./i18n.js";
import { startPage } from "./page.js";
import { currentStaff } from "./session.js";
import { clear, countdown, errorBox, errorText, field, fmtTime, h, select, serverNow, toast } from "./util.js";

const $ = (sel) => document.querySelector(sel);
const S = { staff: [], items: [], places: [], selected: null };

const personName = (id, names = {}) => names[id] || S.staff.find((p) => p.id === id)?.name || t("form.none");
const placeName = (id) => {
  const p = S.places.find((x) => x.id === id);
  return p ? (lang() === "en" ? p.name_en : p.name) : "";
};
const val = (form, n) => form.querySelector(`[name=${n}]`)?.value?.trim() || "";
const withRole = (role) => S.staff.filter((p) => p.active !== false && p.roles.includes(role))
  .map((p) => ({ value: p.id, label: p.name }));

/** A datetime-local value (the kiosk's local time) `hours` after the controller's now (it may run a test clock). */
function localInput(hours) {
  const d = new Date(serverNow() + hours * 3600e3);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function overdue(item) {
  return item.status === "out" && item.due_back_at && new Date(item.due_back_at).getTime() <= serverNow();
}

function registerForm() {
  const err = h("div");
  const form = h("form.panel#cf-register", { autocomplete: "off", onsubmit: async (e) => {
    e.preventDefault(); clear(err);
    try {
      const body = { case_no: val(form, "case_no"), description: val(form, "description"), category: "case_file",
        quantity: Number(val(form, "quantity") || 1), unit: lang() === "en" ? "volume" : "册" };
      const item = await post("/case-files", body);
      toast(t("cf.saved")); form.reset();
      await load(); await show(item.id);
    } catch (ex) { err.append(errorBox(ex)); }
  } },
  h("h2", {}, t("cf.register")),
  field(t("cf.case_no"), h("input", { name: "case_no", required: true })),
  field(t("cf.description"), h("input", { name: "description", required: true })),
  field(t("cf.volumes"), h("input", { name: "quantity", type: "number", min: "1", value: "1" })),
  h("button.primary", { type: "submit", "data-action": "cf-save" }, t("cf.save")), err);
  return form;
}

/** The one handover the folder's state allows, with the other party's step-up. */
function actionForm(item) {
  const me = currentStaff();
  const err = h("div");
  const custodians = withRole("custody_staff");
  const officers = S.staff.filter((p) => p.active !== false && p.id !== me?.id &&
    p.roles.some((r) => ["case_officer", "supervisor"].includes(r))).map((p) => ({ value: p.id, label: p.name }));
  const cabinets = S.places.map((p) => ({ value: p.id, label: lang() === "en" ? p.name_en : p.name }));
  const purpose = { registered: "storage", in_store: "check_out", out: "check_in" }[item.status];
  const meCustodian = me?.roles?.includes("custody_staff");
  const fixed = (label, id) => field(label, h("div.fixed-party", { "data-party": id }, personName(id)));
  const parts = [];
  if (purpose === "storage" || purpose === "check_in") {
    // the receiver is a custodian other than the one handing it in
    const takers = custodians.filter((o) => o.value !== item.holder_id);
    parts.push(fixed(t("cf.giver"), item.holder_id),
      field(t("cf.receiver"), select("receiver_id", takers, { value: meCustodian && me.id !== item.holder_id ? me.id : null,
        empty: t("form.choose") })),
      field(t("cf.cabinet"), select("location_id", cabinets, { value: item.location_id || cabinets[0]?.value })));
  } else {
    parts.push(field(t("cf.giver"), select("giver_id", custodians, { value: meCustodian ? me.id : null, empty: t("form.choose") })),
      field(t("cf.receiver"), select("receiver_id", officers, { empty: t("form.choose") })),
      field(t("cf.expected_return"), h("input", { name: "expected_return_at", type: "datetime-local", value: localInput(4) })));
  }
  const form = h("form.panel#cf-action", { autocomplete: "off", "data-purpose": purpose, onsubmit: async (e) => {
    e.preventDefault(); clear(err);
    const body = { purpose, giver_id: val(form, "giver_id") || item.holder_id, receiver_id: val(form, "receiver_id") };
    if (val(form, "location_id")) body.location_id = val(form, "location_id");
    if (val(form, "expected_return_at")) body.expected_return_at = new Date(val(form, "expected_return_at")).toISOString();
    if (val(form, "police_no")) body.step_up = { police_no: val(form, "police_no"), password: val(form, "password") };
    try {
      const r = await post(`/case-files/${item.id}/handovers`, body);
      const opened = r.locker_open ? (r.locker_open.ok ? `${t("cf.cabinet_opened")}${placeName(r.location_id || item.location_id)}`
        : `${t("cf.cabinet_failed")}${placeName(r.location_id || item.location_id)}`) : "";
      toast(opened ? `${t("cf.done")} · ${opened}` : t("cf.done"));
      await load(); await show(item.id);
    } catch (ex) { err.append(errorBox(ex)); }
  } },
  h("h3", {}, t(`cf.act.${purpose}`)), ...parts,
  h("p.hint", {}, t("cf.other_proves")),
  h("div.grid2", {}, field(t("cf.police_no"), h("input", { name: "police_no", autocomplete: "off", inputmode: "numeric" })),
    field(t("cf.password"), h("input", { name: "password", type: "password", autocomplete: "off" }))),
  h("button.primary", { type: "submit", "data-action": "cf-confirm" }, t("cf.confirm")), err);
  return form;
}

async function show(itemId) {
  S.selected = itemId;
  document.querySelectorAll("#cf-list [data-item]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.item === itemId)));
  const tr = await get(`/case-files/${itemId}/trail`);
  const it = tr.item;
  const who = (id) => personName(id, tr.staff_names);
  const rows = [h("li", {}, `${fmtTime(tr.registered.at)} · ${t("cf.registered_by")} · ${who(tr.registered.by)}`),
    ...tr.movements.map((m) => h("li", { "data-seq": m.seq },
      `${fmtTime(m.at)} · ${t(`cf.p.${m.purpose}`)} · ${who(m.giver_id)}（${t(`cf.auth.${m.giver_auth}`)}）→ ` +
      `${who(m.receiver_id)}（${t(`cf.auth.${m.receiver_auth}`)}）` +
      (m.kind === "in" && m.location_id ? ` · ${placeName(m.location_id)}` : "") +
      (m.expected_return_at ? ` · ${t("cf.expected_return")} ${fmtTime(m.expected_return_at)}` : "")))];
  const due = it.status === "out" && it.due_back_at
    ? h("p#cf-due", { class: overdue(it) ? "bad" : "" }, `${t("cf.due_back")} ${fmtTime(it.due_back_at)} `,
      overdue(it) ? h("strong.badge.bad", {}, t("cf.overdue")) : null, " ", countdown(it.due_back_at))
    : null;
  clear($("#cf-detail")).append(h("section.panel#cf-trail", {},
    h("h2", {}, `${t("cf.trail")} · ${it.description}`),
    h("p", {}, `${t("cf.case_no")} ${it.case_no} · `, h("strong#cf-status", {}, t(`cf.status.${it.status}`)),
      it.holder_id ? ` · ${t("cf.holder")} ${who(it.holder_id)}` : "",
      it.location_id ? ` · ${t("cf.location")} ${placeName(it.location_id)}` : ""),
    due,
    h("ol#cf-trail-list", {}, rows),
    h("p", { class: tr.gaps.length ? "bad" : "ok" }, tr.gaps.length ? t("cf.gaps") : t("cf.no_gaps"))),
  it.status === "closed" ? h("p.muted", {}, t("cf.closed_note")) : actionForm(it));
}

async function load() {
  S.items = await get("/case-files");
  const list = clear($("#cf-list"));
  list.append(h("h2", {}, t("cf.list")), S.items.length ? h("ul.cf-items", {}, S.items.map((i) => h("li", {},
    h("button.ghost.cf-item", { type: "button", "data-item": i.id, "aria-pressed": String(i.id === S.selected),
      onclick: () => show(i.id).catch((e) => toast(errorText(e))) },
    h("span", {}, `${i.description} · ${i.case_no}`), " ",
    h("span.badge", { class: overdue(i) ? "badge bad" : "badge" }, overdue(i) ? t("cf.overdue") : t(`cf.status.${i.status}`)),
    i.holder_id ? h("span.muted", {}, ` ${personName(i.holder_id)}`) : null)))) : h("p.muted", {}, t("cf.empty")));
}

function render() {
  clear($("#cf-main")).append(h("section.ledger.panel#cf-list"), h("section.work", {}, registerForm(), h("div#cf-detail")));
}

startPage({
  kioskId: new URLSearchParams(location.search).get("kiosk") || "kiosk-files",
  onSignedIn: async () => {
    [S.staff, S.places] = await Promise.all([get("/staff"), get("/storage-locations?holds=case_file")]);
    render(); await load();
    if (S.selected) await show(S.selected).catch(() => {});
  },
  onEvent: (ev) => { if (String(ev.type || "").startsWith("case_file")) load().catch(() => {}); },
  onResync: () => load().catch(() => {}),
  onLang: () => { render(); load().catch(() => {}); if (S.selected) show(S.selected).catch(() => {}); },
});
