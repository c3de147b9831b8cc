// perf.test.mjs — how fast the dashboard draws a full host: 300 samples of
// history over ~90 metrics (60 of them per-name action metrics fed over
// UDP).  Reports the figures (stdout and <artefacts>/perf.json); asserts
// only that the page works, never a timing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';

import {
  closeBrowsers, describeErrors, getJson, launchBrowser, openDashboard, plotData, removeTempDirs, sleep,
  startHost, stopAllHosts, tempDir, waitConnected, waitFor, WebSocket, withTimeout, writeArtifact,
} from './browser.mjs';

const HISTORY = 300;
const NAMES = 30;          // top_names: 30 names → 60 per-name metrics
const INTERVAL = 0.05;     // 300 samples in 15 s
const LOADS = 3;           // page loads measured
const LIVE_MS = 3000;      // live updates measured per load

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};
const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

describe('dashboard performance with a full host', () => {
  let browser, host, sock, feeder;

  before(async () => {
    const config = path.join(tempDir('vitals-e2e-perf-'), 'vitals.ini');
    fs.writeFileSync(config, `[host]\nhistory = ${HISTORY}\n\n[plugin:action]\ntop_names = ${NAMES}\n`);
    [browser, host] = await Promise.all([
      launchBrowser(),
      startHost({ config, interval: INTERVAL, args: ['--ingest-port', '0'] }),
    ]);
    const { ingest } = await getJson(host.base, '/healthz');
    sock = dgram.createSocket('udp4');
    let round = 0;
    const feed = () => {
      // Every name, every 100 ms, with durations and outcomes that vary.
      const lines = Array.from({ length: NAMES }, (_, i) =>
        `action:${(5 + ((i * 7 + round * 13) % 90))}|ms|#name:op-${String(i).padStart(2, '0')},ok:${(i + round) % 9 ? 'true' : 'false'}`);
      lines.push(`action.queue:${round % 17}|g`, `event.queue:${round % 11}|g`, `event:${round % 40}|ms|#ok:true`);
      round++;
      for (let i = 0; i < lines.length; i += 10) {
        sock.send(Buffer.from(lines.slice(i, i + 10).join('\n')), ingest.udp_port, '127.0.0.1');
      }
    };
    feed();
    feeder = setInterval(feed, 100);
    // Wait until the host holds HISTORY samples with every name registered.
    await waitFor(async () => {
      const h = await getJson(host.base, '/healthz');
      return h.seq >= HISTORY + 5;
    }, { timeout: 60000, every: 250, what: `${HISTORY} samples of history` });
  });

  after(async () => {
    clearInterval(feeder);
    sock?.close();
    await closeBrowsers();
    await stopAllHosts();
    removeTempDirs();
  });

  it(`draws ${HISTORY} samples of ~${2 * NAMES + 30} metrics; reports load and update times`, async () => {
    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const perName = descriptors.filter((d) => d.id.startsWith('action.by_name.') && d.id !== 'action.by_name.other.count');
    assert.ok(perName.length >= 2 * NAMES, `per-name metrics: ${perName.length}`);

    // The hello a page receives first: descriptors plus the whole history.
    const ws = new WebSocket(host.wsUrl);
    const helloBytes = await withTimeout(new Promise((resolve, reject) => {
      ws.once('message', (data) => resolve(data.length));
      ws.once('error', reject);
    }), 10000, 'the hello message');
    ws.terminate();

    const loads = [];
    for (let n = 0; n < LOADS; n++) {
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
      const timing = await page.evaluate((from) => {
        const h = window.__vitalsE2E;
        const nav = performance.getEntriesByType('navigation')[0];
        return {
          firstChartMs: h.firstData,
          wsOpenMs: h.wsOpen,
          helloMs: h.firstMessage,
          allChartsMs: h.chartFirst.length ? Math.max(...h.chartFirst) : null,
          chartsWithData: h.chartFirst.length,
          domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : null,
          loadMs: nav ? nav.loadEventEnd : null,
          liveFrames: h.frames.slice(from),
        };
      }, from);
      const frameMs = timing.liveFrames.map((f) => f.ms);
      const cdpScript = (m1.ScriptDuration - m0.ScriptDuration) * 1000;
      const cdpTask = (m1.TaskDuration - m0.TaskDuration) * 1000;
      loads.push({
        domContentLoadedMs: round(timing.domContentLoadedMs),
        wsOpenMs: round(timing.wsOpenMs),
        helloArrivedMs: round(timing.helloMs),
        firstChartMs: round(timing.firstChartMs),
        helloToFirstChartMs: round(timing.firstChartMs - timing.helloMs),
        allChartsMs: round(timing.allChartsMs),
        chartsWithData: timing.chartsWithData,
        charts,
        maxPoints,
        loadMs: round(timing.loadMs),
        liveFrames: frameMs.length,
        liveUpdateMedianMs: round(median(frameMs), 2),
        liveUpdateP95Ms: round(pct(frameMs, 95), 2),
        liveUpdateMaxMs: round(Math.max(...frameMs), 2),
        cdpScriptMsPerFrame: frameMs.length ? round(cdpScript / frameMs.length, 2) : null,
        cdpTaskMsPerFrame: frameMs.length ? round(cdpTask / frameMs.length, 2) : null,
        cdpScriptMsPerSecond: round(cdpScript / (LIVE_MS / 1000), 1),
      });
      assert.ok(frameMs.length > 0, 'the charts were redrawn while live');
      assert.deepEqual(page.vitals.offsite, []);
      // The socket opened in <head> is the one the dashboard uses.
      assert.equal(page.vitals.websockets, 1, 'one WebSocket per page load');
      assert.equal(page.vitals.errors.length, 0, describeErrors(page.vitals.errors));
      await page.context().close();
    }

    const report = {
      what: 'the vitals dashboard in headless Chromium (software rendering), 1440x900',
      chromium: browser.version(),
      host: { interval: INTERVAL, history: HISTORY, metrics: descriptors.length, perNameMetrics: perName.length, helloBytes },
      notes: [
        'wsOpenMs / helloArrivedMs: the WebSocket opened / its first message (the hello) was dispatched',
        'firstChartMs / allChartsMs: performance.now() (ms since navigation start) once the first / last chart ' +
          'was drawn with data (after uPlot\'s draw microtask), measured by a uPlot hook the test injects',
        'liveUpdate*: script time of each animation frame that redrew the charts (the dashboard\'s rAF callback ' +
          'plus uPlot\'s drawing microtasks), over ' + LIVE_MS + ' ms of live samples at ' + (1 / INTERVAL) + ' per second',
        'cdp*: Chromium\'s Performance.getMetrics ScriptDuration / TaskDuration over the same span',
        'requests are watched, not intercepted: Playwright routing pauses each one for a round trip to the test ' +
          'process (the dashboard test intercepts and aborts anything offsite)',
      ],
      loads,
      summary: {
        firstChartMsMedian: round(median(loads.map((l) => l.firstChartMs))),
        allChartsMsMedian: round(median(loads.map((l) => l.allChartsMs))),
        helloToFirstChartMsMedian: round(median(loads.map((l) => l.helloToFirstChartMs))),
        liveUpdateMsMedian: round(median(loads.map((l) => l.liveUpdateMedianMs)), 2),
        liveUpdateMsP95Median: round(median(loads.map((l) => l.liveUpdateP95Ms)), 2),
      },
    };
    const file = writeArtifact('perf', report);
    console.log(JSON.stringify(report.summary));
    console.table(loads);
    console.log(`figures: ${file}`);
  });
});
