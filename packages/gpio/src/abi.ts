/**
 * @internal
 * The GPIO character device's structures (Linux uAPI v2, include/uapi/linux/gpio.h) as bytes:
 * encoding of line configurations and requests, decoding of chip info, line info and edge events.
 * The native side (packages/native/src/binding/gpio.cc) only makes the ioctl; its `gpioAbi` sizes
 * and offsets are compared with these at load time.
 * @module
 */
import { endianness } from 'node:os';
import { IncompatibleFlagsError } from './errors';

export const NAME_SIZE = 32;
export const LINES_MAX = 64;
export const NUM_ATTRS_MAX = 10;

export const SIZES = { chipInfo: 68, lineInfo: 256, lineRequest: 592, lineConfig: 272, lineValues: 16, lineEvent: 48 };
export const OFFSETS = {
  chipInfoLines: 64,
  lineInfoOffset: 64,
  lineInfoFlags: 72,
  lineInfoAttrs: 80,
  requestConsumer: 256,
  requestConfig: 288,
  requestNumLines: 560,
  requestEventBufferSize: 564,
  requestFd: 588,
  configAttrs: 32,
  eventSeqno: 16,
};

/** The ioctls gpio.cc makes, by its `op` number. */
export const OP = { chipInfo: 0, lineInfo: 1, getLine: 2, setConfig: 3, getValues: 4, setValues: 5 } as const;

/** enum gpio_v2_line_flag */
export const FLAG = {
  USED: 1 << 0,
  ACTIVE_LOW: 1 << 1,
  INPUT: 1 << 2,
  OUTPUT: 1 << 3,
  EDGE_RISING: 1 << 4,
  EDGE_FALLING: 1 << 5,
  OPEN_DRAIN: 1 << 6,
  OPEN_SOURCE: 1 << 7,
  BIAS_PULL_UP: 1 << 8,
  BIAS_PULL_DOWN: 1 << 9,
  BIAS_DISABLED: 1 << 10,
  EVENT_CLOCK_REALTIME: 1 << 11,
  EVENT_CLOCK_HTE: 1 << 12,
} as const;

/** enum gpio_v2_line_attr_id */
export const ATTR = { FLAGS: 1, OUTPUT_VALUES: 2, DEBOUNCE: 3 } as const;

const LE = endianness() === 'LE';

/** The direction of a line: `'as-is'` leaves it as it is (a request then only reads). */
export type Direction = 'input' | 'output' | 'as-is';
/** Which edges of an input line are reported as events. */
export type Edge = 'none' | 'rising' | 'falling' | 'both';
/** The line's bias: `'as-is'` leaves what the board set. */
export type Bias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
/** How an output line drives. */
export type Drive = 'push-pull' | 'open-drain' | 'open-source';
/** Which clock timestamps edge events. */
export type EventClock = 'monotonic' | 'realtime' | 'hte';

/** The settings of one line in a request (each defaults as shown). */
export interface LineSettings {
  /** `'input'` (the default), `'output'` or `'as-is'`. */
  direction?: Direction;
  /** Edge events to report (inputs only): `'none'` (the default), `'rising'`, `'falling'`, `'both'`. */
  edge?: Edge;
  /** `'as-is'` (the default), `'pull-up'`, `'pull-down'`, `'disabled'`. */
  bias?: Bias;
  /** Outputs only: `'push-pull'` (the default), `'open-drain'`, `'open-source'`. */
  drive?: Drive;
  /** Values and edges are logical: high reads 0 and a falling level is a `'rising'` edge. Default false. */
  activeLow?: boolean;
  /** Debounce period in microseconds (inputs only), done by the kernel or the chip. Default 0: none. */
  debounceUs?: number;
  /** Clock of the events' `timestampNs`: `'monotonic'` (the default), `'realtime'`, `'hte'` (hardware). */
  eventClock?: EventClock;
  /** Outputs: the value set when the line is requested or reconfigured (0 by default). */
  value?: number | boolean;
}

