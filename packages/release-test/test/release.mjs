// A release end to end through a real npm registry on 127.0.0.1 (verdaccio):
//   1. the published packages are packed from the workspace (build outputs included), unpacked
//      into a scratch workspace, and released there with the documented commands,
//      `changeset version` then `changeset publish` (the publish command of the root `release`
//      script, whose build was done at pack time), into the local registry;
//   2. fresh projects install @socketpoll/core from it with npm, pnpm and yarn 1: this machine's
//      prebuilt backend lands, the other platforms' do not, and require and import both give it;
//   3. fresh projects with `onoff` from the registry and its `epoll` swapped for @socketpoll/epoll
//      install with npm, pnpm and yarn 1 with no compiler run, and load;
//   4. npm --omit=optional gives the clear error;
//   5. the source build: fresh npm and pnpm installs on simulated machines (npm --os/--cpu/--libc,
//      pnpm supportedArchitectures) compile it where the machine has no prebuilt (linux-riscv64
//      glibc, linux-arm musl, freebsd-x64) and compile nothing on this machine;
//      SOURCE_INSTALL_RUNS installs each (2 by default; the figures in docs/reliability.md are of
//      10); yarn 1 on this machine only (it cannot install for another); a project adding the
//      source package itself gets it compiled with each client; a build forced with
//      SOCKETPOLL_BUILD_FROM_SOURCE=1 and no compiler fails with advice that then works;
//   6. TypeScript consumers type-check (nodenext, bundler); the esbuild command of the
//      troubleshooting guide makes a bundle that runs.
// RELEASE_STEPS=word,… runs only the steps after the release whose names contain a word.
// The registry serves @socketpoll/* from its own storage only and everything else (node-addon-api,
// …) through an uplink to the public registry that npm uses here, reached the way npm reaches it
// (CA file, proxy, strict-ssl from npm's config). Every client runs with its own HOME, caches and
// store under the run's scratch folder and none of the calling package manager's npm_config_*
// settings, so nothing from an earlier run or from the caller can hide a missing package.
// The registry is stopped and its storage removed whatever happens (also on SIGINT/SIGTERM).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { BIN, ROOT, pack, publishedPackages, readJson, run, tempDir } from './helpers.mjs';

const requireHere = createRequire(import.meta.url);
const core = requireHere(path.join(ROOT, 'packages/core/dist/index.js'));
// The build table is internal to the package (not exported): read from its compiled module.
const table = requireHere(path.join(ROOT, 'packages/core/dist/platforms.js'));
const { localNodedir } = requireHere(path.join(ROOT, 'packages/native/scripts/node-gyp-env.js'));
// The source package (built on install): named in core's platform table.
const SOURCE_PACKAGE = table.SOURCE_PACKAGE.packageName;
const own = core.platformPackage();
if (!own) {
  console.log(`release: skipped: no prebuilt backend package fits ${process.platform}-${process.arch}, so there is nothing native to install`);
  process.exit(0);
}

const work = tempDir('socketpoll-release-');
let registry; // the verdaccio child process
function cleanUp() {
  if (registry && registry.exitCode === null) registry.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { cleanUp(); process.exit(1); });

const failures = [];
// RELEASE_STEPS=word1,word2 runs, after the release itself, only the steps whose names contain one
// of the words (the others print why they did not run).
const onlySteps = process.env.RELEASE_STEPS ? process.env.RELEASE_STEPS.split(',').filter(Boolean) : undefined;
async function step(name, fn, { always = false } = {}) {
  if (onlySteps && !always && !onlySteps.some((w) => name.includes(w))) {
    console.log(`skip - ${name} (RELEASE_STEPS=${onlySteps.join(',')})`);
    return;
  }
  const start = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures.push(name);
    console.log(`not ok - ${name}\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
  }
}

/**
 * One npm setting as npm resolves it on this machine (user, global and environment config), or
 * undefined when unset. Only stdout: npm prints its warnings (e.g. about the npm_config_* a
 * calling pnpm exports) on stderr.
 */
function npmConfig(key) {
  const value = execFileSync('npm', ['config', 'get', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  return value === '' || value === 'null' || value === 'undefined' ? undefined : value;
}

/**
 * The registry's uplink: npm's registry, with what npm needs to reach it here (a CA file when TLS
 * goes through an intercepting proxy, the proxy itself, strict-ssl).
 */
function uplinkFromNpm() {
  const uplink = { url: npmConfig('registry') ?? 'https://registry.npmjs.org/', timeout: '60s', max_fails: 10 };
  const cafile = npmConfig('cafile');
  if (cafile) uplink.ca = fs.readFileSync(cafile, 'utf8');
  if (npmConfig('strict-ssl') === 'false') uplink.strict_ssl = false;
  const httpsProxy = npmConfig('https-proxy');
  const httpProxy = npmConfig('proxy');
  if (httpsProxy ?? httpProxy) uplink.https_proxy = httpsProxy ?? httpProxy;
  if (httpProxy) uplink.http_proxy = httpProxy;
  const noProxy = npmConfig('noproxy');
  if (noProxy) uplink.no_proxy = noProxy;
  return { uplink, cafile };
}

/**
 * The caller's environment without any package manager's settings (npm_config_*, PNPM_*, …) and
 * without the INIT_CWD a calling `pnpm test` sets: npm and pnpm replace it with their own folder,
 * but yarn 1 passes an inherited one on to install scripts, so the yarn steps would see the
 * workspace's folder or none depending on how this test was started. The step that needs one sets it.
 */
function environmentWithoutPackageManagers() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|yarn_|corepack_)/i.test(key) && key !== 'INIT_CWD'));
}

let clientEnv; // set once the registry's port is known
/** Runs a command in `cwd` with `env` (the clients' environment); throws with its output unless it exits 0; returns the output. */
function ok(command, args, cwd, env = clientEnv) {
  const r = run(command, args, { cwd, env, timeout: 600_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.output}`);
  return r.output;
}

