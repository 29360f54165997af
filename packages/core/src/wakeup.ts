/**
 * Waking a poller from another thread.
 * @module
 */
import { constants as osConstants } from 'node:os';
import { InvalidArgTypeError, systemError } from './errors';
import { loadBackend } from './loader';
import type { WakeupHandle } from './socketpoll';

/**
 * Wakes the poller behind `handle` (from {@link SocketPoll.wakeupHandle}) from any thread: a
 * blocked `wait()` there returns `[]`, or the next one does. Wakeups coalesce. Returns `false`
 * when that poller has been closed meanwhile.
 *
 * ```ts
 * // main thread
 * const worker = new Worker('./worker.js', { workerData: poll.wakeupHandle });
 * poll.wait(-1);                 // returns when the worker calls wakeup()
 * ```
 *
 * ```ts
 * // worker.js
 * import { wakeup } from '@socketpoll/core';
 * import { workerData } from 'node:worker_threads';
 * wakeup(workerData);
 * ```
 */
export function wakeup(handle: WakeupHandle): boolean {
  if (handle === null || typeof handle !== 'object' || typeof handle.addonPath !== 'string' || typeof handle.id !== 'number') {
    throw new InvalidArgTypeError('handle', 'a WakeupHandle ({ addonPath, id })', handle);
  }
  const backend = loadBackend({ addonPath: handle.addonPath });
  const rc = backend.addon.wakeupById(handle.id);
  if (rc === 0) return true;
  if (rc === -osConstants.errno.ENOENT) return false;
  throw systemError(rc, 'wakeup', 'write', backend.name);
}
