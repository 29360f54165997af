import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackendLoadError, FALLBACK_PACKAGE, PLATFORM_PACKAGES, SocketPoll, availableBackends, loadBackend, platformPackage } from '../src';

const ROOT = path.resolve(__dirname, '../../..');
const CORE = path.resolve(__dirname, '..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** The workspace package folder that publishes `name`. */
function packageDir(name: string): string {
  for (const dir of fs.readdirSync(path.join(ROOT, 'packages'))) {
    const file = path.join(ROOT, 'packages', dir, 'package.json');
    if (fs.existsSync(file) && readJson(file).name === name) return path.dirname(file);
  }
  throw new Error(`no workspace package is named ${name}`);
}

describe('the platform table', () => {
  test('every prebuilt row is a package whose os/cpu/libc match the row, and core lists it as optional', () => {
    const optional = readJson(path.join(CORE, 'package.json')).optionalDependencies;
    for (const row of PLATFORM_PACKAGES) {
      const pkg = readJson(path.join(packageDir(row.packageName), 'package.json'));
      expect(pkg.os).toEqual([row.platform]);
      expect(pkg.cpu).toEqual([row.arch]);
      if (row.libc) expect(pkg.libc).toEqual([row.libc]);
      expect(pkg.files).toEqual(['socketpoll.node']);
      expect(pkg.main).toBe('socketpoll.node');
      expect(optional[row.packageName]).toBeDefined();
    }
    expect(optional[FALLBACK_PACKAGE.packageName]).toBeDefined();
  });

  test('every published package has the same version as core (changesets fixed group)', () => {
    const version = readJson(path.join(CORE, 'package.json')).version;
    const fixed = readJson(path.join(ROOT, '.changeset', 'config.json')).fixed[0];
    for (const name of fixed) expect(readJson(path.join(packageDir(name), 'package.json')).version).toBe(version);
    expect(fixed.sort()).toEqual(['@socketpoll/core', FALLBACK_PACKAGE.packageName, ...PLATFORM_PACKAGES.map((p) => p.packageName)].sort());
  });
});

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64' ? describe : describe.skip; // the prebuilt under test is linux-x64

onLinuxX64('loading on linux-x64 (glibc)', () => {
  test('the default is the prebuilt epoll package', () => {
    expect(platformPackage()?.packageName).toBe('@socketpoll/epoll-linux-x64');
    const loaded = loadBackend();
    expect(loaded).toMatchObject({ name: 'epoll', packageName: '@socketpoll/epoll-linux-x64' });
    const poll = new SocketPoll();
    expect(poll.backendName).toBe('epoll');
    poll.close();
  });

  test('require() and import() from a workspace package that depends on core both give epoll', () => {
    const examples = path.join(ROOT, 'examples');
    const env = { ...process.env, SOCKETPOLL_BACKEND: '' };
    expect(execFileSync(process.execPath, ['which-backend.cjs'], { cwd: examples, env }).toString().trim()).toBe('epoll');
    expect(execFileSync(process.execPath, ['which-backend.mjs'], { cwd: examples, env }).toString().trim()).toBe('epoll');
  });

  test('SOCKETPOLL_BACKEND=poll selects the fallback; an unknown name is a clear error', () => {
    const run = (value: string) =>
      spawnSync(process.execPath, ['which-backend.cjs'], { cwd: path.join(ROOT, 'examples'), env: { ...process.env, SOCKETPOLL_BACKEND: value } });
    expect(run('poll').stdout.toString().trim()).toBe('poll');
    const bad = run('select');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.toString()).toMatch(/SOCKETPOLL_BACKEND' must be one of 'epoll', 'kqueue', 'poll'/);
  });

  test('availableBackends lists what loads here', () => {
    expect(availableBackends()).toEqual(['epoll', 'poll']);
  });

  test('asking for kqueue on Linux names the package tried and why it failed', () => {
    let err: unknown;
    try {
      new SocketPoll({ backend: 'kqueue' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendLoadError);
    const e = err as BackendLoadError;
    expect(e.code).toBe('ERR_SOCKETPOLL_NO_BACKEND');
    expect(e.message).toMatch(/could not load the 'kqueue' backend for linux-x64-glibc/);
    expect(e.attempts.map((a) => a.packageName)).toEqual(['@socketpoll/kqueue-darwin-arm64']);
  });

  test('an install without optional packages and an unbuilt fallback: the error says how to fix both', () => {
    // A user's node_modules: core, and poll-fallback whose build script was blocked (no .node).
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-app-'));
    const mod = path.join(app, 'node_modules', '@socketpoll');
    fs.mkdirSync(path.join(mod, 'core'), { recursive: true });
    fs.cpSync(path.join(CORE, 'dist'), path.join(mod, 'core', 'dist'), { recursive: true });
    fs.copyFileSync(path.join(CORE, 'package.json'), path.join(mod, 'core', 'package.json'));
    fs.mkdirSync(path.join(mod, 'poll-fallback'));
    fs.writeFileSync(path.join(mod, 'poll-fallback', 'package.json'), JSON.stringify({ name: '@socketpoll/poll-fallback', main: 'socketpoll.node' }));
    fs.writeFileSync(path.join(app, 'app.js'), "require('@socketpoll/core'); new (require('@socketpoll/core').SocketPoll)();");
    // NODE_PATH (set by pnpm's bin shims) would let the app find the workspace's packages.
    const env = { ...process.env, SOCKETPOLL_BACKEND: '', NODE_PATH: '' };
    const r = spawnSync(process.execPath, ['app.js'], { cwd: app, env });
    fs.rmSync(app, { recursive: true, force: true });
    const stderr = r.stderr.toString();
    expect(r.status).not.toBe(0);
    expect(stderr).toMatch(/@socketpoll\/epoll-linux-x64: not installed .*--omit=optional/);
    expect(stderr).toMatch(/@socketpoll\/poll-fallback: installed but not built .*SOCKETPOLL_BUILD_FROM_SOURCE=1 npm rebuild @socketpoll\/poll-fallback/);
    expect(stderr).toMatch(/SOCKETPOLL_BUILD_FROM_SOURCE=1 pnpm approve-builds/);
  });
});
