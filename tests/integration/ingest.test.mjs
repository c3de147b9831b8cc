// ingest.test.mjs — what applications report reaches the dashboard exactly:
// known StatsD datagrams over real UDP and JSON/StatsD HTTP posts go into the
// real host, and the exact figures come back from /api/v1/metrics and the
// WebSocket stream (action and event plugins, docs/ingest.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';

import { connectWs, getJson, request, startHost, stopAllHosts, waitFor } from './host.mjs';

/** Sends one datagram to the host's StatsD port. */
function sendUdp(port, text) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      sock.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

const post = (base, body, type = 'application/json') =>
  request(base, '/api/v1/ingest', { method: 'POST', body, headers: { 'content-type': type } });

describe('ingest → action and event plugins', () => {
  let host, udpPort;
  const metrics = async () => (await getJson(host.base, '/api/v1/metrics')).plugins;

  before(async () => {
    host = await startHost();
    const health = await getJson(host.base, '/healthz');
    udpPort = health.ingest.udp_port;
    assert.ok(udpPort > 0, `no UDP port in ${JSON.stringify(health)}`);
  });
  after(stopAllHosts);

  it('a datagram of actions, queue depth and current action gives exact figures', async () => {
    const lines = [];
    for (let i = 0; i < 8; i++) lines.push(`action:100|ms|#name:fetch,ok:true`);
    lines.push('action:100|ms|#name:save,ok:false', 'action:100|ms|#name:save,ok:false');
    lines.push('this line is malformed');
    lines.push('action.queue:5|g', 'action.current:checkout|s');
    await sendUdp(udpPort, lines.join('\n'));

    const m = await waitFor(async () => {
      const p = await metrics();
      return p.action && p.action.total === 10 && p.action.current === 'checkout' ? p : null;
    }, { timeout: 10000, what: 'action.total = 10 on /api/v1/metrics' });
    assert.equal(m.action.errors, 2);
    assert.equal(m.action.success_rate, 80);
    assert.equal(m.action.per_minute, 10);
    assert.equal(m.action.queue, 5);
    const [count, mean, p50, p95, p99] = m.action.duration;
    assert.deepEqual([count, mean, p50, p95, p99], [10, 0.1, 0.1, 0.1, 0.1]);
    // The malformed line was counted, and the rest of the datagram still counted.
    const health = await getJson(host.base, '/healthz');
    assert.equal(health.ingest.rejected, 1);
    assert.equal(health.ingest.records, 12);
  });

  it('events: processed, failed, queued and queue depth', async () => {
    await sendUdp(udpPort, ['event:20|ms|#ok:true', 'event:40|ms|#ok:true', 'event:60|ms|#ok:false',
                            'event.queued:7|c', 'event.queue:4|g'].join('\n'));
    const m = await waitFor(async () => {
      const p = await metrics();
      return p.event && p.event.processed === 3 && p.event.queue === 4 ? p : null;
    }, { timeout: 10000, what: 'event.processed = 3' });
    assert.equal(m.event.failed, 1);
    assert.equal(m.event.queued, 7);
    assert.equal(m.event.duration[0], 3);
    assert.ok(Math.abs(m.event.duration[1] - 0.04) < 1e-9, `mean ${m.event.duration[1]}`);
  });

  it('POST /api/v1/ingest takes JSON records and StatsD text, refusing bad records one by one', async () => {
    const r = await post(host.base, JSON.stringify([
      { name: 'action', type: 'timing', value: 100, tags: { name: 'fetch', ok: true } },
      { name: 'action', type: 'ms', value: 100, tags: ['name:fetch', 'ok:false'] },
      { name: 'action.queue', type: 'gauge', value: 2, delta: true },
      { name: 'bad name!', type: 'timing', value: 1 },
    ]));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.accepted, 3);
    assert.equal(r.json.rejected, 1);
    assert.equal(r.json.errors[0].index, 3);

    const t = await post(host.base, 'action:100|ms|#name:fetch,ok:true\naction.current:-|s\n', 'text/plain');
    assert.equal(t.status, 200, t.body);
    assert.deepEqual(t.json, { accepted: 2, rejected: 0 });

    const m = await waitFor(async () => {
      const p = await metrics();
      return p.action.total === 13 ? p : null;
    }, { timeout: 10000, what: 'action.total = 13' });
    assert.equal(m.action.errors, 3);
    assert.equal(m.action.queue, 7, 'the gauge delta added 2 to 5');
    assert.equal(m.action.current, null, 'current action cleared with "-"');

    assert.equal((await post(host.base, 'not json')).status, 400);
    assert.equal((await post(host.base, '{"records": 5}')).status, 400);
    assert.equal((await request(host.base, '/api/v1/ingest')).status, 405);
  });

  it('a line sent over UDP reaches WebSocket clients within a few ticks', async () => {
    const c = await connectWs(host.wsUrl);
    try {
      const hello = await c.nextOfType('hello');
      const index = hello.descriptors.findIndex((d) => d.id === 'action.current');
      assert.ok(index >= 0, 'action.current is described in hello');
      const first = await c.nextOfType('sample');
      await sendUdp(udpPort, 'action.current:render_page|s');
      const seen = await c.next((msg) => msg.type === 'sample' && msg.values[index] === 'render_page',
        10000, 'a sample carrying the new current action');
      // One tick to arrive, one to be sampled: allow three for a loaded machine.
      assert.ok(seen.seq - first.seq <= 3, `took ${seen.seq - first.seq} ticks`);
    } finally {
      c.terminate();
    }
  });

  it('descriptors registered at run time (a new action name) reach connected clients', async () => {
    const c = await connectWs(host.wsUrl);
    try {
      await c.nextOfType('hello');
      await sendUdp(udpPort, 'action:5|ms|#name:Brand New,ok:true');
      const msg = await c.next((m) => m.type === 'descriptors' &&
        m.descriptors.some((d) => d.id.startsWith('action.by_name.brand_new')), 10000,
        'a descriptors message with the new per-name metrics');
      assert.ok(msg.generation > 0);
    } finally {
      c.terminate();
    }
  });
});
