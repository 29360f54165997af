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
import { Duplex, type DuplexOptions, Readable, type ReadableOptions, Writable, type WritableOptions } from 'node:stream';
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

function streamOptions(options: unknown): DuplexOptions {
  const o = checkOptions<DuplexOfOptions>(options);
  const out: DuplexOptions = { emitClose: true, autoDestroy: true };
  if (o.highWaterMark !== undefined) out.highWaterMark = o.highWaterMark;
  if (o.readableHighWaterMark !== undefined) out.readableHighWaterMark = o.readableHighWaterMark;
  if (o.writableHighWaterMark !== undefined) out.writableHighWaterMark = o.writableHighWaterMark;
  if (o.signal !== undefined) out.signal = o.signal;
  out.allowHalfOpen = o.allowHalfOpen ?? false;
  return out;
}

function toBuffers(chunks: { chunk: unknown }[]): Buffer[] {
  return chunks.map(({ chunk }) => chunk as Buffer);
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
  readonly #channel: FdChannel;

  /** @internal use {@link readableFrom} */
  constructor(channel: FdChannel, options: ReadableOptions) {
    super(options);
    this.#channel = channel;
    channel.host = {
      push: (chunk) => this.push(chunk),
      destroy: (err) => this.destroy(err),
      readableListened: () => this.listenerCount('readable') > 0,
      flowing: () => this.readableFlowing === true,
    };
  }

  /** The file descriptor read. */
  get fd(): number {
    return this.#channel.fd;
  }

  /** The poller the fd is registered with. */
  get poll(): SocketPoll<any> {
    return this.#channel.poll;
  }

  /**
   * Stops reading and stops watching the fd: nothing is read while paused (not even to fill the
   * buffer, as Node's streams otherwise do), so a paused stream does not keep the process alive.
   * {@link resume}, a `read()` or a `'readable'` listener reads again.
   */
  override pause(): this {
    super.pause();
    this.#channel.pauseReading();
    return this;
  }

  /** Resumes reading (and watching the fd). */
  override resume(): this {
    super.resume();
    this.#channel.resumeReading();
    return this;
  }

  /**
   * Lets the process exit while this stream only waits for its fd, like `net.Socket.unref()`: the
   * stream still delivers while the process runs for other reasons (a timer, a `ref()`ed stream).
   * Other streams on the same poller keep their own setting.
   *
   * ```ts
   * const input = readableFrom(fd).unref();   // reads while the process runs anyway, holds it on no account
   * input.on('data', (chunk) => console.log(chunk.length));
   * ```
   */
  unref(): this {
    this.#channel.setRef(false);
    return this;
  }

  /**
   * Undoes {@link unref} (the default): while this stream waits for data from its fd, the process
   * stays alive, as with a socket (a paused stream does not wait).
   *
   * ```ts
   * const input = readableFrom(fd).unref();
   * input.ref();   // undone: the process runs until the fd ends
   * ```
   */
  ref(): this {
    this.#channel.setRef(true);
    return this;
  }

  /** Reads from the buffer (Node's `read()`); after {@link pause}, asking for data resumes watching the fd. */
  override read(size?: number): any {
    if (size !== 0) this.#channel.resumeReading();
    return super.read(size);
  }

  /** @internal */
  override _read(): void {
    this.#channel.wantRead();
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const failure = this.#channel.close(); // always: del() first, then restore, then close if owned
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
  readonly #channel: FdChannel;

  /** @internal use {@link writableTo} */
  constructor(channel: FdChannel, options: WritableOptions) {
    super(options);
    this.#channel = channel;
    channel.host = { push: () => false, destroy: (err) => this.destroy(err), readableListened: () => false, flowing: () => false };
  }

  /** The file descriptor written. */
  get fd(): number {
    return this.#channel.fd;
  }

  /** The poller the fd is registered with. */
  get poll(): SocketPoll<any> {
    return this.#channel.poll;
  }

  /**
   * Lets the process exit while this stream only waits to write, like `net.Socket.unref()`: the
   * stream still writes while the process runs for other reasons (a timer, a `ref()`ed stream).
   * Other streams on the same poller keep their own setting.
   *
   * ```ts
   * writableTo(sock).unref().write('status\n');   // written if the process lives long enough
   * ```
   */
  unref(): this {
    this.#channel.setRef(false);
    return this;
  }

  /**
   * Undoes {@link unref} (the default): while this stream has a write pending, the process stays
   * alive, as with a socket.
   *
   * ```ts
   * const out = writableTo(sock).unref();
   * out.ref();   // undone: the process runs until what was written is out
   * ```
   */
  ref(): this {
    this.#channel.setRef(true);
    return this;
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#channel.write([chunk], callback);
  }

  /** @internal */
  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    this.#channel.write(toBuffers(chunks), callback);
  }

  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    this.#channel.finish(callback);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const failure = this.#channel.close(); // always: del() first, then restore, then close if owned
    callback(error ?? failure ?? null);
  }
}

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
  readonly #channel: FdChannel;

  /** @internal use {@link duplexOf} */
  constructor(channel: FdChannel, options: DuplexOptions) {
    super(options);
    this.#channel = channel;
    channel.host = {
      push: (chunk) => this.push(chunk),
      destroy: (err) => this.destroy(err),
      readableListened: () => this.listenerCount('readable') > 0,
      flowing: () => this.readableFlowing === true,
    };
  }

  /** The file descriptor read and written. */
  get fd(): number {
    return this.#channel.fd;
  }

  /** The poller the fd is registered with. */
  get poll(): SocketPoll<any> {
    return this.#channel.poll;
  }

  /**
   * Stops reading and stops watching the fd: nothing is read while paused (not even to fill the
   * buffer, as Node's streams otherwise do), so a paused stream does not keep the process alive.
   * {@link resume}, a `read()` or a `'readable'` listener reads again.
   */
  override pause(): this {
    super.pause();
    this.#channel.pauseReading();
    return this;
  }

  /** Resumes reading (and watching the fd). */
  override resume(): this {
    super.resume();
    this.#channel.resumeReading();
    return this;
  }

  /**
   * Lets the process exit while this stream only waits for its fd, like `net.Socket.unref()`: the
   * stream still delivers while the process runs for other reasons (a timer, a `ref()`ed stream).
   * Other streams on the same poller keep their own setting.
   *
   * ```ts
   * const tty = duplexOf(ptyMaster).unref();   // reads while the process runs anyway, holds it on no account
   * tty.on('data', (chunk) => process.stdout.write(chunk));
   * ```
   */
  unref(): this {
    this.#channel.setRef(false);
    return this;
  }

  /**
   * Undoes {@link unref} (the default): while this stream waits for its fd (to read, or with a
   * write pending), the process stays alive, as with a socket.
   *
   * ```ts
   * const tty = duplexOf(ptyMaster).unref();
   * tty.ref();   // undone: the process runs until the fd ends
   * ```
   */
  ref(): this {
    this.#channel.setRef(true);
    return this;
  }

  /** Reads from the buffer (Node's `read()`); after {@link pause}, asking for data resumes watching the fd. */
  override read(size?: number): any {
    if (size !== 0) this.#channel.resumeReading();
    return super.read(size);
  }

  /** @internal */
  override _read(): void {
    this.#channel.wantRead();
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#channel.write([chunk], callback);
  }

  /** @internal */
  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    this.#channel.write(toBuffers(chunks), callback);
  }

  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    this.#channel.finish(callback);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const failure = this.#channel.close(); // always: del() first, then restore, then close if owned
    callback(error ?? failure ?? null);
  }
}

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
  return new FdReadable(channel, { highWaterMark: o.highWaterMark, signal: o.signal, emitClose: true, autoDestroy: true });
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
  return new FdWritable(channel, { highWaterMark: o.highWaterMark, signal: o.signal, emitClose: true, autoDestroy: true });
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
  return new FdDuplex(channel, streamOptions(options));
}
