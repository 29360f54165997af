import { POLL_READ, POLL_WRITE, SocketPoll } from '../src';
import { BACKENDS, sleep } from './helpers/backends';
import { CHILD_PRELUDE, runChildScript } from './helpers/children';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

/** Runs `body` in a fresh Node process with a poller watching a socketpair: see {@link runChildScript}. */
async function runChild(body: string, options: object, aliveAfterMs: number): Promise<number | 'alive'> {
  const script = `${CHILD_PRELUDE}
    const { SocketPoll, POLL_READ } = core;
    const poll = new SocketPoll(${JSON.stringify(options)});
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ);
    process.stdout.write('ready\\n');
    ${body}
  `;
  return (await runChildScript(script, aliveAfterMs)).outcome;
}

describe.each(BACKENDS)('event-loop delivery on $label', (backend) => {
  test('start() delivers on the loop and never blocks it', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const got = new Promise<string[]>((resolve) => poll.start((events) => resolve(events.map((e) => e.data))));
    expect(poll.started).toBe(true);
    // A started poller that blocked the loop would stop the interval: this wait would never end.
    while (ticks <= 3) await sleep(5);
    fds.write(b, 'x');
    expect(await got).toEqual(['a']);
    clearInterval(timer);
    poll.close();
  });

  test('stop() ends delivery and start() resumes it with the registrations kept', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    let calls = 0;
    poll.start(() => calls++);
    poll.stop();
    fds.write(b, 'x');
    await sleep(80);
    expect(calls).toBe(0);
    const got = new Promise<number>((resolve) => poll.start((events) => resolve(events.length)));
    expect(await got).toBe(1);
    poll.close();
  });

  test('level-triggered readiness is delivered again on the next turn until drained', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    fds.write(b, 'abc');
    let calls = 0;
    await new Promise<void>((resolve) =>
      poll.start(() => {
        calls++;
        if (calls === 3) {
          fds.drain(a);
          setTimeout(resolve, 80); // and then nothing more
        }
      }),
    );
    expect(calls).toBe(3);
    poll.close();
  });

  test('a batch handled by JS is not reported again because the poller looked before JS drained it', async () => {
    // Each batch drains its fds before returning; then no fd may appear twice.
    const poll = new SocketPoll<number>({ ...backend.options, maxEvents: 64 });
    const pairs = Array.from({ length: 20 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_READ, i));
    const seen: number[] = [];
    const done = new Promise<void>((resolve) =>
      poll.start((events) => {
        for (const ev of events) {
          seen.push(ev.data);
          fds.drain(ev.fd);
        }
        if (seen.length >= 200) resolve();
      }),
    );
    for (let round = 0; round < 10; round++) {
      for (const [, b] of pairs) fds.write(b, 'x');
      await sleep(15);
    }
    await Promise.race([done, sleep(3000)]);
    poll.close();
    // Every write round is seen once per fd; duplicates would push the count over 200.
    expect(seen.length).toBe(200);
  });

  test('an fd that stays ready gets one batch per loop turn, and timers still run', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    fds.write(b, 'x'); // never drained
    let batches = 0;
    let turns = 0;
    let counting = true;
    const countTurn = (): void => {
      turns++;
      if (counting) setImmediate(countTurn);
    };
    setImmediate(countTurn);
    poll.start(() => batches++);
    // A delivery that re-reported the fd without returning to the loop would starve this timer.
    await sleep(50);
    counting = false;
    poll.close();
    expect(batches).toBeGreaterThan(5);
    expect(batches).toBeLessThanOrEqual(turns + 2);
  });

  test('stop() between two loop turns drops the batch found for the next one', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a');
    fds.write(b, 'x'); // ready on every turn
    poll.start(() => {}); // a busy poller, stopped with a batch held for the next turn
    await sleep(20);
    poll.stop();
    let calls = 0;
    poll.start(() => {
      calls++;
      if (calls === 1) setImmediate(() => poll.stop()); // before the next turn's delivery
    });
    for (let waited = 0; calls === 0 && waited < 3000; waited += 10) await sleep(10); // a loaded machine
    await sleep(80);
    expect(calls).toBe(1);
    expect(poll.started).toBe(false);
    poll.close();
  });

  test('an event the kernel reported before mod() is not delivered after it: a oneshot made by mod() fires once', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'level');
    const seen: string[] = [];
    poll.start((events) => events.forEach((e) => seen.push(`${e.data}:${e.events}`)));
    await sleep(20);
    fds.write(b, 'x');
    // Long enough for a helper thread (poll, Bun, Deno) to find the event and hand it to the loop.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    poll.mod(a, POLL_READ, 'oneshot', { mode: 'oneshot' });
    await sleep(100);
    poll.close();
    expect(seen).toEqual([`oneshot:${POLL_READ}`]);
  });

  test('close() from inside the batch callback stops everything cleanly', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const pairs = Array.from({ length: 4 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_WRITE, `p${i}`));
    let calls = 0;
    let acted = 0;
    await new Promise<void>((resolve) =>
      poll.start((events) => {
        calls++;
        for (const ev of events) {
          if (!(ev.events & POLL_WRITE)) continue;
          acted++;
          poll.close(); // cancels the rest of this batch
        }
        setTimeout(resolve, 50);
      }),
    );
    expect(calls).toBe(1);
    expect(acted).toBe(1);
    expect(poll.closed).toBe(true);
  });

  test('stop() and start() again from inside the callback', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a] = fds.socketpair();
    poll.add(a, POLL_WRITE, 'a', { mode: 'oneshot' });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      const second = (): void => {
        seen.push('second');
        resolve();
      };
      poll.start(() => {
        seen.push('first');
        poll.stop();
        poll.start(second);
        poll.mod(a, POLL_WRITE); // re-arm: the next batch goes to `second`
      });
    });
    expect(seen).toEqual(['first', 'second']);
    poll.close();
  });

  test('an exception in the batch callback is reported as uncaught, and delivery goes on', async () => {
    // In a child process: jest owns this process's uncaughtException handling.
    const code = await runChild(
      `let thrown = 0;
       process.on('uncaughtException', (err) => {
         if (err.message !== 'boom in callback') process.exit(6);
         thrown++;
       });
       fds.write(b, 'x');
       poll.start((events) => {
         if (thrown === 0) throw new Error('boom in callback');
         if (events.length === 1 && thrown === 1) { poll.close(); process.exit(0); }
       });`,
      backend.options,
      5000,
    );
    expect(code).toBe(0);
  });

  test('a started, ref\'d poller keeps the process alive', async () => {
    expect(await runChild(`poll.start(() => {});`, backend.options, 1500)).toBe('alive');
  });

  test('an unref\'d started poller does not keep the process alive', async () => {
    expect(await runChild(`poll.start(() => {}).unref();`, backend.options, 5000)).toBe(0);
  });

  test('an unref\'d poller whose fd stays ready does not keep the process alive', async () => {
    expect(await runChild(`fds.write(b, 'x'); poll.start(() => {}).unref();`, backend.options, 5000)).toBe(0);
  });

  test('unref() before start() is remembered', async () => {
    expect(await runChild(`poll.unref(); poll.start(() => {});`, backend.options, 5000)).toBe(0);
  });

  test('a stopped poller does not keep the process alive', async () => {
    expect(await runChild(`poll.start(() => {}); poll.stop();`, backend.options, 5000)).toBe(0);
  });

  test('a pending waitAsync keeps the process alive until it resolves', async () => {
    const code = await runChild(
      `poll.waitAsync(-1).then((ev) => { if (ev.length !== 1) process.exit(5); poll.close(); });
       setTimeout(() => fds.write(b, 'x'), 300);`,
      backend.options,
      5000,
    );
    expect(code).toBe(0);
  });

  test('ref() after unref() keeps it alive again', async () => {
    expect(await runChild(`poll.start(() => {}).unref(); poll.ref();`, backend.options, 1500)).toBe('alive');
    const poll = new SocketPoll(backend.options);
    expect(poll.hasRef()).toBe(true);
    expect(poll.unref().hasRef()).toBe(false);
    poll.close();
  });
});
