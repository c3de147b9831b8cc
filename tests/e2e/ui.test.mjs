// ui.test.mjs — the dashboard as people use it, in Chromium against the real
// host: the theme follows the system, toggles and survives a reload; the
// time window changes every chart's x range; pause freezes the charts while
// data keeps arriving and resume catches up; a legend entry hides its series
// by click and by keyboard; every control is reachable with Tab and shows
// its focus; cards and charts have text alternatives; the phone layout does
// not scroll sideways; and the page logs no error and fetches nothing remote.
//
// It reads the page through the dashboard's own read-only hook,
// window.__vitals.{charts, cards, state}(), and its performance entries
// ("vitals:first-chart", "vitals:update").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  closeBrowsers, describeErrors, launchBrowser, ms, openDashboard, screenshot, sleep, startHost,
  stopAllHosts, waitConnected, waitFor,
} from './browser.mjs';

const charts = (page) => page.evaluate(() => window.__vitals.charts());
const uiState = (page) => page.evaluate(() => window.__vitals.state());
const theme = (page) => page.evaluate(() => document.documentElement.getAttribute('data-theme'));

/** Waits until the page has drawn data in every chart, and returns the charts. */
async function waitCharts(page) {
  return waitFor(async () => {
    const list = await page.evaluate(() => (window.__vitals ? window.__vitals.charts() : []));
    return list.length > 0 && list.every((c) => c.points > 1) ? list : false;
  }, { timeout: 15000, what: 'charts with data' });
}

async function newPage(browser, host, size = { width: 1440, height: 900 }) {
  const page = await openDashboard(browser, host, size);
  await waitConnected(page);
  await waitCharts(page);
  return page;
}

function assertClean(page) {
  assert.deepEqual(page.vitals.offsite, [], 'requests left 127.0.0.1');
  assert.equal(page.vitals.errors.length, 0, describeErrors(page.vitals.errors));
}

