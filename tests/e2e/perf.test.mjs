// perf.test.mjs — how fast the dashboard draws a full host, in two cases:
//   issue   issue 5's own: 60 metrics and 300 samples of history (18 action
//           names with metrics of their own, a 19th counted as "other");
//   stress  ~90 metrics (30 names: 60 per-name metrics) and 300 samples.
// Both are fed over UDP at 20 samples a second.  Reports the figures (stdout
// and <artefacts>/perf.json); asserts only that the page works, never a
// timing.  Each measured load is three page loads, each in a fresh context:
//   clean   Playwright with nothing injected, timed by the dashboard's own
//           User Timing marks (vitals:boot / hello / first-chart /
//           charts-in-view / all-charts): the headline figures;
//   bare    the same marks in a second Chromium driven without Playwright
//           (launchBareChromium; VITALS_PERF_BARE=1 adds it);
//   hooked  the test's init script (browser.mjs installPageHooks): the
//           WebSocket's open and first message, uPlot's readiness, and the
//           live updates' script time.
// VITALS_PERF_CASES=issue runs one case; VITALS_PERF_LOADS=N measures N loads.
//
// VITALS_PERF_WEB_ROOT=DIR serves the page from DIR (the host's --web-root)
// instead of the embedded one: two dashboards compared on one host binary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';

import {
  closeBrowsers, describeErrors, getJson, launchBareChromium, launchBrowser, openDashboard, plotData, removeTempDirs, sleep,
  startHost, stopAllHosts, tempDir, waitConnected, waitFor, WebSocket, withTimeout, writeArtifact,
} from './browser.mjs';

const HISTORY = 300;
const INTERVAL = 0.05;     // 300 samples in 15 s
const LOADS = Number(process.env.VITALS_PERF_LOADS) || 3;   // page loads measured per case (each: one clean, one hooked)
const LIVE_MS = 3000;      // live updates measured per load
const WEB_ROOT = process.env.VITALS_PERF_WEB_ROOT || null;

const ALL_CASES = [
  // 23 metrics of the host and its plugins + 2 per name (18) + "other": 60.
  { name: 'issue', what: 'issue 5: 60 metrics, 300 samples', topNames: 18, names: 19, metrics: 60 },
  { name: 'stress', what: 'stress: 60 per-name metrics among ~90, 300 samples', topNames: 30, names: 30 },
];
// VITALS_PERF_CASES=issue (a comma-separated list) runs only those cases.
const CASES = process.env.VITALS_PERF_CASES
  ? ALL_CASES.filter((c) => process.env.VITALS_PERF_CASES.split(',').includes(c.name))
  : ALL_CASES;

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};
const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Sends `names` action names (and the queues) to the host's StatsD port every 100 ms. */
function startFeeder(sock, port, names) {
  let n = 0;
  const feed = () => {
    // Every name, every 100 ms, with durations and outcomes that vary.
    const lines = Array.from({ length: names }, (_, i) =>
      `action:${(5 + ((i * 7 + n * 13) % 90))}|ms|#name:op-${String(i).padStart(2, '0')},ok:${(i + n) % 9 ? 'true' : 'false'}`);
    lines.push(`action.queue:${n % 17}|g`, `event.queue:${n % 11}|g`, `event:${n % 40}|ms|#ok:true`);
    n++;
    for (let i = 0; i < lines.length; i += 10) {
      sock.send(Buffer.from(lines.slice(i, i + 10).join('\n')), port, '127.0.0.1');
    }
  };
  feed();
  return setInterval(feed, 100);
}

/**
 * One page load as a user's browser sees it: nothing injected into the page
 * (no init script, no exposed binding, requests watched and not routed, no
 * in-page polling while it loads), timed by the dashboard's own User Timing
 * marks (vitals:boot, vitals:hello, vitals:first-chart, vitals:all-charts),
 * read once the page has settled.
 */
async function measureCleanLoad(browser, host) {
  const page = await openDashboard(browser, host, { width: 1440, height: 900, hooks: false, waitUntil: 'commit', intercept: false });
  const read = () => page.evaluate(READ_MARKS);
  // Polled from here, not in the page (a waitForFunction would run in every frame).
  await sleep(SETTLE_MS);
  let t = await read();
  for (let i = 0; i < 20 && t.allCharts === null; i++) {
    await sleep(250);
    t = await read();
  }
  assert.deepEqual(page.vitals.offsite, []);
  assert.equal(page.vitals.errors.length, 0, describeErrors(page.vitals.errors));
  await page.context().close();
  return markFigures(t);
}

