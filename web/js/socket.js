/*
 * socket.js — the WebSocket to the host, kept open.
 *
 * Connects to ws(s)://<this host>/ws, hands every JSON message to `onMessage`,
 * reports its state ("connecting", "connected", "disconnected") to `onState`,
 * pings every 20 s while connected, and reconnects after a loss with
 * exponential backoff (0.5 s doubling to 10 s, with jitter), reset on success.
 * Messages pass through a StreamDecoder (store.js) first, which must see
 * them all in order: samples then carry one value per descriptor.
 */

import { StreamDecoder } from "./store.js";

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10000;
const PING_EVERY_MS = 20000;

export function socketUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  // A host with [host] auth_token is opened as /?token=…; the socket needs it too.
  const token = new URLSearchParams(loc.search || "").get("token");
  return `${scheme}//${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

/* Delay before reconnect attempt `attempt` (0-based): equal jitter, so 50–100 % of the step. */
export function backoffDelay(attempt, random = Math.random) {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 16));
  return Math.round(step / 2 + random() * (step / 2));
}

export class Connection {
  constructor({ url = socketUrl(), onMessage, onState }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.retryAt = 0;
    this.decoder = new StreamDecoder();
  }

  start() {
    if (!this.#adoptEarly()) this.#open();
  }

  /*
   * Takes over the socket early-socket.js opened before the modules loaded,
   * when it goes where this connection would: replays the messages it held,
   * then carries on as if #open() had made it.  False when there is none
   * to take (not opened, already closed, or another URL).
   */
  #adoptEarly() {
    const early = window.__vitalsEarlySocket;
    if (!early || !early.ws) return false;
    window.__vitalsEarlySocket = null;
    const ws = early.ws;
    ws.removeEventListener("message", early.onMessage);
    ws.removeEventListener("close", early.onClose);
    if (early.closed || early.url !== this.url || ws.readyState > WebSocket.OPEN) {
      if (!early.closed) ws.close();
      return false;
    }
    this.#watch(ws);
    if (ws.readyState === WebSocket.OPEN) this.#onOpen(ws);
    else this.#setState("connecting", { attempt: 0 });
    for (const data of early.messages) this.#receive(ws, data);
    return true;
  }

  /* Sends one JSON message; false when not connected. */
  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /* Reconnects at once (e.g. when the tab comes back and we are waiting). */
  retryNow() {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.#open();
  }

  #setState(state, detail = {}) {
    if (this.onState) this.onState(state, detail);
  }

  #open() {
    this.#setState("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.#scheduleRetry();
      return;
    }
    this.#watch(ws);
  }

  /* Makes `ws` this connection's socket and listens to it. */
  #watch(ws) {
    this.ws = ws;
    ws.addEventListener("open", () => this.#onOpen(ws));
    ws.addEventListener("message", (ev) => this.#receive(ws, ev.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.pingTimer = 0;
      this.#scheduleRetry();
    });
    /* An error is always followed by close, which does the work. */
  }

  #onOpen(ws) {
    if (this.ws !== ws) return;
    this.attempt = 0;
    this.#setState("connected");
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
  }

  #receive(ws, data) {
    if (this.ws !== ws || typeof data !== "string") return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn("vitals: ignoring a message that is not JSON");
      return;
    }
    if (msg && typeof msg === "object" && this.onMessage) this.onMessage(this.decoder.decode(msg));
  }

  #scheduleRetry() {
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.#setState("disconnected", { retryAt: this.retryAt });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = 0;
      this.#open();
    }, delay);
  }
}
