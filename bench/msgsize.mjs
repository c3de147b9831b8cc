// msgsize.mjs — bytes per `sample` WebSocket message (DESIGN.md §5: <= 250
// for the system+action+event plugins).
//
// Starts two hosts with the bundled plugins at 1 Hz on free loopback ports:
// one idle, one fed by the demo application (actions, events, queues,
// error spells through the C client), so the values are realistic.  After
// a warm-up it records the next SAMPLES `sample` messages of each: min /
// median / mean / max of the JSON payload and of the whole frame (payload
// plus the 2- or 4-byte WebSocket header), and prints the largest one seen
// and the size of the hello that began each stream.  Slow metrics
// (stream_every > 1, docs/protocol.md) are in some samples only: sizes
// vary with seq, so SAMPLES should span several of their periods.
// Bounded in time; kills only the processes it started.
//
//   node bench/msgsize.mjs BUILD_DIR [SAMPLES=30] [WARMUP=8] [EXTRA_INI]
//
// EXTRA_INI is appended to the hosts' config, e.g. "[plugin:action]\ntop_names = 0"
// to see what the per-name action metrics add.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [buildDir, samplesArg = '30', warmupArg = '8', extraIni = ''] = process.argv.slice(2);
if (!buildDir) {
  console.error('usage: node bench/msgsize.mjs BUILD_DIR [SAMPLES] [WARMUP]');
  process.exit(2);
}
const SAMPLES = Number(samplesArg);
const WARMUP = Number(warmupArg);
const WebSocket = createRequire(path.resolve(buildDir, 'tests/node/node_modules') + '/')('ws');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitals-msgsize-'));
const config = path.join(tmp, 'vitals.ini');
fs.writeFileSync(config, '[host]\nlisten = 127.0.0.1\nport = 0\ninterval = 1.0\nlog_level = warn\n' +
  '[ingest]\nenabled = true\nlisten = 127.0.0.1\nport = 0\n' + extraIni.replace(/\\n/g, '\n') + '\n');
const started = [];
const hardStop = setTimeout(() => { console.error('msgsize: time limit'); cleanup(); process.exit(1); },
  (WARMUP + SAMPLES + 30) * 1000);

function cleanup() {
  for (const p of started) if (p.exitCode === null) p.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function startHost() {
  const host = spawn(path.join(buildDir, 'vitals'), ['-c', config, '--plugins-dir',
    path.join(buildDir, 'lib/vitals/plugins')], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(host);
  const port = await new Promise((resolve, reject) => {
    host.stdout.on('data', (d) => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    host.on('exit', () => reject(new Error('host exited')));
  });
  const health = await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/healthz' }, (r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
  return { host, port, udp: health.ingest.udp_port };
}

/** The next n `sample` messages of the host on `port`, as Buffers. */
function collect(port, n) {
  return new Promise((resolve, reject) => {
    const got = [];
    let descriptors = 0;
    let hello = 0;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"hello"') || text.startsWith('{"type":"descriptors"')) {
        descriptors = JSON.parse(text).descriptors.length;
        if (!hello) hello = data.length;
        return;
      }
      if (!text.startsWith('{"type":"sample"')) return;
      got.push(Buffer.from(data));
      if (got.length === n) { ws.close(); resolve({ got, descriptors, hello }); }
    });
    ws.on('error', reject);
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 10) / 10;
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], mean, max: s.at(-1) };
};
const frame = (len) => len + (len < 126 ? 2 : 4);

try {
  const idle = await startHost();
  const busy = await startHost();
  const demo = spawn(path.join(buildDir, 'demo_app'), ['--host', `127.0.0.1:${busy.udp}`, '--seconds',
    String(WARMUP + SAMPLES + 10)], { stdio: 'ignore' });
  started.push(demo);
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const [a, b] = await Promise.all([collect(idle.port, SAMPLES), collect(busy.port, SAMPLES)]);
  console.log(`msgsize: bytes per sample message, plugins system+action+event (+ the host's own ` +
    `vitals.* metrics), 1 Hz, ${SAMPLES} samples after ${WARMUP} s warm-up; loadavg ` +
    `${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results = {};
  for (const [name, r] of [['idle', a], ['demo', b]]) {
    const p = stats(r.got.map((x) => x.length));
    const f = stats(r.got.map((x) => frame(x.length)));
    results[name] = p;
    console.log(`  ${name === 'idle' ? 'idle host        ' : 'with the demo app'}: ${r.descriptors} metrics; ` +
      `payload min ${p.min} / median ${p.median} / mean ${p.mean} / max ${p.max} bytes; ` +
      `frame min ${f.min} / median ${f.median} / mean ${f.mean} / max ${f.max} bytes (target <= 250); ` +
      `hello ${r.hello} bytes`);
  }
  const largest = b.got.reduce((x, y) => (y.length > x.length ? y : x));
  console.log(`  largest with the demo app (${largest.length} bytes): ${largest}`);
  console.log(`RESULT idle_median=${results.idle.median} idle_mean=${results.idle.mean} ` +
    `idle_max=${results.idle.max} demo_min=${results.demo.min} demo_median=${results.demo.median} ` +
    `demo_mean=${results.demo.mean} demo_max=${results.demo.max}`);
} finally {
  clearTimeout(hardStop);
  cleanup();
}
