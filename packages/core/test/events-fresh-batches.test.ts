/**
 * `events()` hands out only readiness that held after the consumer asked for the batch: a loop that
 * reads a FIFO once per batch never meets EAGAIN, whether its body is synchronous or awaits, on
 * every backend and both delivery paths. `once()` after a drained fd waits for new data.
 */
import * as fs from 'node:fs';
import { POLL_READ, SocketPoll } from '../src';
import { PATHS, onPath, sleep } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

/** Writes one byte to `w` every `ms` until stopped. */
function feed(w: number, ms: number): () => void {
  const timer = setInterval(() => fs.writeSync(w, 'x'), ms);
  return () => clearInterval(timer);
}

/** What one read of `fd` gets, or 'EAGAIN' when it holds nothing (the readiness was stale). */
function readNow(fd: number, buf: Buffer): string {
  try {
    return buf.toString('utf8', 0, fs.readSync(fd, buf));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return 'EAGAIN';
  }
}

/** Reads the FIFO once per batch, for `batches` batches; how many reads met EAGAIN. */
async function staleReads(poll: SocketPoll, batches: number): Promise<number> {
  const buf = Buffer.alloc(64);
  let got = 0;
  let stale = 0;
  for await (const events of poll.events()) {
    for (const ev of events) {
      if (ev.events & POLL_READ && readNow(ev.fd, buf) === 'EAGAIN') stale++;
    }
    if (++got === batches) break;
  }
  return stale;
}

describe.each(PATHS)('fresh batches on $label', (path) => {
  test.each([
    { loop: 'a for-await loop', unref: false, batches: 50 },
    { loop: 'the same loop on an unref()ed poller (the helper thread waits again at once)', unref: true, batches: 30 },
  ])('$loop reading once per batch never gets a batch for a drained FIFO', async ({ unref, batches }) => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    if (unref) poll.unref(); // the feed's timer keeps the process alive
    const [r, w] = fds.fifo();
    poll.add(r, POLL_READ);
    const stop = feed(w, 10);
    const stale = await staleReads(poll, batches);
    stop();
    poll.close();
    expect(stale).toBe(0);
  });

  test('a loop body that awaits before it reads never gets a batch for a FIFO it drained meanwhile', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.fifo();
    poll.add(r, POLL_READ);
    fs.writeSync(w, 'a');
    const buf = Buffer.alloc(64);
    const bodies: string[] = [];
    try {
      for await (const events of poll.events({ signal: AbortSignal.timeout(400) })) {
        // The first body: one more byte arrives while it is busy (its batch is collected then),
        // and its read takes both. Nothing else is ever written.
        if (bodies.length === 0) setTimeout(() => fs.writeSync(w, 'b'), 15);
        await sleep(60);
        for (const ev of events) if (ev.events & POLL_READ) bodies.push(readNow(ev.fd, buf));
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err; // the end: nothing more is ready
    }
    poll.close();
    expect(bodies).toEqual(['ab']);
  });

  test('awaiting once() again after draining waits for new data', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.fifo();
    const stop = feed(w, 10);
    const buf = Buffer.alloc(64);
    let stale = 0;
    for (let i = 0; i < 30; i++) {
      await poll.once(r, POLL_READ);
      if (readNow(r, buf) === 'EAGAIN') stale++;
    }
    stop();
    poll.close();
    expect(stale).toBe(0);
  });
});
