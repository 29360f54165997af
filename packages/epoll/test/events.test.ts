/**
 * What the callback gets, on real fds: one call per ready fd per event, `(null, fd, events)` with
 * the kernel's epoll bits (not socketpoll's flags, and no bits the kernel did not report), `this`
 * the global object; level, EPOLLET and EPOLLONESHOT (re-armed by modify) as epoll behaves. On
 * every backend this machine has: epoll, kqueue (the emulation; bits translated) and poll (no
 * edge mode: EPOLLET is ENOTSUP there, as it says).
 */
import { Epoll } from '../src';
import { BACKENDS, fds, Recorder, sleep, until, useBackend } from './helpers';

const { EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLET, EPOLLONESHOT } = Epoll;

describe.each(BACKENDS)('events on $label', (backend) => {
  let rec: Recorder;
  beforeAll(() => useBackend(backend));
  beforeEach(() => {
    rec = new Recorder();
  });
  afterEach(() => {
    rec.close();
    fds.closeAll();
  });

  test('a readable pipe: (null, fd, EPOLLIN), this is the global object, until it is drained (level)', async () => {
    const [r, w] = fds.pipe();
    let self: unknown;
    const epoll = new Epoll(function (this: unknown, err, fd, events) {
      self = this;
      rec.calls.push([fd, events]);
      expect(err).toBeNull();
    });
    epoll.add(r, EPOLLIN);
    fds.write(w, 'x');
    await until(() => rec.calls.length >= 3);
    expect(rec.calls.slice(0, 3)).toEqual([[r, EPOLLIN], [r, EPOLLIN], [r, EPOLLIN]]);
    expect(self).toBe(globalThis);
    fds.drain(r);
    await sleep(30);
    const settled = rec.calls.length;
    await sleep(100);
    expect(rec.calls.length).toBe(settled);
    epoll.remove(r).close();
  });

  test('a writable socket: EPOLLOUT; a socket both readable and writable: one call with both bits', async () => {
    const [a, b] = fds.socketpair();
    fds.write(b, 'x');
    rec.epoll.add(a, EPOLLIN | EPOLLOUT);
    await rec.until(1);
    expect(rec.calls[0]).toEqual([a, EPOLLIN | EPOLLOUT]);
    rec.epoll.modify(a, EPOLLOUT);
    rec.calls.length = 0;
    await rec.until(1);
    expect(rec.calls[0]).toEqual([a, EPOLLOUT]);
  });

  // kqueue's read filter fires at end of file whether or not data is left: EPOLLIN comes with it.
  const hupAlone = backend.name === 'kqueue' ? EPOLLIN | EPOLLHUP : EPOLLHUP;

  // One way each for an fd to become ready. `ready` makes the fd (some cases make it ready there and
  // then) and says what to register it for and what makes it ready once registered (`trigger`); the
  // one-shot registration then gets one call with exactly `bits`.
  interface Readiness {
    title: string;
    ready: () => { fd: number; events: number; trigger?: () => void };
    bits: number;
  }
  const readiness: Readiness[] = [
    {
      title: `a pipe whose writer is gone and that holds no data: ${backend.name === 'kqueue' ? 'EPOLLIN | EPOLLHUP (kqueue cannot tell)' : "EPOLLHUP alone (the kernel's bits, no EPOLLIN added)"}`,
      ready: () => {
        const [r, w] = fds.pipe();
        return { fd: r, events: EPOLLIN, trigger: () => fds.close(w) };
      },
      bits: hupAlone,
    },
    {
      title: 'data then the writer gone: EPOLLIN | EPOLLHUP',
      ready: () => {
        const [r, w] = fds.pipe();
        fds.write(w, 'x');
        fds.close(w);
        return { fd: r, events: EPOLLIN };
      },
      bits: EPOLLIN | EPOLLHUP,
    },
    {
      title: 'the peer shuts down its writing half: EPOLLIN | EPOLLRDHUP when EPOLLRDHUP is asked for',
      ready: () => {
        const [a, b] = fds.socketpair();
        return { fd: a, events: EPOLLIN | EPOLLRDHUP, trigger: () => fds.shutdown(b, fds.SHUT_WR) };
      },
      bits: EPOLLIN | EPOLLRDHUP,
    },
    {
      title: 'TCP urgent data: EPOLLPRI (the bit sysfs GPIO interrupts use)',
      ready: () => {
        const [client, server] = fds.tcpPair();
        return { fd: server, events: EPOLLPRI, trigger: () => fds.sendOob(client) };
      },
      bits: EPOLLPRI,
    },
  ];
  test.each(readiness)('$title', async ({ ready, bits }) => {
    const { fd, events, trigger } = ready();
    rec.epoll.add(fd, events | EPOLLONESHOT);
    trigger?.();
    await rec.until(1);
    expect(rec.calls).toEqual([[fd, bits]]);
  });

  test('a pipe whose reader is gone, watched for writing: EPOLLOUT | EPOLLERR', async () => {
    const [r, w] = fds.pipe();
    fds.close(r);
    rec.epoll.add(w, EPOLLOUT | EPOLLONESHOT);
    await rec.until(1);
    expect(rec.calls[0][0]).toBe(w);
    expect(rec.calls[0][1] & EPOLLERR).toBe(EPOLLERR);
    expect(rec.calls[0][1] & ~(EPOLLOUT | EPOLLERR | EPOLLHUP)).toBe(0);
  });

  test('EPOLLONESHOT: one call, then none until modify() re-arms it', async () => {
    const [r, w] = fds.fifo();
    rec.epoll.add(r, EPOLLIN | EPOLLONESHOT);
    fds.write(w, 'x');
    expect(await rec.settled(1, 150)).toEqual([[r, EPOLLIN]]);
    rec.epoll.modify(r, EPOLLIN | EPOLLONESHOT);
    expect(await rec.settled(2, 150)).toEqual([[r, EPOLLIN], [r, EPOLLIN]]);
  });

  if (backend.name === 'poll') {
    test('EPOLLET on the poll backend, which has no edge mode: ENOTSUP, saying so', () => {
      const [r] = fds.pipe();
      let err: (Error & { code?: string }) | undefined;
      try {
        rec.epoll.add(r, EPOLLIN | EPOLLET);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.code).toBe('ENOTSUP');
      expect(err?.message).toMatch(/no edge mode/);
    });
  } else {
    test('EPOLLET: one call per change, not per wait', async () => {
      const [r, w] = fds.socketpair();
      rec.epoll.add(r, EPOLLIN | EPOLLET);
      fds.write(w, 'x');
      expect(await rec.settled(1, 150)).toEqual([[r, EPOLLIN]]); // not drained, yet not reported again
      fds.write(w, 'y');
      expect(await rec.settled(2, 100)).toEqual([[r, EPOLLIN], [r, EPOLLIN]]);
    });
  }

  test('several ready fds: one call each, each with its own fd', async () => {
    const pairs = [fds.socketpair(), fds.socketpair(), fds.socketpair()];
    for (const [a] of pairs) rec.epoll.add(a, EPOLLIN | EPOLLONESHOT);
    for (const [, b] of pairs) fds.write(b, 'x');
    const calls = await rec.settled(3, 50);
    expect(calls.map(([fd]) => fd).sort()).toEqual(pairs.map(([a]) => a).sort());
    expect(calls.every(([, ev]) => ev === EPOLLIN)).toBe(true);
  });

  test('two Epolls of one thread each get only their own fds', async () => {
    const [a, b] = fds.socketpair();
    const [c, d] = fds.socketpair();
    const other = new Recorder();
    rec.epoll.add(a, EPOLLIN | EPOLLONESHOT);
    other.epoll.add(c, EPOLLIN | EPOLLONESHOT);
    fds.write(b, 'x');
    fds.write(d, 'x');
    await rec.until(1);
    await other.until(1);
    expect(rec.calls).toEqual([[a, EPOLLIN]]);
    expect(other.calls).toEqual([[c, EPOLLIN]]);
    other.close();
  });
});