/** The same in Chromium with no Playwright at all (launchBareChromium). */
async function measureBareLoad(bare, host) {
  return markFigures(await bare.load(`${host.base}/`, { width: 1440, height: 900, settle: SETTLE_MS + 500, evaluate: READ_MARKS }));
}

const SETTLE_MS = 2000;

// Evaluated in the page once it settled: the navigation entry and the marks.
const READ_MARKS = `(() => {
  const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null;
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = (name) => performance.getEntriesByType('paint').find((e) => e.name === name)?.startTime ?? null;
  const res = (end) => performance.getEntriesByType('resource').find((e) => e.name.endsWith(end)) || null;
  const scripts = ['/boot.js', '/uPlot.iife.min.js', '/app.js'].map(res);
  return {
    responseEnd: nav ? nav.responseEnd : null,
    bootRequested: scripts[0] ? scripts[0].startTime : null,
    scriptsFetched: scripts.every(Boolean) ? Math.max(...scripts.map((e) => e.responseEnd)) : null,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    fcp: paint('first-contentful-paint'),
    boot: mark('vitals:boot'),
    hello: mark('vitals:hello'),
    firstChart: mark('vitals:first-chart'),
    inView: mark('vitals:charts-in-view'),
    allCharts: mark('vitals:all-charts'),
  };
})()`;

function markFigures(t) {
  assert.ok(t.firstChart !== null, 'the page marked vitals:first-chart');
  return {
    responseEndMs: round(t.responseEnd),
    bootRequestedMs: round(t.bootRequested),
    scriptsFetchedMs: round(t.scriptsFetched),
    bootMs: round(t.boot),
    domContentLoadedMs: round(t.domContentLoaded),
    firstContentfulPaintMs: round(t.fcp),
    helloMs: round(t.hello),
    firstChartMs: round(t.firstChart),
    chartsInViewMs: round(t.inView),
    allChartsMs: round(t.allCharts),
    helloToFirstChartMs: round(t.firstChart - t.hello),
  };
}

/** One page load, measured: timings from navigation start, then LIVE_MS of live updates. */
async function measureLoad(browser, host) {
  const page = await openDashboard(browser, host, { width: 1440, height: 900, measure: true, waitUntil: 'commit', intercept: false });
  await waitConnected(page);
  await page.waitForFunction(() => window.__vitalsE2E.firstData !== null, null, { timeout: 15000 });
  const charts = await page.evaluate(() => document.querySelectorAll('#charts .panel').length);
  await page.waitForFunction((n) => window.__vitalsE2E.chartFirst.length >= n, charts, { timeout: 15000 })
    .catch(() => {}); // a chart with no value at all is reported, not fatal
  const plots = await plotData(page);
  assert.ok(plots.length === charts && charts > 5, `charts: ${charts}`);
  const maxPoints = Math.max(...plots.map((p) => p.points));
  assert.ok(maxPoints >= HISTORY - 5, `the charts hold the history: ${maxPoints} points`);

  // Live updates: the frames that redraw the charts, and Chromium's own
  // count of script time over the same span.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const from = await page.evaluate(() => window.__vitalsE2E.frames.length);
  const m0 = await metrics();
  await sleep(LIVE_MS);
  const m1 = await metrics();
  const t = await page.evaluate((from) => {
    const h = window.__vitalsE2E;
    const nav = performance.getEntriesByType('navigation')[0];
    const paint = (name) => performance.getEntriesByType('paint').find((e) => e.name === name)?.startTime ?? null;
    const loaded = performance.getEntriesByType('resource').filter((e) => !['fetch', 'xmlhttprequest'].includes(e.initiatorType));
    const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null;
    return {
      boot: mark('vitals:boot'),
      markFirstChart: mark('vitals:first-chart'),
      responseEnd: nav ? nav.responseEnd : null,
      domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
      load: nav ? nav.loadEventEnd : null,
      firstPaint: paint('first-paint'),
      firstContentfulPaint: paint('first-contentful-paint'),
      uplot: h.uplotAt,
      adopted: h.adoptedAt,
      wsOpen: h.wsOpen,
      hello: h.firstMessage,
      firstChart: h.firstData,
      allCharts: h.chartFirst.length ? Math.max(...h.chartFirst) : null,
      chartsWithData: h.chartFirst.length,
      requests: loaded.length + 1,
      liveFrames: h.frames.slice(from),
    };
  }, from);
  const frameMs = t.liveFrames.map((f) => f.ms);
  const cdpScript = (m1.ScriptDuration - m0.ScriptDuration) * 1000;
  const cdpTask = (m1.TaskDuration - m0.TaskDuration) * 1000;
  const load = {
    bootMs: round(t.boot),
    domContentLoadedMs: round(t.domContentLoaded),
    uplotReadyMs: round(t.uplot),
    scriptsRanMs: round(t.adopted),
    wsOpenMs: round(t.wsOpen),
    helloArrivedMs: round(t.hello),
    firstChartMs: round(t.firstChart),
    markFirstChartMs: round(t.markFirstChart),
    helloToFirstChartMs: round(t.firstChart - Math.max(t.hello, t.adopted ?? 0)),
    allChartsMs: round(t.allCharts),
    chartsWithData: t.chartsWithData,
    charts,
    maxPoints,
    firstContentfulPaintMs: round(t.firstContentfulPaint),
    loadMs: round(t.load),
    requests: t.requests,
    liveFrames: frameMs.length,
    liveUpdateMedianMs: round(median(frameMs), 2),
    liveUpdateP95Ms: round(pct(frameMs, 95), 2),
    liveUpdateMaxMs: round(Math.max(...frameMs), 2),
    cdpScriptMsPerFrame: frameMs.length ? round(cdpScript / frameMs.length, 2) : null,
    cdpTaskMsPerFrame: frameMs.length ? round(cdpTask / frameMs.length, 2) : null,
    cdpScriptMsPerSecond: round(cdpScript / (LIVE_MS / 1000), 1),
  };
  assert.ok(frameMs.length > 0, 'the charts were redrawn while live');
  assert.deepEqual(page.vitals.offsite, []);
  // The socket opened in <head> is the one the dashboard uses.
  assert.equal(page.vitals.websockets, 1, 'one WebSocket per page load');
  assert.equal(page.vitals.errors.length, 0, describeErrors(page.vitals.errors));
  await page.context().close();
  return load;
}

