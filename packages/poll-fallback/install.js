#!/usr/bin/env node
'use strict';
// install.js — builds the backends of @socketpoll/core from the sources shipped in ./native, with
// node-gyp, following the build-time detection of the C library: the platform's own mechanism
// (epoll on Linux and Android, kqueue on macOS and the BSDs) and poll(), which builds on any POSIX
// system. Each lands next to this file as socketpoll_<backend>.node; the core loader prefers the
// native mechanism and uses poll when asked (`backend: 'poll'`).
//
// It runs where it is installed: as the dependency of a source selector (the machines no prebuilt
// package fits; see @socketpoll/core's platform table), or where you install it yourself. Node's
// headers come from the running Node's install when it has them (<prefix>/include/node), so
// node-gyp downloads nothing. A failed build leaves the package installed, prints what is missing
// (compiler, make, python3), and writes build-error.log here: the loader's error quotes it. The
// install only fails when SOCKETPOLL_BUILD_FROM_SOURCE=1 asked for the build explicitly.
//
// Inside the socketpoll workspace it builds nothing (turbo builds packages/native); `node install.js
// --from-workspace` (this package's build script) copies those builds in.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PACKAGE = '@socketpoll/poll-fallback';
const here = __dirname;
const LOG = path.join(here, 'build-error.log');
const strict = process.env.SOCKETPOLL_BUILD_FROM_SOURCE === '1';

/** The backends to build here, best first. */
function backends(platform = process.platform) {
  if (platform === 'linux' || platform === 'android') return ['epoll', 'poll'];
  if (platform === 'darwin' || platform.endsWith('bsd')) return ['kqueue', 'poll'];
  return ['poll'];
}

const addonFile = (backend) => path.join(here, `socketpoll_${backend}.node`);

function put(from, to) {
  const tmp = `${to}.tmp-${process.pid}`; // by rename: a loaded .node must never be rewritten in place
  fs.copyFileSync(from, tmp);
  fs.renameSync(tmp, to);
}

/** Inside the monorepo: the sources are in ../native and this folder is not under node_modules. */
function inWorkspace() {
  return !fs.existsSync(path.join(here, 'native')) && fs.existsSync(path.join(here, '..', 'native', 'gyp', 'binding.gyp')) &&
    !here.split(path.sep).includes('node_modules');
}

/** The tools node-gyp needs that are not on PATH. */
function missingTools() {
  const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  const missing = [];
  if (!onPath('python3') && !onPath('python')) missing.push('python3');
  if (!onPath('make') && !onPath('gmake')) missing.push('make');
  if (!onPath(process.env.CXX || 'c++') && !onPath('g++') && !onPath('clang++')) missing.push('a C/C++ compiler (g++ or clang++)');
  return missing;
}

function buildCommands() {
  return [
    `npm rebuild ${PACKAGE}`,
    `with pnpm: pnpm rebuild ${PACKAGE} (first time: pnpm approve-builds and select it)`,
  ].join('\n  ');
}

function fail(why, output = '') {
  const message = `could not build ${PACKAGE}: ${why}`;
  fs.writeFileSync(LOG, `${message}\n${output ? `\n--- node-gyp output (last lines) ---\n${output.split('\n').slice(-40).join('\n')}\n` : ''}`);
  console.warn(`\nWARNING ${PACKAGE}: ${message}.\nInstall what is missing, then build it with:\n  ${buildCommands()}\n(details: ${LOG})\n`);
  process.exit(strict ? 1 : 0); // stay installed, so the loader can say why
}

/** What was built, best first: the core loader reads it. */
function writeBuilt() {
  fs.writeFileSync(path.join(here, 'built.json'), `${JSON.stringify(backends())}\n`);
}

function fromWorkspace() {
  const release = path.join(here, '..', 'native', 'gyp', 'build', 'Release');
  for (const backend of backends()) {
    const built = path.join(release, `socketpoll_${backend}.node`);
    if (!fs.existsSync(built)) {
      console.error(`poll-fallback: ${built} is missing; build packages/native first (pnpm build)`);
      process.exit(1);
    }
    put(built, addonFile(backend));
  }
  writeBuilt();
  console.log(`poll-fallback: copied the workspace builds of ${backends().join(', ')}`);
}

function build() {
  fs.rmSync(LOG, { force: true });
  fs.rmSync(path.join(here, 'built.json'), { force: true });
  if (process.platform === 'win32') fail('Windows has no readiness API for arbitrary descriptors (epoll, kqueue or poll)');
  const missing = missingTools();
  if (missing.length) fail(`missing ${missing.join(', ')}`);
  const nativeDir = path.join(here, 'native');
  const gypDir = path.join(nativeDir, 'gyp');
  if (!fs.existsSync(path.join(gypDir, 'binding.gyp'))) fail(`no sources: ${gypDir}/binding.gyp is missing`);
  const { nodeGypEnv, nodeGypBin } = require(path.join(nativeDir, 'scripts', 'node-gyp-env.js'));
  const env = nodeGypEnv();
  const gyp = fs.existsSync(nodeGypBin()) ? [process.execPath, nodeGypBin()] : ['node-gyp'];
  const targets = backends().map((b) => `socketpoll_${b}`);
  let output = '';
  for (const args of [['configure'], ['build', '--jobs=2', ...targets]]) {
    const r = spawnSync(gyp[0], [...gyp.slice(1), ...args, `--directory=${gypDir}`], { env, encoding: 'utf8' });
    output += `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.error || r.status !== 0) fail(`node-gyp ${args[0]} failed (${r.error ? r.error.message : `exit code ${r.status}`})`, output);
  }
  for (const backend of backends()) {
    const built = path.join(gypDir, 'build', 'Release', `socketpoll_${backend}.node`);
    if (!fs.existsSync(built)) fail(`node-gyp produced no ${built}`, output);
    put(built, addonFile(backend));
  }
  fs.rmSync(path.join(gypDir, 'build'), { recursive: true, force: true });
  writeBuilt();
  console.log(`poll-fallback: built ${backends().join(' and ')} from source`);
}

if (require.main === module) {
  if (process.argv.includes('--from-workspace')) fromWorkspace();
  else if (!inWorkspace()) build();
}

module.exports = { backends, addonFile, LOG };
