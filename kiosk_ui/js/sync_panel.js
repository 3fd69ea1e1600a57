// The dashboard's platform-sync panel (平台同步): how far the central platform is behind (rows and the age of the
// oldest), the last successful push and the failures, from GET /sync/status and then the live sync_status events.
// Only roles that may read the status (supervisor, admin) see it; the words are added to the dictionary here.
import { get } from "./api.js";
import { extend, t } from "./i18n.js";
import { add, clear, fmtDuration, fmtTime, h } from "./util.js";

extend({
  "sync.title": ["平台同步", "Platform sync"],
  "sync.state": ["状态", "State"],
  "sync.role.active": ["正在同步", "Pushing"],
  "sync.role.standby": ["备用（另一进程在同步）", "Standby (another process pushes)"],
  "sync.role.stopped": ["未启动", "Not running"],
  "sync.role.disabled": ["已停用（密钥或配置有误）", "Disabled (key or configuration problem)"],
  "sync.role.off": ["未配置管控平台", "No central platform configured"],
  "sync.lag": ["待同步", "Waiting to sync"],
  "sync.lag_value": ["{rows} 条，最早一条已等待 {age}", "{rows} changes, oldest waiting {age}"],
  "sync.lag_none": ["无，已全部同步", "None: all synced"],
  "sync.last_success": ["最近成功", "Last success"],
  "sync.never": ["尚未成功", "Not yet"],
  "sync.failures": ["失败", "Failures"],
  "sync.failures_value": ["连续 {now} 次，累计 {total} 次", "{now} in a row, {total} in all"],
  "sync.retry": ["{s} 秒后重试", "retrying in {s} s"],
});

let last = null;

function roleKey(s) {
  if (!s.configured) return "sync.role.off";
  return `sync.role.${["active", "standby", "stopped", "disabled"].includes(s.role) ? s.role : "stopped"}`;
}

function row(labelKey, value, cls = "") {
  return h(`div.sync-row${cls ? "." + cls : ""}`, {}, h("span.sync-label", {}, t(labelKey)), h("strong", {}, value));
}

/** Draws the panel from a status (the API's or a live event's fields). */
export function renderSync(s) {
  const panel = document.getElementById("sync-panel");
  const body = document.getElementById("sync");
  if (!panel || !body) return;
  last = s;
  panel.classList.remove("hidden");
  const failing = (s.consecutive_failures || 0) > 0 || s.role === "disabled";
  panel.classList.toggle("alarmed", failing);
  const lag = s.lag_rows > 0
    ? t("sync.lag_value", { rows: s.lag_rows, age: fmtDuration((s.lag_seconds || 0) * 1000) }) : t("sync.lag_none");
  let failures = t("sync.failures_value", { now: s.consecutive_failures || 0, total: s.failures_total || 0 });
  if (failing && s.next_retry_in_s) failures += `，${t("sync.retry", { s: Math.ceil(s.next_retry_in_s) })}`;
  add(clear(body),
    row("sync.state", t(roleKey(s)), failing ? "bad" : ""),
    row("sync.lag", lag, s.lag_rows > 0 ? "warn" : ""),
    row("sync.last_success", s.last_success_at ? fmtTime(s.last_success_at) : t("sync.never")),
    row("sync.failures", failures, failing ? "bad" : ""));
}

/** After sign-in: the status, or the panel stays hidden for a role that may not read it. */
export async function loadSync() {
  try {
    renderSync(await get("/sync/status"));
  } catch {
    hideSync();
  }
}

export function hideSync() {
  last = null;
  document.getElementById("sync-panel")?.classList.add("hidden");
}

/** A live sync_status event: redraw (only where the panel is shown). */
export function onSyncEvent(ev) { if (last) renderSync({ ...last, ...ev }); }

/** The language switched: redraw the last status in the new language. */
export function redrawSync() { if (last) renderSync(last); }
