/**
 * Interest and readiness flags, the same numbers on every backend (they mirror
 * `include/poll/SocketPoll.h`). Combine with `|`:
 *
 * ```ts
 * poll.add(fd, POLL_READ | POLL_RDHUP, conn);
 * for (const ev of poll.wait(100)) if (ev.events & POLL_HANGUP) conn.close();
 * ```
 * @module
 */

/**
 * Data to read, or the end of file to read (`read()` returns 0 bytes). Also reported with
 * `POLL_HANGUP` or `POLL_ERROR` when the registration asked for it, so a handler that tests only
 * `POLL_READ` reads and sees the end of file or the error.
 */
export const POLL_READ = 0x01;
/**
 * Room to write. Also reported with `POLL_HANGUP` or `POLL_ERROR` when the registration asked for
 * it, so the write surfaces `EPIPE` or the error.
 */
export const POLL_WRITE = 0x02;
/**
 * An error condition on the fd. Always reported; asking for it is allowed and changes nothing. The
 * `POLL_READ`/`POLL_WRITE` the registration asked for come with it (unless `exactEvents`).
 */
export const POLL_ERROR = 0x04;
/**
 * Hang-up: both directions are closed (pipe writer gone, socket fully shut down). Always reported.
 * The `POLL_READ`/`POLL_WRITE` the registration asked for come with it, as libuv, Python's
 * `selectors` and tokio report a hang-up, so a reader reads the end of file; register with
 * `{ exactEvents: true }` for the kernel's bits alone.
 */
export const POLL_HANGUP = 0x08;
/**
 * Urgent or priority data: `EPOLLPRI`/`POLLPRI`. Linux sysfs GPIO `value` files signal edges with it;
 * TCP signals urgent (out-of-band) data with it.
 */
export const POLL_PRIORITY = 0x10;
/** The peer shut down its writing half (`EPOLLRDHUP`): no more data will come, but you may write. */
export const POLL_RDHUP = 0x20;

/**
 * Output only, poll backend only: the fd was closed while registered (`POLLNVAL`). Comes with
 * `POLL_ERROR`, once; the registration is then disarmed: `del()` it (`mod()` says `ENOENT`: the file
 * is gone), or `add()` the number again once it names a new file. epoll and kqueue never report it:
 * they drop a closed fd by themselves.
 */
export const POLL_INVALID = 0x40;

/**
 * Output only: the event is a timer's expiry ({@link SocketPoll.addTimer}); `ev.source` is the
 * timer's handle and `ev.fd` is `NaN`.
 *
 * ```ts
 * poll.addTimer(10, 'tick');
 * for (const ev of poll.wait(1000)) if (ev.events & POLL_TIMER) console.log('timer', ev.data);   // timer tick
 * ```
 */
export const POLL_TIMER = 0x1000;

/**
 * Output only: the event is a process's exit ({@link SocketPoll.addProcess}); `ev.source` is the
 * watch's handle and `ev.fd` is `NaN`.
 *
 * ```ts
 * poll.addProcess(spawn('true').pid!, 'true');
 * for (const ev of poll.wait(5000)) if (ev.events & POLL_EXIT) console.log('exited:', ev.data);
 * ```
 */
export const POLL_EXIT = 0x2000;

/** Every flag `add()`/`mod()` accept in `events`. */
export const POLL_ALL = POLL_READ | POLL_WRITE | POLL_ERROR | POLL_HANGUP | POLL_PRIORITY | POLL_RDHUP;

/**
 * How a registration reports readiness.
 * - `'level'` (default): reported by every wait while the condition holds (until you drain it).
 * - `'edge'`: reported once per change; you must read/write until `EAGAIN` before waiting again.
 * - `'oneshot'`: reported once, then the fd is disarmed (still registered) until `mod()` re-arms it.
 *
 * Not every backend honours every mode: see {@link SocketPoll.supportedModes}.
 */
export type PollMode = 'level' | 'edge' | 'oneshot';

/** @internal SOCKETPOLL_MAX_EVENTS_LIMIT of the C interface: the largest `maxEvents` */
export const MAX_EVENTS_LIMIT = 1 << 20;

/** @internal the modes, in the order of SUPPORTS_BITS */
export const MODES: readonly PollMode[] = ['level', 'edge', 'oneshot'];

/** The three kernel mechanisms. */
export type BackendName = 'epoll' | 'kqueue' | 'poll';

/** @internal mode bits of the C interface */
export const MODE_BITS: Readonly<Record<PollMode, number>> = { level: 0, edge: 0x100, oneshot: 0x200 };
/** @internal SOCKETPOLL_SUPPORTS_* bits of the C interface */
export const SUPPORTS_BITS: Readonly<Record<PollMode, number>> = { level: 0x1, edge: 0x2, oneshot: 0x4 };
/** @internal POLL_UNPOLLABLE_READY of the C interface (`unpollable: 'ready'`) */
export const UNPOLLABLE_READY_BIT = 0x400;
/** @internal POLL_EXACT_EVENTS of the C interface (`exactEvents: true`) */
export const EXACT_EVENTS_BIT = 0x800;
