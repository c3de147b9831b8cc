// browser.mjs — drive the real dashboard in Debian's Chromium (playwright-core)
// for the end-to-end tests, against the real host (../integration/host.mjs).
//
//   const browser = await launchBrowser();
//   const host = await startHost({ args: ['--ingest-port', '0'] });
//   const page = await openDashboard(browser, host, { width: 1440, height: 900 });
//   await waitConnected(page);
//   ... page.vitals.errors / page.vitals.offsite / await plotData(page) ...
//   await screenshot(page, 'dashboard-1440x900');
//   after(async () => { await closeBrowsers(); await stopAllHosts(); });
//
// Nothing may leave the machine: every request (HTTP and WebSocket) whose host
// is not 127.0.0.1 / localhost is aborted and recorded in page.vitals.offsite,
// and Chromium's resolver maps every other host name to "not found".
//
// Paths come from the environment set by tests/e2e/CMakeLists.txt (as for the
// integration tests), plus VITALS_E2E_ARTIFACTS, where screenshots and figures
// go.  By hand: VITALS_BUILD_DIR=/path/to/build node --test tests/e2e/

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NODE_MODULES, WebSocket, ms, sleep, tempDir } from '../integration/host.mjs';

export * from '../integration/host.mjs';

export const CHROMIUM = process.env.VITALS_CHROMIUM || '/usr/bin/chromium';

export const ARTIFACTS_DIR = process.env.VITALS_E2E_ARTIFACTS ||
  (process.env.VITALS_BUILD_DIR
    ? path.join(process.env.VITALS_BUILD_DIR, 'tests', 'e2e-artifacts')
    : path.join(os.tmpdir(), 'vitals-e2e-artifacts'));

