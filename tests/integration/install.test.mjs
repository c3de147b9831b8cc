// install.test.mjs — `cmake --install` into a temporary prefix yields a
// working, self-contained tree: the host finds its bundled plugins and its
// config under that prefix without flags, the SDK there (pkg-config and
// find_package) builds the example collector out of tree with nothing from
// the source tree, the collector runs in the installed host, a client
// application links against the installed library, and the systemd unit
// names the prefix and passes `systemd-analyze verify` (when present).
//
// Environment (tests/integration/CMakeLists.txt): VITALS_BUILD_DIR (else the
// directory of VITALS_BIN), VITALS_CMAKE (else `cmake` on PATH).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import {
  SOURCE_DIR, VITALS_BIN, connectWs, getJson, ms, removeTempDirs, tempDir, waitFor,
} from './host.mjs';

const execFileP = promisify(execFile);
const BUILD_DIR = process.env.VITALS_BUILD_DIR || path.dirname(VITALS_BIN);
const CMAKE = process.env.VITALS_CMAKE || 'cmake';

/** Runs a command to completion; throws with its output unless it exits 0. */
// A sanitizer build installs instrumented libraries: what links them must
// carry the same runtime (make sanitize sets VITALS_SANITIZE).
const SANITIZE = process.env.VITALS_SANITIZE === 'ON' ? ['-fsanitize=address,undefined'] : [];

