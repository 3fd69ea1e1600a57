// The case-property screen (case-property.html): register an item seized for the case with its photo, hand it
// over to another person who proves himself here by step-up (the signed-in user stays signed in), and show its
// chain of custody (GET /case-property/{id}/trail). The server decides who did what; the page never names a proof.
import "./case_files_i18n.js";
import { ApiError, get, getToken, post } from "./api.js";
import { extend, lang, t } from "./i18n.js";
import { openingFailure } from "./locker_open.js";
import { findDevice, startPage } from "./page.js";
import { currentStaff } from "./session.js";
import { clear, errorBox, errorText, field, fmtTime, h, select, toast } from "./util.js";

extend({
  "cp.title": ["涉案财物管理", "Case property"],
  "case-property.title": ["涉案财物管理", "Case property"],
  "cp.list": ["涉案财物", "Case property"],
  "cp.register": ["登记涉案财物", "Register case property"],
  "cp.case_no": ["案件编号", "Case number"],
  "cp.description": ["名称及特征", "Description"],
  "cp.category": ["类别", "Category"],
  "cp.quantity": ["数量", "Quantity"],
  "cp.amount": ["金额", "Amount"],
  "cp.currency": ["币种", "Currency"],
  "cp.seal_no": ["封存编号", "Seal number"],
  "cp.photo": ["照片", "Photo"],
  "cp.save": ["登记", "Register"],
  "cp.saved": ["已登记", "Registered"],
  "cp.handover": ["交接", "Hand over"],
  "cp.purpose": ["事由", "Purpose"],
  "cp.giver": ["移交人", "Giver"],
  "cp.receiver": ["接收人", "Receiver"],
  "cp.location": ["保管位置", "Storage location"],
  "cp.expected_return": ["预计归还时间", "Expected return"],
  "cp.other_proves": ["对方本人验证（警号 + 密码）", "The other party proves who he is (police number + password)"],
  "cp.police_no": ["对方警号", "Their police number"],
  "cp.password": ["对方密码", "Their password"],
  "cp.confirm": ["确认交接", "Confirm handover"],
  "cp.done": ["交接已记录", "Handover recorded"],
  "cp.locker_opened": ["柜门已打开：", "Locker opened: "],
  "cp.trail": ["流转记录", "Chain of custody"],
  "cp.registered_by": ["登记", "Registered"],
  "cp.no_gaps": ["流转记录完整，无断档", "The chain has no gaps"],
  "cp.gaps": ["流转记录存在断档", "The chain has gaps"],
  "cp.auth.session": ["本机登录", "signed in"],
  "cp.auth.password": ["密码验证", "password"],
  "cp.auth.card_pin": ["刷卡验证", "card + PIN"],
  "cp.status.registered": ["已登记（办案民警持有）", "Registered (held by the officer)"],
  "cp.status.in_store": ["在库", "In store"],
  "cp.status.out": ["已调出", "Out"],
  "cp.status.closed": ["已处置", "Disposed"],
  "cp.cat.cash": ["现金", "Cash"], "cp.cat.phone": ["手机", "Phone"], "cp.cat.electronics": ["电子设备", "Electronics"],
  "cp.cat.vehicle": ["车辆", "Vehicle"], "cp.cat.document": ["文书证件", "Documents"],
  "cp.cat.valuables": ["贵重物品", "Valuables"], "cp.cat.weapon": ["刀具枪支", "Weapon"],
  "cp.cat.drug": ["毒品", "Drugs"], "cp.cat.tool": ["作案工具", "Tool"], "cp.cat.other": ["其他", "Other"],
  "cp.p.storage": ["入库保管", "Into storage"], "cp.p.check_in": ["归还入库", "Check in"],
  "cp.p.examination": ["调出鉴定", "Out for examination"], "cp.p.court": ["随案移送法院", "Out to court"],
  "cp.p.interview": ["调出辨认/讯问", "Out for interview"], "cp.p.check_out": ["借出", "Check out"],
  "cp.p.return_to_owner": ["发还", "Return to owner"], "cp.p.destruction": ["销毁", "Destruction"],
  "cp.p.transfer_to_property_centre": ["移交涉案财物管理中心", "Transfer to the property centre"],
});

