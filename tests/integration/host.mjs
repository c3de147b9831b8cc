// host.mjs — start and stop the real `vitals` binary for the integration
// tests, plus small helpers for HTTP, WebSocket and bounded waiting.
//
// Every host is started on 127.0.0.1 with `--port 0` and is tracked by PID:
// stopAllHosts() (call it from an `after` hook) SIGKILLs any host still
// running, and a process 'exit' handler does the same if a test crashes.
//
// Paths come from the environment set by tests/integration/CMakeLists.txt:
//   VITALS_BIN, VITALS_PLUGINS_DIR, VITALS_FIXTURES_DIR, VITALS_SOURCE_DIR,
//   VITALS_NODE_MODULES.
// By hand: VITALS_BUILD_DIR=/path/to/build node --test tests/integration/
// derives all of them from one build directory.
// VITALS_TEST_TIME_SCALE=N multiplies every time bound (slow sanitizer or
// valgrind runs); hosts that print a sanitizer report fail the file.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = process.env.VITALS_BUILD_DIR;

function setting(name, fromBuild) {
  const v = process.env[name] || (buildDir ? fromBuild(buildDir) : undefined);
  if (!v) {
    throw new Error(`${name} is not set: run the tests through ctest, or set VITALS_BUILD_DIR`);
  }
  return v;
}

export const VITALS_BIN = setting('VITALS_BIN', (b) => path.join(b, 'vitals'));
export const PLUGINS_DIR = setting('VITALS_PLUGINS_DIR', (b) => path.join(b, 'lib', 'vitals', 'plugins'));
export const FIXTURES_DIR = setting('VITALS_FIXTURES_DIR', (b) => path.join(b, 'tests', 'fixtures'));
export const EXAMPLES_DIR = setting('VITALS_EXAMPLES_DIR', (b) => path.join(b, 'examples', 'plugins'));
export const SOURCE_DIR = process.env.VITALS_SOURCE_DIR || path.resolve(here, '..', '..');
export const NODE_MODULES = setting('VITALS_NODE_MODULES', (b) => path.join(b, 'tests', 'node', 'node_modules'));

