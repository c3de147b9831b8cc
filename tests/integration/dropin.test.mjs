// dropin.test.mjs — plugins go live without a restart: a .so copied into the
// plugins directory is loaded once it is complete (never half-written), its
// descriptors reach connected dashboards, a removed file's metrics retire,
// a replaced file loads its new version, and SIGHUP re-reads the config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  EXAMPLES_DIR, PLUGINS_DIR, connectWs, getJson, removeTempDirs, sleep, startHost, stopAllHosts,
  tempDir, waitFor,
} from './host.mjs';

const EXAMPLE = path.join(EXAMPLES_DIR, 'loadavg.so');
const ids = async (host) => (await getJson(host.base, '/api/v1/descriptors')).descriptors.map((d) => d.id);
const load1 = async (host) =>
  (await getJson(host.base, '/api/v1/descriptors')).descriptors.find((d) => d.id === 'loadavg.load1');

describe('live drop-in of plugins', () => {
  let host, dir, config, client;
  before(async () => {
    dir = tempDir('vitals-dropin-');
    fs.copyFileSync(path.join(PLUGINS_DIR, 'system.so'), path.join(dir, 'system.so'));
    config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, '[plugin:loadavg]\nwarn = 3\n');
    host = await startHost({ pluginsDir: dir, config });
    client = await connectWs(host.wsUrl);
    await client.nextOfType('hello');
  });
  after(async () => {
    client?.terminate();
    await stopAllHosts();
    removeTempDirs();
  });

  it('a file copied in slowly is loaded only once complete, and announced to dashboards', async () => {
    const bytes = fs.readFileSync(EXAMPLE);
    const target = path.join(dir, 'loadavg.so');
    const fd = fs.openSync(target, 'w');
    const chunks = 8;
    for (let i = 0; i < chunks; i++) {
      // Each pause is shorter than the settle time, the whole copy longer.
      fs.writeSync(fd, bytes.subarray(Math.floor((i * bytes.length) / chunks), Math.floor(((i + 1) * bytes.length) / chunks)));
      await sleep(150);
    }
    fs.closeSync(fd);
    const done = Date.now();
    const msg = await client.next((m) => m.type === 'descriptors' &&
      m.descriptors.some((d) => d.id === 'loadavg.load1'), 10000, 'a descriptors message with loadavg');
    const took = Date.now() - done;
    assert.ok(msg.generation > 0);
    assert.equal((await load1(host)).warn, 3, 'the plugin got its [plugin:loadavg] section');
    // Nothing tried to load the half-written file.
    assert.doesNotMatch(host.stderr, /skipping plugin [^\n]*loadavg/, host.stderr);
    console.log(`loaded ${took} ms after the copy completed`);
    // Samples carry its values once it is live.
    const index = msg.descriptors.findIndex((d) => d.id === 'loadavg.open_files');
    await client.next((m) => m.type === 'sample' && typeof m.values[index] === 'number', 10000,
      'a sample with loadavg.open_files');
  });

  it('SIGHUP restarts a plugin whose section changed, and a bad file changes nothing', async () => {
    fs.writeFileSync(config, '[plugin:loadavg]\nwarn = 1.5\n');
    host.signal('SIGHUP');
    await waitFor(async () => (await load1(host))?.warn === 1.5, { timeout: 10000, what: 'warn = 1.5 after SIGHUP' });
    fs.writeFileSync(config, '[plugin:loadavg]\nwarn = lots\n');
    host.signal('SIGHUP');
    await waitFor(() => /keeping the running config/.test(host.stderr), { timeout: 10000, what: 'the reload refused' });
    assert.equal((await load1(host)).warn, 1.5);
    assert.equal(host.exited, null, 'the host is still running');
  });

  it('a removed file is shut down and its metrics retired', async () => {
    fs.unlinkSync(path.join(dir, 'loadavg.so'));
    await client.next((m) => m.type === 'descriptors' && !m.descriptors.some((d) => d.id.startsWith('loadavg.')),
      10000, 'a descriptors message without loadavg');
    await waitFor(async () => !(await ids(host)).some((id) => id.startsWith('loadavg.')),
      { timeout: 10000, what: 'loadavg gone from /api/v1/descriptors' });
    assert.equal((await getJson(host.base, '/healthz')).plugins, 1);
  });

  it('a file moved in again (a new version) is loaded again', async () => {
    const staging = path.join(dir, '.loadavg.so.partial');
    fs.copyFileSync(EXAMPLE, staging);
    fs.renameSync(staging, path.join(dir, 'loadavg.so'));
    await waitFor(async () => (await ids(host)).includes('loadavg.load1'),
      { timeout: 10000, what: 'loadavg back in /api/v1/descriptors' });
    assert.equal((await getJson(host.base, '/healthz')).plugins, 2);
    assert.equal(host.exited, null);
  });
});