function checkOne<T extends string>(what: string, value: unknown, allowed: readonly T[], line: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new IncompatibleFlagsError(`${what} of ${line} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Computes a line's flags and checks them as the kernel will (gpio_v2_line_flags_validate). */
export function lineFlags(s: LineSettings, line: string): number {
  const direction = checkOne('direction', s.direction, ['input', 'output', 'as-is'] as const, line) ??
    (s.value !== undefined || s.drive !== undefined ? 'output' : 'input');
  const edge = checkOne('edge', s.edge, ['none', 'rising', 'falling', 'both'] as const, line) ?? 'none';
  const bias = checkOne('bias', s.bias, ['as-is', 'pull-up', 'pull-down', 'disabled'] as const, line) ?? 'as-is';
  const drive = checkOne('drive', s.drive, ['push-pull', 'open-drain', 'open-source'] as const, line);
  const clock = checkOne('eventClock', s.eventClock, ['monotonic', 'realtime', 'hte'] as const, line) ?? 'monotonic';
  if (s.activeLow !== undefined && typeof s.activeLow !== 'boolean') {
    throw new IncompatibleFlagsError(`activeLow of ${line} must be true or false; got ${JSON.stringify(s.activeLow)}`);
  }
  let flags = 0;
  if (direction === 'input') flags |= FLAG.INPUT;
  if (direction === 'output') flags |= FLAG.OUTPUT;
  if (edge !== 'none') {
    if (direction !== 'input') {
      throw new IncompatibleFlagsError(`edge '${edge}' on ${line}, which is ${direction === 'output' ? 'an output' : "left 'as-is'"}: edge events need direction 'input'`);
    }
    if (edge === 'rising' || edge === 'both') flags |= FLAG.EDGE_RISING;
    if (edge === 'falling' || edge === 'both') flags |= FLAG.EDGE_FALLING;
  }
  if (drive !== undefined && drive !== 'push-pull' && direction !== 'output') {
    throw new IncompatibleFlagsError(`drive '${drive}' on ${line}, which is not an output: drive applies to direction 'output'`);
  }
  if (drive === 'open-drain') flags |= FLAG.OPEN_DRAIN;
  if (drive === 'open-source') flags |= FLAG.OPEN_SOURCE;
  if (bias !== 'as-is') {
    if (direction === 'as-is') throw new IncompatibleFlagsError(`bias '${bias}' on ${line}: bias needs direction 'input' or 'output', not 'as-is'`);
    flags |= bias === 'pull-up' ? FLAG.BIAS_PULL_UP : bias === 'pull-down' ? FLAG.BIAS_PULL_DOWN : FLAG.BIAS_DISABLED;
  }
  if (s.activeLow) flags |= FLAG.ACTIVE_LOW;
  if (clock !== 'monotonic') {
    if (edge === 'none') throw new IncompatibleFlagsError(`eventClock '${clock}' on ${line}, which reports no edges: set edge too`);
    flags |= clock === 'realtime' ? FLAG.EVENT_CLOCK_REALTIME : FLAG.EVENT_CLOCK_HTE;
  }
  const debounce = s.debounceUs ?? 0;
  if (!Number.isInteger(debounce) || debounce < 0 || debounce > 0xffffffff) {
    throw new IncompatibleFlagsError(`debounceUs of ${line} must be an integer number of microseconds >= 0; got ${String(s.debounceUs)}`);
  }
  if (debounce > 0 && direction !== 'input') {
    throw new IncompatibleFlagsError(`debounceUs on ${line}, which is not an input: debouncing applies to direction 'input'`);
  }
  if (s.value !== undefined) {
    if (direction !== 'output') throw new IncompatibleFlagsError(`value on ${line}, which is not an output: only outputs take an initial value`);
    checkValue(s.value, `value of ${line}`);
  }
  return flags;
}

/** A line value from 0, 1, false or true. */
export function checkValue(v: unknown, what: string): 0 | 1 {
  if (v === 0 || v === false) return 0;
  if (v === 1 || v === true) return 1;
  throw new IncompatibleFlagsError(`${what} must be 0, 1, false or true; got ${JSON.stringify(v)}`);
}

/** Encodes struct gpio_v2_line_config for lines (by index in the request) with their settings. */
export function encodeConfig(settings: readonly LineSettings[], names: readonly string[], out: Uint8Array, at = 0): void {
  const view = new DataView(out.buffer, out.byteOffset + at, SIZES.lineConfig);
  new Uint8Array(out.buffer, out.byteOffset + at, SIZES.lineConfig).fill(0);
  const flags = settings.map((s, i) => lineFlags(s, names[i]));
  // The most common flags are the config's default; every other value becomes a FLAGS attribute.
  const count = new Map<number, number>();
  for (const f of flags) count.set(f, (count.get(f) ?? 0) + 1);
  let base = flags[0];
  for (const [f, n] of count) if (n > (count.get(base) ?? 0)) base = f;
  const attrs: Array<{ id: number; value: bigint; mask: bigint }> = [];
  const maskOf = (pred: (i: number) => boolean): bigint => {
    let m = 0n;
    for (let i = 0; i < settings.length; i++) if (pred(i)) m |= 1n << BigInt(i);
    return m;
  };
  for (const f of count.keys()) {
    if (f !== base) attrs.push({ id: ATTR.FLAGS, value: BigInt(f), mask: maskOf((i) => flags[i] === f) });
  }
  const outputs = maskOf((i) => (flags[i] & FLAG.OUTPUT) !== 0);
  if (outputs !== 0n) {
    const values = maskOf((i) => (flags[i] & FLAG.OUTPUT) !== 0 && checkValue(settings[i].value ?? 0, 'value') === 1);
    attrs.push({ id: ATTR.OUTPUT_VALUES, value: values, mask: outputs });
  }
  const periods = new Set(settings.map((s) => s.debounceUs ?? 0).filter((p) => p > 0));
  for (const p of periods) attrs.push({ id: ATTR.DEBOUNCE, value: BigInt(p), mask: maskOf((i) => (settings[i].debounceUs ?? 0) === p) });
  if (attrs.length > NUM_ATTRS_MAX) {
    throw new IncompatibleFlagsError(
      `these lines need ${attrs.length} different settings groups; one request holds at most ${NUM_ATTRS_MAX}: split the request or make more lines alike`,
    );
  }
  view.setBigUint64(0, BigInt(base), LE);
  view.setUint32(8, attrs.length, LE);
  attrs.forEach((a, k) => {
    const o = OFFSETS.configAttrs + k * 24;
    view.setUint32(o, a.id, LE);
    if (a.id === ATTR.DEBOUNCE) view.setUint32(o + 8, Number(a.value), LE);
    else view.setBigUint64(o + 8, a.value, LE);
    view.setBigUint64(o + 16, a.mask, LE);
  });
}

/** Encodes struct gpio_v2_line_request. */
export function encodeRequest(offsets: readonly number[], consumer: string, settings: readonly LineSettings[], names: readonly string[], eventBufferSize: number): Uint8Array {
  const out = new Uint8Array(SIZES.lineRequest);
  const view = new DataView(out.buffer);
  offsets.forEach((o, i) => view.setUint32(i * 4, o, LE));
  writeName(out, OFFSETS.requestConsumer, consumer);
  encodeConfig(settings, names, out, OFFSETS.requestConfig);
  view.setUint32(OFFSETS.requestNumLines, offsets.length, LE);
  view.setUint32(OFFSETS.requestEventBufferSize, eventBufferSize, LE);
  return out;
}

function writeName(out: Uint8Array, at: number, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  out.set(bytes.subarray(0, NAME_SIZE - 1), at);
}

function readName(b: Uint8Array, at: number): string {
  const raw = b.subarray(at, at + NAME_SIZE);
  const end = raw.indexOf(0);
  return Buffer.from(raw.subarray(0, end < 0 ? NAME_SIZE : end)).toString('utf8');
}

export interface ChipInfoRaw {
  name: string;
  label: string;
  lines: number;
}

export function decodeChipInfo(b: Uint8Array): ChipInfoRaw {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { name: readName(b, 0), label: readName(b, NAME_SIZE), lines: view.getUint32(OFFSETS.chipInfoLines, LE) };
}

/** What the kernel says about one line (GPIO_V2_GET_LINEINFO_IOCTL). */
export interface LineInfo {
  /** Offset of the line on its chip. */
  readonly offset: number;
  /** The line's name from the device tree or driver (`''` when it has none). */
  readonly name: string;
  /** Whether some request (in any process) or the kernel holds the line. */
  readonly used: boolean;
  /** The label of whoever holds it (`''` when free or unlabelled). */
  readonly consumer: string;
  readonly direction: 'input' | 'output';
  readonly activeLow: boolean;
  readonly bias: Bias;
  readonly drive: Drive;
  readonly edge: Edge;
  readonly eventClock: EventClock;
  /** Debounce period in microseconds (0: none). */
  readonly debounceUs: number;
}

export function decodeLineInfo(b: Uint8Array): LineInfo {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = Number(view.getBigUint64(OFFSETS.lineInfoFlags, LE));
  const numAttrs = view.getUint32(OFFSETS.lineInfoOffset + 4, LE);
  let debounceUs = 0;
  for (let k = 0; k < Math.min(numAttrs, NUM_ATTRS_MAX); k++) {
    const o = OFFSETS.lineInfoAttrs + k * 16;
    if (view.getUint32(o, LE) === ATTR.DEBOUNCE) debounceUs = view.getUint32(o + 8, LE);
  }
  const rising = (flags & FLAG.EDGE_RISING) !== 0;
  const falling = (flags & FLAG.EDGE_FALLING) !== 0;
  return {
    offset: view.getUint32(OFFSETS.lineInfoOffset, LE),
    name: readName(b, 0),
    consumer: readName(b, NAME_SIZE),
    used: (flags & FLAG.USED) !== 0,
    direction: flags & FLAG.OUTPUT ? 'output' : 'input',
    activeLow: (flags & FLAG.ACTIVE_LOW) !== 0,
    bias: flags & FLAG.BIAS_PULL_UP ? 'pull-up' : flags & FLAG.BIAS_PULL_DOWN ? 'pull-down' : flags & FLAG.BIAS_DISABLED ? 'disabled' : 'as-is',
    drive: flags & FLAG.OPEN_DRAIN ? 'open-drain' : flags & FLAG.OPEN_SOURCE ? 'open-source' : 'push-pull',
    edge: rising && falling ? 'both' : rising ? 'rising' : falling ? 'falling' : 'none',
    eventClock: flags & FLAG.EVENT_CLOCK_REALTIME ? 'realtime' : flags & FLAG.EVENT_CLOCK_HTE ? 'hte' : 'monotonic',
    debounceUs,
  };
}

/** One edge, decoded from struct gpio_v2_line_event. */
export interface EdgeEvent {
  /** Offset of the line on its chip. */
  readonly offset: number;
  /** `'rising'` or `'falling'` (logical: swapped on an active-low line). */
  readonly edge: 'rising' | 'falling';
  /** The kernel's timestamp in nanoseconds, on the request's event clock (CLOCK_MONOTONIC by default). */
  readonly timestampNs: bigint;
  /** Sequence number of this event among all lines of the request (from 1). */
  readonly seqno: number;
  /** Sequence number of this event on its line (from 1). */
  readonly lineSeqno: number;
  /**
   * How many events of the request were lost just before this one because the kernel's event
   * buffer was full (a gap in `seqno`); 0 normally.
   */
  readonly missed: number;
}

export function decodeEvent(b: Uint8Array, at: number, lastSeqno: number): EdgeEvent {
  const view = new DataView(b.buffer, b.byteOffset + at, SIZES.lineEvent);
  const seqno = view.getUint32(OFFSETS.eventSeqno, LE);
  return {
    offset: view.getUint32(12, LE),
    edge: view.getUint32(8, LE) === 1 ? 'rising' : 'falling',
    timestampNs: view.getBigUint64(0, LE),
    seqno,
    lineSeqno: view.getUint32(20, LE),
    missed: seqno > lastSeqno + 1 ? seqno - lastSeqno - 1 : 0,
  };
}

export function encodeLineInfoQuery(offset: number): Uint8Array {
  const out = new Uint8Array(SIZES.lineInfo);
  new DataView(out.buffer).setUint32(OFFSETS.lineInfoOffset, offset, LE);
  return out;
}

/** struct gpio_v2_line_values: bits and mask over request indices. */
export function encodeValues(bits: bigint, mask: bigint): Uint8Array {
  const out = new Uint8Array(SIZES.lineValues);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, bits, LE);
  view.setBigUint64(8, mask, LE);
  return out;
}

export function decodeValueBits(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, LE);
}
