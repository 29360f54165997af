/**
 * Typed errors of `@socketpoll/gpio`. Each has a `code`; messages say what to fix.
 *
 * ```ts
 * try {
 *   chip.requestLines({ lines: [17], edge: 'both' });
 * } catch (err) {
 *   if (err instanceof GpioBusyError) console.error(`line 17 is held by ${err.consumer}`);
 *   else throw err;
 * }
 * ```
 * @module
 */
import { getSystemErrorName } from 'node:util';

/** Base class: every error this package throws on purpose is a `GpioError`. */
export class GpioError extends Error {
  /** A Node-style code: `'ERR_GPIO_…'` or an errno name for system errors. */
  readonly code: string;
  /** @internal */
  constructor(code: string, message: string) {
    super(message);
    this.name = 'GpioError';
    this.code = code;
  }
}

/** No GPIO chip matches the path, name or label given (`code: 'ERR_GPIO_CHIP_NOT_FOUND'`). */
export class ChipNotFoundError extends GpioError {
  /** What was asked for. */
  readonly chip: string;
  /** @internal */
  constructor(chip: string, message: string) {
    super('ERR_GPIO_CHIP_NOT_FOUND', message);
    this.name = 'ChipNotFoundError';
    this.chip = chip;
  }
}

/**
 * A line the chip does not have: `code` is `'ERR_GPIO_OFFSET_OUT_OF_RANGE'` for an offset,
 * `'ERR_GPIO_LINE_NOT_FOUND'` for a name (or a value that is neither).
 */
export class LineNotFoundError extends GpioError {
  /** @internal */
  constructor(message: string, code: 'ERR_GPIO_LINE_NOT_FOUND' | 'ERR_GPIO_OFFSET_OUT_OF_RANGE' = 'ERR_GPIO_LINE_NOT_FOUND') {
    super(code, message);
    this.name = 'LineNotFoundError';
  }
}

/** A GpioError class whose every instance has this `name` and this `code`; its argument is the message. */
function fixedCodeError(name: string, code: string): new (message: string) => GpioError {
  return class extends GpioError {
    constructor(message: string) {
      super(code, message);
      this.name = name;
    }
  };
}

/** Settings that do not go together, or a bad setting value (`code: 'ERR_GPIO_INCOMPATIBLE_FLAGS'`). */
export class IncompatibleFlagsError extends fixedCodeError('IncompatibleFlagsError', 'ERR_GPIO_INCOMPATIBLE_FLAGS') {}

/** A value read or written for a line that the request does not hold (`code: 'ERR_GPIO_LINE_NOT_REQUESTED'`). */
export class LineNotRequestedError extends fixedCodeError('LineNotRequestedError', 'ERR_GPIO_LINE_NOT_REQUESTED') {}

/** The request or chip was closed (`code: 'ERR_GPIO_CLOSED'`). */
export class GpioClosedError extends fixedCodeError('GpioClosedError', 'ERR_GPIO_CLOSED') {}

/** A failed system call (`code` is the errno name: `'EACCES'`, `'EINVAL'`, `'ENODEV'`…). */
export class GpioSystemError extends GpioError {
  /** Negative errno, as in Node's system errors. */
  readonly errno: number;
  /** `'open'`, `'ioctl'`, `'read'`… */
  readonly syscall: string;
  /** The chip's path. */
  readonly path?: string;
  /** @internal */
  constructor(errno: number, syscall: string, message: string, path?: string) {
    super(errnoName(errno), message);
    this.name = 'GpioSystemError';
    this.errno = errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }
}

/** A line is already requested by someone else (`code: 'EBUSY'`); `consumer` names who. */
export class GpioBusyError extends GpioSystemError {
  /** The offset of the busy line. */
  readonly offset: number;
  /** The holder's consumer label (`''` when it gave none). */
  readonly consumer: string;
  /** @internal */
  constructor(errno: number, message: string, path: string, offset: number, consumer: string) {
    super(errno, 'ioctl', message, path);
    this.name = 'GpioBusyError';
    this.offset = offset;
    this.consumer = consumer;
  }
}

/** @internal */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `E${-errno}`;
  }
}
