/**
 * The errors the `epoll` package throws: plain `Error`s. Its own misuse messages are kept word for
 * word (with more detail after them); a failed system call, which the original reports with only
 * `strerror()` ("File exists"), starts with that same text and says what happened and what to do,
 * with Node's `code`, `errno` (negative) and `syscall` set.
 * @module
 */
import { getSystemErrorName } from 'node:util';

/** glibc's `strerror()` text, which the original package's message is. */
const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EBADF: 'Bad file descriptor',
  ENOMEM: 'Cannot allocate memory',
  EEXIST: 'File exists',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  ELOOP: 'Too many levels of symbolic links',
  ENOTSUP: 'Operation not supported',
  EOPNOTSUPP: 'Operation not supported',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
};

function hint(code: string, op: string, fd: number): string {
  switch (code) {
    case 'EEXIST':
      return `fd ${fd} is already registered (with this Epoll or another one of this thread); use modify() to change its events, or remove() it first`;
    case 'ENOENT':
      return `fd ${fd} is not registered with this Epoll; add() it first`;
    case 'EBADF':
      return `fd ${fd} is not an open file descriptor (already closed, or never opened)`;
    case 'EPERM':
      return `fd ${fd} cannot be watched by epoll: regular files, directories and /dev/null are always ready (stdin redirected from a file is one); read it directly`;
    case 'EINVAL':
      return op === 'add' ? `fd ${fd} cannot be registered (it is the poller's own fd)` : `invalid argument for fd ${fd}`;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return `this system's poller cannot honour these events for fd ${fd} (EPOLLET needs epoll or kqueue; the poll() fallback has no edge mode)`;
    case 'ENOSPC':
      return `the per-user limit on watched fds was reached (/proc/sys/fs/epoll/max_user_watches)`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files: close some, or raise the limit (ulimit -n)`;
    default:
      return `${op}(${fd}) failed`;
  }
}

/** An `Error` for a failed `op` on `fd`, from a negative errno. */
export function systemError(negErrno: number, op: string, fd: number): Error {
  let code: string;
  try {
    code = getSystemErrorName(negErrno);
  } catch {
    code = `E${-negErrno}`;
  }
  const err = new Error(`${STRERROR[code] ?? code} (${code}): ${hint(code, op, fd)}`);
  return Object.assign(err, { code, errno: negErrno, syscall: 'epoll_ctl' });
}

/** An `Error` with the original package's message, and more after it. */
export function usageError(message: string, detail?: string): Error {
  return new Error(detail === undefined ? message : `${message}: ${detail}`);
}

/** How a value looks in a message. */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `type string ('${value.length > 28 ? value.slice(0, 25) + '...' : value}')`;
  if (typeof value === 'bigint') return `type bigint (${value}n)`;
  return `type ${typeof value} (${String(value)})`;
}
