/**
 * A `Gpio` class shaped like the `onoff` package's, over a line request of the character device
 * instead of the deprecated sysfs files. For programs moving off `onoff`: change the import, and
 * give offsets on the chip rather than sysfs numbers (on a Raspberry Pi they are the BCM numbers,
 * `GPIO17` is 17, whatever base the kernel's sysfs numbering uses).
 *
 * ```ts
 * import { Gpio } from '@socketpoll/gpio';
 * const led = new Gpio(17, 'out');
 * const button = new Gpio(4, 'in', 'both', { debounceTimeout: 10 });
 * button.watch((err, value) => {
 *   if (err) throw err;
 *   led.writeSync(value);
 * });
 * process.on('SIGINT', () => { led.unexport(); button.unexport(); });
 * ```
 * @module
 */
import type { Edge, EdgeEvent } from './abi';
import { listChips, openChip } from './chip';
import { ChipNotFoundError, GpioClosedError, IncompatibleFlagsError } from './errors';
import type { LineRequest } from './request';

/** `'in'`, `'out'` (starts low), `'high'` or `'low'` (outputs starting at that level). */
export type OnoffDirection = 'in' | 'out' | 'high' | 'low';
/** As `onoff`'s. */
export type OnoffEdge = 'none' | 'rising' | 'falling' | 'both';
/** 0 or 1. */
export type BinaryValue = 0 | 1;
/** `onoff`'s callback: an error or the value after the edge. */
export type ValueCallback = (err: Error | null | undefined, value: BinaryValue) => void;

/** `onoff`'s options plus where the line is. */
export interface GpioOptions {
  /** Debounce period in milliseconds, done by the kernel (or the chip) rather than in JS. */
  debounceTimeout?: number;
  /** Values and edges are inverted (as `onoff`'s `activeLow`). */
  activeLow?: boolean;
  /** Accepted for compatibility; a line request always sets the direction it asks for. */
  reconfigureDirection?: boolean;
  /**
   * The chip: a path, name, number or label. Default: the Raspberry Pi's GPIO chip, found by its
   * label (`pinctrl-rp1` on a Pi 5, `pinctrl-bcm2711` on a Pi 4, `pinctrl-bcm2835` on earlier ones).
   */
  chip?: string | number;
  /** The consumer label others see. Default `'onoff'`. */
  consumer?: string;
}

/** Labels of the Raspberry Pi's 40-pin header chip, newest first. */
export const RASPBERRY_PI_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2712', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

function defaultChip(): string {
  const chips = listChips();
  for (const label of RASPBERRY_PI_CHIP_LABELS) if (chips.some((c) => c.label === label)) return label;
  const there = chips.length ? chips.map((c) => `${c.name} '${c.label}'`).join(', ') : 'none';
  throw new ChipNotFoundError(
    RASPBERRY_PI_CHIP_LABELS.join(' | '),
    `no Raspberry Pi GPIO chip (label ${RASPBERRY_PI_CHIP_LABELS.join(', ')}) here; the chips are: ${there}. Pass { chip: '<path, name or label>' } as the fourth argument`,
  );
}

function toEdge(edge: unknown): Edge {
  if (edge === undefined) return 'none';
  if (edge === 'none' || edge === 'rising' || edge === 'falling' || edge === 'both') return edge;
  throw new IncompatibleFlagsError(`edge must be 'none', 'rising', 'falling' or 'both'; got ${JSON.stringify(edge)}`);
}

function checkDirection(direction: unknown): OnoffDirection {
  if (direction === 'in' || direction === 'out' || direction === 'high' || direction === 'low') return direction;
  throw new IncompatibleFlagsError(`direction must be 'in', 'out', 'high' or 'low'; got ${JSON.stringify(direction)}`);
}

/** One GPIO line, with `onoff`'s methods. */
export class Gpio {
  /** 1 */
  static readonly HIGH = 1;
  /** 0 */
  static readonly LOW = 0;

  /** Whether this process can open a GPIO chip (`onoff`: whether GPIO is accessible). */
  static get accessible(): boolean {
    try {
      return listChips().length > 0;
    } catch {
      return false;
    }
  }

  /** The line's offset on its chip. */
  readonly offset: number;
  #request: LineRequest | undefined;
  #callbacks: ValueCallback[] = [];
  #onEdge = (ev: EdgeEvent): void => {
    const value: BinaryValue = ev.edge === 'rising' ? 1 : 0;
    for (const cb of this.#callbacks.slice()) cb(null, value);
  };
  #onError = (err: Error): void => {
    for (const cb of this.#callbacks.slice()) cb(err, 0);
  };

