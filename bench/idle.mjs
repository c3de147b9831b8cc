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
/** utime + stime of the host, in seconds, and its RSS in KiB. */
function usage() {
  const stat = fs.readFileSync(`/proc/${host.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${host.pid}/status`, 'utf8'))[1]);
  return { cpu, rss };
}
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
await sleep(Number(warmup));
const a = usage();
const t0 = process.hrtime.bigint();
await sleep(Number(seconds));
const b = usage();
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
host.kill('SIGTERM');
console.log(`idle host: bundled plugins (system, action, event), 1 Hz, no clients, ${warmup} s warm-up, ` +
            `${wall.toFixed(0)} s measured`);
console.log(`cpu: ${((100 * (b.cpu - a.cpu)) / wall).toFixed(3)} % of one core ` +
            `(${(b.cpu - a.cpu).toFixed(2)} s of CPU; /proc resolution 10 ms)`);
console.log(`rss: ${(b.rss / 1024).toFixed(1)} MiB (target: <= 0.05 % and <= 8 MiB, DESIGN.md section 5)`);
