// docs.test.mjs — the documentation tells the truth about the real binary.
//
// Blocks in docs/*.md marked with an HTML comment on the line before their
// fence are run here:
//
//   docs/plugin-sdk.md
//     <!-- test: minimal-plugin -->          the complete plugin (```c): it
//                                            compiles with -Werror against the
//                                            SDK header alone and runs
//     <!-- test: minimal-plugin-config -->   its [plugin:NAME] section (```ini)
//   docs/configuration.md
//     <!-- test: config-valid -->            the host starts with it and serves
//                                            /healthz; no plugin is skipped
//     <!-- test: config-invalid expect="TEXT" -->
//                                            the host exits 1, TEXT on stderr
//     <!-- test: config-plugin-error expect="TEXT" check-config="fails|passes" -->
//                                            the host starts, skips a plugin
//                                            and logs TEXT; --check-config
//                                            exits 1 (with TEXT) or 0
//   docs/protocol.md
//     <!-- test: shape GET /path[?query] [status=N] -->, POST likewise
//     <!-- test: shape WS <type> -->, <!-- test: shape descriptor -->
//                                            the live answer has at least the
//                                            keys of the JSON example (key
//                                            sets, not values)
//     <!-- test: prometheus -->              every HELP/TYPE line and sample
//                                            name of the example is live
//
// Config files are written as `vitals.ini` in a temporary directory and run
// with `--host 127.0.0.1 --port 0 --ingest-port 0 --plugins-dir PLUGINS_DIR`,
// so tests never collide on ports and never listen beyond loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  PLUGINS_DIR, SOURCE_DIR, connectWs, getJson, ms, removeTempDirs, request, runHost, spawnHost,
  startHost, stopAllHosts, tempDir, waitFor,
} from './host.mjs';

const DOCS = path.join(SOURCE_DIR, 'docs');

// ---- reading the marked blocks ------------------------------------------------

/**
 * Every fenced block of `file` preceded by `<!-- test: SPEC -->` (blank lines
 * between are allowed): [{kind, words, attrs, lang, body, where}].  `kind` is
 * SPEC's first word, `words` the other bare words, `attrs` its key="value"
 * and key=value pairs.
 */
function markedBlocks(name) {
  const file = path.join(DOCS, name);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!--\s*test:\s*(.*?)\s*-->\s*$/.exec(lines[i]);
    if (!marker) continue;
    const where = `${name}:${i + 1}`;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^```([\w-]*)\s*$/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`${where}: the marker is not followed by a fenced block`);
    let k = j + 1;
    while (k < lines.length && !/^```\s*$/.test(lines[k])) k++;
    if (k === lines.length) throw new Error(`${where}: the fenced block never ends`);

    const attrs = {};
    // key="value" or key=value standing alone (not the query of a path).
    const spec = marker[1].replace(/(^|\s)([\w-]+)=(?:"([^"]*)"|(\S+))/g, (_, space, key, quoted, bare) => {
      attrs[key] = quoted ?? bare;
      return ' ';
    });
    const [kind, ...words] = spec.trim().split(/\s+/);
    blocks.push({ kind, words, attrs, lang: fence[1], body: `${lines.slice(j + 1, k).join('\n')}\n`, where });
    i = k;
  }
  return blocks;
}

/** The blocks of `name`, failing on a marker kind that no test reads. */
function blocksOf(name, kinds) {
  const blocks = markedBlocks(name);
  for (const b of blocks) {
    assert.ok(kinds.includes(b.kind), `${b.where}: unknown marker "test: ${b.kind}" (known: ${kinds.join(', ')})`);
  }
  return blocks;
}

