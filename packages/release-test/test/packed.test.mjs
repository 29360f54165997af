// The packed packages as a user receives them: manifests, licence, types (@arethetypeswrong/cli),
// packaging lint (publint), TypeScript consumers, and bundles made by esbuild, run on real fds'
// backend. Installs the tarballs with npm --offline into temporary projects: no registry.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, ROOT, pack, publishedPackages, readJson, run, tempDir } from './helpers.mjs';

const core = createRequire(import.meta.url)(path.join(ROOT, 'packages/core/dist/index.js'));
const work = tempDir('socketpoll-packed-');
const tarballs = new Map();
let app; // a project with core and this machine's prebuilt backend, installed from the tarballs

/** Writes `files` into a new folder under the work dir; returns its path. */
function project(name, files) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), typeof text === 'string' ? text : JSON.stringify(text, null, 2));
  }
  return dir;
}

function npmInstall(dir, names, extra = []) {
  const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...extra, ...names.map((n) => tarballs.get(n))], { cwd: dir });
  assert.equal(r.status, 0, r.output);
}

before(() => {
  for (const { name, dir } of publishedPackages()) tarballs.set(name, pack(dir, path.join(work, 'tarballs')));
  app = project('app', { 'package.json': { name: 'app', version: '1.0.0', private: true } });
  const own = core.platformPackage();
  // poll-fallback is left out: it needs node-addon-api from the registry (the release test
  // installs it through one); offline, npm skips the optional dependencies it cannot fetch.
  npmInstall(app, ['@socketpoll/core', ...(own ? [own.packageName] : [])]);
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('manifests', () => {
  test('every published package ships the repository LICENSE and links to the repository', () => {
    const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    for (const [name, tarball] of tarballs) {
      const files = run('tar', ['-tzf', tarball]).output.split('\n');
      assert.ok(files.includes('package/LICENSE'), `${name}: no LICENSE in ${tarball}`);
      assert.equal(run('tar', ['-xzOf', tarball, 'package/LICENSE']).output, license, `${name}: LICENSE differs from the repository's`);
      const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).output);
      assert.equal(pkg.license, 'MIT', name);
      for (const field of ['repository', 'homepage', 'bugs']) assert.ok(pkg[field], `${name}: no ${field}`);
      assert.ok(!JSON.stringify(pkg).includes('workspace:'), `${name}: a workspace: range was published`);
      const named = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
      assert.ok(!named.includes('@socketpoll/native'), `${name}: names the private @socketpoll/native`);
    }
  });

  test('every link to the repository is the one in core\'s manifest: published manifests, the workspace root and the API site', () => {
    const { repository, homepage, bugs } = readJson(path.join(ROOT, 'packages/core/package.json'));
    const web = repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    assert.equal(homepage, `${web}#readme`);
    assert.equal(bugs.url, `${web}/issues`);
    const manifests = [...tarballs].map(([name, tarball]) => [name, JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).output)]);
    manifests.push(['the workspace root', readJson(path.join(ROOT, 'package.json'))]);
    for (const [name, pkg] of manifests) {
      assert.equal(pkg.repository?.url, repository.url, `${name}: repository`);
      assert.equal(pkg.homepage, homepage, `${name}: homepage`);
      assert.equal(pkg.bugs?.url, bugs.url, `${name}: bugs`);
    }
    assert.equal(readJson(path.join(ROOT, 'packages/core/typedoc.json')).navigationLinks.Repository, web, 'typedoc.json navigationLinks');
  });

  test('publint reports no error and no warning for any published package', () => {
    for (const [name, tarball] of tarballs) {
      const r = run(path.join(BIN, 'publint'), ['--strict', tarball]);
      assert.equal(r.status, 0, `${name}:\n${r.output}`);
      // Suggestions stay allowed: for a package that holds no JavaScript ("type" field) they are noise.
      assert.doesNotMatch(r.output, /^(Warnings|Errors):/m, `${name}:\n${r.output}`);
    }
  });

  test("core's types resolve for every importer: node10, node16 from CJS and from ESM, bundler (@arethetypeswrong/cli)", () => {
    const r = run(path.join(BIN, 'attw'), ['--format', 'table-flipped', tarballs.get('@socketpoll/core')]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /No problems found/, r.output);
  });
});