async function run(cmd, args, { env, cwd, timeout = 60000 } = {}) {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd, env: env || process.env, timeout: ms(timeout), maxBuffer: 16 << 20,
    });
    return { stdout, stderr };
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${e.code ?? e.signal}):\n` +
                    `--- stdout ---\n${e.stdout}\n--- stderr ---\n${e.stderr}`);
  }
}

/** True when `cmd` is an executable on PATH. */
function onPath(cmd) {
  return (process.env.PATH || '').split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// ---- the installed host --------------------------------------------------

const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Starts `bin` (the installed vitals) with `args` and waits for its
 * listening line.  Returns {child, port, base, wsUrl, out(), err(), stop()}.
 */
async function startInstalled(bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '', stderr = '', exited = null;
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
    resolve(exited);
  }));
  const describeIt = () => `${bin} ${args.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    const r = await Promise.race([exit, new Promise((res) => setTimeout(res, ms(5000)))]);
    if (!r) {
      child.kill('SIGKILL');
      await exit;
    }
    return exited;
  };
  let port;
  try {
    port = await waitFor(() => {
      if (exited) throw new Error(`exited ${JSON.stringify(exited)} before listening\n${describeIt()}`);
      const m = /^vitals listening on http:\/\/127\.0\.0\.1:(\d+)\/$/m.exec(stdout);
      return m && Number(m[1]);
    }, { timeout: 15000, what: `the listening line of ${bin}` });
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n${describeIt()}`);
  }
  return {
    child, port, stop, describe: describeIt,
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    out: () => stdout,
    err: () => stderr,
  };
}

// ---- the tests ------------------------------------------------------------

describe('cmake --install into a temporary prefix', { timeout: 110000 }, () => {
  let prefix;                 // the install prefix
  let lib, plugins, include;  // its lib/, lib/vitals/plugins/, include/
  let pkgEnv;                 // an environment whose pkg-config sees only the prefix
  let collector;              // the temporary copy of examples/custom_collector
  const hosts = [];

  before(async () => {
    prefix = tempDir('vitals-install-');
    await run(CMAKE, ['--install', BUILD_DIR, '--prefix', prefix]);
    lib = path.join(prefix, 'lib');
    plugins = path.join(lib, 'vitals', 'plugins');
    include = path.join(prefix, 'include');
    pkgEnv = { ...process.env, PKG_CONFIG_PATH: path.join(lib, 'pkgconfig'),
               PKG_CONFIG_LIBDIR: path.join(lib, 'pkgconfig') };
    delete pkgEnv.VITALS_SDK;
  });

  after(async () => {
    for (const h of hosts) await h.stop();
    removeTempDirs();
  });

  it('installs the binary, plugins, headers, libraries, pkg-config and CMake files, config and unit', () => {
    const expect = [
      'bin/vitals',
      'lib/vitals/plugins/system.so', 'lib/vitals/plugins/action.so', 'lib/vitals/plugins/event.so',
      'include/vitals/plugin.h', 'include/vitals/client.h',
      'lib/libvitals-client.a', 'lib/libvitals-client.so',
      'lib/pkgconfig/vitals-sdk.pc',
      'lib/cmake/VitalsSDK/VitalsSDKConfig.cmake', 'lib/cmake/VitalsSDK/VitalsSDKConfigVersion.cmake',
      'lib/cmake/VitalsSDK/VitalsSDKTargets.cmake',
      'etc/vitals/vitals.ini',
      'lib/systemd/system/vitals.service',
    ];
    const missing = expect.filter((f) => !fs.existsSync(path.join(prefix, f)));
    assert.deepEqual(missing, [], `missing under ${prefix}`);
    fs.accessSync(path.join(prefix, 'bin/vitals'), fs.constants.X_OK);
    assert.ok(fs.readdirSync(lib).some((f) => /^libvitals-client\.so\.\d+$/.test(f)), 'the soname link');
    assert.equal(fs.readFileSync(path.join(prefix, 'etc/vitals/vitals.ini'), 'utf8'),
                 fs.readFileSync(path.join(SOURCE_DIR, 'conf/vitals.ini'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(include, 'vitals/plugin.h'), 'utf8'),
                 fs.readFileSync(path.join(SOURCE_DIR, 'sdk/vitals/plugin.h'), 'utf8'));
  });

  it('vitals-sdk.pc names the prefix: Cflags, Libs, pluginsdir', async () => {
    const pc = fs.readFileSync(path.join(lib, 'pkgconfig/vitals-sdk.pc'), 'utf8');
    assert.match(pc, /^Description: \S.+$/m);
    assert.match(pc, /^Cflags: -I\$\{includedir\}$/m);
    assert.match(pc, /^Libs: .*-lvitals-client -lpthread$/m);
    const cflags = (await run('pkg-config', ['--cflags', 'vitals-sdk'], { env: pkgEnv })).stdout.trim();
    assert.equal(cflags, `-I${include}`);
    const libs = (await run('pkg-config', ['--libs', 'vitals-sdk'], { env: pkgEnv })).stdout.trim();
    assert.equal(libs, `-L${lib} -lvitals-client -lpthread`);
    const dir = (await run('pkg-config', ['--variable=pluginsdir', 'vitals-sdk'], { env: pkgEnv })).stdout.trim();
    assert.equal(dir, plugins);
  });

  it('the systemd unit is Type=notify, hardened, and starts the prefix\'s binary', async (t) => {
    const unitPath = path.join(lib, 'systemd/system/vitals.service');
    const unit = fs.readFileSync(unitPath, 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/vitals --config ${prefix}/etc/vitals/vitals\\.ini$`, 'm'));
    assert.doesNotMatch(unit, /@[A-Z_]+@/, 'every placeholder was configured');
    for (const line of ['Type=notify', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict',
                        'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'ProtectKernelTunables=yes',
                        'ProtectKernelModules=yes', 'ProtectControlGroups=yes',
                        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'DynamicUser=yes',
                        'LockPersonality=yes', 'MemoryDenyWriteExecute=yes', 'RestrictRealtime=yes',
                        'SystemCallArchitectures=native']) {
      assert.ok(unit.split('\n').includes(line), `no "${line}" in ${unitPath}`);
    }
    if (!onPath('systemd-analyze')) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    const { stderr } = await run('systemd-analyze', ['verify', unitPath]);
    const about = stderr.split('\n').filter((l) => l.includes('vitals.service'));
    assert.deepEqual(about, [], `systemd-analyze verify complains:\n${stderr}`);
  });

  it('--help of the installed binary names the prefix\'s config file and plugins dir', async () => {
    const { stdout } = await run(path.join(prefix, 'bin/vitals'), ['--help']);
    assert.ok(stdout.includes(`${prefix}/etc/vitals/vitals.ini`), stdout);
    assert.ok(stdout.includes(plugins), stdout);
  });

  it('builds examples/custom_collector out of tree with `make` against the installed SDK only', async () => {
    collector = tempDir('vitals-collector-');
    for (const f of ['loadavg.c', 'Makefile']) {
      fs.copyFileSync(path.join(SOURCE_DIR, 'examples/custom_collector', f), path.join(collector, f));
    }
    const { stdout } = await run('make', ['-C', collector], { env: pkgEnv });
    const line = stdout.split('\n').find((l) => l.includes('loadavg.c'));
    assert.ok(line, `no compile line in:\n${stdout}`);
    const includes = line.split(/\s+/).filter((w) => w.startsWith('-I'));
    assert.deepEqual(includes, [`-I${include}`], `include dirs of: ${line}`);
    assert.ok(!line.includes(SOURCE_DIR) && !line.includes('../../sdk'), `source tree in: ${line}`);
    assert.ok(fs.statSync(path.join(collector, 'loadavg.so')).size > 0);
    // Into the prefix before the host starts (no live drop-in needed).
    fs.copyFileSync(path.join(collector, 'loadavg.so'), path.join(plugins, 'loadavg.so'));
  });

  it('the installed host loads its bundled plugins and loadavg.so from the prefix, no --plugins-dir', async () => {
    assert.ok(fs.existsSync(path.join(plugins, 'loadavg.so')), 'the collector was built');
    const config = path.join(tempDir(), 'vitals.ini');
    fs.writeFileSync(config, '[plugin:loadavg]\nwarn = 3.5\n');
    const host = await startInstalled(path.join(prefix, 'bin/vitals'),
                                      ['--port', '0', '--ingest-port', '0', '--interval', '0.2', '--config', config]);
    hosts.push(host);
    const { descriptors } = await getJson(host.base, '/api/v1/descriptors');
    const ids = descriptors.map((d) => d.id);
    for (const prefixId of ['system.', 'action.', 'event.', 'loadavg.']) {
      assert.ok(ids.some((id) => id.startsWith(prefixId)), `no ${prefixId}* in ${ids}\n${host.describe()}`);
    }
    const load = descriptors.find((d) => d.id === 'loadavg.load1');
    assert.equal(load.warn, 3.5, 'the [plugin:loadavg] section reached the collector');
    for (const name of ['system', 'action', 'event', 'loadavg']) {
      assert.ok(host.err().includes(`from ${plugins}/${name}.so`), `${name}.so not loaded from the prefix\n${host.describe()}`);
    }

    const c = await connectWs(host.wsUrl);
    try {
      const hello = await c.nextOfType('hello');
      const index = hello.descriptors.findIndex((d) => d.id === 'loadavg.load1');
      assert.ok(index >= 0, `no loadavg.load1 in the hello: ${hello.descriptors.map((d) => d.id)}`);
      assert.ok(hello.descriptors.some((d) => d.id === 'loadavg.open_files'));
      const sample = await c.next((m) => m.type === 'sample' && typeof m.values[index] === 'number');
      assert.ok(sample.values[index] >= 0);
    } finally {
      c.terminate();
    }
  });

  it('without --config the installed host reads the prefix\'s etc/vitals/vitals.ini', async () => {
    const host = await startInstalled(path.join(prefix, 'bin/vitals'), ['--port', '0', '--ingest-port', '0']);
    hosts.push(host);
    assert.ok(host.err().includes(`(config: ${prefix}/etc/vitals/vitals.ini)`), host.describe());
    const health = await getJson(host.base, '/healthz');
    assert.ok(health.plugins >= 3, `plugins running: ${JSON.stringify(health)}`);
    await host.stop();
  });

  it('an application linked with `pkg-config --libs vitals-sdk` reports to the installed host', async () => {
    const dir = tempDir('vitals-app-');
    const app = path.join(dir, 'app');
    fs.writeFileSync(path.join(dir, 'app.c'), `
#include <vitals/client.h>
int main(int argc, char **argv)
{
    vitals_client *c = vitals_client_open(argc > 1 ? argv[1] : NULL);
    if (!c)
        return 1;
    for (int i = 0; i < 3; i++)
        vitals_action(c, "installed_sdk", 0.004, true);
    vitals_client_close(c);
    return 0;
}
`);
    const flags = (await run('pkg-config', ['--cflags', '--libs', 'vitals-sdk'], { env: pkgEnv })).stdout.trim().split(/\s+/);
    await run('cc', ['-std=c11', '-Wall', '-Werror', ...SANITIZE, path.join(dir, 'app.c'), '-o', app, ...flags,
                     `-Wl,-rpath,${lib}`]);
    const ldd = (await run('ldd', [app])).stdout;
    assert.match(ldd, new RegExp(`libvitals-client\\.so\\.\\d+ => ${lib}/`), ldd);

    const host = hosts.find((h) => h.child.exitCode === null && h.child.signalCode === null);
    assert.ok(host, 'the installed host still runs');
    const udp = (await getJson(host.base, '/healthz')).ingest.udp_port;
    await run(app, [`127.0.0.1:${udp}`]);
    await waitFor(async () => {
      const m = await getJson(host.base, '/api/v1/metrics');
      return m.plugins.action.total >= 3;
    }, { timeout: 10000, what: 'action.total >= 3 from the installed client' });
  });

  it('find_package(VitalsSDK) builds a plugin with Vitals::sdk and an app with Vitals::client', async () => {
    const src = tempDir('vitals-consumer-');
    const build = path.join(src, 'build');
    fs.copyFileSync(path.join(SOURCE_DIR, 'examples/custom_collector/loadavg.c'), path.join(src, 'loadavg.c'));
    fs.writeFileSync(path.join(src, 'app.c'),
                     '#include <vitals/client.h>\nint main(void) { vitals_client_close(vitals_client_open(NULL)); return 0; }\n');
    fs.writeFileSync(path.join(src, 'CMakeLists.txt'), `
cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES C)
find_package(VitalsSDK 0.1 REQUIRED)
vitals_sdk_add_plugin(loadavg loadavg.c)
add_executable(app app.c)
target_link_libraries(app PRIVATE Vitals::client)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE Vitals::client_static)
file(WRITE "\${CMAKE_BINARY_DIR}/found.txt" "\${VitalsSDK_PLUGINS_DIR}\\n\${VitalsSDK_INCLUDE_DIR}\\n\${VitalsSDK_PLUGIN_ABI}\\n")
`);
    const env = { ...pkgEnv, CMAKE_PREFIX_PATH: prefix };
    await run(CMAKE, ['-S', src, '-B', build, '-DCMAKE_EXPORT_COMPILE_COMMANDS=ON',
                      ...(SANITIZE.length ? [`-DCMAKE_C_FLAGS=${SANITIZE.join(' ')}`,
                                             `-DCMAKE_EXE_LINKER_FLAGS=${SANITIZE.join(' ')}`] : [])], { env });
    await run(CMAKE, ['--build', build], { env });
    for (const f of ['loadavg.so', 'app', 'app_static']) {
      assert.ok(fs.existsSync(path.join(build, f)), `${f} was not built`);
    }
    const [pluginsDir, includeDir, abi] = fs.readFileSync(path.join(build, 'found.txt'), 'utf8').split('\n');
    assert.equal(path.resolve(pluginsDir), plugins);
    assert.equal(path.resolve(includeDir), include);
    assert.match(abi, /^\d+\.\d+$/);
    const commands = fs.readFileSync(path.join(build, 'compile_commands.json'), 'utf8');
    assert.ok(!commands.includes(path.join(SOURCE_DIR, 'sdk')), 'compiled against the source tree');
    assert.ok(commands.includes(include), 'compiled against the prefix');
  });
});
