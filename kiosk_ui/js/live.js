// The live WebSocket (/api/v1/live?token=...): delivers committed changes, typed deltas and device events to the
// page, shows "连接已断开，正在重连…" while it is down and reconnects by itself with exponential backoff.
// Every frame after the hello (n = 0) carries the socket's number n = 1, 2, 3 …: a number missing means the
// controller dropped events for this page, so the socket is opened afresh and the page loads its lists again.
// A socket the controller ends for the session (4401) or refuses (4403) is not retried: the page goes back to
// sign-in with the reason (onAuthFailed(code, reason)).
import { getToken } from "./api.js";
import { t } from "./i18n.js";
import { setServerNow } from "./util.js";

export const ENDED = 4401;
export const FORBIDDEN = 4403;

export class Live {
  constructor({ onEvent, onReconnect, onAuthFailed, onHello }) {
    this.onEvent = onEvent; this.onReconnect = onReconnect || (() => {}); this.onAuthFailed = onAuthFailed || (() => {});
    this.onHello = onHello || (() => {});
    this.ws = null; this.delay = 500; this.timer = null; this.stopped = true; this.everOpen = false; this.n = 0;
    this.gaps = 0;
    this.banner = document.getElementById("conn-banner");
  }

  start() { this.stopped = false; this.delay = 500; this.connect(); }

  stop() {
    this.stopped = true; clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.showDown(false);
  }

  /** Opens the socket afresh at once: after a gap, the hello that follows reloads the page's lists. */
  restart() {
    if (this.stopped) return;
    if (this.ws) { this.ws.onclose = null; this.ws.onmessage = null; this.ws.close(); this.ws = null; }
    this.connect();
  }

  connect() {
    const token = getToken();
    if (!token || this.stopped) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/live?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onmessage = (m) => {
      let ev; try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.type === "hello") {
        setServerNow(ev.at);
        this.n = typeof ev.n === "number" ? ev.n : 0;
        const again = this.everOpen; this.everOpen = true; this.delay = 500; this.showDown(false);
        document.body.dataset.live = "up";
        this.onHello();
        if (again) this.onReconnect(); // changes may have been missed while down: reload the data
        return;
      }
      if (typeof ev.n === "number") {
        if (ev.n !== this.n + 1) { this.gaps += 1; document.body.dataset.liveGaps = String(this.gaps); this.restart(); return; }
        this.n = ev.n;
      }
      if (ev.at && ev.type !== "device_event" && ev.type !== "presence.moved") setServerNow(ev.at);
      if (ev.type === "overflow") { this.restart(); return; }
      this.onEvent(ev);
    };
    ws.onclose = (e) => {
      this.ws = null;
      document.body.dataset.live = "down";
      if (this.stopped) return;
      if (e.code === ENDED || e.code === FORBIDDEN) { this.stopped = true; this.onAuthFailed(e.code, e.reason || ""); return; }
      this.showDown(true);
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  showDown(down) {
    if (!this.banner) return;
    this.banner.textContent = t("conn.lost");
    this.banner.classList.toggle("show", down);
  }
}
