/**
 * What the tests share: real fds (core's test-only native helper), the backends this machine can
 * run the drop-in on, an Epoll whose events are recorded, and child processes for the behaviours
 * that end or keep a process.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Epoll, setPollerOptions } from '../../src';
import { BACKENDS, type TestBackend } from '../../../core/test/helpers/backends';
import * as fds from '../../../core/test/helpers/fds';

export { fds, BACKENDS, type TestBackend };

/** Puts the thread's poller on `backend` (it is made again on the next add()). */
export function useBackend(backend: TestBackend): void {
  setPollerOptions(backend.options);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `done()` is true (checked every 5 ms), or after `ms`. */
export async function until(done: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(5);
}

/** An Epoll that records its calls: [fd, events], and `this` of each call. */
export class Recorder {
  readonly calls: [number, number][] = [];
  readonly errors: unknown[] = [];
  readonly epoll: Epoll;
  onCall?: (fd: number, events: number) => void;

  constructor() {
    this.epoll = new Epoll((err, fd, events) => {
      if (err) this.errors.push(err);
      this.calls.push([fd, events]);
      this.onCall?.(fd, events);
    });
  }

  /** Resolves once `n` calls in all were recorded, or after `ms` (whatever was recorded). */
  until(n: number, ms = 2000): Promise<[number, number][]> {
    return until(() => this.calls.length >= n, ms).then(() => this.calls);
  }

  /** Waits for `n` calls and then `quietMs` more, and returns every call recorded: any call past the `n`th shows. */
  async settled(n: number, quietMs: number): Promise<[number, number][]> {
    await this.until(n);
    await sleep(quietMs);
    return this.calls;
  }

  close(): void {
    if (!this.epoll.closed) this.epoll.close();
  }
}

export const DIST = path.resolve(__dirname, '../../dist/index.js');

/**
 * Runs `script` (CommonJS) in a new Node process, with `Epoll` (the built package) and `fds` (the
 * native fd helper: socketpair, pipe, write, read, close…) in scope. Returns status, signal,
 * output and the time it took.
 */
export function child(script: string, options: { timeout?: number; env?: NodeJS.ProcessEnv; args?: string[]; bare?: boolean } = {}) {
  const prelude = options.bare ? '' : `const { Epoll, setPollerOptions } = require(${JSON.stringify(DIST)}); const fds = require(${JSON.stringify(fds.HELPER_PATH)});\n`;
  const start = Date.now();
  const r = spawnSync(process.execPath, [...(options.args ?? []), '-e', prelude + script], {
    encoding: 'utf8',
    timeout: options.timeout ?? 15000,
    env: { ...process.env, ...options.env },
  });
  return { status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}`, ms: Date.now() - start };
}
