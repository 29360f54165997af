/**
 * The backends the suite runs against. Every suite is parametrised with `describe.each(BACKENDS)`.
 *
 * On Linux: epoll (the prebuilt package), poll (poll-fallback) and kqueue — the real kqueue
 * backend source compiled against the test-only kqueue emulation (never shipped). On macOS:
 * kqueue and poll. `SOCKETPOLL_TEST_BACKENDS=epoll,poll` narrows the list; a backend that is
 * expected but missing fails the run with the command that builds it, it is never skipped silently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName, SocketPollOptions } from '../../src';

export interface TestBackend {
  /** Name shown in test titles. */
  readonly label: string;
  readonly name: BackendName;
  /** Constructor options that select it. */
  readonly options: SocketPollOptions;
}

const RELEASE = path.resolve(__dirname, '../../../native/gyp/build/Release');
export const KQUEUE_EMULATED_ADDON = path.join(RELEASE, 'socketpoll_kqueue_emulated.node');

function expected(): TestBackend[] {
  if (process.platform === 'linux') {
    return [
      { label: 'epoll', name: 'epoll', options: { backend: 'epoll' } },
      { label: 'poll', name: 'poll', options: { backend: 'poll' } },
      { label: 'kqueue (emulated)', name: 'kqueue', options: { addonPath: KQUEUE_EMULATED_ADDON } },
    ];
  }
  if (process.platform === 'darwin' || process.platform.endsWith('bsd')) {
    return [
      { label: 'kqueue', name: 'kqueue', options: { backend: 'kqueue' } },
      { label: 'poll', name: 'poll', options: { backend: 'poll' } },
    ];
  }
  return [{ label: 'poll', name: 'poll', options: { backend: 'poll' } }];
}

const only = process.env.SOCKETPOLL_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
export const BACKENDS: TestBackend[] = expected().filter((b) => !only || only.includes(b.name));

for (const b of BACKENDS) {
  if (b.options.addonPath && !fs.existsSync(b.options.addonPath)) {
    throw new Error(`${b.options.addonPath} is missing: run \`pnpm build\` (or narrow SOCKETPOLL_TEST_BACKENDS)`);
  }
}

/** Waits for `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Milliseconds since an arbitrary origin, monotonic. */
export const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/** A backend on one delivery path (`SocketPoll.delivery`): every backend has the helper thread. */
export interface TestPath {
  readonly label: string;
  readonly backend: TestBackend;
  readonly delivery: 'uvpoll' | 'thread';
}

/**
 * Every backend on every delivery path it has here: `uvpoll` for epoll and kqueue on Node, and the
 * helper thread (Bun's and Deno's path, and poll's only one) for all three.
 */
export const PATHS: TestPath[] = BACKENDS.flatMap((backend) =>
  (backend.name === 'poll' ? (['thread'] as const) : (['uvpoll', 'thread'] as const)).map((delivery) => ({
    label: `${backend.label}, ${delivery}`,
    backend,
    delivery,
  })),
);

/** Runs `make` with `SOCKETPOLL_DELIVERY` set to `path.delivery` (a poller takes it when created). */
export function onPath<R>(path: TestPath, make: () => R): R {
  const before = process.env.SOCKETPOLL_DELIVERY;
  process.env.SOCKETPOLL_DELIVERY = path.delivery;
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env.SOCKETPOLL_DELIVERY;
    else process.env.SOCKETPOLL_DELIVERY = before;
  }
}
