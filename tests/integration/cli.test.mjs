// cli.test.mjs — the command-line tools of the real binary:
// `vitals --list-plugins` (load the plugins, print version, status and
// metrics, exit) and `vitals --check-config FILE` (the file, and each
// [plugin:NAME] section against that plugin's schema, without running it).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  FIXTURES_DIR, PLUGINS_DIR, SOURCE_DIR, removeTempDirs, runHost, stopAllHosts, tempDir,
} from './host.mjs';

after(async () => {
  try {
    await stopAllHosts();
  } finally {
    removeTempDirs();
  }
});

/** Writes `text` to a fresh temp file named vitals.ini; returns its path. */
function iniFile(text) {
  const file = path.join(tempDir('vitals-cli-'), 'vitals.ini');
  fs.writeFileSync(file, text);
  return file;
}

/** The block of `--list-plugins` output about NAME.so (header to blank line). */
function block(stdout, name) {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${name}.so `));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('vitals --list-plugins', () => {
  it('lists the bundled plugins with versions, status and metric ids, kinds and units, and exits 0', async () => {
    const r = await runHost(['--list-plugins', '--plugins-dir', PLUGINS_DIR, '--config', iniFile('')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Plugins in ${PLUGINS_DIR}:`), r.stdout);
    for (const name of ['system', 'action', 'event']) {
      const b = block(r.stdout, name);
      assert.ok(b, `no ${name}.so in:\n${r.stdout}`);
      assert.match(b, new RegExp(`^${name}\\.so  \\d+\\.\\d+\\S*  running, \\d+ metrics?$`, 'm'), b);
      assert.match(b, new RegExp(`^    ${name}\\.[a-z0-9_.]+ +(gauge|counter|histogram|text) +\\S+$`, 'm'), b);
    }
    assert.match(block(r.stdout, 'system'), /^ {4}system\.cpu_percent +gauge +percent$/m);
    assert.match(block(r.stdout, 'action'), /^ {4}action\.duration +histogram +seconds$/m);
    assert.match(block(r.stdout, 'action'), /^ {4}action\.current +text +-$/m);
    assert.match(r.stdout, /^3 plugins: 3 running, 0 disabled, 0 failed$/m);
    assert.ok(!/vitals listening/.test(r.stdout), 'it must not start serving');
  });

  it('honours --config: a disabled plugin is listed as disabled, with its version', async () => {
    const config = iniFile('[plugin:event]\nenabled = false\n');
    const r = await runHost(['--list-plugins', '--plugins-dir', PLUGINS_DIR, '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(block(r.stdout, 'event'), /^event\.so  \d+\.\d+\S*  disabled \(enabled = false in \[plugin:event\]\)$/m);
    assert.match(r.stdout, /^3 plugins: 2 running, 1 disabled, 0 failed$/m);
  });

  it('lists the fixture plugins that fail, each with its reason', async () => {
    const r = await runHost(['--list-plugins', '--plugins-dir', FIXTURES_DIR, '--config', iniFile('')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(block(r.stdout, 'good'), /^good\.so  1\.0  running/m);
    assert.match(block(r.stdout, 'good'), /^ {4}good\.value +gauge/m);
    const reasons = {
      wrong_abi: /failed: built for plugin ABI 99\.\d+, this host speaks/,
      newer_minor: /failed: built for plugin ABI \d+\.\d+, this host speaks/,
      no_entry: /failed: no vitals_plugin_entry symbol/,
      missing_symbol: /failed: cannot load: .*undefined symbol/,
      name_mismatch: /failed: plugin calls itself 'other'/,
      failing_init: /failed: init failed: cannot open the frobnicator/,
    };
    for (const [name, re] of Object.entries(reasons)) {
      const b = block(r.stdout, name);
      assert.ok(b, `no ${name}.so in:\n${r.stdout}`);
      assert.match(b, re, b);
    }
    assert.ok(!r.stdout.includes('libnot_a_plugin'), 'only *.so files are plugins');
    assert.match(r.stdout, /^\d+ plugins: \d+ running, 0 disabled, 6 failed$/m);
  });

  it('exits 1 when the plugins directory does not exist', async () => {
    const missing = path.join(tempDir(), 'nope');
    const r = await runHost(['--list-plugins', '--plugins-dir', missing, '--config', iniFile('')]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(missing), r.stderr);
  });
});

describe('vitals --check-config FILE', () => {
  it('conf/vitals.ini is valid for the bundled plugins: "FILE: ok", exit 0', async () => {
    const file = path.join(SOURCE_DIR, 'conf', 'vitals.ini');
    const r = await runHost(['--check-config', file, '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout, `${file}: ok\n`);
  });

  it('a bad key in [plugin:system] fails with file:line and the key, exit 1', async () => {
    const file = iniFile('[host]\nport = 0\n\n[plugin:system]\nenabled = true\ncolour = blue\n');
    const r = await runHost(['--check-config', file, '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.includes(`${file}:6: unknown key 'colour' in [plugin:system]; valid keys: enabled,`),
              r.stderr);
    assert.ok(!r.stdout.includes('ok'), r.stdout);
  });

  it('reports every error, not just the first: values, enabled, missing plugins', async () => {
    const file = iniFile([
      '[plugin:system]', 'bogus = 1',                // 2
      '[plugin:action]', 'window = soon',            // 4
      '[plugin:event]', 'enabled = perhaps',         // 6
      '[plugin:nosuch]', 'x = 1',                    // 7 (the header)
      '',
    ].join('\n'));
    const r = await runHost(['--check-config', file, '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`${file}:2: unknown key 'bogus' in [plugin:system]`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:4: key 'window' in [plugin:action]: 'soon' is not a number`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:6: key 'enabled' in [plugin:event]: 'perhaps' is not a boolean`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:7: [plugin:nosuch]: no plugin nosuch.so in ${PLUGINS_DIR}`), r.stderr);
    assert.ok(r.stderr.includes(`${file}: 4 errors`), r.stderr);
  });

  it('a [host] error is reported with its line', async () => {
    const file = iniFile('[host]\nport = many\n');
    const r = await runHost(['--check-config', file, '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${file}:2: key 'port' in [host]`), r.stderr);
  });

  it('checks schemas without running init: failing_init passes, a wrong ABI does not', async () => {
    const ok = iniFile('[plugin:failing_init]\nenabled = true\n[plugin:good]\nstart = 7\nlabel = hi\n');
    let r = await runHost(['--check-config', ok, '--plugins-dir', FIXTURES_DIR]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${ok}: ok\n`);
    assert.ok(!r.stderr.includes('frobnicator'), 'init must not run');

    const bad = iniFile('[plugin:good]\nstart = seven\n[plugin:wrong_abi]\n');
    r = await runHost(['--check-config', bad, '--plugins-dir', FIXTURES_DIR]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${bad}:2: key 'start' in [plugin:good]: 'seven' is not an integer`), r.stderr);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: \\[plugin:wrong_abi\\]: .*built for plugin ABI 99`));
  });

  it('a missing file is an error, exit 1', async () => {
    const r = await runHost(['--check-config', path.join(tempDir(), 'absent.ini'), '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read the config file/);
  });
});
