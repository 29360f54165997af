/**
 * `del()` inside a batch: the entry you are handling keeps its `fd` and `data`, so the documented
 * order `poll.del(ev.fd); fs.closeSync(ev.fd)` works; an entry of an fd deleted earlier in the same
 * batch says nothing (`events` 0, `cancelled`), so a handler that tests the flags never acts on it.
 * Every backend, both delivery paths; start(), waitAsync(), events() and wait().
 */
import * as fs from 'node:fs';
import { POLL_READ, SocketPoll, type PollEvent } from '../src';
import { PATHS, onPath } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(PATHS)('del() in a batch on $label', (path) => {
  test('del() then closeSync() of the entry being handled works, and the entry keeps fd and data', async () => {
    const poll = onPath(path, () => new SocketPoll<string>(path.backend.options));
    const [r, w] = fds.pipe();
    fds.write(w, 'x');
    poll.add(r, POLL_READ, 'r');
    const held = await new Promise<PollEvent<string>>((resolve, reject) => {
      poll.start((events) => {
        try {
          for (const ev of events) {
            if (ev.events & POLL_READ) {
              poll.del(ev.fd);
              fs.closeSync(ev.fd); // would throw ERR_OUT_OF_RANGE on an fd of -1
              resolve(ev);
            }
          }
        } catch (err) {
          reject(err);
        }
      });
    });
    fds.forget(r);
    poll.close();
    expect(held.fd).toBe(r);
    expect(held.data).toBe('r');
    expect(held.cancelled).toBe(true);
  });

  test('a later entry of an fd deleted earlier in the batch is not acted upon', async () => {
    const poll = onPath(path, () => new SocketPoll<string>(path.backend.options));
    const pipes = [fds.pipe(), fds.pipe(), fds.pipe()];
    for (const [r, w] of pipes) {
      fds.write(w, 'x');
      poll.add(r, POLL_READ, `r${r}`);
    }
    const acted: number[] = [];
    await new Promise<void>((resolve) => {
      poll.start((events) => {
        expect(events).toHaveLength(3);
        for (const ev of events) {
          if (!(ev.events & POLL_READ)) continue;
          acted.push(ev.fd);
          // The handler of the first entry tears down every other fd of the batch.
          if (acted.length === 1) for (const other of events) if (other !== ev) poll.del(other.fd);
        }
        const later = events.slice(1);
        for (const ev of later) expect(ev).toMatchObject({ events: 0, cancelled: true, data: `r${ev.fd}` });
        resolve();
      });
    });
    poll.close();
    expect(acted).toHaveLength(1);
  });

  test('the same rule holds for a batch from waitAsync() and from events()', async () => {
    const poll = onPath(path, () => new SocketPoll<string>(path.backend.options));
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    fds.write(w1, 'x');
    fds.write(w2, 'x');
    poll.add(r1, POLL_READ, 'a');
    poll.add(r2, POLL_READ, 'b');
    const batch = await poll.waitAsync(1000);
    expect(batch).toHaveLength(2);
    poll.del(batch[0].fd);
    poll.del(batch[1].fd);
    expect(batch.map((e) => [e.fd, e.data, e.events, e.cancelled])).toEqual([
      [batch[0].fd, batch[0].data, 0, true],
      [batch[1].fd, batch[1].data, 0, true],
    ]);
    poll.add(r1, POLL_READ, 'a');
    poll.add(r2, POLL_READ, 'b');
    for await (const events of poll.events()) {
      poll.del(r2);
      const second = events.find((e) => e.fd === r2);
      expect(second).toMatchObject({ fd: r2, data: 'b', events: 0, cancelled: true });
      break;
    }
    poll.close();
  });
});
