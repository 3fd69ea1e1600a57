// The 统计 view of the duty dashboard (运行状况分析研判): for a date range, the centre's figures from
// GET /analysis drawn with Chart.js (vendored under vendor/chartjs, served by the controller: no other origin),
// and the kept daily reports with their CSV and PDF downloads.
import { ApiError, get, getToken } from "./api.js";
import { extend, lang, t } from "./i18n.js";
import { currentStaff } from "./session.js";
import { add, clear, errorBox, field, h, serverNow } from "./util.js";

extend({
  "stats.open": ["统计", "Statistics"],
  "stats.close": ["返回看板", "Back to the board"],
  "stats.title": ["运行状况分析研判", "How the centre ran"],
  "stats.from": ["自", "From"],
  "stats.to": ["至", "To"],
  "stats.go": ["统计", "Show"],
  "stats.entries": ["入区人数", "Entries"],
  "stats.avg_stay": ["平均在区时长", "Average stay"],
  "stats.max_stay": ["最长在区时长", "Longest stay"],
  "stats.overdue": ["超时滞留（目标 0）", "Overdue (target 0)"],
  "stats.welfare": ["巡查合规率", "Welfare checks on time"],
  "stats.recording": ["录音录像完整率", "Interview time recorded"],
  "stats.devices": ["设备在线率", "Device availability"],
  "stats.entry_rate": ["入区率", "Entry rate"],
  "stats.by_day": ["每日入区人数", "Entries per day"],
  "stats.by_measure": ["按法律依据", "By legal measure"],
  "stats.alarms": ["报警次数（按类型）", "Alarms by kind"],
  "stats.ack": ["平均确认用时（分钟）", "Average minutes to acknowledge"],
  "stats.count": ["次数", "Count"],
  "stats.reports": ["日报", "Daily reports"],
  "stats.no_reports": ["尚无日报（由站点设定的时间自动生成）", "No daily report yet (generated at the site's hour)"],
  "stats.minutes": ["{n} 分钟", "{n} min"],
  "stats.hours": ["{h} 小时 {m} 分", "{h} h {m} min"],
  "stats.chart_failed": ["图表组件未能加载", "The chart library did not load"],
});

const READERS = ["custody_staff", "supervisor", "admin"];
const charts = [];
let chartLib = null;

function loadChartLib() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (chartLib) return chartLib;
  chartLib = new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "vendor/chartjs/chart.umd.min.js";
    s.onload = () => resolve(window.Chart);
    s.onerror = () => { chartLib = null; reject(new Error("chart.js")); };
    document.head.append(s);
  });
  return chartLib;
}

const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
function mins(v) {
  if (v === null || v === undefined) return "—";
  const m = Math.round(v);
  return m >= 60 ? t("stats.hours", { h: Math.floor(m / 60), m: m % 60 }) : t("stats.minutes", { n: m });
}
const localDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const alarmName = (a) => (lang() === "en" ? a.title_en : a.title);

function tile(key, value, bad = false) {
  return h("div.stat-tile", { "data-stat": key, class: `stat-tile ${bad ? "bad" : ""}` },
    h("div.small.muted", {}, t(`stats.${key}`)), h("div.stat-value", {}, value));
}

function chartBox(id, titleKey) {
  return h("div.chart-box", {}, h("h3", {}, t(titleKey)), h("div.chart-wrap", {}, h(`canvas#${id}`, { "aria-label": t(titleKey) })));
}

function draw(Chart, id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  charts.push(new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } }));
}

