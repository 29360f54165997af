import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { duplexOf, POLL_READ, readableFrom, SocketPoll, writableTo } from '../src';
import { dispatcherFor } from '../src/dispatch';
import { BACKENDS, sleep } from './helpers/backends';
import { closeAll, openpty } from './helpers/fds';
import { HAVE_SOCAT, socatPair, type SocatPair } from './helpers/ptys';
import { pattern } from './helpers/streams';

afterEach(closeAll);

const MIB = 1 << 20;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Transfer {
  received: Buffer;
  writeReturnedFalse: number;
  drains: number;
  pausedUnwatched: number;
}

/**
 * Writes `data` to `writeFd` through a writable and reads it from `readFd` with a slow consumer
 * (paused for a few ms every few chunks). Counts the backpressure seen on both sides.
 */
async function transfer(poll: SocketPoll, out: Writable, input: Readable & { fd: number }, data: Buffer): Promise<Transfer> {
  const readFd = input.fd;
  const result: Transfer = { received: Buffer.alloc(0), writeReturnedFalse: 0, drains: 0, pausedUnwatched: 0 };
  out.on('drain', () => result.drains++);
  const writer = (async () => {
    for (let off = 0; off < data.length; off += 8192) {
      if (!out.write(data.subarray(off, off + 8192))) {
        result.writeReturnedFalse++;
        await once(out, 'drain');
      }
    }
  })();
  const chunks: Buffer[] = [];
  let size = 0;
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    input.on('error', reject);
    out.on('error', reject);
    input.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= data.length) return resolve();
      if (++count % 8 === 0) {
        input.pause();
        setTimeout(() => {
          if ((dispatcherFor(poll).interestOf(readFd) & POLL_READ) === 0) result.pausedUnwatched++; // not watched for input
          input.resume();
        }, 3);
      }
    });
  });
  await writer;
  result.received = Buffer.concat(chunks);
  return result;
}

describe.each(BACKENDS)('backpressure ($label)', ({ options }) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll(options);
  });
  afterEach(() => poll.close());

  describe('through a socat pty pair (a serial port and its device)', () => {
    let pair: SocatPair | undefined;
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });

    (HAVE_SOCAT ? test : test.skip)('1 MiB each way with a slow consumer arrives byte-exact, with write() false and drain', async () => {
      pair = await socatPair();
      const forth = pattern(MIB, 7);
      const back = pattern(MIB, 11);
      const sides = { poll, readableHighWaterMark: 4 * 1024, writableHighWaterMark: 16 * 1024 };
      const a = duplexOf(pair.a, sides);
      const b = duplexOf(pair.b, sides);
      const [ab, ba] = await Promise.all([transfer(poll, a, b, forth), transfer(poll, b, a, back)]);
      a.destroy();
      b.destroy();
      expect(ab.received.length).toBe(MIB);
      expect(sha(ab.received)).toBe(sha(forth));
      expect(sha(ba.received)).toBe(sha(back));
      for (const t of [ab, ba]) {
        expect(t.writeReturnedFalse).toBeGreaterThan(0);
        expect(t.drains).toBeGreaterThan(0);
        expect(t.pausedUnwatched).toBeGreaterThan(0);
      }
    }, 60_000);
    if (!HAVE_SOCAT) console.log('skipped the socat pty tests: socat is not installed (apt-get install socat)');
  });

  test('1 MiB from a pty slave to its master (live line discipline, no newlines) arrives byte-exact', async () => {
    const [master, slave] = openpty();
    const data = pattern(MIB, 3);
    const input = readableFrom(master, { poll, highWaterMark: 4 * 1024 });
    const out = writableTo(slave, { poll, highWaterMark: 16 * 1024 });
    const t = await transfer(poll, out, input, data);
    input.destroy();
    out.destroy();
    expect(sha(t.received)).toBe(sha(data));
    expect(t.writeReturnedFalse).toBeGreaterThan(0);
    expect(t.pausedUnwatched).toBeGreaterThan(0);
  }, 60_000);

  test('a duplex that is not read stops reading at highWaterMark: the rest stays in the kernel', async () => {
    const [master, slave] = openpty();
    const tty = duplexOf(master, { poll, highWaterMark: 1024 });
    const writer = writableTo(slave, { poll });
    writer.write(pattern(64 * 1024));
    tty.read(0); // start reading without consuming
    await sleep(50);
    expect(tty.readableLength).toBeGreaterThan(0);
    expect(tty.readableLength).toBeLessThan(64 * 1024);
    expect(poll.has(master)).toBe(false); // not watched while the buffer is full
    tty.destroy();
    writer.destroy();
  });
});
