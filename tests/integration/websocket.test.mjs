// websocket.test.mjs — a real WebSocket session with the host (/ws), with the
// npm `ws` client and, for malformed input, a raw TCP socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  INTERVAL, WsClient, connectWs, getJson, projectVersion, removeTempDirs, request, startHost,
  stopAllHosts, tempDir, waitFor, withTimeout,
} from './host.mjs';

/** Checks one value against its descriptor's kind (docs/protocol.md, Values). */
function checkValue(desc, v, where) {
  if (v === null) return;
  switch (desc.kind) {
    case 'gauge':
    case 'counter':
      assert.equal(typeof v, 'number', `${where}: ${desc.id} (${desc.kind}) = ${JSON.stringify(v)}`);
      break;
    case 'text':
      assert.equal(typeof v, 'string', `${where}: ${desc.id} (text) = ${JSON.stringify(v)}`);
      break;
    case 'histogram':
      assert.ok(Array.isArray(v) && v.length === 5, `${where}: ${desc.id} (histogram) = ${JSON.stringify(v)}`);
      break;
    default:
      assert.fail(`${where}: ${desc.id} has unknown kind ${desc.kind}`);
  }
}

// Protocol 2 (docs/protocol.md, "Slow metrics"): a descriptor with
// stream_every E > 1 is carried in sample `seq` only when (seq + i) % E == 0,
// i its index; such descriptors come after all the others.
const everyOf = (d) => d.stream_every ?? 1;
const carries = (descs, i, seq) => (seq + i) % everyOf(descs[i]) === 0;
/** The indices of the descriptors that sample `seq` carries. */
const carried = (descs, seq) => descs.map((_, i) => i).filter((i) => carries(descs, i, seq));

/** Checks the order rule and the stream_every values of a descriptor list. */
function checkSlowOrder(descs) {
  const firstSlow = descs.findIndex((d) => everyOf(d) > 1);
  for (const [i, d] of descs.entries()) {
    if (d.stream_every === undefined) continue;
    assert.ok(Number.isInteger(d.stream_every) && d.stream_every >= 2 && d.stream_every <= 60,
              `${d.id}: stream_every ${d.stream_every}`);
    assert.notEqual(d.kind, 'counter', `${d.id}: a slow counter`);
  }
  if (firstSlow >= 0) {
    assert.ok(descs.slice(firstSlow).every((d) => everyOf(d) > 1),
              `an every-sample metric after a slow one: ${descs.map((d) => `${d.id}/${everyOf(d)}`).join(' ')}`);
  }
}

/** Checks a sample's values against the descriptors it is positional over. */
function checkSample(descs, m) {
  const due = carried(descs, m.seq);
  assert.equal(m.values.length, due.length,
               `sample ${m.seq}: ${m.values.length} values for the ${due.length} descriptors it carries`);
  due.forEach((i, k) => checkValue(descs[i], m.values[k], `sample ${m.seq}`));
}

function checkHello(hello) {
  assert.equal(hello.type, 'hello', `first message is ${JSON.stringify(hello).slice(0, 300)}`);
  assert.equal(hello.protocol, 2);
  assert.equal(hello.version, projectVersion());
  assert.ok(Math.abs(hello.interval - INTERVAL) < 1e-9, `interval ${hello.interval}`);
  assert.equal(typeof hello.generation, 'number');
  assert.ok(Array.isArray(hello.descriptors) && hello.descriptors.length > 0, 'no descriptors');
  assert.ok(hello.descriptors.some((d) => d.id === 'system.cpu_percent'), 'no system.cpu_percent');
  const h = hello.history;
  assert.equal(typeof h, 'object', 'no history');
  assert.ok(Array.isArray(h.ts), 'history.ts');
  assert.ok(Array.isArray(h.values), 'history.values');
  assert.equal(h.values.length, hello.descriptors.length, 'one history column per descriptor');
  checkSlowOrder(hello.descriptors);
  assert.equal(h.seq.length, h.ts.length, 'history.seq not aligned with ts');
  for (let i = 0; i < h.values.length; i++) {
    // a slow metric's column holds the samples that carried it
    const rows = h.seq.filter((seq) => carries(hello.descriptors, i, seq)).length;
    assert.equal(h.values[i].length, rows, `column ${i} (${hello.descriptors[i].id}): ${h.values[i].length} ` +
                 `values for the ${rows} samples that carry it`);
    for (const v of h.values[i]) checkValue(hello.descriptors[i], v, 'history');
  }
  for (let i = 1; i < h.seq.length; i++) assert.equal(h.seq[i], h.seq[i - 1] + 1, `history.seq at ${i}`);
  for (const t of h.ts) assert.equal(Math.round(t * 1000) / 1000, t, `history.ts ${t} in whole ms`);
  for (let i = 1; i < h.ts.length; i++) assert.ok(h.ts[i] > h.ts[i - 1], `history.ts not increasing at ${i}`);
}

