// idle.mjs — what an idle host costs: the bundled plugins at 1 Hz, no
// clients, after a warm-up.  CPU % of one core and RSS, read from /proc.
// Loopback only (the host binds 127.0.0.1 on free ports), bounded in time.
//
//   node bench/idle.mjs BUILD_DIR [SECONDS=60] [WARMUP=10]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [buildDir, seconds = '60', warmup = '10'] = process.argv.slice(2);
if (!buildDir) {
  console.error('usage: node bench/idle.mjs BUILD_DIR [SECONDS] [WARMUP]');
  process.exit(2);
}
const host = spawn(path.join(buildDir, 'vitals'), ['--port', '0', '--ingest-port', '0', '--interval', '1',
  '--plugins-dir', path.join(buildDir, 'lib/vitals/plugins')], { stdio: ['ignore', 'pipe', 'ignore'] });
await new Promise((resolve, reject) => {
  host.stdout.on('data', (d) => { if (/listening/.test(String(d))) resolve(); });
  host.on('exit', () => reject(new Error('host exited')));
});
const ticksPerSecond = 100; // USER_HZ on Linux
/** utime + stime of the host, in seconds (10 ms ticks), its CPU time summed
 * over its threads' schedstat (ns, exact: an idle host runs in bursts far
 * shorter than a tick), and its RSS / peak RSS in KiB. */
function usage() {
  const stat = fs.readFileSync(`/proc/${host.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  const threads = {};
  for (const tid of fs.readdirSync(`/proc/${host.pid}/task`)) {
    try {
      threads[tid] = Number(fs.readFileSync(`/proc/${host.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
    } catch { /* the thread ended */ }
  }
  const status = fs.readFileSync(`/proc/${host.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  return { cpu, threads, rss, hwm };
}
/** CPU seconds between two usage() calls, over the threads alive at both. */
const exact = (a, b) => Object.keys(b.threads).filter((t) => t in a.threads)
  .reduce((sum, t) => sum + b.threads[t] - a.threads[t], 0);
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
await sleep(Number(warmup));
const a = usage();
const t0 = process.hrtime.bigint();
await sleep(Number(seconds));
const b = usage();
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
host.kill('SIGTERM');
const cpuExact = exact(a, b);
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`idle host: bundled plugins (system, action, event), 1 Hz, no clients, ${warmup} s warm-up, ` +
            `${wall.toFixed(0)} s measured; loadavg ${load}`);
console.log(`cpu: ${((100 * cpuExact) / wall).toFixed(4)} % of one core ` +
            `(${(cpuExact * 1e3).toFixed(1)} ms of CPU, from schedstat; utime+stime in 10 ms ticks say ` +
            `${((100 * (b.cpu - a.cpu)) / wall).toFixed(3)} %)`);
console.log(`rss: ${(b.rss / 1024).toFixed(1)} MiB, peak ${(b.hwm / 1024).toFixed(1)} MiB ` +
            `(target: <= 0.05 % and <= 8 MiB, DESIGN.md section 5)`);
