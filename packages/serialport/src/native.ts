/**
 * @internal
 * The addon's serial functions (packages/native/src/binding/serial.cc) and the single-fd I/O the
 * ports use (fd_io.cc), reached through `@socketpoll/core`'s loader: the same prebuilt binary as
 * the poller, so nothing else is installed per platform.
 * @module
 */
import { loadBackend } from '@socketpoll/core';

/** @internal Every function returns a count, 0, or a negative errno. */
export interface SerialAddon {
  serialOpen(path: string, lock: boolean): number;
  serialClose(fd: number): number;
  serialConfigure(fd: number, baudRate: number, dataBits: number, stopBits: number, parity: number, flags: number): number;
  serialSetBaudRate(fd: number, baudRate: number): number;
  serialGetBaudRate(fd: number): number;
  serialSetModem(fd: number, dtr: number, rts: number, cts: number, dsr: number, brk: number): number;
  serialGetModem(fd: number): number;
  serialFlush(fd: number): number;
  serialOutputPending(fd: number): number;
  readInto(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  writeFrom(fd: number, buffer: Uint8Array, offset: number, length: number): number;
}

/** Bits of serialConfigure's `flags`. */
export const FLAG_RTSCTS = 1;
export const FLAG_XON = 2;
export const FLAG_XOFF = 4;
export const FLAG_XANY = 8;
export const FLAG_HUPCL = 16;

/** Bits of serialGetModem's answer. */
export const MODEM_CTS = 1;
export const MODEM_DSR = 2;
export const MODEM_DCD = 4;

let cached: SerialAddon | undefined;

/** @internal The loaded addon; throws core's `BackendLoadError` when none loads. */
export function serialAddon(): SerialAddon {
  if (cached !== undefined) return cached;
  const loaded = loadBackend();
  const addon = loaded.addon as unknown as Partial<SerialAddon>;
  if (typeof addon.serialOpen !== 'function') {
    throw new Error(
      `the socketpoll addon loaded from ${loaded.addonPath} has no serial port functions: it is older than @socketpoll/serialport; ` +
        'install matching versions of @socketpoll/core and @socketpoll/serialport',
    );
  }
  cached = addon as SerialAddon;
  return cached;
}
