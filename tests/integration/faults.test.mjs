// faults.test.mjs — plugins that hang, crash, exit, flood or lie cost only
// themselves: the real host keeps every other plugin on cadence, shows the
// faulty plugin's metrics as gaps, restarts isolated helpers with backoff,
// refuses plugins a probe saw crash (and remembers it), refuses plugin files
// other users could write, and caps what one plugin may register.
//
// Each case starts its own host on a temporary plugins directory holding
// copies of the fixtures (tests/plugins/), with the probe's verdict cache in
// a temporary directory.  Assertions are about behaviour (sequence numbers,
// values, states, log lines), never about timings; every wait is bounded.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  FIXTURES_DIR, connectWs, getJson, ms, removeTempDirs, startHost, stopAllHosts, tempDir, waitFor,
} from './host.mjs';

const FAULTS_DIR = path.join(FIXTURES_DIR, 'faults');

/** A plugins directory with copies of `names` (fixtures; "good" and
 * "bad_descriptor" come from the main fixture directory). */
function pluginsDir(names) {
  const dir = tempDir('vitals-faults-');
  for (const name of names) {
    const from = ['good', 'bad_descriptor'].includes(name) ? FIXTURES_DIR : FAULTS_DIR;
    fs.copyFileSync(path.join(from, `${name}.so`), path.join(dir, `${name}.so`));
    fs.chmodSync(path.join(dir, `${name}.so`), 0o755);
  }
  return dir;
}

/** A config file with `text` and the probe cache in a temporary directory. */
function configFile(text, cacheDir = tempDir('vitals-faults-cache-')) {
  const file = path.join(tempDir('vitals-faults-ini-'), 'vitals.ini');
  fs.writeFileSync(file, `[probe]\ncache = ${path.join(cacheDir, 'probe-cache.ini')}\n${text}`);
  return file;
}

/** Waits until the host's stderr matches `re`; returns the match. */
function logged(host, re, what, timeout = 15000) {
  return waitFor(() => re.exec(host.stderr), { timeout, what: `${what} in\n${host.describe()}` });
}

const count = (text, re) => (text.match(new RegExp(re.source, 'g')) || []).length;

/** The value of metric `id` in a sample, by the client's current descriptors. */
function valueOf(client, sample, id) {
  const index = client.descriptors.findIndex((d) => d.id === id);
  assert.ok(index >= 0, `no descriptor ${id}`);
  return sample.values[index];
}

/** A WebSocket client that keeps the current descriptor list. */
async function watch(host) {
  const client = await connectWs(host.wsUrl);
  const hello = await client.nextOfType('hello');
  client.descriptors = hello.descriptors;
  client.ws.on('message', (data) => {
    const m = JSON.parse(data.toString('utf8'));
    if (m.type === 'descriptors') client.descriptors = m.descriptors;
  });
  return client;
}

/** The next `n` samples; asserts that their seq has no hole. */
async function samples(client, n, timeout = 15000) {
  client.skipReceived();
  const out = [];
  for (let i = 0; i < n; i++) out.push(await client.nextOfType('sample', timeout));
  for (let i = 1; i < out.length; i++) {
    assert.equal(out[i].seq, out[i - 1].seq + 1, `a tick was missed: seq ${out[i - 1].seq} -> ${out[i].seq}`);
  }
  return out;
}

/** Asserts that good.ticks (good's collect count) rose by one each sample. */
function assertCadence(client, list) {
  const ticks = list.map((s) => valueOf(client, s, 'good.ticks'));
  for (let i = 1; i < ticks.length; i++) {
    assert.equal(ticks[i], ticks[i - 1] + 1, `good collected out of step: ${ticks.join(', ')}`);
  }
}

const metrics = async (host) => (await getJson(host.base, '/api/v1/metrics')).plugins;