/** A program that polls a real FIFO and prints what it got; the same text as ESM or CommonJS. */
function fifoProgram(format) {
  const imports =
    format === 'esm'
      ? "import { SocketPoll, POLL_READ } from '@socketpoll/core';\nimport * as fs from 'node:fs';\nimport { execFileSync } from 'node:child_process';\nimport * as os from 'node:os';\nimport * as path from 'node:path';"
      : "const { SocketPoll, POLL_READ } = require('@socketpoll/core');\nconst fs = require('node:fs');\nconst { execFileSync } = require('node:child_process');\nconst os = require('node:os');\nconst path = require('node:path');";
  return `${imports}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fifo-'));
const fifo = path.join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
const poll = new SocketPoll();
poll.add(r, POLL_READ, 'fifo');
fs.writeSync(w, 'x');
const events = poll.wait(5000);
console.log(JSON.stringify({ backend: poll.backendName, events: events.map((e) => [e.events, e.data]) }));
poll.del(r);
poll.close();
fs.closeSync(r);
fs.closeSync(w);
fs.rmSync(dir, { recursive: true });
`;
}

const EXPECTED_BACKEND = core.platformPackage()?.backend;

/** Runs `file` with Node; asserts it polled the FIFO on this machine's native backend. */
function assertPollsFifo(file, cwd) {
  const r = run(process.execPath, [file], { cwd, env: { ...process.env, SOCKETPOLL_BACKEND: '' } });
  assert.equal(r.status, 0, r.output);
  assert.deepEqual(JSON.parse(r.output), { backend: EXPECTED_BACKEND, events: [[core.POLL_READ, 'fifo']] });
}

/** esbuild `source` (a file in the app) to `outfile` with `flags`; returns the bundle's path. */
function bundle(source, outfile, flags) {
  const r = run(path.join(BIN, 'esbuild'), [source, '--bundle', '--platform=node', '--log-level=error', `--outfile=${outfile}`, ...flags], { cwd: app });
  assert.equal(r.status, 0, r.output);
  return path.join(app, outfile);
}

/** Copies a bundle to a folder with no node_modules above it; returns the copy's path. */
function movedAway(file) {
  const away = fs.mkdtempSync(path.join(work, 'away-'));
  fs.copyFileSync(file, path.join(away, path.basename(file)));
  return path.join(away, path.basename(file));
}

const BANNER = "--banner:js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
const onNative = EXPECTED_BACKEND ? describe : describe.skip; // no prebuilt backend for this machine: nothing to bundle against

