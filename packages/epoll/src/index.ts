/**
 * `@socketpoll/epoll`: the npm `epoll` package's API over socketpoll, so that `require('epoll')`
 * programs (`onoff`, `rpi-gpio`…) run unchanged with prebuilt binaries, in worker threads, on Bun
 * and Deno, and on macOS and BSD (kqueue, with the bits translated).
 *
 * ```js
 * const { Epoll } = require('@socketpoll/epoll');   // or require('epoll') with an override
 * const poller = new Epoll((err, fd, events) => {
 *   if (events & Epoll.EPOLLPRI) console.log('interrupt on', fd);
 * });
 * poller.add(valuefd, Epoll.EPOLLPRI);
 * // later
 * poller.remove(valuefd).close();
 * ```
 * @packageDocumentation
 */
import { AsyncResource } from 'node:async_hooks';
import { fstatSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { currentRuntime, type PollEvent, type RegisterOptions, SocketPoll, type SocketPollOptions } from '@socketpoll/core';
import {
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDHUP,
  modeOf,
  toEpollBits,
  toPollFlags,
} from './bits';
import { describe, systemError, usageError } from './errors';

/**
 * Called once per ready fd per event: `err` is `null`, `fd` the file descriptor, `events` the
 * kernel's epoll bits (`Epoll.EPOLLIN | Epoll.EPOLLHUP`…). `this` is the global object, as with
 * the original addon.
 */
export type EpollCallback = (err: Error | null, fd: number, events: number) => void;

const { EBADF, ENOENT } = osConstants.errno;

// ---- the thread's poller ----------------------------------------------------------------------
// One socketpoll poller per thread (module state is per thread) serves every Epoll of the thread,
// as the original's single epoll set serves every Epoll of the process: an fd is registered once
// per thread (a second add() is EEXIST, as there). The poller holds each registered fd's Epoll as
// its data, so an Epoll with registered fds stays reachable (not garbage-collected) through the
// poller, which this module holds. It keeps the event loop alive only while some fd is registered.

let pollerOptions: SocketPollOptions = {};
let shared: SocketPoll<Epoll> | undefined;
/** Which Epoll registered each fd of this thread (the original's `fd2epoll`). */
const owners = new Map<number, Epoll>();
let holding = false; // whether the poller holds the event loop

function threadPoller(): SocketPoll<Epoll> {
  if (shared === undefined || shared.closed) {
    owners.clear();
    holding = false;
    shared = new SocketPoll<Epoll>(pollerOptions);
    shared.unref().start(onBatch);
  }
  return shared;
}

/** The poller holds the event loop while at least one fd is registered, and only then. */
function updateRef(): void {
  const wanted = owners.size > 0;
  if (wanted === holding || shared === undefined || shared.closed) return;
  holding = wanted;
  if (wanted) shared.ref();
  else shared.unref();
}

/**
 * @internal Options for the thread's poller, taking effect when it is next created (the test
 * suites select the kqueue emulation with `addonPath`). Not part of the `epoll` API.
 */
export function setPollerOptions(options: SocketPollOptions): void {
  if (owners.size > 0) throw new Error('setPollerOptions: remove every fd first');
  pollerOptions = { ...options };
  shared?.close();
  shared = undefined;
}

let deliver: (epoll: Epoll, fd: number, pollFlags: number) => void;

/**
 * Deno: a worker that calls process.exit() from inside a native callback (which is where a batch
 * arrives) hangs instead of exiting; from a process.nextTick callback it exits. In Deno workers the
 * calls of a batch are therefore made from a nextTick callback, right after the batch.
 */
const deferToTick = currentRuntime().name === 'deno' && !isMainThread;

/**
 * One batch: one callback call per event. An exception from a callback does not stop the others
 * of the batch; the first is rethrown after them (reported as an uncaught exception, as the
 * original's are) and any further ones on the next tick.
 */
function onBatch(events: PollEvent<Epoll>[]): void {
  if (deferToTick) {
    const calls: [Epoll, number, number][] = [];
    for (const ev of events) if (ev.events !== 0) calls.push([ev.data, ev.fd, ev.events]);
    process.nextTick(deliverLater, calls);
    return;
  }
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    if (ev.events === 0) continue; // cancelled: its fd was removed (or its Epoll closed) meanwhile
    try {
      deliver(ev.data, ev.fd, ev.events);
    } catch (error) {
      if (failure === undefined) failure = { error };
      else rethrowSoon(error);
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** The deferred calls of a batch; an fd removed (or its Epoll closed) meanwhile gets none. */
function deliverLater(calls: [Epoll, number, number][]): void {
  let failure: { error: unknown } | undefined;
  for (const [epoll, fd, flags] of calls) {
    if (owners.get(fd) !== epoll) continue;
    try {
      deliver(epoll, fd, flags);
    } catch (error) {
      if (failure === undefined) failure = { error };
      else rethrowSoon(error);
    }
  }
  if (failure !== undefined) throw failure.error;
}

function rethrowSoon(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

function isInt32(value: unknown): value is number {
  return typeof value === 'number' && (value | 0) === value && !Object.is(value, -0);
}

/**
 * An epoll instance with the npm `epoll` package's API. Errors are `Error`s as there; those of a
 * failed system call also carry `code` (`'EEXIST'`, `'ENOENT'`, `'EBADF'`, `'EPERM'`…), `errno`
 * and `syscall`.
 *
 * ```js
 * const poller = new Epoll((err, fd, events) => {
 *   fs.readSync(fd, buffer, 0, 1, 0);                 // clears a GPIO interrupt
 * });
 * poller.add(fd, Epoll.EPOLLPRI | Epoll.EPOLLONESHOT);   // one interrupt
 * poller.modify(fd, Epoll.EPOLLPRI | Epoll.EPOLLONESHOT); // re-armed: the next one
 * ```
 */
export class Epoll {
  /** Readable (`0x1`). */
  static readonly EPOLLIN: number = EPOLLIN;
  /** Writable (`0x4`). */
  static readonly EPOLLOUT: number = EPOLLOUT;
  /** The peer shut down its writing half (`0x2000`). */
  static readonly EPOLLRDHUP: number = EPOLLRDHUP;
  /** Urgent or priority data: a sysfs GPIO `value` file's interrupt (`0x2`). */
  static readonly EPOLLPRI: number = EPOLLPRI;
  /** Error condition (`0x8`); always reported. */
  static readonly EPOLLERR: number = EPOLLERR;
  /** Hang-up (`0x10`); always reported. */
  static readonly EPOLLHUP: number = EPOLLHUP;
  /** Edge-triggered (`1 << 31`, i.e. 2147483648). */
  static readonly EPOLLET: number = EPOLLET;
  /** One event, then disarmed until `modify()` (`1 << 30`). */
  static readonly EPOLLONESHOT: number = EPOLLONESHOT;

  #callback: EpollCallback | undefined;
  #resource: AsyncResource | undefined;
  #closed = false;

  static {
    deliver = (epoll, fd, pollFlags) => {
      const callback = epoll.#callback;
      if (callback === undefined) return;
      epoll.#resource!.runInAsyncScope(callback, globalThis, null, fd, toEpollBits(pollFlags));
    };
  }

  /**
   * @param callback - called as `callback(err, fd, events)` for each event.
   * @throws `Error` "First argument to construtor must be a callback" (sic, the original's words).
   */
  constructor(callback: EpollCallback) {
    if (typeof callback !== 'function') {
      throw usageError('First argument to construtor must be a callback', `received ${describe(callback)}`);
    }
    this.#callback = callback;
    this.#resource = new AsyncResource('Epoll:DispatchEvent');
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Watches `fd` for `events` (`Epoll.EPOLLIN | Epoll.EPOLLET`…). Returns `this`.
   * @throws `Error` with `code` `EEXIST` (registered already), `EBADF`, `EPERM` (a regular file).
   */
  add(fd: number, events: number): this {
    if (this.#closed) throw usageError("add can't be called after calling close");
    checkArgs('add(int fd, int events)', arguments.length, fd, events);
    const bits = events >>> 0;
    if (fd < 0) throw systemError(-EBADF, 'add', fd);
    const poll = threadPoller();
    try {
      poll.add(fd, toPollFlags(bits), this, registerOptions(bits));
    } catch (err) {
      throw translate(err, 'add', fd);
    }
    // The number may still be listed for an Epoll that did not remove it before closing it.
    owners.set(fd, this);
    updateRef();
    return this;
  }

  /**
   * Changes the events of a registered `fd`; re-arms an `EPOLLONESHOT` one. Returns `this`.
   * @throws `Error` with `code` `ENOENT` (not registered with this Epoll), `EBADF`.
   */
  modify(fd: number, events: number): this {
    if (this.#closed) throw usageError("modify can't be called after calling close");
    checkArgs('modify(int fd, int events)', arguments.length, fd, events);
    const bits = events >>> 0;
    this.#checkOwn(fd, 'modify');
    try {
      shared!.mod(fd, toPollFlags(bits), undefined, registerOptions(bits));
    } catch (err) {
      // ENOENT: the fd was closed while registered, and the kernel dropped it: so do we.
      if ((err as { code?: unknown }).code === 'ENOENT') forget(fd);
      throw translate(err, 'modify', fd);
    }
    return this;
  }

  /**
   * Stops watching `fd`; an event of it not yet delivered is dropped. Returns `this`. An fd that
   * was closed while registered is forgotten without an error.
   * @throws `Error` with `code` `ENOENT` (not registered with this Epoll), `EBADF`.
   */
  remove(fd: number): this {
    if (this.#closed) throw usageError("remove can't be called after calling close");
    if (arguments.length < 1 || !isInt32(fd)) {
      throw usageError('incorrect arguments passed to remove(int fd)', `fd must be an integer, received ${describe(fd)}`);
    }
    this.#checkOwn(fd, 'remove');
    try {
      shared!.del(fd);
    } catch (err) {
      throw translate(err, 'remove', fd);
    }
    forget(fd);
    return this;
  }

  /**
   * Stops watching every fd of this Epoll and drops its callback: no call comes after it, not
   * even for an event already reported. Returns `null`, as the original does.
   * @throws `Error` "close can't be called more than once".
   */
  close(): null {
    if (this.#closed) throw usageError("close can't be called more than once");
    this.#closed = true;
    this.#callback = undefined;
    this.#resource = undefined;
    for (const [fd, owner] of owners) {
      if (owner !== this) continue;
      owners.delete(fd);
      try {
        shared!.del(fd);
      } catch {
        // Nothing to undo: the registration is gone either way.
      }
    }
    updateRef();
    return null;
  }

  /** `fd` must be one of this Epoll's: the others of the thread share the poller. */
  #checkOwn(fd: number, op: string): void {
    if (owners.get(fd) === this) return;
    if (fd < 0 || !isOpen(fd)) throw systemError(-EBADF, op, fd);
    throw systemError(-ENOENT, op, fd);
  }
}

function forget(fd: number): void {
  owners.delete(fd);
  updateRef();
}

// The constants are read-only, as the original's are.
for (const name of ['EPOLLIN', 'EPOLLOUT', 'EPOLLRDHUP', 'EPOLLPRI', 'EPOLLERR', 'EPOLLHUP', 'EPOLLET', 'EPOLLONESHOT'] as const) {
  Object.defineProperty(Epoll, name, { value: Epoll[name], writable: false, enumerable: true, configurable: true });
}

function checkArgs(signature: string, argc: number, fd: unknown, events: unknown): void {
  if (argc >= 2 && isInt32(fd) && typeof events === 'number') return;
  const detail = !isInt32(fd)
    ? `fd must be an integer, received ${describe(fd)}`
    : `events must be a number, received ${argc < 2 ? 'nothing' : describe(events)}`;
  throw usageError(`incorrect arguments passed to ${signature}`, detail);
}

/** The mode the bits ask for, and the kernel's own bits back (no hang-up convention). */
function registerOptions(bits: number): RegisterOptions {
  return { mode: modeOf(bits), exactEvents: true };
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code !== 'EBADF';
  }
}

/** The `Error` for a failure of the poller (a socketpoll typed error). */
function translate(err: unknown, op: string, fd: number): unknown {
  const e = err as { errno?: unknown };
  if (typeof e?.errno === 'number' && e.errno < 0) return systemError(e.errno, op, fd);
  return err;
}
