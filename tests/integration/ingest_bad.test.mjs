// ingest_bad.test.mjs — bad input to the ingest paths is counted and
// skipped, and the good records around it still count, exactly.
//
// Over real UDP: malformed lines, binary lines (NUL bytes, invalid UTF-8),
// an all-binary datagram, empty and blank-only datagrams, lines at and past
// the 4096-byte limit, the largest datagram IPv4 can carry (65,507 bytes),
// and a burst alternating good and bad datagrams.  Over POST
// /api/v1/ingest: the same as StatsD text, and JSON that is not JSON, not
// UTF-8, empty, or mixes good and bad records.  After each step the host's
// own totals (GET /healthz, the same numbers as vitals.ingest.records and
// vitals.ingest.rejected) must have grown by exactly the expected amounts,
// the action plugin must have seen exactly the good action lines, and the
// host must still serve HTTP and WebSocket clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';

import { connectWs, getJson, request, startHost, stopAllHosts, waitFor } from './host.mjs';

/** Sends each buffer as one datagram to the host's StatsD port. */
function sendUdp(port, ...datagrams) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    let left = datagrams.length, failed = null;
    for (const d of datagrams) {
      sock.send(Buffer.isBuffer(d) ? d : Buffer.from(d), port, '127.0.0.1', (err) => {
        failed = failed || err;
        if (--left === 0) {
          sock.close();
          if (failed) reject(failed);
          else resolve();
        }
      });
    }
  });
}

const post = (base, body, type = 'application/json') =>
  request(base, '/api/v1/ingest', { method: 'POST', body, headers: { 'content-type': type } });

const GOOD = 'action:100|ms|#name:fetch,ok:true';

