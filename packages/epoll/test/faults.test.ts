/**
 * Faults a program can make, each no worse than with the original package: no crash, no spin, no
 * call for an fd that is gone. Where the original does worse it is said (the original's addon was
 * built from source and run the same way to check).
 */
import { performance } from 'node:perf_hooks';
import { Epoll, setPollerOptions } from '../src';
import { child, fds, Recorder, sleep, until } from './helpers';

const { EPOLLIN } = Epoll;

afterEach(() => fds.closeAll());

/** Event-loop utilisation over `ms`: ~1 when something spins the loop, near 0 when it sleeps. */
async function loopUtilisation(ms: number): Promise<number> {
  const start = performance.eventLoopUtilization();
  await sleep(ms);
  return performance.eventLoopUtilization(start).utilization;
}

describe.each([
  ['uv_poll delivery', 'uvpoll'],
  ['helper-thread delivery', 'thread'],
])('on the %s', (_label, delivery) => {
  const saved = process.env.SOCKETPOLL_DELIVERY;
  beforeAll(() => {
    process.env.SOCKETPOLL_DELIVERY = delivery;
    setPollerOptions({}); // the thread's poller is made again, on this delivery path
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SOCKETPOLL_DELIVERY;
    else process.env.SOCKETPOLL_DELIVERY = saved;
    setPollerOptions({});
  });
  let rec: Recorder;
  beforeEach(() => {
    rec = new Recorder();
  });
  afterEach(() => rec.close());

  test('an fd closed while registered: no call after the close, no spin, and remove() afterwards succeeds', async () => {
    const [a, b] = fds.socketpair();
    rec.epoll.add(a, EPOLLIN); // level: while a holds data it is reported on every wait
    fds.write(b, 'x');
    await rec.until(1);
    fds.close(a); // the kernel drops a closed file from the epoll set
    await sleep(20);
    const calls = rec.calls.length;
    expect(await loopUtilisation(200)).toBeLessThan(0.5);
    expect(rec.calls.length).toBe(calls);
    expect(rec.epoll.remove(a)).toBe(rec.epoll); // the original throws EBADF here
    const [c, d] = fds.socketpair(); // may take the number a had
    rec.epoll.add(c, EPOLLIN);
    fds.write(d, 'y');
    await until(() => rec.calls.some(([fd], i) => i >= calls && fd === c));
    expect(rec.calls.slice(calls).every(([fd]) => fd === c)).toBe(true);
  });

  test('an fd closed while registered and still open elsewhere (a dup): remove() stops its calls', async () => {
    const [a, b] = fds.socketpair();
    rec.epoll.add(a, EPOLLIN);
    fds.write(b, 'x');
    const copy = fds.dup2(a, 900 + a); // epoll keeps watching a file that is still open
    fds.close(a);
    await rec.until(2);
    // The original reports this closed number forever, and its remove() throws EBADF.
    expect(() => rec.epoll.remove(a)).not.toThrow();
    await sleep(20);
    const calls = rec.calls.length;
    expect(await loopUtilisation(200)).toBeLessThan(0.5);
    expect(rec.calls.length).toBe(calls);
    expect(fds.read(copy)).toBe('x'); // the file itself was never touched
  });

  test('remove() of an fd whose event is pending in the same batch: it gets no call', async () => {
    const pairs = [fds.socketpair(), fds.socketpair(), fds.socketpair()];
    const mine = pairs.map(([a]) => a);
    rec.onCall = (fd) => {
      for (const other of mine) if (other !== fd) rec.epoll.remove(other);
      mine.length = 0;
      mine.push(fd);
    };
    for (const a of mine) rec.epoll.add(a, EPOLLIN);
    for (const [, b] of pairs) fds.write(b, 'x'); // all three ready before the loop looks
    await rec.until(1);
    await sleep(100);
    // The first one keeps being reported (level, not drained); the two removed ones never are.
    expect(new Set(rec.calls.map(([fd]) => fd))).toEqual(new Set([rec.calls[0][0]]));
  });

  test('remove() of an fd that became ready before the loop looked: it gets no call', async () => {
    const [a, b] = fds.socketpair();
    rec.epoll.add(a, EPOLLIN);
    fds.write(b, 'x');
    rec.epoll.remove(a);
    await sleep(150);
    expect(rec.calls).toEqual([]);
  });

  test('close() inside the callback: no more calls for that Epoll, even from the same batch; another Epoll is unaffected', async () => {
    const pairs = [fds.socketpair(), fds.socketpair(), fds.socketpair()];
    const other = new Recorder();
    const [x, y] = fds.socketpair();
    rec.onCall = () => rec.epoll.close();
    for (const [a] of pairs) rec.epoll.add(a, EPOLLIN);
    other.epoll.add(x, EPOLLIN);
    for (const [, b] of pairs) fds.write(b, 'x');
    fds.write(y, 'x');
    await other.until(2);
    await sleep(50);
    expect(rec.calls.length).toBe(1);
    expect(rec.epoll.closed).toBe(true);
    expect(other.calls.every(([fd]) => fd === x)).toBe(true);
    other.close();
  });
});

test('a callback that throws: reported as an uncaught exception; the other calls of its batch and later events still come', () => {
  const r = child(`
    const pairs = [fds.socketpair(0), fds.socketpair(0)];
    const seen = [];
    let thrown = 0;
    process.on('uncaughtException', (err) => { thrown++; if (err.message !== 'boom') throw err; });
    const epoll = new Epoll((err, fd) => {
      seen.push(fd);
      if (seen.length <= 2) throw new Error('boom');
      if (seen.length === 6) { epoll.close(); console.log(JSON.stringify({ thrown, fds: [...new Set(seen)].length })); }
    });
    for (const [a, b] of pairs) { epoll.add(a, Epoll.EPOLLIN); fds.write(b, 'x'); }
  `);
  expect(r.output.trim()).toBe(JSON.stringify({ thrown: 2, fds: 2 }));
  expect(r.status).toBe(0);
});

test('a callback that throws without an uncaughtException handler: the process exits with code 1 and the error printed, no crash', () => {
  const r = child(`
    const [a, b] = fds.socketpair(0);
    const epoll = new Epoll(() => { throw new Error('thrown from the callback'); });
    epoll.add(a, Epoll.EPOLLIN);
    fds.write(b, 'x');
  `);
  expect(r.signal).toBeNull();
  expect(r.status).toBe(1);
  expect(r.output).toMatch(/Error: thrown from the callback/);
});
