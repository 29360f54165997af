/**
 * @internal
 * The fd channel under the three public stream classes (streams.ts): one fd on one poller, read and
 * written without blocking as readiness says, with the checks that open it.
 * @module
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { defaultPoller } from './default-poller';
import { type Dispatcher, dispatcherFor, type ReadyTarget } from './dispatch';
import type { Unpollable } from './events';
import { errnoName, InvalidArgTypeError, InvalidArgValueError, SocketPollError, SocketPollStateError } from './errors';
import { POLL_ERROR, POLL_HANGUP, POLL_RDHUP, POLL_READ, POLL_WRITE } from './flags';
import type { NativeAddon } from './loader';
import { internals } from './internals';
import { SocketPoll } from './socketpoll';
import { checkBoolean, checkFd, checkHighWaterMark, checkOptions, checkSignal } from './validators';

/** The options of the stream factories that opening a channel reads (streams.ts documents them). */
interface ChannelOptions {
  poll?: SocketPoll<any>;
  autoClose?: boolean;
  restoreBlocking?: boolean;
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  signal?: AbortSignal;
  allowHalfOpen?: boolean;
  unpollable?: Unpollable;
}

const { EAGAIN, EWOULDBLOCK, EIO, EISDIR, EBADF, EINVAL, ENOTCONN, ENOTSOCK } = osConstants.errno;
const { O_NONBLOCK, O_WRONLY, O_RDONLY, S_IFMT, S_IFDIR, S_IFSOCK } = fs.constants;
const O_ACCMODE = 3;
/** Bytes asked of each read(2), as libuv does for sockets. */
const READ_SIZE = 64 * 1024;
/**
 * What every stream of this thread reads into (reads are synchronous, and each chunk is copied out
 * or the buffer handed over before anything else runs): one buffer, not one per stream, so 1 000
 * streams that read a few bytes each hold no 64 MiB.
 */
let readBuffer: Buffer | undefined;
/** Reads per readiness before yielding to the event loop (level-triggered: the rest is reported again). */
const READS_PER_TURN = 32;

/** The side of a stream the channel drives. */
interface Host {
  push(chunk: Buffer | null): boolean;
  destroy(error: Error): void;
  /** Whether someone listens for `'readable'` (who then reads with `read()`, whatever `pause()` said). */
  readableListened(): boolean;
  /** Whether the stream is flowing (`'data'` drains the buffer, so `_read()` follows soon). */
  flowing(): boolean;
}

interface PendingWrite {
  chunks: Buffer[];
  index: number;
  offset: number;
  callback: (error?: Error | null) => void;
}

/** One fd on one poller: non-blocking reads and writes on readiness, for up to one reader and one writer. */
export class FdChannel implements ReadyTarget {
  readonly fd: number;
  readonly poll: SocketPoll<any>;
  readonly isTTY: boolean;
  readonly isSocket: boolean;
  host: Host | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #addon: NativeAddon;
  readonly #autoClose: boolean;
  readonly #restoreBlocking: boolean;
  readonly #setNonBlocking: boolean;
  #closed = false;
  // reading
  #reading = false; // the consumer wants data (between _read() and push() returning false)
  #paused = false; // the consumer called pause() (and not resume() since): _read() is owed, not served
  #owed = false; // a _read() not served because of pause(): resume() must read without a new _read()
  // Still registered for input though no read is wanted (the buffer of a flowing stream was full):
  // dropped at the next readiness, unless _read() comes first, as it does once 'data' drained the
  // buffer. Saves a del() and an add() per highWaterMark of data.
  #lingering = false;
  // Whether a read may find data now. False at first (a FIFO nobody opened for writing yet reads as
  // end of file: wait for readiness) and after EAGAIN or a short read (the kernel had no more: the
  // readiness will say when there is); true when reading stopped with data left.
  #mayHaveData = false;
  #hungUp = false; // POLL_HANGUP / POLL_ERROR seen: read to the end, then end
  #readDone = false;
  // writing
  #pending: PendingWrite | undefined;

  readonly #unpollable: Unpollable;

