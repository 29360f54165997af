/**
 * @internal
 * The native calls this package makes, from the addon `@socketpoll/core` loads (the same file
 * that holds the poller): `gpioIoctl` and `gpioAbi` (packages/native/src/binding/gpio.cc) and
 * `readInto` (fd_io.cc).
 * @module
 */
import { loadBackend } from '@socketpoll/core';
import { OFFSETS, SIZES } from './abi';
import { GpioError } from './errors';

export interface GpioAddon {
  gpioIoctl(fd: number, op: number, buffer: Uint8Array): number;
  gpioClose(fd: number): number;
  gpioAbi: { supported: boolean; sizes: Record<string, number>; offsets: Record<string, number> };
  readInto(fd: number, buffer: Uint8Array, offset: number, length: number): number;
}

let cached: GpioAddon | undefined;

/** The addon, checked once: it has the GPIO calls and its structures match ours byte for byte. */
export function addon(): GpioAddon {
  if (cached) return cached;
  const loaded = loadBackend();
  const a = loaded.addon as unknown as Partial<GpioAddon>;
  if (typeof a.gpioIoctl !== 'function' || typeof a.gpioClose !== 'function' || a.gpioAbi === undefined || typeof a.readInto !== 'function') {
    throw new GpioError(
      'ERR_GPIO_UNSUPPORTED',
      `the socketpoll addon loaded from ${loaded.addonPath} has no GPIO calls: install @socketpoll/gpio and @socketpoll/core of the same version`,
    );
  }
  if (!a.gpioAbi.supported) {
    throw new GpioError('ERR_GPIO_UNSUPPORTED', `GPIO character devices are a Linux interface; this is ${process.platform}`);
  }
  for (const [k, v] of Object.entries(SIZES)) check(a.gpioAbi.sizes[k], v, `size of ${k}`);
  for (const [k, v] of Object.entries(OFFSETS)) check(a.gpioAbi.offsets[k], v, `offset ${k}`);
  cached = a as GpioAddon;
  return cached;
}

function check(native: number | undefined, ours: number, what: string): void {
  if (native !== ours) {
    throw new GpioError('ERR_GPIO_UNSUPPORTED', `the addon's GPIO ${what} is ${native}, this package's is ${ours}: install matching versions`);
  }
}
