// ws_rfc.test.mjs — RFC 6455 against a live host, one malformed form per
// connection, over a raw TCP socket (raw_ws.mjs): each must end with the
// close code the RFC names, the host must then close the TCP connection, and
// the host must keep serving everyone else.  The codec's unit tests
// (tests/unit/test_ws_codec.c) cover the same rules byte by byte; this file
// proves the hub applies them on real sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  connectWs, getJson, removeTempDirs, startHost, stopAllHosts, tempDir, waitFor,
} from './host.mjs';
import { FIN, OP, RawClient, closePayload, frame, newKey } from './raw_ws.mjs';

// A small message limit, so "too big" needs no megabytes on the wire.
const MAX_MESSAGE = 1024;

describe('WebSocket per RFC 6455 (raw socket)', { timeout: 110000 }, () => {
  let host;
  let bystander;

  before(async () => {
    const config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, `[host]\nws_max_message = ${MAX_MESSAGE}\n`);
    host = await startHost({ config });
    bystander = await connectWs(host.wsUrl);
    await bystander.nextOfType('hello');
  });

  after(async () => {
    bystander?.terminate();
    await stopAllHosts();
    removeTempDirs();
  });

  /** An upgraded raw client that has read its hello. */
  async function open() {
    const c = new RawClient(host.port);
    const r = await c.handshake();
    assert.equal(r.status, 101, r.head);
    assert.ok(r.accept, 'wrong Sec-WebSocket-Accept');
    const hello = await c.hello();
    assert.equal(hello.type, 'hello');
    return c;
  }

  /** Sends `bytes` on a fresh connection; asserts close `code`, then the TCP close. */
  async function expectClose(bytes, code, what) {
    const c = await open();
    try {
      for (const b of [bytes].flat()) c.write(b);
      const close = await c.closeFrame();
      assert.ok(close, `${what}: the host dropped TCP without a close frame`);
      assert.equal(close.code, code, `${what}: close code ${close.code} (${close.reason})`);
      assert.equal(close.frame.masked, false, `${what}: the close frame is masked`);
      // The host ends the TCP connection itself (RFC 6455 7.1.1), even though
      // this client sends nothing back.
      await c.waitEnded(15000);
    } finally {
      c.destroy();
    }
  }

  describe('protocol errors close with 1002', () => {
    it('an unmasked client frame', () =>
      expectClose(frame(FIN | OP.TEXT, '{"type":"ping"}', { mask: false }), 1002, 'unmasked'));

    for (const rsv of [0x40, 0x20, 0x10]) {
      it(`reserved bit 0x${rsv.toString(16)} without an extension`, () =>
        expectClose(frame(FIN | rsv | OP.TEXT, '{"type":"ping"}'), 1002, `rsv ${rsv}`));
    }

    for (const op of [0x3, 0x7, 0xb, 0xf]) {
      it(`reserved opcode 0x${op.toString(16)}`, () => expectClose(frame(FIN | op, 'x'), 1002, `opcode ${op}`));
    }

    it('a ping longer than 125 bytes', () =>
      expectClose(frame(FIN | OP.PING, Buffer.alloc(126, 0x61)), 1002, 'ping 126'));

    it('a fragmented ping (FIN clear)', () => expectClose(frame(OP.PING, 'x'), 1002, 'fragmented ping'));

    it('a continuation frame without a message started', () =>
      expectClose(frame(FIN | OP.CONT, 'x'), 1002, 'lone continuation'));

    it('a new text frame while a fragmented message is open', () =>
      expectClose([frame(OP.TEXT, '{"type":'), frame(FIN | OP.TEXT, '"ping"}')], 1002, 'interleaved data'));

    it('a close frame with a 1-byte payload', () =>
      expectClose(frame(FIN | OP.CLOSE, Buffer.from([0x03])), 1002, 'close length 1'));

    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
      it(`a close frame with the invalid code ${code}`, () =>
        expectClose(frame(FIN | OP.CLOSE, closePayload(code)), 1002, `close ${code}`));
    }

    it('a close frame whose reason is not UTF-8', () =>
      expectClose(frame(FIN | OP.CLOSE, closePayload(1000, Buffer.from([0xed, 0xa0, 0x80]))), 1002, 'close reason'));
  });

  describe('invalid UTF-8 in text closes with 1007', () => {
    it('in one frame', () =>
      expectClose(frame(FIN | OP.TEXT, Buffer.from([0x7b, 0xc0, 0x80, 0x7d])), 1007, 'overlong'));

    it('across fragments (a character cut, then a wrong byte)', () =>
      expectClose([frame(OP.TEXT, Buffer.from('{"a":"\xe2', 'latin1')), frame(FIN | OP.PING, 'p'),
                   frame(FIN | OP.CONT, Buffer.from([0x28, 0x22, 0x7d]))], 1007, 'split'));

    it('at once, before the message is complete', async () => {
      const c = await open();
      try {
        // The first fragment is already bad; its final fragment never comes.
        c.write(frame(OP.TEXT, Buffer.from([0x61, 0xff])));
        const close = await c.closeFrame();
        assert.equal(close?.code, 1007);
      } finally {
        c.destroy();
      }
    });
  });

  describe(`messages over ws_max_message (${MAX_MESSAGE} bytes) close with 1009, unbuffered`, () => {
    it('decided from the frame header: no payload byte is sent', async () => {
      const c = await open();
      try {
        // A header that announces 1 GiB, and not one byte of it.
        const header = frame(FIN | OP.TEXT, Buffer.alloc(0), { len: 1 << 30 });
        c.write(header);
        const close = await c.closeFrame();
        assert.equal(close?.code, 1009, `close ${close?.code}`);
      } finally {
        c.destroy();
      }
    });

    it('decided from the running total of fragments', async () => {
      const c = await open();
      try {
        const piece = Buffer.alloc(MAX_MESSAGE / 2, 0x61);
        c.write(frame(OP.TEXT, piece));
        c.write(frame(FIN | OP.PING, 'still fine'));
        const pong = await c.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(pong?.payload.toString(), 'still fine');
        c.write(frame(OP.CONT, piece)); // exactly at the limit: fine
        c.write(frame(FIN | OP.CONT, Buffer.alloc(0), { len: 1 })); // one byte over, header only
        const close = await c.closeFrame();
        assert.equal(close?.code, 1009, `close ${close?.code}`);
      } finally {
        c.destroy();
      }
    });

    it('a message of exactly the limit is served', async () => {
      const c = await open();
      try {
        const msg = JSON.stringify({ type: 'ping', pad: '' });
        const padded = JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_MESSAGE - msg.length) });
        assert.equal(Buffer.byteLength(padded), MAX_MESSAGE);
        c.write(frame(FIN | OP.TEXT, padded));
        const pong = await c.nextFrame((f) => f.opcode === OP.TEXT && f.payload.includes('"pong"'));
        assert.ok(pong, 'no pong for a message at the limit');
      } finally {
        c.destroy();
      }
    });
  });

  describe('well-formed traffic', () => {
    it('a message in three fragments with a ping between them is reassembled', async () => {
      const c = await open();
      try {
        c.write(frame(OP.TEXT, '{"type"'));
        c.write(frame(FIN | OP.PING, 'between'));
        c.write(frame(OP.CONT, ':"pi'));
        c.write(frame(FIN | OP.PONG, ''));        // an unsolicited pong is ignored
        c.write(frame(FIN | OP.CONT, 'ng"}'));
        const pong = await c.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(pong?.payload.toString(), 'between', 'the ping is answered with its data');
        const reply = await c.nextFrame((f) => f.opcode === OP.TEXT && f.payload.includes('"pong"'));
        assert.ok(reply, 'the reassembled message was not answered');
        assert.equal(reply.fin, true);
        assert.equal(reply.masked, false);
      } finally {
        c.destroy();
      }
    });

    it('the close handshake: the host echoes the code, then closes TCP', async () => {
      const c = await open();
      try {
        c.write(frame(FIN | OP.CLOSE, closePayload(4001, 'bye')));
        const close = await c.closeFrame();
        assert.equal(close?.code, 4001, 'the code is not echoed');
        await c.waitEnded();
      } finally {
        c.destroy();
      }
    });

    it('a close without a code is answered with a close without a code', async () => {
      const c = await open();
      try {
        c.write(frame(FIN | OP.CLOSE));
        const close = await c.closeFrame();
        assert.ok(close, 'no close frame');
        assert.equal(close.frame.payload.length, 0);
        await c.waitEnded();
      } finally {
        c.destroy();
      }
    });
  });

  describe('the handshake', () => {
    const base = (port) => [`Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade'];

    it('without Sec-WebSocket-Key: 400 with a JSON reason', async () => {
      const c = new RawClient(host.port);
      try {
        const r = await c.handshake({ headers: [...base(host.port), 'Sec-WebSocket-Version: 13'] });
        assert.equal(r.status, 400, r.head);
        assert.match(JSON.parse(r.body).error, /Sec-WebSocket-Key/);
      } finally {
        c.destroy();
      }
    });

    for (const [what, key] of [['not base64', '!!!!!!!!!!!!!!!!!!!!!!=='],
                               ['decoding to 15 bytes', Buffer.alloc(15, 1).toString('base64')],
                               ['decoding to 17 bytes', Buffer.alloc(17, 1).toString('base64')]]) {
      it(`with a Sec-WebSocket-Key ${what}: 400`, async () => {
        const c = new RawClient(host.port);
        try {
          const r = await c.handshake({ headers: [...base(host.port), `Sec-WebSocket-Key: ${key}`,
                                                  'Sec-WebSocket-Version: 13'] });
          assert.equal(r.status, 400, r.head);
        } finally {
          c.destroy();
        }
      });
    }

    for (const version of ['8', '14', null]) {
      it(`with Sec-WebSocket-Version ${version ?? '(none)'}: 426 naming version 13`, async () => {
        const c = new RawClient(host.port);
        try {
          const lines = [...base(host.port), `Sec-WebSocket-Key: ${newKey()}`];
          if (version) lines.push(`Sec-WebSocket-Version: ${version}`);
          const r = await c.handshake({ headers: lines });
          assert.equal(r.status, 426, r.head);
          assert.equal(r.headers['sec-websocket-version'], '13');
          assert.equal(typeof JSON.parse(r.body).error, 'string');
        } finally {
          c.destroy();
        }
      });
    }
  });

  // Plain-HTTP handshakes are answered by the host itself (core/http_accept.c):
  // it peeks at a connection's first bytes, takes `GET /ws` and hands any
  // other request to libmicrohttpd with its bytes unread.  These cases are
  // the ones that path could get wrong.
  describe('the handshake arriving in pieces, or with more behind it', () => {
    /** A raw client whose first write (the request) goes out in pieces at `cuts`, 30 ms apart. */
    class SplitClient extends RawClient {
      constructor(port, cuts) {
        super(port);
        this.sock.setNoDelay(true); // one TCP segment per piece
        this.cuts = cuts;
      }

      write(bytes) {
        const cuts = this.cuts;
        if (!cuts) return super.write(bytes);
        this.cuts = null;
        const buf = Buffer.from(bytes);
        const ends = [...cuts, buf.length];
        ends.forEach((end, i) => setTimeout(() => super.write(buf.subarray(i ? ends[i - 1] : 0, end)), 30 * i));
        return undefined;
      }
    }

    /** Sends a whole request in pieces; resolves with the raw answer once the host closes. */
    async function rawRequest(text, cuts) {
      const c = new SplitClient(host.port, cuts);
      try {
        await c.connected;
        c.write(text);
        await c.waitEnded();
        return c.buf.toString('latin1');
      } finally {
        c.destroy();
      }
    }

    for (const [what, cuts] of [['the request line split in four TCP writes', [2, 5, 7, 12]],
                                ['cut right after "GET /ws"', [7]],
                                ['cut inside the headers', [30, 60, 61]]]) {
      it(`${what}: 101, then the stream`, async () => {
        const c = new SplitClient(host.port, cuts);
        try {
          const r = await c.handshake();
          assert.equal(r.status, 101, r.head);
          assert.ok(r.accept, 'wrong Sec-WebSocket-Accept');
          assert.equal((await c.hello()).type, 'hello');
        } finally {
          c.destroy();
        }
      });
    }

    for (const [what, text, cuts, status, re] of [
      ['GET /healthz split before the path is known', 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
       [2, 6, 9], 200, /"status":"ok"/],
      ['GET /wsx (not /ws) split after "GET /ws"', 'GET /wsx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
       [7], 404, /"path":"\/wsx"/],
      ['GET /ws/ (not /ws)', 'GET /ws/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', [], 404, /"not found"/],
      ['POST /ws', 'POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', [3], 405,
       /"method not allowed"/],
    ]) {
      it(`${what}: served by libmicrohttpd after the peek (${status})`, async () => {
        const answer = await rawRequest(text, cuts);
        assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer.slice(0, 200));
        assert.match(answer, re, answer);
      });
    }

    it('frames sent with the handshake, before the 101: answered after the hello, in order', async () => {
      const c = new RawClient(host.port);
      try {
        await c.connected;
        const write = c.write.bind(c);
        // The request, a ping and a text ping, all in one TCP write.
        c.write = (bytes) => write(Buffer.concat([Buffer.from(bytes),
                                                  frame(FIN | OP.PING, 'early'),
                                                  frame(FIN | OP.TEXT, '{"type":"ping"}')]));
        const r = await c.handshake();
        assert.equal(r.status, 101, r.head);
        const hello = await c.nextFrame((f) => f.opcode === OP.TEXT);
        assert.equal(JSON.parse(hello.payload).type, 'hello', 'the hello comes first');
        const pong = await c.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(pong?.payload.toString(), 'early');
        const reply = await c.nextFrame((f) => f.opcode === OP.TEXT && f.payload.includes('"pong"'));
        assert.ok(reply, 'the pipelined text message was not answered');
      } finally {
        c.destroy();
      }
    });

    it('a refusal arriving in pieces is answered whole, with the security headers', async () => {
      const text = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\n` +
                   'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n';
      const answer = await rawRequest(text, [4, 9, 40]);
      assert.match(answer, /^HTTP\/1\.1 400 /, answer);
      assert.match(answer, /\r\nX-Content-Type-Options: nosniff\r\n/i);
      assert.match(answer, /\r\nContent-Security-Policy: [^\r]*frame-ancestors 'none'/i);
      assert.match(answer, /\{"error":"missing or malformed Sec-WebSocket-Key"\}$/);
    });

    it('no Host header: 400, as libmicrohttpd answers any HTTP/1.1 request without one', async () => {
      const c = new RawClient(host.port);
      try {
        const r = await c.handshake({ headers: ['Upgrade: websocket', 'Connection: Upgrade',
                                                `Sec-WebSocket-Key: ${newKey()}`, 'Sec-WebSocket-Version: 13'] });
        assert.equal(r.status, 400, r.head);
        assert.match(JSON.parse(r.body).error, /Host/);
      } finally {
        c.destroy();
      }
    });

    it('a malformed head (a folded header line): 400', async () => {
      const answer = await rawRequest('GET /ws HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n', []);
      assert.match(answer, /^HTTP\/1\.1 400 /, answer);
    });

    it('a client that hangs up halfway through the request line costs nothing', async () => {
      for (const text of ['GET /w', 'GET /ws HTTP/1.1\r\nUpgr']) {
        const c = new RawClient(host.port);
        await c.connected;
        c.write(text);
        c.sock.end();
        await c.waitEnded();
        c.destroy();
      }
      assert.equal((await getJson(host.base, '/healthz')).status, 'ok');
    });
  });

  it('afterwards the host still serves: the bystander keeps its stream, new clients connect', async () => {
    bystander.skipReceived();
    const a = await bystander.nextOfType('sample');
    const b = await bystander.nextOfType('sample');
    assert.equal(b.seq, a.seq + 1, 'the bystander missed a sample');
    assert.equal(bystander.closed, null);
    const fresh = await connectWs(host.wsUrl);
    try {
      assert.equal((await fresh.nextOfType('hello')).type, 'hello');
      fresh.send({ type: 'ping' });
      await fresh.nextOfType('pong');
    } finally {
      fresh.terminate();
    }
    assert.equal((await getJson(host.base, '/healthz')).status, 'ok');
    // Every bad client is gone from the count (only the bystander remains).
    await waitFor(async () => (await getJson(host.base, '/healthz')).clients === 1,
                  { timeout: 15000, what: 'the bad clients to be uncounted' });
    assert.equal(host.exited, null, host.describe());
  });
});
