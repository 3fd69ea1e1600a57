// The duty dashboard (值班看板): a floor view of every room with its occupants and their deadline countdowns
// coloured by urgency, device status, open alarms with acknowledge/resolve, welfare checks due with a button to
// record one, and a timeline replay of any stay. Everything updates from the live socket; nothing needs a reload.
import { ApiError, get, post } from "./api.js";
import { pendingApprovals } from "./approvals_dashboard.js";
import { has, lang, t } from "./i18n.js";
import "./rooms_i18n.js";
import "./rights_i18n.js";
import { devices, loadDevices, startPage } from "./page.js";
import { can } from "./session.js";
import { hideSync, loadSync, onSyncEvent, redrawSync } from "./sync_panel.js";
import { add, changed, clear, countdown, debounce, errorBox, fmtTime, h, serverNow, toast } from "./util.js";

const $ = (sel) => document.querySelector(sel);
const S = { rooms: [], stays: [], alarms: [], staff: [], replay: null, timer: null, names: new Map() };
const HOLDING = ["waiting", "sobering"];
const GROUPS = [
  ["floor.interview", ["interrogation", "inquiry"]],
  ["floor.holding", HOLDING],
  ["floor.intake", ["registration", "search", "collection"]],
  ["floor.other", ["medical", "activity"]],
];
// wall mode (大屏): ?wall=1 or the header button; the smallest text on screen is WALL_MIN_PX (see dashboard.css)
const WALL = new URLSearchParams(location.search).get("wall") === "1";

const roomName = (r) => (lang() === "en" ? r.name_en || r.name : r.name);
const roomById = (id) => S.rooms.find((r) => r.id === id);
const stayById = (id) => S.stays.find((s) => s.id === id);
const staffName = (id) => S.staff.find((p) => p.id === id)?.name || t("actor.unknown");
/** The subject's name for an alarm or a timeline entry, also after the stay has closed (never the stay's id). */
const subjectName = (id) => stayById(id)?.subject.name || S.names.get(id) || t("alarm.subject_gone");
/** Who did it: a person's name, or which part of the system (timeline entries by the scheduler, devices, sync). */
function actorName(e) {
  if (e.actor_role === "system") return has(`actor.${e.actor_id}`) ? t(`actor.${e.actor_id}`) : t("actor.system");
  return staffName(e.actor_id);
}
/** A device as a person names it: its room (unless already said) and its kind, never its id. */
const deviceLabel = (id, saidRoom = null) => {
  const d = (devices.list || []).find((x) => x.id === id);
  if (!d) return t("dev.generic");
  const r = d.room_id && d.room_id !== saidRoom ? roomById(d.room_id) : null;
  return `${r ? `${roomName(r)} ` : ""}${t(`devkind.${d.kind}`)}`;
};
const approvals = pendingApprovals($("#approvals"), {
  staffName, roomName: (id) => (roomById(id) ? roomName(roomById(id)) : t("dev.generic")),
  stayName: (id) => subjectName(id),
});

async function loadAll() {
  const [rooms, stays, alarms] = await Promise.all([get("/rooms"), get("/stays?state=open"), get("/alarms?state=open")]);
  S.rooms = rooms; S.stays = stays; S.alarms = alarms;
  if (!S.staff.length) S.staff = await get("/staff");
  renderFloor(); renderAlarms(); renderBanner(); renderWelfare(); renderDevices(); renderStayPicker();
  await approvals.refresh();
}

const reload = debounce(() => loadAll().catch(() => {}), 200);

// ---------------------------------------------------------------- floor
function occupantRow(s) {
  return h("div.occupant", { "data-stay": s.id },
    h("button.linkish", { type: "button", onclick: () => openReplay(s.id) }, s.subject.name),
    h("span.small.muted", {}, `${t(`sex.${s.subject.sex}`)} · ${t(`state.${s.state}`)}`),
    countdown(s.deadline_at),
    s.open_alarm_ids?.length ? h("span.badge.bad", {}, "!") : null);
}

