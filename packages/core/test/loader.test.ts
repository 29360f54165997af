import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackendLoadError, SocketPoll, availableBackends, loadBackend, platformPackage } from '../src';
import { PLATFORM_PACKAGES, SOURCE_PACKAGE } from '../src/platforms';
import { detectPackageManager } from '../src/loader';
import type { PlatformPackage } from '../src/platforms';

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
      expect(pkg.libc).toEqual(row.libc ? [row.libc] : undefined);
      expect(pkg.files).toEqual(['socketpoll.node']);
      expect(pkg.main).toBe('socketpoll.node');
      expect(pkg.scripts).toBeUndefined();
      expect(optional[row.packageName]).toBeDefined();
    }
  });

  test('core lists the prebuilts and the source package as optional, nothing else; the source package installs everywhere but Windows', () => {
    const optional = readJson(path.join(CORE, 'package.json')).optionalDependencies;
    expect(Object.keys(optional).sort()).toEqual([...PLATFORM_PACKAGES.map((p) => p.packageName), SOURCE_PACKAGE.packageName].sort());
    const source = readJson(path.join(packageDir(SOURCE_PACKAGE.packageName), 'package.json'));
    expect(source.os).toEqual(['!win32']);
    expect(source.cpu).toBeUndefined();
    expect(source.libc).toBeUndefined();
    // install.js decides from the rows its prepack writes from the table.
    expect(source.files).toEqual(expect.arrayContaining(['install.js', 'platforms.json', 'native/']));
    expect(source.scripts.prepack).toBe('node scripts/prepack.js');
  });

  test('every published package has the same version as core (changesets fixed group)', () => {
    const version = readJson(path.join(CORE, 'package.json')).version;
    const fixed = readJson(path.join(ROOT, '.changeset', 'config.json')).fixed[0];
    for (const name of fixed) expect(readJson(path.join(packageDir(name), 'package.json')).version).toBe(version);
    // The packages built on core that are released with it (packages/native/scripts/prebuilt/manifests.js).
    const { COMPANION_PACKAGES } = require('../../native/scripts/prebuilt/manifests.js') as { COMPANION_PACKAGES: string[] };
    const expected = ['@socketpoll/core', SOURCE_PACKAGE.packageName, ...PLATFORM_PACKAGES.map((p) => p.packageName), ...COMPANION_PACKAGES];
    expect([...fixed].sort()).toEqual(expected.sort());
  });

  test('the generated manifests, README and LICENSE files match the table (no drift)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'packages/native/scripts/prebuilt.js'), 'manifests', '--check'], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toMatch(/files match the platform table/);
    expect(r.status).toBe(0);
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
    expect(e.attempts.map((a) => a.packageName)).toEqual(['@socketpoll/kqueue-darwin-arm64', '@socketpoll/kqueue-darwin-x64']);
    expect(e.attempts[0].reason).toMatch(/it is for darwin-arm64/);
  });

  /**
   * A user's node_modules holding core's build (and what `extra` adds; `files` at the project's
   * root, e.g. a lockfile); runs app.js there.
   */
  function runApp(extra: (modules: string) => void, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-app-'));
    const mod = path.join(app, 'node_modules', '@socketpoll');
    fs.mkdirSync(path.join(mod, 'core'), { recursive: true });
    fs.cpSync(path.join(CORE, 'dist'), path.join(mod, 'core', 'dist'), { recursive: true });
    fs.copyFileSync(path.join(CORE, 'package.json'), path.join(mod, 'core', 'package.json'));
    extra(mod);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
      fs.writeFileSync(path.join(app, file), content);
    }
    fs.writeFileSync(path.join(app, 'app.js'), "const c = require('@socketpoll/core'); const p = new c.SocketPoll(); console.log(p.backendName);");
    // NODE_PATH (set by pnpm's bin shims) would let the app find the workspace's packages.
    const r = spawnSync(process.execPath, ['app.js'], { cwd: app, env: { ...process.env, SOCKETPOLL_BACKEND: '', NODE_PATH: '', ...env } });
    fs.rmSync(app, { recursive: true, force: true });
    return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  test('an install without optional packages: the error names --omit=optional and the source package', () => {
    const r = runApp(() => {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/@socketpoll\/epoll-linux-x64: not installed .*--omit=optional/);
    expect(r.stderr).toMatch(/@socketpoll\/poll-fallback: not installed: install it with `npm install @socketpoll\/poll-fallback`/);
  });

  const unbuiltSource = (mod: string) => {
    fs.mkdirSync(path.join(mod, 'poll-fallback'));
    fs.writeFileSync(path.join(mod, 'poll-fallback', 'package.json'), JSON.stringify({ name: '@socketpoll/poll-fallback' }));
  };

  test("a source package whose install script did not run: the error gives the rebuild command of the project's package manager", () => {
    const npm = runApp(unbuiltSource, {}, { 'package-lock.json': '{}' });
    expect(npm.status).not.toBe(0);
    expect(npm.stderr).toMatch(/@socketpoll\/poll-fallback: installed but not built \(install scripts skipped\?\): run `npm rebuild @socketpoll\/poll-fallback`/);
    expect(npm.stderr).not.toMatch(/pnpm|yarn/);
    const pnpm = runApp(unbuiltSource, {}, { 'node_modules/.modules.yaml': 'layoutVersion: 5\n' });
    expect(pnpm.stderr).toMatch(/installed but not built .*`pnpm approve-builds` \(select @socketpoll\/poll-fallback; approving builds it\), later rebuilds `pnpm rebuild @socketpoll\/poll-fallback`/);
    expect(pnpm.stderr).not.toMatch(/(^|[^p])npm rebuild/);
    const yarn = runApp(unbuiltSource, {}, { 'yarn.lock': '' });
    expect(yarn.stderr).toMatch(/installed but not built .*`yarn install --force`/);
  });

  test('with the prebuilt installed, a source package whose install built nothing: the error says how to have it built', () => {
    const prebuilt = (mod: string) => {
      unbuiltSource(mod);
      fs.writeFileSync(
        path.join(mod, 'poll-fallback', 'build-skipped.log'),
        'nothing built on install: @socketpoll/epoll-linux-x64 fits this machine (linux-x64-glibc) and is installed\n',
      );
      fs.mkdirSync(path.join(mod, 'epoll-linux-x64'));
      fs.writeFileSync(path.join(mod, 'epoll-linux-x64', 'package.json'), JSON.stringify({ name: '@socketpoll/epoll-linux-x64', main: 'socketpoll.node' }));
      fs.copyFileSync(path.join(packageDir('@socketpoll/epoll-linux-x64'), 'socketpoll.node'), path.join(mod, 'epoll-linux-x64', 'socketpoll.node'));
    };
    const r = runApp(prebuilt, { SOCKETPOLL_BACKEND: 'poll' }, { 'pnpm-lock.yaml': '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /@socketpoll\/poll-fallback: installed but not built \(nothing built on install: @socketpoll\/epoll-linux-x64 fits this machine \(linux-x64-glibc\) and is installed\): it compiles on install only where no prebuilt package fits, or when your project depends on it\. Add it to your dependencies and build it: `pnpm add --allow-build=@socketpoll\/poll-fallback @socketpoll\/poll-fallback`, then `pnpm rebuild @socketpoll\/poll-fallback`/,
    );
    expect(runApp(prebuilt)).toMatchObject({ status: 0, stdout: 'epoll\n' });
    // No record from its install (pnpm blocked it): the same advice unless the project lists it,
    // in which case its script should have built it and did not run.
    const noRecord = (mod: string) => {
      prebuilt(mod);
      fs.rmSync(path.join(mod, 'poll-fallback', 'build-skipped.log'));
    };
    expect(runApp(noRecord, { SOCKETPOLL_BACKEND: 'poll' }, { 'pnpm-lock.yaml': '' }).stderr).toMatch(/installed but not built: it compiles on install only where .*`pnpm add --allow-build=/);
    const listed = runApp(noRecord, { SOCKETPOLL_BACKEND: 'poll' }, { 'pnpm-lock.yaml': '', 'package.json': JSON.stringify({ dependencies: { '@socketpoll/poll-fallback': '*' } }) });
    expect(listed.stderr).toMatch(/installed but not built \(install scripts skipped\?\): run `pnpm approve-builds`/);
  });

  test('an install without optional packages, by pnpm or yarn: the error names their options', () => {
    expect(runApp(() => {}, {}, { 'pnpm-lock.yaml': '' }).stderr).toMatch(/epoll-linux-x64: not installed .*--no-optional .*\n.*poll-fallback: not installed: install it with `pnpm add --allow-build=@socketpoll\/poll-fallback @socketpoll\/poll-fallback`/);
    expect(runApp(() => {}, {}, { 'yarn.lock': '' }).stderr).toMatch(/epoll-linux-x64: not installed .*--ignore-optional .*\n.*poll-fallback: not installed: install it with `yarn add @socketpoll\/poll-fallback`/);
  });

  test('a failed source build: the error quotes the log the install left behind', () => {
    const r = runApp((mod) => {
      fs.mkdirSync(path.join(mod, 'poll-fallback'));
      fs.writeFileSync(path.join(mod, 'poll-fallback', 'package.json'), JSON.stringify({ name: '@socketpoll/poll-fallback' }));
      fs.writeFileSync(path.join(mod, 'poll-fallback', 'build-error.log'), 'could not build @socketpoll/poll-fallback: missing make\n');
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/the build on install failed: could not build @socketpoll\/poll-fallback: missing make \(see .*build-error.log\); fix that, then run `npm rebuild @socketpoll\/poll-fallback`/);
  });

  test('with the prebuilt absent, the source build gives epoll, and backend: poll still gives poll', () => {
    const source = path.join(ROOT, 'packages', 'poll-fallback');
    const withSource = (mod: string) => {
      fs.mkdirSync(path.join(mod, 'poll-fallback'));
      for (const f of ['package.json', 'built.json', 'socketpoll_epoll.node', 'socketpoll_poll.node']) {
        fs.copyFileSync(path.join(source, f), path.join(mod, 'poll-fallback', f));
      }
    };
    expect(runApp(withSource)).toMatchObject({ status: 0, stdout: 'epoll\n' });
    expect(runApp(withSource, { SOCKETPOLL_BACKEND: 'poll' })).toMatchObject({ status: 0, stdout: 'poll\n' });
  });
});

describe('the package manager named in advice', () => {
  const project = (files: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-pm-'));
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), '');
    }
    return dir;
  };
  test.each([
    [['node_modules/.modules.yaml', 'package-lock.json'], 'pnpm'],
    [['node_modules/.yarn-integrity'], 'yarn'],
    [['node_modules/.package-lock.json', 'yarn.lock'], 'npm'],
    [['pnpm-lock.yaml'], 'pnpm'],
    [['yarn.lock'], 'yarn'],
    [['package-lock.json'], 'npm'],
  ])('%j: %s', (files, manager) => {
    const dir = project(files);
    expect(detectPackageManager([dir])).toBe(manager);
    // A workspace member: the lockfile is at the workspace's root.
    fs.mkdirSync(path.join(dir, 'packages', 'app'), { recursive: true });
    expect(detectPackageManager([path.join(dir, 'packages', 'app')])).toBe(manager);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  test('npm when nothing says otherwise', () => {
    const dir = project([]);
    expect(['npm', 'pnpm', 'yarn']).toContain(detectPackageManager([dir])); // a folder above tmp could hold a lockfile
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('on an unsupported platform', () => {
  test('Windows: a clear BackendLoadError that lists the supported platforms, without --omit=optional', () => {
    const script = `Object.defineProperty(process, 'platform', { value: 'win32' });
      const { SocketPoll } = require(${JSON.stringify(path.join(CORE, 'dist', 'index.js'))});
      try { new SocketPoll(); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, SOCKETPOLL_BACKEND: '' } }).toString());
    expect(out).toMatchObject({ name: 'BackendLoadError', code: 'ERR_SOCKETPOLL_NO_BACKEND' });
    expect(out.message).toMatch(/win32 is not supported\. Windows has no readiness API for arbitrary file descriptors/);
    for (const row of PLATFORM_PACKAGES) expect(out.message).toContain(`${row.platform}-${row.arch}${row.libc ? `-${row.libc}` : ''}`);
    expect(out.message).not.toMatch(/omit=optional/);
  });
});
