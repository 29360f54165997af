/**
 * Line requests: one or many lines of a chip held with settings, their values, and their edge
 * events delivered through socketpoll (the request's fd signals `POLL_READ` while events are
 * queued; no thread of its own on Node, no polling in a timer).
 *
 * ```ts
 * const req = openChip('gpiochip0').requestLines({ lines: [17], edge: 'both', debounceUs: 5000 });
 * req.on('edge', ({ offset, edge, timestampNs }) => console.log(offset, edge, timestampNs));
 * // or: for await (const ev of req.events()) { ... }
 * ```
 * @module
 */
import { EventEmitter } from 'node:events';
import {
  checkValue, decodeEvent, decodeValueBits, type EdgeEvent, encodeConfig, encodeRequest, FLAG, LINES_MAX,
  type LineInfo, type LineSettings, lineFlags, OP, SIZES,
} from './abi';
import {
  GpioBusyError, GpioClosedError, GpioError, GpioSystemError, IncompatibleFlagsError, LineNotRequestedError, errnoName,
} from './errors';
import { addon } from './native';
import { setRef, unwatch, watch, type Watched } from './watch';

/** What a request needs of its chip (a `Chip` is one). */
export interface ChipHandle {
  readonly fd: number;
  readonly name: string;
  readonly label: string;
  readonly path: string;
  lineOffset(line: number | string): number;
  getLineInfo(offset: number): LineInfo;
}

/** A line of a request with its own settings: `{ line: 17, direction: 'output', value: 1 }`. */
export interface LineSpec extends LineSettings {
  /** Offset or name. */
  line: number | string;
}

/**
 * What to request. Top-level settings apply to every line; a {@link LineSpec} in `lines`
 * overrides them for its line.
 */
export interface RequestOptions extends LineSettings {
  /** Offsets, names, or {@link LineSpec}s (at most 64 lines). */
  lines: ReadonlyArray<number | string | LineSpec>;
  /** Label shown as the lines' consumer to others (`gpioinfo`, `getLineInfo`). Default `'socketpoll'`. */
  consumer?: string;
  /** Size of the kernel's event buffer in events (0: the kernel's default, 16 per line). */
  eventBufferSize?: number;
}

/** Options of {@link LineRequest.events}. */
export interface EdgeIteratorOptions {
  /** Ends the iteration (rejecting the pending `next()` with an `AbortError`). */
  signal?: AbortSignal;
}

const SETTING_KEYS = ['direction', 'edge', 'bias', 'drive', 'activeLow', 'debounceUs', 'eventClock', 'value'] as const;

function pickSettings(from: LineSettings): LineSettings {
  const out: LineSettings = {};
  for (const k of SETTING_KEYS) if (from[k] !== undefined) (out as Record<string, unknown>)[k] = from[k];
  return out;
}

// The fd comes from an ioctl, not from Node's fs: it is closed natively.
const closer = new FinalizationRegistry<number>((fd) => {
  addon().gpioClose(fd);
});