// A place holder who is not in the room (at an interview or activity): where he is, in words.
function awayNote(r, s) {
  const away = (r.away || []).find((a) => a.stay_id === s.id);
  if (!away) return null;
  const at = S.rooms.find((x) => x.id === away.room_id);
  return h("div.small.muted.away", {}, at ? t("room.away_at", { room: roomName(at) }) : t("room.away_somewhere"));
}

function roomCard(r) {
  const occ = r.occupant_stay_ids.map(stayById).filter(Boolean);
  const roomAlarms = S.alarms.filter((a) => a.room_id === r.id);
  const due = r.next_welfare_check_due;
  const late = due && new Date(due).getTime() <= serverNow();
  const devs = (devices.list || []).filter((d) => d.room_id === r.id);
  return h("div.room", { "data-room": r.id, class: `room ${roomAlarms.length ? "alarmed" : ""} ${occ.length ? "occupied" : ""}` },
    h("div.row", {}, h("strong", {}, roomName(r)), h("span.spacer"), h("span.small.muted", {}, `${r.places_taken ?? occ.length}/${r.capacity}`)),
    occ.length ? occ.flatMap((s) => [occupantRow(s), awayNote(r, s)]) : h("div.small.muted", {}, t("room.empty")),
    HOLDING.includes(r.kind) && occ.length && due ? h("div.small", { class: late ? "late" : "" }, `${t("welfare.due")} ${fmtTime(due)}`) : null,
    devs.length ? h("div.dev-dots", {}, devs.map((d) => h("span.dot", { class: `dot ${d.availability}`, title: t(`devkind.${d.kind}`) }))) : null);
}

function renderFloor() {
  if (!changed("floor", [lang(), S.rooms, S.stays, S.alarms.map((x) => x.room_id), devices.list]) && $("#floor").childElementCount) return;
  const floor = clear($("#floor"));
  for (const [key, kinds] of GROUPS) {
    const rooms = S.rooms.filter((r) => kinds.includes(r.kind));
    if (!rooms.length) continue;
    add(floor, h("section.floor-group", { "data-group": key.split(".")[1] }, h("h3", {}, t(key)), h("div.room-row", {}, rooms.map(roomCard))));
  }
  const placed = new Set(S.rooms.flatMap((r) => r.occupant_stay_ids));
  const elsewhere = S.stays.filter((s) => !placed.has(s.id));
  if (elsewhere.length) {
    add(floor, h("section.floor-group", { "data-group": "outside" }, h("h3", {}, t("floor.outside")),
      h("div.room-row", {}, h("div.room", {}, elsewhere.map(occupantRow)))));
  }
  $("#inside-count").textContent = String(S.stays.length);
}

// ---------------------------------------------------------------- alarms
function alarmWhere(a) {
  const parts = [];
  if (a.room_id && roomById(a.room_id)) parts.push(roomName(roomById(a.room_id)));
  if (a.stay_id) parts.push(subjectName(a.stay_id));
  if (a.device_id) parts.push(deviceLabel(a.device_id, a.room_id));
  return parts.join(" · ");
}

const alarmTitle = (a) => (lang() === "en" ? a.title_en || t("alarm.generic") : a.title || t("alarm.generic"));
const SEV_ICON = { critical: "⚠", warning: "!", info: "i" };

/** Critical alarms not yet acknowledged: a full-width banner and a repeating chime until someone acknowledges. */
function renderBanner() {
  const crit = S.alarms.filter((a) => a.severity === "critical" && a.state === "raised");
  const banner = $("#crit-banner");
  const sound = $("#alarm-sound");
  if (!changed("banner", [lang(), S.names.size, crit.map((a) => [a.id, a.repeat_count])]) && (banner.childElementCount || !crit.length)) {
    syncSound(sound, crit.length > 0);
    return;
  }
  clear(banner);
  banner.classList.toggle("show", crit.length > 0);
  for (const a of crit.slice(0, 3)) {
    add(banner, h("div.crit-row", { "data-alarm": a.id, "data-kind": a.kind },
      h("span.crit-icon", { "aria-hidden": "true" }, "⚠"),
      h("strong", {}, alarmTitle(a)),
      h("span", {}, alarmWhere(a)),
      a.repeat_count > 1 ? h("span.badge.bad", {}, t("alarm.repeats", { n: a.repeat_count })) : null,
      h("span.small", {}, fmtTime(a.raised_at)),
      h("span.spacer"),
      can("ack") ? h("button.primary", { type: "button", "data-action": "ack", onclick: (e) => alarmAct(e.target.closest(".crit-row"), `/alarms/${a.id}/ack`, {}) }, t("alarm.ack")) : null));
  }
  if (crit.length > 3) add(banner, h("div.small", {}, t("alarm.more", { n: crit.length - 3 })));
  syncSound(sound, crit.length > 0);
}