/** A small INI reader for the examples: {section: {key: value}}. */
function parseIni(text) {
  const out = {};
  let section = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (section && eq > 0) out[section][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Writes `text` as vitals.ini in a fresh temporary directory; returns the path. */
function writeConfig(text) {
  const file = path.join(tempDir('vitals-docs-'), 'vitals.ini');
  fs.writeFileSync(file, text);
  return file;
}

/** Starts the host the way every config example is run; waits for it to listen. */
async function startWithConfig(config, pluginsDir = PLUGINS_DIR) {
  const host = spawnHost(['--config', config, '--host', '127.0.0.1', '--port', '0',
                          '--ingest-port', '0', '--plugins-dir', pluginsDir]);
  try {
    await host.waitListening();
  } catch (e) {
    await host.kill();
    throw e;
  }
  return host;
}

/** Asserts that `live` has every key `documented` has (top level). */
function assertKeys(documented, live, what) {
  assert.ok(live && typeof live === 'object' && !Array.isArray(live),
            `${what}: the live answer is not a JSON object: ${JSON.stringify(live)?.slice(0, 300)}`);
  const missing = Object.keys(documented).filter((k) => !(k in live));
  assert.deepEqual(missing, [], `${what}: the live answer lacks documented keys ${missing.join(', ')}; ` +
                   `it has ${Object.keys(live).join(', ')}`);
}

/** assertKeys, and each documented descriptor (by id) against the live one. */
function assertShape(documented, live, what) {
  assertKeys(documented, live, what);
  if (Array.isArray(documented.descriptors)) {
    for (const d of documented.descriptors) {
      const found = live.descriptors.find((x) => x.id === d.id);
      assert.ok(found, `${what}: no live descriptor ${d.id}`);
      assertKeys(d, found, `${what}, descriptor ${d.id}`);
    }
  }
}

function parseJson(block) {
  try {
    return JSON.parse(block.body);
  } catch (e) {
    throw new Error(`${block.where}: the example is not JSON: ${e.message}`);
  }
}

// ---- docs/plugin-sdk.md ---------------------------------------------------------

describe('docs/plugin-sdk.md', () => {
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('the minimal plugin compiles with -Werror, loads, registers its metric and takes its config', async () => {
    const blocks = blocksOf('plugin-sdk.md', ['minimal-plugin', 'minimal-plugin-config']);
    const sources = blocks.filter((b) => b.kind === 'minimal-plugin');
    const configs = blocks.filter((b) => b.kind === 'minimal-plugin-config');
    assert.equal(sources.length, 1, 'exactly one block marked minimal-plugin');
    assert.equal(sources[0].lang, 'c', `${sources[0].where}: a \`\`\`c block`);
    assert.ok(configs.length <= 1, 'at most one block marked minimal-plugin-config');

    const source = sources[0].body;
    const name = /VITALS_PLUGIN_DEFINE\(\s*(\w+)/.exec(source)?.[1];
    assert.ok(name, `${sources[0].where}: no VITALS_PLUGIN_DEFINE(name, …)`);

    // Built like third-party code: the SDK header and libc, nothing else.
    const dir = tempDir('vitals-docs-plugin-');
    const file = path.join(tempDir(), `${name}.c`);
    fs.writeFileSync(file, source);
    const cc = process.env.CC || 'cc';
    const args = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC',
                  `-I${path.join(SOURCE_DIR, 'sdk')}`, file, '-o', path.join(dir, `${name}.so`)];
    const built = spawnSync(cc, args, { encoding: 'utf8', timeout: ms(60000) });
    if (built.error) throw built.error;
    assert.equal(built.status, 0, `${cc} ${args.join(' ')}\n${built.stdout}${built.stderr}`);

    // Its section as the doc shows it, with `path` pointed at a file whose
    // number we know, so that both keys are seen to reach the plugin.
    const section = `plugin:${name}`;
    const shown = configs.length ? parseIni(configs[0].body) : {};
    if (configs.length) {
      assert.deepEqual(Object.keys(shown), [section], `${configs[0].where}: one [${section}] section`);
    }
    const keys = shown[section] ?? {};
    const fake = path.join(tempDir(), 'uptime');
    fs.writeFileSync(fake, '12345.5 20000.25\n');
    const lines = (configs.length ? configs[0].body : `[${section}]\n`).split('\n')
      .filter((l) => !/^\s*path\s*=/.test(l));
    lines.splice(lines.findIndex((l) => l.trim() === `[${section}]`) + 1, 0, `path = ${fake}`);
    const config = writeConfig(lines.join('\n'));

    const host = await startWithConfig(config, dir);
    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const mine = descriptors.filter((d) => d.plugin === name);
    assert.ok(mine.length > 0, `no descriptor of plugin ${name}: ${descriptors.map((d) => d.id)}\n${host.describe()}`);
    assert.doesNotMatch(host.stderr, /skipping plugin/, host.describe());

    const metric = mine.find((d) => d.id === `${name}.seconds`);
    assert.ok(metric, `no ${name}.seconds in ${mine.map((d) => d.id)}`);
    const warnDays = Number(keys.warn_days ?? 30);
    assert.equal(metric.warn, warnDays * 86400, 'warn_days reached the plugin (the card threshold)');
    const value = await waitFor(async () => {
      const m = await getJson(host.base, '/api/v1/metrics');
      return m.plugins?.[name]?.seconds;
    }, { timeout: 10000, what: `a value of ${name}.seconds` });
    assert.equal(value, 12345.5, 'path reached the plugin (the value read from it)');
    await host.kill();

    // Without a section the schema's defaults apply: /proc/uptime, 30 days.
    const plain = await startWithConfig(writeConfig('# nothing\n'), dir);
    const byDefault = (await getJson(plain.base, '/api/v1/descriptors')).descriptors
      .find((d) => d.id === `${name}.seconds`);
    assert.equal(byDefault?.warn, 30 * 86400, 'the default of warn_days');
    const real = await waitFor(async () => (await getJson(plain.base, '/api/v1/metrics')).plugins?.[name]?.seconds,
      { timeout: 10000, what: `${name}.seconds from /proc/uptime` });
    assert.ok(real > 0, `the machine has been up: ${real}`);
    await plain.kill();
  });
});

// ---- docs/configuration.md --------------------------------------------------------

describe('docs/configuration.md', () => {
  const blocks = blocksOf('configuration.md', ['config-valid', 'config-invalid', 'config-plugin-error']);
  const of = (kind) => blocks.filter((b) => b.kind === kind);

  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('has examples of each kind', () => {
    assert.ok(of('config-valid').length >= 1, 'a config-valid example');
    assert.ok(of('config-invalid').length >= 1, 'a config-invalid example');
    for (const b of blocks) assert.equal(b.lang, 'ini', `${b.where}: an \`\`\`ini block`);
    for (const b of [...of('config-invalid'), ...of('config-plugin-error')]) {
      assert.ok(b.attrs.expect, `${b.where}: expect="…" says what the error reads`);
    }
    for (const b of of('config-plugin-error')) {
      assert.ok(['fails', 'passes'].includes(b.attrs['check-config']),
                `${b.where}: check-config="fails" or "passes"`);
    }
  });

  /** Starts a host on `text`, checks /healthz; returns the host (running). */
  async function startsAndServes(text) {
    const host = await startWithConfig(writeConfig(text));
    const health = await getJson(host.base, '/healthz');
    assert.equal(health.status, 'ok');
    return host;
  }

  for (const b of of('config-valid')) {
    it(`${b.where}: the host starts with it, serves /healthz and skips no plugin`, async () => {
      const host = await startsAndServes(b.body);
      assert.doesNotMatch(host.stderr, / error \[/, host.describe());
      await host.kill();
    });
  }

  it('conf/vitals.ini (the shipped file) is valid', async () => {
    const host = await startsAndServes(fs.readFileSync(path.join(SOURCE_DIR, 'conf', 'vitals.ini'), 'utf8'));
    assert.doesNotMatch(host.stderr, / error \[/, host.describe());
    await host.kill();
  });

  for (const b of of('config-invalid')) {
    it(`${b.where}: the host refuses to start: ${b.attrs.expect}`, async () => {
      const config = writeConfig(b.body);
      const r = await runHost(['--config', config, '--host', '127.0.0.1', '--port', '0',
                               '--ingest-port', '0', '--plugins-dir', PLUGINS_DIR]);
      assert.equal(r.code, 1, `exit status\n${r.host.describe()}`);
      assert.ok(r.stderr.includes(b.attrs.expect), `stderr lacks "${b.attrs.expect}":\n${r.stderr}`);
      assert.doesNotMatch(r.stdout, /listening/, 'it never listened');
    });
  }

  for (const b of of('config-plugin-error')) {
    it(`${b.where}: the host starts without the plugin: ${b.attrs.expect}`, async () => {
      const config = writeConfig(b.body);
      const host = await startsAndServes(b.body);
      await waitFor(() => host.stderr.includes(b.attrs.expect),
        { timeout: 5000, what: `"${b.attrs.expect}" in the log of\n${host.describe()}` });
      assert.match(host.stderr, /error \[loader\] skipping plugin /);
      await host.kill();

      const check = await runHost(['--check-config', config, '--plugins-dir', PLUGINS_DIR]);
      if (b.attrs['check-config'] === 'fails') {
        assert.equal(check.code, 1, `--check-config exit status\n${check.host.describe()}`);
        assert.ok(check.stderr.includes(b.attrs.expect), `--check-config stderr lacks "${b.attrs.expect}":\n${check.stderr}`);
      } else {
        assert.equal(check.code, 0, `--check-config exit status\n${check.host.describe()}`);
      }
    });
  }
});

// ---- docs/protocol.md -------------------------------------------------------------

describe('docs/protocol.md', () => {
  const blocks = blocksOf('protocol.md', ['shape', 'prometheus']);
  const shapes = blocks.filter((b) => b.kind === 'shape');
  const http = shapes.filter((b) => ['GET', 'POST'].includes(b.words[0]));
  const ws = shapes.filter((b) => b.words[0] === 'WS');
  let host;

  before(async () => {
    host = await startHost();
    // Three actions named fetch and two named save, as the Prometheus example.
    const lines = ['fetch', 'fetch', 'fetch'].map((n) => `action:100|ms|#name:${n},ok:true`)
      .concat(['save', 'save'].map((n) => `action:300|ms|#name:${n},ok:false`));
    const r = await request(host.base, '/api/v1/ingest', {
      method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `${lines.join('\n')}\n` });
    assert.equal(r.status, 200, r.body);
    await waitFor(async () => /^vitals_action_by_name_count_total\{name="save"\} 2$/m
      .test((await request(host.base, '/metrics')).body), { timeout: 10000, what: 'the actions on /metrics' });
  });
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('every JSON route of the route table has a shape example', () => {
    const text = fs.readFileSync(path.join(DOCS, 'protocol.md'), 'utf8');
    const routes = [...text.matchAll(/^\| `(GET|POST) (\/[^`?\s]*)/gm)]
      .map((m) => `${m[1]} ${m[2]}`)
      .filter((r) => /^(GET|POST) \/(api\/|healthz)/.test(r));
    assert.ok(routes.length >= 5, `routes found in the table: ${routes}`);
    const shown = new Set(http.filter((b) => !b.attrs.status).map((b) => `${b.words[0]} ${b.words[1].split('?')[0]}`));
    const missing = routes.filter((r) => !shown.has(r));
    assert.deepEqual(missing, [], 'routes without a <!-- test: shape … --> example');
    for (const type of ['hello', 'sample', 'descriptors', 'metrics', 'pong', 'error']) {
      assert.ok(ws.some((b) => b.words[1] === type), `a <!-- test: shape WS ${type} --> example`);
    }
  });

  for (const b of http) {
    const [method, target] = b.words;
    const status = Number(b.attrs.status ?? 200);
    it(`${b.where}: ${method} ${target} answers ${status} with the documented keys`, async () => {
      const documented = parseJson(b);
      const options = method === 'POST'
        ? { method, headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify([{ name: 'docs.check', type: 'counter', value: 1 }]) }
        : { method };
      const r = await request(host.base, target, options);
      assert.equal(r.status, status, `${method} ${target}: ${r.body.slice(0, 300)}`);
      assertShape(documented, r.json, `${method} ${target}`);
    });
  }

  it('the descriptor example has the keys of the live descriptor with its id', async () => {
    const examples = shapes.filter((b) => b.words[0] === 'descriptor');
    assert.ok(examples.length >= 1, 'a <!-- test: shape descriptor --> example');
    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    for (const b of examples) {
      const d = parseJson(b);
      const live = descriptors.find((x) => x.id === d.id);
      assert.ok(live, `${b.where}: no live descriptor ${d.id}`);
      assertKeys(d, live, `${b.where}: descriptor ${d.id}`);
    }
  });

  it('the WebSocket messages have the documented keys', async () => {
    const c = await connectWs(host.wsUrl);
    try {
      const live = {};
      live.hello = await c.nextOfType('hello');
      live.sample = await c.nextOfType('sample');
      c.send({ type: 'ping' });
      live.pong = await c.nextOfType('pong');
      c.send({ type: 'request_metrics' });
      live.metrics = await c.nextOfType('metrics');
      c.send({ type: 'no such type' });
      live.error = await c.nextOfType('error');
      // A new action name makes the action plugin register metrics of its own.
      c.skipReceived();
      const r = await request(host.base, '/api/v1/ingest', {
        method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'action:5|ms|#name:docs_ws\n' });
      assert.equal(r.status, 200, r.body);
      live.descriptors = await c.nextOfType('descriptors');
      for (const b of ws) {
        const type = b.words[1];
        assert.ok(live[type], `${b.where}: no way to provoke a "${type}" message`);
        const documented = parseJson(b);
        assert.equal(documented.type, type, `${b.where}: the example's type`);
        assertShape(documented, live[type], `${b.where}: WS ${type}`);
      }
      assert.deepEqual(Object.keys(live.hello.history).sort(), ['seq', 'ts', 'values']);
    } finally {
      c.terminate();
    }
  });

  it('the Prometheus example: its HELP and TYPE lines and sample names are live', async () => {
    const examples = blocks.filter((b) => b.kind === 'prometheus');
    assert.ok(examples.length >= 1, 'a <!-- test: prometheus --> example');
    const r = await request(host.base, '/metrics');
    assert.equal(r.status, 200);
    const liveLines = r.body.split('\n');
    const liveSamples = new Set(liveLines.filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ')[0]));
    for (const b of examples) {
      for (const line of b.body.split('\n').filter(Boolean)) {
        if (line.startsWith('#')) {
          assert.ok(liveLines.includes(line), `${b.where}: "${line}" is not on /metrics:\n${r.body}`);
        } else {
          const sample = line.split(' ')[0];
          assert.ok(liveSamples.has(sample), `${b.where}: no sample ${sample} on /metrics:\n${r.body}`);
        }
      }
    }
  });
});
