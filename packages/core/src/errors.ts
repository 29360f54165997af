/**
 * Typed errors. Every error socketpoll throws has a `code`; system errors also have `errno`
 * (negative, as in Node's own errors), `syscall` and, where it applies, `fd`. Messages say what
 * to do next.
 *
 * ```ts
 * try {
 *   poll.add(fd, POLL_READ);
 * } catch (err) {
 *   if (err instanceof SocketPollError && err.code === 'EEXIST') poll.mod(fd, POLL_READ);
 *   else throw err;
 * }
 * ```
 * @module
 */
import { getSystemErrorName } from 'node:util';
import type { BackendName } from './flags';

/** A failed system call in a backend: `code` is the errno name (`'EEXIST'`, `'EBADF'`…). */
export class SocketPollError extends Error {
  /** errno name, e.g. `'ENOENT'`. */
  readonly code: string;
  /** Negative errno, as in Node's system errors (`-2` for `ENOENT`). */
  readonly errno: number;
  /**
   * The call that failed: a system call (`'epoll_ctl'`, `'kevent'`, `'fstat'`, `'fcntl'`,
   * `'poll'`, `'write'`…), or the library function (`'SocketPoll_add'`…) when the poller refused
   * the call itself without asking the kernel (`EEXIST`/`ENOENT` from its own table on kqueue and
   * poll, one of its own fds).
   */
  readonly syscall: string;
  /** The file descriptor concerned, when there is one. */
  readonly fd?: number;

  /** @internal */
  constructor(message: string, code: string, errno: number, syscall: string, fd?: number) {
    super(message);
    this.name = 'SocketPollError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    if (fd !== undefined) this.fd = fd;
  }
}

/** An argument of the wrong type (`code: 'ERR_INVALID_ARG_TYPE'`), like Node's own. */
export class InvalidArgTypeError extends TypeError {
  /** Always `'ERR_INVALID_ARG_TYPE'`. */
  readonly code = 'ERR_INVALID_ARG_TYPE';
  /** @internal */
  constructor(name: string, expected: string, actual: unknown) {
    super(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`);
    this.name = 'TypeError';
  }
}

/** An argument of the right type with a value that is not allowed (`code: 'ERR_INVALID_ARG_VALUE'`). */
export class InvalidArgValueError extends TypeError {
  /** Always `'ERR_INVALID_ARG_VALUE'`. */
  readonly code = 'ERR_INVALID_ARG_VALUE';
  /** @internal */
  constructor(name: string, actual: unknown, reason: string) {
    super(`The argument '${name}' ${reason}. Received ${describe(actual)}`);
    this.name = 'TypeError';
  }
}

/** A number outside its range (`code: 'ERR_OUT_OF_RANGE'`), like Node's own. */
export class OutOfRangeError extends RangeError {
  /** Always `'ERR_OUT_OF_RANGE'`. */
  readonly code = 'ERR_OUT_OF_RANGE';
  /** @internal */
  constructor(name: string, range: string, actual: unknown) {
    super(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`);
    this.name = 'RangeError';
  }
}

/**
 * The poller is in a state that does not allow the call:
 * - `'ERR_SOCKETPOLL_CLOSED'`: used after `close()`;
 * - `'ERR_SOCKETPOLL_BUSY'`: `wait()`/`waitAsync()` while `start()` delivers events, or a second
 *   `waitAsync()` while one is pending.
 */
export class SocketPollStateError extends Error {
  /** `'ERR_SOCKETPOLL_CLOSED'` or `'ERR_SOCKETPOLL_BUSY'`. */
  readonly code: 'ERR_SOCKETPOLL_CLOSED' | 'ERR_SOCKETPOLL_BUSY';
  /** @internal */
  constructor(code: 'ERR_SOCKETPOLL_CLOSED' | 'ERR_SOCKETPOLL_BUSY', message: string) {
    super(message);
    this.name = 'SocketPollStateError';
    this.code = code;
  }
}

/** One package the loader tried, and why it failed. */
export interface BackendAttempt {
  /** npm package name, e.g. `'@socketpoll/poll-fallback'`. */
  readonly packageName: string;
  /** Why it could not be loaded, with what to do about it. */
  readonly reason: string;
}

/**
 * No backend could be loaded (`code: 'ERR_SOCKETPOLL_NO_BACKEND'`). The message lists every
 * package that was tried, why each failed, and the command that fixes it.
 */
