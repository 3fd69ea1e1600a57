// Page frame shared by the three screens: header (title, signed-in person, server clock, language switch,
// sign-out), the connection banner, sign-in/idle lock, the live socket, device list, and a 1 s countdown tick.
import { ApiError, get, isMissing } from "./api.js";
import { applyI18n, lang, setLang, t } from "./i18n.js";
import { Live } from "./live.js";
import { lock, refreshWho, startSession } from "./session.js";
import { errorText, fmtTime, serverNow, setServerNow, tickCountdowns, toast } from "./util.js";

export const devices = { list: null, byId: new Map() }; // null list: GET /devices not available

/** Loads GET /devices; a missing endpoint leaves the list null so screens say "设备未连接". */
export async function loadDevices() {
  try {
    devices.list = await get("/devices");
    devices.byId = new Map(devices.list.map((d) => [d.id, d]));
  } catch (err) {
    if (!isMissing(err)) throw err;
    devices.list = null; devices.byId = new Map();
  }
}

/** The first device of a kind (optionally in a room), or null. */
export function findDevice(kind, roomId = null) {
  if (!devices.list) return null;
  return devices.list.find((d) => d.kind === kind && (!roomId || d.room_id === roomId)) ||
    (roomId ? null : null);
}

/**
 * What the screens may say of a device, from what the controller says of it: "online" (answering), "retrying"
 * (answering with errors or retries: usable, the controller is working on it), "connecting" (not yet heard since
 * start), "offline" (the controller says it is gone) and "absent" (the site has none). Only "offline" and "absent"
 * are shown as unavailable; a device that needed a retry is not "未连接".
 */
export function deviceState(dev) {
  if (!dev) return "absent";
  if (dev.availability === "online") return "online";
  if (dev.availability === "degraded") return "retrying";
  if (dev.availability === "offline") return "offline";
  return "connecting";
}

/** A device that can be used now or is coming: forms default to using it rather than to manual entry. */
export function deviceOnline(dev) { return ["online", "retrying", "connecting"].includes(deviceState(dev)); }

/** The words for a device that is not plainly online ("" when it is). */
export function deviceNote(dev) {
  const st = deviceState(dev);
  return st === "online" ? "" : t(`devstate.${st}`);
}

function applyDeviceEvent(ev) {
  if (ev.type === "device_availability") {
    const d = devices.byId.get(ev.device_id);
    if (d) d.availability = ev.availability;
    else if (devices.list) {
      const nd = { id: ev.device_id, kind: ev.kind, room_id: ev.room_id || null, availability: ev.availability };
      devices.list.push(nd); devices.byId.set(nd.id, nd);
    }
  } else if (ev.type === "device_event") {
    const d = devices.byId.get(ev.device_id);
    if (d) { d.availability = "online"; d.last_seen = ev.at || new Date(serverNow()).toISOString(); }
  }
}

/**
 * start({titleKey, kioskId, onSignedIn, onLocked, onEvent, onResync}) wires a screen up. onEvent gets every live
 * message (after device bookkeeping); onResync is called after a reconnect so the screen reloads its data.
 */
export function startPage(o) {
  // A refused or failed call nobody caught: a 401 already locked the screen; anything else is said in a toast.
  window.addEventListener("unhandledrejection", (e) => {
    if (!(e.reason instanceof ApiError)) return;
    e.preventDefault();
    if (e.reason.status !== 401) toast(errorText(e.reason));
  });
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  const live = new Live({
    onEvent: (ev) => { if (ev.type.startsWith("device_")) applyDeviceEvent(ev); o.onEvent(ev); },
    onReconnect: () => o.onResync(),
    onAuthFailed: () => lock("lock.expired"),
  });
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=lang]")) {
      setLang(lang() === "en" ? "zh" : "en");
      document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
      applyI18n(); refreshWho();
      o.onLang?.();
    }
  });
  setInterval(() => {
    tickCountdowns();
    const c = document.getElementById("server-clock");
    if (c) c.textContent = fmtTime(new Date(serverNow()).toISOString());
  }, 1000);
  setInterval(() => syncClock().catch(() => {}), 30000);
  applyI18n();
  startSession({
    kioskId: o.kioskId,
    onSignedIn: async (staff) => {
      await syncClock().catch(() => {});
      await loadDevices().catch(() => loadDevices().catch(() => {}));
      live.start();
      await o.onSignedIn(staff);
      applyI18n();
    },
    onLocked: (info) => { live.stop(); o.onLocked?.(info || {}); },
  });
  return live;
}

export async function syncClock() {
  const r = await get("/dev/clock");
  setServerNow(r.now);
}

export { t };
