/*
 * app.js — the vitals dashboard: wires the socket, the store and the view.
 *
 * hello        → take the descriptors, merge the history, build cards and charts
 * sample       → append (values are positional over the current descriptors)
 * descriptors  → rebuild the layout, keeping the data of ids that persist
 * metrics      → the latest full values (asked for when the tab is shown again)
 *
 * All drawing happens in one requestAnimationFrame per batch of messages
 * (cards, then every chart), and not at all while the tab is hidden; each
 * such update is timed as the performance measure "vitals:update".
 *
 * Page load milestones are User Timing marks (DevTools' Performance panel
 * shows them; tests read them with nothing injected into the page):
 *   vitals:boot        the page's first script ran (js/early-socket.js)
 *   vitals:hello       the hello arrived and was parsed
 *   vitals:first-chart the first chart drawn with data was painted (js/chart.js)
 *   vitals:charts-in-view  the charts in view after the hello were painted
 *   vitals:all-charts  every chart of the first layout was drawn (js/charts.js)
 *
 * The header's controls: the charts' time window (remembered), pause/resume
 * (charts freeze, data keeps arriving, resume catches up) and the theme.
 * window.__vitals describes what the page shows, for tests.
 */

import { Connection } from "./js/socket.js";
import { Store } from "./js/store.js";
import { Cards } from "./js/cards.js";
import { Charts, WINDOWS, DEFAULT_WINDOW } from "./js/charts.js";
import { Theme } from "./js/theme.js";
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
  windowGroup: $("window"),
  pause: $("pause"),
  pauseText: $("pause-text"),
  pausedChip: $("paused-chip"),
  theme: $("theme"),
};

const state = {
  descriptors: [],
  ids: [],
  interval: 1,
  hello: false,
  lastTs: null,
  retryAt: 0,
  connection: "connecting",
  plugins: null,             /* plugins the host runs (from /healthz), null while unknown */
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
  frame = requestAnimationFrame(() => draw());
}

/*
 * Draws the charts still waiting (new ones: after the hello, those in view
 * but the first, then those below the fold) once the browser has painted
 * what the previous step drew: a task queued by the next frame runs after
 * that frame's paint.  (Drawing them in the frame itself would hold that
 * paint back until they are all drawn.)
 */
function drawAfterPaint() {
  dirty = true;
  if (frame) cancelAnimationFrame(frame);
  frame = requestAnimationFrame(() => {
    frame = 0;
    setTimeout(() => {
      if (!frame) draw();
    }, 0);
  });
}

let measured = 0;

/* `first`: how many new charts in view to draw now (see Charts.update). */
function draw(first = Infinity) {
  frame = 0;
  if (!dirty || document.hidden) return;
  dirty = false;
  const start = performance.now();
  cards.update(store);
  const more = charts.update(store, state.interval, first);
  if (state.lastTs !== null) {
    setText(view.updated, formatClock(state.lastTs));
    setAttr(view.updated, "datetime", new Date(state.lastTs * 1000).toISOString());
  }
  /* Keep the timeline bounded on a page left open for days. */
  if (++measured > 1000) {
    performance.clearMeasures("vitals:update");
    measured = 1;
  }
  performance.measure("vitals:update", { start, end: performance.now() });
  /* New charts still wait: the next ones once these are on screen. */
  if (more) drawAfterPaint();
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  connection.send({ type: "request_metrics" });
  connection.retryNow();
  requestDraw();
});

/* ---- layout ---- */

function showNotice(title, text, kind = "info") {
  setText(view.noticeTitle, title);
  setText(view.noticeText, text);
  view.notice.dataset.kind = kind;
  view.notice.hidden = false;
}

function rebuild() {
  cards.build(state.descriptors);
  try {
    charts.build(state.descriptors);
  } catch (err) {
    console.error("vitals:", err);
    showNotice("Charts unavailable", `The dashboard could not draw its charts (${err.message}). Reload the page to try again.`, "error");
    return;
  }
  updateNotice();
}

/* The notice for what the layout holds: no plugins, nothing to draw, or none. */
function updateNotice() {
  if (state.descriptors.length === 0 || state.plugins === 0) {
    showNotice("No plugins loaded",
      "Copy a collector plugin (a .so file) into the host's plugins directory: vitals loads it within seconds, " +
      "no restart needed, and its cards and charts appear here. Run \u201cvitals --list-plugins\u201d to see the plugins " +
      "the host found and why it refused any.");
  } else if (cards.count === 0 && charts.count === 0) {
    showNotice("Nothing to draw", "The loaded plugins describe no cards and no charts.");
  } else {
    view.notice.hidden = true;
  }
}