/**
 * GET `address` on a connection of its own, as { status, body }: the synchronous client runs block
 * this process for tens of seconds, long enough for a kept-alive socket to go stale under fetch.
 */
const get = (address) =>
  new Promise((resolve, reject) => {
    http
      .get(address, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const storage = path.join(work, 'registry');
  fs.mkdirSync(storage);
  // Our packages only from its storage (no proxy: a name under @socketpoll/ is never asked of
  // the public registry); everything else through the uplink. JSON is YAML.
  const { uplink, cafile } = uplinkFromNpm();
  const config = {
    storage,
    auth: { htpasswd: { file: path.join(work, 'htpasswd'), max_users: -1 } },
    uplinks: { npmjs: uplink },
    packages: {
      '@socketpoll/*': { access: '$all', publish: '$all', unpublish: '$all' },
      '**': { access: '$all', publish: '$authenticated', proxy: 'npmjs' },
    },
    log: { type: 'stdout', format: 'pretty', level: 'warn' },
  };
  fs.writeFileSync(path.join(work, 'verdaccio.yaml'), JSON.stringify(config, null, 2));
  // Every client here uses this registry; publishing needs some token even when anonymous
  // publishing is allowed.
  const npmrc = path.join(work, 'npmrc');
  fs.writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=release-test\n`);
  // A fresh HOME (and XDG folders) per run: no ~/.npmrc, ~/.yarnrc, ~/.cache/yarn, pnpm store or
  // metadata cache of an earlier run is seen.
  const home = path.join(work, 'home');
  fs.mkdirSync(home);
  const nodedir = localNodedir();
  clientEnv = {
    ...environmentWithoutPackageManagers(),
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    npm_config_userconfig: npmrc,
    npm_config_registry: url,
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_store_dir: path.join(work, 'pnpm-store'),
    YARN_CACHE_FOLDER: path.join(work, 'yarn-cache'),
    // The source build compiles against the running Node's own headers: nothing is downloaded.
    ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
    SOCKETPOLL_BACKEND: '',
    SOCKETPOLL_BUILD_FROM_SOURCE: '',
  };
  let log = ''; // the registry's output, for failures

  await step(`verdaccio starts on ${url}`, async () => {
    registry = spawn(path.join(BIN, 'verdaccio'), ['--config', path.join(work, 'verdaccio.yaml'), '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    registry.stdout.on('data', (d) => (log += d));
    registry.stderr.on('data', (d) => (log += d));
    for (let i = 0; ; i++) {
      try {
        if ((await get(`${url}-/ping`)).status === 200) break;
      } catch {
        // not up yet
      }
      assert.ok(i < 300 && registry.exitCode === null, `verdaccio did not answer:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, { always: true });
  if (failures.length) throw new Error('no registry');

  await step(`the registry serves node-addon-api through its uplink to ${uplink.url}${cafile ? ` (CA file ${cafile})` : ''}, and no @socketpoll/* package before the release`, async () => {
    const res = await get(`${url}node-addon-api`);
    const meta = res.status === 200 ? JSON.parse(res.body) : undefined;
    assert.ok(
      meta?.versions && Object.keys(meta.versions).length > 0,
      `GET ${url}node-addon-api: ${res.status}; the uplink to ${uplink.url} does not answer (npm's cafile/proxy settings wrong?):\n${log}`,
    );
    for (const name of publishedPackages().map((p) => p.name)) {
      assert.equal((await get(`${url}${name.replace('/', '%2f')}`)).status, 404, `${name} is served before anything was published`);
    }
  }, { always: true });
  if (failures.length) throw new Error('no uplink');

  // 1. A scratch workspace holding exactly what is published, released with the documented commands.
  const release = path.join(work, 'workspace');
  const version = readJson(path.join(ROOT, 'packages/core/package.json')).version;
  let released;
  await step('changeset version, then changeset publish, release every package into the registry', async () => {
    const tarballs = path.join(work, 'tarballs');
    const names = [];
    for (const { name, dir } of publishedPackages()) {
      const tarball = pack(dir, tarballs);
      const dest = path.join(release, 'packages', name.split('/')[1]);
      fs.mkdirSync(dest, { recursive: true });
      ok('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1'], work);
      // What ran at pack time (build, prepack) is done; `install` stays, it runs on the user's machine.
      const file = path.join(dest, 'package.json');
      const pkg = readJson(file);
      pkg.scripts = pkg.scripts?.install ? { install: pkg.scripts.install } : undefined;
      fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
      names.push(name);
    }
    fs.writeFileSync(path.join(release, 'package.json'), JSON.stringify({ name: 'release', private: true, packageManager: readJson(path.join(ROOT, 'package.json')).packageManager }));
    fs.writeFileSync(path.join(release, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
    fs.mkdirSync(path.join(release, '.changeset'));
    const config = readJson(path.join(ROOT, '.changeset/config.json'));
    fs.writeFileSync(path.join(release, '.changeset/config.json'), JSON.stringify({ ...config, ignore: [] }, null, 2));
    fs.writeFileSync(path.join(release, '.changeset/release-test.md'), `---\n"@socketpoll/core": patch\n---\n\nA release made by the release test.\n`);
    const changeset = path.join(ROOT, 'node_modules/.bin/changeset');
    const env = { ...clientEnv, npm_config_git_checks: 'false' };
    ok(changeset, ['version'], release, env);
    released = readJson(path.join(release, 'packages/core/package.json')).version;
    assert.notEqual(released, version, 'changeset version did not bump core');
    for (const name of names) {
      assert.equal(readJson(path.join(release, 'packages', name.split('/')[1], 'package.json')).version, released, `${name}: not in the fixed group's version`);
    }
    // The publish command of the documented `pnpm release` (its build was done at pack time).
    const publish = readJson(path.join(ROOT, 'package.json')).scripts.release.split('&&').pop().trim().split(/\s+/);
    assert.equal(publish[0], 'changeset', `the root \`release\` script does not end with a changeset command: ${publish.join(' ')}`);
    const out = ok(changeset, publish.slice(1), release, env);
    for (const name of names) {
      const res = await get(`${url}${name.replace('/', '%2f')}`);
      assert.ok(res.status === 200 && JSON.parse(res.body).versions?.[released], `${name}@${released} is not in the registry:\n${out}`);
    }
  }, { always: true });
  if (!released) throw new Error('nothing was released');

  const others = publishedPackages().map((p) => p.name).filter((n) => n !== own.packageName && n !== SOURCE_PACKAGE && n !== '@socketpoll/core');
  const which = {
    cjs: "const { SocketPoll } = require('@socketpoll/core'); const p = new SocketPoll(); console.log(p.backendName); p.close();",
    esm: "import { SocketPoll } from '@socketpoll/core'; const p = new SocketPoll(); console.log(p.backendName); p.close();",
  };
  function project(name, extra = {}) {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra }));
    fs.writeFileSync(path.join(dir, 'which.cjs'), which.cjs);
    fs.writeFileSync(path.join(dir, 'which.mjs'), which.esm);
    return dir;
  }
  // yarn 1 ignores the `libc` field: on Linux it installs the other libc's package of the same
  // os/cpu too (glibc machine: the musl one). The loader must still load this machine's own.
  const otherLibc = others.filter((name) => table.PLATFORM_PACKAGES.some((p) => p.packageName === name && p.platform === own.platform && p.arch === own.arch));
  const loadedFrom =
    "const { loadBackend } = require('@socketpoll/core'); const b = loadBackend(); console.log(JSON.stringify({ packageName: b.packageName, addonPath: b.addonPath }));";
  /** The backend's package of this machine is installed where core finds it and is the one loaded; the others are not installed. */
  function assertInstalledForThisMachine(dir, client) {
    const fromCore = createRequire(fs.realpathSync(path.join(dir, 'node_modules/@socketpoll/core/package.json')));
    assert.equal(fromCore(`${own.packageName}/package.json`).version, released);
    const extra = client === 'yarn' ? otherLibc : [];
    for (const name of others.filter((n) => !extra.includes(n))) assert.throws(() => fromCore.resolve(`${name}/package.json`), /Cannot find module/, `${name} was installed on ${process.platform}-${process.arch}`);
    for (const name of extra) assert.equal(fromCore(`${name}/package.json`).version, released, `yarn 1 no longer installs ${name} here: update docs/guides/troubleshooting.md`);
    const loaded = JSON.parse(ok(process.execPath, ['-e', loadedFrom], dir).trim().split('\n').pop());
    assert.equal(loaded.packageName, own.packageName, `loaded ${loaded.addonPath}`);
    assert.equal(path.dirname(loaded.addonPath), path.dirname(fs.realpathSync(fromCore.resolve(`${own.packageName}/package.json`))));
    for (const file of ['which.cjs', 'which.mjs']) assert.equal(ok(process.execPath, [file], dir).trim(), own.backend, file);
  }

  const clients = {
    npm: ['npm', ['install', '--no-audit', '--no-fund', `@socketpoll/core@${released}`]],
    pnpm: ['pnpm', ['add', `@socketpoll/core@${released}`]],
    yarn: [path.join(BIN, 'yarn'), ['add', '--non-interactive', '--no-progress', `--registry=${url}`, `@socketpoll/core@${released}`]],
  };
  let npmProject;
  for (const [client, [command, args]] of Object.entries(clients)) {
    const alsoOtherLibc = client === 'yarn' && otherLibc.length ? ` (yarn 1 ignores libc: ${otherLibc.join(', ')} lands too and is not loaded)` : '';
    await step(`${client} installs @socketpoll/core@${released}: ${own.packageName} lands and is the one loaded, no other platform's package${alsoOtherLibc}, require and import give ${own.backend}`, () => {
      const dir = project(`with-${client}`);
      ok(command, args, dir);
      assertInstalledForThisMachine(dir, client);
      if (client === 'npm') npmProject = dir;
    });
  }

  // 3. The swap a user of `onoff` makes: onoff from the registry, and one entry that points its
  // `epoll` at @socketpoll/epoll (npm `overrides`, pnpm `pnpm.overrides`, yarn 1 `resolutions`). The
  // compilers and build tools on PATH are stand-ins that record the call and fail, so an install
  // that tried to compile anything fails and says what it ran. onoff then loads, its
  // require('epoll') is @socketpoll/epoll, Gpio.accessible answers (false: no sysfs GPIO here), and
  // the Epoll it gets delivers an event on a real FIFO.
  const shims = path.join(work, 'no-compilers');
  const compilerCalls = path.join(work, 'compiler-calls.log');
  fs.mkdirSync(shims);
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'gmake', 'python', 'python3', 'node-gyp']) {
    fs.writeFileSync(path.join(shims, tool), `#!/bin/sh\necho "${tool} $*" >> '${compilerCalls}'\necho "${tool}: no compiler may run during this install" >&2\nexit 1\n`, { mode: 0o755 });
  }
  const swapTo = `npm:@socketpoll/epoll@${released}`;
  const swaps = {
    npm: { overrides: { epoll: swapTo } },
    pnpm: { pnpm: { overrides: { epoll: swapTo } } },
    yarn: { resolutions: { epoll: swapTo } },
  };
  const onoffInstalls = {
    npm: ['npm', ['install', '--no-audit', '--no-fund']],
    pnpm: ['pnpm', ['install']],
    yarn: [path.join(BIN, 'yarn'), ['install', '--non-interactive', '--no-progress', `--registry=${url}`]],
  };
  const onoffCheck = `
    const path = require('path'), fs = require('fs'), { execFileSync } = require('child_process');
    const { Gpio } = require('onoff');
    const paths = [path.dirname(require.resolve('onoff'))];
    const { name } = require(require.resolve('epoll/package.json', { paths }));
    const { Epoll } = require(require.resolve('epoll', { paths }));
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'onoff-swap-'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const r = fs.openSync(path.join(dir, 'fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const w = fs.openSync(path.join(dir, 'fifo'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const poller = new Epoll((err, fd, events) => {
      poller.remove(fd).close();
      console.log(JSON.stringify({ epoll: name, accessible: Gpio.accessible, event: [fd === r, events] }));
      fs.closeSync(r); fs.closeSync(w); fs.rmSync(dir, { recursive: true });
    });
    poller.add(r, Epoll.EPOLLIN);
    fs.writeSync(w, 'x');
  `;
  await step('without the swap, npm installing onoff runs the build of the original epoll, and the stand-ins catch it (the check above can fail)', () => {
    const dir = path.join(work, 'onoff-unswapped');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'onoff-unswapped', version: '1.0.0', private: true, dependencies: { onoff: '^6.0.3' } }));
    fs.rmSync(compilerCalls, { force: true });
    const r = run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, env: { ...clientEnv, PATH: `${shims}:${clientEnv.PATH}` }, timeout: 600_000 });
    assert.notEqual(r.status, 0, r.output);
    assert.match(fs.existsSync(compilerCalls) ? fs.readFileSync(compilerCalls, 'utf8') : '', /^(node-gyp|make|python3?|cc|gcc|g\+\+|c\+\+) /m, r.output);
  });
  for (const client of ['npm', 'pnpm', 'yarn']) {
    await step(`${client}: onoff with its epoll swapped for ${swapTo} installs with no compiler run, loads, Gpio.accessible is false, and onoff's Epoll delivers an event`, () => {
      const dir = path.join(work, `onoff-${client}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `onoff-${client}`, version: '1.0.0', private: true, dependencies: { onoff: '^6.0.3' }, ...swaps[client] }, null, 2));
      fs.rmSync(compilerCalls, { force: true });
      const env = { ...clientEnv, PATH: `${shims}:${clientEnv.PATH}` };
      const [command, args] = onoffInstalls[client];
      const r = run(command, args, { cwd: dir, env, timeout: 600_000 });
      const ran = fs.existsSync(compilerCalls) ? fs.readFileSync(compilerCalls, 'utf8') : '';
      assert.equal(ran, '', `${client} ran build tools:\n${ran}\n${r.output}`);
      assert.equal(r.status, 0, `${client} install exited ${r.status}:\n${r.output}`);
      const out = ok(process.execPath, ['-e', onoffCheck], dir, env);
      assert.deepEqual(JSON.parse(out.trim().split('\n').pop()), { epoll: '@socketpoll/epoll', accessible: false, event: [true, 1] });
    });
  }

  await step('npm install --omit=optional: the loader names --omit=optional and how to fix it', () => {
    const dir = project('omit-optional');
    ok('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', `@socketpoll/core@${released}`], dir);
    const r = run(process.execPath, ['which.cjs'], { cwd: dir, env: clientEnv });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /BackendLoadError/, r.output);
    assert.match(r.output, /reinstall without --omit=optional/, r.output);
  });

  // 5. The source build. SOURCE_PACKAGE is an optional dependency of core on every machine but
  // Windows; its install script compiles where no prebuilt that fits was installed beside it, or
  // where the project depends on it, and builds nothing elsewhere.
  const fromCoreIn = (dir) => createRequire(fs.realpathSync(path.join(dir, 'node_modules/@socketpoll/core/package.json')));
  /** Where the source package landed in a project (as core finds it) and what its install built. */
  function sourceState(dir) {
    let srcDir;
    try {
      srcDir = path.dirname(fromCoreIn(dir).resolve(`${SOURCE_PACKAGE}/package.json`));
    } catch {
      return { installed: false };
    }
    const builtFile = path.join(srcDir, 'built.json');
    return {
      installed: true,
      built: fs.existsSync(builtFile) ? readJson(builtFile) : undefined,
      addons: fs.readdirSync(srcDir).filter((f) => /^socketpoll_\w+\.node$/.test(f)).sort(),
    };
  }
  /** pnpm: whether node_modules/.modules.yaml (JSON, which is YAML, as pnpm 10 writes it) records the source package as skipped. */
  const pnpmSkipped = (dir) => {
    const file = path.join(dir, 'node_modules/.modules.yaml');
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '{}';
    let skipped;
    try {
      skipped = JSON.parse(text).skipped ?? [];
    } catch {
      skipped = (/^skipped:\n((?:[ \t]+-.*\n)*)/m.exec(text)?.[1] ?? '').split('\n');
    }
    return skipped.some((entry) => entry.includes(`${SOURCE_PACKAGE}@`));
  };
  const sourceBackends = table.PLATFORM_PACKAGES.length ? requireHere(path.join(ROOT, 'packages/poll-fallback/install.js')).backends() : [];
  const loadedPackage = (dir, env = clientEnv) => JSON.parse(ok(process.execPath, ['-e', loadedFrom], dir, env).trim().split('\n').pop()).packageName;

  // Machines simulated with each client's own options (npm --os/--cpu/--libc, pnpm
  // supportedArchitectures): the package manager installs what that machine would get, the install
  // scripts run here. Three with no prebuilt, where the source build must land and compile, and
  // this machine, where it must land and compile nothing.
  const hostKey = `${own.platform}-${own.arch}${own.libc ? `-${own.libc}` : ''}`;
  const machines = [
    { name: 'linux-riscv64-glibc', os: 'linux', cpu: 'riscv64', libc: 'glibc', source: true },
    { name: 'linux-arm-musl (armv7 Alpine)', os: 'linux', cpu: 'arm', libc: 'musl', source: true },
    { name: 'freebsd-x64', os: 'freebsd', cpu: 'x64', source: true },
    { name: `${hostKey} (this machine, prebuilt ${own.packageName})`, os: own.platform, cpu: own.arch, libc: own.libc, source: false },
  ];
  const RUNS = Number(process.env.SOURCE_INSTALL_RUNS || 2);
  const figures = []; // { client, machine, runs, withSource, compiled, seconds[] }
  const simulated = {
    npm: (m) => ['npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', `--os=${m.os}`, `--cpu=${m.cpu}`, ...(m.libc ? [`--libc=${m.libc}`] : [])], {}],
    pnpm: (m, dir) => {
      const list = (xs) => `[${xs.join(', ')}]`;
      fs.writeFileSync(
        path.join(dir, 'pnpm-workspace.yaml'),
        `supportedArchitectures:\n  os: ${list([m.os])}\n  cpu: ${list([m.cpu])}\n${m.libc ? `  libc: ${list([m.libc])}\n` : ''}onlyBuiltDependencies:\n  - '${SOURCE_PACKAGE}'\n`,
      );
      // A store per simulated machine: pnpm's side-effects cache keys a build by this machine's
      // platform, not the simulated one.
      return ['pnpm', ['install'], { npm_config_store_dir: path.join(work, `pnpm-store-${m.os}-${m.cpu}-${m.libc ?? ''}`) }];
    },
  };
  for (const client of ['npm', 'pnpm']) {
    for (const m of machines) {
      await step(`${client} on a simulated ${m.name}, ${RUNS} fresh installs: ${SOURCE_PACKAGE} lands in each${m.source ? ` and compiles (${sourceBackends.join(', ')})` : `, compiles nothing, and ${own.packageName} is loaded`}`, () => {
        const row = { client, machine: m.name, runs: RUNS, withSource: 0, compiled: 0, skippedByPnpm: 0, seconds: [] };
        figures.push(row);
        const problems = [];
        for (let i = 0; i < RUNS; i++) {
          const dir = project(`sim-${client}-${m.os}-${m.cpu}-${m.libc ?? 'none'}-${i}`, { dependencies: { '@socketpoll/core': released } });
          const [command, args, env] = simulated[client](m, dir);
          const start = Date.now();
          const out = ok(command, args, dir, { ...clientEnv, ...env });
          row.seconds.push((Date.now() - start) / 1000);
          const state = sourceState(dir);
          if (state.installed) row.withSource++;
          if (state.built) row.compiled++;
          if (client === 'pnpm' && pnpmSkipped(dir)) row.skippedByPnpm++;
          const expected = m.source
            ? { installed: true, built: sourceBackends, addons: sourceBackends.map((b) => `socketpoll_${b}.node`).sort() }
            : { installed: true, built: undefined, addons: [] };
          try {
            assert.deepEqual(state, expected);
            // On this machine the loader takes what landed: the source build where the simulated
            // machine has no prebuilt, this machine's prebuilt otherwise.
            assert.equal(loadedPackage(dir), m.source ? SOURCE_PACKAGE : own.packageName);
          } catch (err) {
            problems.push(`install ${i + 1} (${dir}): ${err.message}\n${out.split('\n').slice(-30).join('\n')}`);
          }
        }
        const median = [...row.seconds].sort((a, b) => a - b)[Math.floor(row.seconds.length / 2)];
        console.log(`    ${client} ${m.name}: source build installed ${row.withSource}/${RUNS}, compiled ${row.compiled}/${RUNS}${client === 'pnpm' ? `, skipped in .modules.yaml ${row.skippedByPnpm}/${RUNS}` : ''}; install ${median.toFixed(1)} s median (${Math.min(...row.seconds).toFixed(1)}-${Math.max(...row.seconds).toFixed(1)} s)`);
        assert.equal(problems.length, 0, problems.join('\n'));
      });
    }
  }

  // yarn 1 has no option to install for another machine (--ignore-platform installs every
  // platform's package at once), so only this machine is checked: the source build lands and
  // compiles nothing, with and without --ignore-platform.
  for (const ignorePlatform of [false, true]) {
    await step(`yarn 1${ignorePlatform ? ' --ignore-platform' : ''} on this machine (${hostKey}), ${RUNS} fresh installs: ${SOURCE_PACKAGE} lands in each, compiles nothing, and ${own.packageName} is loaded`, () => {
      const row = { client: `yarn${ignorePlatform ? ' --ignore-platform' : ''}`, machine: `${hostKey} (this machine)`, runs: RUNS, withSource: 0, compiled: 0, seconds: [] };
      figures.push(row);
      for (let i = 0; i < RUNS; i++) {
        const dir = project(`yarn-host-${ignorePlatform ? 'all-' : ''}${i}`, { dependencies: { '@socketpoll/core': released } });
        const start = Date.now();
        ok(path.join(BIN, 'yarn'), ['install', '--non-interactive', '--no-progress', `--registry=${url}`, ...(ignorePlatform ? ['--ignore-platform'] : [])], dir);
        row.seconds.push((Date.now() - start) / 1000);
        const state = sourceState(dir);
        if (state.installed) row.withSource++;
        if (state.built) row.compiled++;
        assert.deepEqual(state, { installed: true, built: undefined, addons: [] });
        assert.equal(loadedPackage(dir), own.packageName);
      }
      console.log(`    ${row.client} ${row.machine}: source build installed ${row.withSource}/${RUNS}, compiled ${row.compiled}/${RUNS}`);
    });
  }

  // A project that depends on the source package itself gets it compiled on a machine with a
  // prebuilt too (backend: 'poll'), with each client.
  const direct = {
    npm: ['npm', ['install', '--no-audit', '--no-fund', `@socketpoll/core@${released}`, `${SOURCE_PACKAGE}@${released}`]],
    pnpm: ['pnpm', ['add', `--allow-build=${SOURCE_PACKAGE}`, `@socketpoll/core@${released}`, `${SOURCE_PACKAGE}@${released}`]],
    yarn: [path.join(BIN, 'yarn'), ['add', '--non-interactive', '--no-progress', `--registry=${url}`, `@socketpoll/core@${released}`, `${SOURCE_PACKAGE}@${released}`]],
  };
  const pollScript = "const { SocketPoll } = require('@socketpoll/core'); const p = new SocketPoll({ backend: 'poll' }); console.log(p.backendName); p.close();";
  for (const [client, [command, args]] of Object.entries(direct)) {
    await step(`${client}: adding ${SOURCE_PACKAGE} itself compiles it on this machine (which has a prebuilt), and backend: poll loads it`, () => {
      const dir = project(`direct-${client}`);
      ok(command, args, dir);
      assert.deepEqual(sourceState(dir).built, sourceBackends);
      assert.equal(ok(process.execPath, ['-e', pollScript], dir).trim(), 'poll');
      assert.equal(loadedPackage(dir), own.packageName); // the default stays the prebuilt
    });
  }

  // Installed with its install script not run: the loader's advice names the project's package
  // manager and its rebuild command, which then builds it. yarn 1 runs it with INIT_CWD naming
  // another project (this workspace), as when it is run from another package manager's script or a
  // shell that exported INIT_CWD: yarn keeps that value, and the build must not depend on it.
  const scriptsSkipped = {
    npm: [...direct.npm[1], '--ignore-scripts'],
    yarn: [...direct.yarn[1], '--ignore-scripts'],
  };
  const rebuildCommand = { npm: `npm rebuild ${SOURCE_PACKAGE}`, yarn: 'yarn install --force' };
  for (const [client, args] of Object.entries(scriptsSkipped)) {
    await step(`${client} with --ignore-scripts: the loader's advice gives \`${rebuildCommand[client]}\`, which builds it`, () => {
      const dir = project(`unbuilt-${client}`);
      ok(direct[client][0], args, dir);
      assert.equal(sourceState(dir).built, undefined);
      const r = run(process.execPath, ['-e', pollScript], { cwd: dir, env: clientEnv });
      assert.notEqual(r.status, 0, r.output);
      const advised = new RegExp(`${SOURCE_PACKAGE}: installed but not built \\(install scripts skipped\\?\\): run \`([^\`]+)\``).exec(r.output)?.[1];
      assert.equal(advised, rebuildCommand[client], r.output);
      const [cmd, ...rest] = advised.split(' ');
      const env = cmd === 'yarn' ? { ...clientEnv, INIT_CWD: ROOT } : clientEnv;
      ok(cmd === 'yarn' ? direct.yarn[0] : cmd, cmd === 'yarn' ? [...rest, '--non-interactive', `--registry=${url}`] : rest, dir, env);
      assert.deepEqual(sourceState(dir).built, sourceBackends);
      assert.equal(ok(process.execPath, ['-e', pollScript], dir).trim(), 'poll');
    });
  }

  // Core alone on this machine (the prebuilt loads; the source package builds nothing), then
  // backend: 'poll': the loader's advice (add it, then the rebuild command of the project's
  // package manager) is followed as printed, and poll loads.
  const coreOnly = {
    npm: ['npm', ['install', '--no-audit', '--no-fund', `@socketpoll/core@${released}`]],
    pnpm: ['pnpm', ['add', `@socketpoll/core@${released}`]],
    yarn: [path.join(BIN, 'yarn'), ['add', '--non-interactive', '--no-progress', `--registry=${url}`, `@socketpoll/core@${released}`]],
  };
  for (const [client, [command, args]] of Object.entries(coreOnly)) {
    await step(`${client}: core alone, then backend: 'poll': the advice's two commands (add the source package, rebuild it) give poll`, () => {
      const dir = project(`poll-later-${client}`);
      ok(command, args, dir);
      const r = run(process.execPath, ['-e', pollScript], { cwd: dir, env: clientEnv });
      assert.notEqual(r.status, 0, r.output);
      const advised = new RegExp(`${SOURCE_PACKAGE}: installed but not built[^\\n]*?Add it to your dependencies and build it: \`([^\`]+)\`, then \`([^\`]+)\``).exec(r.output);
      assert.ok(advised, r.output);
      for (const line of advised.slice(1)) {
        const [cmd, ...rest] = line.split(' ');
        ok(cmd === 'yarn' ? direct.yarn[0] : cmd, cmd === 'yarn' ? [...rest, '--non-interactive', `--registry=${url}`] : rest, dir);
      }
      assert.deepEqual(sourceState(dir).built, sourceBackends, `after ${advised[1]} and ${advised[2]}`);
      assert.equal(ok(process.execPath, ['-e', pollScript], dir).trim(), 'poll');
    });
  }

  // SOCKETPOLL_BUILD_FROM_SOURCE=1 with the compilers and build tools replaced by failing
  // stand-ins: the install fails (npm removes what it installed), and the advice printed is a
  // command that works in that state once the tools are back.
  for (const client of ['npm', 'pnpm']) {
    await step(`${client}: a forced source build with no compiler fails the install with advice (install the tools, run the same command again; or unset the variable) that works`, () => {
      const dir = project(`forced-${client}`);
      const [command, args] = direct[client];
      // A pnpm store of its own: pnpm keeps the outcome of a build in its store and would replay
      // the build of the step above instead of running the install script.
      const forced = { ...clientEnv, SOCKETPOLL_BUILD_FROM_SOURCE: '1', npm_config_store_dir: path.join(work, 'pnpm-store-forced') };
      const failed = run(command, args, { cwd: dir, env: { ...forced, PATH: `${shims}:${clientEnv.PATH}` }, timeout: 600_000 });
      console.log(`    ${client}, forced build, no compiler: exit ${failed.status}; the advice:\n${(/(ERROR @socketpoll[\s\S]*?\(details: \S+\))/.exec(failed.output)?.[1] ?? failed.output).replace(/^/gm, '      ')}`);
      assert.notEqual(failed.status, 0, failed.output);
      assert.match(failed.output, /Install python3, make and a C\/C\+\+ compiler .*then run the same\s+install command again/s, failed.output);
      assert.match(failed.output, /unset SOCKETPOLL_BUILD_FROM_SOURCE/, failed.output);
      const log = /\(details: (\S+build-error\.log)\)/.exec(failed.output)?.[1];
      assert.ok(log && fs.existsSync(log), `the log the message names is not there: ${log}\n${failed.output}`);
      assert.doesNotMatch(failed.output, /rebuild @socketpoll/, failed.output);
      if (client === 'npm') assert.ok(!fs.existsSync(path.join(dir, 'node_modules', SOURCE_PACKAGE)), 'npm kept the package');
      // The tools back: the same command, as it was, installs and builds.
      ok(command, args, dir, forced);
      assert.deepEqual(sourceState(dir).built, sourceBackends);
      assert.equal(ok(process.execPath, ['-e', pollScript], dir).trim(), 'poll');
      // Or the variable unset, the stand-ins still in place: the install succeeds (the build
      // fails with a warning) and the prebuilt is loaded. (A store of its own again.)
      const other = project(`forced-${client}-unset`);
      const unset = run(command, args, { cwd: other, env: { ...clientEnv, PATH: `${shims}:${clientEnv.PATH}`, npm_config_store_dir: path.join(work, 'pnpm-store-unset') }, timeout: 600_000 });
      assert.equal(unset.status, 0, unset.output);
      assert.equal(loadedPackage(other), own.packageName);
    });
  }

  if (figures.length) {
    console.log('    source build figures (client | machine | installs | with the source build | compiled | median install s):');
    for (const f of figures) {
      const median = [...f.seconds].sort((a, b) => a - b)[Math.floor(f.seconds.length / 2)] ?? NaN;
      console.log(`    | ${f.client} | ${f.machine} | ${f.runs} | ${f.withSource} | ${f.compiled} | ${median.toFixed(1)} |`);
    }
  }

  await step('TypeScript consumers type-check under strict: module nodenext (ESM and CommonJS), moduleResolution bundler', () => {
    const source = "import { SocketPoll, POLL_READ } from '@socketpoll/core';\nconst p = new SocketPoll<{ name: string }>();\np.add(0, POLL_READ, { name: 'stdin' });\nfor (const { data } of p.wait(0)) console.log(data.name);\np.close();\n";
    const types = path.join(npmProject, 'node_modules/@types');
    fs.mkdirSync(types, { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'packages/core/node_modules/@types/node')), path.join(types, 'node'));
    for (const [name, options, type] of [
      ['nodenext-esm', { module: 'nodenext', moduleResolution: 'nodenext' }, 'module'],
      ['nodenext-cjs', { module: 'nodenext', moduleResolution: 'nodenext' }, 'commonjs'],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'module'],
    ]) {
      const dir = path.join(npmProject, `ts-${name}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type }));
      fs.writeFileSync(path.join(dir, 'index.ts'), source);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', types: ['node'], ...options }, files: ['index.ts'] }));
      ok(path.join(BIN, 'tsc'), ['-p', dir], npmProject);
    }
  });

  await step("the troubleshooting guide's esbuild command makes a bundle that runs on the native backend", () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs/guides/troubleshooting.md'), 'utf8');
    const command = guide.split('\n').find((line) => line.startsWith('npx esbuild '));
    assert.ok(command, 'no `npx esbuild` line in docs/guides/troubleshooting.md');
    const args = command.trim().split(/\s+/).slice(2);
    const outfile = args.find((a) => a.startsWith('--outfile=')).slice('--outfile='.length);
    fs.mkdirSync(path.join(npmProject, path.dirname(args[0])), { recursive: true });
    fs.writeFileSync(path.join(npmProject, args[0]), which.esm);
    ok(path.join(BIN, 'esbuild'), args, npmProject);
    assert.equal(ok(process.execPath, [outfile], npmProject).trim(), own.backend);
  });
} catch (err) {
  if (!failures.length) failures.push(String(err));
  console.log(`not ok - ${err?.stack ?? err}`);
} finally {
  cleanUp();
}
assert.ok(!fs.existsSync(work), `${work} was not removed`);
console.log(`release: registry stopped, ${work} removed`);
if (failures.length) {
  console.log(`release: ${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('release: all passed');
