// The legal measure at the kiosk: record a decision (刑事拘留, 逮捕, 行政拘留, 强制隔离戒毒, 取保候审, 监视居住, 释放)
// with its document number and time, approved by a supervisor (step-up here or from the dashboard); which exits
// the current measure allows; and what an overdue stay may still do (零滞留).
import { approvalPanel } from "./approval.js";
import { extend, t } from "./i18n.js";
import { field, h, select, serverNow } from "./util.js";

extend({
  "measure.title": ["变更强制措施 / 作出处理决定", "Decide the legal measure"],
  "measure.measure": ["决定采取的措施", "Measure decided"],
  "measure.decided_at": ["决定时间", "Decided at"],
  "measure.decision_no": ["决定文书编号", "Decision document no."],
  "measure.reason": ["理由", "Reason"],
  "measure.submit": ["记录释放决定", "Record the release"],
  "measure.clock_hint": ["法定时限将从决定时间起重新计算", "The legal clock restarts from the decision time"],
  "measure.criminal_detention": ["刑事拘留（24小时内送看守所）", "Criminal detention (to the detention centre within 24 h)"],
  "measure.arrest": ["逮捕（立即送看守所）", "Arrest (to the detention centre at once)"],
  "measure.admin_detention": ["行政拘留（送拘留所执行）", "Administrative detention (to the detention house)"],
  "measure.compulsory_rehab": ["强制隔离戒毒（送戒毒所）", "Compulsory drug rehabilitation"],
  "measure.bail": ["取保候审", "Bail"],
  "measure.residential_surveillance": ["监视居住", "Residential surveillance"],
  "measure.released": ["释放/解除", "Release"],
  "basis.arrest": ["逮捕", "Arrest"],
  "basis.admin_detention": ["行政拘留", "Administrative detention"],
  "basis.compulsory_rehab": ["强制隔离戒毒", "Compulsory drug rehabilitation"],
  "basis.bail": ["取保候审", "Bail"],
  "basis.residential_surveillance": ["监视居住", "Residential surveillance"],
  "basis.released": ["已决定释放", "Release decided"],
  "disp.to_rehab_centre": ["送强制隔离戒毒所", "To the drug rehabilitation centre"],
  "wait.measure": ["处理决定", "Decision"],
  "overdue.title": ["已超过法定时限", "The legal time limit has passed"],
  "overdue.explain": ["不得再讯问/询问、开展活动（体检除外）、临时出区或调换房间。请立即作出处理决定（释放或变更强制措施）或办理出区；超时记录将保留。", "No more interviews, activities (except the medical check), leave or room moves. Record a decision (release or a measure) or exit now; the overrun stays on the record."],
});

export const MEASURES = ["criminal_detention", "arrest", "admin_detention", "compulsory_rehab", "bail",
  "residential_surveillance", "released"];
const RELEASE = ["released", "handed_over", "to_hospital"];
// mirrors controller/domain/measures.py (the server decides; this only keeps unlawful choices off the list)
const EXITS = {
  criminal_detention: ["to_detention_centre", "to_hospital"], arrest: ["to_detention_centre", "to_hospital"],
  admin_detention: ["to_detention_house", "to_hospital"], compulsory_rehab: ["to_rehab_centre", "to_hospital"],
  bail: ["bail"], residential_surveillance: ["residential_surveillance"], witness_inquiry: ["released", "to_hospital"],
};
const NEXT_FROM_DETENTION = { criminal_detention: ["arrest", "bail", "residential_surveillance", "released"],
  arrest: ["released"], admin_detention: ["released"], compulsory_rehab: ["released"], witness_inquiry: ["released"],
  bail: [], residential_surveillance: [], released: [] };

export function exitsFor(s) {
  if (s.role === "witness" || s.role === "victim") return EXITS.witness_inquiry;
  return EXITS[s.legal_basis] || RELEASE;
}

export const isOverdue = (s) => s.state !== "exited" && new Date(s.deadline_at).getTime() <= serverNow();

export function overdueNote(s) {
  if (!isOverdue(s)) return null;
  return h("div.error-box.overdue-note", { role: "alert" }, h("strong", {}, t("overdue.title")), h("div", {}, t("overdue.explain")));
}

const localInput = (ms) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
};

/** The decision form; ``act(form, path, body)`` submits the step. */
export function measureForm(area, s, act) {
  const choices = (NEXT_FROM_DETENTION[s.legal_basis] || MEASURES).filter((m) => s.role === "suspect" || m === "released");
  const f = h("form#measure-form", { onsubmit: (e) => e.preventDefault() }, h("h3", {}, t("measure.title")));
  const sel = select("measure", choices.map((m) => ({ value: m, label: t(`measure.${m}`) })), { value: choices[0] });
  const holder = h("div");
  const body = (approvalId) => {
    const b = { measure: f.measure.value, decided_at: new Date(f.decided_at.value).toISOString(),
      reason: f.reason.value.trim() };
    if (f.decision_no.value.trim()) b.decision_no = f.decision_no.value.trim();
    if (approvalId) b.approval_id = approvalId;
    return b;
  };
  const submit = () => {
    holder.replaceChildren(sel.value === "released"
      ? h("div.row.actions", {}, h("button.primary", { type: "button", "data-action": "measure.submit",
        onclick: () => act(f, `/stays/${s.id}/measure`, body(null)) }, t("measure.submit")))
      : approvalPanel({ kind: "measure_change", stayId: s.id, terms: () => ({ measure: f.measure.value }),
        reason: () => f.reason.value, onGranted: (id) => act(f, `/stays/${s.id}/measure`, body(id)) }));
  };
  sel.addEventListener("change", submit);
  f.append(h("div.grid2", {}, field(t("measure.measure"), sel),
    field(t("measure.decided_at"), h("input", { name: "decided_at", type: "datetime-local", value: localInput(serverNow()) })),
    field(t("measure.decision_no"), h("input", { name: "decision_no" })),
    field(t("measure.reason"), h("input", { name: "reason" }))),
  h("p.small.muted", {}, t("measure.clock_hint")), holder);
  submit();
  area.append(f);
}

