import { POLL_READ, POLL_WRITE, SocketPoll, type PollEvent } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(BACKENDS)('batches on $label', (backend) => {
  test('more ready fds than maxEvents: every one is delivered over several waits, none lost', () => {
    const poll = new SocketPoll<number>({ ...backend.options, maxEvents: 7 });
    const pairs = Array.from({ length: 100 }, () => fds.socketpair());
    pairs.forEach(([a, b], i) => {
      poll.add(a, POLL_READ, i);
      fds.write(b, 'x');
    });
    const seen = new Set<number>();
    for (let round = 0; round < 100 && seen.size < 100; round++) {
      const events = poll.wait(1000);
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(7);
      for (const ev of events) {
        expect(seen.has(ev.data)).toBe(false); // drained below: level mode reports it once
        seen.add(ev.data);
        fds.drain(ev.fd);
      }
    }
    expect(seen.size).toBe(100);
    poll.close();
  });

  test('start(): one callback per batch, never more than maxEvents per batch', async () => {
    const poll = new SocketPoll<number>({ ...backend.options, maxEvents: 10 });
    const pairs = Array.from({ length: 45 }, () => fds.socketpair());
    pairs.forEach(([a, b], i) => {
      poll.add(a, POLL_READ, i);
      fds.write(b, 'x');
    });
    const batches: number[] = [];
    const seen = new Set<number>();
    await new Promise<void>((resolve) => {
      poll.start((events) => {
        batches.push(events.length);
        for (const ev of events) {
          seen.add(ev.data);
          fds.drain(ev.fd);
        }
        if (seen.size === 45) resolve();
      });
    });
    poll.close();
    expect(Math.max(...batches)).toBeLessThanOrEqual(10);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(45); // nothing reported twice
    expect(batches.length).toBeGreaterThanOrEqual(5);
  });

  test('del() of an fd later in the same batch cancels its event', () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a] = fds.socketpair();
    const [c] = fds.socketpair();
    poll.add(a, POLL_WRITE, 'a').add(c, POLL_WRITE, 'c');
    const events = poll.wait(1000);
    expect(events).toHaveLength(2);
    const handled: string[] = [];
    for (const ev of events) {
      if (!(ev.events & POLL_WRITE)) continue; // the obvious test: a cancelled entry has no flags
      handled.push(ev.data);
      poll.del(ev.data === 'a' ? c : a); // handling one removes the other
    }
    expect(handled).toHaveLength(1);
    const other = handled[0] === 'a' ? c : a;
    expect(events.filter((e) => e.cancelled)).toEqual([{ fd: other, events: 0, data: handled[0] === 'a' ? 'c' : 'a', cancelled: true }]);
    poll.close();
  });

  test('start(): del() during the callback cancels the rest of that fd, other fds still arrive', async () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const pairs = Array.from({ length: 6 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_WRITE, `p${i}`));
    const batch = await new Promise<PollEvent<string>[]>((resolve) => {
      poll.start((events) => {
        const acted: string[] = [];
        for (const ev of events) {
          if (!(ev.events & POLL_WRITE)) continue;
          acted.push(ev.data);
          for (const [other] of pairs) if (other !== ev.fd && poll.has(other)) poll.del(other);
        }
        poll.stop();
        expect(acted).toHaveLength(1);
        resolve(events);
      });
    });
    expect(batch.filter((e) => !e.cancelled)).toHaveLength(1);
    poll.close();
  });

  test('a reused fd number never gets the old registration\'s events or data', () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.write(b, 'x');
    poll.del(a);
    fds.close(a);
    fds.close(b);
    const [a2, b2] = fds.socketpair();
    expect(a2).toBe(a); // the kernel hands out the lowest free number
    poll.add(a2, POLL_READ, 'new');
    expect(poll.wait(30)).toEqual([]);
    fds.write(b2, 'y');
    expect(poll.wait(1000)).toEqual([{ fd: a2, events: POLL_READ, data: 'new' }]);
    poll.close();
  });

  test('an fd closed without del() can still be deleted, and its number reused', () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.close(a);
    fds.close(b);
    poll.del(a);
    const [a2, b2] = fds.socketpair();
    poll.add(a2, POLL_READ, 'new');
    fds.write(b2, 'z');
    expect(poll.wait(1000)).toEqual([{ fd: a2, events: POLL_READ, data: 'new' }]);
    poll.close();
  });
});
