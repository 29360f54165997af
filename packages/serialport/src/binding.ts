/**
 * `SocketPollBinding`: `@serialport/bindings-interface`'s `BindingInterface`, with each port's reads
 * and writes waiting on socketpoll's readiness (no thread per port, no libuv handle), so
 * `SerialPortStream` works on Node, Bun, Deno and in worker threads.
 *
 * ```ts
 * import { SerialPortStream } from '@serialport/stream';
 * import { SocketPollBinding } from '@socketpoll/serialport';
 *
 * const port = new SerialPortStream({ binding: SocketPollBinding, path: '/dev/ttyUSB0', baudRate: 115200 });
 * port.on('data', (chunk) => console.log(chunk));
 * ```
 * @module
 */
import type { BindingInterface, BindingPortInterface, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-interface';
import { constants as osConstants } from 'node:os';
import { InvalidArgTypeError, OutOfRangeError, POLL_ERROR, POLL_HANGUP, POLL_READ, POLL_WRITE, type SocketPoll } from '@socketpoll/core';
import { canceledError, errnoName, notOpenError, SerialPortError, systemError } from './errors';
import { listPorts } from './list';
import { MODEM_CTS, MODEM_DCD, MODEM_DSR, type SerialAddon, serialAddon } from './native';
import { checkBaudRate, checkOpenOptions, checkSetOptions, type ResolvedOpenOptions } from './options';
import { type PortPoller, portPoller, type ReadyPort } from './poller';

const { EAGAIN, EWOULDBLOCK, ENOENT, EISDIR, ENOTTY, EACCES, EPERM, EBUSY, ENXIO, EINVAL, ENOTSUP, EOPNOTSUPP, ENODEV } = osConstants.errno;

/**
 * Open options of {@link SocketPollBinding}: `@serialport/bindings-interface`'s `OpenOptions`,
 * plus the poller to wait on.
 *
 * ```ts
 * await SocketPollBinding.open({ path: '/dev/ttyAMA0', baudRate: 9600, dataBits: 7, parity: 'even', poll: myPoller });
 * ```
 */
export interface SocketPollOpenOptions {
  /** The device, e.g. `/dev/ttyUSB0`, `/dev/serial/by-id/…`, `/dev/cu.usbserial-110`. */
  path: string;
  /** Bits per second: a standard rate, or any other where the driver can (Linux termios2, macOS IOSSIOSPEED). */
  baudRate: number;
  /** 5, 6, 7 or 8 (default 8). */
  dataBits?: 5 | 6 | 7 | 8;
  /** An advisory `flock()` that makes a second open (by anyone who also locks) fail. Default `true`. */
  lock?: boolean;
  /** 1 or 2 (default 1); 1.5 has no termios setting and is refused. */
  stopBits?: 1 | 1.5 | 2;
  /** `'none'` (default), `'even'`, `'odd'`, `'mark'`, `'space'` (mark and space: Linux only). */
  parity?: string;
  /** RTS/CTS hardware flow control. Default `false`. */
  rtscts?: boolean;
  /** XON/XOFF flow control of output (IXON). Default `false`. */
  xon?: boolean;
  /** XON/XOFF flow control of input (IXOFF). Default `false`. */
  xoff?: boolean;
  /** Any character restarts stopped output (IXANY). Default `false`. */
  xany?: boolean;
  /** Drop DTR (hang up) on close. Default `true`. */
  hupcl?: boolean;
  /**
   * The poller to wait on. Default: one shared by every port of this thread. A poller passed here is
   * `start()`ed by the binding while it has open ports and must not be started by you or hold
   * fds of your own (`ERR_SOCKETPOLL_BUSY`); it is stopped again when its last port closes.
   */
  poll?: SocketPoll<any>;
}

/** Port metadata from {@link SocketPollBinding.list}: `path` always, the rest `undefined` when unknown. */
export type SocketPollPortInfo = PortInfo;

const ANY_ERROR = POLL_ERROR | POLL_HANGUP;

interface PendingRead {
  buffer: Buffer;
  offset: number;
  length: number;
  resolve: (value: { buffer: Buffer; bytesRead: number }) => void;
  reject: (error: Error) => void;
}

interface PendingWrite {
  buffer: Buffer;
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * An open port (`BindingPortInterface`). Reads and writes are non-blocking and wait on the poller;
 * one read and one write at a time, as `SerialPortStream` issues them.
 */
export class SocketPollPort implements BindingPortInterface, ReadyPort {
  /** The options the port was opened with, defaults filled in. */
  readonly openOptions: Required<ResolvedOpenOptions>;
  /** `true` until {@link close}. */
  isOpen = true;
  /** The port's file descriptor (a non-blocking tty), `-1` once closed. */
  fd: number;
  readonly #addon: SerialAddon;
  readonly #poller: PortPoller;
  #read: PendingRead | undefined;
  #write: PendingWrite | undefined;
  #writeDone: Promise<void> | undefined;
  #interest = 0;
  // Still registered for input after a read completed: a reader that reads again soon (a flowing
  // stream does, a microtask later) keeps the registration instead of a del() and an add() per
  // read. Dropped at the next readiness that finds no read waiting.
  #lingering = false;
  #waiting = false; // what the poller was last told: a read or write in progress
  #lostError: SerialPortError | undefined;
  readonly #timers = new Set<{ timer: NodeJS.Timeout; reject: (error: Error) => void }>();

  /** @internal */
  constructor(fd: number, options: ResolvedOpenOptions, addon: SerialAddon, poller: PortPoller) {
    this.fd = fd;
    this.openOptions = options;
    this.#addon = addon;
    this.#poller = poller;
  }

  get #path(): string {
    return this.openOptions.path;
  }

  /**
   * Reads up to `length` bytes into `buffer` at `offset`; resolves once at least one byte came.
   * Rejects with `canceled: true` if the port closes first, with `disconnected: true` when the
   * device is gone or its other end hung up.
   */
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    try {
      if (!Buffer.isBuffer(buffer)) throw new InvalidArgTypeError('buffer', 'an instance of Buffer', buffer);
      checkRange('offset', offset, 0, buffer.length);
      checkRange('length', length, 1, buffer.length - offset);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.isOpen) return Promise.reject(canceledError('read', this.#path));
    if (this.#lostError) return Promise.reject(this.#lostError);
    if (this.#read) return Promise.reject(busyError('read', this.#path));
    return new Promise((resolve, reject) => {
      this.#read = { buffer, offset, length, resolve, reject };
      if (!this.#tryRead(0)) this.#sync();
    });
  }

  /** Writes all of `buffer`; resolves once the system has taken the last byte (see {@link drain}). */
  write(buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) return Promise.reject(new InvalidArgTypeError('buffer', 'an instance of Buffer', buffer));
    if (!this.isOpen) return Promise.reject(canceledError('write', this.#path));
    if (this.#lostError) return Promise.reject(this.#lostError);
    if (this.#write) return Promise.reject(busyError('write', this.#path));
    if (buffer.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this.#write = { buffer, offset: 0, resolve, reject };
      if (!this.#tryWrite(0)) this.#sync();
    });
    this.#writeDone = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /** @internal the poller says the fd is ready for `events`. */
  onReady(events: number): void {
    if (!this.isOpen) return;
    if (this.#write && events & (POLL_WRITE | ANY_ERROR)) this.#tryWrite(events);
    if (events & (POLL_READ | ANY_ERROR)) {
      if (this.#read) this.#tryRead(events);
      else this.#lingering = false; // nobody reads: stop watching until read() is called
    }
    this.#sync();
  }

  // Returns whether the read is settled.
  #tryRead(events: number): boolean {
    const r = this.#read!;
    const n = this.#addon.readInto(this.fd, r.buffer, r.offset, r.length);
    if (n > 0) {
      this.#read = undefined;
      this.#lingering = true;
      r.resolve({ buffer: r.buffer, bytesRead: n });
      return true;
    }
    // Nothing there: wait, unless the poller reported a hang-up or error (which would report again
    // at once: a disconnection, not a wait).
    if ((n === -EAGAIN || n === -EWOULDBLOCK) && !(events & ANY_ERROR)) return false;
    this.#read = undefined;
    r.reject(this.#lost(n, 'read'));
    return true;
  }

  #tryWrite(events: number): boolean {
    const w = this.#write!;
    for (;;) {
      const n = this.#addon.writeFrom(this.fd, w.buffer, w.offset, w.buffer.length - w.offset);
      if (n > 0) {
        w.offset += n;
        if (w.offset < w.buffer.length) continue;
        this.#write = undefined;
        w.resolve();
        return true;
      }
      if ((n === -EAGAIN || n === -EWOULDBLOCK) && !(events & ANY_ERROR)) return false;
      this.#write = undefined;
      w.reject(this.#lost(n, 'write'));
      return true;
    }
  }

  // The port is of no more use: the error every later read and write gets, until close().
  #lost(n: number, syscall: string): SerialPortError {
    if (this.#lostError) return this.#lostError;
    const what =
      n === 0 || n === -EAGAIN || n === -EWOULDBLOCK
        ? 'the port hung up (the device was unplugged, or the other end of a pseudo-terminal closed)'
        : 'the port failed; the device is gone or unusable';
    const negErrno = n < 0 && n !== -EAGAIN && n !== -EWOULDBLOCK ? n : -osConstants.errno.EIO;
    this.#lostError = systemError(negErrno, syscall, this.#path, what, { disconnected: true });
    return this.#lostError;
  }

  #sync(): void {
    if (!this.isOpen) return;
    const want = this.#lostError ? 0 : (this.#read || this.#lingering ? POLL_READ : 0) | (this.#write ? POLL_WRITE : 0);
    const waiting = this.#read !== undefined || this.#write !== undefined;
    if (want === this.#interest && waiting === this.#waiting) return;
    this.#interest = want;
    this.#waiting = waiting;
    this.#poller.setInterest(this.fd, want, this, waiting);
  }

  /**
   * Closes the port. A pending read, write or drain rejects with `canceled: true`. Output the
   * system still holds is given up to 30 s to leave (the time Linux itself waits at close), without
   * blocking the event loop; then it is discarded, so the close never blocks.
   */
  async close(): Promise<void> {
    if (!this.isOpen) throw notOpenError(this.#path);
    this.isOpen = false;
    const fd = this.fd;
    this.#interest = 0;
    this.#poller.detach(fd);
    const r = this.#read;
    const w = this.#write;
    this.#read = undefined;
    this.#write = undefined;
    r?.reject(canceledError('read', this.#path));
    w?.reject(canceledError('write', this.#path));
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.reject(canceledError('drain', this.#path));
    }
    this.#timers.clear();
    if (!this.#lostError) await this.#settleOutput(fd, 30_000);
    this.fd = -1;
    const rc = this.#addon.serialClose(fd);
    if (rc < 0) throw systemError(rc, 'close', this.#path, 'closing the port failed');
  }

  // Waits (timers, not a blocking tcdrain) until the output queue is empty or `limitMs` passed;
  // then discards what is left, as close() would otherwise block the thread until it left.
  async #settleOutput(fd: number, limitMs: number): Promise<void> {
    const start = Date.now();
    for (;;) {
      const pending = this.#addon.serialOutputPending(fd);
      if (pending <= 0) return;
      if (Date.now() - start >= limitMs) {
        this.#addon.serialFlush(fd);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.#pollInterval(pending)));
    }
  }

  // How long `pending` bytes take to leave at the port's rate, between 1 and 50 ms.
  #pollInterval(pending: number): number {
    const ms = Math.ceil((pending * 10 * 1000) / Math.max(1, this.openOptions.baudRate));
    return Math.min(50, Math.max(1, ms));
  }

  #check(): void {
    if (!this.isOpen) throw notOpenError(this.#path);
  }

  /** Changes the speed; rejects a rate the driver refuses. */
  async update(options: UpdateOptions): Promise<void> {
    if (options === null || typeof options !== 'object') throw new InvalidArgTypeError('options', 'an object', options);
    const baudRate = checkBaudRate(options.baudRate);
    this.#check();
    const rc = this.#addon.serialSetBaudRate(this.fd, baudRate);
    if (rc < 0) throw baudError(rc, baudRate, this.#path);
    this.openOptions.baudRate = baudRate;
  }

  /** Sets the modem lines given (`brk`, `dtr`, `rts`; `cts`, `dsr` where the driver takes them). */
  async set(options: SetOptions): Promise<void> {
    const lines = checkSetOptions(options);
    this.#check();
    const rc = this.#addon.serialSetModem(this.fd, lines.dtr, lines.rts, lines.cts, lines.dsr, lines.brk);
    if (rc < 0) throw modemError(rc, 'ioctl(TIOCMBIS/TIOCMBIC/TIOCSBRK)', this.#path);
  }

  /** Reads the modem inputs. */
  async get(): Promise<PortStatus> {
    this.#check();
    const bits = this.#addon.serialGetModem(this.fd);
    if (bits < 0) throw modemError(bits, 'ioctl(TIOCMGET)', this.#path);
    return { cts: (bits & MODEM_CTS) !== 0, dsr: (bits & MODEM_DSR) !== 0, dcd: (bits & MODEM_DCD) !== 0 };
  }

  /** The speed the driver holds (a custom rate included: TCGETS2 on Linux). */
  async getBaudRate(): Promise<{ baudRate: number }> {
    this.#check();
    const rate = this.#addon.serialGetBaudRate(this.fd);
    if (rate < 0) throw systemError(rate, 'ioctl(TCGETS2)', this.#path, 'reading the speed failed');
    return { baudRate: rate };
  }

  /** Discards input not read yet and output not sent yet (`tcflush(TCIOFLUSH)`). */
  async flush(): Promise<void> {
    this.#check();
    const rc = this.#addon.serialFlush(this.fd);
    if (rc < 0) throw systemError(rc, 'tcflush', this.#path, 'flushing failed');
  }

  /**
   * Resolves once the write in progress is done and the system has sent every byte (its output
   * queue, and on Linux the UART's transmitter, are empty). Polls with timers paced by the baud
   * rate: the event loop is never blocked (no `tcdrain()`).
   */
  async drain(): Promise<void> {
    this.#check();
    if (this.#writeDone) await this.#writeDone;
    for (;;) {
      if (!this.isOpen) throw canceledError('drain', this.#path);
      const pending = this.#addon.serialOutputPending(this.fd);
      if (pending < 0) throw systemError(pending, 'ioctl(TIOCOUTQ)', this.#path, 'reading the output queue failed');
      if (pending === 0) return;
      await new Promise<void>((resolve, reject) => {
        const entry = {
          timer: setTimeout(() => {
            this.#timers.delete(entry);
            resolve();
          }, this.#pollInterval(pending)),
          reject,
        };
        this.#timers.add(entry);
      });
    }
  }
}

function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number') throw new InvalidArgTypeError(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) throw new OutOfRangeError(name, `an integer from ${min} to ${max}`, value);
}

function busyError(what: string, path: string): SerialPortError {
  return new SerialPortError(`a ${what} is already in progress on '${path}': wait for it to settle first`, 'ERR_SERIALPORT_BUSY', { path });
}

function baudError(rc: number, baudRate: number, path: string): SerialPortError {
  const code = errnoName(rc);
  const reason =
    rc === -EINVAL || rc === -ENOTSUP || rc === -EOPNOTSUPP
      ? `the driver refused baudRate ${baudRate}`
      : `setting baudRate ${baudRate} failed`;
  return new SerialPortError(`${code}: ${reason} (tcsetattr '${path}')`, code, { errno: rc, syscall: 'tcsetattr', path });
}

function modemError(rc: number, syscall: string, path: string): SerialPortError {
  const what =
    rc === -ENOTTY || rc === -EINVAL
      ? 'this device has no modem control lines (a pseudo-terminal, or a driver without them)'
      : 'the modem lines could not be used';
  return systemError(rc, syscall, path, what);
}

function openError(rc: number, path: string): SerialPortError {
  let what: string;
  switch (rc) {
    case -ENOENT:
      what = `the 'path' option names nothing: no such device (is it plugged in? see SocketPollBinding.list())`;
      break;
    case -EISDIR:
      what = `the 'path' option names a directory, not a serial port`;
      break;
    case -ENOTTY:
      what = `the 'path' option names something that is not a terminal device (a serial port or pseudo-terminal)`;
      break;
    case -EACCES:
    case -EPERM:
      what = `no permission to open the 'path' option's device (on Linux, join the group that owns it, often 'dialout')`;
      break;
    case -EAGAIN:
    case -EWOULDBLOCK:
    case -EBUSY:
      what = `the port is locked: another open holds its lock (flock); close that one first, or open with 'lock: false'`;
      break;
    case -ENXIO:
    case -ENODEV:
      what = `the 'path' option's device has no hardware behind it`;
      break;
    default:
      what = 'opening the port failed';
  }
  return systemError(rc, rc === -ENOTTY ? 'isatty' : rc === -EAGAIN || rc === -EWOULDBLOCK ? 'flock' : 'open', path, what);
}

function configureError(rc: number, o: ResolvedOpenOptions): SerialPortError {
  const code = errnoName(rc);
  const settings = `baudRate ${o.baudRate}, dataBits ${o.dataBits}, stopBits ${o.stopBits}, parity '${o.parity}'${o.rtscts ? ', rtscts' : ''}`;
  const what =
    rc === -ENOTSUP || rc === -EOPNOTSUPP
      ? `this system cannot apply the settings (${settings}): a custom baudRate or mark/space parity is not available here`
      : `the driver refused the settings (${settings})`;
  return new SerialPortError(`${code}: ${what} (tcsetattr '${o.path}')`, code, { errno: rc, syscall: 'tcsetattr', path: o.path });
}

/**
 * The binding: pass it as `binding` to `SerialPortStream` (or use {@link SerialPort}).
 *
 * ```ts
 * const ports = await SocketPollBinding.list();
 * const port = await SocketPollBinding.open({ path: ports[0].path, baudRate: 9600 });
 * const { bytesRead } = await port.read(Buffer.alloc(64), 0, 64);
 * await port.close();
 * ```
 */
export const SocketPollBinding: BindingInterface<SocketPollPort, SocketPollOpenOptions, SocketPollPortInfo> = {
  /** Serial ports of this machine (Linux: sysfs and `/dev/serial/by-id`; macOS: `/dev/cu.*`, `/dev/tty.*`). */
  async list(): Promise<SocketPollPortInfo[]> {
    return listPorts();
  },

  /**
   * Opens and configures a port. Every option is checked before anything is opened; a bad one is a
   * typed error naming it. The port is open `O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC`, locked
   * (advisory `flock`) unless `lock: false`, in raw mode.
   */
  async open(options: SocketPollOpenOptions): Promise<SocketPollPort> {
    const checked = checkOpenOptions(options);
    const addon = serialAddon();
    if (checked.poll !== undefined) portPoller(checked.poll).check();
    const o = checked.options;
    const fd = addon.serialOpen(o.path, o.lock);
    if (fd < 0) throw openError(fd, o.path);
    let ok = false;
    try {
      const rc = addon.serialConfigure(fd, o.baudRate, o.dataBits, o.stopBits, checked.parity, checked.flags);
      if (rc < 0) throw configureError(rc, o);
      const poller = portPoller(checked.poll); // the shared one is made on the first port that opens
      poller.attach();
      ok = true;
      return new SocketPollPort(fd, o, addon, poller);
    } finally {
      if (!ok) addon.serialClose(fd);
    }
  },
};
