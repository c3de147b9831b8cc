// soak.mjs — does the host's memory stay flat while clients come and go?
//
// Starts the host (bundled plugins, 0.2 s ticks so five times the usual
// traffic), keeps CLIENTS WebSocket clients connected, replaces CHURN of
// them every second, asks /api/v1/metrics and /api/v1/history every second,
// and reports the host's RSS every 10 s.  Loopback only, bounded in time.
//
//   node bench/soak.mjs BUILD_DIR [SECONDS=300] [CLIENTS=20] [CHURN=5]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [buildDir, seconds = '300', clients = '20', churn = '5'] = process.argv.slice(2);
if (!buildDir) {
  console.error('usage: node bench/soak.mjs BUILD_DIR [SECONDS] [CLIENTS] [CHURN]');
  process.exit(2);
}
const WebSocket = createRequire(path.resolve(buildDir, 'tests/node/node_modules') + '/')('ws');
const host = spawn(path.join(buildDir, 'vitals'), ['--port', '0', '--interval', '0.2',
  '--plugins-dir', path.join(buildDir, 'lib/vitals/plugins')], { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((resolve, reject) => {
  host.stdout.on('data', (d) => {
    const m = /:(\d+)\//.exec(String(d));
    if (m) resolve(Number(m[1]));
  });
  host.on('exit', () => reject(new Error('host exited')));
});
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${host.pid}/status`, 'utf8'))[1]);
const get = (p) => new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: p }, (r) => {
  r.resume();
  r.on('end', resolve);
}).on('error', resolve));

let messages = 0;
const open = new Set();
function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on('message', () => { messages++; });
  ws.on('error', () => {});
  ws.on('close', () => open.delete(ws));
  open.add(ws);
}
for (let i = 0; i < Number(clients); i++) connect();

const samples = [];
const started = Date.now();
console.log(`soak: ${seconds} s, ${clients} clients, ${churn} replaced per second, 0.2 s ticks`);
while (Date.now() - started < Number(seconds) * 1000) {
  await new Promise((r) => setTimeout(r, 1000));
  [...open].slice(0, Number(churn)).forEach((ws) => ws.close(1000));
  for (let i = 0; i < Number(churn); i++) connect();
  await get('/api/v1/metrics');
  await get('/api/v1/history?metric=system.cpu_percent');
  const t = Math.round((Date.now() - started) / 1000);
  if (t % 10 === 0) {
    samples.push([t, rssKiB()]);
    console.log(`t=${t}s rss=${(samples.at(-1)[1] / 1024).toFixed(1)} MiB messages=${messages}`);
  }
}
for (const ws of open) ws.terminate();
host.kill('SIGTERM');
const settled = samples.filter(([t]) => t >= 60);
if (settled.length >= 2) {
  const growth = settled.at(-1)[1] - settled[0][1];
  console.log(`rss after warm-up (60 s): ${(settled[0][1] / 1024).toFixed(1)} MiB, at end: ` +
              `${(settled.at(-1)[1] / 1024).toFixed(1)} MiB, growth ${growth} KiB`);
}