const $ = (sel) => document.querySelector(sel);
const CATS = ["phone", "cash", "electronics", "vehicle", "document", "valuables", "weapon", "drug", "tool", "other"];
const PURPOSES = ["storage", "examination", "court", "interview", "check_in", "return_to_owner", "destruction",
  "transfer_to_property_centre"];
// the site's evidence lockers and store rooms (GET /storage-locations): [id, name, English name]
let LOCATIONS = [];
const S = { staff: [], items: [], selected: null, card: null };

const name = (id) => S.staff.find((p) => p.id === id)?.name || t("actor.unknown");
const locName = (id) => { const l = LOCATIONS.find((x) => x[0] === id); return l ? (lang() === "en" ? l[2] : l[1]) : ""; };
const val = (form, n) => form.querySelector(`[name=${n}]`)?.value?.trim() || "";

async function uploadPhoto(file) {
  const res = await fetch("/api/v1/case-property/photos", { method: "POST", body: file,
    headers: { "Authorization": `Bearer ${getToken()}`, "Content-Type": "image/jpeg" } });
  const data = await res.json();
  if (!res.ok) throw new ApiError(res.status, data);
  return data.photo_id;
}

function registerForm() {
  const err = h("div");
  const form = h("form.panel#cp-register", { onsubmit: async (e) => {
    e.preventDefault(); clear(err);
    try {
      const file = form.querySelector("[name=photo]").files[0];
      const photo_ids = file ? [await uploadPhoto(file)] : [];
      const body = { case_no: val(form, "case_no"), description: val(form, "description"),
        category: val(form, "category"), quantity: Number(val(form, "quantity") || 1), photo_ids };
      if (val(form, "seal_no")) body.seal_no = val(form, "seal_no");
      if (body.category === "cash") { body.amount = val(form, "amount"); body.currency = val(form, "currency") || "CNY"; }
      const item = await post("/case-property", body);
      toast(t("cp.saved")); form.reset();
      await load(); show(item.id);
    } catch (ex) { err.append(errorBox(ex)); }
  } },
  h("h2", {}, t("cp.register")),
  field(t("cp.case_no"), h("input", { name: "case_no", required: true })),
  field(t("cp.description"), h("input", { name: "description", required: true })),
  field(t("cp.category"), select("category", CATS.map((c) => ({ value: c, label: t(`cp.cat.${c}`) })))),
  field(t("cp.quantity"), h("input", { name: "quantity", type: "number", min: "1", value: "1" })),
  field(t("cp.amount"), h("input", { name: "amount", inputmode: "decimal" })),
  field(t("cp.currency"), h("input", { name: "currency", value: "CNY" })),
  field(t("cp.seal_no"), h("input", { name: "seal_no" })),
  field(t("cp.photo"), h("input", { name: "photo", type: "file", accept: "image/jpeg" })),
  h("button.primary", { type: "submit", "data-action": "cp-save" }, t("cp.save")), err);
  return form;
}

