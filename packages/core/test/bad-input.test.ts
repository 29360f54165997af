/**
 * Bad input, as a careless or hostile caller gives it: every mistake is a typed error with a
 * `code` and a message that says what to do, nothing is coerced, and every registration made
 * before the bad call still delivers afterwards.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { POLL_READ, POLL_WRITE, SocketPoll, SocketPollError, wakeup } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';
import { thrown, type Thrown } from './helpers/thrown';

afterEach(() => fds.closeAll());


const NOT_INTEGERS: unknown[] = [NaN, 'x', null, undefined, {}, 0.5, Infinity, -Infinity, 2 ** 53, -2, 2 ** 31];

describe.each(BACKENDS)('bad input on $label', (backend) => {
  let poll: SocketPoll<string>;
  let witness: [number, number];
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    // A registration made before every bad call: it must still deliver after it.
    witness = fds.socketpair();
    poll.add(witness[0], POLL_READ, 'witness');
  });
  afterEach(() => poll.close());

  function expectWitnessDelivers(): void {
    fds.write(witness[1], 'w');
    expect(poll.wait(1000)).toEqual([{ fd: witness[0], events: POLL_READ, data: 'witness' }]);
    fds.drain(witness[0]);
  }

  test('events of 2^32 or more are refused, not truncated to a flag', () => {
    const [a] = fds.socketpair();
    for (const events of [2 ** 32 + 1, 2 ** 32, 2 ** 33 + POLL_WRITE, 2 ** 53 + 1]) {
      const err = thrown(() => poll.add(a, events));
      expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(err.message).toMatch(/POLL_\* flags/);
      expect(thrown(() => poll.mod(witness[0], events)).code).toBe('ERR_INVALID_ARG_VALUE');
    }
    expect(poll.has(a)).toBe(false);
    expect(poll.size).toBe(1);
    expectWitnessDelivers();
  });

  test('a non-object options argument is refused, not read as a level registration', () => {
    const [a] = fds.socketpair();
    for (const options of ['oneshot', 1, true, null]) {
      const err = thrown(() => poll.add(a, POLL_READ, 'd', options as never));
      expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
      expect(err.message).toMatch(/"options" argument must be of type object/);
      expect(thrown(() => poll.mod(witness[0], POLL_READ, 'x', options as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    }
    expect(poll.has(a)).toBe(false);
    expectWitnessDelivers();
  });

  test('readEach/writeEach refuse fds that are not integers instead of using fd 0', () => {
    const buf = Buffer.alloc(64);
    for (const bad of NOT_INTEGERS) {
      const r = thrown(() => poll.readEach([witness[0], bad as number], buf, 8));
      expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain(r.code);
      expect(r.message).toMatch(/fds\[1\]/);
      const w = thrown(() => poll.writeEach([bad as number], buf, 8, [1]));
      expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain(w.code);
    }
    // 2^32 + fd and fd + 0.5 do not land on fd.
    expect(thrown(() => poll.writeEach([2 ** 32 + witness[1]], buf, 8, [1])).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.writeEach([witness[1] + 0.5], buf, 8, [1])).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.readEach({ length: NaN } as ArrayLike<number>, buf, 8)).code).toBe('ERR_OUT_OF_RANGE');
    // Nothing was written to the witness by any of them.
    expect(poll.wait(0)).toEqual([]);
    // -1 (an event cancelled by del()) is still skipped with -EBADF.
    expect(Array.from(poll.readEach([-1], buf, 8))).toEqual([-os.constants.errno.EBADF]);
    expectWitnessDelivers();
  });

  test('writeEach refuses lengths that are not integers in 0..chunkSize instead of writing 0 bytes', () => {
    const buf = Buffer.alloc(64, 'z');
    for (const bad of [2 ** 40, NaN, -1, 9, 0.5, 'x', null]) {
      const err = thrown(() => poll.writeEach([witness[1]], buf, 8, [bad as number]));
      expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain(err.code);
      expect(err.message).toMatch(/lengths\[0\]/);
    }
    expect(poll.wait(0)).toEqual([]);
    expect(Array.from(poll.writeEach([witness[1]], buf, 8, [8]))).toEqual([8]);
    expect(poll.wait(1000)).toEqual([{ fd: witness[0], events: POLL_READ, data: 'witness' }]);
  });

  test('readEach/writeEach after close() throw ERR_SOCKETPOLL_CLOSED like every other method', () => {
    poll.close();
    const buf = Buffer.alloc(8);
    expect(thrown(() => poll.readEach([witness[0]], buf, 8)).code).toBe('ERR_SOCKETPOLL_CLOSED');
    expect(thrown(() => poll.writeEach([witness[1]], buf, 8, [1])).code).toBe('ERR_SOCKETPOLL_CLOSED');
    expect(fds.tryWrite(witness[1], 'q')).toBe(1); // and nothing was read meanwhile
    expect(fds.read(witness[0])).toBe('q');
  });

  test('a malformed wakeup handle is an error, and never wakes another poller', () => {
    const handle = poll.wakeupHandle;
    for (const id of [handle.id + 2 ** 32, handle.id + 0.5, -handle.id, 0, NaN, Infinity, 2 ** 53]) {
      const err = thrown(() => wakeup({ addonPath: handle.addonPath, id }));
      expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(err.message).toMatch(/wakeupHandle/);
    }
    const forged = thrown(() => wakeup({ addonPath: '/nonexistent/socketpoll.node', id: handle.id }));
    expect(forged.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => wakeup({ id: handle.id } as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    // No wakeup is pending: a wait sleeps its timeout (a coalesced wakeup would return at once).
    const t0 = Date.now();
    expect(poll.wait(150)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(wakeup(handle)).toBe(true);
    expectWitnessDelivers();
  });

  test("the poller's own fds are refused with one clear error", () => {
    // Open fds only: readdir's own directory fd is listed, and closed by the time we look.
    const openFds = (): string[] => fs.readdirSync('/proc/self/fd').filter((n) => fs.existsSync(`/proc/self/fd/${n}`));
    const before = new Set(openFds());
    const other = new SocketPoll({ ...backend.options, maxEvents: 4 });
    // Sources have fds of their own too (a timerfd and a pidfd on epoll and poll).
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      other.addTimer(60000, 'timer');
      other.addProcess(child.pid!, 'child');
      const own = openFds()
        .filter((n) => !before.has(n))
        .map(Number);
      expect(own.length).toBeGreaterThan(0);
      let refused = 0;
      for (const fd of own) {
        let err: Thrown | undefined;
        try {
          other.add(fd, POLL_READ);
        } catch (e) {
          err = e as Thrown;
        }
        if (backend.name === 'kqueue' && err === undefined) {
          other.del(fd); // the emulation's private epolls and eventfd: not the backend's own fds
          continue;
        }
        expect(err).toBeInstanceOf(SocketPollError);
        expect(err).toMatchObject({ code: 'EINVAL', fd, syscall: 'SocketPoll_add' });
        expect(err!.message).toMatch(/this poller's own fds.*cannot be registered/);
        refused++;
      }
      expect(refused).toBeGreaterThan(0);
      if (backend.name !== 'kqueue') {
        // ... among them the process watch's pidfd (each new fd was refused: checked above)
        const kinds = own.map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`));
        expect(kinds).toContain('anon_inode:[pidfd]');
      }
      expect(other.size).toBe(0);
      // Wakeups still work and are still empty.
      other.wakeup();
      expect(other.wait(1000)).toEqual([]);
    } finally {
      other.close();
      child.kill();
    }
    expectWitnessDelivers();
  });

  test('the syscall of an error names the call that failed', () => {
    const [a] = fds.socketpair();
    fds.close(a);
    const closed = thrown(() => poll.add(a, POLL_READ));
    expect(closed).toMatchObject({ code: 'EBADF', syscall: backend.name === 'epoll' ? 'epoll_ctl' : 'fstat' });
    const twice = thrown(() => poll.add(witness[0], POLL_READ));
    expect(twice).toMatchObject({ code: 'EEXIST', syscall: backend.name === 'epoll' ? 'epoll_ctl' : 'SocketPoll_add' });
    const unknown = thrown(() => poll.del(witness[1]));
    expect(unknown).toMatchObject({ code: 'ENOENT', syscall: 'SocketPoll_del' });
    expect(unknown.message).toContain('SocketPoll_del');
    expectWitnessDelivers();
  });
});

describe('constructor options', () => {
  const backend = BACKENDS[0];

  test.each([
    [{ maxEvents: null }, 'ERR_INVALID_ARG_TYPE', /maxEvents/],
    [{ maxEvents: '16' }, 'ERR_INVALID_ARG_TYPE', /maxEvents/],
    [{ maxEvents: NaN }, 'ERR_OUT_OF_RANGE', /maxEvents/],
    [{ maxEvents: 0 }, 'ERR_OUT_OF_RANGE', /maxEvents/],
    [{ maxEvents: 1.5 }, 'ERR_OUT_OF_RANGE', /maxEvents/],
    [{ maxEvents: 2 ** 20 + 1 }, 'ERR_OUT_OF_RANGE', /maxEvents/],
    [{ backend: 5 }, 'ERR_INVALID_ARG_TYPE', /backend/],
    [{ backend: null }, 'ERR_INVALID_ARG_TYPE', /backend/],
    [{ backend: 'select' }, 'ERR_INVALID_ARG_VALUE', /'epoll', 'kqueue', 'poll'/],
    [{ addonPath: '' }, 'ERR_INVALID_ARG_TYPE', /addonPath.*\.node/],
    [{ addonPath: 7 }, 'ERR_INVALID_ARG_TYPE', /addonPath/],
  ])('%j is refused with %s', (options, code, message) => {
    const err = thrown(() => new SocketPoll(options as never));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  test('an addonPath that is not a socketpoll addon is a typed error that says what to pass', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-addon-'));
    try {
      const notAddon = path.join(dir, 'not-an-addon.node');
      fs.writeFileSync(notAddon, 'this is not an ELF file');
      for (const addonPath of [notAddon, path.join(dir, 'missing.node'), fds.HELPER_PATH]) {
        const err = thrown(() => new SocketPoll({ addonPath }));
        expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
        expect(err.message).toMatch(/options.addonPath.*socketpoll backend.*loading it failed/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The good one still works.
    new SocketPoll(backend.options).close();
  });
});
