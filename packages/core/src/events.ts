/**
 * The shapes a poller takes and gives: registration options, events, batches, wakeup handles.
 * @module
 */
import type { PollMode } from './flags';
import type { PollSource } from './sources';

/**
 * What `add()` does with an fd the kernel refuses to watch because it is always ready: regular
 * files, directories, `/dev/null` (epoll refuses them with `EPERM`; think `node app.js < input.txt`
 * with stdin registered). `'error'` (default): throw `EPERM`. `'ready'`: register it anyway and
 * report it ready for what was asked (`POLL_READ`/`POLL_WRITE`), as poll() does, on every backend:
 * once per `wait()` in level mode, once per `add`/`mod` in edge and oneshot mode. See docs/sources.md.
 *
 * ```ts
 * poll.add(0, POLL_READ, 'stdin', { unpollable: 'ready' });   // works for `< file` too
 * ```
 */
export type Unpollable = 'error' | 'ready';

/** Options for {@link SocketPoll.add} and {@link SocketPoll.mod}. */
export interface RegisterOptions {
  /** `'level'` (default for `add`), `'edge'` or `'oneshot'`. `mod` keeps the current mode when omitted. */
  mode?: PollMode;
  /** See {@link Unpollable}. Default: the constructor's `unpollable`, else `'error'`. `mod` keeps it. */
  unpollable?: Unpollable;
  /**
   * Report the kernel's own bits only. By default a hang-up or an error (`POLL_HANGUP`,
   * `POLL_ERROR`) also reports the `POLL_READ`/`POLL_WRITE` this registration asked for, so that the
   * obvious handler reads the end of file or meets the error instead of being woken again and
   * again; with `exactEvents: true` an fd at end of file with no data left is `POLL_HANGUP` alone
   * on epoll and poll (kqueue reports its `EV_EOF` as readable). For code that translates the bits
   * itself (an `epoll`-compatible layer). Default `false`; `mod` keeps it when omitted.
   *
   * ```ts
   * poll.add(fd, POLL_READ, conn, { exactEvents: true });
   * ```
   */
  exactEvents?: boolean;
}

/** One ready fd, expired timer or exited process. */
export interface PollEvent<T = unknown> {
  /** The file descriptor; `NaN` for a timer or a process (see `source`). */
  fd: number;
  /**
   * What happened: `POLL_READ | POLL_WRITE | POLL_ERROR | …` for an fd, `POLL_TIMER` for a timer,
   * `POLL_EXIT` for a process; `0` once cancelled (see `cancelled`), so a handler that tests the
   * flags never acts on a cancelled entry.
   */
  events: number;
  /** The data given to `add()`/`mod()` (or `addTimer()`/`addProcess()`). */
  data: T;
  /** The handle of the timer or process this event is for; `undefined` for an fd. */
  source?: PollSource;
  /**
   * `true` once `del()` (or `close()`) cancelled this entry during its batch: its fd was
   * unregistered after the batch was collected, and whatever the entry said is no longer to be
   * acted upon. `fd`, `data` and `source` stay as they were (the entry you are handling can still
   * be closed with its fd: `poll.del(ev.fd); fs.closeSync(ev.fd)`); `events` becomes 0.
   */
  cancelled?: true;
}

/**
 * Lets another thread (a `worker_threads` Worker) wake this poller up: a plain object that
 * survives `postMessage`. Pass it to {@link wakeup} in the other thread.
 */
export interface WakeupHandle {
  /** The addon that owns the poller (the other thread loads the same file). */
  readonly addonPath: string;
  /** The poller's process-wide id. */
  readonly id: number;
}

/** Called with each batch of ready fds by {@link SocketPoll.start}. */
export type BatchCallback<T> = (events: PollEvent<T>[]) => void;
