/**
 * Node streams over any non-blocking fd (a pty or serial port, a FIFO, a socket, a TUN device),
 * driven by the poller: no thread-pool thread is held, and the fd is closed only when you say so.
 *
 * ```ts
 * import { duplexOf } from '@socketpoll/core';
 * import { pipeline } from 'node:stream/promises';
 *
 * const port = duplexOf(fd);            // fd: a serial port or pty opened O_RDWR | O_NOCTTY
 * port.write('AT\r');
 * for await (const chunk of port) process.stdout.write(chunk);
 * ```
 * @module
 */
import { addAbortSignal, Duplex, type DuplexOptions, Readable, type ReadableOptions, Writable, type WritableOptions } from 'node:stream';
import type { Unpollable } from './events';
import { type FdChannel, openChannel } from './fd-channel';
import type { SocketPoll } from './socketpoll';
import { checkOptions } from './validators';

/**
 * Options for {@link readableFrom}, {@link writableTo} and {@link duplexOf}.
 *
 * ```ts
 * const input = readableFrom(fd, { poll, autoClose: true, highWaterMark: 64 * 1024, signal });
 * ```
 */
export interface FdStreamOptions {
  /** The poller to register the fd with. Default: {@link defaultPoller} (one per thread). */
  poll?: SocketPoll<any>;
  /** Close the fd when the stream is destroyed (after `del()`). Default `false`: the fd stays yours. */
  autoClose?: boolean;
  /**
   * If the stream had to set `O_NONBLOCK` on the fd, clear it again when the stream is destroyed
   * (for an fd shared with other processes, such as an inherited terminal). Default `false`.
   */
  restoreBlocking?: boolean;
  /** Buffer limit in bytes (0 … 1 GiB), as for any Node stream. Default 16 KiB (Node 20). */
  highWaterMark?: number;
  /** Aborting it destroys the stream with an `AbortError` (Node's stream `signal` option). */
  signal?: AbortSignal;
  /**
   * `'ready'` streams an fd the kernel refuses to watch because it is always ready: a regular file
   * or `/dev/null` (epoll's `EPERM`; think `node app.js < input.txt` with `readableFrom(0)`). It is
   * then read or written as fast as the stream asks. Default `'error'`: such an fd is refused with
   * `EPERM` when the stream is made. See {@link Unpollable}.
   *
   * ```ts
   * readableFrom(0, { unpollable: 'ready' }).pipe(process.stdout);   // stdin: a pipe, a tty or a file
   * ```
   */
  unpollable?: Unpollable;
}

/**
 * Options for {@link duplexOf}: those of {@link FdStreamOptions}, plus Node's duplex options.
 *
 * ```ts
 * const tty = duplexOf(fd, { readableHighWaterMark: 4096, writableHighWaterMark: 65536, allowHalfOpen: true });
 * ```
 */
export interface DuplexOfOptions extends FdStreamOptions {
  /** `highWaterMark` of the readable side only. */
  readableHighWaterMark?: number;
  /** `highWaterMark` of the writable side only. */
  writableHighWaterMark?: number;
  /**
   * Keep the writable side open after the readable side ended (default `false`, like `net.Socket`:
   * the end of input, such as a pty whose other side closed, ends the stream).
   */
  allowHalfOpen?: boolean;
}

/** Node's stream options from ours; the signal is left to {@link madeWith}. */
function streamOptions(options: unknown): DuplexOptions {
  const o = checkOptions<DuplexOfOptions>(options);
  const out: DuplexOptions = { emitClose: true, autoDestroy: true };
  if (o.highWaterMark !== undefined) out.highWaterMark = o.highWaterMark;
  if (o.readableHighWaterMark !== undefined) out.readableHighWaterMark = o.readableHighWaterMark;
  if (o.writableHighWaterMark !== undefined) out.writableHighWaterMark = o.writableHighWaterMark;
  out.allowHalfOpen = o.allowHalfOpen ?? false;
  return out;
}

/**
 * The stream, with `options.signal` added once it is bound to its channel (as Node's `signal`
 * option, but an already aborted signal destroys a whole stream: its fd is unregistered).
 */
function madeWith<T extends Readable | Writable>(stream: T, options: unknown): T {
  const { signal } = checkOptions<FdStreamOptions>(options);
  if (signal !== undefined) addAbortSignal(signal, stream);
  return stream;
}

function toBuffers(chunks: { chunk: unknown }[]): Buffer[] {
  return chunks.map(({ chunk }) => chunk as Buffer);
}

// Each stream's channel, kept out of the classes' public shape, so that one method can serve every
// class that has it (see `borrow` below).
const channels = new WeakMap<object, FdChannel>();

function channelOf(stream: object): FdChannel {
  return channels.get(stream) as FdChannel;
}