// The `ws` package from the build tree (npm ci put it there).
const requireFromBuild = createRequire(NODE_MODULES.replace(/\/*$/, '/'));
export const WebSocket = requireFromBuild('ws');

// Scales every time bound, e.g. VITALS_TEST_TIME_SCALE=3 under sanitizers.
export const TIME_SCALE = Number(process.env.VITALS_TEST_TIME_SCALE) || 1;
export const ms = (n) => Math.round(n * TIME_SCALE);

// The tick used by every test: fast, but not so fast that a loaded machine
// cannot keep up.
export const INTERVAL = 0.2;

/** The project version from the top-level CMakeLists.txt. */
export function projectVersion() {
  const text = fs.readFileSync(path.join(SOURCE_DIR, 'CMakeLists.txt'), 'utf8');
  const m = /project\s*\(\s*vitals\s+VERSION\s+([0-9][0-9.]*)/i.exec(text);
  if (!m) throw new Error('cannot find the project VERSION in CMakeLists.txt');
  return m[1];
}

export const sleep = (t) => new Promise((resolve) => setTimeout(resolve, t));

/**
 * Polls `fn` (sync or async) until it returns a truthy value, and returns
 * that value; throws after `timeout` ms with `what` and the last error.
 */
export async function waitFor(fn, { timeout = 10000, every = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + ms(timeout);
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms(timeout)} ms waiting for ${what}` +
                      (last ? `; last error: ${last.message}` : ''));
    }
    await sleep(every);
  }
}

/** Resolves with `promise`, or rejects after `timeout` ms naming `what`. */
export function withTimeout(promise, timeout, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms(timeout)} ms: ${what}`)), ms(timeout));
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// ---- hosts -------------------------------------------------------------

const running = new Set();
const started = [];

process.on('exit', () => {
  for (const h of running) {
    try { process.kill(h.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

// https when [host] tls_cert is set (tls.test.mjs).
const LISTEN_RE = /^vitals listening on https?:\/\/127\.0\.0\.1:(\d+)\/$/;

class Host {
  constructor(child, args) {
    this.child = child;
    this.pid = child.pid;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.port = null;
    this.exited = null; // {code, signal} once the process has exited
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        resolve(this.exited);
      });
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { this.stdout += d; });
    child.stderr.on('data', (d) => { this.stderr += d; });
    // Pipes may error when the process is killed; never crash the runner.
    child.stdout.on('error', () => {});
    child.stderr.on('error', () => {});
    child.on('error', (e) => { this.spawnError = e; });
  }

  get base() { return `http://127.0.0.1:${this.port}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; }

  /** What the host printed so far, for assertion messages. */
  describe() {
    return `vitals ${this.args.join(' ')}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}` +
           (this.exited ? `\n--- exited: ${JSON.stringify(this.exited)}` : '');
  }

  /** Waits for the one "listening" line on stdout and records the port. */
  async waitListening(timeout = 15000) {
    await waitFor(() => {
      if (this.spawnError) throw this.spawnError;
      const line = this.stdout.split('\n').find((l) => LISTEN_RE.test(l));
      if (line) {
        this.port = Number(LISTEN_RE.exec(line)[1]);
        return true;
      }
      if (this.exited) {
        throw new Error(`host exited before listening\n${this.describe()}`);
      }
      return false;
    }, { timeout, what: `the listening line of\n${this.describe()}` }).catch((e) => {
      throw new Error(`${e.message}\n${this.describe()}`);
    });
    return this;
  }

  /** Waits for exit; returns {code, signal}, or throws after `timeout` ms. */
  waitExit(timeout = 10000) {
    return withTimeout(this.exitPromise, timeout, `exit of\n${this.describe()}`);
  }

  /** Sends a signal by PID (no-op once the process has exited). */
  signal(sig) {
    if (this.exited) return;
    try { process.kill(this.pid, sig); } catch { /* gone */ }
  }

  /** SIGKILLs the host if it still runs and waits for it. */
  async kill() {
    if (this.exited) return this.exited;
    this.signal('SIGKILL');
    return this.exitPromise;
  }
}

/**
 * Spawns vitals with `args` (no defaults added).  Does not wait for anything.
 */
export function spawnHost(args, { env } = {}) {
  // Tests run in parallel: never take the real StatsD port.
  if (!args.includes('--ingest-port') && !args.includes('--version') && !args.includes('--help')) {
    args = [...args, '--ingest-port', '0'];
  }
  // VITALS_HOST_WRAPPER runs every host under a tool (valgrind); the child's
  // PID stays the host's, as the tool execs in place.
  const child = spawn(WRAPPER.length ? WRAPPER[0] : VITALS_BIN,
                      WRAPPER.length ? [...WRAPPER.slice(1), VITALS_BIN, ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(env || {}) },
  });
  const host = new Host(child, args);
  running.add(host);
  started.push(host);
  return host;
}

/**
 * Starts a serving host on an ephemeral loopback port and waits for its
 * listening line.  Options: pluginsDir, interval, config (a file path),
 * args (extra arguments).
 */
export async function startHost({ pluginsDir = PLUGINS_DIR, interval = INTERVAL, config, args = [] } = {}) {
  const argv = ['--host', '127.0.0.1', '--port', '0', '--interval', String(interval),
                '--plugins-dir', pluginsDir];
  if (config) argv.unshift('--config', config);
  argv.push(...args);
  const host = spawnHost(argv);
  try {
    await host.waitListening();
  } catch (e) {
    await host.kill();
    throw e;
  }
  return host;
}

/**
 * Runs vitals with `args` to completion and returns {code, signal, stdout,
 * stderr}; kills it and throws if it runs longer than `timeout` ms.
 */
export async function runHost(args, { timeout = 10000 } = {}) {
  const host = spawnHost(args);
  try {
    const { code, signal } = await host.waitExit(timeout);
    return { code, signal, stdout: host.stdout, stderr: host.stderr, host };
  } finally {
    await host.kill();
  }
}

const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer/;

/**
 * SIGKILLs every host still running; for `after` hooks.  Then fails if any
 * host this file started printed a sanitizer report (VITALS_SANITIZE=ON).
 * Under a wrapper with --log-file (valgrind), hosts get SIGTERM first so the
 * tool can write its leak report, and a log whose ERROR SUMMARY is not 0
 * (memcheck errors, or definite leaks with --errors-for-leak-kinds) fails.
 */
export async function stopAllHosts() {
  if (WRAPPER_LOG) {
    for (const h of running) h.signal('SIGTERM');
    await Promise.all([...running].map((h) => h.waitExit(20000).catch(() => h.kill())));
  }
  await Promise.all([...running].map((h) => h.kill()));
  const bad = started.filter((h) => SANITIZER_RE.test(h.stderr));
  const badLogs = started.map(wrapperReport).filter(Boolean);
  started.length = 0;
  if (bad.length) {
    throw new Error(`sanitizer report from ${bad.length} host(s):\n${bad.map((h) => h.describe()).join('\n\n')}`);
  }
  if (badLogs.length) {
    throw new Error(`${WRAPPER[0]} found errors in ${badLogs.length} host(s):\n${badLogs.join('\n\n')}`);
  }
}

// ---- the wrapper (valgrind) ---------------------------------------------

/** VITALS_HOST_WRAPPER split at blanks, e.g. ["valgrind", "--leak-check=full", ...]. */
const WRAPPER = (process.env.VITALS_HOST_WRAPPER || '').split(/\s+/).filter(Boolean);
/** Its --log-file=PATH (with %p for the PID), or undefined. */
const WRAPPER_LOG = WRAPPER.map((a) => /^--log-file=(.+)$/.exec(a)?.[1]).find(Boolean);
/** True when hosts run under a wrapper (tests may relax what it slows down). */
export const UNDER_WRAPPER = WRAPPER.length > 0;

/** The text of a wrapper log if it reports errors, else undefined. */
function logErrors(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return undefined; }
  const m = /ERROR SUMMARY: (\d+) errors/.exec(text);
  if (m && Number(m[1]) === 0) return undefined;
  // No summary: the process was SIGKILLed (or exec'd); errors found until then still count.
  if (!m && !/^==\d+== (Invalid|Conditional|Syscall param|Mismatched|Source and destination)/m.test(text)) {
    return undefined;
  }
  return text;
}

/** The wrapper logs of a host, and of the children it forked (plugin
 * probes), that report errors, as one text; or undefined. */
function wrapperReport(h) {
  if (!WRAPPER_LOG || !h.pid || !WRAPPER_LOG.includes('%p')) return undefined;
  const own = WRAPPER_LOG.replace(/%p/g, String(h.pid));
  const files = [own];
  const dir = path.dirname(own);
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const f = path.join(dir, name);
    if (f === own) continue;
    try {
      if (fs.readFileSync(f, 'utf8').slice(0, 2000).includes(`Parent PID: ${h.pid}\n`)) files.push(f);
    } catch { /* gone */ }
  }
  const bad = files.map((f) => [f, logErrors(f)]).filter(([, t]) => t);
  if (!bad.length) return undefined;
  return bad.map(([f, t]) => `--- ${f} (vitals ${h.args.join(' ')}) ---\n${t}`).join('\n');
}

/** A fresh temporary directory, removed by removeTempDirs(). */
const tempDirs = [];
export function tempDir(prefix = 'vitals-it-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
export function removeTempDirs() {
  while (tempDirs.length) fs.rmSync(tempDirs.pop(), { recursive: true, force: true });
}

// ---- HTTP --------------------------------------------------------------

/**
 * One HTTP request over a fresh connection.  Resolves with
 * {status, headers, body (string), json (parsed or undefined)}.
 */
export function request(base, urlPath, { method = 'GET', body, headers = {}, timeout = 10000 } = {}) {
  const url = new URL(urlPath, base);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, bytes: buf, json });
      });
    });
    req.setTimeout(ms(timeout), () => req.destroy(new Error(`HTTP ${method} ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** GET `urlPath` and return the parsed JSON body (asserting 200 + JSON). */
export async function getJson(base, urlPath) {
  const r = await request(base, urlPath);
  if (r.status !== 200) throw new Error(`GET ${urlPath}: status ${r.status}: ${r.body}`);
  if (r.json === undefined) throw new Error(`GET ${urlPath}: not JSON: ${r.body.slice(0, 200)}`);
  return r.json;
}

// ---- WebSocket ---------------------------------------------------------

/**
 * A `ws` client that keeps every message (parsed JSON) and lets a test wait
 * for the next one matching a predicate.
 */
export class WsClient {
  constructor(url, options = {}) {
    this.url = url;
    this.ws = new WebSocket(url, { handshakeTimeout: ms(10000), ...options });
    this.messages = [];     // every parsed message, in order
    this.cursor = 0;        // next() starts looking here
    this.errors = [];
    this.closed = null;     // {code, reason} once closed
    this.waiters = new Set();
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('close', (code) => reject(new Error(`closed (${code}) before open`)));
    });
    this.opened.catch(() => {});
    this.closedPromise = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
        this.notify();
      });
    });
    this.ws.on('error', (e) => { this.errors.push(e); this.notify(); });
    this.ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch (e) {
        msg = { type: '__unparsable__', isBinary, raw: data.toString('utf8').slice(0, 200) };
      }
      this.messages.push(msg);
      this.notify();
    });
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the next message (from the cursor on) matching pred. */
  next(pred = () => true, timeout = 10000, what = 'a message') {
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.cursor < this.messages.length) {
          const m = this.messages[this.cursor++];
          if (pred(m)) {
            cleanup();
            resolve(m);
            return;
          }
        }
        if (this.closed) {
          cleanup();
          reject(new Error(`connection closed (${this.closed.code}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${ms(timeout)} ms waiting for ${what}; ` +
                         `got ${this.messages.length} messages, last: ` +
                         JSON.stringify(this.messages.at(-1))?.slice(0, 300)));
      }, ms(timeout));
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Skips every message received so far: next() then waits for new ones. */
  skipReceived() {
    this.cursor = this.messages.length;
  }

  /** The next message of `type`. */
  nextOfType(type, timeout = 10000) {
    return this.next((m) => m && m.type === type, timeout, `a "${type}" message`);
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  waitClosed(timeout = 10000) {
    return withTimeout(this.closedPromise, timeout, `close of ${this.url}`);
  }

  /** Drops the connection at once (no close handshake). */
  terminate() {
    try { this.ws.terminate(); } catch { /* ignore */ }
  }
}

/** Opens a client and waits for the connection; returns the client. */
export async function connectWs(url, options) {
  const c = new WsClient(url, options);
  await withTimeout(c.opened, 10000, `WebSocket open of ${url}`);
  return c;
}