/** @internal Makes the request; used by `Chip.requestLines`. */
export function requestOn(chip: ChipHandle, options: RequestOptions): LineRequest {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.lines)) {
    throw new IncompatibleFlagsError('requestLines() takes { lines: [offset | name | { line, ...settings }, ...], ...settings }');
  }
  const lines = options.lines;
  if (lines.length === 0 || lines.length > LINES_MAX) {
    throw new IncompatibleFlagsError(`a request holds 1 to ${LINES_MAX} lines; got ${lines.length}`);
  }
  const consumer = options.consumer ?? 'socketpoll';
  if (typeof consumer !== 'string') throw new IncompatibleFlagsError(`consumer must be a string; got ${JSON.stringify(consumer)}`);
  const bufferSize = options.eventBufferSize ?? 0;
  if (!Number.isInteger(bufferSize) || bufferSize < 0 || bufferSize > 0xffff) {
    throw new IncompatibleFlagsError(`eventBufferSize must be an integer from 0 to 65535; got ${String(options.eventBufferSize)}`);
  }
  const defaults = pickSettings(options);
  const offsets: number[] = [];
  const settings: LineSettings[] = [];
  for (const l of lines) {
    const spec: LineSpec = typeof l === 'object' && l !== null ? l : { line: l as number | string };
    const offset = chip.lineOffset(spec.line);
    if (offsets.includes(offset)) throw new IncompatibleFlagsError(`line ${offset} is listed twice in one request`);
    offsets.push(offset);
    settings.push({ ...defaults, ...pickSettings(spec) });
  }
  const names = offsets.map((o) => `line ${o} of ${chip.name}`);
  const req = encodeRequest(offsets, consumer, settings, names, bufferSize); // validates the settings
  const rc = addon().gpioIoctl(chip.fd, OP.getLine, req);
  if (rc < 0) throw requestError(chip, rc, offsets, consumer);
  return new LineRequest(rc, chip, offsets, settings, consumer);
}

function requestError(chip: ChipHandle, rc: number, offsets: number[], consumer: string): Error {
  const code = errnoName(rc);
  if (code === 'EBUSY') {
    for (const o of offsets) {
      let info;
      try {
        info = chip.getLineInfo(o);
      } catch {
        continue;
      }
      if (info.used) {
        const who = info.consumer ? `'${info.consumer}'` : 'a consumer that gave no label (perhaps the kernel, e.g. an LED or a button driver)';
        return new GpioBusyError(
          rc,
          `EBUSY: line ${o} of ${chip.name} ('${chip.label}') is already requested by ${who}: release it there first (or close() the request holding it)`,
          chip.path, o, info.consumer,
        );
      }
    }
    return new GpioBusyError(rc, `EBUSY: a line of ${offsets.join(', ')} on ${chip.name} is busy`, chip.path, offsets[0], '');
  }
  const hint = code === 'EINVAL'
    ? ': the kernel refused these settings (a flag this chip or kernel does not support, such as debounce or a bias on some chips)'
    : code === 'EPERM' || code === 'EACCES' ? ': the device may not be written by this user' : '';
  return new GpioSystemError(rc, 'ioctl', `${code}: requesting lines ${offsets.join(', ')} of ${chip.path} as '${consumer}' failed${hint}`, chip.path);
}

interface Waiter {
  resolve(r: IteratorResult<EdgeEvent>): void;
  reject(e: unknown): void;
}

interface EdgeQueue {
  events: EdgeEvent[];
  waiter?: Waiter;
  error?: unknown;
  done: boolean;
}

/**
 * Lines held with their settings. Values: {@link getValues}/{@link setValues}. Edge events: the
 * `'edge'` event (an {@link EdgeEvent}) or {@link events} as an async iterator; watching starts with
 * the first listener or iterator and stops with the last. Other events: `'overflow'`
 * (`{ missed, seqno }`: the kernel's event buffer was full and dropped `missed` events before
 * event `seqno`; also each event's `missed` field), `'error'` (reading failed: the chip went away),
 * `'close'`.
 *
 * Released by {@link close}, or by garbage collection once nothing refers to it — which a request
 * being watched never is: it stays until unwatched or closed.
 */
export class LineRequest extends EventEmitter implements Watched {
  /** Offsets of the lines held, in request order. */
  readonly offsets: readonly number[];
  /** The chip's path. */
  readonly chipPath: string;
  /** The chip's name (`gpiochipN`). */
  readonly chipName: string;
  /** The consumer label the lines are held under. */
  readonly consumer: string;
  #fd: number;
  #settings: LineSettings[];
  #flags: number[];
  #iterators = new Set<EdgeQueue>();
  #watching = false;
  #refed = true;
  #lastSeqno = 0;
  #buffer: Uint8Array | undefined;

