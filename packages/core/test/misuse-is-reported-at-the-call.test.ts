/**
 * Calls that used to be accepted silently now answer at the call, with a code: options passed as
 * `data`, a second start() with another callback, an add() to a poller that serves streams, fd 0
 * while Node's own stdin stream reads it, and del() of an fd never added. Streams take the
 * `unpollable` option, and their EPERM names it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { POLL_READ, POLL_WRITE, SocketPoll, defaultPoller, readableFrom, writableTo } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';
import { thrown } from './helpers/thrown';

afterEach(() => fds.closeAll());

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');

/** The warnings emitted while `fn` runs (process.emitWarning, as Node prints them). */
function warningsOf(fn: () => void): { message: string; code?: string }[] {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    fn();
    return spy.mock.calls.map(([message, options]) => ({
      message: String(message),
      code: (options as { code?: string } | undefined)?.code,
    }));
  } finally {
    spy.mockRestore();
  }
}

describe.each(BACKENDS)('misuse on $label', (backend) => {
  test('options passed as data are taken as data, with a SOCKETPOLL_OPTIONS_AS_DATA warning at the add()', () => {
    const poll = new SocketPoll(backend.options);
    const [, w] = fds.pipe();
    const [, w2] = fds.pipe();
    const warnings = warningsOf(() => poll.add(w, POLL_WRITE, { mode: 'edge' } as never));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('SOCKETPOLL_OPTIONS_AS_DATA');
    expect(warnings[0].message).toMatch(/add\(fd, events, data, options\)/);
    expect(poll.wait(0)).toEqual([{ fd: w, events: POLL_WRITE, data: { mode: 'edge' } }]);
    // Data that is not options-shaped, or real options, give no warning.
    expect(warningsOf(() => poll.add(w2, POLL_WRITE, { mode: 'edge', name: 'x' } as never))).toEqual([]);
    poll.close();
  });

  test('start() with another callback while started throws ERR_SOCKETPOLL_BUSY; the same one again is a no-op', () => {
    const poll = new SocketPoll(backend.options);
    const first = (): void => undefined;
    poll.start(first);
    expect(() => poll.start(first)).not.toThrow();
    const err = thrown(() => poll.start(() => undefined));
    expect(err.code).toBe('ERR_SOCKETPOLL_BUSY');
    expect(err.message).toMatch(/stop\(\) first/);
    poll.stop();
    expect(() => poll.start(() => undefined)).not.toThrow(); // after stop(): handed over
    poll.close();
  });

  test('del() of an fd never added says there is nothing to remove', () => {
    const poll = new SocketPoll(backend.options);
    const [r] = fds.pipe();
    const err = thrown(() => poll.del(r));
    expect(err.code).toBe('ENOENT');
    expect(err.message).toMatch(/nothing to remove/);
    expect(err.message).not.toMatch(/add\(\) it first/);
    poll.close();
  });

  test('a stream reads a regular file to its end with unpollable: ready, and writes to /dev/null', async () => {
    const poll = new SocketPoll(backend.options);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-unpollable-'));
    const file = path.join(dir, 'input.txt');
    fs.writeFileSync(file, 'x'.repeat(100_000));
    const fd = fs.openSync(file, 'r');
    let total = 0;
    for await (const chunk of readableFrom(fd, { poll, unpollable: 'ready' })) total += (chunk as Buffer).length;
    fs.closeSync(fd);
    const devnull = fs.openSync('/dev/null', 'w');
    const out = writableTo(devnull, { poll, unpollable: 'ready' });
    await new Promise<void>((resolve, reject) => out.end(Buffer.alloc(100_000), () => resolve()).once('error', reject));
    fs.closeSync(devnull);
    poll.close();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(total).toBe(100_000);
  });

  // Only epoll refuses a regular file; poll and kqueue watch it (always ready).
  if (backend.name !== 'epoll') console.log(`EPERM of a stream: skipped on ${backend.label}, which does not refuse a regular file`);
  (backend.name === 'epoll' ? test : test.skip)('a stream of a regular file without the option fails with EPERM naming the factory\'s option', () => {
    const poll = new SocketPoll(backend.options);
    const fd = fs.openSync(__filename, 'r');
    const err = thrown(() => readableFrom(fd, { poll }));
    fs.closeSync(fd);
    poll.close();
    expect(err.code).toBe('EPERM');
    expect(err.message).toMatch(/pass \{ unpollable: 'ready' \} to readableFrom\(\)/);
  });
});

describe('the default poller', () => {
  test('add() of your own fd to defaultPoller() throws ERR_SOCKETPOLL_BUSY at the call', () => {
    const [r] = fds.pipe();
    const err = thrown(() => defaultPoller().add(r, POLL_READ));
    expect(err.code).toBe('ERR_SOCKETPOLL_BUSY');
    expect(err.message).toMatch(/a SocketPoll of your own/);
    expect(defaultPoller().has(r)).toBe(false);
  });
});

describe('fd 0 and process.stdin', () => {
  const run = (script: string) =>
    spawnSync(process.execPath, ['-e', script], { input: 'hello\n', encoding: 'utf8', timeout: 10_000 });
  const prelude = `const { SocketPoll, POLL_READ } = require(${JSON.stringify(CORE_DIST)});
    process.on('warning', (w) => console.log('warning', w.code));`;

  test("registering fd 0 while process.stdin reads it warns SOCKETPOLL_STDIN_SHARED", () => {
    const r = run(`${prelude}
      process.stdin.on('data', () => {});
      const poll = new SocketPoll(); poll.add(0, POLL_READ);
      setTimeout(() => { poll.close(); process.exit(0); }, 50);`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning SOCKETPOLL_STDIN_SHARED');
  });

  test('registering fd 0 alone (as the epoll package\'s own tests do) gives no warning', () => {
    const r = run(`${prelude}
      const poll = new SocketPoll(); poll.add(0, POLL_READ);
      setTimeout(() => { poll.close(); process.exit(0); }, 50);`);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('warning');
  });
});
