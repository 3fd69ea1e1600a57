// Search on the kiosk (查询): a box above the ledger that finds stays, open or closed, by name, identity number
// (whole number only: the server matches exactly), case number, entry dates and measure; and, on the registration
// form, the person's earlier stays at this centre, shown as a warning because repeat visits are a risk signal.
import { ApiError, post } from "./api.js";
import { extend, t } from "./i18n.js";
import { add, clear, errorBox, field, fmtTime, h, select } from "./util.js";

extend({
  "find.title": ["查询", "Search"],
  "find.by": ["查询方式", "Search by"],
  "find.by.name": ["姓名", "Name"],
  "find.by.id_number": ["证件号码（完整）", "ID number (whole)"],
  "find.by.case_no": ["案件编号", "Case number"],
  "find.text": ["查询内容", "Search text"],
  "find.from": ["入区日期自", "Entered from"],
  "find.to": ["至", "to"],
  "find.measure": ["法律依据", "Measure"],
  "find.any": ["不限", "Any"],
  "find.go": ["查询", "Search"],
  "find.clear": ["清除", "Clear"],
  "find.none": ["未找到符合条件的记录", "No stay matches"],
  "find.count": ["找到 {n} 条记录", "{n} stays found"],
  "find.need": ["请填写查询内容或选择日期", "Enter something to search for or pick dates"],
  "past.title": ["该人员曾 {n} 次进入本中心（重点关注）", "This person has been here {n} times before (risk signal)"],
  "past.open": ["该人员目前仍有未出区记录", "This person has a stay still open"],
  "past.row": ["{date} · 案件 {case} · {basis} · {disp}", "{date} · case {case} · {basis} · {disp}"],
  "past.alarms": ["报警 {n} 次", "{n} alarms"],
});

const BASES = ["criminal_summons", "compelled_appearance", "admin_summons", "verbal_summons", "continued_questioning",
  "criminal_detention", "voluntary_surrender", "witness_inquiry"];

function openStay(id) { document.dispatchEvent(new CustomEvent("hcc:open-stay", { detail: { id } })); }

const localDayStart = (d) => (d ? new Date(`${d}T00:00:00`).toISOString() : null);
const nextLocalDay = (d) => {
  if (!d) return null;
  const x = new Date(`${d}T00:00:00`);
  x.setDate(x.getDate() + 1);
  return x.toISOString();
};

/** The search box above the ledger (mounted once; its results replace nothing in the ledger). */
export function mountSearch(ledgerList) {
  if (document.getElementById("stay-search")) return;
  const results = h("div#search-results");
  const f = h("form#stay-search.search-box", { onsubmit: (e) => { e.preventDefault(); run(); } },
    h("div.row", {},
      select("by", ["name", "id_number", "case_no"].map((v) => ({ value: v, label: t(`find.by.${v}`) })), { value: "name" }),
      h("input", { name: "q", placeholder: t("find.text"), "aria-label": t("find.text"), autocomplete: "off" }),
      h("button.primary", { type: "submit", "data-action": "find.go" }, t("find.go"))),
    h("div.grid3.small", {},
      field(t("find.from"), h("input", { name: "from", type: "date" })),
      field(t("find.to"), h("input", { name: "to", type: "date" })),
      field(t("find.measure"), select("measure", BASES.map((b) => ({ value: b, label: t(`basis.${b}`) })), { empty: t("find.any") }))),
    results);
  ledgerList.before(f);

  async function run() {
    const q = f.q.value.trim();
    const body = { limit: 100 };
    if (q) body[f.by.value] = q;
    if (f.from.value) body.entered_from = localDayStart(f.from.value);
    if (f.to.value) body.entered_to = nextLocalDay(f.to.value);
    if (f.measure.value) body.legal_basis = f.measure.value;
    clear(results);
    if (Object.keys(body).length === 1) { add(results, h("p.muted.small", {}, t("find.need"))); return; }
    try {
      const rows = await post("/search/stays", body);
      add(results, h("div.row.small", {}, h("span.muted", {}, rows.length ? t("find.count", { n: rows.length }) : t("find.none")),
        h("span.spacer"), h("button.ghost.small", { type: "button", onclick: () => clear(results) }, t("find.clear"))));
      for (const s of rows) {
        add(results, h("button.ledger-row.search-hit", { type: "button", "data-stay": s.id, onclick: () => openStay(s.id) },
          h("span.name", {}, s.subject.name),
          h("span.badge", {}, t(`state.${s.state}`)),
          h("span.small.muted", {}, `${fmtTime(s.entered_at)} · ${s.case.case_no}`),
          h("span.small.muted", {}, t(`basis.${s.legal_basis}`))));
      }
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) add(results, errorBox(err));
      else if (!(err instanceof ApiError)) throw err;
    }
  }
}

export function clearSearch() {
  const r = document.getElementById("search-results");
  if (r) clear(r);
  const f = document.getElementById("stay-search");
  if (f) f.reset();
}

/** On the registration form: looks up the typed or read identity number's earlier stays and warns. */
export async function checkPastStays(form) {
  const number = form?.id_number?.value?.trim();
  let box = form?.querySelector("#past-stays");
  if (!form) return;
  if (!box) {
    box = h("div#past-stays");
    form.querySelector("#card-status")?.after(box);
  }
  clear(box);
  box.className = "";
  if (!number) return;
  let past;
  try { past = await post("/search/past-stays", { id_number: number }); } catch { return; }
  if (form.id_number.value.trim() !== number || !past.count) return;
  box.className = "info-box";
  add(box, h("strong", {}, t("past.title", { n: past.count })),
    past.open ? h("div", {}, t("past.open")) : null,
    h("ul.small", {}, past.stays.slice(0, 5).map((p) => h("li", { "data-past-stay": p.id },
      t("past.row", { date: fmtTime(p.entered_at), case: p.case_no, basis: t(`basis.${p.legal_basis}`),
        disp: p.disposition ? t(`disp.${p.disposition}`) : t(`state.${p.state}`) }),
      p.alarm_count ? ` · ${t("past.alarms", { n: p.alarm_count })}` : ""))));
}

/** Wires the lookup to the form's identity-number field (typing); a card read calls checkPastStays itself. */
export function watchPastStays(form) {
  form.id_number?.addEventListener("change", () => checkPastStays(form));
}
