import { POLL_READ, POLL_TIMER, PollSource, SocketPoll, SocketPollError, type PollEvent } from '../src';
import { BACKENDS, now } from './helpers/backends';
import * as fds from './helpers/fds';
import { thrown } from './helpers/thrown';

afterEach(() => fds.closeAll());

/** Blocks the thread for ms (so nothing collects expiries meanwhile). */
function busy(ms: number): void {
  const end = now() + ms;
  while (now() < end) {
    /* spin */
  }
}

/** Waits until `count` timer events have come (or budgetMs passed) and returns them. */
function collect<T>(poll: SocketPoll<T>, count: number, budgetMs: number): PollEvent<T>[] {
  const out: PollEvent<T>[] = [];
  const end = now() + budgetMs;
  while (out.length < count && now() < end) out.push(...poll.wait(Math.max(1, Math.ceil(end - now()))));
  return out;
}


describe.each(BACKENDS)('timers on $label', (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 1024 });
  });
  afterEach(() => poll.close());

  test('supportedSources includes fds and timers', () => {
    expect(poll.supportedSources).toEqual(expect.arrayContaining(['fd', 'timer']));
  });

  test('a one-shot timer fires once, with POLL_TIMER, its data and its handle, and fd NaN', () => {
    const start = now();
    const timer = poll.addTimer(30, 'once');
    expect(timer).toBeInstanceOf(PollSource);
    expect(timer).toMatchObject({ kind: 'timer', ms: 30, repeat: false });
    expect(poll.wait(0)).toEqual([]);
    const [ev, ...rest] = collect(poll, 1, 2000);
    expect(rest).toEqual([]);
    expect(now() - start).toBeGreaterThanOrEqual(29);
    expect(ev.events).toBe(POLL_TIMER);
    expect(ev.data).toBe('once');
    expect(ev.source).toBe(timer);
    expect(Number.isNaN(ev.fd)).toBe(true);
    expect(poll.wait(80)).toEqual([]);
    // Forgotten after the batch that delivered it.
    expect(thrown(() => poll.del(timer)).code).toBe('ENOENT');
  });

  test('a one-shot timer can be deleted while its own event is handled', () => {
    const timer = poll.addTimer(5, 't');
    const batch = collect(poll, 1, 2000);
    expect(batch).toHaveLength(1);
    poll.del(timer);
    expect(batch[0]).toEqual({ fd: NaN, events: 0, data: 't', source: timer, cancelled: true });
    expect(thrown(() => poll.del(timer)).code).toBe('ENOENT');
  });

  test('a repeating timer keeps firing until del, and late expiries coalesce into one event', () => {
    const timer = poll.addTimer(50, 'tick', { repeat: true });
    busy(275); // five intervals pass with nobody waiting; the sixth expiry is 25 ms ahead
    const late = poll.wait(0);
    expect(late).toHaveLength(1);
    expect(late[0].source).toBe(timer);
    const after = now();
    const again = poll.wait(0);
    if (now() - after < 20) expect(again).toEqual([]); // not again right away (unless descheduled)
    expect(collect(poll, 3, 2000).filter((e) => e.source === timer)).toHaveLength(3);
    poll.del(timer);
    expect(poll.wait(50)).toEqual([]);
    expect(thrown(() => poll.del(timer)).code).toBe('ENOENT');
  });

  test('timers and fds come in one batch', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'socket');
    const timer = poll.addTimer(10, 'timer');
    fds.write(b, 'x');
    busy(20);
    const batch = poll.wait(1000);
    expect(batch).toHaveLength(2);
    expect(batch).toEqual(
      expect.arrayContaining([
        { fd: a, events: POLL_READ, data: 'socket' },
        { fd: NaN, events: POLL_TIMER, data: 'timer', source: timer },
      ]),
    );
  });

  test('deleting a timer during a batch cancels its event in that batch', () => {
    const t1 = poll.addTimer(10, 'a', { repeat: true });
    const t2 = poll.addTimer(10, 'b', { repeat: true });
    busy(25);
    const batch = poll.wait(1000);
    expect(batch).toHaveLength(2);
    const other = batch[0].source === t1 ? t2 : t1;
    poll.del(other);
    expect(batch[1]).toEqual({ fd: NaN, events: 0, data: other === t1 ? 'a' : 'b', source: other, cancelled: true });
    poll.del(batch[0].source!);
  });

  test('ten thousand timers each fire exactly once', () => {
    const count = 10_000;
    const handles = new Map<PollSource, number>();
    for (let i = 0; i < count; i++) handles.set(poll.addTimer(20 + (i % 50), String(i)), i);
    const seen = new Set<number>();
    const end = now() + 20_000;
    while (seen.size < count && now() < end) {
      for (const ev of poll.wait(500)) {
        expect(ev.events).toBe(POLL_TIMER);
        const i = handles.get(ev.source!);
        expect(i).toBe(Number(ev.data));
        expect(seen.has(i!)).toBe(false);
        seen.add(i!);
      }
    }
    expect(seen.size).toBe(count);
    expect(poll.wait(60)).toEqual([]);
  });

  test('start() delivers timer expiries on the event loop', async () => {
    const timer = poll.addTimer(10, 'tick', { repeat: true });
    const got: PollEvent<string>[] = [];
    await new Promise<void>((resolve) => {
      poll.start((events) => {
        got.push(...events);
        if (got.length >= 3) resolve();
      });
    });
    poll.stop();
    expect(got.slice(0, 3).every((e) => e.source === timer && e.events === POLL_TIMER)).toBe(true);
  });

  test('waitAsync resolves with a timer event', async () => {
    const timer = poll.addTimer(15, 'async');
    const events = await poll.waitAsync(2000);
    expect(events).toEqual([{ fd: NaN, events: POLL_TIMER, data: 'async', source: timer }]);
  });

  test('bad arguments are typed errors, and handles belong to their poller', () => {
    expect(thrown(() => poll.addTimer(0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.addTimer(-1)).code).toBe('ERR_OUT_OF_RANGE');
    const half = poll.addTimer(0.5); // a fraction rounds up, as docs/sources.md says
    expect(half.ms).toBe(1);
    poll.del(half);
    expect(thrown(() => poll.addTimer(NaN)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.addTimer(2 ** 31)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.addTimer('10' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => poll.addTimer(10, 'x', { repeat: 'yes' as unknown as boolean })).code).toBe(
      'ERR_INVALID_ARG_TYPE',
    );
    expect(thrown(() => poll.del({} as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
    const other = new SocketPoll<string>(backend.options);
    const foreign = other.addTimer(1000, 'theirs');
    const err = thrown(() => poll.del(foreign));
    expect(err.code).toBe('ENOENT');
    expect(err.message).toMatch(/not live in this poller/);
    other.del(foreign);
    other.close();
    expect(poll.addTimer(1.2, 'rounded').ms).toBe(2);
  });
});
