import { AbortError, POLL_READ, POLL_WRITE, SocketPoll, TimeoutError } from '../src';
import { BACKENDS, now, sleep } from './helpers/backends';
import { closeAll, fill, pollerFdCount, socketpair, write } from './helpers/fds';

afterEach(closeAll);

describe.each(BACKENDS)('waitAsync with a signal ($label)', ({ options }) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll(options);
  });
  afterEach(() => poll.close());

  test('aborting during the wait rejects with AbortError, and the poller waits again afterwards', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ);
    const ac = new AbortController();
    const t0 = now();
    setTimeout(() => ac.abort('bye'), 20);
    const err = await poll.waitAsync(5000, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ code: 'ABORT_ERR', cause: 'bye' });
    expect(now() - t0).toBeLessThan(2000);
    write(b, 'x');
    expect((await poll.waitAsync(1000)).map((e) => e.fd)).toEqual([a]);
  });

  test('an already aborted signal rejects at once, without touching a busy poller', async () => {
    await expect(poll.waitAsync(100, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await poll.waitAsync(1)).toEqual([]);
  });

  test('a wait that ends normally removes its abort listener', async () => {
    const [a, b] = socketpair();
    poll.add(a, POLL_READ);
    const ac = new AbortController();
    write(b, 'x');
    expect(await poll.waitAsync(1000, { signal: ac.signal })).toHaveLength(1);
    ac.abort(); // must not reject anything or disturb the next wait
    expect(await poll.waitAsync(0)).toHaveLength(1);
  });

  test('a signal that is not an AbortSignal is a typed error', async () => {
    await expect(poll.waitAsync(1, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe.each(BACKENDS)('poll.once ($label)', ({ options }) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll(options);
  });
  afterEach(() => poll.close());

  test('resolves with the next readiness and unregisters the fd', async () => {
    const [a, b] = socketpair();
    setTimeout(() => write(b, 'x'), 10);
    expect(await poll.once(a, POLL_READ)).toBe(POLL_READ);
    expect(poll.has(a)).toBe(false);
    expect(poll.started).toBe(false);
  });

  test('several once() calls share the poller', async () => {
    const [a, b] = socketpair();
    const [c] = socketpair();
    const readable = poll.once(a, POLL_READ);
    const writable = poll.once(c, POLL_WRITE);
    write(b, 'x');
    await expect(Promise.all([readable, writable])).resolves.toEqual([POLL_READ, POLL_WRITE]);
    expect(poll.size).toBe(0);
  });

  test('timeout rejects with TimeoutError and unregisters', async () => {
    const [a] = socketpair();
    const err = await poll.once(a, POLL_READ, { timeout: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ERR_SOCKETPOLL_TIMEOUT', timeout: 20 });
    expect(poll.has(a)).toBe(false);
  });

  test('abort rejects with AbortError and unregisters', async () => {
    const [a] = socketpair();
    fill(a);
    const ac = new AbortController();
    const p = poll.once(a, POLL_WRITE, { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(poll.has(a)).toBe(false);
  });

  test('an fd already registered is EEXIST, and bad options are typed errors', async () => {
    const [a] = socketpair();
    poll.add(a, POLL_READ);
    await expect(poll.once(a, POLL_READ)).rejects.toMatchObject({ code: 'EEXIST', fd: a });
    poll.del(a);
    await expect(poll.once(a, POLL_READ, { timeout: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(poll.once(a, 0x1000)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(poll.size).toBe(0);
  });

  test('a poller start()ed with your own callback is refused', async () => {
    const [a] = socketpair();
    poll.start(() => undefined);
    await expect(poll.once(a, POLL_READ)).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
  });

  test('close() rejects a pending once()', async () => {
    const [a] = socketpair();
    const p = poll.once(a, POLL_READ);
    await sleep(5);
    poll.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_CLOSED' });
  });
});

describe.each(BACKENDS)('using ($label)', ({ options }) => {
  test('this runtime defines Symbol.dispose and Symbol.asyncDispose (no polyfill is installed)', () => {
    expect(typeof Symbol.dispose).toBe('symbol');
    expect(typeof Symbol.asyncDispose).toBe('symbol');
  });

  test('`using poll = new SocketPoll()` closes it at the end of the block', () => {
    const before = pollerFdCount();
    let escaped: SocketPoll;
    {
      using poll = new SocketPoll(options);
      escaped = poll;
      expect(poll.closed).toBe(false);
    }
    expect(escaped.closed).toBe(true);
    expect(pollerFdCount()).toBe(before);
  });

  test('`using` closes it when the block throws', () => {
    let escaped: SocketPoll | undefined;
    expect(() => {
      using poll = new SocketPoll(options);
      escaped = poll;
      throw new Error('boom');
    }).toThrow('boom');
    expect(escaped?.closed).toBe(true);
  });
});
