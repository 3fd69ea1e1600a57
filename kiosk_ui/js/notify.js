// Notifying the family, employer, guardian or consul of the measure (issue 13): the legal deadlines with their
// countdowns, the notifications made, and the form (who was told, relation, how, when; or why it was not possible,
// with a supervisor's no_notification approval). The server keeps the records and raises notification_due when late
// (controller/services/notifications.py).
import { ApiError, get, post } from "./api.js";
import { approvalPanel } from "./approval.js";
import { extend, has, t } from "./i18n.js";
import { add, clear, countdown, errorBox, field, fmtTime, h, select, serverNow, toast } from "./util.js";

extend({
  "wait.notify": ["通知家属", "Notify family"],
  "ntf.title": ["通知家属/单位/监护人", "Notify family, employer or guardian"],
  "ntf.due_title": ["法定通知时限", "Legal notification deadlines"],
  "ntf.none_due": ["该措施无须在限定时间内通知", "No notification deadline for this measure"],
  "ntf.purpose.family": ["通知家属（或单位）", "Family (or employer)"],
  "ntf.purpose.guardian": ["通知未成年人的监护人", "The minor's guardian"],
  "ntf.done": ["已通知", "Done"],
  "ntf.remaining": ["剩余", "Left"],
  "ntf.made": ["已记录的通知", "Notifications recorded"],
  "ntf.none_made": ["尚无通知记录", "None recorded yet"],
  "ntf.party": ["通知对象", "Told"],
  "ntf.party.family": ["家属", "Family"],
  "ntf.party.employer": ["所在单位", "Employer"],
  "ntf.party.guardian": ["监护人", "Guardian"],
  "ntf.party.consular": ["领事机构", "Consulate"],
  "ntf.name": ["被通知人姓名", "Name of the person told"],
  "ntf.relation": ["与该人员关系", "Relation"],
  "ntf.rel.parent": ["父母", "Parent"],
  "ntf.rel.spouse": ["配偶", "Spouse"],
  "ntf.rel.child": ["子女", "Child"],
  "ntf.rel.sibling": ["兄弟姐妹", "Sibling"],
  "ntf.rel.guardian": ["监护人", "Guardian"],
  "ntf.rel.other_relative": ["其他亲属", "Other relative"],
  "ntf.rel.employer": ["单位负责人", "Employer"],
  "ntf.rel.consul": ["领事官员", "Consular officer"],
  "ntf.method": ["通知方式", "How"],
  "ntf.method.phone": ["电话", "Phone"],
  "ntf.method.sms": ["短信", "Text message"],
  "ntf.method.in_person": ["当面告知", "In person"],
  "ntf.method.letter": ["书面通知", "Letter"],
  "ntf.method.other": ["其他", "Other"],
  "ntf.contact": ["联系电话/地址", "Phone or address"],
  "ntf.told_at": ["通知时间", "Told at"],
  "ntf.submit": ["记录通知", "Record the notification"],
  "ntf.recorded": ["已记录通知", "Notification recorded"],
  "ntf.not_possible": ["无法通知或依法不通知", "Not possible, or not notifying as the law allows"],
  "ntf.reason": ["无法通知的原因", "Why not"],
  "ntf.not_notified": ["未通知", "Not notified"],
  "ntf.by": ["记录人", "Recorded by"],
  "ntf.need": ["请填写被通知人姓名、关系和通知方式", "Give who was told, the relation and how"],
});

const PARTIES = ["family", "employer", "guardian", "consular"];
const RELATIONS = ["parent", "spouse", "child", "sibling", "guardian", "other_relative", "employer", "consul"];
const METHODS = ["phone", "sms", "in_person", "letter", "other"];
const opts = (prefix, values) => values.map((v) => ({ value: v, label: t(`${prefix}.${v}`) }));
const localInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);