async function download(path, name, status) {
  try {
    const res = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${getToken()}` } });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) add(clear(status), errorBox(err));
  }
}

async function show(view) {
  const f = view.querySelector("form");
  const body = clear(view.querySelector("#stats-body"));
  while (charts.length) charts.pop().destroy();
  const from = new Date(`${f.from.value}T00:00:00`);
  const to = new Date(`${f.to.value}T00:00:00`); to.setDate(to.getDate() + 1);
  let st;
  try {
    st = await get(`/analysis?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) add(body, errorBox(err));
    return;
  }
  add(body,
    h("div.stat-tiles", {},
      tile("entries", String(st.entries.count)), tile("avg_stay", mins(st.stay_minutes.avg)),
      tile("max_stay", mins(st.stay_minutes.max)), tile("overdue", String(st.overdue.count), st.overdue.count > 0),
      tile("welfare", pct(st.welfare.compliance)), tile("recording", pct(st.recording.recorded_share)),
      tile("devices", pct(st.devices.availability)), tile("entry_rate", pct(st.entry_rate.rate))),
    h("div.chart-grid", {}, chartBox("chart-by-day", "stats.by_day"), chartBox("chart-by-measure", "stats.by_measure"),
      chartBox("chart-alarms", "stats.alarms")));
  let Chart;
  try { Chart = await loadChartLib(); } catch { add(body, h("p.error-box", {}, t("stats.chart_failed"))); return; }
  const days = st.entries.by_day;
  draw(Chart, "chart-by-day", { type: "bar", data: { labels: days.map((d) => d.day.slice(5)), datasets: [{ label: t("stats.entries"), data: days.map((d) => d.entries), backgroundColor: "#3b6ea8" }] }, options: { plugins: { legend: { display: false } } } });
  const measures = Object.keys(st.entries.by_measure);
  draw(Chart, "chart-by-measure", { type: "doughnut", data: { labels: measures.map((m) => t(`basis.${m}`)), datasets: [{ data: measures.map((m) => st.entries.by_measure[m]), backgroundColor: ["#3b6ea8", "#e0a030", "#4caf7d", "#c0504d", "#8064a2", "#4bacc6", "#9bbb59", "#7f7f7f"] }] }, options: { plugins: { legend: { position: "right" } } } });
  const kinds = Object.keys(st.alarms);
  draw(Chart, "chart-alarms", { data: { labels: kinds.map((k) => alarmName(st.alarms[k])), datasets: [
    { type: "bar", label: t("stats.count"), data: kinds.map((k) => st.alarms[k].count), backgroundColor: "#c0504d", yAxisID: "y" },
    { type: "line", label: t("stats.ack"), data: kinds.map((k) => (st.alarms[k].ack_seconds.avg ?? 0) / 60), borderColor: "#3b6ea8", yAxisID: "y1" }] },
  options: { scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } } });
  view.dataset.ready = "1";
}

async function showReports(view) {
  const box = clear(view.querySelector("#stats-reports"));
  let list = [];
  try { list = await get("/reports/daily"); } catch { return; }
  add(box, h("h3", {}, t("stats.reports")));
  if (!list.length) { add(box, h("p.muted.small", {}, t("stats.no_reports"))); return; }
  const status = h("div");
  add(box, h("ul.report-list", {}, list.slice(0, 14).map((r) => h("li", { "data-day": r.day }, `${r.day} · ${t("stats.entries")} ${r.entries} · ${t("stats.overdue")} ${r.overdue} `,
    h("button.ghost.small", { type: "button", onclick: () => download(`/reports/daily/${r.day}.csv`, `daily-report-${r.day}.csv`, status) }, "CSV"),
    h("button.ghost.small", { type: "button", onclick: () => download(`/reports/daily/${r.day}.pdf`, `daily-report-${r.day}.pdf`, status) }, "PDF")))), status);
}

function openView() {
  let view = document.getElementById("stats");
  if (!view) {
    // the controller's clock (it may be a test clock), not this browser's: the same "today" as the server's reports
    const today = new Date(serverNow());
    const week = new Date(serverNow()); week.setDate(today.getDate() - 6);
    view = h("section#stats.panel", {},
      h("div.row", {}, h("h2", {}, t("stats.title")), h("span.spacer"),
        h("button", { type: "button", "data-action": "stats-close", onclick: closeView }, t("stats.close"))),
      h("form.row", { onsubmit: (e) => { e.preventDefault(); show(view); } },
        field(t("stats.from"), h("input", { name: "from", type: "date", value: localDay(week) })),
        field(t("stats.to"), h("input", { name: "to", type: "date", value: localDay(today) })),
        h("button.primary", { type: "submit", "data-action": "stats-go" }, t("stats.go"))),
      h("div#stats-body"), h("div#stats-reports"));
    document.querySelector("main").before(view);
  }
  view.classList.remove("hidden");
  document.querySelector("main").classList.add("hidden");
  show(view);
  showReports(view);
}

function closeView() {
  document.getElementById("stats")?.classList.add("hidden");
  document.querySelector("main").classList.remove("hidden");
}

const button = h("button.ghost", { type: "button", "data-action": "stats-open", onclick: openView }, t("stats.open"));
button.classList.add("hidden");
document.querySelector("header.top .lang-btn")?.before(button);

// shown only to the roles the server lets read the analysis; the sign-in line changes on sign-in and sign-out
new MutationObserver(() => {
  const ok = !!currentStaff() && currentStaff().roles.some((r) => READERS.includes(r));
  button.classList.toggle("hidden", !ok);
  button.textContent = t("stats.open");
  if (!ok) closeView();
}).observe(document.getElementById("who"), { childList: true, subtree: true, characterData: true });
