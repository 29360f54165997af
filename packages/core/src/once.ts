/**
 * @internal
 * `poll.once(fd, events, { signal, timeout })`: one readiness of one fd as a promise, through the
 * poller's dispatcher (so several once() calls and the streams share one start() loop).
 * @module
 */
import { abortError, TimeoutError } from './abort';
import { dispatcherFor, type ReadyTarget } from './dispatch';
import { SocketPollStateError } from './errors';
import { POLL_ERROR } from './flags';
import type { ServedPoller } from './internals';
import { checkDelay, checkOptions, checkSignal } from './validators';

/**
 * Options for {@link SocketPoll.once}.
 *
 * ```ts
 * const ready = await poll.once(fd, POLL_READ, { timeout: 1000, signal: AbortSignal.timeout(5000) });
 * ```
 */
export interface OnceOptions {
  /** Aborting it rejects with an {@link AbortError} and unregisters the fd. */
  signal?: AbortSignal;
  /** Milliseconds to wait before rejecting with a {@link TimeoutError} (default: no limit). */
  timeout?: number;
}


/** @internal */
export function onceReady(poll: ServedPoller, fd: number, events: number, options: OnceOptions | undefined): Promise<number> {
  const opts = checkOptions<OnceOptions>(options);
  const signal = checkSignal(opts.signal);
  const timeout = opts.timeout;
  if (timeout !== undefined) checkDelay(timeout, 'options.timeout');
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const dispatcher = dispatcherFor(poll);
  return new Promise<number>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      dispatcher.release(fd);
      fn();
    };
    const target: ReadyTarget = {
      onReady: (ready) => settle(() => resolve(ready)),
      onPollClose: () =>
        settle(() => reject(new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', 'the poller was closed while once() waited'))),
    };
    const onAbort = (): void => settle(() => reject(abortError(signal as AbortSignal)));
    dispatcher.claim(fd, target);
    try {
      dispatcher.setInterest(fd, events | POLL_ERROR, 'oneshot'); // never 0: 0 means unregistered
    } catch (err) {
      dispatcher.release(fd);
      throw err;
    }
    if (timeout !== undefined) {
      timer = setTimeout(
        () => settle(() => reject(new TimeoutError(`fd ${fd} was not ready within ${timeout} ms`, timeout))),
        Math.ceil(timeout),
      );
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
