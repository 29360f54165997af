#!/usr/bin/env node
'use strict';
// install.js — builds the poll() backend from the sources shipped in ./native, on install, only
// where it is needed:
//   - no prebuilt backend package covers this platform (the table in ./platforms.json, generated
//     at pack time from @socketpoll/core's src/platforms.ts), or
//   - SOCKETPOLL_BUILD_FROM_SOURCE=1 asks for it (e.g. to use `backend: 'poll'` on Linux x64).
// Inside the socketpoll workspace it does nothing: the workspace build (turbo) builds the addon.
//
// Node's headers come from the running Node's own install (<prefix>/include/node, found from
// process.execPath) when it has them, so node-gyp downloads nothing. A failed build leaves the
// package installed without socketpoll.node and prints the command that builds it; the install
// only fails when the build was asked for explicitly (SOCKETPOLL_BUILD_FROM_SOURCE=1).
//
// Usage: node install.js            (what npm/pnpm run)
//        node install.js --force    (build even where a prebuilt fits; same as the env var)
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PACKAGE = '@socketpoll/poll-fallback';
const TARGET = 'socketpoll_poll';
const here = __dirname;
const forced = process.env.SOCKETPOLL_BUILD_FROM_SOURCE === '1' || process.argv.includes('--force');

/** The commands that build this package, for messages. */
function buildCommands() {
  return [
    `SOCKETPOLL_BUILD_FROM_SOURCE=1 npm rebuild ${PACKAGE}`,
    `with pnpm: SOCKETPOLL_BUILD_FROM_SOURCE=1 pnpm rebuild ${PACKAGE} (not approved yet: SOCKETPOLL_BUILD_FROM_SOURCE=1 pnpm approve-builds)`,
    `or directly: cd ${JSON.stringify(here)} && node install.js --force`,
  ].join('\n  ');
}

/** Inside the monorepo: the sources are in ../native and this folder is not under node_modules. */
function inWorkspace() {
  return (
    !fs.existsSync(path.join(here, 'native')) &&
    fs.existsSync(path.join(here, '..', 'native', 'gyp', 'binding.gyp')) &&
    !here.split(path.sep).includes('node_modules')
  );
}

function libc() {
  if (process.platform !== 'linux') return undefined;
  const report = process.report && process.report.getReport();
  return report && report.header && report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The prebuilt package that covers this machine, from the same table the core loader uses. */
function prebuiltPackage() {
  let table;
  try {
    table = JSON.parse(fs.readFileSync(path.join(here, 'platforms.json'), 'utf8'));
  } catch {
    return undefined; // no table: assume nothing covers us, so build
  }
  const mine = libc();
  const row = table.find(
    (p) => p.platform === process.platform && p.arch === process.arch && (p.libc === undefined || p.libc === mine),
  );
  return row && row.packageName;
}

/** node-gyp: the one resolvable from here, else npm's bundled copy, else `node-gyp` on PATH. */
function nodeGypCommand(nativeDir) {
  let file;
  try {
    file = require(path.join(nativeDir, 'scripts', 'node-gyp-env.js')).nodeGypBin();
  } catch {
    file = undefined;
  }
  if (file && fs.existsSync(file)) return [process.execPath, file];
  return ['node-gyp'];
}

function nodeGypEnv(nativeDir) {
  try {
    return require(path.join(nativeDir, 'scripts', 'node-gyp-env.js')).nodeGypEnv();
  } catch {
    return { ...process.env };
  }
}

function run(cmd, args, env) {
  console.log(`poll-fallback: ${[...cmd, ...args].join(' ')}`);
  const result = spawnSync(cmd[0], [...cmd.slice(1), ...args], { stdio: 'inherit', env });
  if (result.error) return result.error.message;
  if (result.status !== 0) return `exit code ${result.status}`;
  return null;
}

function fail(why) {
  console.error(
    `\npoll-fallback: could not build ${PACKAGE} (${why}).\n` +
      `It needs python3, make and a C/C++ compiler. Build it with:\n  ${buildCommands()}\n`,
  );
  process.exit(forced ? 1 : 0); // as an optional dependency, stay installed so the loader can say why
}

function main() {
  if (inWorkspace() && !forced) return; // the workspace build makes socketpoll.node
  if (!forced) {
    const prebuilt = prebuiltPackage();
    if (prebuilt) return; // covered by a prebuilt package; build on request only
  }
  if (process.platform === 'win32') fail('poll() is POSIX; Windows is not supported');
  const nativeDir = fs.existsSync(path.join(here, 'native')) ? path.join(here, 'native') : path.join(here, '..', 'native');
  const gypDir = path.join(nativeDir, 'gyp');
  if (!fs.existsSync(path.join(gypDir, 'binding.gyp'))) fail(`no sources: ${gypDir}/binding.gyp is missing`);
  const env = nodeGypEnv(nativeDir);
  if (!env.npm_config_nodedir) {
    console.warn(
      `poll-fallback: no Node headers next to ${process.execPath} (<prefix>/include/node/node_api.h); ` +
        'node-gyp will fetch them unless npm_config_nodedir points at a Node source or headers tree',
    );
  }
  const gyp = nodeGypCommand(nativeDir);
  // Configure everything, build only our target (the gyp file also lists other backends' and
  // test-only targets whose sources this package does not ship).
  const why =
    run(gyp, ['configure', `--directory=${gypDir}`], env) ||
    run(gyp, ['build', `--directory=${gypDir}`, '--jobs=2', TARGET], env);
  if (why) fail(`node-gyp failed: ${why}`);
  const built = path.join(gypDir, 'build', 'Release', `${TARGET}.node`);
  if (!fs.existsSync(built)) fail(`node-gyp produced no ${built}`);
  require(path.join(nativeDir, 'scripts', 'replace-file.js')).replaceFile(built, path.join(here, 'socketpoll.node'));
  console.log(`poll-fallback: built ${path.join(here, 'socketpoll.node')}`);
}

main();