  /** @internal */
  constructor(fd: number, chip: ChipHandle, offsets: number[], settings: LineSettings[], consumer: string) {
    super();
    this.#fd = fd;
    this.offsets = Object.freeze(offsets.slice());
    this.chipPath = chip.path;
    this.chipName = chip.name;
    this.consumer = consumer;
    this.#flags = settings.map((s, i) => lineFlags(s, `line ${offsets[i]}`));
    this.#settings = settings.map((s, i) => ({
      ...s,
      direction: this.#flags[i] & FLAG.OUTPUT ? 'output' : this.#flags[i] & FLAG.INPUT ? 'input' : 'as-is',
    }));
    closer.register(this, fd, this);
    this.on('newListener', (name) => {
      if (name === 'edge') queueMicrotask(() => this.#updateWatch());
    });
    this.on('removeListener', (name) => {
      if (name === 'edge') this.#updateWatch();
    });
  }

  /**
   * The request's fd (`-1` once closed): readable (`POLL_READ`) while edge events are queued;
   * `read(2)` returns 48-byte `struct gpio_v2_line_event` records. For your own poller: do not
   * also watch the request through this object.
   */
  get fd(): number {
    return this.#fd;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The current settings of a line of this request, by offset. */
  settingsOf(offset: number): Readonly<LineSettings> {
    return { ...this.#settings[this.#index(offset, 'settingsOf')] };
  }

  /**
   * The lines' values (logical: an active-low line reads 1 when low), in the order of `offsets`
   * (default: all lines of the request).
   * @throws {@link LineNotRequestedError} for a line not in the request.
   */
  getValues(offsets: readonly number[] = this.offsets): Array<0 | 1> {
    this.#checkOpen();
    const idx = offsets.map((o) => this.#index(o, 'getValues'));
    let mask = 0n;
    for (const i of idx) mask |= 1n << BigInt(i);
    const buf = new Uint8Array(SIZES.lineValues);
    new DataView(buf.buffer).setBigUint64(8, mask, true);
    const rc = addon().gpioIoctl(this.#fd, OP.getValues, buf);
    if (rc < 0) throw new GpioSystemError(rc, 'ioctl', `${errnoName(rc)}: reading values of lines ${offsets.join(', ')} of ${this.chipPath}`, this.chipPath);
    const bits = decodeValueBits(buf);
    return idx.map((i) => ((bits >> BigInt(i)) & 1n ? 1 : 0));
  }

  /** One line's value. */
  getValue(offset: number): 0 | 1 {
    return this.getValues([offset])[0];
  }

  /**
   * Sets output lines: `{ 17: 1, 27: 0 }`, or `[[17, 1], [27, 0]]` (a `Map` works too).
   * @throws {@link LineNotRequestedError} for a line not in the request, {@link IncompatibleFlagsError}
   *   for a line that is not an output.
   */
  setValues(values: Readonly<Record<number, number | boolean>> | Iterable<readonly [number, number | boolean]>): void {
    this.#checkOpen();
    const entries: Array<readonly [number, number | boolean]> =
      values !== null && typeof (values as Iterable<unknown>)[Symbol.iterator] === 'function'
        ? Array.from(values as Iterable<readonly [number, number | boolean]>)
        : Object.entries(values as Record<string, number | boolean>).map(([k, v]) => [Number(k), v] as const);
    let mask = 0n;
    let bits = 0n;
    for (const [offset, v] of entries) {
      const i = this.#index(offset, 'setValues');
      if ((this.#flags[i] & FLAG.OUTPUT) === 0) {
        throw new IncompatibleFlagsError(`line ${offset} is requested as an input: reconfigure({ direction: 'output' }) before setting its value`);
      }
      const bit = checkValue(v, `the value of line ${offset}`);
      mask |= 1n << BigInt(i);
      if (bit) bits |= 1n << BigInt(i);
    }
    if (mask === 0n) return;
    const buf = new Uint8Array(SIZES.lineValues);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, bits, true);
    view.setBigUint64(8, mask, true);
    const rc = addon().gpioIoctl(this.#fd, OP.setValues, buf);
    if (rc < 0) throw new GpioSystemError(rc, 'ioctl', `${errnoName(rc)}: setting values of ${this.chipPath}`, this.chipPath);
    for (const [offset, v] of entries) {
      const i = this.offsets.indexOf(offset);
      this.#settings[i] = { ...this.#settings[i], value: checkValue(v, 'value') };
    }
  }

  /** Sets one output line. */
  setValue(offset: number, value: number | boolean): void {
    this.setValues([[offset, value]]);
  }

  /**
   * Changes settings in place, without releasing the lines: `settings` for every line, then
   * `perLine[offset]` for that line; what is not given stays as it is (an output keeps its value).
   *
   * ```ts
   * req.reconfigure({ direction: 'output', edge: 'none', value: 1 });
   * req.reconfigure({}, { 17: { bias: 'pull-down' } });
   * ```
   */
  reconfigure(settings: LineSettings, perLine: Readonly<Record<number, LineSettings>> = {}): void {
    this.#checkOpen();
    for (const k of Object.keys(perLine)) this.#index(Number(k), 'reconfigure');
    let current: Array<0 | 1> | undefined;
    const next = this.offsets.map((o, i) => {
      const cur = this.#settings[i];
      const given = { ...pickSettings(settings ?? {}), ...pickSettings(perLine[o] ?? {}) };
      const merged: LineSettings = { ...cur, ...given };
      if (merged.direction === 'output') {
        // An output keeps the value it has unless one is given; an input turned output starts at 0.
        if (given.value === undefined) merged.value = cur.direction === 'output' ? (current ??= this.getValues())[i] : 0;
        if (given.edge === undefined) merged.edge = 'none';
        if (given.debounceUs === undefined) delete merged.debounceUs;
        if (given.eventClock === undefined) delete merged.eventClock;
      } else {
        delete merged.value;
        if (given.drive === undefined) delete merged.drive;
      }
      if ((merged.edge ?? 'none') === 'none' && given.eventClock === undefined) delete merged.eventClock;
      return merged;
    });
    const flags = next.map((s, i) => lineFlags(s, `line ${this.offsets[i]} of ${this.chipName}`));
    const buf = new Uint8Array(SIZES.lineConfig);
    encodeConfig(next, this.offsets.map((o) => `line ${o} of ${this.chipName}`), buf);
    const rc = addon().gpioIoctl(this.#fd, OP.setConfig, buf);
    if (rc < 0) {
      throw new GpioSystemError(rc, 'ioctl', `${errnoName(rc)}: reconfiguring lines ${this.offsets.join(', ')} of ${this.chipPath} failed (the request keeps its previous settings)`, this.chipPath);
    }
    this.#settings = next;
    this.#flags = flags;
  }

  /**
   * Edge events as an async iterator (watching while it runs). Ends on `break`, on {@link close},
   * on `signal` abort; a read error rejects the pending `next()`.
   *
   * ```ts
   * for await (const ev of req.events({ signal: AbortSignal.timeout(60_000) })) console.log(ev);
   * ```
   */
  events(options: EdgeIteratorOptions = {}): AsyncIterableIterator<EdgeEvent> {
    this.#checkOpen();
    const q: EdgeQueue = { events: [], done: false };
    this.#iterators.add(q);
    this.#updateWatch();
    const signal = options.signal;
    const finish = (): void => {
      q.done = true;
      this.#iterators.delete(q);
      signal?.removeEventListener('abort', onAbort);
      this.#updateWatch();
    };
    const onAbort = (): void => {
      const err = Object.assign(new Error('The operation was aborted', { cause: signal?.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
      q.error ??= err;
      const w = q.waiter;
      q.waiter = undefined;
      finish();
      w?.reject(err);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const it: AsyncIterableIterator<EdgeEvent> = {
      next: () => {
        if (q.events.length > 0) return Promise.resolve({ value: q.events.shift() as EdgeEvent, done: false });
        if (q.error !== undefined) {
          const e = q.error;
          q.error = undefined;
          if (!q.done) finish();
          return Promise.reject(e);
        }
        if (q.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          q.waiter = { resolve, reject };
        });
      },
      return: () => {
        finish();
        const w = q.waiter;
        q.waiter = undefined;
        w?.resolve({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EdgeEvent> {
    return this.events();
  }

  /** A watched request keeps the process alive (the default), like a socket. */
  ref(): this {
    this.#refed = true;
    if (this.#watching) setRef(this, true);
    return this;
  }

  /** Lets the process exit while this request is watched. */
  unref(): this {
    this.#refed = false;
    if (this.#watching) setRef(this, false);
    return this;
  }

  /** Releases the lines (their settings stay as the driver leaves them) and ends the iterators. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    this.#stopWatching();
    closer.unregister(this);
    const fd = this.#fd;
    this.#fd = -1;
    addon().gpioClose(fd);
    for (const q of this.#iterators) {
      q.done = true;
      const w = q.waiter;
      q.waiter = undefined;
      w?.resolve({ value: undefined, done: true });
    }
    this.#iterators.clear();
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Called by the shared poller when the fd is readable. */
  onReady(_events: number): void {
    if (this.#fd < 0) return;
    const buf = (this.#buffer ??= new Uint8Array(SIZES.lineEvent * 32));
    const a = addon();
    for (;;) {
      const n = a.readInto(this.#fd, buf, 0, buf.length);
      if (n < 0) {
        if (errnoName(n) === 'EAGAIN') return;
        this.#fail(new GpioSystemError(n, 'read', `${errnoName(n)}: reading edge events of ${this.chipPath} failed (the chip went away?); the request stopped watching`, this.chipPath));
        return;
      }
      if (n === 0) return;
      for (let at = 0; at + SIZES.lineEvent <= n; at += SIZES.lineEvent) {
        const ev = decodeEvent(buf, at, this.#lastSeqno);
        this.#lastSeqno = ev.seqno;
        if (ev.missed > 0) this.emit('overflow', { missed: ev.missed, seqno: ev.seqno });
        for (const q of this.#iterators) {
          if (q.waiter) {
            const w = q.waiter;
            q.waiter = undefined;
            w.resolve({ value: ev, done: false });
          } else q.events.push(ev);
        }
        this.emit('edge', ev);
        if (this.#fd < 0) return; // closed by a listener
      }
      if (n < buf.length) return;
    }
  }

  #fail(err: GpioError): void {
    this.#stopWatching();
    for (const q of this.#iterators) {
      const w = q.waiter;
      q.waiter = undefined;
      if (w) w.reject(err);
      else q.error = err;
    }
    if (this.listenerCount('error') > 0 || this.#iterators.size === 0) this.emit('error', err);
  }

  #updateWatch(): void {
    const want = this.#fd >= 0 && (this.listenerCount('edge') > 0 || this.#iterators.size > 0);
    if (want && !this.#watching) {
      watch(this, this.#refed);
      this.#watching = true;
    } else if (!want && this.#watching) {
      this.#stopWatching();
    }
  }

  #stopWatching(): void {
    if (!this.#watching) return;
    this.#watching = false;
    unwatch(this);
  }

  #index(offset: number, what: string): number {
    const i = this.offsets.indexOf(offset);
    if (i < 0) {
      throw new LineNotRequestedError(`${what}: line ${String(offset)} is not in this request (it holds ${this.offsets.join(', ')} of ${this.chipName}): request it first`);
    }
    return i;
  }

  #checkOpen(): void {
    if (this.#fd < 0) throw new GpioClosedError(`this request of lines ${this.offsets.join(', ')} of ${this.chipName} is closed: request the lines again`);
  }
}
