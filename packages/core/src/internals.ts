/**
 * @internal
 * What the modules that serve a poller (the dispatcher of streams and once(), the events()
 * iterator) reach in it, beside its public methods. SocketPoll fills it in when its class is
 * defined; they import it from here, so no import runs back up to the poller.
 * @module
 */
import type { PollEvent, RegisterOptions } from './events';
import type { BackendName } from './flags';
import type { NativeAddon } from './loader';

/** The public part of a SocketPoll that those modules use. */
export interface ServedPoller<T = any> {
  readonly closed: boolean;
  readonly started: boolean;
  readonly size: number;
  readonly backendName: BackendName;
  has(fd: number): boolean;
  add(fd: number, events: number, data?: T, options?: RegisterOptions): unknown;
  mod(fd: number, events: number, data?: T, options?: RegisterOptions): unknown;
  del(fd: number): unknown;
  start(callback: (events: PollEvent<T>[]) => void): unknown;
  stop(): unknown;
}

/** The hidden part. */
export interface PollInternals {
  addon(poll: ServedPoller): NativeAddon;
  /** Makes `batch` the one the stale-event rule applies to (a batch handed out later than its delivery). */
  setCurrent(poll: ServedPoller, batch: PollEvent<any>[] | undefined): void;
  /** Calls `listener` once when the poller closes; returns the unsubscribe function. */
  onClose(poll: ServedPoller, listener: () => void): () => void;
  /** Whether what is served on the poller wants the loop kept alive; it is, when the user's `ref()` agrees. */
  keepAlive(poll: ServedPoller, wanted: boolean): void;
  /**
   * `batch` as it holds now: each entry of a level-triggered fd has its `POLL_READ`/`POLL_WRITE`
   * checked again (poll(2), timeout 0), and is left out when nothing it reported holds any more;
   * one-time facts (an edge, a oneshot arming, a timer's expiry, a process's exit) are kept.
   */
  refresh<T>(poll: ServedPoller<T>, batch: PollEvent<T>[]): PollEvent<T>[];
  /**
   * The poller serves streams and once() (`accepts`: which add() calls are theirs), or is the
   * user's again (undefined): add() of anything else is refused while it serves them.
   */
  serve(poll: ServedPoller, accepts: ((fd: number, data: unknown) => boolean) | undefined): void;
}

export let internals: PollInternals;

/** Called once, by SocketPoll's class definition. */
export function setInternals(value: PollInternals): void {
  internals = value;
}