function syncSound(sound, on) {
  if (!sound) return;
  if (on && sound.paused) sound.play().catch(() => { $("#sound-blocked")?.classList.remove("hidden"); });
  if (!on && !sound.paused) { sound.pause(); sound.currentTime = 0; }
  if (!on) $("#sound-blocked")?.classList.add("hidden");
}

function renderAlarms() {
  if (!changed("alarms", [lang(), S.alarms, S.names.size]) && $("#alarms").childElementCount) return;
  const list = clear($("#alarms"));
  $("#alarm-count").textContent = String(S.alarms.length);
  if (!S.alarms.length) { add(list, h("p.muted", {}, t("alarm.none"))); return; }
  for (const a of S.alarms) {
    const note = h("input", { name: "note", placeholder: t("alarm.note"), "aria-label": t("alarm.note") });
    const row = h("div.alarm", { "data-alarm": a.id, "data-kind": a.kind, class: `alarm sev-${a.severity} st-${a.state}` },
      h("div.row", {},
        h("span.sev-icon", { "aria-hidden": "true" }, SEV_ICON[a.severity] || "!"),
        h("strong.alarm-title", {}, alarmTitle(a)),
        h("span.badge.sev", {}, t(`sev.${a.severity}`)),
        a.repeat_count > 1 ? h("span.badge.bad", {}, t("alarm.repeats", { n: a.repeat_count })) : null,
        h("span.badge", { class: `badge ${a.state === "raised" ? "bad" : "warn"}` }, t(`alarm.state.${a.state}`)),
        a.escalated ? h("span.badge.bad", {}, t("alarm.escalated")) : null),
      h("div.small.muted", {}, `${alarmWhere(a)} · ${fmtTime(a.raised_at)}${a.acknowledged_by ? ` · ${t("alarm.acked_by")} ${staffName(a.acknowledged_by)}` : ""}`),
      h("div.row.alarm-actions", {},
        a.state === "raised" && can("ack") ? h("button.primary", { type: "button", "data-action": "ack", onclick: () => alarmAct(row, `/alarms/${a.id}/ack`, {}) }, t("alarm.ack")) : null,
        can("guard") ? note : null,
        can("guard") ? h("button", { type: "button", "data-action": "resolve", onclick: () => {
          if (!note.value.trim()) { note.focus(); toast(t("alarm.need_note")); return; }
          alarmAct(row, `/alarms/${a.id}/resolve`, { note: note.value.trim() });
        } }, t("alarm.resolve")) : null));
    add(list, row);
  }
}

async function alarmAct(row, path, body) {
  row.querySelector(".error-box")?.remove();
  try {
    await post(path, body);
    await loadAll();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) add(row, errorBox(err));
  }
}

// ---------------------------------------------------------------- welfare checks
function renderWelfare() {
  if (!changed("welfare", [lang(), S.rooms]) && $("#welfare").childElementCount) return;
  const list = clear($("#welfare"));
  const rooms = S.rooms.filter((r) => HOLDING.includes(r.kind) && r.occupant_stay_ids.length && r.next_welfare_check_due)
    .sort((a, b) => a.next_welfare_check_due.localeCompare(b.next_welfare_check_due));
  if (!rooms.length) { add(list, h("p.muted", {}, t("welfare.none"))); return; }
  for (const r of rooms) {
    const row = h("div.welfare-row.row", { "data-room": r.id },
      h("strong", {}, roomName(r)), countdown(r.next_welfare_check_due, { kind: "welfare" }), h("span.spacer"),
      can("guard") ? h("button.primary", { type: "button", "data-action": "welfare-ok", onclick: () => welfare(row, r.id, "ok") }, t("welfare.ok")) : null,
      can("guard") ? h("button", { type: "button", "data-action": "welfare-concern", onclick: () => welfare(row, r.id, "concern") }, t("welfare.concern")) : null);
    add(list, row);
  }
}

