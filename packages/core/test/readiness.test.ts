import {
  POLL_ERROR,
  POLL_HANGUP,
  POLL_INVALID,
  POLL_PRIORITY,
  POLL_RDHUP,
  POLL_READ,
  POLL_WRITE,
  SocketPoll,
  type PollEvent,
} from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

const eventFor = <T>(events: PollEvent<T>[], fd: number): PollEvent<T> | undefined => events.find((e) => e.fd === fd);

describe.each(BACKENDS)('readiness on $label', (backend) => {
  let poll: SocketPoll<unknown>;
  beforeEach(() => {
    poll = new SocketPoll({ ...backend.options, maxEvents: 64 });
  });
  afterEach(() => poll.close());

  test('names its backend', () => {
    expect(poll.backendName).toBe(backend.name);
  });

  test('a socketpair becomes readable when the peer writes, with the data given to add', () => {
    const [a, b] = fds.socketpair();
    const conn = { id: 'conn-1', nested: [1, 2, 3] };
    poll.add(a, POLL_READ, conn);
    expect(poll.wait(0)).toEqual([]);
    fds.write(b, 'hello');
    const events = poll.wait(1000);
    expect(events).toHaveLength(1);
    expect(events[0].fd).toBe(a);
    expect(events[0].events & POLL_READ).toBe(POLL_READ);
    expect(events[0].data).toBe(conn); // the same object, not a copy
  });

  test('any JS value round-trips as data', () => {
    const values: unknown[] = [undefined, null, 0, 'str', Symbol('s'), () => 1, 12n, { deep: { x: 1 } }];
    const pairs = values.map(() => fds.socketpair());
    values.forEach((v, i) => poll.add(pairs[i][0], POLL_WRITE, v));
    const events = poll.wait(1000);
    expect(events).toHaveLength(values.length);
    values.forEach((v, i) => expect(eventFor(events, pairs[i][0])?.data).toBe(v));
  });

  test('write readiness without read readiness', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_WRITE);
    const [ev] = poll.wait(1000);
    expect(ev.events & POLL_WRITE).toBe(POLL_WRITE);
    expect(ev.events & POLL_READ).toBe(0);
  });

  test('read and write readiness of one fd come as one event', () => {
    const [a, b] = fds.socketpair();
    fds.write(b, 'x');
    poll.add(a, POLL_READ | POLL_WRITE);
    const events = poll.wait(1000);
    expect(events).toHaveLength(1);
    expect(events[0].events & (POLL_READ | POLL_WRITE)).toBe(POLL_READ | POLL_WRITE);
  });

  test('a full socket is not writable until the peer reads', () => {
    const [a, b] = fds.socketpair();
    fds.fill(a);
    poll.add(a, POLL_WRITE);
    expect(poll.wait(50)).toEqual([]);
    fds.drain(b);
    expect(poll.wait(1000)[0]?.events & POLL_WRITE).toBe(POLL_WRITE);
  });

  test('a pipe reports hang-up when its writer closes, even with no interest', () => {
    const [r, w] = fds.pipe();
    poll.add(r, 0);
    fds.close(w);
    const [ev] = poll.wait(1000);
    expect(ev.fd).toBe(r);
    expect(ev.events & POLL_HANGUP).toBe(POLL_HANGUP);
  });

  test('a pipe writer reports an error when the reader is gone, even with no interest', () => {
    const [r, w] = fds.pipe();
    poll.add(w, 0);
    fds.close(r);
    const [ev] = poll.wait(1000);
    expect(ev.fd).toBe(w);
    expect(ev.events & POLL_ERROR).toBe(POLL_ERROR);
  });

  test('the peer shutting down its writing half is RDHUP and readable, not HANGUP', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ | POLL_RDHUP);
    fds.shutdown(b, fds.SHUT_WR);
    const [ev] = poll.wait(1000);
    expect(ev.events & POLL_RDHUP).toBe(POLL_RDHUP);
    expect(ev.events & POLL_READ).toBe(POLL_READ);
    expect(ev.events & POLL_HANGUP).toBe(0);
  });

  test('TCP urgent data is PRIORITY', () => {
    const [client, server] = fds.tcpPair();
    poll.add(server, POLL_PRIORITY);
    expect(poll.wait(0)).toEqual([]);
    fds.sendOob(client);
    const [ev] = poll.wait(1000);
    expect(ev?.fd).toBe(server);
    expect(ev.events & POLL_PRIORITY).toBe(POLL_PRIORITY);
  });

  test('a FIFO is readable after a write and hangs up when the writer closes', () => {
    const [r, w] = fds.fifo();
    poll.add(r, POLL_READ);
    expect(poll.wait(0)).toEqual([]);
    fds.write(w, 'line\n');
    expect(poll.wait(1000)[0].events & POLL_READ).toBe(POLL_READ);
    expect(fds.read(r)).toBe('line\n');
    fds.close(w);
    expect(poll.wait(1000)[0].events & POLL_HANGUP).toBe(POLL_HANGUP);
  });

  if (process.platform === 'linux') {
    test('an eventfd is readable while its counter is non-zero', () => {
      const efd = fds.eventfd();
      poll.add(efd, POLL_READ);
      expect(poll.wait(0)).toEqual([]);
      fds.writeCounter(efd, 3);
      expect(poll.wait(1000)[0].events & POLL_READ).toBe(POLL_READ);
      fds.drain(efd);
      expect(poll.wait(0)).toEqual([]);
    });
  }

  test('a pty master is readable when the slave writes', () => {
    const [master, slave] = fds.openpty();
    poll.add(master, POLL_READ);
    fds.write(slave, 'AT\r\n');
    const [ev] = poll.wait(1000);
    expect(ev.fd).toBe(master);
    expect(ev.events & POLL_READ).toBe(POLL_READ);
    expect(fds.read(master)).toContain('AT');
  });

  test('datagram and seqpacket socketpairs', () => {
    const [d1, d2] = fds.socketpair(fds.SOCK_DGRAM);
    const [s1, s2] = fds.socketpair(fds.SOCK_SEQPACKET);
    poll.add(d1, POLL_READ, 'dgram').add(s1, POLL_READ, 'seqpacket');
    fds.write(d2, 'a');
    fds.write(s2, 'b');
    const got = poll.wait(1000).map((e) => e.data).sort();
    expect(got).toEqual(['dgram', 'seqpacket']);
  });

  test('mod changes interest and data; del stops reports', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'reader');
    expect(poll.wait(0)).toEqual([]);
    poll.mod(a, POLL_WRITE, 'writer');
    expect(poll.wait(1000)).toEqual([{ fd: a, events: POLL_WRITE, data: 'writer' }]);
    poll.mod(a, POLL_READ); // data omitted: kept
    fds.write(b, 'x');
    expect(poll.wait(1000)[0].data).toBe('writer');
    poll.del(a);
    expect(poll.has(a)).toBe(false);
    expect(poll.wait(20)).toEqual([]);
  });

  test('an fd closed while registered: POLL_INVALID once on poll, silently dropped elsewhere; never spins', () => {
    const [r, w] = fds.pipe();
    poll.add(r, POLL_READ, 'closed-early');
    fds.close(r);
    const events = poll.wait(100);
    if (backend.name === 'poll') {
      expect(events).toEqual([{ fd: r, events: POLL_ERROR | POLL_INVALID, data: 'closed-early' }]);
    } else {
      expect(events).toEqual([]); // epoll and kqueue forget a closed fd by themselves
    }
    expect(poll.wait(50)).toEqual([]); // reported at most once: no busy loop
    poll.del(r);
    expect(poll.size).toBe(0);
    fds.close(w);
  });

  test('many registrations, only the ready ones come back', () => {
    const pairs = Array.from({ length: 500 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_READ, i));
    expect(poll.size).toBe(500);
    for (const i of [7, 250, 499]) fds.write(pairs[i][1], 'x');
    expect(poll.wait(1000).map((e) => e.data).sort((x, y) => (x as number) - (y as number))).toEqual([7, 250, 499]);
  });
});
