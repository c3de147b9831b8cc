// clients.test.mjs — bad and too many clients cost the host a bounded amount
// and never the other clients their stream:
//   - a WebSocket client that never reads is dropped (send_timeout), while
//     clients beside it receive every sample in order;
//   - a client that floods requests and never reads their replies holds a
//     bounded amount of memory (the host's RSS is read from /proc) and is
//     dropped;
//   - max_clients: one client more gets 503 with a JSON reason, and a slot
//     freed is a slot usable again;
//   - http_timeout: a half-sent handshake and an idle connection are closed.
//
// Node cannot set a socket's SO_RCVBUF, so "never reads" is a paused socket:
// the kernel's receive buffer fills and stays full.  Samples are made large
// (the `huge` fixture's thousand metrics, ~5 KiB) and fast (interval 0.05 s)
// so that the host's side fills in seconds: with small samples the kernel
// keeps taking a few at a time and the queue keeps emptying.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  FIXTURES_DIR, UNDER_WRAPPER, WsClient, connectWs, getJson, removeTempDirs, startHost, stopAllHosts,
  tempDir, waitFor, withTimeout,
} from './host.mjs';
import { FIN, OP, RawClient, frame } from './raw_ws.mjs';

// RSS is only meaningful without ASan's quarantine or valgrind's shadow memory.
const MEASURE_RSS = process.env.VITALS_SANITIZE !== 'ON' && !UNDER_WRAPPER;
// What a misbehaving client may add to the host's RSS: its queue (1 MiB of
// samples, 4 MiB of replies) and allocator slack.
const RSS_BOUND_KIB = 16 * 1024;

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

function writeConfig(text) {
  const file = path.join(tempDir(), 'vitals.ini');
  fs.writeFileSync(file, text);
  return file;
}

/** Every sample seq a client received, in arrival order. */
const seqsOf = (c) => c.messages.filter((m) => m.type === 'sample').map((m) => m.seq);

/** Asserts that `seqs` is gapless and increasing by one. */
function assertGapless(seqs, who) {
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1] + 1, `${who}: seq ${seqs[i - 1]} then ${seqs[i]}`);
  }
}

describe('clients that do not read', { timeout: 110000 }, () => {
  let host;
  let readers = [];
  let baseline = 0;
  let peak = 0;
  let sampler;

  before(async () => {
    const config = writeConfig('[host]\nhistory = 20\nsend_timeout = 2\nping_interval = 600\n');
    // Every sample carries the 1000 values of `huge` (null each tick: ~5 KiB).
    const plugins = tempDir();
    fs.copyFileSync(path.join(FIXTURES_DIR, 'faults', 'huge.so'), path.join(plugins, 'huge.so'));
    fs.chmodSync(path.join(plugins, 'huge.so'), 0o755);
    host = await startHost({ config, interval: 0.05, pluginsDir: plugins });
    await waitFor(async () => (await getJson(host.base, '/api/v1/descriptors')).descriptors.length > 1000,
                  { timeout: 15000, what: 'the huge fixture\'s metrics' });
    readers = await Promise.all([0, 1, 2].map(() => connectWs(host.wsUrl)));
    await Promise.all(readers.map((c) => c.nextOfType('sample')));
    baseline = rssKiB(host.pid);
    peak = baseline;
    sampler = setInterval(() => {
      try { peak = Math.max(peak, rssKiB(host.pid)); } catch { /* exited */ }
    }, 100);
  });

  after(async () => {
    clearInterval(sampler);
    for (const c of readers) c.terminate();
    await stopAllHosts();
    removeTempDirs();
  });

  it('a client that never reads is dropped; the readers beside it miss nothing', async () => {
    for (const c of readers) c.skipReceived();
    const first = readers.map((c) => c.messages.length);
    const lazy = new RawClient(host.port);
    try {
      const r = await lazy.handshake();
      assert.equal(r.status, 101, r.head);
      lazy.sock.pause(); // never read again
      await waitFor(async () => (await getJson(host.base, '/healthz')).clients === 4,
                    { timeout: 10000, what: 'the non-reader to be counted' });
      // send_timeout = 2 s after its socket and then its queue fill up.
      await waitFor(() => /websocket closed: not reading/.test(host.stderr),
                    { timeout: 60000, every: 200, what: 'the host to drop the non-reader' });
      assert.equal((await getJson(host.base, '/healthz')).clients, 3);
      lazy.sock.resume();
      await lazy.waitEnded(15000);
    } finally {
      lazy.destroy();
    }
    // The readers kept their cadence: every seq, in order, and still coming.
    await Promise.all(readers.map((c) => c.nextOfType('sample')));
    readers.forEach((c, i) => {
      const seqs = seqsOf({ messages: c.messages.slice(first[i]) });
      assert.ok(seqs.length >= 10, `reader ${i} got only ${seqs.length} samples meanwhile`);
      assertGapless(seqs, `reader ${i}`);
      assert.equal(c.closed, null, `reader ${i} was closed`);
    });
  });

  it('a client that floods requests and reads no reply holds bounded memory and is dropped', async (t) => {
    const reply = Buffer.byteLength(JSON.stringify(await getJson(host.base, '/api/v1/metrics')));
    const requests = 6000; // replies worth several times the bound
    assert.ok(requests * reply > 3 * RSS_BOUND_KIB * 1024,
              `the flood (${requests} × ${reply} bytes) does not exceed the bound`);
    for (const c of readers) c.skipReceived();
    const first = readers.map((c) => c.messages.length);
    const flood = new RawClient(host.port);
    try {
      const r = await flood.handshake();
      assert.equal(r.status, 101, r.head);
      flood.sock.pause();
      const one = frame(FIN | OP.TEXT, '{"type":"request_metrics"}');
      flood.write(Buffer.concat(Array(requests).fill(one)));
      await waitFor(() => /websocket closed: not reading its replies/.test(host.stderr),
                    { timeout: 60000, every: 200, what: 'the host to drop the flooding client' });
    } finally {
      flood.destroy();
    }
    await Promise.all(readers.map((c) => c.nextOfType('sample')));
    readers.forEach((c, i) => assertGapless(seqsOf({ messages: c.messages.slice(first[i]) }), `reader ${i}`));
    if (MEASURE_RSS) {
      peak = Math.max(peak, rssKiB(host.pid));
      t.diagnostic(`RSS ${baseline} KiB before, at most ${peak} KiB while ${requests} replies of ` +
                   `${reply} bytes were asked for and not read`);
      assert.ok(peak - baseline < RSS_BOUND_KIB,
                `RSS grew from ${baseline} KiB to ${peak} KiB (bound ${RSS_BOUND_KIB} KiB)`);
    }
    await waitFor(async () => (await getJson(host.base, '/healthz')).clients === 3,
                  { timeout: 10000, what: 'only the readers to remain' });
    assert.equal(host.exited, null, host.describe());
  });
});

