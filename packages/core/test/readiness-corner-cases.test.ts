/**
 * Readiness corner cases where backends differ in what the kernel offers; each must look the same
 * from the API: readiness nobody asked for does not end a waitAsync(), a oneshot registration cut
 * off by a full buffer still reports all it was asked for, and the write end of a pipe whose reader
 * is gone reports POLL_ERROR (also where the kernel refuses to watch it: FreeBSD's kqueue, which
 * the kqueue emulation imitates with KQUEUE_EMULATION_PIPE_WRITE_EPIPE=1).
 */
import { POLL_ERROR, POLL_RDHUP, POLL_READ, POLL_WRITE, SocketPoll } from '../src';
import { BACKENDS, now, sleep } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(BACKENDS)('readiness corner cases on $label', (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test.each([
    ['no interest (0)', 0],
    ['POLL_RDHUP only', POLL_RDHUP],
  ])('data on an fd registered with %s does not end a pending waitAsync()', async (_label, events) => {
    const [a, b] = fds.socketpair();
    poll.add(a, events, 'quiet');
    const t0 = now();
    const pending = poll.waitAsync(700);
    await sleep(50);
    fds.write(b, 'x');
    expect(await pending).toEqual([]);
    expect(now() - t0).toBeGreaterThanOrEqual(650);
  });

  test('a oneshot READ|WRITE fd reports both although the buffer holds one event', () => {
    const small = new SocketPoll<string>({ ...backend.options, maxEvents: 1 });
    try {
      const [a, b] = fds.socketpair();
      fds.write(b, 'x');
      small.add(a, POLL_READ | POLL_WRITE, 'both', { mode: 'oneshot' });
      expect(small.wait(1000)).toEqual([{ fd: a, events: POLL_READ | POLL_WRITE, data: 'both' }]);
      expect(small.wait(50)).toEqual([]); // disarmed
      small.mod(a, POLL_READ | POLL_WRITE);
      expect(small.wait(1000)).toEqual([{ fd: a, events: POLL_READ | POLL_WRITE, data: 'both' }]);
    } finally {
      small.close();
    }
  });

  const flavours: [string, Record<string, string>][] = [['', {}]];
  if (backend.name === 'kqueue' && process.platform === 'linux') {
    flavours.push([' (the filter refused, as on FreeBSD)', { KQUEUE_EMULATION_PIPE_WRITE_EPIPE: '1' }]);
  }
  describe.each(flavours)('a pipe write end whose reader is gone%s', (_label, env) => {
    beforeEach(() => Object.assign(process.env, env));
    afterEach(() => {
      for (const k of Object.keys(env)) delete process.env[k];
    });

    test('reports POLL_ERROR level-triggered from wait() and from start()', async () => {
      const [r, w] = fds.pipe();
      fds.close(r);
      poll.add(w, POLL_WRITE, 'widowed');
      for (let i = 0; i < 2; i++) {
        const [ev] = poll.wait(1000);
        expect(ev).toMatchObject({ fd: w, data: 'widowed' });
        expect(ev.events & POLL_ERROR).toBe(POLL_ERROR);
      }
      const batches: number[] = [];
      poll.start((events) => {
        for (const ev of events) batches.push(ev.events & POLL_ERROR);
        if (batches.length >= 2) poll.stop();
      });
      const t0 = now();
      while (batches.length < 2 && now() - t0 < 2000) await sleep(10);
      poll.stop();
      expect(batches).toEqual([POLL_ERROR, POLL_ERROR]);
    });

    test('reports POLL_ERROR once in oneshot mode, again after mod()', () => {
      const [r, w] = fds.pipe();
      fds.close(r);
      poll.add(w, 0, 'widowed', { mode: 'oneshot' });
      expect(poll.wait(1000)).toEqual([{ fd: w, events: expect.any(Number), data: 'widowed' }]);
      expect(poll.wait(50)).toEqual([]);
      poll.mod(w, 0);
      const [ev] = poll.wait(1000);
      expect(ev.events & POLL_ERROR).toBe(POLL_ERROR);
      poll.del(w);
      expect(poll.wait(50)).toEqual([]);
    });
  });
});
