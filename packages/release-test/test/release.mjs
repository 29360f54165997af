// A release end to end through a real npm registry on 127.0.0.1 (verdaccio):
//   1. the published packages are packed from the workspace (build outputs included), unpacked
//      into a scratch workspace, and released there with the documented commands,
//      `changeset version` then `changeset publish`, into the local registry;
//   2. fresh projects install @socketpoll/core from it with npm, pnpm and yarn 1: this machine's
//      prebuilt backend lands, the other platforms' do not, and require and import both give it;
//   3. npm --omit=optional gives the clear error; installing the source package itself builds the
//      poll() backend on install; TypeScript consumers type-check (nodenext, bundler); the
//      esbuild command of the troubleshooting guide makes a bundle that runs.
// The registry is stopped and its storage removed whatever happens (also on SIGINT/SIGTERM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { BIN, ROOT, pack, publishedPackages, readJson, run, tempDir } from './helpers.mjs';

const core = createRequire(import.meta.url)(path.join(ROOT, 'packages/core/dist/index.js'));
// The source package (built on install): named in core's platform table.
const SOURCE_PACKAGE = createRequire(import.meta.url)(path.join(ROOT, 'packages/core/dist/platforms.js')).SOURCE_PACKAGE.packageName;
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
async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures.push(name);
    console.log(`not ok - ${name}\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
  }
}

/** Runs a command in `cwd`; throws with its output unless it exits 0; returns the output. */
function ok(command, args, cwd, env = {}) {
  const r = run(command, args, { cwd, env: { ...process.env, ...env }, timeout: 600_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.output}`);
  return r.output;
}

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
  // Our packages only from here; everything else (node-addon-api, …) through the public registry.
  fs.writeFileSync(
    path.join(work, 'verdaccio.yaml'),
    [
      `storage: ${storage}`,
      'auth: { htpasswd: { file: ' + path.join(work, 'htpasswd') + ', max_users: -1 } }',
      `uplinks: { npmjs: { url: ${JSON.stringify(run('npm', ['config', 'get', 'registry']).output.trim())} } }`,
      'packages:',
      "  '@socketpoll/*': { access: $all, publish: $all, unpublish: $all }",
      "  '**': { access: $all, publish: $authenticated, proxy: npmjs }",
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  // Every client here uses this registry; publishing needs some token even when anonymous
  // publishing is allowed.
  const npmrc = path.join(work, 'npmrc');
  fs.writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=release-test\n`);
  const clientEnv = {
    npm_config_userconfig: npmrc,
    npm_config_registry: url,
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_store_dir: path.join(work, 'pnpm-store'),
    YARN_CACHE_FOLDER: path.join(work, 'yarn-cache'),
    SOCKETPOLL_BACKEND: '',
    SOCKETPOLL_BUILD_FROM_SOURCE: '',
  };

  await step(`verdaccio starts on ${url}`, async () => {
    registry = spawn(path.join(BIN, 'verdaccio'), ['--config', path.join(work, 'verdaccio.yaml'), '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    registry.stdout.on('data', (d) => (log += d));
    registry.stderr.on('data', (d) => (log += d));
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}-/ping`)).ok) break;
      } catch {
        // not up yet
      }
      assert.ok(i < 300 && registry.exitCode === null, `verdaccio did not answer:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  if (failures.length) throw new Error('no registry');

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
    fs.writeFileSync(path.join(release, 'package.json'), JSON.stringify({ name: 'release', private: true, packageManager: 'pnpm@10.34.9' }));
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
    const out = ok(changeset, ['publish'], release, env);
    for (const name of names) {
      const meta = await (await fetch(`${url}${name.replace('/', '%2f')}`)).json();
      assert.ok(meta.versions?.[released], `${name}@${released} is not in the registry:\n${out}`);
    }
  });
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
  /** The backend's package of this machine is installed where core finds it, the others are not. */
  // yarn 1 ignores the `libc` field: on linux it installs the glibc and the musl package of the
  // same os/cpu (the loader still picks by libc). Those are allowed for yarn only.
  const otherLibc = (name) => core.PLATFORM_PACKAGES.some((p) => p.packageName === name && p.platform === own.platform && p.arch === own.arch);
  function assertInstalledForThisMachine(dir, client) {
    const fromCore = createRequire(fs.realpathSync(path.join(dir, 'node_modules/@socketpoll/core/package.json')));
    assert.equal(fromCore(`${own.packageName}/package.json`).version, released);
    for (const name of others.filter((n) => !(client === 'yarn' && otherLibc(n)))) assert.throws(() => fromCore.resolve(`${name}/package.json`), /Cannot find module/, `${name} was installed on ${process.platform}-${process.arch}`);
    for (const file of ['which.cjs', 'which.mjs']) assert.equal(ok(process.execPath, [file], dir, clientEnv).trim(), own.backend, file);
  }

  const clients = {
    npm: ['npm', ['install', '--no-audit', '--no-fund', `@socketpoll/core@${released}`]],
    pnpm: ['pnpm', ['add', `@socketpoll/core@${released}`]],
    yarn: [path.join(BIN, 'yarn'), ['add', '--non-interactive', '--no-progress', `--registry=${url}`, `@socketpoll/core@${released}`]],
  };
  let npmProject;
  for (const [client, [command, args]] of Object.entries(clients)) {
    await step(`${client} installs @socketpoll/core@${released}: ${own.packageName} lands, no other platform's package, require and import give ${own.backend}`, () => {
      const dir = project(`with-${client}`);
      ok(command, args, dir, clientEnv);
      assertInstalledForThisMachine(dir, client);
      if (client === 'npm') npmProject = dir;
    });
  }

  await step('npm install --omit=optional: the loader names --omit=optional and how to fix it', () => {
    const dir = project('omit-optional');
    ok('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', `@socketpoll/core@${released}`], dir, clientEnv);
    const r = run(process.execPath, ['which.cjs'], { cwd: dir, env: { ...process.env, ...clientEnv } });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /BackendLoadError/, r.output);
    assert.match(r.output, /reinstall without --omit=optional/, r.output);
  });

  await step(`npm install of ${SOURCE_PACKAGE} itself builds it from source, and backend: poll loads it`, () => {
    const dir = project('from-source');
    ok('npm', ['install', '--no-audit', '--no-fund', `@socketpoll/core@${released}`, `${SOURCE_PACKAGE}@${released}`], dir, clientEnv);
    const script = "const { SocketPoll } = require('@socketpoll/core'); const p = new SocketPoll({ backend: 'poll' }); console.log(p.backendName); p.close();";
    assert.equal(ok(process.execPath, ['-e', script], dir, clientEnv).trim(), 'poll');
  });

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
    assert.equal(ok(process.execPath, [outfile], npmProject, clientEnv).trim(), own.backend);
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