// playwright-core from the build tree (npm ci put it there, next to ws).
const requireFromBuild = createRequire(NODE_MODULES.replace(/\/*$/, '/'));
export const playwright = requireFromBuild('playwright-core');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Belt and braces: no host name but the loopback ones resolves.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

const browsers = new Set();

/**
 * Launches headless Chromium (/usr/bin/chromium, or VITALS_CHROMIUM) with a
 * fresh throw-away profile.  Close it with browser.close() or closeBrowsers().
 */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/install-deps.sh --test`);
  }
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: ms(60000),
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

/** Closes every browser launchBrowser() started; for `after` hooks. */
export async function closeBrowsers() {
  await Promise.all([...browsers].map((b) => b.close().catch(() => {})));
  browsers.clear();
}

/**
 * Headless Chromium with no Playwright at all, driven over the DevTools
 * protocol by hand: page loads as close to a user's browser as a test gets
 * (Playwright enables its domains and sets up its worlds in every page).
 *   const bare = await launchBareChromium();
 *   const value = await bare.load(url, { width, height, settle: 2000, evaluate: '...' });
 *   await bare.close();
 * load() opens `url` in a fresh browser context (Target.createTarget: no
 * domain is enabled in the page while it loads), waits `settle` ms, then
 * evaluates the expression `evaluate` once and returns its value.
 */
export async function launchBareChromium() {
  const profile = tempDir('vitals-e2e-bare-');
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, '--headless', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, '--no-default-browser-check', '--disable-extensions', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bare chromium did not start: ${stderr}`)), ms(30000));
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => reject(new Error(`bare chromium exited (${code}): ${stderr}`)));
  });
  child.stderr.resume();
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const n = ++id;
    pending.set(n, { resolve, reject, method });
    ws.send(JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) }));
  });
  return {
    version: async () => (await send('Browser.getVersion')).product,
    async load(pageUrl, { width = 1440, height = 900, settle = 2000, evaluate }) {
      const { browserContextId } = await send('Target.createBrowserContext', { disposeOnDetach: true });
      try {
        await send('Target.createTarget', { url: pageUrl, browserContextId, width, height });
        await sleep(settle);
        const { targetInfos } = await send('Target.getTargets');
        const target = targetInfos.find((t) => t.browserContextId === browserContextId && t.type === 'page');
        const { sessionId } = await send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
        const r = await send('Runtime.evaluate', { expression: evaluate, returnByValue: true }, sessionId);
        if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.text}`);
        return r.result.value;
      } finally {
        await send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
      }
    },
    async close() {
      ws.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    },
  };
}

/** True for URLs on 127.0.0.1 / localhost (and non-network schemes). */
export function isLocalUrl(url) {
  let u;
  try { u = new URL(url); } catch { return false; }
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return true;
  return u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
}

// Runs in the page before any of its scripts: keeps every uPlot instance the
// dashboard creates in window.__vitalsE2E.plots (the dashboard exposes no
// hook of its own), so tests can read the data a chart holds.  With
// `measure`, also times the page (performance.now(), ms since navigation):
//   firstData     the first chart drawn with data (after uPlot's draw),
//   chartFirst    [ms] when each chart was first drawn with data,
//   wsOpen, firstMessage  the first WebSocket's open and first message (hello),
//   uplotAt       the charting library defined window.uPlot,
//   adoptedAt     the dashboard's script took over the WebSocket that
//                 js/early-socket.js opened (read window.__vitalsEarlySocket),
//   frames        [{at, ms, charts}] each animation frame that redrew charts:
//                 the script time of the frame callback plus uPlot's drawing.
function installPageHooks(measure) {
  const hooks = {
    plots: [], setDataCalls: 0, firstData: null, chartFirst: [], frames: [], wsOpen: null, firstMessage: null,
    uplotAt: null, adoptedAt: null,
  };
  Object.defineProperty(window, '__vitalsE2E', { value: hooks });
  const withData = (data) => Array.isArray(data) && Array.isArray(data[0]) && data[0].length > 0 &&
    data.slice(1).some((col) => col.some((v) => v != null));
  let real;
  Object.defineProperty(window, 'uPlot', {
    configurable: true,
    enumerable: true,
    get() { return real; },
    set(v) {
      if (typeof v !== 'function') { real = v; return; }
      if (hooks.uplotAt === null) hooks.uplotAt = performance.now();
      real = new Proxy(v, {
        construct(target, args, newTarget) {
          const u = Reflect.construct(target, args, newTarget === real ? target : newTarget);
          hooks.plots.push(u);
          if (measure) {
            const setData = u.setData;
            let drawn = false;
            u.setData = function (...a) {
              hooks.setDataCalls++;
              const r = setData.apply(this, a);
              if (!drawn && withData(a[0])) {
                drawn = true;
                // uPlot draws in a microtask queued by setData: this one runs after it.
                queueMicrotask(() => {
                  const t = performance.now();
                  hooks.chartFirst.push(t);
                  if (hooks.firstData === null) hooks.firstData = t;
                });
              }
              return r;
            };
          }
          return u;
        },
      });
    },
  });
  if (measure) {
    let early;
    Object.defineProperty(window, '__vitalsEarlySocket', {
      configurable: true,
      get() {
        if (early && hooks.adoptedAt === null) hooks.adoptedAt = performance.now();
        return early;
      },
      set(v) { early = v; },
    });
    const NativeWebSocket = window.WebSocket;
    window.WebSocket = class extends NativeWebSocket {
      constructor(...args) {
        super(...args);
        // Added before the page's own listeners: runs before they parse.
        this.addEventListener('open', () => { if (hooks.wsOpen === null) hooks.wsOpen = performance.now(); });
        this.addEventListener('message', () => {
          if (hooks.firstMessage === null) hooks.firstMessage = performance.now();
        });
      }
    };
    const raf = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (cb) => raf((ts) => {
      const n0 = hooks.setDataCalls;
      const t0 = performance.now();
      try {
        cb(ts);
      } finally {
        queueMicrotask(() => {
          const charts = hooks.setDataCalls - n0;
          if (charts > 0) hooks.frames.push({ at: t0, ms: performance.now() - t0, charts });
        });
      }
    });
  }
}

/**
 * Opens the dashboard of `host` (a Host from startHost, or a base URL) in a
 * new context of `browser` with a `width`×`height` viewport.  The page gets
 * page.vitals = {
 *   errors:      [{kind: 'console'|'pageerror'|'http', text, url?, at}]
 *                console errors, uncaught exceptions, local responses >= 400,
 *   offsite:     [url]  requests to anywhere but 127.0.0.1 (all aborted),
 *   navigations: main-frame navigations so far (1 after the first load),
 *   websockets:  WebSockets the page opened so far,
 *   base:        the host's base URL,
 * }.
 * `at` is Date.now() when the entry was recorded (tests that stop the host
 * on purpose can ignore the WebSocket errors of that window).
 * `measure: true` times the page (see installPageHooks; read
 * window.__vitalsE2E with page.evaluate).  `intercept: false` watches
 * requests without pausing them (Playwright's routing stops every request
 * for a round trip to this process, which would be timed as the page's);
 * offsite requests are then recorded, not aborted, and the resolver rules
 * of CHROMIUM_ARGS still keep them from leaving the machine.  `hooks: false`
 * injects nothing into the page (no init script: window.__vitalsE2E and
 * plotData() are then missing), so the page runs as in a user's browser;
 * the perf test reads the dashboard's own performance marks that way.
 * Close with page.context().close().
 */
export async function openDashboard(browser, host, { width = 1440, height = 900, path: urlPath = '/', waitUntil = 'load', measure = false, intercept = true, hooks = true } = {}) {
  const base = typeof host === 'string' ? host.replace(/\/+$/, '') : host.base;
  const context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: 1,
    serviceWorkers: 'block',
  });
  const vitals = { errors: [], offsite: [], navigations: 0, websockets: 0, base };

  if (intercept) {
    await context.route((url) => !isLocalUrl(url.href), (route) => {
      vitals.offsite.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket((url) => !isLocalUrl(url.href), (ws) => {
      vitals.offsite.push(ws.url());
      ws.close({ code: 1008, reason: 'offsite' });
    });
  } else {
    context.on('request', (req) => { if (!isLocalUrl(req.url())) vitals.offsite.push(req.url()); });
  }
  if (hooks) await context.addInitScript(installPageHooks, measure);

  const page = await context.newPage();
  page.vitals = vitals;
  page.on('websocket', (ws) => {
    vitals.websockets++;
    if (!intercept && !isLocalUrl(ws.url())) vitals.offsite.push(ws.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      vitals.errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url, at: Date.now() });
    }
  });
  page.on('pageerror', (err) => {
    vitals.errors.push({ kind: 'pageerror', text: String(err && err.stack || err), at: Date.now() });
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && isLocalUrl(res.url())) {
      vitals.errors.push({ kind: 'http', text: `HTTP ${res.status()} ${res.url()}`, url: res.url(), at: Date.now() });
    }
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) vitals.navigations++;
  });
  page.setDefaultTimeout(ms(15000));
  await page.goto(base + urlPath, { waitUntil });
  return page;
}

/** Waits until the connection indicator says "connected" (hello received soon after). */
export async function waitConnected(page, timeout = 15000) {
  await page.waitForSelector('#conn[data-state="connected"]', { timeout: ms(timeout) });
}

/** Waits until #conn has data-state `state` ("connected", "connecting", "disconnected"). */
export async function waitConnState(page, state, timeout = 15000) {
  await page.waitForSelector(`#conn[data-state="${state}"]`, { timeout: ms(timeout) });
}

/**
 * What the page shows, read from the DOM the dashboard builds: {conn, notice
 * (null when hidden), cards: [{title, value, sub, level}], charts: [{title}]}.
 */
export function dashboardState(page) {
  return page.evaluate(() => {
    const text = (e) => (e ? e.textContent.trim() : null);
    const notice = document.getElementById('notice');
    return {
      conn: document.getElementById('conn')?.dataset.state ?? null,
      notice: notice && !notice.hidden
        ? { title: text(notice.querySelector('#notice-title')), text: text(notice.querySelector('#notice-text')) }
        : null,
      cards: [...document.querySelectorAll('#cards .card')].map((c) => ({
        title: text(c.querySelector('.card-title')),
        value: text(c.querySelector('.card-value')),
        sub: text(c.querySelector('.card-sub')),
        level: c.dataset.level ?? null,
      })),
      charts: [...document.querySelectorAll('#charts .panel')].map((p) => ({
        title: text(p.querySelector('.panel-title')),
      })),
    };
  });
}

/**
 * The data of every live uPlot chart in the page, in DOM order:
 * [{title, points (x values), series (y series), nonNull (y values not null),
 *   x0, x1 (the first and last x, seconds)}].
 */
export function plotData(page) {
  return page.evaluate(() => {
    const plots = (window.__vitalsE2E?.plots || []).filter((u) => u.root && u.root.isConnected);
    plots.sort((a, b) => (a.root.compareDocumentPosition(b.root) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    return plots.map((u) => {
      const panel = u.root.closest('.panel');
      const title = panel?.querySelector('.panel-title')?.textContent.trim() ?? null;
      const data = u.data || [];
      const ys = data.slice(1);
      return {
        title,
        points: data[0] ? data[0].length : 0,
        series: ys.length,
        nonNull: ys.reduce((n, col) => n + col.filter((v) => v != null).length, 0),
        x0: data[0] && data[0].length ? data[0][0] : null,
        x1: data[0] && data[0].length ? data[0][data[0].length - 1] : null,
      };
    });
  });
}

/** Saves a full-page PNG as ARTIFACTS_DIR/<name>.png and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/** Writes `obj` as ARTIFACTS_DIR/<name>.json and returns its path. */
export function writeArtifact(name, obj) {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n');
  return file;
}

/** Formats page.vitals.errors for an assertion message. */
export function describeErrors(errors) {
  return errors.map((e) => `[${e.kind}] ${e.text}`).join('\n');
}
