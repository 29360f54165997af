/**
 * Finds the compiled backend for this machine, at load time, from the platform table:
 * 1. an explicit choice (`new SocketPoll({ backend })` or `SOCKETPOLL_BACKEND`), else
 * 2. the prebuilt package for `platform-arch[-libc]`, else
 * 3. `@socketpoll/poll-fallback` (built from source on install).
 * On failure it throws one {@link BackendLoadError} naming what was tried and how to fix it.
 * @module
 */
import * as path from 'node:path';
import { type BackendAttempt, BackendLoadError, InvalidArgValueError } from './errors';
import type { BackendName } from './flags';
import { FALLBACK_PACKAGE, PLATFORM_PACKAGES, type PlatformPackage } from './platforms';
import { currentLibc, runtimeLabel } from './runtime';

/** @internal The addon's JS surface (packages/native/src/binding/binding.cc). */
export interface NativePoller {
  add(fd: number, events: number, token: number): number;
  mod(fd: number, events: number, token: number): number;
  del(fd: number): number;
  wait(timeoutMs: number): number;
  wakeup(): number;
  start(onBatch: (count: number) => void, useUvPoll: boolean): number;
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
  count(): number;
  id(): number;
  delivery(): '' | 'uvpoll' | 'thread';
  wakeups(): number;
}

/** @internal */
export interface NativeAddon {
  Poller: new (maxEvents: number, buffer: Int32Array) => NativePoller;
  wakeupById(id: number): number;
  readEach(fds: Int32Array, buffer: Uint8Array, chunkSize: number, results: Int32Array): void;
  writeEach(fds: Int32Array, buffer: Uint8Array, chunkSize: number, lengths: Int32Array, results: Int32Array): void;
  fdStatus(fd: number, out: Int32Array): number;
  setNonBlocking(fd: number, on: boolean): number;
  readInto(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  writeFrom(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  writeChunks(fd: number, chunks: Uint8Array[], firstOffset: number): number;
  shutdownWrite(fd: number): number;
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
  const libc = currentLibc();
  return `${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}

/** The prebuilt package that fits this machine, if any. */
export function platformPackage(): PlatformPackage | undefined {
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

function resolvable(request: string): boolean {
  try {
    requireHere.resolve(request);
    return true;
  } catch {
    return false;
  }
}

/** Why a package failed to load, in words that say what to do. */
function diagnose(packageName: string, err: unknown): string {
  const installed = resolvable(`${packageName}/package.json`);
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (!installed && !resolvable('@socketpoll/core/package.json')) {
    // Not even this package can be found from here: this code was bundled and moved away from
    // node_modules, so nothing was omitted at install.
    return (
      `not found from ${requireHere.resolve.paths(packageName)?.[0] ?? 'here'} (no node_modules/@socketpoll/* there: bundled? ` +
      `Mark @socketpoll/core external in the bundler, e.g. esbuild --external:@socketpoll/core, and install it where the bundle runs)`
    );
  }
  if (!installed) {
    return `not installed (optional dependencies skipped? reinstall without --omit=optional / --no-optional)`;
  }
  if (packageName === FALLBACK_PACKAGE.packageName) {
    // Its install script builds only where no prebuilt fits, unless asked: always ask here.
    return (
      `installed but not built (${detail}). Build it with ` +
      `\`SOCKETPOLL_BUILD_FROM_SOURCE=1 npm rebuild ${packageName}\`, or with pnpm ` +
      `\`SOCKETPOLL_BUILD_FROM_SOURCE=1 pnpm approve-builds\` (select ${packageName}); ` +
      `it needs python3, make and a C++ compiler`
    );
  }
  const symbol = missingSymbol(detail);
  if (symbol !== undefined) {
    return (
      `installed but cannot load in ${runtimeLabel()}: it needs the symbol ${symbol}, which this runtime ` +
      `does not provide (${detail}). Use a Node-API runtime that has it, or the poll backend`
    );
  }
  return `installed but failed to load in ${runtimeLabel()} (${detail}): installed for another platform? Reinstall on this machine`;
}

/**
 * The symbol a dlopen error says is missing: glibc `undefined symbol: x`, musl
 * `Error relocating f.node: x: symbol not found`, macOS `Symbol not found: _x`.
 */
function missingSymbol(message: string): string | undefined {
  const m = /undefined symbol: ([\w@.$]+)|: ([\w$]+): symbol not found|Symbol not found: _?([\w$]+)/.exec(message);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function loadPackage(packageName: string): LoadedBackend {
  const pkgJson = requireHere.resolve(`${packageName}/package.json`);
  const main = (requireHere(pkgJson) as { main?: string }).main ?? 'socketpoll.node';
  return loadAddonFile(path.join(path.dirname(pkgJson), main), packageName);
}

function packagesFor(name: BackendName | undefined): string[] {
  const own = platformPackage();
  if (name === undefined) return [...(own ? [own.packageName] : []), FALLBACK_PACKAGE.packageName];
  if (name === 'poll') return [FALLBACK_PACKAGE.packageName];
  const rows = PLATFORM_PACKAGES.filter((p) => p.backend === name);
  // The row for this machine first; another platform's package cannot load here, but trying it
  // gives the user an accurate message.
  rows.sort((a, b) => (a === own ? -1 : b === own ? 1 : 0));
  return rows.map((p) => p.packageName);
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
  const attempts: BackendAttempt[] = [];
  for (const packageName of packagesFor(wanted)) {
    try {
      return loadPackage(packageName);
    } catch (err) {
      attempts.push({ packageName, reason: diagnose(packageName, err) });
    }
  }
  const what = wanted ? `the '${wanted}' backend` : 'a backend';
  const lines = attempts.map((a) => `  - ${a.packageName}: ${a.reason}`);
  if (attempts.length === 0) lines.push(`  - no package provides '${wanted}'`);
  throw new BackendLoadError(
    `@socketpoll/core could not load ${what} for ${platformKey()}. Tried:\n${lines.join('\n')}`,
    attempts,
  );
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