export class BackendLoadError extends Error {
  /** Always `'ERR_SOCKETPOLL_NO_BACKEND'`. */
  readonly code = 'ERR_SOCKETPOLL_NO_BACKEND';
  /** What was tried, in order, and why each attempt failed. */
  readonly attempts: readonly BackendAttempt[];
  /** @internal */
  constructor(message: string, attempts: BackendAttempt[]) {
    super(message);
    this.name = 'BackendLoadError';
    this.attempts = attempts;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `type string ('${value.length > 28 ? value.slice(0, 25) + '...' : value}')`;
  return `type ${typeof value} (${String(value)})`;
}

/** What the user can do about each errno, by operation. */
function hint(code: string, op: string, fd: number | undefined, backend: BackendName): string {
  const f = `fd ${fd}`;
  switch (code) {
    case 'EEXIST':
      return `${f} is already registered with this poller; use mod() to change its events, mode or data`;
    case 'ENOENT':
      return op === 'del'
        ? `${f} is not registered with this poller (never added, or del()'d already): there is nothing to remove`
        : `${f} is not registered with this poller; add() it first`;
    case 'EBADF':
      return `${f} is not an open file descriptor (already closed, or never opened)`;
    case 'EPERM':
      return backend === 'epoll'
        ? `${f} cannot be watched by epoll: regular files, directories and /dev/null are always ready; pass { unpollable: 'ready' } to add() (or new SocketPoll({ unpollable: 'ready' })) to have it reported ready on every wait, as poll() does, or read it directly`
        : `${f} cannot be watched by ${backend}; if it is always ready (a regular file, a directory), pass { unpollable: 'ready' } to add()`;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return `the ${backend} backend cannot honour this registration (see supportedModes)`;
    case 'EINVAL':
      return op === 'add'
        ? `${f} is one of this poller's own fds (its ${backend === 'poll' ? '' : `${backend} fd or its `}wakeup channel) and cannot be registered with it`
        : `invalid argument`;
    case 'ENOSPC':
      return `the per-user limit on watched fds was reached (/proc/sys/fs/epoll/max_user_watches)`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files: close some, or raise the limit (ulimit -n)`;
    case 'ENOMEM':
      return `out of memory`;
    default:
      return `${op} failed`;
  }
}

/** @internal builds the SocketPollError for a negative errno returned by the binding. */
/** @internal The name of a negative errno (`-2` → `ENOENT`), or `E<n>` for one the platform does not name. */
export function errnoName(negErrno: number): string {
  try {
    return getSystemErrorName(negErrno);
  } catch {
    return `E${-negErrno}`;
  }
}

export function systemError(
  negErrno: number,
  op: string,
  syscall: string,
  backend: BackendName,
  fd?: number,
): SocketPollError {
  const code = errnoName(negErrno);
  const message = `${code}: ${hint(code, op, fd, backend)} (${op}${fd === undefined ? '' : ` fd ${fd}`}, ${syscall})`;
  return new SocketPollError(message, code, negErrno, syscall, fd);
}

/** What the user can do about each errno of a timer or process operation. */
function sourceHint(code: string, op: string, subject: string, backend: BackendName): string {
  switch (code) {
    case 'ESRCH':
      return `${subject} does not exist: it has exited already (and been reaped), or never existed`;
    case 'ENOSYS':
      return `watching a process needs pidfd_open, which this kernel lacks (Linux 5.3 or later); check poll.supportedSources before addProcess()`;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return `the ${backend} backend cannot watch processes on this system (it needs a pidfd, Linux 5.3 or later); check poll.supportedSources before addProcess()`;
    case 'EEXIST':
      return `${subject} is already watched by this poller; keep the handle addProcess() returned`;
    case 'ENOENT':
      return `${subject} is not live in this poller: cancelled already, from another poller, or a one-shot source whose event was delivered in an earlier batch`;
    case 'EPERM':
      return `not allowed to watch ${subject}`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files: each timer (epoll) or process watch holds one; close some, or raise the limit (ulimit -n)`;
    case 'ENOMEM':
      return `out of memory`;
    default:
      return `${op} failed`;
  }
}

/** @internal builds the SocketPollError for a timer or process operation (`subject`: "process 42", "timer"). */
export function sourceError(
  negErrno: number,
  op: string,
  syscall: string,
  backend: BackendName,
  subject: string,
): SocketPollError {
  const code = errnoName(negErrno);
  const message = `${code}: ${sourceHint(code, op, subject, backend)} (${op} ${subject}, ${syscall})`;
  return new SocketPollError(message, code, negErrno, syscall);
}
