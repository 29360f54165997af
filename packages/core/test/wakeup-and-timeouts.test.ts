import { Worker } from 'node:worker_threads';
import { POLL_READ, SocketPoll, wakeup } from '../src';
import { BACKENDS, now, sleep } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(BACKENDS)('wakeup and timeouts on $label', (backend) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test('wait(0) returns at once, wait(100) after about 100 ms', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_READ);
    let t0 = now();
    expect(poll.wait(0)).toEqual([]);
    expect(now() - t0).toBeLessThan(50);
    t0 = now();
    expect(poll.wait(100)).toEqual([]);
    const took = now() - t0;
    expect(took).toBeGreaterThanOrEqual(99);
    expect(took).toBeLessThan(1000);
  });

  test('fractional timeouts round up, so they never become a busy poll', () => {
    const t0 = now();
    poll.wait(0.2);
    expect(now() - t0).toBeGreaterThanOrEqual(0.9);
  });

  test('a wakeup before wait makes the next wait return early; many wakeups coalesce into one', () => {
    for (let i = 0; i < 1000; i++) poll.wakeup();
    let t0 = now();
    expect(poll.wait(5000)).toEqual([]);
    expect(now() - t0).toBeLessThan(1000);
    t0 = now();
    expect(poll.wait(100)).toEqual([]);
    expect(now() - t0).toBeGreaterThanOrEqual(99);
  });

  test('a worker thread wakes a blocked wait(-1) through wakeupHandle', () => {
    const handle = poll.wakeupHandle;
    // The worker runs plain JS: it loads the built @socketpoll/core (dist) and calls wakeup().
    const core = require.resolve('../dist/index.js');
    const waker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const { wakeup } = require(workerData.core);
       setTimeout(() => { if (!wakeup(workerData.handle)) process.exit(3); }, 100);`,
      { eval: true, workerData: { handle, core } },
    );
    const t0 = now();
    expect(poll.wait(-1)).toEqual([]);
    const took = now() - t0;
    expect(took).toBeGreaterThanOrEqual(50);
    expect(took).toBeLessThan(10000);
    return waker.terminate();
  });

  test('wakeup() with a handle of a closed poller returns false', () => {
    const other = new SocketPoll(backend.options);
    const handle = other.wakeupHandle;
    expect(wakeup(handle)).toBe(true);
    other.close();
    expect(wakeup(handle)).toBe(false);
  });

  test('waitAsync resolves with events without blocking the loop', async () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    // The data is written by the 5th timer tick: it can only arrive if the loop kept running
    // while we waited (no wall-clock bound, so a loaded machine cannot fail it).
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 5) fds.write(b, 'x');
    }, 5);
    const events = await poll.waitAsync(10000);
    clearInterval(timer);
    expect(events).toEqual([{ fd: a, events: POLL_READ, data: 'a' }]);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  test('waitAsync times out with [] and wakeup() ends it early', async () => {
    let t0 = now();
    expect(await poll.waitAsync(80)).toEqual([]);
    expect(now() - t0).toBeGreaterThanOrEqual(75);
    t0 = now();
    const pending = poll.waitAsync(10000);
    await sleep(20);
    poll.wakeup();
    expect(await pending).toEqual([]);
    expect(now() - t0).toBeLessThan(5000);
  });

  test('close() resolves a pending waitAsync with []', async () => {
    const pending = poll.waitAsync(-1);
    await sleep(10);
    poll.close();
    expect(await pending).toEqual([]);
  });
});