function handoverForm(item) {
  const me = currentStaff();
  const err = h("div");
  const people = S.staff.filter((p) => p.roles.some((r) => ["custody_staff", "case_officer", "supervisor"].includes(r)))
    .map((p) => ({ value: p.id, label: p.name }));
  const form = h("form.panel#cp-handover", { onsubmit: async (e) => {
    e.preventDefault(); clear(err);
    const body = { purpose: val(form, "purpose"), giver_id: val(form, "giver_id"), receiver_id: val(form, "receiver_id") };
    if (val(form, "location_id")) body.location_id = val(form, "location_id");
    if (val(form, "expected_return_at")) body.expected_return_at = new Date(val(form, "expected_return_at")).toISOString();
    if (val(form, "police_no")) body.step_up = { police_no: val(form, "police_no"), password: val(form, "password") };
    if (body.purpose === "return_to_owner" && val(form, "owner_name")) body.owner = ownerOf(form);
    try {
      const r = await post(`/case-property/${item.id}/handovers`, body);
      toast(t("cp.done") + (r.locker_open?.ok ? ` · ${t("cp.locker_opened")}${locName(r.location_id || item.location_id)}` : ""));
      await load(); await show(item.id);
      // the handover stands; a compartment the board did not open is said in Chinese, never passed over
      const failed = openingFailure(r.locker_open);
      if (failed) $("#cp-detail").prepend(errorBox(failed));
    } catch (ex) { err.append(errorBox(ex)); }
  } },
  h("h3", {}, t("cp.handover")),
  field(t("cp.purpose"), select("purpose", PURPOSES.map((p) => ({ value: p, label: t(`cp.p.${p}`) })))),
  field(t("cp.giver"), select("giver_id", people, { value: item.holder_id || me?.id })),
  field(t("cp.receiver"), select("receiver_id", people, { empty: "—" })),
  field(t("cp.location"), select("location_id", LOCATIONS.map(([v, zh, en]) => ({ value: v, label: lang() === "en" ? en : zh })), { empty: "—" })),
  field(t("cp.expected_return"), h("input", { name: "expected_return_at", type: "datetime-local" })),
  ownerBlock(),
  h("p.hint", {}, t("cp.other_proves")),
  field(t("cp.police_no"), h("input", { name: "police_no", autocomplete: "off" })),
  field(t("cp.password"), h("input", { name: "password", type: "password", autocomplete: "off" })),
  h("button.primary", { type: "submit", "data-action": "cp-handover" }, t("cp.confirm")), err);
  return form;
}

/** The receiver of a return to the owner (art. 19): typed, or filled from the ID card reader (then the server
 * compares it with what that reader read). Shown only while the purpose is a return. */
function ownerBlock() {
  const reader = findDevice("id_reader");
  const status = h("p.small.muted#cp-owner-card", {}, reader ? t("cp.owner.place_card") : t("cp.owner.no_reader"));
  const box = h("fieldset.panel#cp-owner.hidden", {}, h("legend", {}, t("cp.owner")),
    field(t("cp.owner.name"), h("input", { name: "owner_name", autocomplete: "off", oninput: () => { S.card = null; } })),
    field(t("cp.owner.id_type"), select("owner_id_type", ["resident_id", "passport", "other"].map((k) => ({ value: k, label: t(`idtype.${k}`) })))),
    field(t("cp.owner.id_number"), h("input", { name: "owner_id_number", autocomplete: "off", oninput: () => { S.card = null; } })),
    reader ? h("button", { type: "button", "data-action": "cp-owner-card", onclick: async () => {
      try {
        const r = await get(`/devices/${encodeURIComponent(reader.id)}/last-read`);
        if (r.card?.name) fillOwner(r.card, reader.id); else status.textContent = t("cp.owner.place_card");
      } catch (ex) { status.textContent = t("cp.owner.no_reader"); }
    } }, t("cp.owner.read_card")) : null, status);
  return box;
}

function fillOwner(card, readerId) {
  const form = document.querySelector("#cp-handover");
  if (!form || !card?.name) return;
  form.querySelector("[name=owner_name]").value = card.name;
  form.querySelector("[name=owner_id_type]").value = "resident_id";
  form.querySelector("[name=owner_id_number]").value = card.id_number || "";
  S.card = { readerId };
  const st = form.querySelector("#cp-owner-card");
  if (st) st.textContent = `${t("cp.owner.card_read")}${card.name}`;
}

function ownerOf(form) {
  const o = { name: val(form, "owner_name"), id_type: val(form, "owner_id_type"), id_number: val(form, "owner_id_number") };
  return S.card ? { ...o, source: "id_card", id_reader_id: S.card.readerId } : { ...o, source: "manual" };
}