/*
 * Asks /healthz how many plugins run: the host's own metrics are described
 * even when no plugin is loaded, so the descriptors alone cannot tell.
 */
async function checkPlugins() {
  try {
    const r = await fetch("/healthz", { cache: "no-store" });
    if (!r.ok) return;
    const h = await r.json();
    const n = h && typeof h.plugins === "number" ? h.plugins : null;
    if (n !== state.plugins) {
      state.plugins = n;
      /* Only the notice depends on it (a rebuild here cost a long task
       * right after the hello, in the way of the first charts). */
      if (state.hello && view.notice.dataset.kind !== "error") updateNotice();
    }
  } catch {
    /* the socket reports connection trouble; nothing to add here */
  }
}

function setDescriptors(list) {
  state.descriptors = sanitize(list);
  state.ids = state.descriptors.map((d) => d.id);
  store.setIds(state.ids);
}

/* ---- messages ---- */

function onHello(msg) {
  if (!state.hello) performance.mark("vitals:hello");
  if (msg.protocol !== 2) console.warn(`vitals: host speaks protocol ${msg.protocol}, this page protocol 2`);
  if (typeof msg.interval === "number" && msg.interval > 0) state.interval = msg.interval;
  setText(view.version, typeof msg.version === "string" ? `v${msg.version}` : "");
  setDescriptors(msg.descriptors);
  store.merge(msg.history, state.ids);
  state.hello = true;
  state.lastTs = store.lastTs;
  rebuild();
  /* Draw the history at once (not a frame later), the topmost chart first:
   * its task ends, the browser paints it, then the others follow. */
  dirty = true;
  if (frame) cancelAnimationFrame(frame);
  draw(1);
  checkPlugins();
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
  checkPlugins();
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

/* ---- controls: time window, pause, theme ---- */

const WINDOW_KEY = "vitals-window";

function storedWindow() {
  try {
    const w = window.localStorage.getItem(WINDOW_KEY);
    return w !== null && w in WINDOWS ? w : DEFAULT_WINDOW;
  } catch {
    return DEFAULT_WINDOW;
  }
}

function selectWindow(key, remember = true) {
  for (const b of view.windowGroup.querySelectorAll("[data-window]")) {
    setAttr(b, "aria-pressed", String(b.dataset.window === key));
  }
  charts.setWindow(key, store, state.interval);
  if (remember) {
    try {
      window.localStorage.setItem(WINDOW_KEY, key);
    } catch {
      /* storage blocked: the choice lasts for this page */
    }
  }
}

view.windowGroup.addEventListener("click", (ev) => {
  const b = ev.target instanceof Element ? ev.target.closest("[data-window]") : null;
  if (b) selectWindow(b.dataset.window);
});

function setPaused(paused) {
  charts.setPaused(paused, store, state.interval);
  setAttr(view.pause, "data-on", String(paused));
  setText(view.pauseText, paused ? "Resume" : "Pause");
  setAttr(view.pause, "title", paused
    ? "Resume the live charts (they catch up with what arrived meanwhile)"
    : "Freeze the charts; data keeps arriving and they catch up on resume");
  const at = store.lastTs === null ? "" : ` at ${formatClock(charts.t1)}`;
  setText(view.pausedChip, paused ? `Charts paused${at}` : "");
  if (!paused) requestDraw();
}

view.pause.addEventListener("click", () => setPaused(!charts.paused));

const theme = new Theme(view.theme, () => charts.restyle(store, state.interval));
selectWindow(storedWindow(), false);

/* A small read-only view of the page for tests and debugging (no data of its own). */
Object.defineProperty(window, "__vitals", {
  value: Object.freeze({
    charts: () => charts.describe(),
    cards: () => cards.describe(),
    state: () => ({
      theme: theme.current,
      window: charts.window,
      paused: charts.paused,
      connection: state.connection,
      samples: store.length,
      range: [charts.t0, charts.t1],
    }),
  }),
});

const connection = new Connection({ onMessage, onState });
connection.start();