/** A host holding HISTORY samples of `c`'s metrics, measured LOADS times; the case's report. */
async function runCase(browser, bare, c) {
  const config = path.join(tempDir('vitals-e2e-perf-'), 'vitals.ini');
  fs.writeFileSync(config, `[host]\nhistory = ${HISTORY}\n\n[plugin:action]\ntop_names = ${c.topNames}\n`);
  const args = ['--ingest-port', '0', ...(WEB_ROOT ? ['--web-root', WEB_ROOT] : [])];
  const host = await startHost({ config, interval: INTERVAL, args });
  const sock = dgram.createSocket('udp4');
  let feeder = null;
  try {
    const { ingest } = await getJson(host.base, '/healthz');
    feeder = startFeeder(sock, ingest.udp_port, c.names);
    // Wait until the host holds HISTORY samples with every name registered.
    await waitFor(async () => (await getJson(host.base, '/healthz')).seq >= HISTORY + 5,
      { timeout: 60000, every: 250, what: `${HISTORY} samples of history` });

    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const perName = descriptors.filter((d) => d.id.startsWith('action.by_name.') && d.id !== 'action.by_name.other.count');
    assert.ok(perName.length >= 2 * Math.min(c.names, c.topNames), `per-name metrics: ${perName.length}`);
    if (c.metrics) assert.equal(descriptors.length, c.metrics, `metrics: ${descriptors.map((d) => d.id).join(' ')}`);

    // The hello a page receives first: descriptors plus the whole history.
    const ws = new WebSocket(host.wsUrl);
    const helloBytes = await withTimeout(new Promise((resolve, reject) => {
      ws.once('message', (data) => resolve(data.length));
      ws.once('error', reject);
    }), 10000, 'the hello message');
    ws.terminate();

    const loads = [];
    const clean = [];
    const bareLoads = [];
    for (let n = 0; n < LOADS; n++) {
      clean.push(await measureCleanLoad(browser, host));
      if (bare) bareLoads.push(await measureBareLoad(bare, host));
      loads.push(await measureLoad(browser, host));
    }
    const med = (key, d = 1) => round(median(loads.map((l) => l[key])), d);
    const mmed = (list) => Object.fromEntries(['responseEndMs', 'scriptsFetchedMs', 'bootMs', 'domContentLoadedMs', 'helloMs', 'firstChartMs', 'chartsInViewMs', 'allChartsMs',
      'helloToFirstChartMs'].map((k) => [`${k}Median`, round(median(list.map((l) => l[k])))]));
    return {
      case: c.name,
      what: c.what,
      host: { interval: INTERVAL, history: HISTORY, metrics: descriptors.length, perNameMetrics: perName.length, helloBytes },
      loads,
      marks: mmed(clean),
      cleanLoads: clean,
      bareMarks: bare ? mmed(bareLoads) : null,
      bareLoads,
      summary: {
        bootMsMedian: med('bootMs'),
        domContentLoadedMsMedian: med('domContentLoadedMs'),
        helloArrivedMsMedian: med('helloArrivedMs'),
        firstChartMsMedian: med('firstChartMs'),
        allChartsMsMedian: med('allChartsMs'),
        helloToFirstChartMsMedian: med('helloToFirstChartMs'),
        liveUpdateMsMedian: med('liveUpdateMedianMs', 2),
        liveUpdateMsP95Median: med('liveUpdateP95Ms', 2),
      },
    };
  } finally {
    clearInterval(feeder);
    sock.close();
    await host.kill();
  }
}

