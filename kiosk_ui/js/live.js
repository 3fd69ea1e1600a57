// The live WebSocket (/api/v1/live?token=...): delivers committed changes and device events to the page,
// shows "连接已断开，正在重连…" while it is down and reconnects by itself with exponential backoff.
import { getToken } from "./api.js";
import { t } from "./i18n.js";
import { setServerNow } from "./util.js";

export class Live {
  constructor({ onEvent, onReconnect, onAuthFailed }) {
    this.onEvent = onEvent; this.onReconnect = onReconnect || (() => {}); this.onAuthFailed = onAuthFailed || (() => {});
    this.ws = null; this.delay = 500; this.timer = null; this.stopped = true; this.everOpen = false;
    this.banner = document.getElementById("conn-banner");
  }

  start() { this.stopped = false; this.delay = 500; this.connect(); }

  stop() {
    this.stopped = true; clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.showDown(false);
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
        const again = this.everOpen; this.everOpen = true; this.delay = 500; this.showDown(false);
        document.body.dataset.live = "up";
        if (again) this.onReconnect(); // changes may have been missed while down: reload the data
        return;
      }
      if (ev.at && ev.type !== "device_event") setServerNow(ev.at);
      if (ev.type === "overflow") { this.onReconnect(); return; }
      this.onEvent(ev);
    };
    ws.onclose = (e) => {
      this.ws = null;
      document.body.dataset.live = "down";
      if (this.stopped) return;
      if (e.code === 4401) { this.onAuthFailed(e.reason || "SESSION_EXPIRED"); return; }
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
