/**
 * A blocking `wait()` on a worker thread, in slices. `worker.terminate()` (and `process.exit()`
 * in the main thread, which terminates every worker) can stop a thread only when it runs
 * JavaScript; a thread blocked in the kernel for the whole of `wait(-1)` would never notice, and
 * the terminating thread would wait for it forever. So on a worker, a long wait is a series of
 * waits of at most {@link WAIT_SLICE_MS}, with a return to JavaScript in between; a wakeup ends it
 * at once (the binding counts wakeups, so an empty slice is told from a wakeup). The main thread
 * waits in one piece.
 * @module
 */
import { isMainThread } from 'node:worker_threads';
import type { NativePoller } from './loader';

/** @internal Longest native wait on a worker thread: the bound on how late a terminate takes effect. */
export const WAIT_SLICE_MS = 100;

// The binding's wakeup count when each poller's last blocking wait returned: a wakeup asked for
// after that (even before this wait began) ends this wait, as it would a single native wait.
const wakeupsSeen = new WeakMap<NativePoller, number>();

/** @internal native.wait(timeout), in slices on a worker thread. */
export function blockingWait(native: NativePoller, timeout: number): number {
  if (isMainThread) return native.wait(timeout);
  const seen = wakeupsSeen.get(native) ?? 0;
  const deadline = timeout < 0 ? Infinity : performance.now() + timeout;
  let n: number;
  for (;;) {
    const left = deadline - performance.now();
    n = native.wait(left > WAIT_SLICE_MS ? WAIT_SLICE_MS : Math.max(0, Math.ceil(left)));
    if (n !== 0 || left <= WAIT_SLICE_MS || native.wakeups() !== seen) break;
  }
  wakeupsSeen.set(native, native.wakeups());
  return n;
}
