// security.test.mjs — who may use a host, and what every answer tells a
// browser:
//   - told nothing, the host binds 127.0.0.1 (HTTP and StatsD);
//   - a non-loopback listen address without [host] auth_token (or
//     allow_anonymous = true) is refused at start with one clear line;
//   - with a token: /api/…, /metrics and the WebSocket handshake answer 401
//     (JSON, WWW-Authenticate: Bearer) without it and serve with it, as an
//     Authorization header or a ?token= parameter; the page, its assets and
//     /healthz need none (the page reads ?token= from its own URL);
//   - a WebSocket handshake from another site's Origin gets 403, unless the
//     origin is in [host] allowed_origins;
//   - every answer carries nosniff, frame denial and no-referrer, and the
//     HTML a Content-Security-Policy without inline script or style, which
//     web/index.html must therefore not need.
// Hosts bound to 0.0.0.0 are reached through 127.0.0.1 only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  INTERVAL, PLUGINS_DIR, SOURCE_DIR, WebSocket, removeTempDirs, request, runHost, spawnHost,
  startHost, stopAllHosts, tempDir, waitFor, withTimeout,
} from './host.mjs';
import { RawClient } from './raw_ws.mjs';

const TOKEN = 'correct-horse-battery-staple';

function writeConfig(text) {
  const file = path.join(tempDir(), 'vitals.ini');
  fs.writeFileSync(file, text);
  return file;
}

/** Starts a host on 0.0.0.0 and returns it with .port set (connect via 127.0.0.1). */
async function startExposed(config) {
  const host = spawnHost(['--config', config, '--host', '0.0.0.0', '--port', '0',
                          '--interval', String(INTERVAL), '--plugins-dir', PLUGINS_DIR]);
  const re = /^vitals listening on http:\/\/0\.0\.0\.0:(\d+)\/$/m;
  await waitFor(() => {
    if (host.exited) throw new Error(`host exited\n${host.describe()}`);
    return re.test(host.stdout);
  }, { timeout: 15000, what: `the listening line of\n${host.describe()}` });
  host.port = Number(re.exec(host.stdout)[1]);
  return host;
}

const base = (host) => `http://127.0.0.1:${host.port}`;

