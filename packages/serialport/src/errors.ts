/**
 * Errors of the serial port binding. Option errors are `@socketpoll/core`'s typed argument errors
 * (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`), whose message names the
 * option; failures of the system are {@link SerialPortError}s.
 *
 * ```ts
 * try {
 *   await SocketPollBinding.open({ path: '/dev/ttyUSB0', baudRate: 115200 });
 * } catch (err) {
 *   if (err instanceof SerialPortError && err.code === 'ENOENT') console.log('not plugged in');
 * }
 * ```
 * @module
 */
import { getSystemErrorName } from 'node:util';

/**
 * A failed operation on a serial port. `code` is the errno name (`'ENOENT'`, `'EIO'`…), or
 * `'ERR_SERIALPORT_CANCELED'` (the port closed first), `'ERR_SERIALPORT_NOT_OPEN'` (used after
 * `close()`), `'ERR_SERIALPORT_BUSY'` (a second read or write while one is in progress). As `@serialport/bindings-interface`
 * asks: a read, write or drain still in progress when the port closes rejects with `canceled: true`;
 * a read or write that fails for any other reason has `disconnected: true` (the device is gone, or
 * its other end hung up), and the stream closes the port.
 */
export class SerialPortError extends Error {
  /** errno name, or `'ERR_SERIALPORT_CANCELED'` / `'ERR_SERIALPORT_NOT_OPEN'` / `'ERR_SERIALPORT_BUSY'`. */
  readonly code: string;
  /** Negative errno for a failed system call. */
  readonly errno?: number;
  /** The system call that failed. */
  readonly syscall?: string;
  /** The port's path. */
  readonly path?: string;
  /** The operation was cancelled because the port closed. */
  readonly canceled?: boolean;
  /** The device went away (or the other end hung up): the port is of no further use. */
  readonly disconnected?: boolean;

  /** @internal */
  constructor(
    message: string,
    code: string,
    extra: { errno?: number; syscall?: string; path?: string; canceled?: boolean; disconnected?: boolean } = {},
  ) {
    super(message);
    this.name = 'SerialPortError';
    this.code = code;
    if (extra.errno !== undefined) this.errno = extra.errno;
    if (extra.syscall !== undefined) this.syscall = extra.syscall;
    if (extra.path !== undefined) this.path = extra.path;
    if (extra.canceled) this.canceled = true;
    if (extra.disconnected) this.disconnected = true;
  }
}

/** @internal errno name of a negative errno. */
export function errnoName(negErrno: number): string {
  try {
    return getSystemErrorName(negErrno);
  } catch {
    return `E${-negErrno}`;
  }
}

/** @internal a SerialPortError for a negative errno returned by the addon. */
export function systemError(negErrno: number, syscall: string, path: string, what: string, extra: { disconnected?: boolean } = {}): SerialPortError {
  const code = errnoName(negErrno);
  return new SerialPortError(`${code}: ${what} (${syscall} '${path}')`, code, { errno: negErrno, syscall, path, ...extra });
}

/** @internal the error of an operation cut short by close(). */
export function canceledError(what: string, path: string): SerialPortError {
  return new SerialPortError(`${what} canceled: the port was closed`, 'ERR_SERIALPORT_CANCELED', { path, canceled: true });
}

/** @internal */
export function notOpenError(path: string): SerialPortError {
  return new SerialPortError(`Port is not open: '${path}' was closed; open it again first`, 'ERR_SERIALPORT_NOT_OPEN', { path });
}
