// The supervisor's pending approvals on the duty dashboard: what is asked, for whom, by whom and why, with grant
// and refuse. The supervisor decides in his own session (the server checks he is a supervisor); the list updates
// from the live socket. Other staff see the list but no buttons.
import { ApiError, get, post } from "./api.js";
import { extend, t } from "./i18n.js";
import "./measure.js"; // the measure names a pending decision shows
import { currentStaff } from "./session.js";
import { add, clear, errorBox, fmtTime, h, toast } from "./util.js";

extend({
  "aprd.title": ["待审批事项", "Pending approvals"],
  "aprd.none": ["没有待审批事项", "Nothing to approve"],
  "aprd.grant": ["批准", "Grant"],
  "aprd.refuse": ["不批准", "Refuse"],
  "aprd.note": ["意见（不批准须填写）", "Note (needed to refuse)"],
  "aprd.need_note": ["不批准须填写意见", "A refusal needs a note"],
  "aprd.by": ["申请人", "Asked by"],
  "aprd.expires": ["有效至", "Valid until"],
  "aprd.granted": ["已批准", "Granted"],
  "aprd.refused": ["已不批准", "Refused"],
  "aprd.room": ["房间", "Room"],
  "aprd.until": ["延长至", "Until"],
  "aprd.leave": ["事由", "Purpose"],
  "aprd.measure": ["措施", "Measure"],
  "aprd.kind.placement_override": ["候问安置例外", "Placement override"],
  "aprd.kind.extension": ["延长法定时限", "Deadline extension"],
  "aprd.kind.temporary_leave": ["临时出区", "Temporary leave"],
  "aprd.kind.measure_change": ["变更强制措施", "Change of measure"],
});

const isSupervisor = () => (currentStaff()?.roles || []).includes("supervisor");

function terms(a, roomName) {
  const r = a.request || {};
  const bits = [];
  if (r.room_id) bits.push(`${t("aprd.room")} ${roomName(r.room_id)}`);
  if (r.until) bits.push(`${t("aprd.until")} ${fmtTime(r.until)}`);
  if (r.leave_reason) bits.push(`${t("aprd.leave")} ${t(`leavereason.${r.leave_reason}`)}`);
  if (r.measure) bits.push(`${t("aprd.measure")} ${t(`measure.${r.measure}`)}`);
  return bits.join(" · ");
}

/** Renders the pending list into ``box``; ``names`` gives {staffName, stayName, roomName}; returns a refresher. */
export function pendingApprovals(box, names) {
  let items = [];
  async function decide(row, a, action) {
    row.querySelector(".error-box")?.remove();
    const note = row.querySelector("[name=note]").value.trim();
    if (action === "refuse" && !note) { toast(t("aprd.need_note")); row.querySelector("[name=note]").focus(); return; }
    try {
      await post(`/approvals/${a.id}/${action}`, note ? { note } : {});
      toast(t(action === "grant" ? "aprd.granted" : "aprd.refused"));
      await refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) add(row, errorBox(err));
    }
  }
  function render() {
    clear(box);
    if (!items.length) { add(box, h("p.muted", {}, t("aprd.none"))); return; }
    for (const a of items) {
      const row = h("div.approval", { "data-approval": a.id, "data-kind": a.kind },
        h("div.row", {}, h("strong", {}, t(`aprd.kind.${a.kind}`)), h("span", {}, names.stayName(a.stay_id))),
        h("div.small", {}, terms(a, names.roomName)),
        h("div.small.muted", {}, `${a.reason} · ${t("aprd.by")} ${names.staffName(a.requested_by)} · ${t("aprd.expires")} ${fmtTime(a.expires_at)}`));
      if (isSupervisor()) {
        add(row, h("div.row.alarm-actions", {},
          h("input", { name: "note", placeholder: t("aprd.note"), "aria-label": t("aprd.note") }),
          h("button.primary", { type: "button", "data-action": "apr.grant", onclick: () => decide(row, a, "grant") }, t("aprd.grant")),
          h("button", { type: "button", "data-action": "apr.refuse", onclick: () => decide(row, a, "refuse") }, t("aprd.refuse"))));
      }
      add(box, row);
    }
  }
  async function refresh() {
    items = await get("/approvals?state=pending");
    render();
  }
  return { refresh, render };
}
