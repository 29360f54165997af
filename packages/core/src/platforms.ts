/**
 * The one table of supported platforms. Everything else is derived from it: the loader's lookup,
 * core's `optionalDependencies`, each backend package's manifest (`os`, `cpu`, `libc`), the build
 * matrix (`zigTarget`), the structural checks and the test matrix. Adding a prebuilt platform is
 * one row here and `pnpm --filter @socketpoll/native run manifests` (which writes its package
 * folder); `pnpm build` then builds it and `pnpm test` checks it.
 * @module
 */
import type { BackendName } from './flags';

/** A prebuilt backend package and the machines it fits. */
export interface PlatformPackage {
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
  /** Zig target triple it is cross-built for; the glibc or macOS version in it is the floor. */
  readonly zigTarget: string;
  /** Extra compiler flags for that target (the CPU baseline). */
  readonly zigFlags?: readonly string[];
  /** How the machine is described to people: `Raspberry Pi 3/4/5 (64-bit OS)`, … */
  readonly machines: string;
}

/** Prebuilt backend packages, listed in `@socketpoll/core`'s `optionalDependencies`. */
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
 * and poll(), compiled with node-gyp on install where no prebuilt package fits, or when installed
 * directly.
 */
export const SOURCE_PACKAGE: SourcePackage = { packageName: '@socketpoll/poll-fallback' };

/** Platforms with no readiness API for arbitrary descriptors; installing works, loading says why. */
export const UNSUPPORTED_PLATFORMS: readonly NodeJS.Platform[] = ['win32'];

/**
 * A package with nothing in it but a dependency on {@link SOURCE_PACKAGE}, whose `os`/`cpu`/`libc`
 * fields make npm, pnpm and yarn install it exactly where no prebuilt package fits. So the source
 * build (an install script) is installed, and runs, only there: machines that get a prebuilt never
 * see an install script or pnpm's "Ignored build scripts" notice for it.
 */
export interface SourceSelector {
  /** npm package name. */
  readonly packageName: string;
  /** Its `os` field. */
  readonly os: readonly string[];
  /** Its `cpu` field, if any. */
  readonly cpu?: readonly string[];
  /** Its `libc` field, if any. */
  readonly libc?: readonly string[];
}

/** The CPUs Node.js runs on, per OS, where that list is closed (every one of them has a prebuilt). */
const ALL_CPUS: Partial<Record<NodeJS.Platform, readonly string[]>> = { darwin: ['arm64', 'x64'] };
const LIBCS = ['glibc', 'musl'] as const;

/**
 * The selectors that cover every machine {@link PLATFORM_PACKAGES} does not, derived from it: one
 * for the other operating systems, one per OS for its other CPUs, and one per CPU and C library
 * that has a prebuilt for the other C library only.
 *
 * ```ts
 * sourceSelectors().map((s) => s.packageName);
 * // ['@socketpoll/source-other-os', '@socketpoll/source-linux-other-cpu', '@socketpoll/source-linux-arm-musl']
 * ```
 */
export function sourceSelectors(rows: readonly PlatformPackage[] = PLATFORM_PACKAGES): SourceSelector[] {
  const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
  const oses = unique(rows.map((r) => r.platform));
  const selectors: SourceSelector[] = [
    { packageName: '@socketpoll/source-other-os', os: [...oses, ...UNSUPPORTED_PLATFORMS].map((o) => `!${o}`) },
  ];
  for (const os of oses) {
    const cpus = unique(rows.filter((r) => r.platform === os).map((r) => r.arch));
    const closed = ALL_CPUS[os];
    if (!closed || !closed.every((c) => cpus.includes(c))) {
      selectors.push({ packageName: `@socketpoll/source-${os}-other-cpu`, os: [os], cpu: cpus.map((c) => `!${c}`) });
    }
    for (const cpu of cpus) {
      const libcs = rows.filter((r) => r.platform === os && r.arch === cpu).map((r) => r.libc);
      if (libcs.includes(undefined)) continue;
      for (const libc of LIBCS.filter((l) => !libcs.includes(l))) {
        selectors.push({ packageName: `@socketpoll/source-${os}-${cpu}-${libc}`, os: [os], cpu: [cpu], libc: [libc] });
      }
    }
  }
  return selectors;
}
