/**
 * The poller the streams use when they are given none.
 * @module
 */
import { dispatcherFor } from './dispatch';
import { SocketPoll } from './socketpoll';

let shared: SocketPoll<unknown> | undefined;

/**
 * The poller the streams (and nothing else) use when not given one: one per thread, made on first
 * use with the default backend, started only while some stream is attached. It keeps the process
 * alive while at least one `ref()`ed stream (the default) or a `once()` waits on an fd, and not
 * otherwise: `unref()` a stream to let the process exit while that stream is idle.
 *
 * ```ts
 * const a = readableFrom(fdA), b = readableFrom(fdB);
 * a.poll === b.poll && a.poll === defaultPoller();   // true: one poller, one start() loop
 * ```
 */
export function defaultPoller(): SocketPoll<unknown> {
  if (shared === undefined || shared.closed) {
    shared = new SocketPoll();
    // It serves streams and once() only, running or not: an add() of your own is refused at the call.
    dispatcherFor(shared).dedicate();
  }
  return shared;
}
