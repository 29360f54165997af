import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  InvalidArgTypeError,
  InvalidArgValueError,
  OutOfRangeError,
  POLL_READ,
  POLL_WRITE,
  SocketPoll,
  SocketPollError,
  SocketPollStateError,
} from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';
import { thrown } from './helpers/thrown';

afterEach(() => fds.closeAll());


describe.each(BACKENDS)('errors on $label', (backend) => {
  let poll: SocketPoll;
  beforeEach(() => {
    poll = new SocketPoll({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test('double add is EEXIST, and the first registration keeps working', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'first');
    const err = thrown(() => poll.add(a, POLL_WRITE, 'second'));
    expect(err).toBeInstanceOf(SocketPollError);
    expect(err).toMatchObject({ code: 'EEXIST', errno: -os.constants.errno.EEXIST, fd: a });
    expect(typeof err.syscall).toBe('string');
    expect(err.message).toMatch(/already registered.*mod\(\)/);
    fds.write(b, 'x');
    expect(poll.wait(1000)).toEqual([{ fd: a, events: POLL_READ, data: 'first' }]);
    expect(poll.size).toBe(1);
  });

  test('mod and del of an unknown fd are ENOENT', () => {
    const [a] = fds.socketpair();
    expect(thrown(() => poll.mod(a, POLL_READ))).toMatchObject({ code: 'ENOENT', errno: -os.constants.errno.ENOENT });
    expect(thrown(() => poll.del(a))).toMatchObject({ code: 'ENOENT', fd: a });
    poll.add(a, POLL_READ);
    poll.del(a);
    expect(thrown(() => poll.del(a)).message).toMatch(/not registered.*nothing to remove/);
  });

  test('a closed or never-opened fd is EBADF, and nothing is registered', () => {
    const [a] = fds.socketpair();
    fds.close(a);
    expect(thrown(() => poll.add(a, POLL_READ))).toMatchObject({ code: 'EBADF', errno: -os.constants.errno.EBADF });
    expect(thrown(() => poll.add(987654, POLL_READ))).toMatchObject({ code: 'EBADF' });
    expect(poll.size).toBe(0);
  });

  test('a regular file: EPERM on epoll, always readable elsewhere', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-')), 'plain.txt');
    fs.writeFileSync(file, 'data');
    const fd = fs.openSync(file, 'r');
    try {
      if (backend.name === 'epoll') {
        const err = thrown(() => poll.add(fd, POLL_READ));
        expect(err).toMatchObject({ code: 'EPERM', syscall: 'epoll_ctl' });
        expect(err.message).toMatch(/regular files/);
        expect(poll.size).toBe(0);
      } else {
        poll.add(fd, POLL_READ);
        expect(poll.wait(1000)[0].events & POLL_READ).toBe(POLL_READ);
        poll.del(fd);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  test('wrong argument types and ranges are Node-style errors', () => {
    const [a] = fds.socketpair();
    const p = poll as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(thrown(() => p.add.call(poll, '3', POLL_READ))).toBeInstanceOf(InvalidArgTypeError);
    expect(thrown(() => p.add.call(poll, '3', POLL_READ))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    expect(thrown(() => poll.add(-1, POLL_READ))).toMatchObject({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    expect(thrown(() => poll.add(1.5, POLL_READ))).toBeInstanceOf(OutOfRangeError);
    expect(thrown(() => poll.add(2 ** 31, POLL_READ))).toBeInstanceOf(OutOfRangeError);
    expect(thrown(() => p.add.call(poll, a, 'read'))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => poll.add(a, 0x4000))).toBeInstanceOf(InvalidArgValueError);
    expect(thrown(() => poll.add(a, 0x100))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' }); // mode bits go in options
    expect(thrown(() => poll.add(a, POLL_READ, null, { mode: 'sideways' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(thrown(() => poll.wait(-2))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => poll.wait(NaN))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => p.wait.call(poll, '10'))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => p.start.call(poll, 42))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => new SocketPoll({ ...backend.options, maxEvents: 0 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => new SocketPoll({ ...backend.options, maxEvents: 2 ** 21 }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => new SocketPoll({ maxEvents: '8' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => new SocketPoll({ backend: 'select' as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(poll.size).toBe(0);
  });

  test('use after close is a clear error; close is idempotent', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_READ);
    poll.close();
    poll.close();
    expect(poll.closed).toBe(true);
    for (const call of [() => poll.add(a, POLL_READ), () => poll.wait(0), () => poll.del(a), () => poll.wakeup(), () => poll.start(() => {})]) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(SocketPollStateError);
      expect(err).toMatchObject({ code: 'ERR_SOCKETPOLL_CLOSED' });
      expect(err.message).toMatch(/closed; create a new one/);
    }
    expect(poll.size).toBe(0);
    return expect(poll.waitAsync(10)).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_CLOSED' });
  });

  test('wait while start() delivers is ERR_SOCKETPOLL_BUSY', async () => {
    poll.start(() => {});
    expect(thrown(() => poll.wait(0))).toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
    await expect(poll.waitAsync(0)).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
    poll.stop();
    const pending = poll.waitAsync(20);
    expect(thrown(() => poll.start(() => {}))).toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
    await expect(poll.waitAsync(20)).rejects.toMatchObject({ code: 'ERR_SOCKETPOLL_BUSY' });
    await expect(pending).resolves.toEqual([]);
  });

  test('a failed add leaves earlier registrations intact and leaks no fd', () => {
    const pairs = Array.from({ length: 10 }, () => fds.socketpair());
    pairs.forEach(([a], i) => poll.add(a, POLL_WRITE, i));
    const before = fds.openFdCount();
    for (let i = 0; i < 100; i++) {
      expect(() => poll.add(pairs[3][0], POLL_READ)).toThrow(SocketPollError);
      expect(() => poll.mod(999999, POLL_READ)).toThrow(SocketPollError);
    }
    expect(fds.openFdCount()).toBe(before);
    expect(poll.size).toBe(10);
    expect(poll.wait(1000).map((e) => e.data).sort((x, y) => (x as number) - (y as number))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