onNative('bundles made by esbuild', () => {
  before(() => {
    fs.writeFileSync(path.join(app, 'app.mjs'), fifoProgram('esm'));
    fs.writeFileSync(path.join(app, 'app.cjs'), fifoProgram('cjs'));
  });

  test('the installed packages themselves poll the FIFO through import and require', () => {
    assertPollsFifo('app.mjs', app);
    assertPollsFifo('app.cjs', app);
  });

  for (const [name, flags, ext] of [
    ['ESM bundle of an ES module', ['--format=esm'], 'mjs'],
    ['ESM bundle of an ES module with the createRequire banner', ['--format=esm', BANNER], 'mjs'],
    ['CommonJS bundle of an ES module', ['--format=cjs'], 'cjs'],
    ['CommonJS bundle of a CommonJS module', ['--format=cjs'], 'cjs'],
    ['ESM bundle of a CommonJS module with the createRequire banner', ['--format=esm', BANNER], 'mjs'],
    ['ESM bundle with --external:@socketpoll/core', ['--format=esm', '--external:@socketpoll/core'], 'mjs'],
  ]) {
    const source = name.includes('of a CommonJS') ? 'app.cjs' : 'app.mjs';
    const external = flags.includes('--external:@socketpoll/core');
    test(`${name} runs on the native backend beside node_modules, and moved away says what is missing`, () => {
      const out = bundle(source, `out/${name.replace(/\W+/g, '-')}.${ext}`, flags);
      assertPollsFifo(out, app);
      const r = run(process.execPath, [movedAway(out)]);
      assert.notEqual(r.status, 0, r.output);
      // Kept external, Node itself says it cannot find the package; bundled, socketpoll says so.
      if (external) assert.match(r.output, /Cannot find package '@socketpoll\/core'/, r.output);
      else assert.match(r.output, /external:@socketpoll\/core/, r.output);
      assert.doesNotMatch(r.output, /omit=optional/, r.output);
    });
  }

  test("the docs' esbuild command bundles a TypeScript app that runs", () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs/guides/troubleshooting.md'), 'utf8');
    const command = guide.split('\n').find((line) => line.startsWith('npx esbuild '));
    assert.ok(command, 'docs/guides/troubleshooting.md has no line starting with `npx esbuild `');
    const [, , ...args] = command.trim().split(/\s+/);
    const outfile = args.find((a) => a.startsWith('--outfile=')).slice('--outfile='.length);
    fs.mkdirSync(path.join(app, 'src'), { recursive: true });
    fs.writeFileSync(path.join(app, args[0]), fifoProgram('esm'));
    const r = run(path.join(BIN, 'esbuild'), args, { cwd: app });
    assert.equal(r.status, 0, r.output);
    assertPollsFifo(outfile, app);
  });
});

describe('installs', () => {
  test('with --omit=optional the loader names --omit=optional and the fix', () => {
    const dir = project('omit-optional', { 'package.json': { name: 'omit', version: '1.0.0', private: true }, 'app.cjs': fifoProgram('cjs') });
    npmInstall(dir, ['@socketpoll/core'], ['--omit=optional']);
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules/@socketpoll', core.platformPackage()?.packageName.split('/')[1] ?? 'none')));
    const r = run(process.execPath, ['app.cjs'], { cwd: dir, env: { ...process.env, SOCKETPOLL_BACKEND: '' } });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /ERR_SOCKETPOLL_NO_BACKEND|BackendLoadError/, r.output);
    assert.match(r.output, /reinstall without --omit=optional/, r.output);
  });
});

describe('TypeScript consumers', () => {
  before(() => {
    // A Node project's types come with @types/node (the declarations use NodeJS.Platform and Symbol.dispose).
    fs.mkdirSync(path.join(app, 'node_modules/@types'), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'packages/core/node_modules/@types/node')), path.join(app, 'node_modules/@types/node'));
  });
  const source = `import { SocketPoll, POLL_READ, type PollEvent } from '@socketpoll/core';
const poll = new SocketPoll<{ name: string }>();
poll.add(0, POLL_READ, { name: 'stdin' });
const events: PollEvent<{ name: string }>[] = poll.wait(0);
for (const { data } of events) console.log(data.name.toUpperCase());
poll.close();
`;
  for (const [name, compilerOptions, type] of [
    ['module nodenext, an ES module', { module: 'nodenext', moduleResolution: 'nodenext' }, 'module'],
    ['module nodenext, a CommonJS module', { module: 'nodenext', moduleResolution: 'nodenext' }, 'commonjs'],
    ['moduleResolution bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'module'],
  ]) {
    test(`type-check under strict, ${name}`, () => {
      const dir = project(`ts-${name.replace(/\W+/g, '-')}`, {
        'package.json': { name: 'ts-consumer', version: '1.0.0', private: true, type },
        'tsconfig.json': { compilerOptions: { strict: true, noEmit: true, target: 'es2022', types: ['node'], ...compilerOptions }, files: ['index.ts'] },
        'index.ts': source,
      });
      fs.symlinkSync(path.join(app, 'node_modules'), path.join(dir, 'node_modules'));
      const r = run(path.join(BIN, 'tsc'), ['-p', '.'], { cwd: dir });
      assert.equal(r.status, 0, r.output);
    });
  }
});
