// lifecycle.test.mjs — start, stop, refuse: signals, a busy port, the command
// line, config errors and the plugin loader, against the real binary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  FIXTURES_DIR, PLUGINS_DIR, connectWs, getJson, ms, projectVersion, removeTempDirs, runHost,
  spawnHost, startHost, stopAllHosts, tempDir, waitFor,
} from './host.mjs';

// The bound the host promises is one second; a loaded 2-core machine gets two.
const SHUTDOWN_BOUND_MS = 2000;

after(async () => {
  try {
    await stopAllHosts();
  } finally {
    removeTempDirs();
  }
});

/** Signals a serving host that has WebSocket clients; checks close 1001 and exit 0. */
async function checkGracefulStop(signal, nClients) {
  const host = await startHost();
  const clients = [];
  try {
    for (let i = 0; i < nClients; i++) clients.push(await connectWs(host.wsUrl));
    await Promise.all(clients.map((c) => c.nextOfType('hello')));
    await Promise.all(clients.map((c) => c.nextOfType('sample')));
    const t0 = Date.now();
    host.signal(signal);
    const exit = await host.waitExit(SHUTDOWN_BOUND_MS + 8000);
    const took = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after ${signal}\n${host.describe()}`);
    assert.ok(took <= ms(SHUTDOWN_BOUND_MS), `took ${took} ms to exit after ${signal}\n${host.describe()}`);
    const codes = await Promise.all(clients.map((c) => c.waitClosed(5000).then((x) => x.code)));
    assert.deepEqual(codes, codes.map(() => 1001), `close codes ${codes} (1006 = no close frame)`);
  } finally {
    for (const c of clients) c.terminate();
    await host.kill();
  }
}

describe('shutdown', { timeout: 60000 }, () => {
  it('SIGTERM closes 10 WebSocket clients with 1001 and exits 0 promptly', async () => {
    await checkGracefulStop('SIGTERM', 10);
  });

  it('SIGINT closes a WebSocket client with 1001 and exits 0 promptly', async () => {
    await checkGracefulStop('SIGINT', 1);
  });

  it('SIGTERM with no client also exits 0', async () => {
    const host = await startHost();
    host.signal('SIGTERM');
    const exit = await host.waitExit(SHUTDOWN_BOUND_MS + 8000);
    assert.deepEqual(exit, { code: 0, signal: null }, host.describe());
  });
});

describe('busy port', { timeout: 60000 }, () => {
  it('a second host on the port the first one holds exits 1 with one clear stderr line', async () => {
    const first = await startHost();
    try {
      const port = String(first.port);
      const r = await runHost(['--host', '127.0.0.1', '--port', port, '--interval', '0.2',
                               '--plugins-dir', PLUGINS_DIR], { timeout: 10000 });
      const info = `--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
      assert.equal(r.signal, null, info);
      assert.equal(r.code, 1, info);
      assert.doesNotMatch(r.stdout, /listening/, info);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      const portLines = lines.filter((l) => l.includes(port));
      assert.equal(portLines.length, 1, `want one stderr line naming port ${port}:\n${info}`);
      assert.match(portLines[0], /in use|EADDRINUSE|bind|listen/i, info);
      // The first host is unharmed.
      const h = await getJson(first.base, '/healthz');
      assert.equal(h.status, 'ok');
    } finally {
      await first.kill();
    }
  });
});

