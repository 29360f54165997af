/**
 * The one table of supported platforms: it drives the loader, the package manifests' checks and
 * the tests. Adding a prebuilt platform is one row here plus its package folder.
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
}

/** Prebuilt backend packages, listed in `@socketpoll/core`'s `optionalDependencies`. */
export const PLATFORM_PACKAGES: readonly PlatformPackage[] = [
  { platform: 'linux', arch: 'x64', libc: 'glibc', backend: 'epoll', packageName: '@socketpoll/epoll-linux-x64' },
  { platform: 'darwin', arch: 'arm64', backend: 'kqueue', packageName: '@socketpoll/kqueue-darwin-arm64' },
];

/** The package of the poll() backend. */
export interface FallbackPackage {
  /** Always `'poll'`. */
  readonly backend: 'poll';
  /** npm package name. */
  readonly packageName: string;
}

/** The poll() backend: builds from source on install wherever no prebuilt package fits. */
export const FALLBACK_PACKAGE: FallbackPackage = { backend: 'poll', packageName: '@socketpoll/poll-fallback' };
