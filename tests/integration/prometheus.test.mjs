// prometheus.test.mjs — GET /metrics checked by the real Prometheus tools:
// after a few actions reach the host over StatsD, `promtool check metrics`
// reads the text format, the OpenMetrics form is asked for with Accept, and
// a real Prometheus server (loopback only, its own temporary storage)
// scrapes the host every second until a query returns the exact figure.
//
// promtool and prometheus come from Debian's `prometheus` package
// (scripts/install-deps.sh --test); a test is skipped, saying so, only when
// its tool is not installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  getJson, ms, projectVersion, removeTempDirs, request, startHost, stopAllHosts, tempDir,
  waitFor, withTimeout,
} from './host.mjs';

/** Why `tool` cannot run (not installed), or null when it can. */
function missingTool(tool) {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (r.error && r.error.code === 'ENOENT') {
    return `${tool} is not installed (Debian package "prometheus": scripts/install-deps.sh --test)`;
  }
  return null;
}

/** Sends one datagram to the host's StatsD port. */
function sendUdp(port, text) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      sock.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

/** A loopback TCP port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// promtool's lint findings to tolerate: none.  Anything promtool says fails
// the test.
const KNOWN_LINT = [];

/**
 * Runs `promtool check metrics` on `text` and fails on a parse error or on
 * any lint finding not in KNOWN_LINT; skips `t` (saying why) when promtool
 * is not installed.  Reports promtool's verdict as a diagnostic.
 */
