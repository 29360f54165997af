/**
 * The poller.
 * @module
 */
import { constants as osConstants } from 'node:os';
import {
  InvalidArgTypeError,
  InvalidArgValueError,
  OutOfRangeError,
  type SocketPollError,
  SocketPollStateError,
  sourceError,
  systemError,
} from './errors';
import {
  type BackendName,
  EXACT_EVENTS_BIT,
  MODE_BITS,
  MAX_EVENTS_LIMIT,
  MODES,
  POLL_ERROR,
  POLL_HANGUP,
  POLL_READ,
  POLL_WRITE,
  UNPOLLABLE_READY_BIT,
  type PollMode,
  SUPPORTS_BITS,
} from './flags';
import type { BatchCallback, PollEvent, RegisterOptions, Unpollable, WakeupHandle } from './events';
import { setInternals, type ServedPoller } from './internals';
import {
  checkBatch,
  checkEvents,
  checkExactEvents,
  checkFd,
  checkLengths,
  checkMode,
  checkOptions,
  checkPid,
  checkResults,
  checkSignal,
  checkTimeout,
  checkTimerMs,
  checkTimerOptions,
  checkUnpollable,
  INT32_MAX,
} from './validators';
import { loadBackend, type LoadedBackend, type NativePoller } from './loader';
import { abortError } from './abort';
import { type EventsOptions, iterateEvents } from './iterate';
import { type OnceOptions, onceReady } from './once';
import { type DeliveryPath, prefersUvPoll } from './delivery';
import { blockingWait } from './wait-slices';
import { currentRuntime } from './runtime';
import {
  HANDLE_MAX,
  PollSource,
  SOURCE_BITS,
  type SourceKind,
  type TimerOptions,
} from './sources';

/** Options for {@link SocketPoll}'s constructor. */
export interface SocketPollOptions {
  /** Most events one `wait()` or one `start()` batch returns (1 … 1 048 576). Default 1024. */
  maxEvents?: number;
  /**
   * Which kernel mechanism to use. Default: `SOCKETPOLL_BACKEND` from the environment, else the
   * best for this machine (epoll on Linux, kqueue on macOS, poll elsewhere).
   */
  backend?: BackendName;
  /**
   * Advanced: load this compiled backend (`.node` file) instead of resolving a package, e.g. one
   * you built yourself. The test suite uses it for the kqueue build on the kqueue emulation.
   */
  addonPath?: string;
  /** The default of {@link RegisterOptions.unpollable} for every `add()` of this poller. */
  unpollable?: Unpollable;
}



interface Registration<T> {
  token: number;
  /** POLL_UNPOLLABLE_READY and POLL_EXACT_EVENTS, as asked for. */
  optionBits: number;
  events: number;
  mode: PollMode;
  data: T;
}

interface SourceRegistration<T> {
  token: number;
  data: T;
  source: PollSource;
  /** The batch that delivered the last event of a one-shot source (it is forgotten after it). */
  spentIn?: PollEvent<T>[];
}

interface PendingWait<T> {
  resolve(events: PollEvent<T>[]): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Options for {@link SocketPoll.waitAsync}.
 *
 * ```ts
 * const events = await poll.waitAsync(-1, { signal: AbortSignal.timeout(100) }).catch(() => []);
 * ```
 */
export interface WaitAsyncOptions {
  /** Aborting it rejects the pending wait with an {@link AbortError}; the poller stays usable. */
  signal?: AbortSignal;
}



/**
 * Readiness notification on any file descriptor: sockets, pipes, FIFOs, ttys and serial ports,
 * eventfd/timerfd, GPIO `value` files, TUN devices…, over epoll, kqueue or poll.
 *
 * ```ts
 * import { SocketPoll, POLL_READ } from '@socketpoll/core';
 *
 * const poll = new SocketPoll<{ name: string }>();  // T: the type of the data you attach
 * poll.add(fd, POLL_READ, { name: 'sensor' });      // epoll on Linux, kqueue on macOS
 * const buf = Buffer.alloc(4096);
 * poll.start((events) => {                        // one call per batch, on Node's event loop
 *   for (const { fd, events: ready, data } of events) {
 *     if (ready & POLL_READ) console.log(data.name, fs.readSync(fd, buf));   // level mode: read it all
 *     if (ready & POLL_HANGUP) { poll.del(fd); fs.closeSync(fd); }   // later entries of fd: events 0
 *   }
 * });
 * // later: poll.close();
 * ```
 *
 * Every fd is registered once, with an interest set, a mode and any JS value as `data`, which comes
 * back with its events. Errors are typed: see {@link SocketPollError} and friends.
 *
 * @typeParam T - the type of the data attached to registrations.
 */
export class SocketPoll<T = unknown> {
  /** The kernel mechanism in use: `'epoll'`, `'kqueue'` or `'poll'`. */
  readonly backendName: BackendName;
  /** Most events one `wait()` or batch returns. */
  readonly maxEvents: number;
  /** The modes this backend honours, e.g. `['level', 'edge', 'oneshot']` (poll has no `'edge'`). */
  readonly supportedModes: readonly PollMode[];
  /**
   * How {@link start} and {@link waitAsync} batches reach the event loop: `'uvpoll'` (a libuv watch
   * on the backend's fd; epoll and kqueue on Node) or `'thread'` (a helper thread; poll, Bun, Deno,
   * or `SOCKETPOLL_DELIVERY=thread`). See docs/delivery.md.
   *
   * ```ts
   * new SocketPoll().delivery;   // 'uvpoll' on Node with epoll, 'thread' under Bun
   * ```
   */
  readonly delivery: DeliveryPath;
  /**
   * What this poller can watch here: `['fd', 'timer', 'process']`, without `'process'` where the
   * kernel has no pidfd (Linux before 5.3; the poll backend on systems other than Linux).
   */
  readonly supportedSources: readonly SourceKind[];