function ownerText(o) {
  return o ? ` · ${t("cp.owner.received")} ${o.name}（${t(`idtype.${o.id_type}`)} ${o.id_number}）` : "";
}

async function show(itemId) {
  S.selected = itemId;
  const tr = await get(`/case-property/${itemId}/trail`);
  const it = tr.item;
  const names = tr.staff_names;
  const who = (id) => names[id] || name(id);
  const rows = [h("li", {}, `${fmtTime(tr.registered.at)} · ${t("cp.registered_by")} · ${who(tr.registered.by)}`),
    ...tr.movements.map((m) => h("li", { "data-seq": m.seq },
      `${fmtTime(m.at)} · ${t(`cp.p.${m.purpose}`)} · ${who(m.giver_id)}（${t(`cp.auth.${m.giver_auth}`)}）→ ` +
      `${who(m.receiver_id)}（${t(`cp.auth.${m.receiver_auth}`)}）` + (m.location_id ? ` · ${locName(m.location_id)}` : "") +
      (m.expected_return_at ? ` · ${t("cp.expected_return")} ${fmtTime(m.expected_return_at)}` : "") + ownerText(m.owner)))];
  const photo = it.photo_ids[0] ? h("img.cp-photo#cp-photo", { alt: it.description, width: "160" }) : null;
  if (photo) {  // the image route wants the Authorization header, which an <img> cannot send
    fetch(`/api/v1/captures/${it.photo_ids[0]}/image`, { headers: { "Authorization": `Bearer ${getToken()}` } })
      .then((r) => (r.ok ? r.blob() : null)).then((b) => { if (b) photo.src = URL.createObjectURL(b); }).catch(() => {});
  }
  clear($("#cp-detail")).append(h("section.panel#cp-trail", {},
    h("h2", {}, `${t("cp.trail")} · ${it.description}`),
    h("p", {}, `${t("cp.case_no")} ${it.case_no} · ${t(`cp.cat.${it.category}`)} · ${t("cp.seal_no")} ${it.seal_no || "—"} · `,
      h("strong#cp-status", {}, t(`cp.status.${it.status}`))),
    photo,
    h("ol#cp-trail-list", {}, rows),
    h("p", { class: tr.gaps.length ? "bad" : "ok" }, tr.gaps.length ? t("cp.gaps") : t("cp.no_gaps"))),
  it.status === "closed" ? null : handoverForm(it));
  const form = document.querySelector("#cp-handover");
  if (form) {
    const purpose = form.querySelector("[name=purpose]");
    const sync = () => form.querySelector("#cp-owner").classList.toggle("hidden", purpose.value !== "return_to_owner");
    purpose.addEventListener("change", sync); sync();
  }
}

async function load() {
  S.items = await get("/case-property");
  const list = clear($("#cp-list"));
  list.append(h("h2", {}, t("cp.list")), h("ul", {}, S.items.map((i) => h("li", {},
    h("button.ghost", { type: "button", "data-item": i.id, onclick: () => show(i.id).catch((e) => toast(errorText(e))) },
      `${i.description} · ${i.case_no} · ${t(`cp.status.${i.status}`)}`)))));
}

function render() {
  clear($("#cp-main")).append(h("section.ledger.panel#cp-list"), h("section.work", {}, registerForm(), h("div#cp-detail")));
}

startPage({
  kioskId: new URLSearchParams(location.search).get("kiosk") || "kiosk-property",
  onSignedIn: async () => {
    const places = await get("/storage-locations?holds=case_property");
    LOCATIONS = places.map((p) => [p.id, p.name, p.name_en]);
    S.staff = await get("/staff"); render(); await load();
  },
  onEvent: (ev) => {  // the receiver's card placed on the reader fills the return's receiver fields
    if (ev.type === "device_event" && ev.kind === "id_reader" && ev.event === "card_read") fillOwner(ev.data, ev.device_id);
  },
  onResync: () => load().catch(() => {}),
  onLang: () => { render(); load().catch(() => {}); if (S.selected) show(S.selected).catch(() => {}); },
});
