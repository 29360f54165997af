/**
 * Waking a poller from another thread.
 * @module
 */
import { constants as osConstants } from 'node:os';
import { InvalidArgTypeError, InvalidArgValueError, systemError } from './errors';
import { isKnownAddon, loadBackend } from './loader';
import type { WakeupHandle } from './events';

/**
 * Wakes the poller behind `handle` (from {@link SocketPoll.wakeupHandle}) from any thread: a
 * blocked `wait()` there returns `[]`, or the next one does. Wakeups coalesce. Returns `false`
 * when that poller has been closed meanwhile. The handle's `addonPath` must name a socketpoll addon
 * of this process (one it has loaded, or a backend package's file as the loader resolves it): any
 * other path is refused with `ERR_INVALID_ARG_VALUE` before anything is loaded, so a handle that
 * arrives through `postMessage`, IPC or JSON cannot make this call load a file of its choosing.
 *
 * ```ts
 * // main thread
 * const worker = new Worker('./worker.mjs', { workerData: poll.wakeupHandle });
 * poll.wait(-1);                 // returns when the worker calls wakeup()
 * ```
 *
 * ```ts
 * // worker.mjs
 * import { wakeup } from '@socketpoll/core';
 * import { workerData } from 'node:worker_threads';
 * wakeup(workerData);
 * ```
 */
export function wakeup(handle: WakeupHandle): boolean {
  if (handle === null || typeof handle !== 'object' || typeof handle.addonPath !== 'string' || typeof handle.id !== 'number') {
    throw new InvalidArgTypeError('handle', 'a WakeupHandle ({ addonPath, id })', handle);
  }
  const { id } = handle;
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) {
    throw new InvalidArgValueError('handle.id', id, 'must be the id of a poller (take the handle from SocketPoll.wakeupHandle)');
  }
  // A handle may come through postMessage, IPC or JSON: its path must name an addon this process
  // would load anyway, or it would be a way to run any file.
  if (!isKnownAddon(handle.addonPath)) {
    throw new InvalidArgValueError(
      'handle.addonPath',
      handle.addonPath,
      "is not a socketpoll addon of this process (one it has loaded, or a backend package's or the source build's file); nothing was loaded. Take the handle from SocketPoll.wakeupHandle in this process",
    );
  }
  let backend;
  try {
    backend = loadBackend({ addonPath: handle.addonPath });
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InvalidArgValueError(
      'handle.addonPath',
      handle.addonPath,
      `must be the addon of the poller's own process (take the handle from SocketPoll.wakeupHandle); loading it failed: ${detail}`,
    );
  }
  const rc = backend.addon.wakeupById(id);
  if (rc === 0) return true;
  if (rc === -osConstants.errno.ENOENT) return false;
  throw systemError(rc, 'wakeup', 'write', backend.name);
}