  readonly #backend: LoadedBackend;
  readonly #native: NativePoller;
  readonly #buffer: Int32Array;
  readonly #regs = new Map<number, Registration<T>>();
  readonly #sources = new Map<number, SourceRegistration<T>>();
  readonly #unpollable: Unpollable;
  /** Set while the poller serves streams and once(): which add() calls are theirs. */
  #servedFor: ((fd: number, data: unknown) => boolean) | undefined;
  #warnedOptionsAsData = false;
  readonly #handles = new WeakMap<PollSource, number>();
  #spent: number[] = [];
  #nextToken = 1;
  #closed = false;
  #started = false;
  #nativeRunning = false;
  #refed = true;
  #keepAlive = true; // what the streams on this poller want (dispatch.ts); the loop is held only when #refed agrees
  #onBatch: BatchCallback<T> | undefined;
  #pending: PendingWait<T> | undefined;
  /** The batch being handled (the last returned), for the stale-event rule. */
  #current: PollEvent<T>[] | undefined;
  readonly #closeListeners = new Set<() => void>();

  static {
    setInternals({
      addon: (poll) => own(poll).#backend.addon,
      setCurrent: (poll, batch) => {
        own(poll).#current = batch;
      },
      onClose: (poll, listener) => {
        own(poll).#closeListeners.add(listener);
        return () => own(poll).#closeListeners.delete(listener);
      },
      keepAlive: (poll, wanted) => {
        if (own(poll).#keepAlive === wanted) return;
        own(poll).#keepAlive = wanted;
        own(poll).#applyRef();
      },
      refresh: (poll, batch) => own(poll).#refresh(batch),
      serve: (poll, accepts) => {
        own(poll).#servedFor = accepts;
      },
    });
  }

  /**
   * Creates a poller. Loads the backend on first use (see {@link loadBackend}).
   *
   * ```ts
   * const poll = new SocketPoll({ maxEvents: 256, backend: 'poll' });
   * ```
   * @throws {@link BackendLoadError} when no backend loads; {@link OutOfRangeError} for a bad `maxEvents`.
   */
  constructor(options: SocketPollOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgTypeError('options', 'of type object', options);
    }
    const maxEvents = options.maxEvents === undefined ? 1024 : options.maxEvents;
    if (typeof maxEvents !== 'number') throw new InvalidArgTypeError('options.maxEvents', 'of type number', maxEvents);
    if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_EVENTS_LIMIT) {
      throw new OutOfRangeError('options.maxEvents', `an integer >= 1 and <= ${MAX_EVENTS_LIMIT}`, maxEvents);
    }
    if (options.backend !== undefined && typeof options.backend !== 'string') {
      throw new InvalidArgTypeError('options.backend', "one of 'epoll', 'kqueue', 'poll'", options.backend);
    }
    this.#unpollable = options.unpollable ?? 'error';
    checkUnpollable(this.#unpollable, 'options.unpollable');
    const { addonPath } = options;
    if (addonPath !== undefined && (typeof addonPath !== 'string' || addonPath === '')) {
      throw new InvalidArgTypeError('options.addonPath', 'a non-empty string (the path of a .node file)', addonPath);
    }
    this.#backend = loadBackendFor(options.backend, addonPath);
    this.backendName = this.#backend.name;
    this.maxEvents = maxEvents;
    this.#buffer = new Int32Array(maxEvents * 3);
    const uvPoll = prefersUvPoll(this.#backend.addon);
    try {
      // Deno: a synchronous cleanup hook (its async ones are freed twice when they remove themselves).
      this.#native = new this.#backend.addon.Poller(maxEvents, this.#buffer, currentRuntime().name === 'deno');
    } catch (err) {
      const e = err as { errno?: number };
      if (typeof e.errno === 'number') throw systemError(e.errno, 'new', 'SocketPoll_new', this.backendName);
      throw err;
    }
    this.delivery = uvPoll && this.#native.fd() >= 0 ? 'uvpoll' : 'thread';
    const bits = this.#native.supportedModes();
    this.supportedModes = Object.freeze(MODES.filter((m) => (bits & SUPPORTS_BITS[m]) !== 0));
    const sources = this.#native.supportedSources();
    this.supportedSources = Object.freeze(
      (Object.keys(SOURCE_BITS) as SourceKind[]).filter((k) => (sources & SOURCE_BITS[k]) !== 0),
    );
  }

  /** The number of registered fds. */
  get size(): number {
    return this.#regs.size;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether `fd` is registered. */
  has(fd: number): boolean {
    return this.#regs.has(fd);
  }

  /**
   * Registers `fd` for `events` (`POLL_READ | POLL_WRITE | POLL_PRIORITY | POLL_RDHUP`; `POLL_ERROR`
   * and `POLL_HANGUP` are always reported). `data` (any value) comes back with every event.
   *
   * ```ts
   * poll.add(sock, POLL_READ | POLL_RDHUP, conn, { mode: 'edge' });
   * ```
   * @throws {@link SocketPollError} `EEXIST` (already registered), `EBADF` (not an open fd), `EPERM`
   * (a regular file on epoll), `ENOTSUP` (a mode the backend cannot honour).
   */
  add(fd: number, events: number, data?: T, options?: RegisterOptions): this {
    this.#checkOpen();
    checkFd(fd);
    checkEvents(events);
    if (this.#servedFor !== undefined && !this.#servedFor(fd, data)) {
      throw new SocketPollStateError(
        'ERR_SOCKETPOLL_BUSY',
        `this poller serves streams and once() (defaultPoller(), or one you gave them): they take its events, so fd ${fd} would never reach you; add() it to a SocketPoll of your own`,
      );
    }
    if (options === undefined && looksLikeOptions(data) && !this.#warnedOptionsAsData) {
      this.#warnedOptionsAsData = true;
      process.emitWarning(
        `add(fd, events, ${JSON.stringify(data)}) takes that object as the fd's data, not as options: the registration is level-triggered with default options. Pass options fourth: add(fd, events, data, options) (data may be undefined)`,
        { code: 'SOCKETPOLL_OPTIONS_AS_DATA' },
      );
    }
    if (fd === 0) warnIfStdinIsRead();
    const mode = checkMode(checkOptions<RegisterOptions>(options).mode, 'level');
    const optionBits =
      checkUnpollable(options?.unpollable ?? this.#unpollable, 'options.unpollable') |
      checkExactEvents(options?.exactEvents, 0);
    const token = this.#token();
    const rc = this.#native.add(fd, events | MODE_BITS[mode] | optionBits, token);
    if (rc < 0) throw this.#failure(rc, 'add', fd);
    this.#regs.set(fd, { token, optionBits, events, mode, data: data as T });
    return this;
  }

  /**
   * Changes the events, data and (optionally) mode of a registered fd, and re-arms a `'oneshot'`
   * registration. Omitted `data` keeps the current data; omitted `mode` keeps the current mode.
   * An event reported before the call and not yet delivered to {@link start}'s callback is
   * dropped; what still holds is reported again under the new events.
   *
   * ```ts
   * poll.add(sock, POLL_READ, conn);
   * poll.mod(sock, POLL_READ | POLL_WRITE);   // later: also wait for room to write (data kept)
   * ```
   * @throws {@link SocketPollError} `ENOENT` when `fd` is not registered.
   */
  mod(fd: number, events: number, data?: T, options?: RegisterOptions): this {
    this.#checkOpen();
    checkFd(fd);
    checkEvents(events);
    const reg = this.#regs.get(fd);
    const mode = checkMode(checkOptions<RegisterOptions>(options).mode, reg?.mode ?? 'level');
    // A new token: an event the kernel reported before this call and not yet delivered (a helper
    // thread's batch waiting for the loop) is dropped; the kernel reports again what still holds.
    const token = this.#token();
    const kept = reg?.optionBits ?? 0;
    const optionBits =
      (options?.unpollable !== undefined
        ? checkUnpollable(options.unpollable, 'options.unpollable')
        : kept & UNPOLLABLE_READY_BIT) | checkExactEvents(options?.exactEvents, kept & EXACT_EVENTS_BIT);
    const rc = this.#native.mod(fd, events | MODE_BITS[mode] | optionBits, token);
    if (rc < 0) {
      const err = this.#failure(rc, 'mod', fd);
      if (rc === -osConstants.errno.ENOENT) this.#forget(fd);
      throw err;
    }
    if (reg) {
      reg.token = token;
      reg.optionBits = optionBits;
      reg.events = events;
      reg.mode = mode;
      if (data !== undefined) reg.data = data;
    }
    return this;
  }

  /**
   * Unregisters `fd`, or cancels a timer or process watch given its handle. Call it before closing
   * the fd. Entries for it in the batch being handled are cancelled: their `events` become 0 and
   * `cancelled` true, so a handler that tests the flags never acts on a later entry of an fd that an
   * earlier one deleted; the entry keeps its `fd` and `data`, so `poll.del(ev.fd); fs.closeSync(ev.fd)`
   * works on the entry you hold.
   *
   * ```ts
   * poll.add(sock, POLL_READ);
   * poll.del(sock);
   * const timer = poll.addTimer(1000);
   * poll.del(timer);   // a handle from addTimer() or addProcess()
   * ```
   * @throws {@link SocketPollError} `ENOENT` when `fd` is not registered (a handle: cancelled already,
   * or a one-shot timer or process whose event came in an earlier batch).
   */
  del(fd: number | PollSource): this {
    this.#checkOpen();
    if (fd instanceof PollSource) return this.#delSource(fd);
    checkFd(fd);
    const rc = this.#native.del(fd);
    if (rc < 0) throw this.#failure(rc, 'del', fd);
    this.#forget(fd);
    return this;
  }

  /**
   * Starts a timer: after `ms` milliseconds (and with `repeat`, every `ms` after that) the batch has
   * an event with `events === POLL_TIMER`, `data` and `source` the returned handle. `poll.del(handle)`
   * cancels it; a one-shot timer is forgotten once its event has been delivered.
   *
   * Expiries that no wait collected in time coalesce: a busy or late caller gets one event, not a
   * burst, and a repeating timer stays on its schedule (start + k × ms). epoll uses a timerfd
   * (CLOCK_MONOTONIC), kqueue EVFILT_TIMER, poll folds the nearest deadline into poll()'s timeout.
   *
   * ```ts
   * const tick = poll.addTimer(100, 'tick', { repeat: true });
   * for (const ev of poll.wait()) if (ev.source === tick) console.log(ev.data); // 'tick'
   * ```
   * @throws {@link OutOfRangeError} for `ms` outside 1 … 2147483647 (fractions round up).
   */
  addTimer(ms: number, data?: T, options?: TimerOptions): PollSource {
    this.#checkOpen();
    const interval = checkTimerMs(ms);
    const repeat = checkTimerOptions(options);
    const token = this.#token();
    const handle = this.#native.addTimer(interval, repeat, token);
    if (handle > HANDLE_MAX) throw sourceError(handle, 'addTimer', this.#native.failedCall(), this.backendName, 'timer');
    return this.#keep(handle, token, data as T, new PollSource('timer', { ms: interval, repeat }));
  }

  /**
   * Watches process `pid` (any process, not only a child of this one): when it exits the batch has
   * one event with `events === POLL_EXIT`, `data` and `source` the returned handle; the watch is then
   * forgotten. It does not reap the process. `poll.del(handle)` cancels the watch before that.
   *
   * ```ts
   * const child = spawn('sleep', ['1']);
   * poll.addProcess(child.pid!, 'sleeper');
   * const [ev] = poll.wait();   // { fd: NaN, events: POLL_EXIT, data: 'sleeper', source }
   * ```
   * @throws {@link SocketPollError} `ESRCH` (no such process: exited and reaped already), `EEXIST`
   * (already watched by this poller), `ENOSYS` (Linux older than 5.3), `ENOTSUP` (this backend cannot
   * watch processes here: see {@link supportedSources}).
   */
  addProcess(pid: number, data?: T): PollSource {
    this.#checkOpen();
    checkPid(pid);
    const token = this.#token();
    const handle = this.#native.addProcess(pid, token);
    if (handle > HANDLE_MAX) {
      throw sourceError(handle, 'addProcess', this.#native.failedCall(), this.backendName, `process ${pid}`);
    }
    return this.#keep(handle, token, data as T, new PollSource('process', { pid }));
  }

  /**
   * Waits up to `timeoutMs` (-1 or omitted: forever; 0: just look) and returns the ready fds.
   * Blocks the thread: on the main thread prefer {@link start} or {@link waitAsync}. Returns `[]`
   * on timeout or {@link wakeup}. A full batch (`maxEvents`) means "call again": nothing is lost.
   *
   * ```ts
   * for (const ev of poll.wait(100)) handle(ev);
   * ```
   */
  wait(timeoutMs = -1): PollEvent<T>[] {
    this.#checkOpen();
    const timeout = checkTimeout(timeoutMs);
    this.#checkIdle('wait()');
    const n = blockingWait(this.#native, timeout);
    if (n < 0) throw this.#failure(n, 'wait');
    return (this.#current = this.#collect(n));
  }

  /**
   * Like {@link wait} without blocking the thread: resolves with the first batch, or `[]` after
   * `timeoutMs` (or on {@link wakeup}). One at a time, and not while {@link start} is active.
   * Aborting `options.signal` (before or during the wait) rejects with an {@link AbortError} and
   * leaves the poller usable.
   *
   * ```ts
   * const events = await poll.waitAsync(1000);
   * const soon = await poll.waitAsync(-1, { signal: AbortSignal.timeout(50) }).catch(() => []);
   * ```
   */
  waitAsync(timeoutMs = -1, options?: WaitAsyncOptions): Promise<PollEvent<T>[]> {
    try {
      this.#checkOpen();
      const timeout = checkTimeout(timeoutMs);
      const signal = checkSignal(checkOptions<WaitAsyncOptions>(options).signal);
      if (signal?.aborted) return Promise.reject(abortError(signal));
      this.#checkIdle('waitAsync()');
      if (timeout === 0) return Promise.resolve(this.wait(0));
      return new Promise<PollEvent<T>[]>((resolve, reject) => {
        const pending: PendingWait<T> = { resolve, reject };
        this.#pending = pending;
        try {
          this.#startNative();
        } catch (err) {
          this.#pending = undefined;
          throw err;
        }
        if (timeout > 0) {
          pending.timer = setTimeout(() => this.#settle([]), timeout);
          if (!this.#refed) pending.timer.unref();
        }
        if (signal) {
          pending.signal = signal;
          pending.onAbort = () => {
            if (this.#pending !== pending) return;
            this.#pending = undefined;
            release(pending);
            if (!this.#started && !this.#closed) this.#stopNative();
            reject(abortError(signal));
          };
          signal.addEventListener('abort', pending.onAbort, { once: true });
        }
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Delivers ready fds on Node's event loop, one `callback(events)` call per batch, until
   * {@link stop} or {@link close}. Never blocks the loop: on epoll and kqueue the poller's own fd
   * is watched by libuv (no thread); on poll a helper thread waits. Calling `start` again with the
   * same callback changes nothing; with another one it throws (`stop()` first, to hand delivery over).
   * An exception thrown by the callback is reported like any uncaught exception.
   *
   * ```ts
   * poll.start((events) => { for (const ev of events) ev.data.onReady(ev.events); });
   * ```
   */
  start(callback: BatchCallback<T>): this {
    this.#checkOpen();
    if (typeof callback !== 'function') throw new InvalidArgTypeError('callback', 'of type function', callback);
    if (this.#pending) {
      throw new SocketPollStateError('ERR_SOCKETPOLL_BUSY', 'a waitAsync() is pending: await it before start()');
    }
    if (this.#started && this.#onBatch !== callback) {
      throw new SocketPollStateError(
        'ERR_SOCKETPOLL_BUSY',
        'start() already delivers to another callback (yours, an events() iterator, or streams): one consumer at a time; stop() first to replace it',
      );
    }
    this.#onBatch = callback;
    this.#startNative();
    this.#started = true;
    return this;
  }

  /** Stops {@link start}'s delivery. The registrations stay; `start` again to resume. Idempotent. */
  stop(): this {
    this.#started = false;
    this.#onBatch = undefined;
    if (!this.#closed && !this.#pending) this.#stopNative();
    return this;
  }

  /** Whether {@link start} is delivering events. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * The batches as an async iterator: `for await (const events of poll.events({ signal }))`.
   * Batches are delivered on the event loop as with {@link start} (which it uses: one consumer at a
   * time, and not beside `start()` or a pending `waitAsync()`). While the loop body is busy, delivery
   * pauses: nothing is queued but the one batch already read. Ends on `break`, on {@link close}
   * (cleanly), and on `signal` abort (rejecting with an {@link AbortError}).
   *
   * ```ts
   * for await (const events of poll.events({ signal: AbortSignal.timeout(10_000) })) {
   *   for (const { fd, events: ready } of events) console.log(fd, ready);
   * }
   * ```
   * @throws {@link SocketPollStateError} `ERR_SOCKETPOLL_BUSY` when the poller already delivers to someone.
   */
  events(options?: EventsOptions): AsyncIterableIterator<PollEvent<T>[]> {
    this.#checkOpen();
    return iterateEvents(this, options);
  }

  /**
   * `for await (const events of poll)`: the short form of {@link events} without options.
   *
   * ```ts
   * for await (const events of poll) if (events.some((e) => e.fd === fd)) break;
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<PollEvent<T>[]> {
    return this.events();
  }

  /**
   * Resolves with the readiness (`POLL_READ | …`) of `fd` the next time it is ready for `events`;
   * for scripts. The fd is registered `'oneshot'` for the wait and removed after it (or on failure),
   * so it must not be registered already. Several `once()` calls (and the streams) can share a
   * poller; not one that `start()`, `events()` or `waitAsync()` is using.
   *
   * ```ts
   * await poll.once(fd, POLL_READ, { timeout: 1000 });   // rejects with TimeoutError after 1 s
   * const ready = await poll.once(fd, POLL_WRITE, { signal });
   * ```
   * @throws (rejects) {@link SocketPollError} `EEXIST` when `fd` is registered, {@link AbortError},
   * {@link TimeoutError}.
   */
  once(fd: number, events: number, options?: OnceOptions): Promise<number> {
    try {
      this.#checkOpen();
      checkFd(fd);
      checkEvents(events);
      return onceReady(this, fd, events, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Lets an active poller keep the process alive (the default), like a socket or a timer. A poller
   * serving streams or `once()` holds the process only while one of them waits on an fd and is
   * `ref()`ed itself (see `FdReadable.unref()`); this poller's `unref()` releases all of them.
   *
   * ```ts
   * poll.unref();   // a background watcher: let Node exit while only it is active
   * poll.ref();     // from now on an active poller keeps Node running again
   * ```
   */
  ref(): this {
    this.#refed = true;
    this.#applyRef();
    this.#pending?.timer?.ref();
    return this;
  }

  /**
   * Lets the process exit even while this poller is started or a `waitAsync()` is pending.
   *
   * ```ts
   * poll.start(onBatch).unref();   // a background watcher that should not keep Node running
   * ```
   */
  unref(): this {
    this.#refed = false;
    this.#applyRef();
    this.#pending?.timer?.unref();
    return this;
  }

  /** Whether the poller keeps the process alive when active (see {@link ref}/{@link unref}). */
  hasRef(): boolean {
    return this.#refed;
  }

  /**
   * Makes a blocked {@link wait} (or the next one) return early with `[]`; resolves a pending
   * {@link waitAsync} with `[]`. Wakeups coalesce. From another thread use {@link wakeupHandle}.
   */
  wakeup(): this {
    this.#checkOpen();
    const rc = this.#native.wakeup();
    if (rc < 0) throw this.#failure(rc, 'wakeup');
    return this;
  }

  /**
   * A handle another thread can pass to {@link wakeup | the `wakeup()` function} to interrupt this
   * poller's blocking `wait()`:
   *
   * ```ts
   * const worker = new Worker('./worker.mjs', { workerData: poll.wakeupHandle });
   * poll.wait(-1);   // returns [] once the worker has called wakeup()
   * ```
   *
   * ```ts
   * // worker.mjs
   * import { wakeup } from '@socketpoll/core';
   * import { workerData } from 'node:worker_threads';
   * wakeup(workerData);
   * ```
   */
  get wakeupHandle(): WakeupHandle {
    this.#checkOpen();
    return { addonPath: this.#backend.addonPath, id: this.#native.id() };
  }

  /**
   * Reads many fds in one native call: fd `i` is read (one `read(2)`, up to `chunkSize` bytes) into
   * `buffer[i * chunkSize …]`. Returns `results`, where `results[i]` is the byte count (0: end of
   * file) or a negative errno (`-EAGAIN`: nothing to read; `-EBADF` for an fd of -1, which is
   * skipped). For hot loops: it saves the ~1 µs of binding overhead that each
   * `fs.readSync` costs on top of the syscall. Independent of registrations; pass `results` to
   * reuse it.
   *
   * ```ts
   * const buf = Buffer.alloc(64 * 1024);
   * poll.start((events) => {
   *   const n = poll.readEach(events.map((e) => e.fd), buf, 1024);
   *   events.forEach((e, i) => n[i] > 0 && e.data.push(buf.subarray(i * 1024, i * 1024 + n[i])));
   * });
   * ```
   */
  readEach(fds: ArrayLike<number>, buffer: Uint8Array, chunkSize: number, results?: Int32Array): Int32Array {
    this.#checkOpen();
    const list = checkBatch(fds, buffer, chunkSize);
    const out = checkResults(results, list.length);
    this.#backend.addon.readEach(list, buffer, chunkSize, out);
    return out;
  }

  /**
   * Writes many fds in one native call: `lengths[i]` bytes (at most `chunkSize`) of
   * `buffer[i * chunkSize …]` go to fd `i` (one `write(2)` each). Returns `results`: bytes written
   * or a negative errno (`-EAGAIN`: no room; `-EPIPE`: the reader is gone). See {@link readEach}.
   *
   * ```ts
   * const written = poll.writeEach([sock], Buffer.from('ping'), 4, [4]);   // written[0]: 4, or -EAGAIN when full
   * ```
   */
  writeEach(
    fds: ArrayLike<number>,
    buffer: Uint8Array,
    chunkSize: number,
    lengths: ArrayLike<number>,
    results?: Int32Array,
  ): Int32Array {
    this.#checkOpen();
    const list = checkBatch(fds, buffer, chunkSize);
    const lens = checkLengths(lengths, list.length, chunkSize);
    const out = checkResults(results, list.length);
    this.#backend.addon.writeEach(list, buffer, chunkSize, lens, out);
    return out;
  }

  /**
   * Stops delivery, unregisters everything and frees the kernel objects. A pending `waitAsync()`
   * resolves with `[]`; events left in the batch being handled are cancelled. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#started = false;
    this.#onBatch = undefined;
    this.#nativeRunning = false;
    this.#native.close();
    if (this.#current) for (const ev of this.#current) cancel(ev);
    this.#current = undefined;
    this.#regs.clear();
    this.#sources.clear();
    this.#spent = [];
    this.#settle([]);
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) listener();
  }

  /**
   * `using poll = new SocketPoll()` closes it at the end of the scope. Needs a runtime that defines
   * `Symbol.dispose` (Node 20.4 and later, 22, 24; check with `typeof Symbol.dispose === 'symbol'`):
   * this package installs no polyfill.
   *
   * ```ts
   * {
   *   using poll = new SocketPoll();
   *   poll.add(fd, POLL_READ);
   * } // poll.close() ran here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- internals -------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) {
      throw new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', 'this SocketPoll is closed; create a new one');
    }
  }

  #checkIdle(what: string): void {
    if (this.#started) {
      throw new SocketPollStateError('ERR_SOCKETPOLL_BUSY', `${what} is not allowed while start() delivers events; stop() first`);
    }
    if (this.#pending) {
      throw new SocketPollStateError('ERR_SOCKETPOLL_BUSY', `${what} is not allowed while a waitAsync() is pending`);
    }
  }

  /** The typed error for a negative errno from the addon, naming the call that failed. */
  #failure(negErrno: number, op: string, fd?: number): SocketPollError {
    return systemError(negErrno, op, this.#native.failedCall(), this.backendName, fd);
  }

  #token(): number {
    const token = this.#nextToken;
    this.#nextToken = token >= INT32_MAX ? 1 : token + 1;
    return token;
  }

  #keep(handle: number, token: number, data: T, source: PollSource): PollSource {
    this.#sources.set(handle, { token, data, source });
    this.#handles.set(source, handle);
    return source;
  }

  #delSource(source: PollSource): this {
    const handle = this.#handles.get(source);
    const reg = handle === undefined ? undefined : this.#sources.get(handle);
    const subject = source.kind === 'timer' ? 'timer' : `process ${source.pid}`;
    const enoent = -osConstants.errno.ENOENT;
    // A one-shot source is forgotten after the batch that delivered its event.
    if (handle === undefined || reg === undefined || (reg.spentIn && reg.spentIn !== this.#current)) {
      throw sourceError(enoent, 'del', 'SocketPoll_del', this.backendName, subject);
    }
    const rc = this.#native.del(handle);
    // ENOENT for a spent source: the native side forgot it first; it is still ours to cancel.
    if (rc < 0 && !(rc === enoent && reg.spentIn)) {
      throw sourceError(rc, 'del', this.#native.failedCall(), this.backendName, subject);
    }
    this.#sources.delete(handle);
    const batch = this.#current;
    if (batch) for (const ev of batch) if (ev.source === source) cancel(ev);
    return this;
  }

  #refresh(batch: PollEvent<T>[]): PollEvent<T>[] {
    const addon = this.#backend.addon;
    return batch.filter((ev) => {
      if (ev.cancelled) return false;
      const reg = ev.source === undefined ? this.#regs.get(ev.fd) : undefined;
      if (reg === undefined || reg.mode !== 'level') return true;
      const now = addon.readyNow(ev.fd, reg.events);
      if (now < 0) return true; // closed meanwhile: let the consumer meet the error
      let events = (ev.events & ~(POLL_READ | POLL_WRITE)) | (now & ev.events & (POLL_READ | POLL_WRITE));
      if (now & (POLL_HANGUP | POLL_ERROR) && !(reg.optionBits & EXACT_EVENTS_BIT)) events |= ev.events & (POLL_READ | POLL_WRITE);
      ev.events = events;
      return events !== 0;
    });
  }

  #forget(fd: number): void {
    this.#regs.delete(fd);
    const batch = this.#current;
    if (batch) {
      for (let i = 0; i < batch.length; i++) {
        if (batch[i].fd === fd) cancel(batch[i]);
      }
    }
  }

  /** Turns the binding's (fd, events, token) triples into events, dropping stale tokens. */
  #collect(n: number): PollEvent<T>[] {
    const buf = this.#buffer;
    const regs = this.#regs;
    const out: PollEvent<T>[] = [];
    if (this.#spent.length > 0) this.#forgetSpent();
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const fd = buf[j];
      if (fd <= HANDLE_MAX) {
        this.#collectSource(out, fd, buf[j + 1], buf[j + 2]);
        continue;
      }
      const reg = regs.get(fd);
      if (reg === undefined || reg.token !== buf[j + 2]) continue;
      out.push({ fd, events: buf[j + 1], data: reg.data });
    }
    return out;
  }

  #collectSource(out: PollEvent<T>[], handle: number, events: number, token: number): void {
    const reg = this.#sources.get(handle);
    if (reg === undefined || reg.token !== token || reg.spentIn) return;
    out.push({ fd: NaN, events, data: reg.data, source: reg.source });
    if (!reg.source.repeat) {
      reg.spentIn = out;
      this.#spent.push(handle);
    }
  }

  /** One-shot sources whose event was delivered by an earlier batch are gone (as in the C layer). */
  #forgetSpent(): void {
    for (const handle of this.#spent) {
      const reg = this.#sources.get(handle);
      if (reg?.spentIn) this.#sources.delete(handle);
    }
    this.#spent = [];
  }

  #applyRef(): void {
    if (this.#closed) return;
    if (this.#refed && this.#keepAlive) this.#native.ref();
    else this.#native.unref();
  }

  #startNative(): void {
    if (this.#nativeRunning) return;
    const rc = this.#native.start(this.#dispatch, this.delivery === 'uvpoll', this.#scheduleResume);
    if (rc < 0) throw this.#failure(rc, 'start');
    this.#nativeRunning = true;
  }

  #stopNative(): void {
    if (!this.#nativeRunning) return;
    this.#nativeRunning = false;
    this.#native.stop();
  }

  #settle(events: PollEvent<T>[]): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    release(pending);
    if (!this.#started && !this.#closed) this.#stopNative();
    if (!this.#closed) this.#current = events; // also a timeout's []: the last batch returned
    pending.resolve(events);
  }

  /**
   * Helper-thread delivery: after a batch, the loop thread found the next one itself (no thread
   * switch) and holds it for the next loop turn, so other callbacks run in between.
   */
  readonly #scheduleResume = (ticket: number): void => {
    setImmediate(this.#resume, ticket);
  };

  readonly #resume = (ticket: number): void => {
    this.#native.resume(ticket);
  };

  /** Called by the binding on the loop thread, once per batch. */
  readonly #dispatch = (n: number): void => {
    if (n < 0) {
      const err = this.#failure(n, 'wait');
      if (this.#pending) {
        const pending = this.#pending;
        this.#pending = undefined;
        release(pending);
        this.#stopNative();
        pending.reject(err);
        return;
      }
      throw err;
    }
    if (this.#closed) return;
    const batch = this.#collect(n);
    if (this.#pending) {
      // A wakeup (n == 0) also ends a waitAsync, as it ends a blocking wait.
      if (batch.length > 0 || n === 0) {
        this.#current = batch;
        this.#settle(batch);
      }
      return;
    }
    const callback = this.#onBatch;
    if (batch.length === 0 || callback === undefined) return;
    this.#current = batch;
    try {
      callback(batch);
    } finally {
      this.#current = undefined;
    }
  };
}

/** The poller behind the modules' view of it (they only ever hold SocketPolls). */
function own(poll: ServedPoller): SocketPoll<any> {
  return poll as SocketPoll<any>;
}

/** Clears a settled wait's timer and abort listener. */
function release(pending: PendingWait<unknown>): void {
  if (pending.timer) clearTimeout(pending.timer);
  if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
}

/** The stale-event rule for a batch in JS hands: the entry stays readable, and says nothing. */
function cancel(ev: PollEvent<unknown>): void {
  ev.events = 0;
  ev.cancelled = true;
}

/** Loads the backend, turning a file that is not a socketpoll addon into a typed error. */
function loadBackendFor(backend: BackendName | undefined, addonPath: string | undefined): LoadedBackend {
  if (addonPath === undefined) return loadBackend({ backend });
  try {
    return loadBackend({ addonPath });
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InvalidArgValueError(
      'options.addonPath',
      addonPath,
      `must be the path of a socketpoll backend (a socketpoll_<backend>.node built by @socketpoll/native, or a backend package's socketpoll.node); loading it failed: ${detail}`,
    );
  }
}








const OPTION_NAMES = new Set(['mode', 'unpollable', 'exactEvents']);

/** `data` is a plain object with RegisterOptions' keys only: likely options passed as data. */
function looksLikeOptions(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return false;
  const proto = Object.getPrototypeOf(data);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(data);
  return keys.length > 0 && keys.every((k) => OPTION_NAMES.has(k));
}

let warnedStdin = false;

/**
 * Registering fd 0 is legitimate; registering it while Node's own `process.stdin` stream reads it
 * splits the input between the two: warn once, at the add().
 */
function warnIfStdinIsRead(): void {
  if (warnedStdin) return;
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  const readsStdin = handles.some((h) => {
    const stream = h as { fd?: number; readableFlowing?: boolean | null; listenerCount?: (e: string) => number } | null;
    if (stream?.fd !== 0) return false;
    return stream.readableFlowing === true || (stream.listenerCount?.('readable') ?? 0) > 0;
  });
  if (!readsStdin) return;
  warnedStdin = true;
  process.emitWarning(
    "fd 0 is registered while Node's own process.stdin stream is reading it: each chunk of input goes to one of the two, not both. Use one: process.stdin.pause() (or never touch process.stdin), or read with socketpoll alone",
    { code: 'SOCKETPOLL_STDIN_SHARED' },
  );
}




