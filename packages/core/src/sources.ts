/**
 * Sources that are not file descriptors: timers and process exits.
 * @module
 */

/** What a poller can watch: see {@link SocketPoll.supportedSources}. */
export type SourceKind = 'fd' | 'timer' | 'process';

/** Options for {@link SocketPoll.addTimer}. */
export interface TimerOptions {
  /** Fire every `ms` until `del()` (default `false`: fire once, then the timer is forgotten). */
  repeat?: boolean;
}

/**
 * A timer ({@link SocketPoll.addTimer}) or a process watch ({@link SocketPoll.addProcess}): the
 * handle that `poll.del(handle)` cancels, and the `source` of its events. It is an object, so it
 * can never be mistaken for an fd; its events have `fd` set to `NaN` and `source` set to it.
 *
 * ```ts
 * const tick = poll.addTimer(1000, 'tick', { repeat: true });
 * poll.start((events) => {
 *   for (const ev of events) {
 *     if (ev.source === tick && ev.events & POLL_TIMER) console.log('a second passed');
 *   }
 * });
 * // later: poll.del(tick);
 * ```
 */
export class PollSource {
  /** `'timer'` or `'process'`. */
  readonly kind: 'timer' | 'process';
  /** Timer: its interval in milliseconds. */
  readonly ms?: number;
  /** Timer: whether it repeats. */
  readonly repeat?: boolean;
  /** Process watch: the pid. */
  readonly pid?: number;

  /** @internal handles are made by {@link SocketPoll.addTimer} and {@link SocketPoll.addProcess} */
  constructor(kind: 'timer' | 'process', fields: { ms?: number; repeat?: boolean; pid?: number }) {
    this.kind = kind;
    if (kind === 'timer') {
      this.ms = fields.ms;
      this.repeat = fields.repeat;
      delete (this as { pid?: number }).pid;
    } else {
      this.pid = fields.pid;
      delete (this as { ms?: number }).ms;
      delete (this as { repeat?: boolean }).repeat;
    }
    Object.freeze(this);
  }
}

/** @internal SOCKETPOLL_SOURCE_* bits of the C interface */
export const SOURCE_BITS: Readonly<Record<SourceKind, number>> = { fd: 0x1, timer: 0x2, process: 0x4 };
/** @internal handles of the C interface are at most this (SOCKETPOLL_HANDLE_MAX) */
export const HANDLE_MAX = -(1 << 20);



