/**
 * The one table of supported platforms. Everything else is derived from it: the loader's lookup,
 * core's `optionalDependencies`, the source build's decision whether to compile (its packed
 * `platforms.json`), each backend package's manifest (`os`, `cpu`, `libc`), the build
 * matrix (`zigTarget`), the structural checks and the test matrix. Adding a prebuilt platform is
 * one row here and `pnpm --filter @socketpoll/native run manifests` (which writes its package
 * folder); `pnpm build` then builds it and `pnpm test` checks it.
 * @module
 */
import type { BackendName } from './flags';

/** A prebuilt backend package and the machines it fits: what {@link platformPackage} tells. */
export interface PrebuiltPackage {
  /** `process.platform` it runs on. */
  readonly platform: NodeJS.Platform;
  /** `process.arch` it runs on. */
  readonly arch: string;
  /** C library it was linked against (Linux only). */
  readonly libc?: 'glibc' | 'musl';
  /** Kernel mechanism it uses. */
  readonly backend: BackendName;
  /** npm package name; its `main` is the compiled `socketpoll.node`. */
  readonly packageName: string;
  /** How the machine is described to people: `Raspberry Pi 3/4/5 (64-bit OS)`, … */
  readonly machines: string;
}

/** @internal A row of the build table: a prebuilt package and how it is cross-built. */
export interface PlatformPackage extends PrebuiltPackage {
  /** Zig target triple it is cross-built for; the glibc or macOS version in it is the floor. */
  readonly zigTarget: string;
  /** Extra compiler flags for that target (the CPU baseline). */
  readonly zigFlags?: readonly string[];
}

/**
 * @internal Prebuilt backend packages, listed in `@socketpoll/core`'s `optionalDependencies`: the
 * build table, read by the build scripts (packages/native/scripts/platform-table.js) and the loader.
 */
export const PLATFORM_PACKAGES: readonly PlatformPackage[] = [
  {
    platform: 'linux', arch: 'x64', libc: 'glibc', backend: 'epoll', packageName: '@socketpoll/epoll-linux-x64',
    zigTarget: 'x86_64-linux-gnu.2.17', machines: 'Linux x64 with glibc 2.17 or later (Debian, Ubuntu, RHEL 7+, …)',
  },
  {
    platform: 'linux', arch: 'arm64', libc: 'glibc', backend: 'epoll', packageName: '@socketpoll/epoll-linux-arm64',
    zigTarget: 'aarch64-linux-gnu.2.17', machines: 'Linux arm64 with glibc 2.17 or later (Raspberry Pi 3/4/5 on a 64-bit OS, AWS Graviton, …)',
  },
  {
    platform: 'linux', arch: 'arm', libc: 'glibc', backend: 'epoll', packageName: '@socketpoll/epoll-linux-arm-gnueabihf',
    zigTarget: 'arm-linux-gnueabihf.2.17', zigFlags: ['-mcpu=generic+v7a+vfp3d16'],
    machines: 'Linux armv7 hard-float with glibc 2.17 or later (Raspberry Pi 2/3/4 on a 32-bit OS, BeagleBone, …)',
  },
  {
    platform: 'linux', arch: 'x64', libc: 'musl', backend: 'epoll', packageName: '@socketpoll/epoll-linux-x64-musl',
    zigTarget: 'x86_64-linux-musl', machines: 'Linux x64 with musl (Alpine)',
  },
  {
    platform: 'linux', arch: 'arm64', libc: 'musl', backend: 'epoll', packageName: '@socketpoll/epoll-linux-arm64-musl',
    zigTarget: 'aarch64-linux-musl', machines: 'Linux arm64 with musl (Alpine on a Raspberry Pi or Graviton)',
  },
  {
    platform: 'darwin', arch: 'arm64', backend: 'kqueue', packageName: '@socketpoll/kqueue-darwin-arm64',
    zigTarget: 'aarch64-macos.11.0', machines: 'macOS 11 or later on Apple silicon',
  },
  {
    platform: 'darwin', arch: 'x64', backend: 'kqueue', packageName: '@socketpoll/kqueue-darwin-x64',
    zigTarget: 'x86_64-macos.11.0', machines: 'macOS 11 or later on Intel',
  },
];

/** The package that builds the backends from source on install. */
export interface SourcePackage {
  /** npm package name. */
  readonly packageName: string;
}

/**
 * The source build: the platform's own mechanism (epoll on Linux, kqueue on macOS and the BSDs)
 * and poll(), compiled with node-gyp on install. It is an optional dependency of `@socketpoll/core`
 * on every machine but Windows; its install script compiles only where it is needed: when no
 * prebuilt package of {@link PLATFORM_PACKAGES} that fits the machine was installed beside it,
 * when the project depends on it directly, or when `SOCKETPOLL_BUILD_FROM_SOURCE=1`. Elsewhere it
 * builds nothing and says so. (The rows it needs are written into the package when it is packed.)
 */
/** @internal */
export const SOURCE_PACKAGE: SourcePackage = { packageName: '@socketpoll/poll-fallback' };

/** Platforms with no readiness API for arbitrary descriptors; installing works, loading says why. */
/** @internal */
export const UNSUPPORTED_PLATFORMS: readonly NodeJS.Platform[] = ['win32'];