extend({
  "reg.basis_started_at": ["到案/传唤/拘留时间（早于入区时填写）", "Measure started at (if before entry)"],
  "reg.deadline_preview": ["法定时限至", "Legal deadline"],
  "reg.deadline_passed": ["按此起算时间已超过法定时限，不得再留置", "By this start time the limit has already passed"],
});

/** The registration form's clock: when the measure started (到案 time, if earlier than entry) and a preview of the
 * legal deadline the server will give, refreshed as the basis or the time changes. */
export function basisClock(get) {
  const input = h("input", { name: "basis_started_at", type: "datetime-local" });
  const out = h("span#deadline-preview.small");
  const wrap = h("div.field", {}, h("label", {}, t("reg.basis_started_at")), input, out);
  const refresh = async () => {
    const f = wrap.closest("form");
    if (!f) return;
    const q = new URLSearchParams({ legal_basis: f.legal_basis.value });
    if (input.value) q.set("basis_started_at", new Date(input.value).toISOString());
    try {
      const p = await get(`/deadline-preview?${q}`);
      out.textContent = p.already_passed ? t("reg.deadline_passed")
        : `${t("reg.deadline_preview")} ${new Date(p.deadline_at).toLocaleString("zh-CN", { hour12: false })}`;
    } catch { out.textContent = ""; }
  };
  input.addEventListener("change", refresh);
  setTimeout(() => { wrap.closest("form")?.legal_basis?.addEventListener("change", refresh); refresh(); }, 0);
  return wrap;
}

export function basisStartedAt(f) {
  return f.basis_started_at?.value ? new Date(f.basis_started_at.value).toISOString() : null;
}

extend({
  "wait.transfer": ["送押", "Transfer"],
  "transfer.title": ["送押（送看守所/拘留所/戒毒所）", "Transfer to the facility"],
  "transfer.facility_name": ["接收场所名称", "Receiving facility"],
  "transfer.escorts": ["押解民警（至少二人）", "Escorting officers (two or more)"],
  "transfer.medical": ["送押前体检记录", "Pre-transfer medical check"],
  "transfer.no_medical": ["尚无已完成的体检，请先在“活动”中完成体检", "No completed medical check yet: do one under Activities"],
  "transfer.documents": ["移交文书（以“、”分隔）", "Documents handed over (separated by 、)"],
  "transfer.checker": ["出区检查人", "Exit search by"],
  "transfer.items": ["随身物品随人移交", "Property travels with the subject"],
  "transfer.submit": ["确认送押", "Confirm the transfer"],
});

const FACILITY = { to_detention_centre: "detention_centre", to_detention_house: "detention_house",
  to_rehab_centre: "rehab_centre" };

/** The transfer tab is offered only when the current measure sends the person to a facility. */
export const canTransfer = (s) => exitsFor(s).some((d) => FACILITY[d]);

export function transferForm(area, s, act, staff) {
  const exit = exitsFor(s).find((d) => FACILITY[d]);
  const checks = (s.activities || []).filter((a) => a.kind === "medical_check" && a.ended_at);
  const escorts = staff.filter((p) => p.active !== false && (p.roles.includes("case_officer") || p.roles.includes("custody_staff")));
  const female = s.subject.sex === "female";
  const checkers = escorts.filter((p) => !female || p.sex === "female");
  const f = h("form#transfer-form", { onsubmit: (e) => e.preventDefault() }, h("h3", {}, t("transfer.title")),
    h("div.grid2", {},
      field(t("transfer.facility_name"), h("input", { name: "facility_name" })),
      checks.length ? field(t("transfer.medical"), select("medical_check_id", checks.map((a) => ({ value: a.id, label: `${a.result || ""} ${new Date(a.ended_at).toLocaleString("zh-CN", { hour12: false })}` })), { value: checks[checks.length - 1].id }))
        : h("p.small.muted", {}, t("transfer.no_medical")),
      field(t("transfer.documents"), h("input", { name: "documents" })),
      field(t("transfer.checker"), select("checker_id", checkers.map((p) => ({ value: p.id, label: p.name })), { empty: t("form.choose") }))),
    h("h4", {}, t("transfer.escorts")),
    h("div.checks", {}, escorts.map((p) => h("label.check", {}, h("input", { type: "checkbox", name: "escort", value: p.id }), p.name))),
    h("p.small.muted", {}, t("transfer.items")),
    h("div.row.actions", {}, h("button.primary", { type: "button", "data-action": "transfer.submit", onclick: () => act(f, `/stays/${s.id}/transfer`, {
      facility_kind: FACILITY[exit], facility_name: f.facility_name.value.trim(),
      escort_ids: [...f.querySelectorAll("input[name=escort]:checked")].map((i) => i.value),
      medical_check_id: f.medical_check_id?.value || null,
      documents: f.documents.value.split(/[、,，]/).map((x) => x.trim()).filter(Boolean),
      exit_search: { checker_id: f.checker_id.value },
      items: (s.property?.items || []).filter((i) => !i.disposition).map((i) => ({ item_id: i.id, disposition: "travels_with_subject" })),
    }) }, t("transfer.submit"))));
  area.append(f);
}
