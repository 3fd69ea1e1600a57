// Page frame shared by the three screens: header (title, signed-in person, server clock, language switch,
// sign-out), the connection banner, sign-in/idle lock, the live socket, device list, and a 1 s countdown tick.
import { ApiError, get, isMissing } from "./api.js";
import { applyI18n, lang, setLang, t } from "./i18n.js";
import { ENDED, FORBIDDEN, Live } from "./live.js";
import "./live_i18n.js";
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

// The typed deltas of version 1 (docs/API.md "WebSocket"): a page applies them to what it holds. A delta of
// another type or version is one this page does not understand: it loads its lists again instead.
export const DELTAS = new Set(["stay.updated", "stay.removed", "room.occupancy", "alarm.raised", "alarm.updated",
  "alarm.resolved", "approval.requested", "approval.updated", "presence.moved", "device.availability"]);
export const isDelta = (ev) => typeof ev.type === "string" && ev.type.includes(".");
const understood = (ev) => DELTAS.has(ev.type) && ev.v === 1;

/** ``list`` with ``item`` in place of the entry with its id (added when new); without it when ``keep`` says no.
 * An older copy (a lower ``version``, as a delta read before a reload may be) never replaces a newer one. */
export function upsert(list, item, keep = true) {
  const i = list.findIndex((x) => x.id === item.id);
  if (i >= 0 && item.version !== undefined && list[i].version !== undefined && item.version < list[i].version) return list;
  if (!keep) return i >= 0 ? list.filter((x) => x.id !== item.id) : list;
  if (i >= 0) { const out = list.slice(); out[i] = item; return out; }
  return [item, ...list];
}

/** The words that go with a socket the controller ended (4401, with the session's reason) or refused (4403). */
export function endedReason(code, reason) {
  if (code === FORBIDDEN) return "lock.forbidden";
  if (code !== ENDED) return "lock.expired";
  return { SESSION_ENDED: "lock.ended", ACCOUNT_DISABLED: "lock.disabled", KIOSK_REVOKED: "lock.kiosk_revoked" }[reason] || "lock.expired";
}

function applyDeviceEvent(ev) {
  if (ev.type === "device.availability") {
    const dev = ev.device || {};
    applyDeviceEvent({ type: "device_availability", device_id: dev.id, kind: dev.kind, room_id: dev.room_id, availability: dev.availability });
    return;
  }
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
 * start({titleKey, kioskId, onSignedIn, onLocked, onEvent, onResync, onHello}) wires a screen up. onEvent gets every
 * live message (after device bookkeeping); onResync (returning a promise) is called after a reconnect, a gap in the
 * socket's numbering or a delta of an unknown type, so the screen loads its lists again; onHello when a socket
 * opens (what it says next, e.g. where the wristbands are, is complete).
 */
export function startPage(o) {
  // A refused or failed call nobody caught: a 401 already locked the screen; anything else is said in a toast.
  window.addEventListener("unhandledrejection", (e) => {
    if (!(e.reason instanceof ApiError)) return;
    e.preventDefault();
    if (e.reason.status !== 401) toast(errorText(e.reason));
  });
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  // While the page (re)loads its lists, events wait and are applied after, in order, to what was loaded.
  let loading = 0;
  const held = [];
  const deliver = (ev) => {
    if (ev.type.startsWith("device_") || ev.type === "device.availability") applyDeviceEvent(ev);
    if (isDelta(ev) && !understood(ev)) { reload(); return; }
    o.onEvent(ev);
  };
  async function resync(load) {
    loading += 1;
    try { await load(); } finally {
      loading -= 1;
      if (!loading) for (const ev of held.splice(0)) deliver(ev);
    }
  }
  const reload = () => resync(async () => { try { await o.onResync(); } catch { /* the banner or the lock says why */ } });
  const live = new Live({
    onEvent: (ev) => { if (loading) held.push(ev); else deliver(ev); },
    onHello: () => o.onHello?.(),
    onReconnect: reload,
    onAuthFailed: (code, reason) => lock(endedReason(code, reason)),
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
      await resync(() => o.onSignedIn(staff));
      applyI18n();
    },
    onLocked: (info) => { live.stop(); held.length = 0; o.onLocked?.(info || {}); },
  });
  return live;
}

export async function syncClock() {
  const r = await get("/dev/clock");
  setServerNow(r.now);
}

export { t };
