/**
 * @internal
 * The argument checks of the whole package, in one place (as Node keeps lib/internal/validators.js):
 * each throws the typed error of errors.ts that names the argument and what it must be.
 * @module
 */
import { InvalidArgTypeError, InvalidArgValueError, OutOfRangeError } from './errors';
import { EXACT_EVENTS_BIT, MODES, POLL_ALL, type PollMode, UNPOLLABLE_READY_BIT } from './flags';
import type { TimerOptions } from './sources';

/** The largest fd, pid, timeout (ms) and chunk size the C interface takes: a C `int`. */
export const INT32_MAX = 0x7fffffff;
/** The largest `highWaterMark` a stream takes (1 GiB). */
export const MAX_HIGH_WATER_MARK = 1 << 30;

/** @internal validates an options bag (undefined is an empty one). */
export function checkOptions<O extends object>(options: unknown, name = 'options'): Partial<O> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new InvalidArgTypeError(name, 'of type object', options);
  return options as Partial<O>;
}

/** @internal validates an optional `signal` option. */
export function checkSignal(signal: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    signal === null ||
    typeof signal !== 'object' ||
    typeof (signal as AbortSignal).aborted !== 'boolean' ||
    typeof (signal as AbortSignal).addEventListener !== 'function'
  ) {
    throw new InvalidArgTypeError(name, 'an instance of AbortSignal', signal);
  }
  return signal as AbortSignal;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidArgTypeError(name, 'of type boolean', value);
  return value;
}

export function checkFd(fd: unknown): asserts fd is number {
  if (typeof fd !== 'number') throw new InvalidArgTypeError('fd', 'of type number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > INT32_MAX) {
    throw new OutOfRangeError('fd', `an integer >= 0 and <= ${INT32_MAX}`, fd);
  }
}

export function checkEvents(events: unknown): asserts events is number {
  if (typeof events !== 'number') throw new InvalidArgTypeError('events', 'of type number', events);
  if (!Number.isInteger(events) || events < 0 || events > POLL_ALL || (events & ~POLL_ALL) !== 0) {
    throw new InvalidArgValueError('events', events, 'must be a combination of the POLL_* flags');
  }
}

export function checkMode(mode: unknown, fallback: PollMode): PollMode {
  if (mode === undefined) return fallback;
  if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) {
    throw new InvalidArgValueError('options.mode', mode, "must be 'level', 'edge' or 'oneshot'");
  }
  return mode as PollMode;
}

/** The C flag bit for an `unpollable` option. */
export function checkUnpollable(value: unknown, name: string): number {
  if (value === 'ready') return UNPOLLABLE_READY_BIT;
  if (value === 'error') return 0;
  throw new InvalidArgValueError(name, value, "must be 'error' or 'ready'");
}

/** The C flag bit for an `exactEvents` option; `kept` when it is omitted. */
export function checkExactEvents(value: unknown, kept: number): number {
  if (value === undefined) return kept;
  if (typeof value !== 'boolean') throw new InvalidArgTypeError('options.exactEvents', 'of type boolean', value);
  return value ? EXACT_EVENTS_BIT : 0;
}

export function checkTimeout(timeout: unknown): number {
  if (timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new InvalidArgTypeError('timeoutMs', 'of type number', timeout);
  if (timeout === Infinity || timeout === -1) return -1;
  if (Number.isNaN(timeout) || timeout < 0 || timeout > INT32_MAX) {
    throw new OutOfRangeError('timeoutMs', `-1, Infinity, or >= 0 and <= ${INT32_MAX}`, timeout);
  }
  return Math.ceil(timeout);
}

/** An fd list element: an integer fd, or -1 for one to skip. */
export function checkBatchFd(value: unknown, index: number): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(`fds[${index}]`, 'of type number', value);
  if (!Number.isInteger(value) || value < -1 || value > INT32_MAX) {
    throw new OutOfRangeError(`fds[${index}]`, `an integer >= -1 (-1: skipped) and <= ${INT32_MAX}`, value);
  }
  return value;
}