describe('max_clients = 5', { timeout: 60000 }, () => {
  let host;
  const clients = [];

  before(async () => {
    host = await startHost({ config: writeConfig('[host]\nmax_clients = 5\n') });
  });

  after(async () => {
    for (const c of clients) c.terminate();
    await stopAllHosts();
    removeTempDirs();
  });

  it('five clients connect; the sixth gets 503 with a JSON reason', async () => {
    for (let i = 0; i < 5; i++) clients.push(await connectWs(host.wsUrl));
    await Promise.all(clients.map((c) => c.nextOfType('hello')));
    const sixth = new RawClient(host.port);
    try {
      const r = await sixth.handshake();
      assert.equal(r.status, 503, r.head);
      assert.match(r.headers['content-type'], /^application\/json/);
      const body = JSON.parse(r.body);
      assert.match(body.error, /too many/);
      assert.equal(body.max_clients, 5);
    } finally {
      sixth.destroy();
    }
    // Plain HTTP is not capped by max_clients.
    assert.equal((await getJson(host.base, '/healthz')).clients, 5);
  });

  it('a refused or closed client frees its slot', async () => {
    clients.pop().ws.close(1000);
    await waitFor(async () => (await getJson(host.base, '/healthz')).clients === 4,
                  { timeout: 10000, what: 'the closed client to be uncounted' });
    const again = new WsClient(host.wsUrl);
    clients.push(again);
    await withTimeout(again.opened, 10000, 'the fifth client again');
    await again.nextOfType('hello');
    const seventh = new RawClient(host.port);
    try {
      assert.equal((await seventh.handshake()).status, 503);
    } finally {
      seventh.destroy();
    }
  });
});

describe('http_timeout = 1', { timeout: 60000 }, () => {
  let host;

  before(async () => {
    host = await startHost({ config: writeConfig('[host]\nhttp_timeout = 1\n') });
  });

  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('a half-sent handshake is closed', async () => {
    const c = new RawClient(host.port);
    try {
      await c.connected;
      c.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\n`);
      await c.waitEnded(20000);
      assert.equal(c.upgraded, false);
    } finally {
      c.destroy();
    }
  });

  it('an idle connection that sends nothing is closed', async () => {
    const c = new RawClient(host.port);
    try {
      await c.connected;
      await c.waitEnded(20000);
    } finally {
      c.destroy();
    }
  });

  it('an upgraded WebSocket is not subject to it (the hub pings instead)', async () => {
    const c = await connectWs(host.wsUrl);
    try {
      await c.nextOfType('hello');
      // Well past the HTTP timeout, samples still arrive on the same socket.
      await waitFor(() => c.messages.filter((m) => m.type === 'sample').length >= 15,
                    { timeout: 20000, what: '15 samples (3 s at 0.2 s)' });
      assert.equal(c.closed, null);
    } finally {
      c.terminate();
    }
  });
});
