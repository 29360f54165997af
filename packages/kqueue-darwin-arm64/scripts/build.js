#!/usr/bin/env node
'use strict';
// Builds socketpoll.node, the kqueue backend for macOS arm64.
//
// On Linux x64 (CI, releases): cross-compiles with Zig 0.11 for aarch64-macos.11.0 through the
// shared packages/native/scripts/zig-addon.js (the binding sources and SocketPoll_common.c that
// node-gyp compiles for every backend, plus SocketPoll_kqueue.c; node-addon-api, node-api-headers,
// the running Node's uv.h; libc++ linked statically with hidden visibility; deterministic). What is
// Mach-O specific stays here: link -shared -undefined dynamic_lookup (napi_* and uv_* are resolved
// in the node process at load time), then the exports trie is trimmed to the Node-API entry points
// and the ad-hoc signature re-hashed. The same sources give the same bytes (checked by
// scripts/verify.js --reproducible in CI).
//
// On macOS: there is nothing to cross-compile; the package takes the addon node-gyp built natively
// in packages/native (target socketpoll_kqueue), so `pnpm build && pnpm test` on a Mac runs the
// whole suite against the real kqueue.
//
// Usage: node scripts/build.js [--out <file>]   (default: socketpoll.node next to package.json)
const fs = require('node:fs');
const path = require('node:path');
const { replaceFile } = require('../../native/scripts/replace-file');
const { compileAddon, ZigAddonError } = require('../../native/scripts/zig-addon');
const macho = require('./macho');

const pkgDir = path.resolve(__dirname, '..');
const nativeDir = path.resolve(pkgDir, '..', 'native');
const TARGET = 'aarch64-macos.11.0';

function fail(message) {
  console.error(`kqueue-darwin-arm64 build: ${message}`);
  process.exit(1);
}

function outFile() {
  const i = process.argv.indexOf('--out');
  return i >= 0 ? path.resolve(process.argv[i + 1]) : path.join(pkgDir, 'socketpoll.node');
}

function crossCompile(out) {
  let tmp;
  try {
    tmp = compileAddon({
      pkgDir,
      target: TARGET,
      backendSource: 'src/poll/SocketPoll_kqueue.c',
      extraLinkFlags: ['-undefined', 'dynamic_lookup', '-Wl,-install_name,@rpath/socketpoll.node'],
    });
  } catch (e) {
    if (e instanceof ZigAddonError) fail(e.message);
    throw e;
  }
  exportEntryPointsOnly(tmp);
  replaceFile(tmp, out);
}

// The Node-API entry points: the only symbols the addon exports.
const ENTRY_POINTS = ['_napi_register_module_v1', '_node_api_module_get_api_version_v1'];
const MH_WEAK_DEFINES = 0x8000;
const MH_BINDS_TO_WEAK = 0x10000;

// Zig 0.11's Mach-O linker writes every global symbol into the exports trie: the private externs
// of -fvisibility=hidden (SocketPoll_*, the statically linked libc++) although its own symbol table
// marks them N_PEXT, and the default-visibility runtime it links in (compiler-rt's __divti3,
// memcpy, sin..., operator new/delete). dyld looks symbols up in that trie, so all of them would be
// exported, and Zig 0.11 refuses -exported_symbols_list. So the trie is rewritten, in place, with
// the Node-API entry points only. Safe because nothing binds to this image's own exports: the
// header has neither MH_WEAK_DEFINES nor MH_BINDS_TO_WEAK (checked), and every bind is to libSystem
// or flat-namespace (napi_*, uv_*: scripts/verify.js checks). Then the ad-hoc signature's hashes of
// the pages that changed are recomputed. Before touching anything, the linker's own signature must
// check out with our hashing (proves the format is read right); afterwards the file is parsed again.
function exportEntryPointsOnly(file) {
  const buf = fs.readFileSync(file);
  const m = macho.parse(buf);
  const linked = macho.checkSignature(buf, m);
  if (!linked.present || linked.error || linked.badPages.length) {
    fail(`unexpected code signature from the linker: ${linked.error || `pages ${linked.badPages}`}`);
  }
  if (m.flags & (MH_WEAK_DEFINES | MH_BINDS_TO_WEAK)) fail('the image uses weak binding: its exports cannot be trimmed');
  const keep = new Map([...m.exports].filter(([name]) => ENTRY_POINTS.includes(name)));
  if (!keep.has('_napi_register_module_v1')) fail('napi_register_module_v1 is not exported');
  for (const [name, info] of keep) {
    if (info.address === undefined || info.resolver !== undefined) fail(`export ${name}: unexpected kind ${info.flags}`);
  }
  if (keep.size === m.exports.size) return;
  const trie = macho.buildTrie(keep);
  const size = (trie.length + 7) & ~7;
  if (size > m.exportsTrie.size) fail('the rewritten exports trie does not fit');
  buf.fill(0, m.exportsTrie.off, m.exportsTrie.off + m.exportsTrie.size);
  trie.copy(buf, m.exportsTrie.off);
  buf.writeUInt32LE(size, m.exportsTrie.sizeField);
  macho.resign(buf, macho.parse(buf));
  const after = macho.parse(buf);
  const sig = macho.checkSignature(buf, after);
  if ([...after.exports.keys()].sort().join() !== [...keep.keys()].sort().join() || sig.error || sig.badPages.length) {
    fail('the rewritten binary does not read back as written');
  }
  fs.writeFileSync(file, buf);
  console.log(`kqueue-darwin-arm64: exports trie trimmed from ${m.exports.size} to ${[...keep.keys()].join(', ')}`);
}

function copyNativeBuild(out) {
  const built = path.join(nativeDir, 'gyp', 'build', 'Release', 'socketpoll_kqueue.node');
  if (!fs.existsSync(built)) fail(`${built} is missing: build packages/native first (pnpm build runs it)`);
  replaceFile(built, out);
}

const out = outFile();
if (process.platform === 'linux' && process.arch === 'x64') crossCompile(out);
else if (process.platform === 'darwin' && process.arch === 'arm64') copyNativeBuild(out);
else fail(`cannot build the darwin-arm64 binary on ${process.platform}-${process.arch} ` +
  '(cross-compiled on linux-x64, or built natively on darwin-arm64)');
console.log(`kqueue-darwin-arm64: ${path.relative(process.cwd(), out) || out}`);