export function checkBatch(fds: ArrayLike<number>, buffer: Uint8Array, chunkSize: number): Int32Array {
  if (fds === null || typeof fds !== 'object' || typeof fds.length !== 'number') {
    throw new InvalidArgTypeError('fds', 'an Int32Array or an array of numbers', fds);
  }
  if (!Number.isInteger(fds.length) || fds.length < 0) {
    throw new OutOfRangeError('fds.length', 'an integer >= 0', fds.length);
  }
  if (!(buffer instanceof Uint8Array)) throw new InvalidArgTypeError('buffer', 'a Buffer or Uint8Array', buffer);
  if (typeof chunkSize !== 'number') throw new InvalidArgTypeError('chunkSize', 'of type number', chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > INT32_MAX) {
    throw new OutOfRangeError('chunkSize', `an integer >= 1 and <= ${INT32_MAX}`, chunkSize);
  }
  if (fds.length * chunkSize > buffer.byteLength) {
    throw new OutOfRangeError('buffer.byteLength', `>= fds.length * chunkSize (${fds.length * chunkSize})`, buffer.byteLength);
  }
  if (fds instanceof Int32Array) return fds;
  const list = new Int32Array(fds.length);
  for (let i = 0; i < list.length; i++) list[i] = checkBatchFd(fds[i], i);
  return list;
}

export function checkLengths(lengths: ArrayLike<number>, count: number, chunkSize: number): Int32Array {
  if (lengths === null || typeof lengths !== 'object' || typeof lengths.length !== 'number') {
    throw new InvalidArgTypeError('lengths', 'an Int32Array or an array of numbers', lengths);
  }
  if (lengths.length < count) {
    throw new OutOfRangeError('lengths.length', `>= fds.length (${count})`, lengths.length);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const n: unknown = lengths[i];
    if (typeof n !== 'number') throw new InvalidArgTypeError(`lengths[${i}]`, 'of type number', n);
    if (!Number.isInteger(n) || n < 0 || n > chunkSize) {
      throw new OutOfRangeError(`lengths[${i}]`, `an integer >= 0 and <= chunkSize (${chunkSize})`, n);
    }
    out[i] = n;
  }
  return out;
}

export function checkResults(results: Int32Array | undefined, count: number): Int32Array {
  if (results === undefined) return new Int32Array(count);
  if (!(results instanceof Int32Array)) throw new InvalidArgTypeError('results', 'an Int32Array', results);
  if (results.length < count) throw new OutOfRangeError('results.length', `>= fds.length (${count})`, results.length);
  return results;
}

/** A delay in milliseconds, 0 … INT32_MAX (once()'s `timeout`). */
export function checkDelay(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!(value >= 0 && value <= INT32_MAX)) throw new OutOfRangeError(name, `>= 0 and <= ${INT32_MAX}`, value);
  return value;
}

export function checkTimerMs(ms: unknown): number {
  if (typeof ms !== 'number') throw new InvalidArgTypeError('ms', 'of type number', ms);
  if (Number.isNaN(ms) || ms <= 0 || ms > INT32_MAX) {
    throw new OutOfRangeError('ms', `> 0 and <= ${INT32_MAX} (milliseconds; a fraction rounds up: 0.5 is 1 ms)`, ms);
  }
  return Math.ceil(ms);
}

export function checkTimerOptions(options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') throw new InvalidArgTypeError('options', 'of type object', options);
  const repeat = (options as TimerOptions).repeat;
  if (repeat !== undefined && typeof repeat !== 'boolean') {
    throw new InvalidArgTypeError('options.repeat', 'of type boolean', repeat);
  }
  return repeat === true;
}

export function checkPid(pid: unknown): number {
  if (typeof pid !== 'number') throw new InvalidArgTypeError('pid', 'of type number', pid);
  if (!Number.isInteger(pid) || pid < 1 || pid > INT32_MAX) {
    throw new OutOfRangeError('pid', `an integer >= 1 and <= ${INT32_MAX}`, pid);
  }
  return pid;
}

export function checkHighWaterMark(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > MAX_HIGH_WATER_MARK) {
    throw new OutOfRangeError(name, `an integer >= 0 and <= ${MAX_HIGH_WATER_MARK}`, value);
  }
}
