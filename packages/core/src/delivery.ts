/**
 * How `start()` and `waitAsync()` batches reach the JavaScript event loop (docs/delivery.md):
 * - `'uvpoll'`: a libuv `uv_poll_t` watches the backend's own fd (epoll, kqueue) on the loop
 *   thread. No extra thread. Node and Electron only.
 * - `'thread'`: a helper thread blocks in the backend's wait and hands each batch to the loop with
 *   a Node-API thread-safe function. Any runtime, any backend; the only path for poll (no fd),
 *   Bun (no libuv) and Deno (a `uv_poll` that fires once).
 *
 * `SOCKETPOLL_DELIVERY=uvpoll|thread` forces one, for tests and measurements.
 * @module
 */
import { InvalidArgValueError } from './errors';
import type { NativeAddon } from './loader';
import { currentRuntime, runtimeLabel } from './runtime';

/** The two ways batches reach the event loop: see {@link SocketPoll.delivery}. */
export type DeliveryPath = 'uvpoll' | 'thread';

const PATHS: readonly DeliveryPath[] = ['uvpoll', 'thread'];

/**
 * @internal Whether a poller of this addon whose backend has a pollable fd delivers through
 * `uv_poll` (else through the helper thread). Checked when a poller is created.
 */
export function prefersUvPoll(addon: NativeAddon): boolean {
  const forced = process.env.SOCKETPOLL_DELIVERY;
  const runtime = currentRuntime().name;
  if (forced === undefined || forced === '') return runtime === 'node' && addon.uvPollAvailable === true;
  if (!(PATHS as readonly string[]).includes(forced)) {
    throw new InvalidArgValueError('SOCKETPOLL_DELIVERY', forced, `must be 'uvpoll' or 'thread' (or unset)`);
  }
  if (forced === 'thread') return false;
  if (runtime === 'bun' || addon.uvPollAvailable !== true) {
    // Bun's uv_* functions abort the process, and without them there is nothing to call.
    throw new InvalidArgValueError(
      'SOCKETPOLL_DELIVERY',
      forced,
      `cannot be 'uvpoll' on ${runtimeLabel()}, which has no working libuv: unset it (the helper thread is used)`,
    );
  }
  return true;
}
