import { POLL_READ, POLL_WRITE, SocketPoll, SocketPollError } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

describe.each(BACKENDS)('modes on $label', (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test('supportedModes tells which modes the backend honours', () => {
    const expected = backend.name === 'poll' ? ['level', 'oneshot'] : ['level', 'edge', 'oneshot'];
    expect(poll.supportedModes).toEqual(expected);
  });

  test('level: reported on every wait until drained', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a', { mode: 'level' });
    fds.write(b, 'abc');
    expect(poll.wait(1000)).toHaveLength(1);
    expect(poll.wait(1000)).toHaveLength(1);
    fds.drain(a);
    expect(poll.wait(0)).toEqual([]);
  });

  test('edge: reported once per change, or refused with ENOTSUP where unsupported', () => {
    const [a, b] = fds.socketpair();
    if (!poll.supportedModes.includes('edge')) {
      let err: unknown;
      try {
        poll.add(a, POLL_READ, 'a', { mode: 'edge' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SocketPollError);
      expect((err as SocketPollError).code).toBe('ENOTSUP');
      expect((err as SocketPollError).message).toMatch(/supportedModes/);
      expect(poll.size).toBe(0); // nothing half-registered
      return;
    }
    poll.add(a, POLL_READ, 'a', { mode: 'edge' });
    fds.write(b, 'abc');
    expect(poll.wait(1000)).toHaveLength(1);
    expect(poll.wait(0)).toEqual([]); // not drained, but no new edge
    fds.write(b, 'd');
    expect(poll.wait(1000)).toHaveLength(1);
  });

  test('oneshot: reported once, disarmed (still registered) until mod re-arms it', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'a', { mode: 'oneshot' });
    fds.write(b, 'abc');
    expect(poll.wait(1000)).toHaveLength(1);
    expect(poll.wait(50)).toEqual([]);
    expect(poll.has(a)).toBe(true);
    expect(() => poll.add(a, POLL_READ)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    poll.mod(a, POLL_READ); // mode kept: oneshot, re-armed
    expect(poll.wait(1000)).toHaveLength(1);
    expect(poll.wait(50)).toEqual([]);
  });

  test('mod can switch a oneshot registration to level', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_WRITE, 'a', { mode: 'oneshot' });
    expect(poll.wait(1000)).toHaveLength(1);
    poll.mod(a, POLL_WRITE, undefined, { mode: 'level' });
    expect(poll.wait(1000)).toHaveLength(1);
    expect(poll.wait(1000)).toHaveLength(1);
  });
});
