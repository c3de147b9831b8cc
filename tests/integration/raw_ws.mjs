// raw_ws.mjs — a WebSocket client on a bare TCP socket, for the frames and
// handshakes a real client library refuses to produce: unmasked frames,
// reserved bits, bad close payloads, half-sent requests, clients that never
// read.  Used by ws_rfc.test.mjs, clients.test.mjs and security.test.mjs.
import crypto from 'node:crypto';
import net from 'node:net';

import { withTimeout } from './host.mjs';

/** A fresh Sec-WebSocket-Key (16 random bytes, base64). */
export const newKey = () => crypto.randomBytes(16).toString('base64');

/** The Sec-WebSocket-Accept a server must answer to `key`. */
export const acceptFor = (key) => crypto.createHash('sha1')
  .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/**
 * One client frame.  `b0` is the first byte as is (FIN | RSV | opcode), so
 * malformed frames can be built; the payload is masked unless mask: false.
 * `len` overrides the announced payload length (the payload sent is still
 * `payload`).
 */
export function frame(b0, payload = Buffer.alloc(0), { mask = true, len } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = len ?? data.length;
  const head = [b0];
  const m = mask ? 0x80 : 0;
  if (n < 126) {
    head.push(m | n);
  } else if (n <= 0xffff) {
    head.push(m | 126, n >> 8, n & 0xff);
  } else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(n));
    head.push(m | 127, ...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(data.map((c, i) => c ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, body]);
}

export const FIN = 0x80;
export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/** A close frame payload: the code, then the reason's bytes. */
export function closePayload(code, reason = '') {
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, r]);
}

/**
 * A raw connection: collects every byte, parses server frames after the
 * handshake, and lets a test wait for things.  Never throws on socket errors
 * (a host that drops a bad client may reset the connection).
 */
export class RawClient {
  constructor(port, host = '127.0.0.1') {
    this.port = port;
    this.sock = net.connect({ host, port });
    this.sock.on('error', (e) => { this.error = e; });
    this.buf = Buffer.alloc(0);
    this.frames = [];
    this.ended = false;     // the server closed (FIN or reset)
    this.upgraded = false;
    this.waiters = new Set();
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); this.notify(); });
    this.sock.on('close', () => { this.ended = true; this.notify(); });
    this.sock.on('end', () => { this.ended = true; this.notify(); });
    this.connected = withTimeout(new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    }), 10000, `TCP connect to ${port}`);
  }

  notify() { for (const w of [...this.waiters]) w(); }

  /** Resolves with fn()'s first truthy value, re-checked on every event. */
  until(fn, timeout, what) {
    return withTimeout(new Promise((resolve) => {
      const check = () => {
        const v = fn();
        if (v) { this.waiters.delete(check); resolve(v); }
      };
      this.waiters.add(check);
      check();
    }), timeout, what);
  }

  write(bytes) { if (!this.sock.destroyed) this.sock.write(bytes); }

  /**
   * Sends a GET /ws with `headers` (a list of "Name: value" lines replacing
   * the defaults when given) and resolves with {status, head, headers,
   * body} of the answer; on 101 the client switches to reading frames.
   */
  async handshake({ path = '/ws', key = newKey(), headers, extra = [] } = {}) {
    await this.connected;
    const lines = headers ?? [
      `Host: 127.0.0.1:${this.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
    ];
    this.write(`GET ${path} HTTP/1.1\r\n${[...lines, ...extra].join('\r\n')}\r\n\r\n`);
    const end = await this.until(() => {
      const i = this.buf.indexOf('\r\n\r\n');
      return i >= 0 ? i + 1 : (this.ended ? -1 : 0);
    }, 10000, 'the handshake answer');
    if (end < 0) throw new Error('connection closed before the handshake answer');
    const head = this.buf.subarray(0, end - 1).toString('latin1');
    this.buf = this.buf.subarray(end + 3);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const headers2 = {};
    for (const line of head.split('\r\n').slice(1)) {
      const c = line.indexOf(':');
      if (c > 0) headers2[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    if (status === 101) {
      this.upgraded = true;
      this.parse();
      return { status, head, headers: headers2, accept: headers2['sec-websocket-accept'] === acceptFor(key) };
    }
    // An error answer: read its body (Content-Length) or until close.
    const length = Number(headers2['content-length'] ?? NaN);
    if (Number.isFinite(length)) {
      await this.until(() => this.buf.length >= length || this.ended, 10000, 'the answer body');
    }
    return { status, head, headers: headers2, body: this.buf.toString('utf8') };
  }

  /** Moves complete server frames from the buffer to this.frames. */
  parse() {
    if (!this.upgraded) return;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (b[1] & 0x80) off += 4; // servers must not mask; tests check `masked`
      if (b.length < off + len) return;
      this.frames.push({ fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0x0f,
                         masked: (b[1] & 0x80) !== 0, payload: Buffer.from(b.subarray(off, off + len)) });
      this.buf = b.subarray(off + len);
    }
  }

  /** The next frame matching pred (removed from the list), or null if the server closed first. */
  nextFrame(pred = () => true, timeout = 10000) {
    return this.until(() => {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return { frame: this.frames.splice(i, 1)[0] };
      return this.ended ? { frame: null } : null;
    }, timeout, 'a frame from the host').then((r) => r.frame);
  }

  /** Waits for the hello (the first text frame). */
  async hello() {
    const f = await this.nextFrame((x) => x.opcode === OP.TEXT);
    if (!f) throw new Error('closed before hello');
    return JSON.parse(f.payload.toString('utf8'));
  }

  /**
   * Waits for the server's close frame: {code (undefined if it carried
   * none), reason, frame}; null when the server dropped TCP without one.
   */
  async closeFrame(timeout = 10000) {
    const f = await this.nextFrame((x) => x.opcode === OP.CLOSE, timeout);
    if (!f) return null;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined,
             reason: f.payload.subarray(2).toString('utf8'), frame: f };
  }

  /** Waits until the server has closed the TCP connection. */
  waitEnded(timeout = 10000) {
    return this.until(() => this.ended, timeout, 'the host to close the connection');
  }

  destroy() { this.sock.destroy(); }
}