describe('command line', { timeout: 60000 }, () => {
  it('--version prints the version and exits 0', async () => {
    const r = await runHost(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(projectVersion()), `stdout: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  it('--help exits 0 and describes the options', async () => {
    const r = await runHost(['--help']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout + r.stderr;
    for (const opt of ['--config', '--port', '--interval', '--plugins-dir']) {
      assert.ok(out.includes(opt), `--help does not mention ${opt}:\n${out}`);
    }
    assert.doesNotMatch(r.stdout, /listening/);
  });

  it('an unknown option exits non-zero without serving', async () => {
    const r = await runHost(['--no-such-option']);
    assert.notEqual(r.code, 0, r.stderr);
    assert.equal(r.signal, null);
    assert.doesNotMatch(r.stdout, /listening/);
    assert.ok(r.stderr.trim().length > 0, 'no message on stderr');
  });

  it('a config file with an unknown [host] key exits 1 naming the file and line', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.ini');
    fs.writeFileSync(file, '# a comment\n[host]\nno_such_key = 1\n');
    const r = await runHost(['--config', file, '--port', '0', '--plugins-dir', PLUGINS_DIR]);
    const info = `--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.signal, null, info);
    assert.equal(r.code, 1, info);
    assert.doesNotMatch(r.stdout, /listening/, info);
    const line = r.stderr.split('\n').find((l) => l.includes('no_such_key'));
    assert.ok(line, `stderr does not name the key:\n${info}`);
    // "FILE:LINE: ..." — the path as given (or at least the file's name).
    assert.ok(line.includes(`${file}:3:`) || line.includes('bad.ini:3:'),
              `stderr does not say bad.ini:3:\n${info}`);
  });

  it('a bad [host] value exits 1 naming the file and line', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'badvalue.ini');
    fs.writeFileSync(file, '[host]\n\ninterval = fast\n');
    const r = await runHost(['--config', file, '--port', '0', '--plugins-dir', PLUGINS_DIR]);
    const info = `--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.code, 1, info);
    assert.ok(r.stderr.includes(`${file}:3:`) || r.stderr.includes('badvalue.ini:3:'), info);
    assert.match(r.stderr, /interval/, info);
  });
});

// ---- plugins -----------------------------------------------------------

const GOOD = 'good';
// fixture -> what its skip message should say
const BAD_FIXTURES = {
  wrong_abi: /abi|version|major/i,
  no_entry: /symbol|entry|vitals_plugin/i,
  failing_init: /init/i,
  missing_symbol: /undefined|symbol|ldd/i,
  name_mismatch: /other|name/i,
  newer_minor: /minor|newer|version|abi/i,
};

/** Copies the named fixtures into a fresh plugins directory. */
function pluginsDirWith(names) {
  const dir = tempDir('vitals-it-plugins-');
  for (const n of names) {
    const src = path.join(FIXTURES_DIR, `${n}.so`);
    assert.ok(fs.existsSync(src), `fixture ${src} is not built`);
    fs.copyFileSync(src, path.join(dir, `${n}.so`));
  }
  return dir;
}

async function metricsAfterTicks(host, ticks) {
  return waitFor(async () => {
    const m = await getJson(host.base, '/api/v1/metrics');
    return m.seq >= ticks ? m : null;
  }, { timeout: 15000, what: `seq >= ${ticks}` });
}

describe('the fixtures directory as plugins dir', { timeout: 60000 }, () => {
  let host;
  let descriptors;

  before(async () => {
    host = await startHost({ pluginsDir: FIXTURES_DIR });
    descriptors = (await getJson(host.base, '/api/v1/descriptors')).descriptors;
    await metricsAfterTicks(host, 3);
  });

  after(async () => {
    await host?.kill();
  });

  const info = () => `descriptors: ${descriptors.map((x) => x.id).join(', ')}\n${host.describe()}`;

  it('the host starts and the good plugins\' metrics are there', async () => {
    const ids = descriptors.map((x) => x.id);
    assert.ok(ids.includes('good.value'), info());
    assert.ok(ids.includes('good.ticks'), info());
    assert.ok(descriptors.some((x) => x.plugin === 'good' && x.kind === 'text'), `no good text metric; ${info()}`);
    assert.ok(ids.includes('bad_descriptor.ok'), info());
    const m = await getJson(host.base, '/api/v1/metrics');
    assert.equal(m.plugins.good?.value, 5, `good.value (default start) in ${JSON.stringify(m.plugins)}`);
    assert.equal(typeof m.plugins.good?.ticks, 'number', JSON.stringify(m.plugins));
    assert.equal(m.plugins.good?.label, 'hello', JSON.stringify(m.plugins));
    assert.equal(m.plugins.bad_descriptor?.ok, 1, JSON.stringify(m.plugins));
  });

  it('skipped plugins have no metrics', () => {
    for (const bad of Object.keys(BAD_FIXTURES)) {
      assert.ok(!descriptors.some((x) => x.plugin === bad || x.id.startsWith(`${bad}.`)),
                `${bad} has descriptors although it was skipped; ${info()}`);
    }
    assert.ok(!descriptors.some((x) => /\s/.test(x.id) || x.id === ''), `a bad id was accepted; ${info()}`);
  });

  it('stderr names each skipped plugin with its reason', () => {
    const lines = host.stderr.split('\n');
    const missing = [];
    for (const [bad, reason] of Object.entries(BAD_FIXTURES)) {
      const named = lines.filter((l) => l.includes(bad));
      if (!named.some((l) => reason.test(l.replaceAll(bad, '')))) {
        missing.push(`${bad}: want a line naming it that matches ${reason}; got ${JSON.stringify(named)}`);
      }
    }
    assert.deepEqual(missing, [], `${missing.join('\n')}\n--- stderr ---\n${host.stderr}`);
  });

  it('stderr names bad_descriptor\'s refused metrics', () => {
    assert.ok(host.stderr.split('\n').some((l) => l.includes('bad_descriptor')),
              `nothing on stderr names bad_descriptor\n--- stderr ---\n${host.stderr}`);
  });

  it('the host still serves', async () => {
    assert.equal((await getJson(host.base, '/healthz')).status, 'ok');
    assert.equal(host.exited, null, host.describe());
  });
});

describe('plugin config', { timeout: 60000 }, () => {
  it('[plugin:good] start = 42 reaches the plugin', async () => {
    const pluginsDir = pluginsDirWith([GOOD]);
    const dir = tempDir();
    const file = path.join(dir, 'good.ini');
    fs.writeFileSync(file, '[plugin:good]\nstart = 42\nlabel = from the config\n');

    const plain = await startHost({ pluginsDir });
    let base;
    try {
      base = (await metricsAfterTicks(plain, 2)).plugins.good;
    } finally {
      await plain.kill();
    }
    const configured = await startHost({ pluginsDir, config: file });
    try {
      const good = (await metricsAfterTicks(configured, 2)).plugins.good;
      const info = `without config: ${JSON.stringify(base)}; with start = 42: ${JSON.stringify(good)}\n${configured.describe()}`;
      assert.equal(base.value, 5, info);
      assert.equal(good.value, 42, info);
      assert.equal(good.label, 'from the config', info);
    } finally {
      await configured.kill();
    }
  });

  it('an unknown key in [plugin:good] is reported with file and line', async () => {
    const pluginsDir = pluginsDirWith([GOOD]);
    const file = path.join(tempDir(), 'unknown.ini');
    fs.writeFileSync(file, '[plugin:good]\nstart = 1\nno_such_key = 2\n');
    // Whether the host refuses to start or skips the plugin, it must say where.
    const host = spawnHost(['--config', file, '--host', '127.0.0.1', '--port', '0',
                            '--interval', '0.2', '--plugins-dir', pluginsDir]);
    try {
      await waitFor(() => host.exited || /no_such_key/.test(host.stderr),
                    { timeout: 10000, what: 'a message about no_such_key' })
        .catch((e) => { throw new Error(`${e.message}\n${host.describe()}`); });
      const line = host.stderr.split('\n').find((l) => l.includes('no_such_key'));
      assert.ok(line && (line.includes(`${file}:3:`) || line.includes('unknown.ini:3:')),
                `want "unknown.ini:3: ..." naming no_such_key\n${host.describe()}`);
    } finally {
      await host.kill();
    }
  });

  it('an empty plugins directory still serves', async () => {
    const host = await startHost({ pluginsDir: tempDir('vitals-it-empty-') });
    try {
      const h = await getJson(host.base, '/healthz');
      assert.equal(h.status, 'ok');
    } finally {
      await host.kill();
    }
  });
});
