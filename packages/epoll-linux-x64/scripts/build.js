#!/usr/bin/env node
'use strict';
// Builds socketpoll.node, the epoll backend for Linux x64 with glibc.
//
// On Linux x64 (CI, releases, development): compiles with Zig 0.11 for x86_64-linux-gnu.2.17 through
// the shared packages/native/scripts/zig-addon.js (the binding sources and SocketPoll_common.c that
// node-gyp compiles for every backend, plus SocketPoll_epoll.c; node-addon-api, node-api-headers,
// the running Node's uv.h; libc++ linked statically with hidden visibility; deterministic). Zig
// links against stubs of glibc 2.17's symbol versions, so the binary loads on any glibc >= 2.17
// (RHEL/CentOS 7, Ubuntu 14.04, Debian 8 and later) whatever the building machine runs, and needs
// no libstdc++ at all. What is ELF specific stays here: a version script exports the Node-API entry
// points and makes every other symbol local (the statically linked libc++, compiler-rt, ...);
// napi_* and uv_* stay undefined, resolved in the node process at load time.
// scripts/verify.js checks all of that on the output.
//
// Elsewhere: on Linux on another CPU there is no x64 binary to make (the Zig package runs on x64
// only), so for local development the package takes the addon node-gyp built natively in
// packages/native (target socketpoll_epoll) — not a release artefact. On other systems there is
// no epoll: nothing to build.
//
// Usage: node scripts/build.js [--out <file>]   (default: socketpoll.node next to package.json)
const fs = require('node:fs');
const path = require('node:path');
const { replaceFile } = require('../../native/scripts/replace-file');
const { compileAddon, ZigAddonError } = require('../../native/scripts/zig-addon');

const pkgDir = path.resolve(__dirname, '..');
const nativeDir = path.resolve(pkgDir, '..', 'native');
const TARGET = 'x86_64-linux-gnu.2.17';
// The Node-API entry points: the only symbols the addon exports (scripts/verify.js uses this list).
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];

function fail(message) {
  console.error(`epoll-linux-x64 build: ${message}`);
  process.exit(1);
}

function outFile() {
  const i = process.argv.indexOf('--out');
  return i >= 0 ? path.resolve(process.argv[i + 1]) : path.join(pkgDir, 'socketpoll.node');
}

/** An anonymous version script: the entry points global, everything else local. */
function versionScript() {
  return `{\n  global:\n${ENTRY_POINTS.map((s) => `    ${s};\n`).join('')}  local:\n    *;\n};\n`;
}

function crossCompile(out) {
  const buildDir = path.join(pkgDir, 'build');
  fs.mkdirSync(buildDir, { recursive: true });
  const map = path.join(buildDir, 'exports.map');
  fs.writeFileSync(map, versionScript());
  let linked;
  try {
    linked = compileAddon({
      pkgDir,
      target: TARGET,
      backendSource: 'src/poll/SocketPoll_epoll.c',
      extraLinkFlags: [`-Wl,--version-script=${map}`, '-Wl,--build-id=none', '-Wl,-soname,socketpoll.node'],
    });
  } catch (e) {
    if (e instanceof ZigAddonError) fail(e.message);
    throw e;
  }
  replaceFile(linked, out);
}

function copyNativeBuild(out) {
  const built = path.join(nativeDir, 'gyp', 'build', 'Release', 'socketpoll_epoll.node');
  if (!fs.existsSync(built)) fail(`${built} is missing: build packages/native first (pnpm build runs it)`);
  replaceFile(built, out);
  console.log(`epoll-linux-x64: copied the local node-gyp build (${process.arch}; not the release artefact)`);
}

if (require.main === module) {
  const out = outFile();
  if (process.platform === 'linux' && process.arch === 'x64') crossCompile(out);
  else if (process.platform === 'linux') copyNativeBuild(out);
  else {
    console.log(`epoll-linux-x64: nothing to build on ${process.platform} (no epoll; the binary is built on linux-x64)`);
    process.exit(0);
  }
  console.log(`epoll-linux-x64: ${path.relative(process.cwd(), out) || out}`);
}

module.exports = { ENTRY_POINTS, TARGET };
