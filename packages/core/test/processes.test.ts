import { spawn, type ChildProcess } from 'node:child_process';
import { POLL_EXIT, SocketPoll, SocketPollError, type PollEvent } from '../src';
import { BACKENDS, now } from './helpers/backends';
import { thrown } from './helpers/thrown';

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Waits (without blocking the loop) until an event arrives or budgetMs passes. */
async function next<T>(poll: SocketPoll<T>, budgetMs: number): Promise<PollEvent<T>[]> {
  const end = now() + budgetMs;
  for (;;) {
    const left = Math.ceil(end - now());
    if (left <= 0) return [];
    const events = await poll.waitAsync(left);
    if (events.length > 0) return events;
  }
}


describe.each(BACKENDS)('process exits on $label', (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>(backend.options);
  });
  afterEach(() => poll.close());

  const supported = (): boolean => {
    if (poll.supportedSources.includes('process')) return true;
    const err = thrown(() => poll.addProcess(process.pid));
    expect(['ENOSYS', 'ENOTSUP']).toContain(err.code);
    expect(err.message).toMatch(/supportedSources/);
    console.log(`skipped on ${backend.label}: no pidfd on this kernel (checked the error only)`);
    return false;
  };

  test('the exit of a child is reported once, with POLL_EXIT, its data and its handle', async () => {
    if (!supported()) return;
    const child = spawn('sleep', ['0.1']);
    const watch = poll.addProcess(child.pid!, 'sleeper');
    expect(watch).toMatchObject({ kind: 'process', pid: child.pid });
    expect(thrown(() => poll.addProcess(child.pid!)).code).toBe('EEXIST');
    const events = await next(poll, 5000);
    expect(events).toEqual([{ fd: NaN, events: POLL_EXIT, data: 'sleeper', source: watch }]);
    await exited(child);
    expect(await poll.waitAsync(50)).toEqual([]);
    expect(thrown(() => poll.del(watch)).code).toBe('ENOENT');
  });

  test('the exit of a process that is not our child (a grandchild) is reported', async () => {
    if (!supported()) return;
    const shell = spawn('sh', ['-c', 'sleep 0.3 & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    shell.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await exited(shell);
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    const watch = poll.addProcess(pid, 'grandchild');
    const events = await next(poll, 5000);
    expect(events).toEqual([{ fd: NaN, events: POLL_EXIT, data: 'grandchild', source: watch }]);
  });

  test('a pid that is already gone is ESRCH', async () => {
    if (!supported()) return;
    const child = spawn('true');
    await exited(child); // Node has reaped it
    const err = thrown(() => poll.addProcess(child.pid!));
    expect(err).toBeInstanceOf(SocketPollError);
    expect(err.code).toBe('ESRCH');
    expect(err.message).toMatch(new RegExp(`process ${child.pid} does not exist`));
    expect(thrown(() => poll.addProcess(0)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => poll.addProcess(1.5)).code).toBe('ERR_OUT_OF_RANGE');
  });

  test('del before the exit: nothing is reported', async () => {
    if (!supported()) return;
    const child = spawn('sleep', ['0.05']);
    const watch = poll.addProcess(child.pid!, 'cancelled');
    poll.del(watch);
    await exited(child);
    expect(await poll.waitAsync(100)).toEqual([]);
    expect(thrown(() => poll.del(watch)).code).toBe('ENOENT');
  });
});
