/**
 * Finds the compiled backend for this machine, at load time, from the platform table:
 * 1. an explicit choice (`new SocketPoll({ backend })` or `SOCKETPOLL_BACKEND`) narrows what follows
 *    to that backend, else
 * 2. the prebuilt package for `platform-arch[-libc]`, else
 * 3. the source build (`@socketpoll/poll-fallback`, compiled on install): the platform's own
 *    mechanism first (epoll, kqueue), then poll.
 * On failure it throws one {@link BackendLoadError} naming what was tried and how to fix it.
 * @module
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { type BackendAttempt, BackendLoadError, InvalidArgValueError } from './errors';
import type { BackendName } from './flags';
import { PLATFORM_PACKAGES, type PrebuiltPackage, SOURCE_PACKAGE, UNSUPPORTED_PLATFORMS } from './platforms';
import { currentLibc, runtimeLabel } from './runtime';

/** @internal The addon's JS surface (packages/native/src/binding/binding.cc). */
export interface NativePoller {
  add(fd: number, events: number, token: number): number;
  mod(fd: number, events: number, token: number): number;
  del(fd: number): number;
  wait(timeoutMs: number): number;
  wakeup(): number;
  /** `scheduleResume`: after a batch on the helper-thread path; call `resume(ticket)` on the next loop turn. */
  start(onBatch: (count: number) => void, useUvPoll: boolean, scheduleResume: (ticket: number) => void): number;
  resume(ticket: number): void;
  stop(): void;
  ref(): void;
  unref(): void;
  close(): void;
  backendName(): string;
  supportedModes(): number;
  supportedSources(): number;
  addTimer(ms: number, repeat: boolean, token: number): number;
  addProcess(pid: number, token: number): number;
  fd(): number;
  id(): number;
  wakeups(): number;
  failedCall(): string;
}

