// Staff sign-in, idle lock and role checks shared by every screen. The page locks after the server's
// idle_timeout_s without a touch or key press, and whenever the server answers 401 (e.g. SESSION_EXPIRED).
import { api, getToken, onUnauthorized, setToken } from "./api.js";
import { applyI18n, t } from "./i18n.js";
import { h } from "./util.js";

// What each role may do: mirrors the allow(...) lists of controller/api/routes (the server still decides).
export const CAN = {
  intake: ["custody_staff", "case_officer", "supervisor"],   // registration ... placement, activities, leave, exit
  interview: ["case_officer", "supervisor"],                  // start/pause/resume/end interviews, extension
  guard: ["custody_staff", "supervisor"],                      // welfare checks, resolve alarms, care
  ack: ["custody_staff", "case_officer", "supervisor"],       // acknowledge alarms
  view: ["custody_staff", "case_officer", "supervisor", "admin"],
  admin: ["admin"],
};

const STAFF_KEY = "hcc.staff";
const IDLE_KEY = "hcc.idle";
let staff = null;
let idleSeconds = 300;
let lastTouch = Date.now();
let idleTimer = null;
let opts = null;
let idleHold = () => false;

/** A screen may hold off the idle lock while `fn()` is true (the interview terminal during a running interview
 * conducted by the signed-in officer). Sign-out and server-side expiry still lock. */
export function holdIdleLockWhile(fn) { idleHold = fn; }

export function currentStaff() { return staff; }
export function can(what) { return !!staff && staff.roles.some((r) => (CAN[what] || []).includes(r)); }

/** Gates an element by capability: it is removed from view (not just disabled) when the role may not do it. */
export function gate(el, what) { if (!can(what)) el.classList.add("hidden"); return el; }

function overlay() {
  let el = document.getElementById("lock");
  if (el) return el;
  const form = h("form#signin-form", { autocomplete: "off" },
    h("h2", { "data-i18n": "signin.title" }, t("signin.title")),
    h("div.reason#lock-reason", { role: "alert" }),
    h("label", { for: "police-no", "data-i18n": "signin.police_no" }, t("signin.police_no")),
    h("input#police-no", { name: "police_no", inputmode: "numeric", autocomplete: "off", required: true }),
    h("label", { for: "password", "data-i18n": "signin.password" }, t("signin.password")),
    h("input#password", { name: "password", type: "password", autocomplete: "off", required: true }),
    h("div.row.signin-actions", {},
      h("button.primary#signin-btn", { type: "submit", "data-i18n": "signin.submit" }, t("signin.submit")),
      h("span.spacer"),
      h("button.lang-btn", { type: "button", "data-action": "lang" }, t("lang.switch"))));
  el = h("div#lock", { role: "dialog", "aria-modal": "true" }, h("div.card", {}, form));
  document.body.append(el);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reason = document.getElementById("lock-reason");
    reason.textContent = "";
    try {
      const body = { police_no: form.police_no.value.trim(), password: form.password.value };
      if (opts.kioskId) body.kiosk_id = opts.kioskId;
      if (opts.kioskId && opts.kioskToken) body.kiosk_token = opts.kioskToken;
      const res = await api("POST", "/auth/login", body);
      setToken(res.token);
      staff = res.staff;
      idleSeconds = res.idle_timeout_s || 300;
      sessionStorage.setItem(STAFF_KEY, JSON.stringify(staff));
      sessionStorage.setItem(IDLE_KEY, String(idleSeconds));
      form.reset();
      unlocked();
    } catch (err) {
      reason.textContent = err.message_zh ? (document.documentElement.lang === "en" ? err.message_en : err.message_zh) : String(err);
    }
  });
  return el;
}

/**
 * An enrolled kiosk (`python -m controller kiosk enrol <id>`) is opened once as
 * `kiosk.html?kiosk_id=<id>&kiosk_token=<token>`: both are kept in this browser's localStorage and the token is
 * taken out of the address bar. Without enrolment the page's default kiosk id is used (demo sites allow that).
 */
function kioskIdentity() {
  const q = new URLSearchParams(location.search);
  if (q.get("kiosk_id") && q.get("kiosk_token")) {
    localStorage.setItem("hcc.kiosk_id", q.get("kiosk_id"));
    localStorage.setItem("hcc.kiosk_token", q.get("kiosk_token"));
    q.delete("kiosk_token"); q.delete("kiosk_id");
    history.replaceState(null, "", `${location.pathname}${q.toString() ? `?${q}` : ""}`);
  }
  if (opts.kioskId && localStorage.getItem("hcc.kiosk_id")) {
    opts.kioskId = localStorage.getItem("hcc.kiosk_id");
    opts.kioskToken = localStorage.getItem("hcc.kiosk_token");
  }
}

function unlocked() {
  document.getElementById("lock").classList.remove("show");
  document.body.dataset.signedIn = "1";
  lastTouch = Date.now();
  renderWho();
  opts.onSignedIn(staff);
}

function renderWho() {
  const who = document.getElementById("who");
  if (!who) return;
  who.textContent = staff ? `${staff.name} · ${staff.roles.map((r) => t(`role.${r}`)).join("/")}` : "";
}

/** Locks the screen: the token is dropped (signed out on the server when still valid) and sign-in is shown. */
export function lock(reasonKey) {
  const token = getToken();
  const who = staff ? staff.id : null;
  if (token && reasonKey !== "lock.expired") {
    api("POST", "/auth/logout", {}).catch(() => {});
  }
  setToken("");
  staff = null;
  sessionStorage.removeItem(STAFF_KEY);
  document.body.dataset.signedIn = "0";
  renderWho();
  const el = overlay();
  el.classList.add("show");
  document.getElementById("lock-reason").textContent = reasonKey ? t(reasonKey) : "";
  document.getElementById("lock-reason").dataset.reason = reasonKey || "";
  if (opts) opts.onLocked({ reason: reasonKey || "", staffId: who });
  setTimeout(() => document.getElementById("police-no")?.focus(), 0);
}

/** Starts the session machinery: resumes a valid token or shows sign-in; watches for idleness. */
export async function startSession(o) {
  opts = { kioskId: null, onSignedIn: () => {}, onLocked: () => {}, ...o };
  kioskIdentity();
  overlay();
  onUnauthorized((err) => lock(err.code === "SESSION_EXPIRED" ? "lock.expired" : "lock.signin"));
  for (const ev of ["pointerdown", "keydown", "touchstart", "wheel"]) {
    document.addEventListener(ev, () => { lastTouch = Date.now(); }, { capture: true, passive: true });
  }
  clearInterval(idleTimer);
  idleTimer = setInterval(() => {
    if (staff && Date.now() - lastTouch > idleSeconds * 1000 && !idleHold()) lock("lock.idle");
  }, 1000);
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=signout]")) lock("");
  });
  if (getToken()) {
    try {
      const me = await api("GET", "/auth/me");
      staff = { ...(JSON.parse(sessionStorage.getItem(STAFF_KEY) || "{}")), ...me };
      idleSeconds = Number(sessionStorage.getItem(IDLE_KEY) || 300);
      unlocked();
      return;
    } catch { /* fall through to sign-in */ }
  }
  lock("");
  document.getElementById("lock-reason").textContent = "";
  applyI18n();
}

export function refreshWho() { renderWho(); }