  /**
   * Requests line `gpio` of the chip: `direction` `'in'`, `'out'`, `'high'` or `'low'`; `edge` for
   * inputs (`'none'` by default).
   * @throws the typed errors of `requestLines` (chip not found, offset out of range, `EBUSY`
   *   naming who holds the line, incompatible settings).
   */
  constructor(gpio: number, direction: OnoffDirection, edge?: OnoffEdge | GpioOptions, options: GpioOptions = {}) {
    if (typeof edge === 'object' && edge !== null) {
      options = edge;
      edge = undefined;
    }
    const dir = checkDirection(direction);
    const e = toEdge(edge);
    const debounce = options.debounceTimeout ?? 0;
    if (typeof debounce !== 'number' || !(debounce >= 0) || !Number.isFinite(debounce)) {
      throw new IncompatibleFlagsError(`debounceTimeout must be a number of milliseconds >= 0; got ${JSON.stringify(options.debounceTimeout)}`);
    }
    if (dir !== 'in' && e !== 'none') {
      throw new IncompatibleFlagsError(`edge '${e}' on line ${gpio}, an output: edges are reported on inputs ('in')`);
    }
    const chip = openChip(options.chip ?? defaultChip());
    try {
      this.offset = chip.lineOffset(gpio);
      this.#request = chip.requestLines({
        lines: [this.offset],
        consumer: options.consumer ?? 'onoff',
        direction: dir === 'in' ? 'input' : 'output',
        ...(dir === 'in' ? { edge: e, debounceUs: Math.round(debounce * 1000) } : { value: dir === 'high' ? 1 : 0 }),
        activeLow: options.activeLow === true,
      });
    } finally {
      chip.close();
    }
  }

  /** The line request underneath (its `fd`, `events()`, `reconfigure()`…). */
  get request(): LineRequest {
    return this.#req();
  }

  /** Reads the value: a promise, or `callback(err, value)`. */
  read(): Promise<BinaryValue>;
  read(callback: ValueCallback): void;
  read(callback?: ValueCallback): Promise<BinaryValue> | void {
    if (callback === undefined) return new Promise((resolve, reject) => setImmediate(() => {
      try {
        resolve(this.readSync());
      } catch (err) {
        reject(err);
      }
    }));
    setImmediate(() => {
      let value: BinaryValue;
      try {
        value = this.readSync();
      } catch (err) {
        callback(err as Error, 0);
        return;
      }
      callback(null, value);
    });
  }

  /** Reads the value now. */
  readSync(): BinaryValue {
    return this.#req().getValue(this.offset);
  }

  /** Writes the value: a promise, or `callback(err)`. */
  write(value: BinaryValue): Promise<void>;
  write(value: BinaryValue, callback: (err?: Error | null) => void): void;
  write(value: BinaryValue, callback?: (err?: Error | null) => void): Promise<void> | void {
    if (callback === undefined) return new Promise((resolve, reject) => setImmediate(() => {
      try {
        this.writeSync(value);
        resolve();
      } catch (err) {
        reject(err);
      }
    }));
    setImmediate(() => {
      try {
        this.writeSync(value);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null);
    });
  }

  /** Writes the value now. */
  writeSync(value: BinaryValue): void {
    this.#req().setValue(this.offset, value);
  }

  /** Calls `callback(err, value)` on each edge (the value after it: 1 rising, 0 falling). */
  watch(callback: ValueCallback): void {
    if (typeof callback !== 'function') throw new TypeError('watch(callback): callback must be a function');
    const req = this.#req();
    this.#callbacks.push(callback);
    if (this.#callbacks.length === 1) {
      req.on('edge', this.#onEdge);
      req.on('error', this.#onError);
    }
  }

  /** Removes one callback, or all when none is given. */
  unwatch(callback?: ValueCallback): void {
    if (callback === undefined) this.#callbacks = [];
    else this.#callbacks = this.#callbacks.filter((cb) => cb !== callback);
    if (this.#callbacks.length === 0 && this.#request !== undefined) {
      this.#request.off('edge', this.#onEdge);
      this.#request.off('error', this.#onError);
    }
  }

  /** Removes every callback. */
  unwatchAll(): void {
    this.unwatch();
  }

  /** `'in'` or `'out'`. */
  direction(): 'in' | 'out' {
    return this.#req().settingsOf(this.offset).direction === 'output' ? 'out' : 'in';
  }

  /** Changes the direction in place (`'high'`/`'low'`: an output at that level). */
  setDirection(direction: OnoffDirection): void {
    const dir = checkDirection(direction);
    if (dir === 'in') this.#req().reconfigure({ direction: 'input' });
    else this.#req().reconfigure({ direction: 'output', ...(dir === 'out' ? {} : { value: dir === 'high' ? 1 : 0 }) });
  }

  /** The edge setting. */
  edge(): OnoffEdge {
    return this.#req().settingsOf(this.offset).edge ?? 'none';
  }

  /** Changes which edges are reported (inputs only). */
  setEdge(edge: OnoffEdge): void {
    const e = toEdge(edge);
    if (e !== 'none' && this.direction() === 'out') {
      throw new IncompatibleFlagsError(`edge '${e}' on line ${this.offset}, an output: setDirection('in') first`);
    }
    this.#req().reconfigure({ edge: e });
  }

  /** Whether values and edges are inverted. */
  activeLow(): boolean {
    return this.#req().settingsOf(this.offset).activeLow === true;
  }

  /** Inverts (or stops inverting) values and edges. */
  setActiveLow(invert: boolean): void {
    this.#req().reconfigure({ activeLow: invert === true });
  }

  /** Releases the line; the object is unusable afterwards. Idempotent. */
  unexport(): void {
    this.unwatchAll();
    this.#request?.close();
    this.#request = undefined;
  }

  #req(): LineRequest {
    if (this.#request === undefined || this.#request.closed) {
      throw new GpioClosedError(`line ${this.offset} was unexported: make a new Gpio to use it again`);
    }
    return this.#request;
  }
}