describe('dashboard performance with a full host', () => {
  let browser;
  let bare = null;
  const reports = [];

  before(async () => {
    browser = await launchBrowser();
    // VITALS_PERF_BARE=1 adds loads in a Chromium without Playwright (slow: CI leaves them out).
    if (process.env.VITALS_PERF_BARE === '1') bare = await launchBareChromium();
  });

  after(async () => {
    await closeBrowsers();
    if (bare) await bare.close();
    await stopAllHosts();
    removeTempDirs();
    if (!reports.length) return;
    const report = {
      what: 'the vitals dashboard in headless Chromium (software rendering), 1440x900',
      chromium: browser.version(),
      page: WEB_ROOT ? `from ${WEB_ROOT} (--web-root)` : 'embedded',
      loadavg: (await import('node:os')).loadavg().map((x) => round(x, 2)),
      notes: [
        'every *Ms but the live ones: performance.now() in the page, i.e. ms since navigation start',
        'marks / cleanLoads: a page load with nothing injected (no init script, requests not routed, read once ' +
          'settled), timed by the dashboard\'s own User Timing marks: vitals:boot (its first script ran), ' +
          'vitals:hello (the hello received and parsed), vitals:first-chart (the first chart drawn with data painted: ' +
          'a task queued by the next frame ran), ' +
          'vitals:charts-in-view (the charts in view painted), vitals:all-charts (every chart drawn once); ' +
          'the headline figures. responseEndMs: the page\'s own ' +
          'response; scriptsFetchedMs: the last of boot.js, uPlot and app.js fetched (resource timing)',
        'bareMarks / bareLoads: the same marks in a second headless Chromium driven over the DevTools protocol ' +
          'by hand (no Playwright: the page opened with Target.createTarget, nothing enabled in it while it loads)',
        'loads: page loads with the test\'s hooks injected (init script: a uPlot proxy, a WebSocket subclass, a ' +
          'requestAnimationFrame wrapper), for the figures the page does not mark and the live updates; bootMs ' +
          'there minus bootMs of the clean loads is what the hooks cost before the page\'s first script',
        'domContentLoadedMs: the navigation entry\'s domContentLoadedEventEnd (every deferred and module script has run)',
        'uplotReadyMs: the charting library defined window.uPlot; scriptsRanMs: the dashboard\'s script took over ' +
          'the WebSocket js/early-socket.js opened (the end of its start-up)',
        'wsOpenMs / helloArrivedMs: the WebSocket opened / its first message (the hello) was dispatched',
        'firstChartMs / allChartsMs: the first / last chart was drawn with data (after uPlot\'s draw microtask), ' +
          'measured by a uPlot hook the test injects; helloToFirstChartMs counts from the later of hello and scriptsRan',
        'liveUpdate*: script time of each animation frame that redrew the charts (the dashboard\'s rAF callback ' +
          `plus uPlot's drawing microtasks), over ${LIVE_MS} ms of live samples at ${1 / INTERVAL} per second`,
        'cdp*: Chromium\'s Performance.getMetrics ScriptDuration / TaskDuration over the same span',
        'requests: the page and the files it loaded (scripts, modules, stylesheets, icon)',
        'requests are watched, not intercepted: Playwright routing pauses each one for a round trip to the test ' +
          'process (the dashboard test intercepts and aborts anything offsite)',
      ],
      cases: reports,
    };
    const file = writeArtifact('perf', report);
    for (const r of reports) {
      console.log(`${r.case} (${r.host.metrics} metrics, ${r.host.history} samples, hello ${r.host.helloBytes} bytes): ` +
        JSON.stringify(r.summary));
      console.log(`${r.case}, marks of clean loads (nothing injected): ${JSON.stringify(r.marks)}`);
      console.table(r.cleanLoads);
      if (r.bareMarks) console.log(`${r.case}, marks in Chromium without Playwright: ${JSON.stringify(r.bareMarks)}`);
      console.table(r.loads);
    }
    console.log(`loadavg ${report.loadavg.join(' ')}; figures: ${file}`);
  });

  for (const c of CASES) {
    it(`${c.what}: reports load and update times`, async () => {
      reports.push(await runCase(browser, bare, c));
    });
  }
});
