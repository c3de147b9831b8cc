/*
 * app.js — the vitals dashboard: wires the socket, the store and the view.
 *
 * hello        → take the descriptors, merge the history, build cards and charts
 * sample       → append (values are positional over the current descriptors)
 * descriptors  → rebuild the layout, keeping the data of ids that persist
 * metrics      → the latest full values (asked for when the tab is shown again)
 *
 * All drawing happens in one requestAnimationFrame per batch of messages,
 * and not at all while the tab is hidden.
 */

import { Connection } from "./js/socket.js";
import { Store } from "./js/store.js";
import { Cards } from "./js/cards.js";
import { Charts } from "./js/charts.js";
import { sanitize } from "./js/descriptors.js";
import { setText, setAttr } from "./js/dom.js";
import { formatClock } from "./js/format.js";

const $ = (id) => document.getElementById(id);

const view = {
  version: $("version"),
  conn: $("conn"),
  connText: $("conn-text"),
  connRetry: $("conn-retry"),
  updated: $("updated"),
  notice: $("notice"),
  noticeTitle: $("notice-title"),
  noticeText: $("notice-text"),
  cards: $("cards"),
  charts: $("charts"),
};

const state = {
  descriptors: [],
  ids: [],
  interval: 1,
  hello: false,
  lastTs: null,
  retryAt: 0,
  connection: "connecting",
};

const store = new Store();
const cards = new Cards(view.cards);
const charts = new Charts(view.charts);

/* ---- drawing, batched ---- */

let dirty = false;
let frame = 0;

function requestDraw() {
  dirty = true;
  if (frame || document.hidden) return;
  frame = requestAnimationFrame(draw);
}

function draw() {
  frame = 0;
  if (!dirty || document.hidden) return;
  dirty = false;
  cards.update(store);
  charts.update(store, state.interval);
  if (state.lastTs !== null) {
    setText(view.updated, formatClock(state.lastTs));
    setAttr(view.updated, "datetime", new Date(state.lastTs * 1000).toISOString());
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  connection.send({ type: "request_metrics" });
  connection.retryNow();
  requestDraw();
});

/* ---- layout ---- */

function showNotice(title, text) {
  setText(view.noticeTitle, title);
  setText(view.noticeText, text);
  view.notice.hidden = false;
}

function rebuild() {
  cards.build(state.descriptors);
  try {
    charts.build(state.descriptors);
  } catch (err) {
    console.error("vitals:", err);
    showNotice("Charts unavailable", `The dashboard could not draw its charts (${err.message}). Reload the page to try again.`);
    return;
  }
  if (state.descriptors.length === 0) {
    showNotice("No plugins loaded",
      "Drop a plugin .so into the plugins directory and restart vitals (or check its log for plugins it refused). " +
      "Cards and charts appear here as soon as a plugin registers metrics.");
  } else if (cards.count === 0 && charts.count === 0) {
    showNotice("Nothing to draw", "The loaded plugins describe no cards and no charts.");
  } else {
    view.notice.hidden = true;
  }
}

function setDescriptors(list) {
  state.descriptors = sanitize(list);
  state.ids = state.descriptors.map((d) => d.id);
  store.setIds(state.ids);
}

/* ---- messages ---- */

function onHello(msg) {
  if (msg.protocol !== 1) console.warn(`vitals: host speaks protocol ${msg.protocol}, this page protocol 1`);
  if (typeof msg.interval === "number" && msg.interval > 0) state.interval = msg.interval;
  setText(view.version, typeof msg.version === "string" ? `v${msg.version}` : "");
  setDescriptors(msg.descriptors);
  store.merge(msg.history, state.ids);
  state.hello = true;
  state.lastTs = store.lastTs;
  rebuild();
  requestDraw();
}

function onSample(msg) {
  if (!state.hello || !Array.isArray(msg.values)) return;
  if (store.append(msg.ts, msg.seq, state.ids, msg.values)) {
    state.lastTs = store.lastTs;
    requestDraw();
  }
}

function onDescriptors(msg) {
  setDescriptors(msg.descriptors);
  rebuild();
  requestDraw();
}

/* The /api/v1/metrics body: values grouped by plugin, keyed by id less "<plugin>.". */
function onMetrics(msg) {
  if (!state.hello || !msg.plugins || typeof msg.plugins !== "object") return;
  const values = state.descriptors.map((d) => {
    const group = msg.plugins[d.plugin];
    if (!group || typeof group !== "object") return null;
    const prefix = `${d.plugin}.`;
    const key = d.id.startsWith(prefix) ? d.id.slice(prefix.length) : d.id;
    return key in group ? group[key] : null;
  });
  if (typeof msg.ts === "number" && (store.lastTs === null || msg.ts >= store.lastTs)) {
    store.append(msg.ts, msg.seq, state.ids, values);
    state.lastTs = store.lastTs;
    requestDraw();
  }
}

const handlers = {
  hello: onHello,
  sample: onSample,
  descriptors: onDescriptors,
  metrics: onMetrics,
  pong: () => {},
  error: (msg) => console.warn("vitals: host says:", msg.message),
};

function onMessage(msg) {
  const h = handlers[msg.type];
  if (h) h(msg);
}

/* ---- connection indicator ---- */

let countdown = 0;

function renderConnection() {
  const s = state.connection;
  setAttr(view.conn, "data-state", s);
  setText(view.connText, s === "connected" ? "Live" : s === "connecting" ? "Connecting\u2026" : "Disconnected");
  let retry = "";
  if (s === "disconnected" && state.retryAt) {
    const secs = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    retry = secs > 0 ? `retry in ${secs} s` : "retrying";
  }
  setText(view.connRetry, retry);
  setAttr(view.conn, "title", s === "connected" ? "Connected to the host" : s === "connecting" ? "Connecting to the host" : "Not connected; retrying with backoff");
}

function onState(s, detail) {
  state.connection = s;
  state.retryAt = detail && detail.retryAt ? detail.retryAt : 0;
  clearInterval(countdown);
  countdown = 0;
  if (s === "disconnected") countdown = setInterval(renderConnection, 1000);
  if (!state.hello && s !== "connected") {
    showNotice(s === "connecting" ? "Connecting\u2026" : "Waiting for the host",
      s === "connecting" ? "Reaching the vitals host." : "The vitals host does not answer yet; this page keeps trying.");
  }
  renderConnection();
}

const connection = new Connection({ onMessage, onState });
connection.start();
