/**
 * GPIO chips: `/dev/gpiochipN` character devices. List them, open one by path, name or label,
 * read each line's info and request lines.
 *
 * ```ts
 * import { listChips, openChip } from '@socketpoll/gpio';
 * console.log(listChips());              // [{ path: '/dev/gpiochip0', name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 }]
 * const chip = openChip('pinctrl-bcm2711');
 * console.log(chip.getLineInfo(17));     // { offset: 17, name: 'GPIO17', used: false, direction: 'input', ... }
 * chip.close();
 * ```
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeChipInfo, decodeLineInfo, encodeLineInfoQuery, type LineInfo, OP, SIZES } from './abi';
import { ChipNotFoundError, GpioClosedError, GpioSystemError, LineNotFoundError, errnoName } from './errors';
import { addon } from './native';
import { LineRequest, type RequestOptions, requestOn } from './request';

/** A chip as {@link listChips} reports it. */
export interface ChipDescription {
  /** `/dev/gpiochipN`. */
  readonly path: string;
  /** The kernel's name, `gpiochipN`. */
  readonly name: string;
  /** The driver's label, e.g. `pinctrl-bcm2711` (Raspberry Pi 4), `pinctrl-rp1` (Pi 5), `gpio-sim.0-node0`. */
  readonly label: string;
  /** Number of lines (offsets 0 to lines - 1). */
  readonly lines: number;
}

const DEV = '/dev';
const closer = new FinalizationRegistry<number>((fd) => {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
});

function chipPaths(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(DEV);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^gpiochip\d+$/.test(n))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
    .map((n) => path.join(DEV, n));
}

/**
 * Every GPIO chip this process can open, in number order. Chips it may not open (permissions)
 * are left out: {@link openChip} on their path says why.
 */
export function listChips(): ChipDescription[] {
  const out: ChipDescription[] = [];
  for (const p of chipPaths()) {
    try {
      const chip = openChipPath(p);
      out.push({ path: chip.path, name: chip.name, label: chip.label, lines: chip.lines });
      chip.close();
    } catch {
      // not accessible, or gone meanwhile
    }
  }
  return out;
}

/**
 * Opens a chip by path (`/dev/gpiochip0`), name (`gpiochip0`), number (`0`) or label
 * (`pinctrl-bcm2711`).
 * @throws {@link ChipNotFoundError} when nothing matches (the message lists the chips there are).
 * @throws {@link GpioSystemError} `EACCES` when the device may not be opened (add the user to the
 *   group owning `/dev/gpiochip*`, usually `gpio`).
 */
export function openChip(chip: string | number): Chip {
  if (typeof chip === 'number') {
    if (!Number.isInteger(chip) || chip < 0) throw new ChipNotFoundError(String(chip), `no GPIO chip number ${chip}: give a path, name, number or label`);
    return openChipPath(path.join(DEV, `gpiochip${chip}`), String(chip));
  }
  if (typeof chip !== 'string' || chip === '') {
    throw new ChipNotFoundError(String(chip), `the chip must be a path, name, number or label; got ${JSON.stringify(chip)}`);
  }
  if (chip.includes('/')) return openChipPath(chip, chip);
  if (/^gpiochip\d+$/.test(chip)) return openChipPath(path.join(DEV, chip), chip);
  if (/^\d+$/.test(chip)) return openChipPath(path.join(DEV, `gpiochip${chip}`), chip);
  for (const p of chipPaths()) {
    let c: Chip;
    try {
      c = openChipPath(p);
    } catch {
      continue;
    }
    if (c.label === chip) return c;
    c.close();
  }
  throw notFound(chip);
}

function notFound(asked: string): ChipNotFoundError {
  const there = listChips();
  const list = there.length ? there.map((c) => `${c.name} '${c.label}' (${c.lines} lines)`).join(', ') : 'none (no /dev/gpiochip* this process can open)';
  return new ChipNotFoundError(asked, `no GPIO chip '${asked}': the chips here are ${list}. Pass a path, name or label of one of them`);
}

function openChipPath(p: string, asked = p): Chip {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw notFound(asked);
    const hint = e.code === 'EACCES' || e.code === 'EPERM' ? ': give this user access to it (usually by adding it to the group that owns the device, e.g. `gpio`)' : '';
    throw new GpioSystemError(e.errno ?? -1, 'open', `${e.code}: cannot open ${p}${hint}`, p);
  }
  const buf = new Uint8Array(SIZES.chipInfo);
  const rc = addon().gpioIoctl(fd, OP.chipInfo, buf);
  if (rc < 0) {
    fs.closeSync(fd);
    throw new GpioSystemError(rc, 'ioctl', `${errnoName(rc)}: ${p} is not a GPIO chip (GPIO_GET_CHIPINFO_IOCTL failed)`, p);
  }
  return new Chip(p, fd, decodeChipInfo(buf));
}

