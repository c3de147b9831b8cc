// dashboard.test.mjs — the real dashboard in Chromium against the real host:
// cards and charts follow the descriptors, values move as samples arrive, a
// plugin dropped in shows up without a reload, the page survives a host
// restart on the same port with its history, nothing leaves 127.0.0.1, the
// console stays clean, and an empty host shows its empty state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';

import {
  EXAMPLES_DIR, PLUGINS_DIR, closeBrowsers, dashboardState, describeErrors, getJson, launchBrowser, ms,
  openDashboard, plotData, removeTempDirs, screenshot, sleep, startHost, stopAllHosts, tempDir, waitConnState,
  waitConnected, waitFor,
} from './browser.mjs';

// ---- what the descriptors say the page must show ----------------------

const DEFAULT_PRIORITY = 1000;
const prio = (d) => (typeof d.priority === 'number' && Number.isFinite(d.priority) ? d.priority : DEFAULT_PRIORITY);
const byPriority = (ds) => ds.map((d, i) => ({ d, i })).sort((a, b) => prio(a.d) - prio(b.d) || a.i - b.i).map((x) => x.d);
const titleOf = (d) => (typeof d.title === 'string' && d.title ? d.title : d.id);
const CHARTED = new Set(['gauge', 'counter', 'histogram']);

/** {cards: [title], charts: [title]} in display order, from descriptors alone (docs/protocol.md). */
function expectedLayout(descriptors) {
  const sorted = byPriority(descriptors);
  const cards = sorted.filter((d) => d.card === true).map(titleOf);
  const groups = new Map();
  for (const d of sorted) {
    if (typeof d.chart !== 'string' || d.chart === '' || !CHARTED.has(d.kind)) continue;
    if (!groups.has(d.chart)) groups.set(d.chart, { first: d, title: '' });
    const g = groups.get(d.chart);
    if (!g.title && typeof d.chart_title === 'string') g.title = d.chart_title;
  }
  const charts = [...groups.values()].map((g) => g.title || titleOf(g.first));
  return { cards, charts };
}

/**
 * Waits until the page shows exactly the cards and charts the host's
 * /api/v1/descriptors describe (re-read each time: the action plugin
 * registers metrics as names arrive); returns {descriptors, state}.
 */
async function waitLayoutMatches(page, host, what) {
  let last;
  try {
    return await waitFor(async () => {
      const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
      const want = expectedLayout(descriptors);
      const state = await dashboardState(page);
      const got = { cards: state.cards.map((c) => c.title), charts: state.charts.map((c) => c.title) };
      last = { want, got };
      return JSON.stringify(want) === JSON.stringify(got) ? { descriptors, state, want } : false;
    }, { timeout: 10000, what });
  } catch (e) {
    throw new Error(`${e.message}\nlast seen: ${JSON.stringify(last, null, 1)}`);
  }
}

const cardValue = async (page, title) =>
  (await dashboardState(page)).cards.find((c) => c.title === title)?.value ?? null;

// ---- StatsD over UDP ----------------------------------------------------