describe('plugin faults', () => {
  let clients = [];
  afterEach(() => {
    for (const c of clients) c.terminate();
    clients = [];
  });
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('a hanging collect stalls only its plugin: gaps, a state, the others on cadence, recovery', async () => {
    const flag = path.join(tempDir(), 'hang-now');
    const config = configFile(`[plugin:hang]\nwhile_exists = ${flag}\ndeadline = 0.5\n`);
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'hang']), config });
    const client = await watch(host);
    clients.push(client);
    await client.next((m) => m.type === 'sample' && typeof valueOf(client, m, 'hang.collects') === 'number',
      ms(10000), 'a sample with hang.collects');

    fs.writeFileSync(flag, '');
    await logged(host, /plugin hang stalled: collect has not returned after [\d.]+ s \(deadline 0\.5 s\)/,
      'the stall logged');
    const during = await samples(client, 10);
    assertCadence(client, during);
    for (const s of during) assert.equal(valueOf(client, s, 'hang.collects'), null, 'a gap while stalled');
    const stalled = await metrics(host);
    assert.equal(stalled.vitals['plugin.hang.state'], 'stalled');
    assert.equal(stalled.vitals['plugin.hang.faults'], 1);
    assert.equal(stalled.hang.collects, null);
    const history = await getJson(host.base, '/api/v1/history?metric=hang.collects&seconds=300');
    assert.ok(history.values.some((v) => typeof v === 'number'), 'values before the stall');
    assert.equal(history.values.at(-1), null, 'the newest sample is a gap');
    // Said once, not every tick.
    assert.equal(count(host.stderr, /plugin hang stalled/), 1, host.stderr);

    fs.unlinkSync(flag);
    await logged(host, /plugin hang running: collect returned after [\d.]+ s; collecting again/, 'the recovery');
    const back = await client.next((m) => m.type === 'sample' &&
      typeof valueOf(client, m, 'hang.collects') === 'number', ms(10000), 'hang.collects again');
    assert.ok(valueOf(client, back, 'hang.collects') >= 2);
    assertCadence(client, await samples(client, 5));
    await waitFor(async () => (await metrics(host)).vitals['plugin.hang.state'] === 'running',
      { what: 'state running again' });
    assert.equal(host.exited, null);
  });

  it('an isolated plugin that crashes takes only its helper down; it is restarted with backoff', async () => {
    const config = configFile('[plugin:crash]\nisolate = true\nafter = 3\n');
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'crash']), config });
    const client = await watch(host);
    clients.push(client);
    await logged(host, /plugin crash 1\.0 runs isolated: helper pid \d+ is up/, 'the helper up');
    const first = await logged(host,
      /plugin crash restarting: helper pid (\d+) killed by signal 11 \(Segmentation fault\) after [\d.]+ s; restarting it in 1 s/,
      'the first crash');
    // Meanwhile, and across the crash, the others keep every tick.
    const across = await samples(client, 8);
    assertCadence(client, across);
    await logged(host, /plugin crash running: helper pid \d+ is up \(\d+ metrics\) again/, 'the restart');
    // It crashed again quickly: the wait doubled.
    const second = await logged(host, /helper pid (\d+) killed by signal 11[^\n]*restarting it in 2 s/,
      'the second crash, with a longer wait', 20000);
    assert.notEqual(first[1], second[1], 'a new helper process crashed');
    // The host's own metrics say so (from the next tick on).
    const m = await waitFor(async () => {
      const now = await metrics(host);
      return now.vitals['plugin.crash.faults'] >= 2 && now;
    }, { what: 'plugin.crash.faults >= 2' });
    assert.ok(['restarting', 'starting', 'running'].includes(m.vitals['plugin.crash.state']));
    assert.equal(typeof m.good.ticks, 'number');
    // While its helper is down its metrics show gaps.
    await client.next((s) => s.type === 'sample' && valueOf(client, s, 'crash.collects') === null,
      ms(10000), 'a gap for crash.collects');
    assert.equal(host.exited, null);
  });

  it('an isolated plugin that calls exit(3) is logged with its status and restarted', async () => {
    const config = configFile('[plugin:exiting]\nisolate = true\nafter = 2\n');
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'exiting']), config });
    await logged(host, /plugin exiting restarting: helper pid \d+ exited with status 3/, 'the exit');
    await logged(host, /plugin exiting running: helper pid \d+ is up \(1 metrics\) again/, 'the restart');
    await waitFor(async () => typeof (await metrics(host)).exiting?.collects === 'number',
      { what: 'exiting.collects from the new helper' });
    assert.equal(typeof (await metrics(host)).good.ticks, 'number');
    assert.equal(host.exited, null);
  });

  it('an isolated helper that writes garbage into its pipe is killed and restarted', async () => {
    const config = configFile('[plugin:garbage]\nisolate = true\nafter = 1\n');
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'garbage']), config });
    await logged(host, /plugin garbage restarting: helper pid \d+ was killed by the host: protocol error: frame larger than 64 KiB/,
      'the protocol error');
    await logged(host, /plugin garbage running: helper pid \d+ is up \(1 metrics\) again/, 'the restart');
    assert.equal(typeof (await metrics(host)).good.ticks, 'number');
  });

  it('a probe catches crashes while loading, in init and in the first collect, and a hang in init; verdicts are cached', async () => {
    const dir = pluginsDir(['good', 'crash_load', 'crash_init', 'crash', 'hang_init']);
    const cacheDir = tempDir('vitals-faults-cache-');
    const config = configFile('timeout = 1\n', cacheDir); /* lands in [probe] */
    const crashInit = path.join(dir, 'crash_init.so');
    const start = async () => {
      const host = await startHost({ pluginsDir: dir, config });
      await logged(host, /1 of 5 plugins running/, 'the load summary');
      return host;
    };

    const first = await start();
    assert.match(first.stderr, new RegExp(`skipping plugin ${crashInit}: the probe was killed by signal 11 ` +
      '\\(Segmentation fault\\) while loading it, in init or in its first collect\n'));
    assert.match(first.stderr, /skipping plugin \S+\/crash_load\.so: the probe was killed by signal 11/);
    assert.match(first.stderr, /skipping plugin \S+\/crash\.so: the probe was killed by signal 11/);
    assert.match(first.stderr, /skipping plugin \S+\/hang_init\.so: the probe did not finish[^\n]*within 1 s/);
    assert.equal((await getJson(first.base, '/healthz')).plugins, 1);
    assert.equal(typeof (await metrics(first)).good.ticks, 'number', 'the host runs without them');
    assert.ok(fs.existsSync(path.join(cacheDir, 'probe-cache.ini')));
    await first.kill();

    const second = await start();
    assert.match(second.stderr, new RegExp(`skipping plugin ${crashInit}: the probe was killed by signal 11[^\n]*` +
      '\\(verdict cached in [^\n]* for this size and mtime; touch or replace the file to probe it again\\)'));
    assert.match(second.stderr, /hang_init\.so: [^\n]*verdict cached/);
    await second.kill();

    // A touched file is probed again; the others keep their verdicts.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(crashInit, later, later);
    const third = await start();
    assert.match(third.stderr, new RegExp(`skipping plugin ${crashInit}: the probe was killed by signal 11[^\n]*collect\n`));
    assert.doesNotMatch(third.stderr, /crash_init\.so: [^\n]*verdict cached/);
    assert.match(third.stderr, /crash\.so: [^\n]*verdict cached/);
  });

  it('plugins dropped in while the host runs are probed off the tick: a crash or a hang costs no sample', async () => {
    const dir = pluginsDir(['good']);
    const host = await startHost({ pluginsDir: dir, config: configFile('timeout = 1\n') });
    const client = await watch(host);
    clients.push(client);
    await samples(client, 2);
    client.skipReceived();
    const firstSeq = (await client.nextOfType('sample')).seq;
    for (const name of ['crash_init', 'hang_init']) {
      fs.copyFileSync(path.join(FAULTS_DIR, `${name}.so`), path.join(dir, `${name}.so`));
    }
    await logged(host, /skipping plugin \S+\/crash_init\.so: the probe was killed by signal 11[^\n]*collect\n/,
      'crash_init refused (a fresh verdict, not a cached one)');
    await logged(host, /skipping plugin \S+\/hang_init\.so: the probe did not finish[^\n]*refused as hung\n/,
      'hang_init refused after its probe timed out');
    // Every tick while the probes ran: no seq missing, good collected each.
    const list = [];
    client.cursor = 0;
    for (const m of client.messages) if (m.type === 'sample' && m.seq >= firstSeq) list.push(m);
    assert.ok(list.length >= 3, `samples during the probes: ${list.length}`);
    for (let i = 1; i < list.length; i++) assert.equal(list[i].seq, list[i - 1].seq + 1);
    assertCadence(client, list);
    assert.equal((await getJson(host.base, '/healthz')).plugins, 1);
  });

  it('an isolated plugin hung in collect is stalled, then killed and restarted', async () => {
    const flag = path.join(tempDir(), 'hang-now');
    fs.writeFileSync(flag, '');
    const config = configFile(`[plugin:hang]\nisolate = true\ndeadline = 0.2\nwhile_exists = ${flag}\n`);
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'hang']), config });
    await logged(host, /plugin hang stalled: collect has not returned/, 'the stall');
    // A process can be killed, unlike a thread: after five deadlines and 5 s.
    await logged(host, /plugin hang restarting: helper pid \d+ was killed by the host: stalled in collect after [\d.]+ s; restarting it in 1 s/,
      'the kill', 30000);
    fs.unlinkSync(flag);
    await logged(host, /plugin hang running: helper pid \d+ is up \(1 metrics\) again/, 'the restart');
    await waitFor(async () => typeof (await metrics(host)).hang?.collects === 'number',
      { what: 'hang.collects from the new helper' });
    assert.equal(typeof (await metrics(host)).good.ticks, 'number');
  });

  it('plugin files or directories other users can write are refused, and the host says why', async () => {
    const dir = pluginsDir(['good']);
    fs.chmodSync(path.join(dir, 'good.so'), 0o757);
    const host = await startHost({ pluginsDir: dir, config: configFile('') });
    await logged(host, /skipping plugin \S+\/good\.so: refused: it is writable by every user \(mode 0757\)[^\n]*chmod go-w/,
      'the refusal');
    assert.equal((await getJson(host.base, '/healthz')).plugins, 0);
    await host.kill();

    fs.chmodSync(path.join(dir, 'good.so'), 0o755);
    fs.chmodSync(dir, 0o770);
    const again = await startHost({ pluginsDir: dir, config: configFile('') });
    await logged(again, /skipping plugin \S+\/good\.so: refused: its directory \S+ is writable by its group \(mode 0770\)/,
      'the refusal for the directory');
    fs.chmodSync(dir, 0o700);
  });

  it('huge descriptor counts are capped and invalid descriptors refused one by one, in-process and isolated', async () => {
    const config = configFile('[plugin:bad_descriptor]\nisolate = true\n');
    const host = await startHost({ pluginsDir: pluginsDir(['good', 'huge', 'bad_descriptor']), config });
    await logged(host, /plugin bad_descriptor 1\.0 runs isolated/, 'bad_descriptor up');
    await waitFor(async () => (await metrics(host)).bad_descriptor?.ok === 1, { what: 'bad_descriptor.ok = 1' });
    const descriptors = (await getJson(host.base, '/api/v1/descriptors')).descriptors;
    assert.equal(descriptors.filter((d) => d.plugin === 'huge').length, 1000);
    assert.equal((await metrics(host)).huge.accepted, 1000);
    assert.equal(count(host.stderr, /a plugin may register at most 1000 metrics/), 1, 'said once');
    // Each invalid descriptor is refused with its reason; the valid one works.
    assert.match(host.stderr, /\[bad_descriptor\] invalid metric '': empty id/);
    assert.match(host.stderr, /\[bad_descriptor\] duplicate metric id 'bad_descriptor\.ok'/);
    assert.match(host.stderr, /\[bad_descriptor\] invalid metric 'bad_descriptor\.has space': id must be/);
    assert.match(host.stderr, /\[bad_descriptor\] invalid metric 'bad_descriptor\.bad_unit': unit must be/);
    assert.match(host.stderr, /\[bad_descriptor\] invalid metric 'bad_descriptor\.bad_kind': unknown kind/);
    assert.deepEqual(descriptors.filter((d) => d.plugin === 'bad_descriptor').map((d) => d.id), ['bad_descriptor.ok']);
    assert.equal(typeof (await metrics(host)).good.ticks, 'number');
    // Bounded: the host holds a thousand metrics, not a hundred thousand.
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${host.pid}/status`, 'utf8'))[1]);
    console.log(`host RSS with 1000 metrics of one plugin: ${(rss / 1024).toFixed(1)} MiB`);
  });
});
