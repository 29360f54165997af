import * as fs from 'node:fs';
import { defaultPoller, type FdReadable, readableFrom, SocketPoll } from '../src';
import { BACKENDS, sleep } from './helpers/backends';
import { closeAll, pollerFdCount, socketpair, write } from './helpers/fds';

afterEach(closeAll);

const STREAMS = 1000;
const threadCount = (): number => fs.readdirSync('/proc/self/task').length;
const linux = process.platform === 'linux';

async function readOneByteEach(streams: FdReadable[], peers: number[]): Promise<number> {
  let received = 0;
  for (const s of streams) s.once('data', () => received++);
  for (const peer of peers) write(peer, 'x');
  const deadline = Date.now() + 20_000;
  while (received < streams.length && Date.now() < deadline) await sleep(5);
  return received;
}

(linux ? describe : describe.skip)('many streams share one poller', () => {
  beforeAll(async () => {
    await fs.promises.stat(__filename); // let libuv's thread pool exist before threads are counted
  });

  test(`${STREAMS} streams without options use the one default poller: no extra poller, no extra thread`, async () => {
    const [a0, b0] = socketpair();
    const first = readableFrom(a0);
    first.resume();
    await sleep(10);
    const threads = threadCount();
    const pollers = pollerFdCount();
    const arrayBuffers = process.memoryUsage().arrayBuffers;
    const streams: FdReadable[] = [];
    const peers: number[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const [a, b] = socketpair();
      streams.push(readableFrom(a));
      peers.push(b);
    }
    expect(streams.every((s) => s.poll === defaultPoller() && s.poll === first.poll)).toBe(true);
    expect(await readOneByteEach(streams, peers)).toBe(STREAMS);
    expect(defaultPoller().size).toBe(STREAMS + 1);
    expect(threadCount()).toBe(threads);
    expect(pollerFdCount()).toBe(pollers);
    // Streams share one read buffer: a stream that read a byte holds that byte, not a 64 KiB buffer.
    expect(process.memoryUsage().arrayBuffers - arrayBuffers).toBeLessThan(4 * 1024 * 1024);
    for (const s of [first, ...streams]) s.destroy();
    write(b0, 'x');
    expect(defaultPoller().size).toBe(0);
    expect(defaultPoller().started).toBe(false); // idle: it holds no loop handle
  }, 60_000);

  describe.each(BACKENDS)('on a given poller ($label)', ({ name, options }) => {
    test(`${STREAMS} streams: one poller, threads unchanged once it runs`, async () => {
      const poll = new SocketPoll(options);
      const streams: FdReadable[] = [];
      try {
        const [a0] = socketpair();
        streams.push(readableFrom(a0, { poll }).resume()); // the poll backend's one helper thread starts here
        await sleep(10);
        const threads = threadCount();
        const peers: number[] = [];
        for (let i = 0; i < STREAMS; i++) {
          const [a, b] = socketpair();
          streams.push(readableFrom(a, { poll }));
          peers.push(b);
        }
        expect(await readOneByteEach(streams.slice(1), peers)).toBe(STREAMS);
        expect(threadCount()).toBe(threads);
        expect(poll.size).toBe(STREAMS + 1);
        if (name !== 'poll') expect(poll.backendName).toBe(name);
      } finally {
        for (const s of streams) s.destroy();
        poll.close();
      }
    }, 60_000);
  });
});