/** The deadlines with countdowns and the notifications made; ``staffName(id)`` names who recorded each. */
function overview(data, staffName) {
  const due = data.due || [];
  const made = data.notifications || [];
  return h("div#ntf-overview", {},
    h("h3", {}, t("ntf.due_title")),
    due.length ? h("ul.ntf-due", {}, due.map((d) => h("li", { "data-purpose": d.purpose, "data-done": d.done ? "true" : "false" },
      h("strong", {}, t(`ntf.purpose.${d.purpose}`)), " ",
      d.done ? h("span.badge.ok", {}, t("ntf.done"))
        : h("span", {}, `${t("ntf.remaining")} `, countdown(d.due_at)),
      h("span.small.muted", {}, ` · ${fmtTime(d.due_at)} · ${d.source}`))))
      : h("p.muted", {}, t("ntf.none_due")),
    h("h3", {}, t("ntf.made")),
    made.length ? h("ul.ntf-made", {}, made.map((n) => h("li", {},
      n.not_notified_reason
        ? `${t(`ntf.party.${n.party}`)} · ${t("ntf.not_notified")}：${n.not_notified_reason}`
        : `${t(`ntf.party.${n.party}`)} · ${n.name}（${has(`ntf.rel.${n.relation}`) ? t(`ntf.rel.${n.relation}`) : n.relation}） · ${t(`ntf.method.${n.method}`)} · ${fmtTime(n.told_at)}`,
      h("span.small.muted", {}, ` · ${t("ntf.by")} ${staffName(n.recorded_by)}`))))
      : h("p.muted", {}, t("ntf.none_made")));
}

/** The notification tab of a stay at the kiosk. */
export async function notificationForm(area, s, staffName) {
  const holder = h("div#ntf-panel");
  add(area, holder);
  const draw = async () => {
    const data = await get(`/stays/${s.id}/notifications`);
    clear(holder);
    const f = h("form#notify-form", { onsubmit: (e) => e.preventDefault() });
    const notPossible = h("input", { type: "checkbox", name: "not_possible" });
    const told = h("div#ntf-told.grid2", {},
      field(t("ntf.name"), h("input", { name: "name" })),
      field(t("ntf.relation"), select("relation", opts("ntf.rel", RELATIONS), { empty: t("form.choose") })),
      field(t("ntf.method"), select("method", opts("ntf.method", METHODS), { empty: t("form.choose") })),
      field(t("ntf.contact"), h("input", { name: "contact", inputmode: "tel" })),
      field(t("ntf.told_at"), h("input", { name: "told_at", type: "datetime-local", value: localInput(serverNow()) })));
    const party = select("party", opts("ntf.party", PARTIES), { value: s.subject?.is_minor ? "guardian" : "family" });
    const reason = h("textarea", { name: "not_notified_reason" });
    const send = async (body) => {
      f.querySelector(":scope > .error-box")?.remove();
      try {
        await post(`/stays/${s.id}/notifications`, body);
        toast(t("ntf.recorded"));
        await draw();
      } catch (err) { if (err instanceof ApiError && err.status !== 401) f.prepend(errorBox(err)); }
    };
    const toldRow = h("div.row.actions", {}, h("button.primary", { type: "button", "data-action": "ntf.submit", onclick: () => {
      const v = (n) => f.querySelector(`[name=${n}]`).value.trim();
      if (!v("name") || !v("relation") || !v("method")) {
        f.querySelector(":scope > .error-box")?.remove();
        f.prepend(h("div.error-box", { role: "alert" }, t("ntf.need")));
        return;
      }
      const body = { party: party.value, name: v("name"), relation: v("relation"), method: v("method") };
      if (v("contact")) body.contact = v("contact");
      if (v("told_at")) body.told_at = new Date(v("told_at")).toISOString();
      send(body);
    } }, t("ntf.submit")));
    const whyNot = h("div#ntf-not.hidden", {}, field(t("ntf.reason"), reason),
      approvalPanel({ kind: "no_notification", stayId: s.id, terms: () => ({}), reason: () => reason.value,
        onGranted: (id) => send({ party: party.value, not_notified_reason: reason.value.trim(), approval_id: id }) }));
    notPossible.addEventListener("change", () => {
      told.classList.toggle("hidden", notPossible.checked);
      toldRow.classList.toggle("hidden", notPossible.checked);
      whyNot.classList.toggle("hidden", !notPossible.checked);
    });
    add(f, h("h2", {}, t("ntf.title")), overview(data, staffName),
      field(t("ntf.party"), party),
      h("label.check", {}, notPossible, t("ntf.not_possible")),
      told, toldRow, whyNot);
    add(holder, f);
  };
  try { await draw(); } catch (err) { if (err instanceof ApiError && err.status !== 401) holder.prepend(errorBox(err)); }
}