describe('bad ingest input is counted and skipped; good records still count', () => {
  let host, udpPort;
  // What the host must have counted so far; each step adds to it.
  const want = { records: 0, rejected: 0, actions: 0 };

  const totals = async () => (await getJson(host.base, '/healthz')).ingest;
  /** Waits until the host's totals and action.total equal `want`. */
  async function expectTotals(step) {
    let last;
    await waitFor(async () => {
      const t = await totals();
      const m = (await getJson(host.base, '/api/v1/metrics')).plugins;
      last = { records: t.records, rejected: t.rejected, actions: m.action?.total ?? 0 };
      return last.records === want.records && last.rejected === want.rejected &&
             last.actions === want.actions;
    }, { timeout: 10000, what: `${step}: totals ${JSON.stringify(want)}` }).catch((e) => {
      throw new Error(`${e.message}; host has ${JSON.stringify(last)}\n${host.describe()}`);
    });
    // Nothing more arrives later: the counts stay exact.
    const t = await totals();
    assert.equal(t.records, want.records, `${step}: records`);
    assert.equal(t.rejected, want.rejected, `${step}: rejected`);
  }

  before(async () => {
    host = await startHost();
    udpPort = (await totals()).udp_port;
    assert.ok(udpPort > 0, 'no UDP port in /healthz');
    await expectTotals('start');
  });
  after(stopAllHosts);

  it('UDP: malformed lines are refused one by one, the good lines of the datagram count', async () => {
    await sendUdp(udpPort, [GOOD, 'not a statsd line', 'x:1|zz', 'x:abc|c', 'x:-5|ms',
                            'bad name!:1|c', GOOD, 'x:1|c|@2', ''].join('\n'));
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 6,
                          actions: want.actions + 2 });
    await expectTotals('malformed lines');
  });

  it('UDP: binary lines (NUL bytes, invalid UTF-8) are refused, the good ones count', async () => {
    const d = Buffer.concat([
      Buffer.from(`${GOOD}\n`),
      Buffer.from('with\0nul:1|c\n'),
      Buffer.from([0x78, 0x3a, 0x31, 0x7c, 0x63, 0x7c, 0x23, 0x6b, 0x3a, 0xc3, 0x28, 0x0a]), // x:1|c|#k:\xc3(
      Buffer.from([0xed, 0xa0, 0x80, 0x3a, 0x31, 0x7c, 0x63, 0x0a]), // a surrogate as the name
      Buffer.from(`${GOOD}\n`),
    ]);
    await sendUdp(udpPort, d);
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 3,
                          actions: want.actions + 2 });
    await expectTotals('binary lines');
  });

  it('UDP: an all-binary datagram is one refused line', async () => {
    const bytes = [];
    for (let b = 0; b < 256; b++) if (b !== 0x0a && b !== 0x0d) bytes.push(b);
    await sendUdp(udpPort, Buffer.from(bytes));
    want.rejected += 1;
    await expectTotals('all-binary datagram');
  });

  it('UDP: empty and blank-only datagrams are each refused once', async () => {
    await sendUdp(udpPort, Buffer.alloc(0), '\n', '\r\n\n\r\n');
    want.rejected += 3;
    await expectTotals('empty datagrams');
  });

  it('UDP: a 4096-byte line counts, a 4097-byte line is refused', async () => {
    const line = (n) => {
      const head = 'long.line:1|c|#k:';
      return head + 'v'.repeat(n - head.length);
    };
    assert.equal(line(4096).length, 4096);
    await sendUdp(udpPort, `${line(4096)}\n${line(4097)}\n${GOOD}`);
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 1,
                          actions: want.actions + 1 });
    await expectTotals('4096/4097-byte lines');
  });

  it('UDP: the largest datagram (65,507 bytes) is read whole; larger ones never leave the sender', async () => {
    // Good lines at both ends, an over-long line between, blank-line padding.
    const head = `${GOOD}\n${'y:'.padEnd(10000, '1')}|c\n`;
    const tail = `\n${GOOD}`;
    const d = head + '\n'.repeat(65507 - head.length - tail.length) + tail;
    assert.equal(d.length, 65507);
    await sendUdp(udpPort, d);
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 1,
                          actions: want.actions + 2 });
    await expectTotals('65,507-byte datagram');
    // IPv4 cannot carry more: the kernel refuses the send, nothing arrives.
    await assert.rejects(sendUdp(udpPort, Buffer.alloc(65508, 0x61)), /EMSGSIZE/);
    await expectTotals('after a refused oversized send');
  });

  it('UDP: a burst alternating good and bad datagrams counts exactly', async () => {
    const burst = [];
    for (let i = 0; i < 100; i++) {
      burst.push(GOOD, i % 2 ? Buffer.from([0xff, 0x00, 0xfe]) : 'garbage', Buffer.alloc(0));
    }
    await sendUdp(udpPort, ...burst);
    Object.assign(want, { records: want.records + 100, rejected: want.rejected + 200,
                          actions: want.actions + 100 });
    await expectTotals('burst');
  });

  it('HTTP StatsD text: malformed, binary and blank input is counted like a datagram', async () => {
    const body = Buffer.concat([Buffer.from(`${GOOD}\nnope\n`), Buffer.from([0x00, 0xff, 0x0a]),
                                Buffer.from(`${GOOD}\n`)]);
    const r = await post(host.base, body, 'text/plain');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { accepted: 2, rejected: 2 });
    const blank = await post(host.base, '\n\n', 'text/plain');
    assert.deepEqual(blank.json, { accepted: 0, rejected: 1 });
    const empty = await post(host.base, '', 'text/plain');
    assert.deepEqual(empty.json, { accepted: 0, rejected: 1 });
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 4,
                          actions: want.actions + 2 });
    await expectTotals('HTTP StatsD text');
  });

  it('HTTP StatsD text over 64 KiB: every line counts', async () => {
    const lines = Array.from({ length: 4000 }, () => GOOD);
    lines.splice(2000, 0, 'bad line in the middle');
    const body = lines.join('\n');
    assert.ok(body.length > 128 * 1024);
    const r = await post(host.base, body, 'text/plain');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { accepted: 4000, rejected: 1 });
    Object.assign(want, { records: want.records + 4000, rejected: want.rejected + 1,
                          actions: want.actions + 4000 });
    await expectTotals('HTTP text over 64 KiB');
  });

  it('HTTP JSON: a body that is not JSON, not UTF-8, empty or not a list is one refusal', async () => {
    for (const body of ['not json', Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]), // ["\xc3("]
                        Buffer.from([0x00, 0x01, 0x02]), '', '{"records": 5}', '42']) {
      const r = await post(host.base, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.ok(r.json && typeof r.json.error === 'string', `a JSON reason: ${r.body}`);
    }
    want.rejected += 6;
    await expectTotals('refused JSON bodies');
  });

  it('HTTP JSON: bad records are refused one by one, the good ones count', async () => {
    const good = { name: 'action', type: 'ms', value: 100, tags: { name: 'fetch', ok: true } };
    const records = [good, null, 5, { name: 'a b', type: 'c', value: 1 },
                     { name: 'x', type: 'c', value: 'NaN' }, { name: 'x', type: 'ms', value: -1 },
                     { name: 'x', type: 's', value: 'z'.repeat(201) }, good];
    const r = await post(host.base, JSON.stringify({ records }));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.accepted, 2);
    assert.equal(r.json.rejected, 6);
    assert.deepEqual(r.json.errors.map((e) => e.index), [1, 2, 3, 4, 5, 6]);
    Object.assign(want, { records: want.records + 2, rejected: want.rejected + 6,
                          actions: want.actions + 2 });
    await expectTotals('JSON records');
  });

  it('the host is still up: HTTP answers, a WebSocket client gets samples, new records count', async () => {
    assert.equal(host.exited, null, host.describe());
    const c = await connectWs(host.wsUrl);
    try {
      await c.nextOfType('hello');
      await c.nextOfType('sample');
    } finally {
      c.terminate();
    }
    await sendUdp(udpPort, GOOD);
    Object.assign(want, { records: want.records + 1, actions: want.actions + 1 });
    await expectTotals('after everything');
    // Refusals were logged, but rate-limited: not one line per bad input.
    const refusals = host.stderr.split('\n').filter((l) => l.includes('refused from')).length;
    assert.ok(refusals >= 1 && refusals < 20, `${refusals} refusal log lines\n${host.describe()}`);
  });
});