/** Binds a stream made by one of the classes below to its channel, reading side and all. */
function attach(stream: Readable | Writable, channel: FdChannel): void {
  channels.set(stream, channel);
  channel.host =
    stream instanceof Readable // a Duplex too
      ? {
          push: (chunk) => stream.push(chunk),
          destroy: (err) => stream.destroy(err),
          readableListened: () => stream.listenerCount('readable') > 0,
          flowing: () => stream.readableFlowing === true,
        }
      : { push: () => false, destroy: (err) => stream.destroy(err), readableListened: () => false, flowing: () => false };
}

/**
 * Gives `to` the named members of `from`'s prototype (methods and accessors), as Node's `Duplex`
 * takes `Writable`'s methods: each is written once and works on any stream {@link attach}ed to a
 * channel. The class's interface of the same name declares them for TypeScript.
 */
function borrow(to: abstract new (...args: any[]) => object, from: abstract new (...args: any[]) => object, names: string[]): void {
  for (const name of names) {
    Object.defineProperty(to.prototype, name, Object.getOwnPropertyDescriptor(from.prototype, name) as PropertyDescriptor);
  }
}

/**
 * A `stream.Readable` over a non-blocking fd, made by {@link readableFrom}.
 *
 * ```ts
 * const input = readableFrom(fd, { highWaterMark: 64 * 1024 });
 * input.on('data', (chunk) => console.log(input.fd, chunk.length));
 * ```
 */
export class FdReadable extends Readable {
  /** @internal use {@link readableFrom} */
  constructor(channel: FdChannel, options: ReadableOptions) {
    super(options);
    attach(this, channel);
  }

  /** The file descriptor read or written. */
  get fd(): number {
    return channelOf(this).fd;
  }

  /** The poller the fd is registered with. */
  get poll(): SocketPoll<any> {
    return channelOf(this).poll;
  }

  /**
   * Stops reading and stops watching the fd: nothing is read while paused (not even to fill the
   * buffer, as Node's streams otherwise do), so a paused stream does not keep the process alive.
   * {@link resume}, a `read()` or a `'readable'` listener reads again.
   */
  override pause(): this {
    super.pause();
    channelOf(this).pauseReading();
    return this;
  }

  /** Resumes reading (and watching the fd). */
  override resume(): this {
    super.resume();
    channelOf(this).resumeReading();
    return this;
  }

  /**
   * Lets the process exit while this stream only waits for its fd (to read, or with a write
   * pending), like `net.Socket.unref()`: the stream still delivers while the process runs for other
   * reasons (a timer, a `ref()`ed stream). Other streams on the same poller keep their own setting.
   *
   * ```ts
   * const input = readableFrom(fd).unref();   // reads while the process runs anyway, holds it on no account
   * input.on('data', (chunk) => console.log(chunk.length));
   * ```
   */
  unref(): this {
    channelOf(this).setRef(false);
    return this;
  }

  /**
   * Undoes {@link unref} (the default): while this stream waits for its fd (to read, or with a
   * write pending), the process stays alive, as with a socket (a paused stream does not wait).
   *
   * ```ts
   * const input = readableFrom(fd).unref();
   * input.ref();   // undone: the process runs until the fd ends
   * ```
   */
  ref(): this {
    channelOf(this).setRef(true);
    return this;
  }

  /** Reads from the buffer (Node's `read()`); after {@link pause}, asking for data resumes watching the fd. */
  override read(size?: number): any {
    if (size !== 0) channelOf(this).resumeReading();
    return super.read(size);
  }

  /** @internal */
  override _read(): void {
    channelOf(this).wantRead();
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const failure = channelOf(this).close(); // always: del() first, then restore, then close if owned
    callback(error ?? failure ?? null);
  }
}

/**
 * A `stream.Writable` over a non-blocking fd, made by {@link writableTo}.
 *
 * ```ts
 * const out = writableTo(fd);
 * if (!out.write(bigBuffer)) out.once('drain', () => console.log('the fd took it all'));
 * ```
 */
export class FdWritable extends Writable {
  /** @internal use {@link writableTo} */
  constructor(channel: FdChannel, options: WritableOptions) {
    super(options);
    attach(this, channel);
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    channelOf(this).write([chunk], callback);
  }

  /** @internal */
  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    channelOf(this).write(toBuffers(chunks), callback);
  }

  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    channelOf(this).finish(callback);
  }
}

export interface FdWritable {
  /** {@inheritDoc FdReadable.fd} */
  readonly fd: number;
  /** {@inheritDoc FdReadable.poll} */
  readonly poll: SocketPoll<any>;
  /** {@inheritDoc FdReadable.unref} */
  unref(): this;
  /** {@inheritDoc FdReadable.ref} */
  ref(): this;
}
borrow(FdWritable, FdReadable, ['fd', 'poll', 'unref', 'ref', '_destroy']);

