/**
 * Cancellation: the errors an aborted or timed-out operation rejects with, like Node's own.
 *
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 100);
 * try {
 *   await poll.waitAsync(-1, { signal: ac.signal });
 * } catch (err) {
 *   if (err instanceof AbortError) console.log('gave up waiting');
 * }
 * ```
 * @module
 */

/**
 * The operation was cancelled through an `AbortSignal` (`name: 'AbortError'`, `code: 'ABORT_ERR'`,
 * as Node's own `AbortError`); `cause` is the signal's `reason`.
 *
 * ```ts
 * const events = poll.events({ signal: AbortSignal.timeout(1000) });
 * try {
 *   for await (const batch of events) handle(batch);
 * } catch (err) {
 *   if ((err as Error).name !== 'AbortError') throw err;
 * }
 * ```
 */
export class AbortError extends Error {
  /** Always `'ABORT_ERR'`. */
  readonly code = 'ABORT_ERR';
  /** @internal */
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/**
 * A `timeout` given to {@link SocketPoll.once} elapsed first (`code: 'ERR_SOCKETPOLL_TIMEOUT'`).
 *
 * ```ts
 * try {
 *   await poll.once(fd, POLL_READ, { timeout: 500 });
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.log('no data within 500 ms');
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `'ERR_SOCKETPOLL_TIMEOUT'`. */
  readonly code = 'ERR_SOCKETPOLL_TIMEOUT';
  /** How long was waited, in milliseconds. */
  readonly timeout: number;
  /** @internal */
  constructor(message: string, timeout: number) {
    super(message);
    this.name = 'TimeoutError';
    this.timeout = timeout;
  }
}


/** @internal the error for an aborted `signal`. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

