// examples.test.mjs — the example collector (examples/custom_collector),
// built like third-party code against the SDK header alone, runs in the
// real host: its descriptors, its config and its values arrive.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { EXAMPLES_DIR, connectWs, getJson, removeTempDirs, startHost, stopAllHosts, tempDir } from './host.mjs';

describe('examples/custom_collector (loadavg.so)', () => {
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('registers its card and chart, takes its config, and streams values', async () => {
    const config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, '[plugin:loadavg]\nwarn = 2.5\n');
    const host = await startHost({ pluginsDir: EXAMPLES_DIR, config });

    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const load = descriptors.find((d) => d.id === 'loadavg.load1');
    assert.ok(load, `no loadavg.load1 in ${descriptors.map((d) => d.id)}`);
    assert.equal(load.card, true);
    assert.equal(load.warn, 2.5, 'the [plugin:loadavg] warn key reached the plugin');
    assert.equal(load.crit, 8, 'the schema default for crit');
    const files = descriptors.find((d) => d.id === 'loadavg.open_files');
    assert.equal(files.chart, load.chart, 'both metrics share one chart');
    assert.equal(files.axis, 'right');

    const c = await connectWs(host.wsUrl);
    try {
      const hello = await c.nextOfType('hello');
      const index = hello.descriptors.findIndex((d) => d.id === 'loadavg.open_files');
      const sample = await c.next((m) => m.type === 'sample' && typeof m.values[index] === 'number');
      assert.ok(sample.values[index] > 0, 'the machine has open files');
    } finally {
      c.terminate();
    }
  });
});