describe('listening beyond loopback', { timeout: 60000 }, () => {
  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  it('told nothing, the host binds its HTTP and StatsD sockets to 127.0.0.1 only', async () => {
    // An empty config and no --host: the defaults alone decide.
    const host = spawnHost(['--config', writeConfig(''), '--port', '0', '--plugins-dir', PLUGINS_DIR]);
    await waitFor(() => {
      if (host.exited) throw new Error(`host exited\n${host.describe()}`);
      return /^vitals listening on /m.test(host.stdout);
    }, { timeout: 15000, what: `the listening line of\n${host.describe()}` });
    assert.match(host.stdout, /^vitals listening on http:\/\/127\.0\.0\.1:\d+\/$/m);
    assert.match(host.stderr, /StatsD on udp 127\.0\.0\.1:\d+/);

    // Every socket the host's process holds, as the kernel sees it: a
    // listening TCP socket or a UDP socket on any other address fails.
    const inodes = new Set();
    for (const fd of fs.readdirSync(`/proc/${host.pid}/fd`)) {
      let link = '';
      try { link = fs.readlinkSync(`/proc/${host.pid}/fd/${fd}`); } catch { /* closed meanwhile */ }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]);
    }
    const bound = [];
    for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
      for (const line of fs.readFileSync(`/proc/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);   // sl local rem st … uid timeout inode
        if (!inodes.has(f[9])) continue;
        if (table.startsWith('tcp') && f[3] !== '0A') continue;   // only listening TCP sockets
        bound.push(`${table} ${f[1]}`);
      }
    }
    assert.equal(bound.filter((b) => b.startsWith('tcp')).length, 1, bound.join('\n'));
    assert.equal(bound.filter((b) => b.startsWith('udp')).length, 1, bound.join('\n'));
    for (const b of bound) assert.match(b, /^(tcp|udp) 0100007F:/, `${b} is not 127.0.0.1`);
    await host.kill();
  });

  it('0.0.0.0 without auth_token is refused with one line naming the way out', async () => {
    const r = await runHost(['--host', '0.0.0.0', '--port', '0', '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1, `exit ${r.code}\n${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('vitals:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /0\.0\.0\.0 is not loopback/);
    assert.match(lines[0], /auth_token/);
    assert.match(lines[0], /allow_anonymous/);
    assert.doesNotMatch(r.stdout, /listening/);
  });

  it('the same from the config file\'s listen key', async () => {
    const config = writeConfig('[host]\nlisten = 0.0.0.0\n');
    const r = await runHost(['--config', config, '--port', '0', '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not loopback/);
  });

  it('allow_anonymous = true serves 0.0.0.0 without a token, with a warning', async () => {
    const host = await startExposed(writeConfig('[host]\nallow_anonymous = true\n'));
    const r = await request(base(host), '/api/v1/metrics');
    assert.equal(r.status, 200);
    assert.match(host.stderr, /without a token/);
    await host.kill();
  });

  it('an empty auth_token is a config error, not "no token"', async () => {
    const r = await runHost(['--config', writeConfig('[host]\nauth_token =\n'), '--port', '0',
                             '--plugins-dir', PLUGINS_DIR]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /auth_token/);
  });
});

describe('[host] auth_token', { timeout: 60000 }, () => {
  let host;
  let b;

  before(async () => {
    host = await startExposed(writeConfig(`[host]\nauth_token = ${TOKEN}\n`));
    b = base(host);
  });

  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  const guarded = ['/api/v1/descriptors', '/api/v1/metrics', '/api/v1/history?metric=system.cpu_percent',
                   '/metrics', '/api/v1/nope'];

  for (const route of guarded) {
    it(`GET ${route}: 401 with JSON and WWW-Authenticate without the token`, async () => {
      const r = await request(b, route);
      assert.equal(r.status, 401, r.body);
      assert.match(r.headers['www-authenticate'] ?? '', /^Bearer\b/);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.match(r.json.error, /token/);
    });
  }

  it('a wrong token, another scheme or a bare token: 401', async () => {
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const r = await request(b, '/api/v1/metrics', { headers: { authorization } });
      assert.equal(r.status, 401, authorization);
    }
    assert.equal((await request(b, `/api/v1/metrics?token=${TOKEN}x`)).status, 401);
  });

  it('the token in an Authorization: Bearer header: 200', async () => {
    for (const route of guarded.slice(0, 4)) {
      const r = await request(b, route, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 200, `${route}: ${r.body}`);
    }
  });

  it('the token as ?token=: 200', async () => {
    assert.equal((await request(b, `/api/v1/metrics?token=${TOKEN}`)).status, 200);
    assert.equal((await request(b, `/api/v1/history?metric=system.cpu_percent&token=${TOKEN}`)).status, 200);
    assert.equal((await request(b, `/metrics?token=${encodeURIComponent(TOKEN)}`)).status, 200);
  });

  it('POST /api/v1/ingest needs it too', async () => {
    const post = (headers) => request(b, '/api/v1/ingest', {
      method: 'POST', body: 'action:1|ms', headers: { 'content-type': 'text/plain', ...headers } });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ authorization: `Bearer ${TOKEN}` })).status, 200);
  });

  it('the page, its assets and /healthz need no token', async () => {
    for (const route of ['/', '/app.js', '/js/socket.js', '/healthz']) {
      assert.equal((await request(b, route)).status, 200, route);
    }
  });

  it('the WebSocket handshake: 401 without, 101 with ?token= or the header', async () => {
    const bare = new RawClient(host.port);
    try {
      const r = await bare.handshake();
      assert.equal(r.status, 401, r.head);
      assert.match(r.headers['www-authenticate'] ?? '', /^Bearer\b/);
    } finally {
      bare.destroy();
    }
    const byQuery = new RawClient(host.port);
    try {
      const r = await byQuery.handshake({ path: `/ws?token=${TOKEN}` });
      assert.equal(r.status, 101, r.head);
      assert.equal((await byQuery.hello()).type, 'hello');
    } finally {
      byQuery.destroy();
    }
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const first = await withTimeout(new Promise((resolve, reject) => {
        ws.once('message', (d) => resolve(JSON.parse(d.toString())));
        ws.once('error', reject);
      }), 10000, 'hello over an authorized ws');
      assert.equal(first.type, 'hello');
    } finally {
      ws.terminate();
    }
  });

  it('the dashboard passes ?token= from its own URL to its WebSocket', async () => {
    const { socketUrl } = await import(pathToFileURL(path.join(SOURCE_DIR, 'web', 'js', 'socket.js')).href);
    const loc = (search) => ({ protocol: 'http:', host: `127.0.0.1:${host.port}`, search });
    assert.equal(socketUrl(loc('')), `ws://127.0.0.1:${host.port}/ws`);
    const url = socketUrl(loc(`?token=${encodeURIComponent('a b&c')}`));
    assert.equal(url, `ws://127.0.0.1:${host.port}/ws?token=a%20b%26c`);
    // The URL the page would open is accepted by the host.
    const page = new URL(socketUrl(loc(`?token=${encodeURIComponent(TOKEN)}`)));
    const c = new RawClient(host.port);
    try {
      assert.equal((await c.handshake({ path: page.pathname + page.search })).status, 101);
    } finally {
      c.destroy();
    }
  });
});