/** An open GPIO chip. Close it when done (a request made from it stays valid after). */
export class Chip {
  /** `/dev/gpiochipN`. */
  readonly path: string;
  /** `gpiochipN`. */
  readonly name: string;
  /** The driver's label. */
  readonly label: string;
  /** Number of lines. */
  readonly lines: number;
  #fd: number;

  /** @internal */
  constructor(p: string, fd: number, info: { name: string; label: string; lines: number }) {
    this.path = p;
    this.#fd = fd;
    this.name = info.name;
    this.label = info.label;
    this.lines = info.lines;
    closer.register(this, fd, this);
  }

  /** The chip's fd (`-1` once closed). */
  get fd(): number {
    return this.#fd;
  }

  /**
   * What the kernel says about one line, by offset or name.
   * @throws {@link LineNotFoundError} for an offset out of range or a name the chip does not have.
   */
  getLineInfo(line: number | string): LineInfo {
    return this.#info(this.lineOffset(line));
  }

  /** Every line's info, offsets 0 to `lines - 1`. */
  getLinesInfo(): LineInfo[] {
    const out: LineInfo[] = [];
    for (let i = 0; i < this.lines; i++) out.push(this.#info(i));
    return out;
  }

  /**
   * The offset of a line given by offset (checked against the chip's range) or by name.
   * @throws {@link LineNotFoundError}
   */
  lineOffset(line: number | string): number {
    this.#checkOpen();
    if (typeof line === 'number') {
      if (!Number.isInteger(line) || line < 0 || line >= this.lines) {
        throw new LineNotFoundError(`offset ${line} is out of range: ${this.name} ('${this.label}') has lines 0 to ${this.lines - 1}`, 'ERR_GPIO_OFFSET_OUT_OF_RANGE');
      }
      return line;
    }
    if (typeof line !== 'string' || line === '') {
      throw new LineNotFoundError(`a line is an offset (integer) or a name; got ${JSON.stringify(line)}`);
    }
    for (let i = 0; i < this.lines; i++) if (this.#info(i).name === line) return i;
    throw new LineNotFoundError(`${this.name} ('${this.label}') has no line named '${line}': see chip.getLinesInfo() for the names`);
  }

  /**
   * Requests lines of this chip (see {@link RequestOptions}). The request holds them until its
   * `close()` (or garbage collection when nothing watches it).
   *
   * ```ts
   * const req = chip.requestLines({ lines: [17, 27], edge: 'both', bias: 'pull-up', consumer: 'doorbell' });
   * req.on('edge', (ev) => console.log(ev.offset, ev.edge, ev.timestampNs));
   * ```
   */
  requestLines(options: RequestOptions): LineRequest {
    this.#checkOpen();
    return requestOn(this, options);
  }

  /** Closes the chip's fd. Idempotent. Requests made from it stay valid. */
  close(): void {
    if (this.#fd < 0) return;
    closer.unregister(this);
    const fd = this.#fd;
    this.#fd = -1;
    fs.closeSync(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #info(offset: number): LineInfo {
    this.#checkOpen();
    const buf = encodeLineInfoQuery(offset);
    const rc = addon().gpioIoctl(this.#fd, OP.lineInfo, buf);
    if (rc < 0) throw new GpioSystemError(rc, 'ioctl', `${errnoName(rc)}: GPIO_V2_GET_LINEINFO_IOCTL for line ${offset} of ${this.path}`, this.path);
    return decodeLineInfo(buf);
  }

  #checkOpen(): void {
    if (this.#fd < 0) throw new GpioClosedError(`${this.path} is closed: open it again with openChip()`);
  }
}

/**
 * Requests lines of a chip given by path, name, number or label, without keeping the chip open.
 *
 * ```ts
 * const led = requestLines('gpiochip0', { lines: [{ line: 'GPIO18', direction: 'output', value: 1 }] });
 * ```
 */
export function requestLines(chip: string | number, options: RequestOptions): LineRequest {
  const c = openChip(chip);
  try {
    return c.requestLines(options);
  } finally {
    c.close();
  }
}