async function welfare(row, roomId, observation) {
  row.querySelector(".error-box")?.remove();
  try {
    await post(`/rooms/${roomId}/welfare-checks`, { observation });
    toast(t("welfare.recorded"));
    await loadAll();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) add(row, errorBox(err));
  }
}

// ---------------------------------------------------------------- devices
function renderDevices() {
  if (!changed("devices", [lang(), devices.list]) && $("#devices").childElementCount) return;
  const box = clear($("#devices"));
  if (!devices.list) { add(box, h("p.info-box", {}, t("dev.not_connected"))); return; }
  const by = { online: 0, degraded: 0, offline: 0, unknown: 0 };
  for (const d of devices.list) by[d.availability in by ? d.availability : "unknown"] += 1;
  add(box, h("div.row", {},
    h("span.badge.ok", {}, `${t("dev.online")} ${by.online}`),
    by.degraded ? h("span.badge.warn", {}, `${t("dev.degraded")} ${by.degraded}`) : null,
    h("span.badge.bad", {}, `${t("dev.offline")} ${by.offline}`),
    h("span.badge", {}, `${t("dev.unknown")} ${by.unknown}`)));
  const down = devices.list.filter((d) => d.availability !== "online");
  if (down.length) {
    add(box, h("details", {}, h("summary", {}, t("dev.down_list")),
      h("ul.small.dev-list", {}, down.map((d) => h("li", { "data-device": d.id },
        `${deviceLabel(d.id)} · ${t(`dev.${d.availability in by ? d.availability : "unknown"}`)}`)))));
  }
}

// ---------------------------------------------------------------- timeline replay
async function renderStayPicker() {
  const sel = $("#replay-stay");
  let all = S.stays;
  try { all = await get("/stays?limit=100"); } catch { /* the open ones will do */ }
  const known = S.names.size;
  for (const x of all) S.names.set(x.id, x.subject.name);
  if (S.names.size !== known) { renderAlarms(); renderBanner(); } // alarms of subjects who left: their names now
  const keep = S.replay?.stay.id || sel.value;
  add(clear(sel), h("option", { value: "" }, t("replay.pick")),
    ...all.map((s) => h("option", { value: s.id, selected: s.id === keep }, `${s.subject.name} · ${s.case.case_no} · ${t(`state.${s.state}`)}`)));
}

async function openReplay(stayId) {
  const stay = await get(`/stays/${stayId}`);
  $("#replay-stay").value = stayId;
  S.replay = { stay, at: stay.timeline.length - 1 };
  renderReplay();
  $("#replay").scrollIntoView({ block: "nearest" });
}

function describe(e) {
  const a = e.after || {};
  const bits = [];
  if (a.room_id) bits.push(roomById(a.room_id) ? roomName(roomById(a.room_id)) : a.room_id);
  if (a.locker_id) bits.push(a.locker_id.toUpperCase());
  if (a.disposition) bits.push(t(`disp.${a.disposition}`));
  if (a.override) bits.push(t("replay.override"));
  if (e.action.startsWith("alarm_") && (a.title || a.title_en)) bits.unshift(lang() === "en" ? a.title_en : a.title);
  return bits.join(" · ");
}