/**
 * A `stream.Duplex` over one non-blocking fd read and written (a pty, a serial port, a socket),
 * made by {@link duplexOf}.
 *
 * ```ts
 * const port = duplexOf(fd);
 * port.pipe(port);   // an echo server on the fd
 * ```
 */
export class FdDuplex extends Duplex {
  /** @internal use {@link duplexOf} */
  constructor(channel: FdChannel, options: DuplexOptions) {
    super(options);
    attach(this, channel);
  }
}

export interface FdDuplex {
  /** {@inheritDoc FdReadable.fd} */
  readonly fd: number;
  /** {@inheritDoc FdReadable.poll} */
  readonly poll: SocketPoll<any>;
  /** {@inheritDoc FdReadable.pause} */
  pause(): this;
  /** {@inheritDoc FdReadable.resume} */
  resume(): this;
  /** {@inheritDoc FdReadable.unref} */
  unref(): this;
  /** {@inheritDoc FdReadable.ref} */
  ref(): this;
  /** {@inheritDoc FdReadable.read} */
  read(size?: number): any;
}
borrow(FdDuplex, FdReadable, ['fd', 'poll', 'pause', 'resume', 'unref', 'ref', 'read', '_read', '_destroy']);
borrow(FdDuplex, FdWritable, ['_write', '_writev', '_final']);

/**
 * A `stream.Readable` of what `fd` delivers: read on readiness until `EAGAIN`, honouring
 * `highWaterMark` (while the consumer is paused, the fd is not watched). It ends on end of file, on
 * `POLL_HANGUP` once the data is drained, and on a pty's `EIO` once the other side closed; a real
 * error destroys it with a {@link SocketPollError}. `O_NONBLOCK` is set if needed. The fd is closed
 * only with `autoClose: true`; `destroy()` unregisters it first.
 *
 * ```ts
 * import { readableFrom } from '@socketpoll/core';
 * const fifo = fs.openSync('/tmp/events.fifo', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
 * for await (const chunk of readableFrom(fifo, { autoClose: true })) console.log(chunk.toString());
 * ```
 * @throws at creation: {@link InvalidArgTypeError} / {@link OutOfRangeError} for bad arguments,
 * {@link SocketPollError} `EBADF` (not open, or write-only), `EISDIR` (a directory), `EEXIST`
 * (already watched on this poller), `EPERM` (a regular file on epoll), or the `fcntl` error of an fd
 * that cannot be made non-blocking.
 */
export function readableFrom(fd: number, options?: FdStreamOptions): FdReadable {
  const channel = openChannel(fd, options, true, false, 'readableFrom');
  const o = streamOptions(options);
  return madeWith(new FdReadable(channel, { highWaterMark: o.highWaterMark, emitClose: true, autoDestroy: true }), options);
}

/**
 * A `stream.Writable` to `fd`: each write goes out at once until `EAGAIN`, the rest when the fd
 * reports `POLL_WRITE`; so `write()` returns `false` past `highWaterMark` and `'drain'` follows, as
 * on a socket. `end()` of a socket shuts its writing half down (the peer reads end of file).
 * `O_NONBLOCK` is set if needed; the fd is closed only with `autoClose: true`.
 *
 * ```ts
 * import { writableTo } from '@socketpoll/core';
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(fs.createReadStream('firmware.bin'), writableTo(serialFd));
 * ```
 * @throws at creation: as {@link readableFrom} (`EBADF` for a read-only fd).
 */
export function writableTo(fd: number, options?: FdStreamOptions): FdWritable {
  const channel = openChannel(fd, options, false, true, 'writableTo');
  const o = streamOptions(options);
  return madeWith(new FdWritable(channel, { highWaterMark: o.highWaterMark, emitClose: true, autoDestroy: true }), options);
}

/**
 * A `stream.Duplex` that reads and writes one fd (one registration, both directions): a pty, a
 * serial port, a socket, a TUN device. Reading and writing behave as in {@link readableFrom} and
 * {@link writableTo}; by default the end of input ends the stream (`allowHalfOpen: false`).
 *
 * ```ts
 * import { duplexOf } from '@socketpoll/core';
 * const tty = duplexOf(ptyMaster);
 * tty.write('ls\n');
 * tty.on('data', (chunk) => process.stdout.write(chunk));
 * tty.on('end', () => console.log('the other side closed'));
 * ```
 * @throws at creation: as {@link readableFrom} and {@link writableTo}.
 */
export function duplexOf(fd: number, options?: DuplexOfOptions): FdDuplex {
  const channel = openChannel(fd, options, true, true, 'duplexOf');
  return madeWith(new FdDuplex(channel, streamOptions(options)), options);
}