function assertPromtoolAccepts(t, text) {
  const missing = missingTool('promtool');
  if (missing) {
    t.skip(missing);
    return;
  }
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: ms(30000) });
  if (r.error) throw r.error;
  const output = `${r.stdout}${r.stderr}`.trim();
  t.diagnostic(`promtool check metrics: exit ${r.status}${output ? `: ${output}` : ''}`);
  // 0: clean; 3: lint findings only; 1: the text did not parse.
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics exit ${r.status}: ${output}\n${text}`);
  const unknown = output.split('\n').map((l) => l.trim())
    .filter((l) => l && !KNOWN_LINT.some((re) => re.test(l)));
  assert.deepEqual(unknown, [], `promtool found problems:\n${output}\n---\n${text}`);
}

// Two action names, five actions: 3 × fetch (100 ms), 2 × save (300 ms, failed).
const ACTIONS = [
  'action:100|ms|#name:fetch,ok:true',
  'action:100|ms|#name:fetch,ok:true',
  'action:100|ms|#name:fetch,ok:true',
  'action:300|ms|#name:save,ok:false',
  'action:300|ms|#name:save,ok:false',
  'action.current:say "hi"|s',
].join('\n');

describe('GET /metrics', { timeout: 120000 }, () => {
  let host;

  before(async () => {
    host = await startHost();
    const health = await getJson(host.base, '/healthz');
    assert.ok(health.ingest && health.ingest.udp_port > 0, `no UDP port in ${JSON.stringify(health)}`);
    await sendUdp(health.ingest.udp_port, ACTIONS);
    await waitFor(async () => {
      const r = await request(host.base, '/metrics');
      return r.status === 200 && /^vitals_action_total 5$/m.test(r.body) &&
             /^vitals_action_by_name_count_total\{name="save"\} 2$/m.test(r.body);
    }, { timeout: 15000, what: 'vitals_action_total 5 on /metrics' }).catch((e) => {
      throw new Error(`${e.message}\n${host.describe()}`);
    });
  });
  after(stopAllHosts);

  it('serves Prometheus text 0.0.4 that promtool accepts', async (t) => {
    const r = await request(host.base, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const body = r.body;
    // The figures of the actions sent, one family per metric.
    for (const line of [
      'vitals_up 1',
      `vitals_build_info{version="${projectVersion()}"} 1`,
      'vitals_action_total 5',
      'vitals_action_errors_total 2',
      'vitals_action_by_name_count_total{name="fetch"} 3',
      'vitals_action_by_name_count_total{name="save"} 2',
      'vitals_action_by_name_duration{name="save",quantile="0.5"} 0.3',
      'vitals_action_by_name_duration_sum{name="fetch"} 0.30000000000000004',
      'vitals_action_by_name_duration_count{name="fetch"} 3',
      'vitals_action_duration_count 5',
      'vitals_action_current_info{value="say \\"hi\\""} 1',
      '# TYPE vitals_action_by_name_count_total counter',
      '# TYPE vitals_action_by_name_duration summary',
    ]) {
      assert.ok(body.split('\n').includes(line), `no line ${line} in\n${body}`);
    }
    const types = body.split('\n').filter((l) => l.startsWith('# TYPE '));
    assert.equal(new Set(types.map((l) => l.split(' ')[2])).size, types.length,
                 `a family has two TYPE lines:\n${body}`);

    assertPromtoolAccepts(t, body);
  });

  it('serves OpenMetrics 1.0 when the Accept header asks for it', async () => {
    const r = await request(host.base, '/metrics', {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(r.body.endsWith('\n# EOF\n'), `no # EOF at the end:\n${r.body}`);
    assert.equal(r.body.indexOf('# EOF'), r.body.length - '# EOF\n'.length, 'text after # EOF');
    const lines = r.body.split('\n');
    for (const line of ['# TYPE vitals_action counter', 'vitals_action_total 5',
                        '# TYPE vitals_action_by_name_count counter',
                        'vitals_action_by_name_count_total{name="fetch"} 3',
                        '# TYPE vitals_build info', '# TYPE vitals_action_current info']) {
      assert.ok(lines.includes(line), `no line ${line} in\n${r.body}`);
    }
    assert.ok(!lines.some((l) => l.startsWith('# UNIT')), 'UNIT lines are not exposed');
    // Without the header (or with plain text asked for): text 0.0.4.
    const plain = await request(host.base, '/metrics', { headers: { accept: 'text/plain' } });
    assert.match(plain.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.ok(!plain.body.includes('# EOF'));
  });

  describe('scraped by a real Prometheus server', () => {
    let prometheus = null;
    let promBase = null;
    let promLog = '';
    const missing = missingTool('prometheus');

    /** Starts Prometheus on a free loopback port; retries if the port was taken meanwhile. */
    async function startPrometheus() {
      const dir = tempDir('vitals-prometheus-');
      const config = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(config, [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: vitals',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${host.port}']`,
        '',
      ].join('\n'));
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        promLog = '';
        const child = spawn('prometheus', [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(dir, `data-${attempt}`)}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ], { stdio: ['ignore', 'pipe', 'pipe'] });
        prometheus = child;
        const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
        child.exitPromise = exited;
        child.on('error', (e) => { promLog += `spawn error: ${e.message}\n`; });
        child.stdout.on('data', (d) => { promLog += d; });
        child.stderr.on('data', (d) => { promLog += d; });
        let gone = null;
        exited.then((e) => { gone = e; });
        const base = `http://127.0.0.1:${port}`;
        try {
          await waitFor(async () => {
            if (gone) throw new Error(`prometheus exited ${JSON.stringify(gone)}`);
            return (await request(base, '/-/ready', { timeout: 2000 })).status === 200;
          }, { timeout: 30000, every: 200, what: 'prometheus /-/ready' });
          promBase = base;
          return;
        } catch (e) {
          await stopPrometheus();
          if (attempt >= 3 || !/address already in use/.test(promLog)) {
            throw new Error(`${e.message}\n--- prometheus log ---\n${promLog}`);
          }
        }
      }
    }

    /** Stops Prometheus by its PID: SIGTERM, then SIGKILL if it lingers. */
    async function stopPrometheus() {
      const child = prometheus;
      prometheus = null;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
      try {
        await withTimeout(child.exitPromise, 10000, 'prometheus to stop');
      } catch {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
        await child.exitPromise;
      }
    }

    process.on('exit', () => {
      if (prometheus) {
        try { process.kill(prometheus.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    });

    before(async () => {
      if (!missing) await startPrometheus();
    });
    after(async () => {
      await stopPrometheus();
      removeTempDirs();
    });

    /** The result vector of an instant query. */
    async function query(expr) {
      const r = await getJson(promBase, `/api/v1/query?query=${encodeURIComponent(expr)}`);
      assert.equal(r.status, 'success', JSON.stringify(r));
      return r.data.result;
    }

    it('stores what it scraped: vitals_action_total is 5', { skip: missing || false }, async (t) => {
      const result = await waitFor(async () => {
        const res = await query('vitals_action_total');
        return res.length === 1 && res[0].value[1] === '5' ? res : null;
      }, { timeout: 60000, every: 500, what: 'vitals_action_total = 5 in Prometheus' }).catch(async (e) => {
        let targets = '';
        try { targets = JSON.stringify(await getJson(promBase, '/api/v1/targets')); } catch { /* none */ }
        throw new Error(`${e.message}\ntargets: ${targets}\n--- prometheus log ---\n${promLog}`);
      });
      t.diagnostic(`query vitals_action_total → ${JSON.stringify(result)}`);
      assert.equal(result[0].metric.job, 'vitals');
      assert.equal(result[0].metric.instance, `127.0.0.1:${host.port}`);

      // The labelled family arrives as one metric with a `name` label.
      const byName = await query('vitals_action_by_name_count_total');
      const counts = Object.fromEntries(byName.map((s) => [s.metric.name, s.value[1]]));
      t.diagnostic(`query vitals_action_by_name_count_total → ${JSON.stringify(counts)}`);
      assert.deepEqual(counts, { fetch: '3', save: '2' });
      const p50 = await query('vitals_action_by_name_duration{name="save",quantile="0.5"}');
      assert.equal(p50.length, 1);
      assert.equal(p50[0].value[1], '0.3');

      // The target is healthy: every scrape parsed (Prometheus asks for OpenMetrics first).
      const targets = await getJson(promBase, '/api/v1/targets');
      const target = targets.data.activeTargets.find((x) => x.labels.job === 'vitals');
      assert.ok(target, JSON.stringify(targets));
      assert.equal(target.health, 'up', JSON.stringify(target));
      assert.equal(target.lastError, '', JSON.stringify(target));
    });
  });

  it('labels action names as Prometheus can carry them, one series per name', async (t) => {
    // A real name "other" must not merge with the bucket of names beyond
    // top_names (name="other"); bytes a label value cannot hold become '_'.
    const health = await getJson(host.base, '/healthz');
    await sendUdp(health.ingest.udp_port, 'action:1|ms|#name:other\naction:1|ms|#name:a=b "q"\\');
    const body = await waitFor(async () => {
      const r = await request(host.base, '/metrics');
      return /^vitals_action_total 7$/m.test(r.body) ? r.body : null;
    }, { timeout: 15000, what: 'vitals_action_total 7 on /metrics' });
    const lines = body.split('\n');
    for (const line of ['vitals_action_by_name_count_total{name="other_2"} 1',
                        'vitals_action_by_name_count_total{name="a_b _q__"} 1',
                        'vitals_action_by_name_duration_count{name="other_2"} 1']) {
      assert.ok(lines.includes(line), `no line ${line} in\n${body}`);
    }
    assertPromtoolAccepts(t, body);
  });
});