// ---- a raw WebSocket client, for what `ws` refuses to send ---------------

/** Opens a TCP connection and performs the upgrade by hand. */
async function rawUpgrade(port) {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.on('error', () => {});
  const state = { buf: Buffer.alloc(0), frames: [], ended: false, waiters: new Set() };
  const notify = () => { for (const w of [...state.waiters]) w(); };
  sock.on('data', (d) => { state.buf = Buffer.concat([state.buf, d]); notify(); });
  sock.on('close', () => { state.ended = true; notify(); });
  await withTimeout(new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  }), 5000, 'raw TCP connect');
  const key = crypto.randomBytes(16).toString('base64');
  sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
             `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const head = await withTimeout(new Promise((resolve, reject) => {
    const check = () => {
      const end = state.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        state.waiters.delete(check);
        const text = state.buf.subarray(0, end).toString('latin1');
        state.buf = state.buf.subarray(end + 4);
        resolve(text);
      } else if (state.ended) {
        state.waiters.delete(check);
        reject(new Error('connection closed during the handshake'));
      }
    };
    state.waiters.add(check);
    check();
  }), 10000, 'raw handshake response');
  assert.match(head, /^HTTP\/1\.1 101\b/, head);
  const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  assert.match(head, new RegExp(`\\r\\nsec-websocket-accept:\\s*${accept.replace(/[+/=]/g, '\\$&')}`, 'i'));

  /** Parses complete server frames out of the buffer. */
  const parse = () => {
    for (;;) {
      const b = state.buf;
      if (b.length < 2) return;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (masked) off += 4; // servers must not mask; tolerate it for parsing
      if (b.length < off + len) return;
      state.frames.push({ fin: (b[0] & 0x80) !== 0, opcode, masked, payload: b.subarray(off, off + len) });
      state.buf = b.subarray(off + len);
    }
  };

  return {
    sock,
    state,
    /** Waits for a frame matching pred; resolves null if the socket closes first. */
    nextFrame(pred, timeout = 10000) {
      return withTimeout(new Promise((resolve) => {
        const check = () => {
          parse();
          const i = state.frames.findIndex(pred);
          if (i >= 0) {
            const [f] = state.frames.splice(i, 1);
            state.waiters.delete(check);
            resolve(f);
          } else if (state.ended) {
            state.waiters.delete(check);
            resolve(null);
          }
        };
        state.waiters.add(check);
        check();
      }), timeout, 'a frame from the host');
    },
    /** A masked text frame, as a client must send. */
    sendMaskedText(text) {
      const payload = Buffer.from(text);
      assert.ok(payload.length < 126);
      const mask = crypto.randomBytes(4);
      const masked = Buffer.from(payload.map((c, i) => c ^ mask[i % 4]));
      sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    },
  };
}

describe('WebSocket /ws', { timeout: 100000 }, () => {
  let host;

  before(async () => {
    host = await startHost();
    await waitFor(async () => (await getJson(host.base, '/api/v1/metrics')).seq >= 2,
                  { timeout: 15000, what: 'the first ticks' });
  });

  after(async () => {
    await stopAllHosts();
  });

  describe('one session', () => {
    let c;

    before(async () => {
      c = await connectWs(host.wsUrl);
    });

    after(() => {
      c?.terminate();
    });

    let hello;

    it('the first message is hello with protocol 2, descriptors and aligned history', async () => {
      hello = await c.next(() => true, 10000, 'the first message');
      checkHello(hello);
      assert.ok(hello.history.ts.length >= 1, 'no history although the host has ticked');
    });

    it('then samples with increasing seq and one value per descriptor they carry', async () => {
      assert.ok(hello, 'no hello');
      let descs = hello.descriptors;
      const samples = [];
      while (samples.length < 2) {
        const m = await c.next((x) => x.type === 'sample' || x.type === 'descriptors', 10000, 'a sample');
        if (m.type === 'descriptors') {
          assert.ok(Array.isArray(m.descriptors));
          descs = m.descriptors;
          checkSlowOrder(descs);
          continue;
        }
        assert.equal(typeof m.seq, 'number');
        assert.equal(typeof m.ts, 'number');
        assert.ok(Math.abs(m.ts - Date.now() / 1000) < 30, `ts ${m.ts} far from now`);
        assert.equal(Math.round(m.ts * 1000) / 1000, m.ts, `ts ${m.ts} in whole ms`);
        assert.ok(Array.isArray(m.values));
        checkSample(descs, m);
        samples.push(m);
      }
      assert.ok(samples[1].seq > samples[0].seq, `seq ${samples[0].seq} then ${samples[1].seq}`);
      assert.ok(samples[1].ts >= samples[0].ts);
      if (hello.history.seq?.length) {
        assert.ok(samples[0].seq > hello.history.seq.at(-1), 'a sample repeats the history');
      }
      const cpu = descs.findIndex((d) => d.id === 'system.cpu_percent');
      assert.ok(samples.some((s) => typeof s.values[cpu] === 'number'), 'cpu_percent never numeric');
    });

    it('slow metrics come staggered, each in one sample of stream_every, with the value the API has', async () => {
      const descs = hello.descriptors;
      const slow = descs.map((d, i) => ({ d, i })).filter(({ d }) => everyOf(d) > 1);
      // the bundled plugins' slow metrics, checked by name so that a change shows
      for (const id of ['system.process', 'action.duration', 'event.duration']) {
        assert.equal(descs.find((d) => d.id === id)?.stream_every, 5, `${id} stream_every`);
      }
      // an every-sample metric's value sits at its descriptor index, as in protocol 1
      const cpu = descs.findIndex((d) => d.id === 'system.cpu_percent');
      assert.ok(cpu >= 0 && cpu < slow[0].i, 'system.cpu_percent is not before the slow metrics');

      c.skipReceived();
      const got = [];
      while (got.length < 11) {
        const m = await c.next((x) => x.type === 'sample' || x.type === 'descriptors', 10000, 'a sample');
        assert.equal(m.type, 'sample', 'the descriptors changed during the test');
        if (got.length) assert.equal(m.seq, got.at(-1).seq + 1, 'a reading client misses no sample');
        checkSample(descs, m);
        got.push(m);
      }
      // Each slow metric is in 2 or 3 of 11 consecutive samples, five apart;
      // slow metrics side by side are due in consecutive samples (staggered).
      for (const { d, i } of slow) {
        const seqs = got.filter((m) => carries(descs, i, m.seq)).map((m) => m.seq);
        assert.ok(seqs.length >= 2 && seqs.every((q, k) => !k || q - seqs[k - 1] === 5), `${d.id}: in ${seqs}`);
      }
      const most = Math.max(...got.map((m) => carried(descs, m.seq).length - slow[0].i));
      assert.ok(most <= Math.ceil(slow.length / 5), `${most} of ${slow.length} slow metrics in one sample`);

      // system.process's value, where carried, is the one the history API has at that time
      const proc = descs.findIndex((d) => d.id === 'system.process');
      const api = await getJson(host.base, `/api/v1/history?metric=system.process&seconds=60`);
      let compared = 0;
      for (const m of got) {
        if (!carries(descs, proc, m.seq)) continue;
        const k = api.ts.findIndex((t) => Math.abs(t - m.ts) < 0.001);
        if (k < 0) continue;
        assert.equal(m.values[carried(descs, m.seq).indexOf(proc)], api.values[k], `system.process at ${m.seq}`);
        compared++;
      }
      assert.ok(compared >= 2, `compared ${compared} values of system.process with the API`);
    });

    it('a new per-name action metric: a descriptors message, then samples in its new order', async () => {
      c.skipReceived();
      const r = await request(host.base, '/api/v1/ingest', {
        method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'action:250|ms|#name:ws_slow\n' });
      assert.equal(r.status, 200, r.body);
      const d = await c.next((x) => x.type === 'descriptors', 10000, 'the descriptors message');
      checkSlowOrder(d.descriptors);
      const ids = d.descriptors.map((x) => x.id);
      const count = ids.indexOf('action.by_name.ws_slow.count');
      const duration = ids.indexOf('action.by_name.ws_slow.duration');
      assert.ok(count >= 0 && duration > count, `${ids}`);
      assert.equal(d.descriptors[count].stream_every, undefined, 'the count is in every sample');
      assert.equal(d.descriptors[duration].stream_every, 5);
      // the count at its descriptor index in the very next sample; the duration within five
      const first = await c.nextOfType('sample');
      checkSample(d.descriptors, first);
      assert.equal(first.values[count], 1);
      let m = first;
      while (!carries(d.descriptors, duration, m.seq)) {
        m = await c.nextOfType('sample');
        checkSample(d.descriptors, m);
        assert.ok(m.seq - first.seq < 5, `the duration not carried in 5 samples from ${first.seq}`);
      }
      assert.deepEqual(m.values[carried(d.descriptors, m.seq).indexOf(duration)], [1, 0.25, 0.25, 0.25, 0.25]);
    });

    it('{"type":"ping"} is answered with {"type":"pong"}', async () => {
      c.send({ type: 'ping' });
      const m = await c.nextOfType('pong');
      assert.deepEqual(Object.keys(m).sort(), ['type']);
    });

    it('{"type":"request_metrics"} is answered with the latest metrics', async () => {
      c.send({ type: 'request_metrics' });
      const m = await c.nextOfType('metrics');
      assert.equal(typeof m.seq, 'number');
      assert.equal(typeof m.ts, 'number');
      assert.equal(typeof m.plugins, 'object');
      assert.equal(typeof m.plugins.system, 'object', JSON.stringify(m).slice(0, 300));
      assert.equal(typeof m.plugins.system.cpu_percent, 'number');
    });

    it('an unknown message type gets an error and the connection stays open', async () => {
      c.send({ type: 'no_such_type' });
      const e = await c.nextOfType('error');
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0);
      c.send('this is not json');
      const e2 = await c.nextOfType('error');
      assert.equal(typeof e2.message, 'string');
      // Still open and still answering.
      c.send({ type: 'ping' });
      await c.nextOfType('pong');
      c.skipReceived();
      await c.nextOfType('sample');
      assert.equal(c.closed, null);
    });

    it('a clean close (1000) from the client is answered with a close frame', async () => {
      c.ws.close(1000, 'bye');
      const { code } = await c.waitClosed(10000);
      // 1006 would mean the host dropped TCP without a close frame.
      assert.ok(code === 1000 || code === 1005, `close code ${code}`);
      const h = await getJson(host.base, '/healthz');
      assert.equal(h.status, 'ok');
    });
  });

  it('50 clients at once all receive hello and the same sample', async () => {
    const N = 50;
    const clients = [];
    try {
      for (let i = 0; i < N; i++) clients.push(new WsClient(host.wsUrl));
      await withTimeout(Promise.all(clients.map((c) => c.opened)), 20000, `${N} clients to open`);
      const hellos = await Promise.all(clients.map((c) => c.nextOfType('hello', 20000)));
      for (const h of hellos) assert.equal(h.protocol, 2);
      // Each client's first message is the hello.
      for (const c of clients) assert.equal(c.messages[0].type, 'hello');
      const common = await waitFor(() => {
        let inter = null;
        for (const c of clients) {
          const seqs = new Set(c.messages.filter((m) => m.type === 'sample').map((m) => m.seq));
          inter = inter === null ? seqs : new Set([...inter].filter((s) => seqs.has(s)));
          if (inter.size === 0) return null;
        }
        return inter;
      }, { timeout: 20000, every: 100, what: `a sample seq received by all ${N} clients` });
      const seq = Math.min(...common);
      // The same seq carries the same values for everyone (encoded once).
      const bodies = new Set(clients.map((c) => JSON.stringify(c.messages.find((m) => m.type === 'sample' && m.seq === seq))));
      assert.equal(bodies.size, 1, 'clients got different samples for the same seq');
      const h = await getJson(host.base, '/healthz');
      assert.ok(h.clients >= N, `healthz counts ${h.clients} clients with ${N} connected`);
    } finally {
      for (const c of clients) c.terminate();
    }
  });

  it('a malformed (unmasked) frame gets close 1002 or a disconnect; the others keep being served', async () => {
    const bystander = await connectWs(host.wsUrl);
    try {
      await bystander.nextOfType('hello');
      const raw = await rawUpgrade(host.port);
      try {
        const first = await raw.nextFrame(() => true);
        assert.ok(first, 'the host closed the raw connection before hello');
        assert.equal(first.opcode, 0x1, 'first frame is not text');
        assert.equal(first.masked, false, 'a server frame is masked');
        assert.equal(JSON.parse(first.payload.toString('utf8')).type, 'hello');

        // A well-formed masked ping first: the raw client works.
        raw.sendMaskedText('{"type":"ping"}');
        const pong = await raw.nextFrame((f) => f.opcode === 0x1 && f.payload.toString().includes('"pong"'));
        assert.ok(pong, 'no pong on the raw connection');

        // Now an unmasked text frame: a protocol error (RFC 6455 5.1).
        raw.sock.write(Buffer.concat([Buffer.from([0x81, 15]), Buffer.from('{"type":"ping"}')]));
        const close = await raw.nextFrame((f) => f.opcode === 0x8, 10000);
        if (close) {
          assert.ok(close.payload.length >= 2, 'close frame without a status code');
          assert.equal(close.payload.readUInt16BE(0), 1002, `close code ${close.payload.readUInt16BE(0)}`);
        }
        // Either way the connection must end.
        await waitFor(() => raw.state.ended || raw.sock.destroyed || raw.sock.readableEnded,
                      { timeout: 10000, what: 'the host to drop the bad connection' });
      } finally {
        raw.sock.destroy();
      }

      // The bystander still gets samples, and new clients are served.
      bystander.skipReceived();
      await bystander.next((m) => m.type === 'sample', 10000, 'a sample after the bad client');
      assert.equal(bystander.closed, null);
      const fresh = await connectWs(host.wsUrl);
      try {
        checkHello(await fresh.next(() => true, 10000, 'hello'));
      } finally {
        fresh.terminate();
      }
      const h = await getJson(host.base, '/healthz');
      assert.equal(h.status, 'ok');
      assert.equal(host.exited, null, host.describe());
    } finally {
      bystander.terminate();
    }
  });

  describe('RFC 6455 details', () => {
    it('a WebSocket ping (control frame) is answered with a pong carrying its data', async () => {
      const c = await connectWs(host.wsUrl);
      try {
        const pong = new Promise((resolve) => c.ws.once('pong', (data) => resolve(data.toString())));
        c.ws.ping('vitals-probe');
        assert.equal(await withTimeout(pong, 10000, 'a pong frame'), 'vitals-probe');
      } finally {
        c.terminate();
      }
    });

    it('a message sent in two fragments is reassembled', async () => {
      const c = await connectWs(host.wsUrl);
      try {
        await c.nextOfType('hello');
        c.ws.send('{"type":', { fin: false });
        c.ws.send('"ping"}', { fin: true });
        await c.nextOfType('pong');
      } finally {
        c.terminate();
      }
    });

    it('a binary message gets close 1003 or an error message', async () => {
      const c = await connectWs(host.wsUrl);
      try {
        await c.nextOfType('hello');
        c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
        const outcome = await waitFor(() => {
          const e = c.messages.find((m) => m.type === 'error');
          if (e) return `error: ${e.message}`;
          return c.closed ? `close ${c.closed.code}` : null;
        }, { timeout: 10000, what: 'an error message or a close' });
        assert.match(outcome, /^(error: .+|close 1003)$/, outcome);
      } finally {
        c.terminate();
      }
    });

    it('an oversized message (1 MiB) is refused with close 1009 and the host serves on', async () => {
      const c = await connectWs(host.wsUrl);
      try {
        await c.nextOfType('hello');
        c.send({ type: 'ping', pad: 'x'.repeat(1 << 20) });
        const { code } = await c.waitClosed(10000);
        assert.ok(code === 1009 || code === 1008, `close code ${code}`);
      } finally {
        c.terminate();
      }
      assert.equal((await getJson(host.base, '/healthz')).status, 'ok');
    });

    it('an upgrade request without Sec-WebSocket-Key is refused and the host serves on', async () => {
      const r = await request(host.base, '/ws', {
        headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13' },
      });
      assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
      assert.equal((await getJson(host.base, '/healthz')).status, 'ok');
    });

    it('GET /ws without an upgrade is refused with a 4xx', async () => {
      const r = await request(host.base, '/ws');
      assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    });
  });

  it('clients that went away are no longer counted', async () => {
    // Every client above was closed or terminated; the hub must notice.
    const h = await waitFor(async () => {
      const x = await getJson(host.base, '/healthz');
      return x.clients === 0 ? x : null;
    }, { timeout: 15000, every: 200, what: '/healthz clients to fall back to 0' });
    assert.equal(h.clients, 0);
  });

  it('the host has not crashed', () => {
    assert.equal(host.exited, null, host.describe());
  });
});

describe('slow metrics of an isolated plugin', () => {
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('stream_every crosses the helper pipe: the stream treats them alike', async () => {
    const config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, '[plugin:system]\nisolate = true\n');
    const host = await startHost({ config });
    await waitFor(() => /plugin system \S+ runs isolated/.test(host.stderr),
                  { timeout: 15000, what: 'the system plugin in its helper' });
    const c = await connectWs(host.wsUrl);
    try {
      const hello = await c.nextOfType('hello', 15000);
      let descs = hello.descriptors;
      // the helper registers at its first collect: wait for system.process
      while (!descs.some((d) => d.id === 'system.process')) {
        descs = (await c.nextOfType('descriptors', 15000)).descriptors;
      }
      checkSlowOrder(descs);
      assert.equal(descs.find((d) => d.id === 'system.process').stream_every, 5);
      c.skipReceived();
      for (let n = 0; n < 6; n++) checkSample(descs, await c.nextOfType('sample'));
    } finally {
      c.terminate();
    }
  });
});

describe('server pings (ping_interval = 0.5 s)', () => {
  let host;
  before(async () => {
    const dir = tempDir();
    const config = path.join(dir, 'vitals.ini');
    fs.writeFileSync(config, '[host]\nping_interval = 0.5\n');
    host = await startHost({ config });
  });
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('a client that answers pings is pinged and stays connected', async () => {
    const c = await connectWs(host.wsUrl);
    try {
      let pings = 0;
      c.ws.on('ping', () => { pings++; });
      await c.nextOfType('hello');
      await waitFor(() => pings >= 3, { timeout: 10000, what: 'three server pings' });
      assert.equal(c.closed, null, 'closed although it answered every ping');
    } finally {
      c.terminate();
    }
  });

  it('a client that never answers is dropped after one silent interval', async () => {
    const c = await connectWs(host.wsUrl, { autoPong: false });
    try {
      await c.nextOfType('hello');
      // The client sends nothing at all, so the ping goes unanswered.
      await withTimeout(c.closedPromise, 10000, 'the host dropping a silent client');
      await waitFor(async () => (await getJson(host.base, '/healthz')).clients === 0,
        { timeout: 10000, what: 'the dropped client to be uncounted' });
    } finally {
      c.terminate();
    }
  });
});