describe('dashboard controls and accessibility', () => {
  let browser, host;

  before(async () => {
    [browser, host] = await Promise.all([launchBrowser(), startHost({ args: ['--ingest-port', '0'] })]);
  });

  after(async () => {
    await closeBrowsers();
    await stopAllHosts();
  });

  it('follows the system theme, toggles, and keeps the choice across a reload', async () => {
    const page = await newPage(browser, host);
    try {
      // No stored choice: the system's preference rules, also when it changes.
      await page.emulateMedia({ colorScheme: 'light' });
      await waitFor(async () => (await theme(page)) === 'light', { what: 'the light theme from the system' });
      await page.emulateMedia({ colorScheme: 'dark' });
      await waitFor(async () => (await theme(page)) === 'dark', { what: 'the dark theme from the system' });
      assert.equal(await page.getAttribute('#theme', 'aria-pressed'), 'true');
      assert.ok(await page.getAttribute('#theme', 'aria-label'), 'the theme button has a label');
      const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      console.log('screenshot:', await screenshot(page, 'ui-dark-1440x900'));

      // The button: by keyboard as well as by mouse.
      await page.focus('#theme');
      await page.keyboard.press('Space');
      assert.equal(await theme(page), 'light');
      assert.equal(await page.getAttribute('#theme', 'aria-pressed'), 'false');
      const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(lightBg, darkBg, 'the page background changes with the theme');
      assert.equal(await page.evaluate(() => localStorage.getItem('vitals-theme')), 'light');
      // The charts were repainted, not lost.
      const after = await waitCharts(page);
      assert.ok(after.every((c) => c.points > 1));
      console.log('screenshot:', await screenshot(page, 'ui-light-1440x900'));

      // A stored choice beats the system, and survives a reload.
      await page.reload();
      await waitConnected(page);
      assert.equal(await theme(page), 'light');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.emulateMedia({ colorScheme: 'dark' });
      await sleep(ms(200));
      assert.equal(await theme(page), 'light', 'an explicit choice is not overridden by the system');
      await page.click('#theme');
      assert.equal(await theme(page), 'dark');
      await page.reload();
      await waitConnected(page);
      assert.equal(await theme(page), 'dark');
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('the window selector sets the x range of every chart', async () => {
    const page = await newPage(browser, host);
    try {
      const spans = async () => (await charts(page)).map((c) => c.xMax - c.xMin);
      const pressed = () => page.$$eval('#window [data-window]', (bs) =>
        bs.filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => b.dataset.window));

      assert.deepEqual(await pressed(), ['60']);
      for (const s of await spans()) assert.ok(Math.abs(s - 60) < 0.5, `1 min window spans ${s} s`);

      await page.click('#window [data-window="300"]');
      assert.deepEqual(await pressed(), ['300']);
      for (const s of await spans()) assert.ok(Math.abs(s - 300) < 0.5, `5 min window spans ${s} s`);

      await page.click('#window [data-window="all"]');
      assert.deepEqual(await pressed(), ['all']);
      const [list, held] = await page.evaluate(() => [window.__vitals.charts(), window.__vitals.state()]);
      for (const c of list) {
        assert.ok(c.xMin <= c.x0 + 1e-6 && c.xMax >= c.x1 - 1e-6, `${c.title}: all data in view`);
        assert.ok(Math.abs(c.xMin - held.range[0]) < 1e-6, `${c.title}: starts at the oldest sample held`);
      }

      // The choice is remembered.
      await page.reload();
      await waitCharts(page);
      assert.deepEqual(await pressed(), ['all']);
      await page.click('#window [data-window="60"]');
      for (const s of await spans()) assert.ok(Math.abs(s - 60) < 0.5, `back to 1 min: ${s} s`);
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('pause freezes the charts while data keeps arriving; resume catches up', async () => {
    const page = await newPage(browser, host);
    try {
      assert.equal((await page.textContent('#pause')).trim(), 'Pause');
      await page.click('#pause');
      assert.equal((await page.textContent('#pause')).trim(), 'Resume');
      assert.match(await page.textContent('#paused-chip'), /paused/i);
      const frozen = await charts(page);
      const samples0 = (await uiState(page)).samples;
      const updated0 = await page.textContent('#updated');

      await sleep(ms(1500)); // 7 ticks at 0.2 s
      const still = await charts(page);
      assert.deepEqual(still.map((c) => [c.xMin, c.xMax, c.points, c.x1]),
        frozen.map((c) => [c.xMin, c.xMax, c.points, c.x1]), 'the charts did not move while paused');
      const st = await uiState(page);
      assert.ok(st.paused);
      assert.ok(st.samples > samples0 || (await page.textContent('#updated')) !== updated0,
        'samples keep arriving while paused');

      // Changing the window while paused redraws over the frozen end.
      await page.click('#window [data-window="300"]');
      for (const c of await charts(page)) {
        assert.ok(Math.abs(c.xMax - frozen[0].xMax) < 1e-6, 'the paused end stays');
        assert.ok(Math.abs(c.xMax - c.xMin - 300) < 0.5);
      }
      await page.click('#window [data-window="60"]');

      await page.click('#pause');
      assert.equal((await page.textContent('#pause')).trim(), 'Pause');
      const [caught, now] = await page.evaluate(() => [window.__vitals.charts(), window.__vitals.state()]);
      for (const c of caught) {
        assert.ok(c.xMax - frozen[0].xMax >= 1.0, `${c.title}: caught up by ${c.xMax - frozen[0].xMax} s`);
        // Charts scrolled out of view redraw at most every 2 s (see app.js), so
        // they may trail the newest sample by that much; visible ones do not.
        assert.ok(now.range[1] - c.xMax <= 2.5, `${c.title}: ends ${now.range[1] - c.xMax} s before the newest sample`);
      }
      // ...and keeps moving.
      await waitFor(async () => (await charts(page))[0].xMax > caught[0].xMax, { what: 'live again' });
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('legend entries show and hide their series by click, Enter and Space', async () => {
    const page = await newPage(browser, host);
    try {
      const list = await charts(page);
      const at = list.findIndex((c) => c.legend.length >= 2);
      assert.ok(at >= 0, 'a chart with two series');
      const panel = page.locator('#charts .panel').nth(at);
      const entry = panel.locator('.u-legend th[role="button"]').first();
      const shown = async () => (await charts(page))[at].legend[0].show;

      assert.equal(await entry.getAttribute('aria-pressed'), 'true');
      await entry.click();
      assert.equal(await shown(), false, 'a click hides the series');
      assert.equal(await entry.getAttribute('aria-pressed'), 'false');
      assert.ok(await panel.locator('.u-legend .u-series.u-off').count() >= 1);
      assert.equal((await charts(page))[at].legend[1].show, true, 'the other series stays');

      await entry.focus();
      await page.keyboard.press('Enter');
      assert.equal(await shown(), true, 'Enter shows it again');
      await page.keyboard.press('Space');
      assert.equal(await shown(), false, 'Space hides it');
      await page.keyboard.press('Space');
      assert.equal(await shown(), true);

      // Hidden series stay hidden across a theme change (the charts are rebuilt).
      await entry.click();
      await page.click('#theme');
      assert.equal(await shown(), false);
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('every control is reachable with Tab and shows its focus', async () => {
    const page = await newPage(browser, host);
    try {
      const controls = await page.evaluate(() => {
        const all = [...document.querySelectorAll('button, [role="button"], a[href], input, select, [tabindex]')]
          .filter((e) => e.getAttribute('tabindex') !== '-1' && !e.disabled && e.getClientRects().length > 0);
        all.forEach((e, i) => e.setAttribute('data-tab-probe', String(i)));
        return all.length;
      });
      assert.ok(controls >= 5, `only ${controls} controls`);
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      const reached = new Set();
      const noOutline = [];
      for (let i = 0; i < controls + 3; i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return null;
          const cs = getComputedStyle(e);
          return {
            probe: e.getAttribute('data-tab-probe'),
            name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30),
            outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0,
            visible: e.matches(':focus-visible'),
          };
        });
        if (!f) continue;
        if (f.probe !== null) reached.add(f.probe);
        if (!f.outline || !f.visible) noOutline.push(f.name);
      }
      console.log(`Tab reached ${reached.size} of ${controls} controls`);
      assert.equal(reached.size, controls, `Tab reached ${reached.size} of ${controls} controls`);
      assert.deepEqual(noOutline, [], 'controls without a visible focus outline');
      for (const sel of ['#theme', '#pause', '#window [data-window="60"]', '#window [data-window="300"]',
        '#window [data-window="all"]']) {
        assert.ok(await page.$eval(sel, (e) => e.hasAttribute('data-tab-probe')), `${sel} is a control`);
      }
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('cards and charts have accessible names and descriptions', async () => {
    const page = await newPage(browser, host);
    try {
      const cards = await page.evaluate(() => [...document.querySelectorAll('#cards .card')].map((c) => ({
        role: c.getAttribute('role'),
        label: c.getAttribute('aria-label') || '',
        title: c.querySelector('.card-title').textContent.trim(),
        value: c.querySelector('.card-num').textContent.trim(),
        level: c.dataset.level || '',
        badge: c.querySelector('.badge') && !c.querySelector('.badge').hidden
          ? { role: c.querySelector('.badge').getAttribute('role'), label: c.querySelector('.badge').getAttribute('aria-label'),
              text: c.querySelector('.badge').textContent.trim() }
          : null,
      })));
      assert.ok(cards.length > 0, 'no cards');
      for (const c of cards) {
        assert.equal(c.role, 'figure', `${c.title}: role`);
        assert.ok(c.label.startsWith(c.title), `${c.title}: label "${c.label}"`);
        if (c.value !== '\u2014') assert.ok(c.label.includes(c.value), `${c.title}: label "${c.label}" lacks "${c.value}"`);
        if (c.level) {
          // Colour is never the only signal: words in the badge and in the name.
          assert.ok(c.badge, `${c.title}: level ${c.level} without a badge`);
          assert.ok(c.badge.text.length > 0 && /status/.test(c.badge.label), `${c.title}: badge ${JSON.stringify(c.badge)}`);
          assert.match(c.label, /status: (normal|warning|critical)/);
        }
      }
      // The accessibility tree agrees.
      assert.equal(await page.getByRole('figure').count(), cards.length);

      const list = await charts(page);
      const imgs = await page.evaluate(() => [...document.querySelectorAll('#charts .panel')].map((p) => {
        const img = p.querySelector('[role="img"]');
        const desc = img && document.getElementById(img.getAttribute('aria-describedby'));
        return {
          title: p.querySelector('.panel-title').textContent.trim(),
          label: img ? img.getAttribute('aria-label') : null,
          desc: desc ? desc.textContent.trim() : null,
          descHidden: desc ? desc.getBoundingClientRect().width <= 1 : null,
        };
      }));
      assert.equal(imgs.length, list.length);
      for (const c of imgs) {
        assert.ok(c.label && c.label.startsWith(c.title), `${c.title}: chart label ${c.label}`);
        assert.match(c.label, /latest/);
        assert.ok(c.desc && c.desc.length > 20, `${c.title}: description ${c.desc}`);
        assert.ok(c.descHidden, `${c.title}: the description is for screen readers only`);
      }
      for (const c of list) {
        const named = await page.getByRole('img', { name: c.title }).count();
        assert.ok(named >= 1, `no img named after ${c.title}`);
        for (const s of c.legend) {
          assert.ok(imgs.find((i) => i.title === c.title).label.includes(s.label) ||
            imgs.find((i) => i.title === c.title).label.includes('more'), `${c.title}: ${s.label} not summarised`);
        }
      }
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('times the first chart and each live update', async () => {
    const page = await newPage(browser, host);
    try {
      await sleep(ms(1200));
      const t = await page.evaluate(() => ({
        first: performance.getEntriesByName('vitals:first-chart').map((e) => e.startTime),
        updates: performance.getEntriesByName('vitals:update').map((e) => e.duration),
      }));
      assert.equal(t.first.length, 1, 'one vitals:first-chart mark');
      assert.ok(t.updates.length >= 3, `${t.updates.length} vitals:update measures`);
      const sorted = [...t.updates].sort((a, b) => a - b);
      console.log(`first chart at ${t.first[0].toFixed(0)} ms; update median ${sorted[sorted.length >> 1].toFixed(1)} ms ` +
        `over ${sorted.length}`);
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });

  it('works on a 390 px phone in both themes without sideways scrolling', async () => {
    const page = await newPage(browser, host, { width: 390, height: 844 });
    try {
      for (const scheme of ['dark', 'light']) {
        await page.emulateMedia({ colorScheme: scheme });
        await waitFor(async () => (await theme(page)) === scheme, { what: `the ${scheme} theme` });
        const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(over <= 0, `the page is ${over} px wider than the phone`);
        const wide = await page.evaluate(() => [...document.querySelectorAll('.card, .panel, .topbar')]
          .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .map((e) => e.className));
        assert.deepEqual(wide, [], 'elements past the right edge');
        // The controls stay usable: big enough to tap.
        const small = await page.$$eval('.topbar button', (bs) => bs
          .filter((b) => b.getBoundingClientRect().height < 30).map((b) => b.textContent.trim()));
        assert.deepEqual(small, []);
        console.log('screenshot:', await screenshot(page, `ui-${scheme}-390x844`));
      }
      assertClean(page);
    } finally {
      await page.context().close();
    }
  });
});