function udpSender(port) {
  const sock = dgram.createSocket('udp4');
  return {
    send: (lines) => new Promise((resolve, reject) => {
      sock.send(Buffer.from([].concat(lines).join('\n')), port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
    }),
    close: () => sock.close(),
  };
}

// -------------------------------------------------------------------------

describe('dashboard against the real host', () => {
  let browser, host, page, dir, udp;
  const pages = [];

  before(async () => {
    dir = tempDir('vitals-e2e-plugins-');
    for (const so of ['system.so', 'action.so', 'event.so']) {
      fs.copyFileSync(path.join(PLUGINS_DIR, so), path.join(dir, so));
    }
    [browser, host] = await Promise.all([
      launchBrowser(),
      startHost({ pluginsDir: dir, interval: 0.2, args: ['--ingest-port', '0'] }),
    ]);
    const health = await getJson(host.base, '/healthz');
    assert.ok(health.ingest && health.ingest.udp_port > 0, JSON.stringify(health));
    udp = udpSender(health.ingest.udp_port);
    page = await openDashboard(browser, host, { width: 1440, height: 900 });
    pages.push(page);
    await waitConnected(page);
  });

  after(async () => {
    udp?.close();
    await closeBrowsers();
    await stopAllHosts();
    removeTempDirs();
  });

  it('shows one card per card descriptor and one chart per chart group, titled from the descriptors', async () => {
    // A named action registers per-name metrics (a new chart) while we look.
    await udp.send(['action:12|ms|#name:checkout,ok:true', 'action.queue:3|g', 'event.queue:2|g']);
    const { descriptors, state, want } = await waitLayoutMatches(page, host, 'the layout of /api/v1/descriptors');
    assert.ok(want.cards.length >= 4, `cards: ${want.cards}`);
    assert.ok(want.charts.length >= 6, `charts: ${want.charts}`);
    assert.equal(state.notice, null, 'no notice once data is shown');
    assert.equal(state.conn, 'connected');
    // Every chart holds one series per plotted value of its members.  A chart's
    // plot is made on its first animation frame (web/js/chart.js), so a chart
    // that just arrived may still be a shell for a frame: wait for it.
    let plots = [];
    await waitFor(async () => {
      plots = await plotData(page);
      return JSON.stringify(plots.map((p) => p.title)) === JSON.stringify(want.charts);
    }, { timeout: 5000, what: `a plot in every chart (${want.charts.length})` }).catch(() => {});
    assert.deepEqual(plots.map((p) => p.title), want.charts);
    const series = new Map();
    for (const d of descriptors) {
      if (typeof d.chart !== 'string' || !CHARTED.has(d.kind)) continue;
      series.set(d.chart, (series.get(d.chart) || 0) + (d.kind === 'histogram' ? 3 : 1));
    }
    const chartKeys = [...new Map(byPriority(descriptors)
      .filter((d) => typeof d.chart === 'string' && d.chart && CHARTED.has(d.kind)).map((d) => [d.chart, 1])).keys()];
    assert.deepEqual(plots.map((p) => p.series), chartKeys.map((k) => series.get(k)));
    await waitFor(async () => (await plotData(page)).every((p) => p.points > 3),
      { timeout: 5000, what: 'every chart to hold several points' });
  });

  it('moves the values as samples arrive', async () => {
    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const queueTitle = titleOf(descriptors.find((d) => d.id === 'action.queue'));
    const rateTitle = titleOf(descriptors.find((d) => d.id === 'action.per_minute'));
    for (const n of [7, 42]) {
      await udp.send(`action.queue:${n}|g`);
      await waitFor(async () => (await cardValue(page, queueTitle)) === String(n),
        { timeout: 5000, what: `card "${queueTitle}" to show ${n} (shows ${await cardValue(page, queueTitle)})` });
    }
    const before = await cardValue(page, rateTitle);
    await udp.send(Array.from({ length: 30 }, (_, i) => `action:${5 + i}|ms|#name:search,ok:${i % 5 ? 'true' : 'false'}`));
    await waitFor(async () => (await cardValue(page, rateTitle)) !== before,
      { timeout: 5000, what: `card "${rateTitle}" to move from ${before}` });
    // The charts' newest point follows the host's clock.
    const x1 = (await plotData(page))[0].x1;
    await waitFor(async () => (await plotData(page))[0].x1 > x1, { timeout: 3000, what: 'a newer point in the first chart' });
  });

  it('adds a dropped-in plugin\'s card and chart without reloading', async () => {
    const origin = await page.evaluate(() => { window.__e2eMarker = 'still here'; return performance.timeOrigin; });
    fs.copyFileSync(path.join(EXAMPLES_DIR, 'loadavg.so'), path.join(dir, 'loadavg.so'));
    await waitFor(async () => (await getJson(host.base, '/api/v1/descriptors')).descriptors.some((d) => d.id === 'loadavg.load1'),
      { timeout: 10000, what: 'the host to load loadavg.so' });
    const { state, descriptors } = await waitLayoutMatches(page, host, 'the layout with loadavg');
    const load1 = descriptors.find((d) => d.id === 'loadavg.load1');
    assert.ok(state.cards.some((c) => c.title === titleOf(load1)), 'the loadavg card is shown');
    assert.ok(state.charts.some((c) => c.title === load1.chart_title), 'the loadavg chart is shown');
    await waitFor(async () => (await plotData(page)).find((p) => p.title === load1.chart_title)?.nonNull >= 6,
      { timeout: 5000, what: 'the loadavg chart to get values' });
    const after = await page.evaluate(() => ({ origin: performance.timeOrigin, marker: window.__e2eMarker,
      navs: performance.getEntriesByType('navigation').length }));
    assert.equal(after.origin, origin, 'same document (performance.timeOrigin)');
    assert.equal(after.marker, 'still here', 'same window');
    assert.equal(after.navs, 1);
    assert.equal(page.vitals.navigations, 1, 'no navigation since the first load');
    console.log('screenshot:', await screenshot(page, 'dashboard-1440x900'));
  });

  it('shows 390x844 (phone) with every card and chart', async () => {
    const phone = await openDashboard(browser, host, { width: 390, height: 844 });
    pages.push(phone);
    await waitConnected(phone);
    await waitLayoutMatches(phone, host, 'the layout on a phone');
    await waitFor(async () => (await plotData(phone)).every((p) => p.points > 3), { timeout: 5000, what: 'charts filled' });
    // Nothing sticks out sideways.
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the 390 px viewport`);
    console.log('screenshot:', await screenshot(phone, 'dashboard-390x844'));
    await phone.context().close();
  });

  let downFrom = 0, upAt = 0;
  it('shows the loss of the host, reconnects to a new host on the same port and keeps the history', async () => {
    const port = host.port;
    const beforeStop = await plotData(page);
    assert.ok(beforeStop.length > 0);
    downFrom = Date.now();
    host.signal('SIGTERM');
    const exit = await host.waitExit(10000);
    assert.equal(exit.code, 0, host.describe());
    await waitConnState(page, 'disconnected', 5000);
    const down = await dashboardState(page);
    assert.notEqual(down.conn, 'connected');
    console.log('screenshot:', await screenshot(page, 'dashboard-disconnected-1440x900'));
    // The page keeps trying on its own; let a few attempts fail first.
    await sleep(ms(2500));
    const stillDown = await page.evaluate(() => document.getElementById('conn').dataset.state);
    assert.notEqual(stillDown, 'connected');
    assert.equal((await plotData(page)).length, beforeStop.length, 'the charts stay while the host is away');

    host = await startHost({ pluginsDir: dir, interval: 0.2, args: ['--ingest-port', '0', '--port', String(port)] });
    assert.equal(host.port, port, 'the new host took the same port');
    const t = Date.now();
    await waitConnected(page, 15000);
    upAt = Date.now();
    console.log(`reconnected ${upAt - t} ms after the new host listened (down ${upAt - downFrom} ms)`);
    // The new host has not seen the action names yet: the page follows its
    // descriptors (the per-name chart goes), and every chart that persists
    // keeps the points it had and gains the new host's.
    await waitLayoutMatches(page, host, 'the layout of the new host');
    const persisting = (now) => beforeStop.filter((b) => now.some((p) => p.title === b.title));
    let afterUp;
    await waitFor(async () => {
      afterUp = await plotData(page);
      const both = persisting(afterUp);
      return both.length > 0 && both.every((b) => afterUp.find((p) => p.title === b.title).x1 > b.x1 + 1);
    }, { timeout: 10000, what: 'samples from the new host in every chart' }).catch((e) => {
      throw new Error(`${e.message}\nbefore: ${JSON.stringify(beforeStop)}\nnow: ${JSON.stringify(afterUp)}`);
    });
    const both = persisting(afterUp);
    assert.ok(both.length >= beforeStop.length - 1, `charts kept: ${both.map((b) => b.title)}`);
    for (const b of both) {
      const a = afterUp.find((p) => p.title === b.title);
      assert.equal(a.x0, b.x0, `chart "${a.title}" keeps its oldest point`);
      assert.ok(a.points > b.points, `chart "${a.title}": ${a.points} points after, ${b.points} before`);
    }
    assert.equal(page.vitals.navigations, 1, 'no reload');
  });

  it('sent nothing beyond 127.0.0.1', () => {
    for (const p of pages) assert.deepEqual(p.vitals.offsite, [], 'off-site requests');
  });

  it('logged no console errors (besides refused reconnects while the host was down)', () => {
    for (const p of pages) {
      const bad = p.vitals.errors.filter((e) => !(e.kind === 'console' && downFrom && e.at >= downFrom && e.at <= upAt &&
        /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed/.test(e.text)));
      assert.equal(bad.length, 0, describeErrors(bad));
    }
  });
});

describe('dashboard of an empty host', () => {
  let browser, host, page;
  after(async () => {
    await closeBrowsers();
    await stopAllHosts();
    removeTempDirs();
  });

  it('says that no plugins are loaded', async () => {
    const empty = tempDir('vitals-e2e-empty-');
    const config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, '[ingest]\nenabled = false\n');
    [browser, host] = await Promise.all([
      launchBrowser(),
      startHost({ pluginsDir: empty, config, interval: 0.2, args: ['--ingest-port', '0'] }),
    ]);
    assert.deepEqual((await getJson(host.base, '/api/v1/descriptors')).descriptors, []);
    page = await openDashboard(browser, host, { width: 1440, height: 900 });
    await waitConnected(page);
    const state = await waitFor(async () => {
      const s = await dashboardState(page);
      return s.notice && /no plugins/i.test(s.notice.title) ? s : false;
    }, { timeout: 5000, what: 'the empty-state notice' });
    assert.match(state.notice.text, /plugin/i);
    assert.deepEqual(state.cards, []);
    assert.deepEqual(state.charts, []);
    const hidden = await page.evaluate(() => ['cards', 'charts'].map((id) => {
      const e = document.getElementById(id);
      return !e || e.hidden || e.getClientRects().length === 0;
    }));
    assert.deepEqual(hidden, [true, true], 'the empty card and chart sections are hidden');
    console.log('screenshot:', await screenshot(page, 'dashboard-empty-1440x900'));
    assert.deepEqual(page.vitals.offsite, []);
    assert.equal(page.vitals.errors.length, 0, describeErrors(page.vitals.errors));
  });
});
