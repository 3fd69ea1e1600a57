// Approvals at the kiosk: a step that needs a supervisor (placement override, temporary leave, extension) asks for
// an approval and goes ahead only with a granted one. The supervisor grants either right here by step-up (his own
// police number + password, or staff card + PIN, checked by the server; the kiosk user stays signed in) or from
// his dashboard's pending list, after which "已批准，继续" completes the step. The kiosk never names an approver.
import { ApiError, get, post } from "./api.js";
import { extend, t } from "./i18n.js";
import { errorBox, field, h, select } from "./util.js";

extend({
  "apr.title": ["须经值班领导批准", "Needs a supervisor's approval"],
  "apr.reason": ["申请理由", "Reason for the request"],
  "apr.stepup_title": ["值班领导现场验证批准", "Supervisor approves here"],
  "apr.method": ["验证方式", "Verify by"],
  "apr.method.password": ["警号 + 密码", "Police number + password"],
  "apr.method.card": ["工作证卡 + PIN", "Staff card + PIN"],
  "apr.police_no": ["领导警号", "Supervisor's police number"],
  "apr.password": ["领导密码", "Supervisor's password"],
  "apr.card_id": ["领导工作证卡号（刷卡）", "Supervisor's staff card (swipe)"],
  "apr.pin": ["PIN", "PIN"],
  "apr.stepup": ["领导验证并批准", "Verify and approve"],
  "apr.request": ["提交领导审批（工作台）", "Send to the supervisor's dashboard"],
  "apr.pending": ["已提交审批，等待值班领导在工作台批准。批准后点“已批准，继续”。", "Sent: waiting for the supervisor to approve on the dashboard. Then press Continue."],
  "apr.continue": ["已批准，继续", "Approved: continue"],
  "apr.not_yet": ["该审批尚未批准", "The approval is not granted yet"],
  "apr.state.refused": ["值班领导未批准", "The supervisor refused"],
  "apr.state.expired": ["审批已过期，请重新申请", "The approval expired: ask again"],
  "apr.state.withdrawn": ["审批已撤回", "The approval was withdrawn"],
  "apr.need_reason": ["请填写申请理由", "Give a reason"],
  "apr.kind.placement_override": ["候问安置例外", "Placement override"],
  "apr.kind.extension": ["延长法定时限", "Deadline extension"],
  "apr.kind.temporary_leave": ["临时出区", "Temporary leave"],
});

/**
 * The approval panel for one step. ``terms()`` returns what is asked (room_id / until + ground / leave_reason),
 * read from the form when the button is pressed; ``reason()`` the reason used when none is typed here; ``onGranted(id)`` completes the
 * step with the approval's id (and shows its own errors).
 */
export function approvalPanel({ kind, stayId, terms, reason = () => "", onGranted }) {
  let approvalId = null;
  let asked = null; // the terms the pending approval was asked with: other terms need a new approval
  const status = h("p.small.muted.apr-status");
  const credWrap = h("div.grid2.apr-creds");
  const method = select("su_method", [
    { value: "password", label: t("apr.method.password") }, { value: "card", label: t("apr.method.card") },
  ], { value: "password" });
  const creds = () => {
    credWrap.replaceChildren(...(method.value === "card"
      ? [field(t("apr.card_id"), h("input", { name: "su_card_id", autocomplete: "off" })),
        field(t("apr.pin"), h("input", { name: "su_pin", type: "password", inputmode: "numeric", autocomplete: "off" }))]
      : [field(t("apr.police_no"), h("input", { name: "su_police_no", autocomplete: "off" })),
        field(t("apr.password"), h("input", { name: "su_password", type: "password", autocomplete: "off" }))]));
  };
  method.addEventListener("change", creds);
  creds();
  const reasonBox = h("textarea", { name: "approval_reason" });
  const box = h("div.approval-panel", { "data-kind": kind },
    h("h3", {}, `${t("apr.title")}：${t(`apr.kind.${kind}`)}`),
    field(t("apr.reason"), reasonBox),
    h("h4", {}, t("apr.stepup_title")),
    field(t("apr.method"), method), credWrap,
    h("div.row.actions", {},
      h("button.primary", { type: "button", "data-action": "apr.stepup", onclick: () => run(stepUp) }, t("apr.stepup")),
      h("button", { type: "button", "data-action": "apr.request", onclick: () => run(ask) }, t("apr.request")),
      h("button", { type: "button", "data-action": "apr.continue", hidden: true, onclick: () => run(proceed) },
        t("apr.continue"))),
    status);

  const showError = (err) => {
    box.querySelector(":scope > .error-box")?.remove();
    box.prepend(err instanceof ApiError ? errorBox(err) : h("div.error-box", { role: "alert" }, String(err)));
  };
  async function run(fn) {
    box.querySelector(":scope > .error-box")?.remove();
    const btns = box.querySelectorAll("button");
    btns.forEach((b) => { b.disabled = true; });
    try { await fn(); } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      showError(err);
    } finally { btns.forEach((b) => { b.disabled = false; }); }
  }
  async function ensureAsked() {
    const want = JSON.stringify(terms());
    if (approvalId && asked === want) return approvalId;
    const why = reasonBox.value.trim() || reason().trim();
    if (why.length < 2) throw new Error(t("apr.need_reason"));
    const a = await post("/approvals", { kind, stay_id: stayId, reason: why, ...terms() });
    approvalId = a.id; asked = want;
    return approvalId;
  }
  async function stepUp() {
    const id = await ensureAsked();
    const q = (n) => box.querySelector(`[name=${n}]`);
    const step_up = method.value === "card"
      ? { card_id: q("su_card_id").value.trim(), pin: q("su_pin").value.trim() }
      : { police_no: q("su_police_no").value.trim(), password: q("su_password").value };
    try {
      await post(`/approvals/${id}/grant`, { step_up });
    } finally { box.querySelectorAll("input[type=password]").forEach((i) => { i.value = ""; }); }
    await onGranted(id);
  }
  async function ask() {
    await ensureAsked();
    status.textContent = t("apr.pending");
    box.querySelector("[data-action='apr.continue']").hidden = false;
  }
  async function proceed() {
    if (!approvalId) return;
    const a = await get(`/approvals/${approvalId}`);
    if (a.state === "granted") { await onGranted(approvalId); return; }
    status.textContent = ["refused", "expired", "withdrawn"].includes(a.state) ? t(`apr.state.${a.state}`) : t("apr.not_yet");
    if (a.state !== "pending") { approvalId = null; asked = null; }
  }
  return box;
}
