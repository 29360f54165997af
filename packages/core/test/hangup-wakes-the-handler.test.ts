/**
 * A hang-up or an error reports the readiness the registration asked for, as libuv, Python's
 * selectors and tokio do: the handler that tests only `POLL_READ` reads, sees the end of file and
 * ends, instead of being woken again and again by a level-triggered hang-up it never looks at.
 * Every backend, both delivery paths. `exactEvents` keeps the kernel's bits.
 */
import * as fs from 'node:fs';
import { POLL_ERROR, POLL_HANGUP, POLL_READ, POLL_WRITE, SocketPoll, type PollEvent } from '../src';
import { BACKENDS, PATHS, onPath, sleep } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(PATHS)('hang-up on $label', (path) => {
  test('the obvious read handler reads the end of file and stops after a handful of calls', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.fifo();
    fds.write(w, 'hello');
    fds.close(w); // the writer is gone: data, then end of file
    const got: string[] = [];
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      poll.add(r, POLL_READ);
      poll.start((events) => {
        for (const ev of events) {
          calls++;
          if (ev.events & POLL_READ) {
            const buf = Buffer.alloc(64);
            const n = fs.readSync(ev.fd, buf);
            if (n === 0) {
              poll.del(ev.fd);
              fds.close(ev.fd);
              resolve();
            } else got.push(buf.subarray(0, n).toString());
          }
        }
      });
    });
    await done;
    await sleep(50); // anything still reported would show here
    poll.close();
    expect(got.join('')).toBe('hello');
    expect(calls).toBeLessThanOrEqual(3);
  });

  test('a hang-up with no data left comes with POLL_READ for a reader', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.pipe();
    poll.add(r, POLL_READ, 'r');
    fds.close(w);
    const ev = await nextEvent(poll);
    poll.close();
    expect(ev).toMatchObject({ fd: r, data: 'r' });
    expect(ev.events & (POLL_HANGUP | POLL_READ)).toBe(POLL_HANGUP | POLL_READ);
    expect(ev.events & POLL_WRITE).toBe(0); // only what was asked for
  });

  test('an error comes with POLL_WRITE for a writer, and the write surfaces EPIPE', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.pipe();
    fds.drain(r);
    fds.fill(w);
    poll.add(w, POLL_WRITE);
    fds.close(r);
    const ev = await nextEvent(poll);
    poll.close();
    expect(ev.events & (POLL_ERROR | POLL_WRITE)).toBe(POLL_ERROR | POLL_WRITE);
    expect(ev.events & POLL_READ).toBe(0);
    expect(fds.tryWrite(w, 'x')).toBe(-32); // -EPIPE (SIGPIPE is ignored by Node)
  });

  test('exactEvents: true reports the kernel bits alone, and mod() keeps it until told otherwise', async () => {
    const poll = onPath(path, () => new SocketPoll(path.backend.options));
    const [r, w] = fds.pipe();
    poll.add(r, POLL_READ, undefined, { exactEvents: true });
    fds.close(w);
    const exact = await nextEvent(poll);
    expect(exact.events & POLL_HANGUP).toBe(POLL_HANGUP);
    // kqueue reports EV_EOF on its read filter, which it translates as readable: the kernel's bits.
    if (path.backend.name !== 'kqueue') expect(exact.events & POLL_READ).toBe(0);
    poll.mod(r, POLL_READ); // omitted: kept
    const kept = await nextEvent(poll);
    if (path.backend.name !== 'kqueue') expect(kept.events & POLL_READ).toBe(0);
    poll.mod(r, POLL_READ, undefined, { exactEvents: false });
    const rule = await nextEvent(poll);
    poll.close();
    expect(rule.events & (POLL_HANGUP | POLL_READ)).toBe(POLL_HANGUP | POLL_READ);
  });
});

describe('hang-up differential', () => {
  test('every backend reports the same bits for a reader at end of file and a writer whose reader is gone', async () => {
    const seen: Record<string, number[]> = {};
    for (const b of BACKENDS) {
      const poll = new SocketPoll(b.options);
      const [r1, w1] = fds.pipe();
      const [r2, w2] = fds.pipe();
      poll.add(r1, POLL_READ);
      poll.add(w2, POLL_WRITE);
      fds.close(w1);
      fds.close(r2);
      const events = poll.wait(1000).map((e) => ({ ...e })); // a copy: close() cancels the last batch
      poll.close();
      const byFd = new Map(events.map((e) => [e.fd, e.events & (POLL_READ | POLL_WRITE | POLL_ERROR | POLL_HANGUP)]));
      // The reader: HUP with READ; the writer: ERR with WRITE (kqueue may add HUP on the writer: EV_EOF).
      seen[b.label] = [byFd.get(r1) ?? -1, (byFd.get(w2) ?? -1) & (POLL_READ | POLL_WRITE | POLL_ERROR)];
    }
    const expected = [POLL_HANGUP | POLL_READ, POLL_ERROR | POLL_WRITE];
    for (const label of Object.keys(seen)) expect({ [label]: seen[label] }).toEqual({ [label]: expected });
  });
});

async function nextEvent(poll: SocketPoll): Promise<PollEvent> {
  const events = await poll.waitAsync(2000);
  if (events.length !== 1) throw new Error(`expected one event, got ${JSON.stringify(events)}`);
  return { ...events[0] }; // a copy: close() and del() cancel the entries of the last batch
}
