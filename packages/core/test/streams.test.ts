import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { duplexOf, type FdReadable, POLL_READ, readableFrom, SocketPoll, writableTo } from '../src';
import { BACKENDS, sleep } from './helpers/backends';
import {
  close,
  closeAll,
  fifo,
  isOpen,
  openpty,
  pipe,
  read,
  SHUT_WR,
  shutdown,
  socketpair,
  SOCK_DGRAM,
  write,
} from './helpers/fds';
import { closed, collect } from './helpers/streams';

afterEach(closeAll);

describe.each(BACKENDS)('streams over fds ($label)', ({ options }) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll(options);
  });
  afterEach(() => poll.close());

  test('a duplex over a socketpair reads and writes, and end() lets the peer read end of file', async () => {
    const [a, b] = socketpair();
    const left = duplexOf(a, { poll });
    const right = duplexOf(b, { poll });
    expect(left.poll).toBe(poll);
    right.on('data', (chunk: Buffer) => right.write(chunk.toString().toUpperCase()));
    left.write('hello');
    const [reply] = (await once(left, 'data')) as [Buffer];
    expect(reply.toString()).toBe('HELLO');
    const rest = collect(right);
    left.end(' world');
    expect((await rest).toString()).toBe(' world'); // not echoed: right ended after its input ended
    await closed(left);
    expect(isOpen(a) && isOpen(b)).toBe(true); // autoClose defaults to false
  });

  test('a FIFO: nothing is read before a writer exists, then data, then end when the writer closes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-fifo-'));
    const file = path.join(dir, 'f');
    execFileSync('mkfifo', [file]);
    const rfd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); // no writer yet
    const input = readableFrom(rfd, { poll, autoClose: true });
    const data = collect(input);
    await sleep(30);
    expect(input.readableEnded).toBe(false); // a writer-less FIFO reads as EOF: the stream waits for readiness
    const wfd = fs.openSync(file, fs.constants.O_WRONLY);
    fs.writeSync(wfd, 'line 1\n');
    fs.writeSync(wfd, 'line 2\n');
    fs.closeSync(wfd);
    expect((await data).toString()).toBe('line 1\nline 2\n');
    await closed(input);
    expect(isOpen(rfd)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('end of file: a socket peer shutting down its writing half ends the readable', async () => {
    const [a, b] = socketpair();
    const input = readableFrom(a, { poll });
    write(b, 'abc');
    shutdown(b, SHUT_WR);
    expect((await collect(input)).toString()).toBe('abc');
    expect(isOpen(b)).toBe(true);
  });

  test('hang-up: a pipe whose writer closed is drained, then ends', async () => {
    const [r, w] = pipe();
    const input = readableFrom(r, { poll });
    write(w, 'last words');
    close(w);
    expect((await collect(input)).toString()).toBe('last words');
  });

  test("a pty master's EIO after the slave closed ends the stream (that is how ptys say goodbye)", async () => {
    const [master, slave] = openpty();
    const tty = duplexOf(master, { poll });
    const data = collect(tty);
    write(slave, 'bye');
    await sleep(20);
    close(slave);
    expect((await data).toString()).toBe('bye');
    await closed(tty);
    expect(tty.errored).toBeNull();
    expect(isOpen(master)).toBe(true);
  });

  test('a datagram socket delivers one message per chunk', async () => {
    const [a, b] = socketpair(SOCK_DGRAM);
    const input = readableFrom(a, { poll });
    write(b, 'one');
    write(b, 'two');
    const got: string[] = [];
    input.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    while (got.length < 2) await sleep(5);
    expect(got).toEqual(['one', 'two']);
    input.destroy();
  });

  test('pause() stops watching the fd; resume() watches it again and gets what came meanwhile', async () => {
    const [a, b] = socketpair();
    const input = readableFrom(a, { poll });
    const chunks: string[] = [];
    input.on('data', (c: Buffer) => chunks.push(c.toString()));
    write(b, 'one');
    await sleep(20);
    expect(chunks).toEqual(['one']);
    expect(poll.has(a)).toBe(true);
    input.pause();
    await sleep(20); // the flowing read that was in progress completes
    write(b, 'two');
    await sleep(20);
    expect(chunks).toEqual(['one']);
    expect(poll.has(a)).toBe(false);
    input.resume();
    await sleep(20);
    expect(chunks.join('')).toBe('onetwo');
    input.destroy();
  });

  test('pause() in a data handler reads nothing more, not even to fill the buffer; resume() reads again', async () => {
    const [a, b] = socketpair();
    const input = readableFrom(a, { poll });
    const chunks: string[] = [];
    input.on('data', (c: Buffer) => {
      chunks.push(c.toString());
      input.pause();
    });
    write(b, 'one');
    while (chunks.length === 0) await sleep(5);
    write(b, 'two');
    await sleep(30);
    expect(input.readableLength).toBe(0); // Node would have read 'two' into the buffer of a paused stream
    expect(poll.has(a)).toBe(false);
    input.resume();
    while (chunks.length < 2) await sleep(5);
    expect(chunks).toEqual(['one', 'two']);
    input.destroy();
  });

  test('after pause(), read() and a readable listener read again', async () => {
    const [a, b] = socketpair();
    const input = readableFrom(a, { poll });
    input.pause();
    write(b, 'first');
    await sleep(20);
    expect(input.read()).toBe(null); // nothing buffered yet: this read() asks for data
    await once(input, 'readable');
    expect(input.read().toString()).toBe('first');
    input.pause();
    const iterated = (async () => {
      for await (const chunk of input) return (chunk as Buffer).toString(); // a 'readable' listener and read()
      return undefined;
    })();
    write(b, 'second');
    expect(await iterated).toBe('second');
  });

  test('autoClose: false leaves the fd open after destroy; true closes it exactly once', async () => {
    const [a, b] = socketpair();
    const kept = duplexOf(a, { poll });
    kept.destroy();
    await closed(kept);
    expect(isOpen(a)).toBe(true);

    const owned = duplexOf(b, { poll, autoClose: true });
    owned.destroy();
    owned.destroy();
    await closed(owned);
    expect(isOpen(b)).toBe(false);
    // The number is reused at once; a second close would close the new fd.
    const [c, d] = socketpair();
    const reused = [c, d].includes(b);
    owned.destroy();
    await sleep(10);
    expect(isOpen(c) && isOpen(d)).toBe(true);
    expect(reused).toBe(true);
  });

  test('destroy() during a read: del() first, no more data, the fd stays open', async () => {
    const [a, b] = socketpair();
    const input = readableFrom(a, { poll, highWaterMark: 1 });
    let seen = 0;
    input.on('data', () => {
      seen++;
      input.destroy();
      expect(poll.has(a)).toBe(false); // unregistered synchronously, before anything else
    });
    write(b, Buffer.alloc(1000, 1));
    await closed(input);
    write(b, Buffer.alloc(1000, 2));
    await sleep(20);
    expect(seen).toBe(1);
    expect(isOpen(a)).toBe(true);
    expect(read(a).length).toBeGreaterThan(0); // the rest is still in the kernel: nobody read it
  });

  test("the stream's signal destroys it with an AbortError", async () => {
    const [a] = socketpair();
    const ac = new AbortController();
    const input = readableFrom(a, { poll, signal: ac.signal });
    input.resume();
    setTimeout(() => ac.abort(), 10);
    const [err] = (await once(input, 'error')) as [Error];
    expect(err.name).toBe('AbortError');
    expect(poll.has(a)).toBe(false);
    expect(isOpen(a)).toBe(true);
  });

  test.each([
    ['readableFrom', readableFrom],
    ['writableTo', writableTo],
    ['duplexOf', duplexOf],
  ] as const)('%s with an already aborted signal: an AbortError, the fd unregistered and free for a new stream', async (_name, make) => {
    const [a] = socketpair();
    const stream = make(a, { poll, signal: AbortSignal.abort() });
    const [err] = (await once(stream, 'error')) as [Error];
    expect(err.name).toBe('AbortError');
    expect(poll.has(a)).toBe(false);
    expect(isOpen(a)).toBe(true);
    await closed(stream);
    const again = make(a, { poll }); // EEXIST if the first stream had left the fd registered
    again.destroy();
    await closed(again);
  });

  test('aborting during for await over a stream rejects the loop with an AbortError; the fd is unregistered and open', async () => {
    const [a, b] = socketpair();
    const ac = new AbortController();
    const input = readableFrom(a, { poll, signal: ac.signal });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const chunk of input) {
        seen.push((chunk as Buffer).toString());
        setTimeout(() => ac.abort(), 10); // while the loop waits for the next chunk
      }
    })();
    write(b, 'first');
    await expect(loop).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual(['first']);
    expect(poll.has(a)).toBe(false);
    expect(isOpen(a)).toBe(true);
  });

  test('a write to a socket whose peer is gone destroys the stream with a typed EPIPE', async () => {
    const [a, b] = socketpair();
    close(b);
    const out = writableTo(a, { poll });
    out.write('x');
    const [err] = (await once(out, 'error')) as [Error & { code: string; syscall: string; fd: number }];
    expect(err).toMatchObject({ name: 'SocketPollError', code: 'EPIPE', syscall: 'write', fd: a });
    expect(isOpen(a)).toBe(true);
  });

  test('close() of the poller destroys its streams with ERR_SOCKETPOLL_CLOSED', async () => {
    const [a] = socketpair();
    const input = readableFrom(a, { poll });
    input.resume();
    await sleep(5);
    poll.close();
    const [err] = (await once(input, 'error')) as [Error & { code: string }];
    expect(err.code).toBe('ERR_SOCKETPOLL_CLOSED');
  });

  test('Symbol.asyncDispose: `await using` destroys the stream and keeps the fd', async () => {
    const [a] = socketpair();
    let escaped: FdReadable;
    {
      await using input = readableFrom(a, { poll });
      escaped = input;
      input.resume();
    }
    expect(escaped.destroyed).toBe(true);
    expect(poll.has(a)).toBe(false);
    expect(isOpen(a)).toBe(true);
  });

  describe('bad input is a typed error at creation', () => {
    test('a closed fd: EBADF', () => {
      const [a] = socketpair();
      close(a);
      expect(() => readableFrom(a, { poll })).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fcntl', fd: a }));
    });

    test('a directory: EISDIR', () => {
      const dir = fs.openSync(os.tmpdir(), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        expect(() => readableFrom(dir, { poll })).toThrow(expect.objectContaining({ code: 'EISDIR', fd: dir }));
      } finally {
        fs.closeSync(dir);
      }
    });

    test('a blocking fd that cannot be made non-blocking (an O_PATH fd): the fcntl error, flags untouched', () => {
      const O_PATH = 0o10000000; // Linux
      const [r, w] = fifo();
      close(r);
      close(w);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-opath-'));
      const file = path.join(dir, 'f');
      fs.writeFileSync(file, '');
      const fd = fs.openSync(file, O_PATH);
      try {
        expect(() => readableFrom(fd, { poll })).toThrow(
          expect.objectContaining({ code: 'EBADF', syscall: 'fcntl', fd, message: expect.stringContaining('cannot be made non-blocking') }),
        );
        expect(poll.size).toBe(0);
      } finally {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('highWaterMark out of range: ERR_OUT_OF_RANGE, and a bad type: ERR_INVALID_ARG_TYPE', () => {
      const [a] = socketpair();
      for (const hwm of [-1, 1.5, 2 ** 31, NaN]) {
        expect(() => readableFrom(a, { poll, highWaterMark: hwm })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      }
      expect(() => duplexOf(a, { poll, writableHighWaterMark: -5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => readableFrom(a, { poll, highWaterMark: '1' as unknown as number })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      );
      expect(() => readableFrom(a, { poll, autoClose: 1 as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => readableFrom(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => readableFrom(a, { poll: {} as SocketPoll })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(poll.size).toBe(0);
    });

    test('the wrong direction: a readable of a write-only end, a writable of a read-only end: EBADF', () => {
      const [r, w] = pipe();
      expect(() => readableFrom(w, { poll })).toThrow(expect.objectContaining({ code: 'EBADF', message: expect.stringContaining('writing only') }));
      expect(() => writableTo(r, { poll })).toThrow(expect.objectContaining({ code: 'EBADF', message: expect.stringContaining('reading only') }));
    });

    test('the same fd twice on one poller: EEXIST naming duplexOf', () => {
      const [a] = socketpair();
      const first = readableFrom(a, { poll });
      expect(() => writableTo(a, { poll })).toThrow(expect.objectContaining({ code: 'EEXIST', message: expect.stringContaining('duplexOf') }));
      first.destroy();
      writableTo(a, { poll }).destroy(); // free again once the first is gone
    });

    test('a poller start()ed with your own callback, or holding your own fds: ERR_SOCKETPOLL_BUSY', () => {
      const [a, b] = socketpair();
      poll.add(b, POLL_READ);
      expect(() => readableFrom(a, { poll })).toThrow(expect.objectContaining({ code: 'ERR_SOCKETPOLL_BUSY' }));
      poll.del(b);
      poll.start(() => undefined);
      expect(() => readableFrom(a, { poll })).toThrow(expect.objectContaining({ code: 'ERR_SOCKETPOLL_BUSY' }));
    });

    test('an fd that was blocking gets O_NONBLOCK, and restoreBlocking clears it again', () => {
      const [a] = socketpair();
      // the helper's fds are non-blocking: make one blocking through a fresh stream's own switch
      const addonFlags = (): number => {
        const out = new Int32Array(3);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { internals } = require('../src/internals') as typeof import('../src/internals');
        internals.addon(poll).fdStatus(a, out);
        return out[0];
      };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { internals } = require('../src/internals') as typeof import('../src/internals');
      internals.addon(poll).setNonBlocking(a, false);
      expect(addonFlags() & fs.constants.O_NONBLOCK).toBe(0);
      const s = readableFrom(a, { poll, restoreBlocking: true });
      expect(addonFlags() & fs.constants.O_NONBLOCK).not.toBe(0);
      s.destroy();
      expect(addonFlags() & fs.constants.O_NONBLOCK).toBe(0);
    });
  });
});