function renderReplay() {
  const box = clear($("#replay-body"));
  const r = S.replay;
  if (!r) return;
  const tl = r.stay.timeline;
  const slider = h("input#replay-slider", { type: "range", min: "0", max: String(Math.max(tl.length - 1, 0)), value: String(r.at),
    "aria-label": t("replay.position"), oninput: (e) => { r.at = Number(e.target.value); renderReplay(); } });
  const play = h("button", { type: "button", "data-action": "play", onclick: () => playReplay() }, S.timer ? t("replay.stop") : t("replay.play"));
  add(box, 
    h("div.row", {}, h("strong", {}, r.stay.subject.name), h("span.badge", {}, t(`state.${r.stay.state}`)),
      h("span.small.muted", {}, `${t("stay.entered")} ${fmtTime(r.stay.entered_at)}`), h("span.spacer"),
      h("span.small.muted", {}, t("stay.deadline")), countdown(r.stay.deadline_at, { ended: r.stay.state === "exited" ? r.stay.exited_at || "exited" : null })),
    h("div.row", {}, play, slider, h("span.small", {}, `${r.at + 1}/${tl.length}`)),
    h("ol.timeline", {}, tl.map((e, i) => h("li", { class: i === r.at ? "now" : i > r.at ? "future" : "", "data-action-name": e.action },
      h("span.t", {}, fmtTime(e.at)), h("strong", {}, has(`audit.${e.action}`) ? t(`audit.${e.action}`) : e.action),
      h("span.small.muted", {}, ` ${actorName(e)} ${describe(e)}`)))));
  box.querySelector("li.now")?.scrollIntoView({ block: "nearest" });
}

function playReplay() {
  const r = S.replay;
  if (!r) return;
  if (S.timer) { clearInterval(S.timer); S.timer = null; renderReplay(); return; }
  if (r.at >= r.stay.timeline.length - 1) r.at = 0;
  S.timer = setInterval(() => {
    if (r.at >= r.stay.timeline.length - 1) { clearInterval(S.timer); S.timer = null; } else r.at += 1;
    renderReplay();
  }, 800);
  renderReplay();
}

// ---------------------------------------------------------------- live
function onEvent(ev) {
  if (ev.type === "sync_status") { onSyncEvent(ev); return; }  // the sync panel only: nothing else to reload
  if (ev.type === "device_availability" || ev.type === "device_event") { renderDevices(); renderFloor(); return; }
  if (ev.type === "alarm_raised" && ev.data?.severity !== "critical") toast(`${t("alarm.new")}：${lang() === "en" ? ev.data?.title_en || "" : ev.data?.title || ""}`);
  reload();
  if (S.replay && ev.stay_id === S.replay.stay.id) {
    get(`/stays/${ev.stay_id}`).then((stay) => { const end = S.replay.at >= S.replay.stay.timeline.length - 1; S.replay.stay = stay; if (end) S.replay.at = stay.timeline.length - 1; renderReplay(); }).catch(() => {});
  }
}

document.getElementById("replay-stay").addEventListener("change", (e) => { if (e.target.value) openReplay(e.target.value); });

function setWall(on) {
  document.body.classList.toggle("wall", on);
  if (on && document.fullscreenEnabled && !document.fullscreenElement) document.documentElement.requestFullscreen().catch(() => {});
  if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
}
document.getElementById("wall-btn").addEventListener("click", () => setWall(!document.body.classList.contains("wall")));
document.getElementById("sound-blocked").addEventListener("click", () => { $("#alarm-sound").play().then(() => $("#sound-blocked").classList.add("hidden")).catch(() => {}); });
if (WALL) document.body.classList.add("wall");

startPage({
  onSignedIn: async () => { await loadAll(); await loadSync(); },
  onLocked: () => { ["#floor", "#alarms", "#welfare", "#devices", "#replay-body", "#crit-banner", "#approvals"].forEach((s) => clear($(s))); $("#crit-banner").classList.remove("show"); syncSound($("#alarm-sound"), false); S.replay = null; hideSync(); },
  onEvent,
  onResync: () => { loadDevices().then(loadAll).then(loadSync).catch(() => {}); },
  onLang: () => { renderFloor(); renderAlarms(); renderBanner(); renderWelfare(); renderDevices(); renderStayPicker(); renderReplay(); redrawSync(); approvals.render(); },
});
