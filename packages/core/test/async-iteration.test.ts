import { POLL_READ, SocketPoll } from '../src';
import { BACKENDS, sleep } from './helpers/backends';
import { closeAll, drain, socketpair, write } from './helpers/fds';

afterEach(closeAll);

describe.each(BACKENDS)('for await over batches ($label)', ({ options }) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>(options);
  });
  afterEach(() => poll.close());

  test('poll.events() yields each batch of ready fds on the event loop', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ, 'a');
    setTimeout(() => write(b, 'x'), 10);
    for await (const events of poll.events()) {
      expect(events).toEqual([{ fd: a, events: POLL_READ, data: 'a' }]);
      break;
    }
    expect(poll.started).toBe(false); // break released the poller
    expect(poll.wait(0)).toHaveLength(1); // the readiness is still there: nothing was lost
  });

  test('for await (const events of poll) is the short form', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ, 'a');
    let rounds = 0;
    setTimeout(() => write(b, 'x'), 5);
    for await (const events of poll) {
      expect(events.map((e) => e.data)).toEqual(['a']);
      drain(a);
      if (++rounds === 3) break;
      setTimeout(() => write(b, 'x'), 5);
    }
    expect(rounds).toBe(3);
  });

  test('a slow loop body pauses delivery: level readiness is not queued up batch after batch', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ, 'a');
    write(b, 'x');
    const batches: number[] = [];
    for await (const events of poll.events()) {
      batches.push(events.length);
      await sleep(30); // several loop turns with `a` still readable
      if (batches.length === 2) break;
    }
    expect(batches).toEqual([1, 1]);
  });

  test('aborting the signal ends the iteration with an AbortError and leaves the poller usable', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ, 'a');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('enough')), 20);
    const seen: number[] = [];
    const run = (async () => {
      for await (const events of poll.events({ signal: ac.signal })) seen.push(events.length);
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: new Error('enough') });
    expect(seen).toEqual([]);
    expect(poll.started).toBe(false);
    write(b, 'x');
    expect(await poll.waitAsync(1000)).toHaveLength(1);
  });

  test('an already aborted signal rejects the first step and never starts delivery', async () => {
    const it = poll.events({ signal: AbortSignal.abort() });
    expect(poll.started).toBe(false);
    await expect(it.next()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  test('close() ends a pending iteration cleanly', async () => {
    socketpair();
    const steps: unknown[] = [];
    const run = (async () => {
      for await (const events of poll) steps.push(events);
      return 'ended';
    })();
    setTimeout(() => poll.close(), 20);
    await expect(run).resolves.toBe('ended');
    expect(steps).toEqual([]);
  });

  test('one consumer at a time: a second iterator, start() beside it and a second next() are refused', async () => {
    const it = poll.events();
    expect(() => poll.events()).toThrow(expect.objectContaining({ code: 'ERR_SOCKETPOLL_BUSY' }));
    expect(() => poll.wait(0)).toThrow(expect.objectContaining({ code: 'ERR_SOCKETPOLL_BUSY' }));
    const first = it.next();
    await expect(it.next()).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
    await it.return?.();
    await expect(first).resolves.toEqual({ value: undefined, done: true });
    poll.start(() => undefined);
    expect(() => poll.events()).toThrow(expect.objectContaining({ code: 'ERR_SOCKETPOLL_BUSY' }));
  });

  test('del() in the loop body cancels that fd in the batch being handled', async () => {
    const [a, b] = socketpair();
    const [c, d] = socketpair();
    poll.add(a, POLL_READ, 'a').add(c, POLL_READ, 'c');
    write(b, 'x');
    write(d, 'x');
    await sleep(5);
    for await (const events of poll) {
      expect(events).toHaveLength(2);
      const other = events[1].fd;
      const data = events[1].data;
      poll.del(other);
      expect(events[1]).toEqual({ fd: other, events: 0, data, cancelled: true });
      break;
    }
  });
});
