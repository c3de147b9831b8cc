// http_limits.test.mjs — HTTP input the host refuses, and how: headers and
// request lines beyond a connection's memory (431/414, never a crash),
// bodies beyond the ingest limit (413, announced or streamed), and query
// parameters that are missing, repeated, valueless or malformed (400 with a
// JSON reason).  After each, the host serves on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { getJson, request, startHost, stopAllHosts, withTimeout } from './host.mjs';
import { RawClient } from './raw_ws.mjs';

/** Asserts a 400 whose JSON `error` matches `re`. */
function assertBadQuery(r, re, what) {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
  assert.match(r.headers['content-type'], /^application\/json/, what);
  assert.match(r.json?.error ?? '', re, `${what}: ${r.body}`);
}

describe('HTTP input limits', { timeout: 100000 }, () => {
  let host;

  before(async () => {
    host = await startHost();
  });

  after(async () => {
    await stopAllHosts();
  });

  async function stillServes() {
    const h = await getJson(host.base, '/healthz');
    assert.equal(h.status, 'ok');
    assert.equal(host.exited, null, host.describe());
  }

  describe('headers and request lines', () => {
    const tooLarge = [400, 413, 414, 431];

    it('one 64 KiB header: refused (431), not a crash', async () => {
      const r = await request(host.base, '/healthz', { headers: { 'x-big': 'a'.repeat(64 * 1024) } });
      assert.ok(tooLarge.includes(r.status), `status ${r.status}`);
      await stillServes();
    });

    it('a thousand small headers: refused, not a crash', async () => {
      const headers = {};
      for (let i = 0; i < 1000; i++) headers[`x-h${i}`] = 'v'.repeat(40);
      const r = await request(host.base, '/api/v1/metrics', { headers });
      assert.ok(tooLarge.includes(r.status), `status ${r.status}`);
      await stillServes();
    });

    it('a 64 KiB URL: refused (414), not a crash', async () => {
      const r = await request(host.base, `/api/v1/history?metric=${'m'.repeat(64 * 1024)}`);
      assert.ok(tooLarge.includes(r.status), `status ${r.status}`);
      await stillServes();
    });

    it('an endless header line on a raw socket is cut off, not buffered', async () => {
      const sock = net.connect({ host: '127.0.0.1', port: host.port });
      sock.on('error', () => {});
      let answer = '';
      sock.on('data', (d) => { answer += d.toString('latin1'); });
      const closed = new Promise((resolve) => sock.on('close', resolve));
      await withTimeout(new Promise((resolve) => sock.once('connect', resolve)), 10000, 'connect');
      sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ');
      // 1 MiB of one header, written while the host lets us.
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      for (let i = 0; i < 64 && !sock.destroyed && sock.writable; i++) {
        if (!sock.write(chunk)) await Promise.race([new Promise((r) => sock.once('drain', r)), closed]);
      }
      await withTimeout(closed, 20000, 'the host to close the connection');
      if (answer) assert.match(answer, /^HTTP\/1\.1 (400|413|431)/, answer.slice(0, 100));
      await stillServes();
    });
  });

  // WebSocket handshakes are read by the host itself, not libmicrohttpd
  // (core/http_accept.c), with the same 16 KiB bound and JSON answers.
  describe('a WebSocket handshake beyond the bound', () => {
    for (const [what, status, opts] of [
      ['a 64 KiB header', 431, { extra: [`X-Big: ${'a'.repeat(64 * 1024)}`] }],
      ['a thousand small headers', 431, { extra: Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}`) }],
      ['a 64 KiB URL', 414, { path: `/ws?token=${'t'.repeat(64 * 1024)}` }],
    ]) {
      it(`${what}: ${status} with a JSON reason, not a crash`, async () => {
        const c = new RawClient(host.port);
        try {
          const r = await c.handshake(opts);
          assert.equal(r.status, status, r.head);
          assert.match(r.headers['content-type'], /^application\/json/);
          assert.match(JSON.parse(r.body).error, /16 KiB/);
        } finally {
          c.destroy();
        }
        await stillServes();
      });
    }
  });

  describe('bodies', () => {
    it('an ingest body announced over 1 MiB: 413 with a JSON reason, before it is sent', async () => {
      const body = 'a'.repeat(2 * 1024 * 1024);
      const r = await request(host.base, '/api/v1/ingest', {
        method: 'POST', headers: { 'content-type': 'text/plain' }, body,
      }).catch((e) => ({ error: e }));
      // The host may answer and close before it has read the body; the
      // client then sees the 413 or a reset while still writing.
      if (!r.error) {
        assert.equal(r.status, 413, r.body);
        assert.match(r.json.error, /1 MiB/);
      }
      await stillServes();
    });

    it('a chunked ingest body over 1 MiB (no length announced): 413', async () => {
      const sock = net.connect({ host: '127.0.0.1', port: host.port });
      sock.on('error', () => {});
      let answer = '';
      sock.on('data', (d) => { answer += d.toString('latin1'); });
      await withTimeout(new Promise((resolve) => sock.once('connect', resolve)), 10000, 'connect');
      sock.write('POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n' +
                 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
      const line = 'x:1|c\n'.repeat(10000); // 60,000 bytes of StatsD
      for (let i = 0; i < 20; i++) sock.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
      sock.write('0\r\n\r\n');
      await withTimeout(new Promise((resolve) => sock.on('close', resolve)), 20000, 'the answer');
      assert.match(answer, /^HTTP\/1\.1 413/, answer.slice(0, 200));
      assert.match(answer, /"error":"the body is larger than 1 MiB"/);
      await stillServes();
    });

    it('a body on a GET route is read and ignored', async () => {
      const r = await request(host.base, '/healthz', { method: 'GET', body: 'x'.repeat(100000),
                                                       headers: { 'content-type': 'text/plain' } });
      assert.equal(r.status, 200);
    });
  });

  describe('query parameters', () => {
    const H = '/api/v1/history';

    it('history without metric, or with an empty one: 400', async () => {
      assertBadQuery(await request(host.base, H), /metric/, 'no metric');
      assertBadQuery(await request(host.base, `${H}?metric=`), /metric/, 'empty metric');
    });

    it('a parameter without a value: 400', async () => {
      assertBadQuery(await request(host.base, `${H}?metric`), /'metric' needs a value/, 'metric');
      assertBadQuery(await request(host.base, `${H}?metric=system.cpu_percent&seconds`),
                     /'seconds' needs a value/, 'seconds');
    });

    it('a parameter given twice: 400', async () => {
      assertBadQuery(await request(host.base, `${H}?metric=system.cpu_percent&metric=system.cpu_percent`),
                     /'metric' is given more than once/, 'metric twice');
      assertBadQuery(await request(host.base, `${H}?metric=system.cpu_percent&seconds=1&seconds=2`),
                     /'seconds' is given more than once/, 'seconds twice');
    });

    for (const bad of ['abc', '-1', '0', '-0', 'inf', 'nan', '1e400', '%205', '5%20', '0x10', '1,5', '.', '+5']) {
      it(`seconds=${bad}: 400`, async () => {
        assertBadQuery(await request(host.base, `${H}?metric=system.cpu_percent&seconds=${bad}`),
                       /'seconds' must be a positive number/, bad);
      });
    }

    it('a value that is not UTF-8: 400', async () => {
      assertBadQuery(await request(host.base, `${H}?metric=%ff%fe`), /'metric' is not UTF-8/, '%ff');
    });

    it('well-formed values are served; unknown parameters are ignored', async () => {
      for (const ok of ['5', '0.5', '.5', '1e3', '300']) {
        const r = await request(host.base, `${H}?metric=system.cpu_percent&seconds=${ok}&foo=bar&x`);
        assert.equal(r.status, 200, `seconds=${ok}: ${r.body}`);
      }
      const r = await request(host.base, `${H}?metric=no.such.metric`);
      assert.equal(r.status, 404);
    });

    for (const route of ['/api/v1/descriptors', '/api/v1/metrics', '/healthz', '/metrics', '/']) {
      it(`${route}: unknown parameters ignored, a repeated token refused`, async () => {
        assert.equal((await request(host.base, `${route}?cache=1&x`)).status, 200);
        assertBadQuery(await request(host.base, `${route}?token=a&token=b`), /'token'/, route);
      });
    }

    it('the host serves on', stillServes);
  });
});