describe('WebSocket Origin', { timeout: 60000 }, () => {
  let host;

  before(async () => {
    host = await startHost({ config: writeConfig('[host]\nallowed_origins = https://dash.example, http://localhost:3000/\n') });
  });

  after(async () => {
    await stopAllHosts();
    removeTempDirs();
  });

  async function handshakeFrom(origin) {
    const c = new RawClient(host.port);
    try {
      return await c.handshake({ extra: origin === undefined ? [] : [`Origin: ${origin}`] });
    } finally {
      c.destroy();
    }
  }

  it('another site\'s origin: 403 with a JSON reason', async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${host.port + 1}`,
                          `http://127.0.0.1:${host.port}.evil.example`, 'https://dash.example.evil']) {
      const r = await handshakeFrom(origin);
      assert.equal(r.status, 403, `${origin}: ${r.head}`);
      assert.match(JSON.parse(r.body).error, /origin/);
    }
    assert.match(host.stderr, /origin 'http:\/\/evil\.example' refused/);
  });

  it('the host\'s own origin, an allowed one, or none: 101', async () => {
    for (const origin of [`http://127.0.0.1:${host.port}`, 'https://dash.example', 'http://localhost:3000', undefined]) {
      const r = await handshakeFrom(origin);
      assert.equal(r.status, 101, `${origin}: ${r.head}`);
    }
  });
});

describe('security headers', { timeout: 60000 }, () => {
  let host;

  before(async () => {
    host = await startHost();
  });

  after(async () => {
    await stopAllHosts();
  });

  const common = (r, what) => {
    assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(r.headers['x-frame-options'], 'DENY', what);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', what);
    assert.match(r.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, what);
  };

  it('the dashboard: a CSP that allows no inline script or style', async () => {
    const r = await request(host.base, '/');
    assert.equal(r.status, 200);
    common(r, '/');
    const csp = r.headers['content-security-policy'];
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /base-uri 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });

  it('every other answer too: JSON, text, assets, errors', async () => {
    for (const [route, method] of [['/api/v1/metrics'], ['/healthz'], ['/metrics'], ['/app.js'],
                                   ['/style.css'], ['/nope'], ['/api/v1/nope'], ['/api/v1/history'],
                                   ['/healthz', 'POST'], ['/ws']]) {
      const r = await request(host.base, route, { method: method ?? 'GET' });
      common(r, `${method ?? 'GET'} ${route} (${r.status})`);
    }
  });

  it('web/index.html needs no inline script, style or handler (so the CSP breaks nothing)', () => {
    const html = fs.readFileSync(path.join(SOURCE_DIR, 'web', 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /\bsrc=/, `inline script: ${m[0].slice(0, 80)}`);
      assert.equal(m[2].trim(), '', 'a script with both src and a body');
    }
    assert.doesNotMatch(html, /<style\b/i, 'an inline <style>');
    assert.doesNotMatch(html, /\sstyle\s*=/i, 'a style attribute');
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'an inline event handler');
    assert.doesNotMatch(html, /javascript:/i, 'a javascript: URL');
  });
});