  constructor(
    fd: number,
    poll: SocketPoll<any>,
    status: FdStatus,
    autoClose: boolean,
    restoreBlocking: boolean,
    setNonBlocking: boolean,
    unpollable: Unpollable,
  ) {
    this.fd = fd;
    this.#unpollable = unpollable;
    this.poll = poll;
    this.isTTY = status.isTTY;
    this.isSocket = status.type === S_IFSOCK;
    this.#dispatcher = dispatcherFor(poll);
    this.#addon = internals.addon(poll);
    this.#autoClose = autoClose;
    this.#restoreBlocking = restoreBlocking;
    this.#setNonBlocking = setNonBlocking;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Claims the fd and registers it once (then unregisters), so a refusal is an error at creation. */
  attach(probeEvents: number): void {
    this.#dispatcher.claim(this.fd, this, this.#unpollable);
    try {
      this.#dispatcher.setInterest(this.fd, probeEvents);
      this.#dispatcher.setInterest(this.fd, 0);
    } catch (err) {
      this.#dispatcher.release(this.fd);
      throw err;
    }
  }

  // ---- readiness -----------------------------------------------------------------------------

  onReady(events: number): void {
    if (this.#closed) return;
    if (events & (POLL_HANGUP | POLL_ERROR)) this.#hungUp = true;
    if (this.#pending && events & (POLL_WRITE | POLL_ERROR | POLL_HANGUP)) this.#writeLoop();
    if (this.#closed) return;
    if (events & (POLL_READ | POLL_HANGUP | POLL_ERROR | POLL_RDHUP)) {
      this.#mayHaveData = true;
      if (this.#reading) this.#readLoop();
      else if (this.#lingering) {
        this.#lingering = false; // nobody wants it now: stop watching until _read()
        this.#sync();
      }
    }
  }

  /** `ref()`/`unref()`: whether the fd, while watched, keeps the process alive. */
  setRef(refed: boolean): void {
    if (!this.#closed) this.#dispatcher.setRef(this.fd, refed);
  }

  onPollClose(): void {
    this.host?.destroy(new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', `the poller serving the stream of fd ${this.fd} was closed`));
  }

  #interest(): number {
    return (this.#reading || this.#lingering ? POLL_READ : 0) | (this.#pending ? POLL_WRITE : 0);
  }

  #sync(): void {
    if (this.#closed) return;
    try {
      this.#dispatcher.setInterest(this.fd, this.#interest());
    } catch (err) {
      this.host?.destroy(err as Error);
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  /**
   * `pause()`: stop watching for input. Reads Node asks for from now on (it fills a paused stream's
   * buffer) stay owed until {@link resumeReading}, so nothing is read and the fd does not keep the
   * process alive.
   */
  pauseReading(): void {
    this.#paused = true;
    this.#lingering = false;
    if (this.#reading) {
      this.#reading = false;
      this.#owed = true;
    }
    this.#sync();
  }

  /** `resume()`, or a `read()` by the consumer: serve what {@link pauseReading} left owed. */
  resumeReading(): void {
    this.#paused = false;
    if (!this.#owed) return;
    this.#owed = false;
    this.wantRead();
  }

  /** `_read()`: the consumer wants data. */
  wantRead(): void {
    if (this.#closed || this.#readDone) return;
    if (this.#paused && !this.host?.readableListened()) {
      this.#owed = true;
      return;
    }
    this.#owed = false;
    this.#reading = true;
    this.#lingering = false;
    if (this.#mayHaveData) this.#readLoop();
    else this.#sync(); // wait for readiness (a no-op when registered already)
  }

  #readLoop(): void {
    const host = this.host as Host;
    for (let i = 0; this.#reading; i++) {
      if (i === READS_PER_TURN) break; // level-triggered: what is left is reported again
      const buffer = (readBuffer ??= Buffer.allocUnsafeSlow(READ_SIZE));
      const n = this.#addon.readInto(this.fd, buffer, 0, READ_SIZE);
      if (n > 0) {
        let chunk: Buffer;
        if (n >= READ_SIZE / 2) {
          chunk = buffer.subarray(0, n); // hand the buffer over; a new one next time
          readBuffer = undefined;
        } else {
          chunk = Buffer.allocUnsafe(n); // small: copy into Node's pool, keep the buffer
          buffer.copy(chunk, 0, 0, n);
        }
        if (!host.push(chunk) && this.#reading) {
          this.#reading = false; // the buffer is full: _read() is called when more is wanted
          this.#lingering = host.flowing();
        }
        if (this.#closed) return; // destroyed by a 'data' listener
        if (n < READ_SIZE && !this.#hungUp) {
          this.#mayHaveData = false; // a short read: drained, wait for readiness
          break;
        }
        continue;
      }
      if (n === 0) return this.#endRead();
      if (n === -EAGAIN || n === -EWOULDBLOCK) {
        if (this.#hungUp) return this.#endRead(); // hung up and nothing left
        this.#mayHaveData = false;
        break;
      }
      if (n === -EIO && this.isTTY) return this.#endRead(); // a pty whose other side closed
      host.destroy(ioError(n, 'read', this.fd));
      return;
    }
    this.#sync();
  }

  #endRead(): void {
    this.#readDone = true;
    this.#reading = false;
    this.#lingering = false;
    this.#sync();
    this.host?.push(null);
  }

  // ---- writing -------------------------------------------------------------------------------

  /** `_write()`/`_writev()`: write now until EAGAIN, then on `POLL_WRITE`; `callback` when all is written. */
  write(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    if (this.#closed) {
      callback(new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', `the stream of fd ${this.fd} is closed`));
      return;
    }
    this.#pending = { chunks, index: 0, offset: 0, callback };
    this.#writeLoop();
  }

  #writeLoop(): void {
    const p = this.#pending as PendingWrite;
    const chunks = p.chunks;
    while (p.index < chunks.length) {
      const n =
        p.index === chunks.length - 1
          ? this.#addon.writeFrom(this.fd, chunks[p.index], p.offset, chunks[p.index].length - p.offset)
          : this.#addon.writeChunks(this.fd, p.index === 0 ? chunks : chunks.slice(p.index), p.offset);
      if (n < 0) {
        if (n === -EAGAIN || n === -EWOULDBLOCK) return this.#sync(); // wait for POLL_WRITE
        this.#pending = undefined;
        this.#sync();
        p.callback(ioError(n, 'write', this.fd));
        return;
      }
      let left = n;
      while (p.index < chunks.length && chunks[p.index].length - p.offset <= left) {
        left -= chunks[p.index].length - p.offset;
        p.index++;
        p.offset = 0;
      }
      p.offset += left;
      // A short write means the kernel buffer is full: the next write would be EAGAIN.
      if (p.index < chunks.length) return this.#sync();
    }
    this.#pending = undefined;
    this.#sync();
    p.callback();
  }

  /** `_final()`: a socket's peer is told there is no more (`shutdown(SHUT_WR)`), like `net.Socket`. */
  finish(callback: (error?: Error | null) => void): void {
    if (this.isSocket && !this.#closed) {
      const rc = this.#addon.shutdownWrite(this.fd);
      if (rc < 0 && rc !== -ENOTCONN && rc !== -ENOTSOCK) return callback(ioError(rc, 'shutdown', this.fd));
    }
    callback();
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** `_destroy()`: `del()` first, then restore the flags, then close if owned. Idempotent. */
  close(): Error | undefined {
    if (this.#closed) return undefined;
    this.#closed = true;
    this.#reading = false;
    this.#lingering = false;
    this.#pending = undefined;
    let failure: Error | undefined;
    try {
      this.#dispatcher.release(this.fd);
    } catch (err) {
      failure = err as Error;
    }
    if (this.#restoreBlocking && this.#setNonBlocking) this.#addon.setNonBlocking(this.fd, false);
    if (this.#autoClose) {
      try {
        fs.closeSync(this.fd);
      } catch (err) {
        failure ??= err as Error;
      }
    }
    return failure;
  }
}

interface FdStatus {
  flags: number;
  type: number;
  isTTY: boolean;
}

function ioError(negErrno: number, syscall: string, fd: number, what?: string): SocketPollError {
  const code = errnoName(negErrno);
  const hint =
    what ??
    {
      EPIPE: `the other end of fd ${fd} is closed: nothing written now would be read`,
      ECONNRESET: `the peer of fd ${fd} reset the connection`,
      EIO: `fd ${fd} reported an I/O error (a pty whose other side closed, or a device error)`,
      EBADF: `fd ${fd} is not open (closed while its stream used it?): destroy the stream before you close the fd, or pass autoClose: true`,
    }[code] ??
    `${syscall} on fd ${fd} failed`;
  return new SocketPollError(`${code}: ${hint} (${syscall} fd ${fd})`, code, negErrno, syscall, fd);
}



/** Checks everything, makes the fd non-blocking and claims it; a failure changes nothing. */
export function openChannel(fd: unknown, options: unknown, read: boolean, write: boolean, factory: string): FdChannel {
  checkFd(fd);
  const opts = checkOptions<ChannelOptions>(options);
  const poll = opts.poll ?? defaultPoller();
  if (!(poll instanceof SocketPoll)) throw new InvalidArgTypeError('options.poll', 'an instance of SocketPoll', poll);
  const autoClose = checkBoolean(opts.autoClose, 'options.autoClose');
  const restoreBlocking = checkBoolean(opts.restoreBlocking, 'options.restoreBlocking');
  checkHighWaterMark(opts.highWaterMark, 'options.highWaterMark');
  checkHighWaterMark(opts.readableHighWaterMark, 'options.readableHighWaterMark');
  checkHighWaterMark(opts.writableHighWaterMark, 'options.writableHighWaterMark');
  checkSignal(opts.signal);
  if (opts.allowHalfOpen !== undefined) checkBoolean(opts.allowHalfOpen, 'options.allowHalfOpen');
  const unpollable = opts.unpollable ?? 'error';
  if (unpollable !== 'error' && unpollable !== 'ready') {
    throw new InvalidArgValueError('options.unpollable', unpollable, "must be 'error' or 'ready'");
  }
  if (poll.closed) throw new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', 'options.poll is closed; pass an open poller');

  const addon = internals.addon(poll);
  const raw = new Int32Array(3);
  const rc = addon.fdStatus(fd, raw);
  if (rc < 0) {
    const syscall = raw[0] === -1 ? 'fcntl' : 'fstat';
    throw ioError(rc, syscall, fd, rc === -EBADF ? `fd ${fd} is not an open file descriptor (already closed, or never opened)` : undefined);
  }
  const status: FdStatus = { flags: raw[0], type: raw[1] & S_IFMT, isTTY: raw[2] === 1 };
  if (status.type === S_IFDIR) {
    throw ioError(-EISDIR, 'fstat', fd, `fd ${fd} is a directory: it has no byte stream to read or write (use fs.readdir)`);
  }
  const access = status.flags & O_ACCMODE;
  if (read && access === O_WRONLY) throw ioError(-EBADF, 'fcntl', fd, `fd ${fd} is open for writing only: it cannot be read`);
  if (write && access === O_RDONLY) throw ioError(-EBADF, 'fcntl', fd, `fd ${fd} is open for reading only: it cannot be written`);

  let setNonBlocking = false;
  if ((status.flags & O_NONBLOCK) === 0) {
    const flags = addon.setNonBlocking(fd, true);
    if (flags < 0) {
      throw ioError(
        flags,
        'fcntl',
        fd,
        `fd ${fd} cannot be made non-blocking (fcntl(F_SETFL, O_NONBLOCK) failed): open it with O_NONBLOCK, or read it with fs.createReadStream`,
      );
    }
    if ((flags & O_NONBLOCK) === 0) {
      throw ioError(-EINVAL, 'fcntl', fd, `fd ${fd} did not keep O_NONBLOCK: it cannot be read without blocking a thread`);
    }
    setNonBlocking = true;
  }
  const channel = new FdChannel(fd, poll, status, autoClose, restoreBlocking, setNonBlocking, unpollable);
  try {
    channel.attach(read ? POLL_READ : POLL_WRITE);
  } catch (err) {
    if (setNonBlocking) addon.setNonBlocking(fd, false);
    const e = err as { code?: string; message: string };
    if (e.code === 'EPERM') {
      // The poller's advice names add(); this call's option is the stream factory's.
      e.message = `EPERM: fd ${fd} cannot be watched by ${poll.backendName}: regular files and /dev/null are always ready; pass { unpollable: 'ready' } to ${factory}() to stream it anyway (read or written as fast as the stream asks)`;
    }
    throw err;
  }
  return channel;
}
