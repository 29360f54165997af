/**
 * @internal
 * Checking of open and update options, before anything is opened: each bad value is a typed error
 * naming the option.
 * @module
 */
import { InvalidArgTypeError, InvalidArgValueError, OutOfRangeError, SocketPoll } from '@socketpoll/core';
import { FLAG_HUPCL, FLAG_RTSCTS, FLAG_XANY, FLAG_XOFF, FLAG_XON } from './native';

/** Parity names, in the addon's numbering (0 none … 4 space). */
export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
/** The largest rate the addon takes (a 32-bit signed argument). */
export const MAX_BAUD_RATE = 0x7fffffff;

/** What a port was opened with, every option filled in (`openOptions` of a port). */
export interface ResolvedOpenOptions {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  lock: boolean;
  stopBits: 1 | 1.5 | 2;
  parity: string;
  rtscts: boolean;
  xon: boolean;
  xoff: boolean;
  xany: boolean;
  hupcl: boolean;
}

/** The checked options, with the addon's encoding of them. */
export interface CheckedOpen {
  options: ResolvedOpenOptions;
  parity: number;
  flags: number;
  poll: SocketPoll<any> | undefined;
}

export function checkBaudRate(value: unknown, name = 'baudRate'): number {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 1 || value > MAX_BAUD_RATE) {
    throw new OutOfRangeError(name, `an integer from 1 to ${MAX_BAUD_RATE} (bits per second)`, value);
  }
  return value;
}

function checkBoolean(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgTypeError(name, 'of type boolean', value);
  return value;
}

export function checkOpenOptions(input: unknown, platform: string = process.platform): CheckedOpen {
  if (input === null || typeof input !== 'object') throw new InvalidArgTypeError('options', 'an object', input);
  const o = input as Record<string, unknown>;
  const path = o.path;
  if (typeof path !== 'string') throw new InvalidArgTypeError('path', 'of type string', path);
  if (path.length === 0 || path.includes('\0')) throw new InvalidArgValueError('path', path, 'must be a non-empty path without NUL characters');
  const baudRate = checkBaudRate(o.baudRate);

  const dataBits = o.dataBits ?? 8;
  if (dataBits !== 5 && dataBits !== 6 && dataBits !== 7 && dataBits !== 8) {
    throw new InvalidArgValueError('dataBits', dataBits, 'must be 5, 6, 7 or 8');
  }
  const stopBits = o.stopBits ?? 1;
  if (stopBits === 1.5) {
    throw new InvalidArgValueError('stopBits', stopBits, 'must be 1 or 2: 1.5 stop bits have no termios setting on Linux or macOS');
  }
  if (stopBits !== 1 && stopBits !== 2) throw new InvalidArgValueError('stopBits', stopBits, 'must be 1 or 2');
  const parityName = o.parity ?? 'none';
  const parity = PARITIES.indexOf(parityName as (typeof PARITIES)[number]);
  if (typeof parityName !== 'string' || parity < 0) {
    throw new InvalidArgValueError('parity', parityName, `must be one of ${PARITIES.map((p) => `'${p}'`).join(', ')}`);
  }
  if (parity >= 3 && platform !== 'linux') {
    throw new InvalidArgValueError('parity', parityName, `is not available on ${platform}: its termios has no mark or space parity (CMSPAR)`);
  }
  const lock = checkBoolean(o, 'lock', true);
  const rtscts = checkBoolean(o, 'rtscts', false);
  const xon = checkBoolean(o, 'xon', false);
  const xoff = checkBoolean(o, 'xoff', false);
  const xany = checkBoolean(o, 'xany', false);
  const hupcl = checkBoolean(o, 'hupcl', true);
  const poll = o.poll;
  if (poll !== undefined && !(poll instanceof SocketPoll)) throw new InvalidArgTypeError('poll', 'a SocketPoll', poll);

  const flags = (rtscts ? FLAG_RTSCTS : 0) | (xon ? FLAG_XON : 0) | (xoff ? FLAG_XOFF : 0) | (xany ? FLAG_XANY : 0) | (hupcl ? FLAG_HUPCL : 0);
  return {
    options: { path, baudRate, dataBits, lock, stopBits, parity: parityName as string, rtscts, xon, xoff, xany, hupcl },
    parity,
    flags,
    poll: poll as SocketPoll<any> | undefined,
  };
}

const MODEM_LINES = ['brk', 'cts', 'dsr', 'dtr', 'rts'] as const;

/** set()'s options as the addon's -1 (leave) / 0 / 1 per line. */
export function checkSetOptions(input: unknown): Record<(typeof MODEM_LINES)[number], number> {
  if (input === null || typeof input !== 'object') throw new InvalidArgTypeError('options', 'an object', input);
  const o = input as Record<string, unknown>;
  const out = {} as Record<(typeof MODEM_LINES)[number], number>;
  for (const name of MODEM_LINES) {
    const value = o[name];
    if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgTypeError(name, 'of type boolean', value);
    out[name] = value === undefined ? -1 : value ? 1 : 0;
  }
  return out;
}