/** @internal */
export interface NativeAddon {
  /** syncCleanup: a synchronous environment cleanup hook instead of an async one (Deno). */
  Poller: new (maxEvents: number, buffer: Int32Array, syncCleanup?: boolean) => NativePoller;
  wakeupById(id: number): number;
  readEach(fds: Int32Array, buffer: Uint8Array, chunkSize: number, results: Int32Array): void;
  writeEach(fds: Int32Array, buffer: Uint8Array, chunkSize: number, lengths: Int32Array, results: Int32Array): void;
  fdStatus(fd: number, out: Int32Array): number;
  setNonBlocking(fd: number, on: boolean): number;
  readInto(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  writeFrom(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  writeChunks(fd: number, chunks: Uint8Array[], firstOffset: number): number;
  shutdownWrite(fd: number): number;
  /** poll(2) of one fd now, for `events`' POLL_READ / POLL_WRITE: POLL_* bits, or -errno. */
  readyNow(fd: number, events: number): number;
  constants: Record<string, number>;
  uvPollAvailable?: boolean;
}

/** A loaded backend: the addon and where it came from. */
export interface LoadedBackend {
  /** Which mechanism the addon implements. */
  readonly name: BackendName;
  /** Absolute path of the `.node` file. */
  readonly addonPath: string;
  /** npm package it was loaded from (undefined for an explicit `addonPath`). */
  readonly packageName?: string;
  /** @internal */
  readonly addon: NativeAddon;
}

const BACKENDS: readonly BackendName[] = ['epoll', 'kqueue', 'poll'];
// The module's own `require` (in a bundle: the bundle's). `createRequire(__filename)` would be the
// same here, but `__filename` is undefined when a bundler puts this code in an ES module.
const requireHere: NodeJS.Require = require;
const byPath = new Map<string, LoadedBackend>();

/** @internal `linux-x64-glibc`, `darwin-arm64`, … */
export function platformKey(): string {
  return keyOf({ platform: process.platform, arch: process.arch, libc: currentLibc() });
}

/** `platform-arch[-libc]` of a machine or a row of the platform table. */
function keyOf(machine: { platform: string; arch: string; libc?: string }): string {
  return `${machine.platform}-${machine.arch}${machine.libc ? `-${machine.libc}` : ''}`;
}

/** The prebuilt package that fits this machine, if any. */
export function platformPackage(): PrebuiltPackage | undefined {
  const libc = currentLibc();
  return PLATFORM_PACKAGES.find(
    (p) => p.platform === process.platform && p.arch === process.arch && (p.libc === undefined || p.libc === libc),
  );
}

function loadAddonFile(addonPath: string, packageName?: string): LoadedBackend {
  const resolved = path.resolve(addonPath);
  const cached = byPath.get(resolved);
  if (cached) return cached;
  const addon = requireHere(resolved) as NativeAddon;
  const probe = new addon.Poller(1, new Int32Array(3));
  const name = probe.backendName() as BackendName;
  probe.close();
  const loaded: LoadedBackend = { name, addonPath: resolved, packageName, addon };
  byPath.set(resolved, loaded);
  return loaded;
}

/** Where a package is installed (its folder), or undefined. */
function installedDir(packageName: string, from: NodeJS.Require = requireHere): string | undefined {
  try {
    return path.dirname(from.resolve(`${packageName}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * The source package's folder: core's optional dependency, or installed by the application (found
 * from the working directory or the main module).
 */
function sourcePackageDir(): string | undefined {
  const direct = installedDir(SOURCE_PACKAGE.packageName);
  if (direct) return direct;
  for (const base of [process.cwd(), require.main?.filename].filter((b): b is string => Boolean(b))) {
    const dir = installedDir(SOURCE_PACKAGE.packageName, createRequire(path.resolve(base, 'noop.js')));
    if (dir) return dir;
  }
  return undefined;
}

/** A package manager whose commands the loader's advice gives. */
export type PackageManager = 'npm' | 'pnpm' | 'yarn';

/** What each package manager leaves in a project, strongest evidence first (its node_modules state, then its lockfile). */
const MANAGER_FILES: readonly (readonly [string, PackageManager])[] = [
  ['node_modules/.modules.yaml', 'pnpm'],
  ['node_modules/.yarn-integrity', 'yarn'],
  ['node_modules/.package-lock.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** The project folder a path inside its node_modules belongs to (the part before the first `node_modules`). */
function projectOf(file: string): string | undefined {
  const parts = path.resolve(file).split(path.sep);
  const at = parts.indexOf('node_modules');
  return at > 0 ? parts.slice(0, at).join(path.sep) || path.sep : undefined;
}

/** Where to look for the project's package manager: the project holding core, then the working directory. */
function projectStarts(): string[] {
  let core: string | undefined;
  try {
    core = projectOf(fs.realpathSync(requireHere.resolve('@socketpoll/core/package.json')));
  } catch {
    // bundled, or core not resolvable by its name from here
  }
  return [core, process.cwd()].filter((d): d is string => Boolean(d));
}

/**
 * @internal The package manager that installed the project: found from the files it leaves
 * (`node_modules/.modules.yaml`, `.yarn-integrity`, `.package-lock.json`, then `pnpm-lock.yaml`,
 * `yarn.lock`, `package-lock.json`) in the project that holds core, then in the working directory
 * and the folders above each (a workspace keeps its lockfile at its root). npm when none is found.
 */
export function detectPackageManager(starts: readonly string[] = projectStarts()): PackageManager {
  for (const start of starts) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      for (const [file, manager] of MANAGER_FILES) if (fs.existsSync(path.join(dir, file))) return manager;
      if (path.dirname(dir) === dir) break;
    }
  }
  return 'npm';
}

/** The commands of the loader's advice, per package manager. */
const COMMANDS: Record<PackageManager, { reinstallOptional: string; add: string; rebuild: string; approve?: string }> = {
  npm: {
    reinstallOptional: 'reinstall without --omit=optional (`npm install --include=optional`)',
    add: `npm install ${SOURCE_PACKAGE.packageName}`,
    rebuild: `npm rebuild ${SOURCE_PACKAGE.packageName}`,
  },
  pnpm: {
    reinstallOptional: 'reinstall without --no-optional (`pnpm install`)',
    add: `pnpm add --allow-build=${SOURCE_PACKAGE.packageName} ${SOURCE_PACKAGE.packageName}`,
    rebuild: `pnpm rebuild ${SOURCE_PACKAGE.packageName}`,
    approve: 'pnpm approve-builds',
  },
  yarn: {
    reinstallOptional: 'reinstall without --ignore-optional (`yarn install --force`)',
    add: `yarn add ${SOURCE_PACKAGE.packageName}`,
    rebuild: 'yarn install --force',
  },
};

/** The first line of an error, for messages. */
const firstLine = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0] : String(err));

/** Why a prebuilt package failed to load, in words that say what to do. */
function diagnosePrebuilt(row: PrebuiltPackage, err: unknown): string {
  const own = row === platformPackage();
  if (!installedDir(row.packageName) && !installedDir('@socketpoll/core')) {
    // Not even this package can be found from here: this code was bundled and moved away from
    // node_modules, so nothing was omitted at install.
    return (
      `not found from ${requireHere.resolve.paths(row.packageName)?.[0] ?? 'here'} (no node_modules/@socketpoll/* there: bundled? ` +
      `Mark @socketpoll/core external in the bundler, e.g. esbuild --external:@socketpoll/core, and install it where the bundle runs)`
    );
  }
  if (!installedDir(row.packageName)) {
    return own
      ? `not installed (optional dependencies skipped? ${COMMANDS[detectPackageManager()].reinstallOptional})`
      : `not installed (it is for ${keyOf(row)}, not this machine)`;
  }
  if (!own) return `installed but it is for ${keyOf(row)}: reinstall on this machine (${firstLine(err)})`;
  const symbol = missingSymbol(firstLine(err));
  if (symbol !== undefined) {
    return (
      `installed but cannot load in ${runtimeLabel()}: it needs the symbol ${symbol}, which this runtime ` +
      `does not provide (${firstLine(err)}). Use a Node-API runtime that has it, or the poll backend`
    );
  }
  return `installed but failed to load in ${runtimeLabel()} (${firstLine(err)}): installed for another platform? Reinstall on this machine`;
}

/**
 * The symbol a dlopen error says is missing: glibc `undefined symbol: x`, musl
 * `Error relocating f.node: x: symbol not found`, macOS `Symbol not found: _x`.
 */
function missingSymbol(message: string): string | undefined {
  const m = /undefined symbol: ([\w@.$]+)|: ([\w$]+): symbol not found|Symbol not found: _?([\w$]+)/.exec(message);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

/** Why the source build is not there, from the log its install left behind, with the commands of the project's package manager. */
function diagnoseSource(dir: string | undefined): string {
  const manager = detectPackageManager();
  const commands = COMMANDS[manager];
  const tools = 'it needs python3, make and a C/C++ compiler';
  if (!dir) return `not installed: install it with \`${commands.add}\` (it compiles on install; ${tools})`;
  let log = '';
  try {
    log = fs.readFileSync(path.join(dir, 'build-error.log'), 'utf8').split('\n')[0];
  } catch {
    // no failed build recorded
  }
  if (log) return `the build on install failed: ${log} (see ${path.join(dir, 'build-error.log')}); fix that, then run \`${commands.rebuild}\``;
  let skipped = '';
  try {
    skipped = fs.readFileSync(path.join(dir, 'build-skipped.log'), 'utf8').split('\n')[0];
  } catch {
    // its install script did not decide to skip (or did not run)
  }
  const own = platformPackage();
  if (skipped || (own && installedDir(own.packageName) && !projectListsSource())) {
    // Its install script built nothing (or would build nothing) because this machine's prebuilt
    // was installed beside it: it builds for a project that depends on it.
    return (
      `installed but not built${skipped ? ` (${skipped})` : ''}: it compiles on install only where no prebuilt package fits, or when your ` +
      `project depends on it. Add it to your dependencies and build it: \`${commands.add}\`, then \`${commands.rebuild}\` (${tools})`
    );
  }
  const run = commands.approve
    ? `\`${commands.approve}\` (select ${SOURCE_PACKAGE.packageName}; approving builds it), later rebuilds \`${commands.rebuild}\``
    : `\`${commands.rebuild}\``;
  return `installed but not built (install scripts skipped?): run ${run}; ${tools}`;
}

/** Whether the package.json of the project that holds core lists the source package. */
function projectListsSource(): boolean {
  for (const dir of projectStarts()) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      return ['dependencies', 'devDependencies', 'optionalDependencies'].some((f) => pkg[f]?.[SOURCE_PACKAGE.packageName] !== undefined);
    } catch {
      // no package.json there: look in the next place
    }
  }
  return false;
}

/** The backends the source build made, best first (its install writes built.json), or undefined. */
function sourceBuilt(dir: string): BackendName[] | undefined {
  try {
    const built: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'built.json'), 'utf8'));
    return Array.isArray(built) ? built.filter((b): b is BackendName => (BACKENDS as readonly unknown[]).includes(b)) : undefined;
  } catch {
    return undefined;
  }
}

function loadPackage(packageName: string): LoadedBackend {
  const pkgJson = requireHere.resolve(`${packageName}/package.json`);
  const main = (requireHere(pkgJson) as { main?: string }).main ?? 'socketpoll.node';
  return loadAddonFile(path.join(path.dirname(pkgJson), main), packageName);
}

/** One place a backend can come from, tried in order. */
interface Candidate {
  readonly packageName: string;
  load(): LoadedBackend;
  diagnose(err: unknown): string;
}

/** Where the wanted backend (or the best one) can come from, in order; computed as it is tried. */
function* candidates(wanted: BackendName | undefined): Generator<Candidate> {
  const own = platformPackage();
  const prebuilt = own && (wanted === undefined || own.backend === wanted) ? [own] : [];
  // Asked for a backend this machine has no prebuilt of: name the packages that have it, so the
  // message says which machines they are for.
  if (wanted !== undefined && wanted !== 'poll' && prebuilt.length === 0) prebuilt.push(...PLATFORM_PACKAGES.filter((p) => p.backend === wanted));
  for (const row of prebuilt) {
    yield { packageName: row.packageName, load: () => loadPackage(row.packageName), diagnose: (err) => diagnosePrebuilt(row, err) };
  }
  const dir = sourcePackageDir();
  const built = dir ? sourceBuilt(dir) : undefined;
  if (!dir || !built) {
    yield {
      packageName: SOURCE_PACKAGE.packageName,
      load: () => {
        throw new Error('not built');
      },
      diagnose: () => diagnoseSource(dir),
    };
    return;
  }
  for (const backend of built.filter((b) => wanted === undefined || b === wanted)) {
    yield {
      packageName: `${SOURCE_PACKAGE.packageName} (${backend})`,
      load: () => loadAddonFile(path.join(dir, `socketpoll_${backend}.node`), SOURCE_PACKAGE.packageName),
      diagnose: (err) => `built but failed to load (${firstLine(err)})`,
    };
  }
}

/** @internal checks a backend name from an option or the environment. */
export function checkBackendName(value: unknown, source: string): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && (BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new InvalidArgValueError(source, value, `must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}`);
}

/**
 * Loads a backend: `options.addonPath` (a `.node` file you built yourself), else the named
 * backend, else `SOCKETPOLL_BACKEND`, else the best one for this machine. Loaded addons are cached.
 *
 * ```ts
 * const { name, packageName } = loadBackend();   // 'epoll', '@socketpoll/epoll-linux-x64' on Linux x64
 * ```
 * @throws {@link BackendLoadError} when nothing could be loaded.
 */
export function loadBackend(options: { backend?: BackendName; addonPath?: string } = {}): LoadedBackend {
  if (options.addonPath !== undefined) return loadAddonFile(options.addonPath);
  const wanted =
    checkBackendName(options.backend, 'backend') ??
    checkBackendName(process.env.SOCKETPOLL_BACKEND, 'SOCKETPOLL_BACKEND');
  const what = wanted ? `the '${wanted}' backend` : 'a backend';
  if (UNSUPPORTED_PLATFORMS.includes(process.platform)) {
    const supported = [...new Set(PLATFORM_PACKAGES.map(keyOf))];
    throw new BackendLoadError(
      `@socketpoll/core could not load ${what}: ${process.platform} is not supported. Windows has no readiness ` +
        'API for arbitrary file descriptors (no epoll, kqueue or poll over any fd; its sockets-only APIs are ' +
        `what Node's own net module uses). Supported: ${supported.join(', ')} (prebuilt), and other Linux, ` +
        'macOS and BSD machines through the source build. On Windows, use WSL 2 (Linux).',
      [],
    );
  }
  const attempts: BackendAttempt[] = [];
  for (const candidate of candidates(wanted)) {
    try {
      return candidate.load();
    } catch (err) {
      attempts.push({ packageName: candidate.packageName, reason: candidate.diagnose(err) });
    }
  }
  const lines = attempts.map((a) => `  - ${a.packageName}: ${a.reason}`);
  if (attempts.length === 0) lines.push(`  - no package provides '${wanted}' on ${process.platform}`);
  throw new BackendLoadError(
    `@socketpoll/core could not load ${what} for ${platformKey()}. Tried:\n${lines.join('\n')}`,
    attempts,
  );
}

/** The real path of a file, or undefined when there is none. */
function realFile(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

/** Every addon file the loader itself would load on this machine: the backend packages' and the source build's. */
function packagedAddonFiles(): string[] {
  const files: string[] = [];
  for (const row of PLATFORM_PACKAGES) {
    const dir = installedDir(row.packageName);
    if (dir) files.push(path.join(dir, 'socketpoll.node'));
  }
  const source = sourcePackageDir();
  if (source) for (const backend of BACKENDS) files.push(path.join(source, `socketpoll_${backend}.node`));
  return files;
}

/** Linux: the files mapped into this process (by any thread), from /proc/self/maps. */
function mappedFiles(): Set<string> {
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    return new Set(maps.split('\n').map((line) => line.replace(/^(\S+\s+){5}/, '').trim()).filter((f) => f.startsWith('/')));
  } catch {
    return new Set(); // not Linux, or no procfs
  }
}

/**
 * @internal Whether `addonPath` names a socketpoll addon that may be loaded on behalf of data that
 * came from elsewhere (a wakeup handle): one this thread loaded, a backend package's or the source
 * build's file as the loader resolves it, or (Linux) one any thread of this process has loaded.
 * Loads nothing.
 */
export function isKnownAddon(addonPath: string): boolean {
  if (!path.isAbsolute(addonPath)) return false;
  const real = realFile(addonPath);
  if (real === undefined || !real.endsWith('.node')) return false;
  if (byPath.has(path.resolve(addonPath)) || [...byPath.keys()].some((loaded) => realFile(loaded) === real)) return true;
  if (packagedAddonFiles().some((file) => realFile(file) === real)) return true;
  return mappedFiles().has(real);
}

/**
 * The backends that load on this machine, in order of preference, e.g. `['epoll', 'poll']`.
 */
export function availableBackends(): BackendName[] {
  const found: BackendName[] = [];
  for (const name of BACKENDS) {
    try {
      found.push(loadBackend({ backend: name }).name);
    } catch {
      // not available here
    }
  }
  return found;
}
