// http.test.mjs — every HTTP route of docs/protocol.md against the real host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  INTERVAL, getJson, projectVersion, request, startHost, stopAllHosts, waitFor,
} from './host.mjs';

const KINDS = new Set(['gauge', 'counter', 'histogram', 'text']);
const STYLES = new Set(['line', 'area', 'bar']);

function assertJsonType(r, what) {
  assert.match(String(r.headers['content-type']), /^application\/json\b/,
               `${what}: Content-Type is ${r.headers['content-type']}`);
  assert.notEqual(r.json, undefined, `${what}: body is not JSON: ${r.body.slice(0, 200)}`);
}

function assertJsonError(r, status, what) {
  assert.equal(r.status, status, `${what}: status ${r.status}, body ${r.body.slice(0, 300)}`);
  assertJsonType(r, what);
  assert.equal(typeof r.json.error, 'string', `${what}: no "error" string in ${r.body}`);
  assert.ok(r.json.error.length > 0, `${what}: empty error`);
}

/** Bodies of the dashboard's own scripts, filled by the crawl below. */
const ownScripts = new Map();

describe('HTTP routes', { timeout: 90000 }, () => {
  let host;
  let base;

  before(async () => {
    host = await startHost();
    base = host.base;
    // A few ticks, so latest values and history exist.
    await waitFor(async () => {
      const r = await request(base, '/api/v1/metrics');
      return r.status === 200 && r.json && r.json.seq >= 3;
    }, { timeout: 15000, what: 'seq >= 3 in /api/v1/metrics' }).catch((e) => {
      throw new Error(`${e.message}\n${host.describe()}`);
    });
  });

  after(async () => {
    await stopAllHosts();
  });

  describe('dashboard', () => {
    let page;

    before(async () => {
      page = await request(base, '/');
    });

    it('GET / returns the HTML dashboard', () => {
      assert.equal(page.status, 200, page.body.slice(0, 300));
      assert.match(String(page.headers['content-type']), /^text\/html\b/);
      assert.match(page.body, /<html/i);
    });

    it('the page references uPlot, served with a JavaScript content type', async () => {
      assert.match(page.body, /["'(]\/?vendor\/uPlot\.iife\.min\.js["')]/,
                   'no reference to /vendor/uPlot.iife.min.js in the page');
      const r = await request(base, '/vendor/uPlot.iife.min.js');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^(text|application)\/(x-)?javascript\b/,
                   `Content-Type is ${r.headers['content-type']}`);
      assert.ok(r.bytes.length > 10000, `uPlot is only ${r.bytes.length} bytes`);
      assert.match(r.body, /uPlot/);
    });

    it('the page and its files carry an ETag: a revalidation gets 304 without a body, a stale tag 200', async () => {
      for (const file of ['/', '/vendor/uPlot.iife.min.js']) {
        const first = await request(base, file);
        const tag = first.headers.etag;
        assert.match(String(tag), /^"[0-9a-f]{16}"$/, `${file}: ETag ${tag}`);
        assert.equal(first.headers['cache-control'], 'no-cache', file);
        const again = await request(base, file, { headers: { 'if-none-match': tag } });
        assert.equal(again.status, 304, file);
        assert.equal(again.bytes.length, 0, file);
        assert.equal(again.headers.etag, tag, file);
        assert.ok(again.headers['content-security-policy'], `${file}: 304 keeps the policies`);
        const listed = await request(base, file, { headers: { 'if-none-match': `W/"0", ${tag}` } });
        assert.equal(listed.status, 304, `${file}: a tag in a list`);
        const stale = await request(base, file, { headers: { 'if-none-match': '"0000000000000000"' } });
        assert.equal(stale.status, 200, file);
        assert.equal(stale.bytes.length, first.bytes.length, file);
      }
      // The API is never stored.
      const api = await request(base, '/api/v1/descriptors');
      assert.equal(api.headers['cache-control'], 'no-store');
      assert.equal(api.headers.etag, undefined);
    });

    it('every script, stylesheet and module the page references is served from the host itself', async () => {
      const pageUrl = new URL('/', base);
      const refs = new Set();
      const tagRe = /<(script|link|img)\b[^>]*>/gi;
      for (const [tag] of page.body.matchAll(tagRe)) {
        const m = /\s(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
        if (!m) continue;
        const ref = m[1] ?? m[2] ?? m[3];
        if (!ref || ref.startsWith('data:') || ref.startsWith('#')) continue;
        refs.add(ref);
      }
      assert.ok(refs.size > 0, 'the page references no script or stylesheet');

      // Follow static imports of the page's own modules (not the vendored
      // library), so a module that pulls another one is checked too.
      const seen = new Set();
      const queue = [...refs].map((ref) => ({ ref, from: pageUrl }));
      const failures = [];
      while (queue.length && seen.size < 200) {
        const { ref, from } = queue.shift();
        const url = new URL(ref, from);
        if (url.origin !== pageUrl.origin) {
          failures.push(`${ref} (in ${from.pathname}) points to another host: ${url.origin}`);
          continue;
        }
        if (seen.has(url.pathname)) continue;
        seen.add(url.pathname);
        const r = await request(base, url.pathname + url.search);
        if (r.status !== 200) {
          failures.push(`${url.pathname} (in ${from.pathname}): status ${r.status}`);
          continue;
        }
        if (url.pathname.endsWith('.js') && !url.pathname.startsWith('/vendor/')) {
          ownScripts.set(url.pathname, r.body);
          const re = /(?:\bimport\s*(?:[\w*{}\s,$]+\sfrom\s*)?|\bimport\s*\(\s*|\bexport\s*[\w*{}\s,$]+\sfrom\s*)["']([^"']+)["']/g;
          for (const [, spec] of r.body.matchAll(re)) {
            queue.push({ ref: spec, from: url });
          }
        }
        if (url.pathname.endsWith('.css')) {
          for (const [, spec] of r.body.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) {
            if (!spec.startsWith('data:')) queue.push({ ref: spec, from: url });
          }
        }
      }
      assert.deepEqual(failures, [], `bad references:\n${failures.join('\n')}`);
      assert.ok(seen.has('/vendor/uPlot.iife.min.js'), `uPlot not among ${[...seen].join(', ')}`);
    });

    it('the dashboard\'s own scripts name no metric, plugin or chart: descriptors drive it all', async () => {
      assert.ok(ownScripts.size > 0, 'no dashboard script was crawled');
      const { descriptors } = await getJson(base, '/api/v1/descriptors');
      const names = new Set();
      for (const d of descriptors) {
        names.add(d.id);
        names.add(`${d.plugin}.`);
        if (d.chart) names.add(d.chart);
      }
      const found = [];
      for (const [file, body] of ownScripts) {
        for (const name of names) if (body.includes(name)) found.push(`${file} mentions ${name}`);
      }
      assert.deepEqual(found, []);
    });
  });

  describe('/api/v1/descriptors', () => {
    it('lists the system metrics with kind, unit, title and chart hints', async () => {
      const r = await request(base, '/api/v1/descriptors');
      assert.equal(r.status, 200);
      assertJsonType(r, 'descriptors');
      const body = r.json;
      assert.equal(typeof body.generation, 'number');
      assert.ok(Math.abs(body.interval - INTERVAL) < 1e-9, `interval ${body.interval}, want ${INTERVAL}`);
      assert.ok(Array.isArray(body.descriptors));
      const sys = body.descriptors.filter((d) => d.plugin === 'system');
      assert.ok(sys.length >= 2, `only ${sys.length} system descriptors`);
      const ids = new Set();
      for (const d of sys) {
        assert.match(d.id, /^system\.[a-z0-9_.-]+$/, `bad id ${d.id}`);
        assert.ok(!ids.has(d.id), `duplicate id ${d.id}`);
        ids.add(d.id);
        assert.ok(KINDS.has(d.kind), `${d.id}: kind ${d.kind}`);
        assert.equal(typeof d.unit, 'string', `${d.id}: unit`);
        assert.equal(typeof d.title, 'string', `${d.id}: title`);
        assert.ok(d.title.length > 0, `${d.id}: empty title`);
        if ('chart' in d) {
          assert.equal(typeof d.chart, 'string', `${d.id}: chart`);
          assert.ok(STYLES.has(d.style), `${d.id}: style ${d.style}`);
          assert.ok(d.axis === 'left' || d.axis === 'right', `${d.id}: axis ${d.axis}`);
        }
        if ('priority' in d) assert.equal(typeof d.priority, 'number');
        if ('precision' in d) assert.equal(typeof d.precision, 'number');
        if ('card' in d) assert.equal(typeof d.card, 'boolean');
      }
      assert.ok(ids.has('system.cpu_percent'), `no system.cpu_percent among ${[...ids].join(', ')}`);
      const cpu = sys.find((d) => d.id === 'system.cpu_percent');
      assert.equal(cpu.kind, 'gauge');
      assert.equal(cpu.unit, 'percent');
      assert.ok(sys.some((d) => typeof d.chart === 'string'), 'no system metric carries a chart hint');
    });
  });

  describe('/api/v1/metrics', () => {
    it('has plugins.system with numeric values, seq and ts', async () => {
      const r = await request(base, '/api/v1/metrics');
      assert.equal(r.status, 200);
      assertJsonType(r, 'metrics');
      const m = r.json;
      assert.equal(typeof m.seq, 'number');
      assert.ok(m.seq >= 3, `seq ${m.seq}`);
      assert.equal(typeof m.ts, 'number');
      assert.ok(Math.abs(m.ts - Date.now() / 1000) < 30, `ts ${m.ts} is far from now`);
      assert.equal(typeof m.plugins, 'object');
      const sys = m.plugins.system;
      assert.equal(typeof sys, 'object', `no plugins.system in ${r.body.slice(0, 300)}`);
      assert.equal(typeof sys.cpu_percent, 'number', `cpu_percent: ${sys.cpu_percent}`);
      const numeric = Object.values(sys).filter((v) => typeof v === 'number' && Number.isFinite(v));
      assert.ok(numeric.length >= 2, `only ${numeric.length} numeric system values`);
      for (const k of Object.keys(sys)) {
        assert.ok(!k.startsWith('system.'), `key ${k} keeps its plugin prefix`);
      }
    });

    it('seq advances with the ticks', async () => {
      const a = await getJson(base, '/api/v1/metrics');
      const b = await waitFor(async () => {
        const m = await getJson(base, '/api/v1/metrics');
        return m.seq > a.seq ? m : null;
      }, { timeout: 10000, what: 'a later seq' });
      assert.ok(b.ts >= a.ts, `ts went back: ${a.ts} -> ${b.ts}`);
    });
  });

  describe('/api/v1/history', () => {
    it('returns aligned ts/values for the last seconds', async () => {
      // Let at least ~1 s of ticks accumulate.
      await waitFor(async () => (await getJson(base, '/api/v1/metrics')).seq >= Math.ceil(1 / INTERVAL) + 1,
                    { timeout: 15000, what: '~1 s of ticks' });
      const r = await request(base, '/api/v1/history?metric=system.cpu_percent&seconds=5');
      const now = Date.now() / 1000;
      assert.equal(r.status, 200, r.body.slice(0, 300));
      assertJsonType(r, 'history');
      const h = r.json;
      assert.equal(h.metric, 'system.cpu_percent');
      assert.equal(h.kind, 'gauge');
      assert.equal(h.unit, 'percent');
      assert.ok(Array.isArray(h.ts) && Array.isArray(h.values));
      assert.equal(h.ts.length, h.values.length, 'ts and values differ in length');
      assert.ok(h.ts.length >= 2, `only ${h.ts.length} samples`);
      // 5 s at 0.2 s is at most ~26 samples (one of slack for the edges).
      assert.ok(h.ts.length <= Math.ceil(5 / INTERVAL) + 2, `${h.ts.length} samples for 5 s`);
      for (let i = 0; i < h.ts.length; i++) {
        assert.equal(typeof h.ts[i], 'number');
        assert.ok(h.ts[i] >= now - 5 - 2 && h.ts[i] <= now + 2, `ts[${i}] = ${h.ts[i]}, now ${now}`);
        if (i > 0) assert.ok(h.ts[i] > h.ts[i - 1], `ts not increasing at ${i}`);
        assert.ok(h.values[i] === null || typeof h.values[i] === 'number', `values[${i}] = ${h.values[i]}`);
      }
      assert.ok(h.values.some((v) => typeof v === 'number'), 'no numeric value in history');
    });

    it('without seconds returns all kept history', async () => {
      const r = await request(base, '/api/v1/history?metric=system.cpu_percent');
      assert.equal(r.status, 200, r.body.slice(0, 300));
      assertJsonType(r, 'history');
      assert.equal(r.json.ts.length, r.json.values.length);
      assert.ok(r.json.ts.length >= 2);
    });

    it('without metric answers 400 with a JSON error', async () => {
      assertJsonError(await request(base, '/api/v1/history'), 400, 'history without metric');
      assertJsonError(await request(base, '/api/v1/history?seconds=5'), 400, 'history?seconds=5');
    });

    it('an unknown metric answers 404 with a JSON error', async () => {
      assertJsonError(await request(base, '/api/v1/history?metric=no.such_metric&seconds=5'), 404,
                      'history of an unknown metric');
    });

    it('seconds that is not a positive number answers 400', async () => {
      for (const s of ['abc', '0', '-5']) {
        assertJsonError(await request(base, `/api/v1/history?metric=system.cpu_percent&seconds=${s}`), 400,
                        `history seconds=${s}`);
      }
    });
  });

  describe('other routes', () => {
    it('/healthz says ok', async () => {
      const r = await request(base, '/healthz');
      assert.equal(r.status, 200);
      assertJsonType(r, 'healthz');
      const h = r.json;
      assert.equal(h.status, 'ok');
      assert.equal(h.version, projectVersion());
      assert.equal(typeof h.uptime, 'number');
      assert.ok(h.uptime >= 0);
      assert.ok(h.plugins >= 1, `plugins ${h.plugins}`);
      assert.ok(h.metrics >= 2, `metrics ${h.metrics}`);
      assert.equal(typeof h.clients, 'number');
      assert.ok(h.seq >= 3, `seq ${h.seq}`);
    });

    it('an unknown path answers 404 with {"error":…}', async () => {
      const r = await request(base, '/no/such/path');
      assertJsonError(r, 404, 'unknown path');
      assert.equal(r.json.path, '/no/such/path');
      assertJsonError(await request(base, '/api/v1/nothing'), 404, '/api/v1/nothing');
    });

    it('POST to /api/v1/descriptors answers 405 with an Allow header', async () => {
      const r = await request(base, '/api/v1/descriptors', {
        method: 'POST', body: '{}', headers: { 'content-type': 'application/json' },
      });
      assertJsonError(r, 405, 'POST /api/v1/descriptors');
      assert.ok(r.headers.allow, `no Allow header in ${JSON.stringify(r.headers)}`);
      assert.match(r.headers.allow, /\bGET\b/);
    });

    it('the host still serves after all of the above', async () => {
      const h = await getJson(base, '/healthz');
      assert.equal(h.status, 'ok');
      assert.equal(host.exited, null, host.describe());
    });
  });
});
