import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { POLL_READ, POLL_WRITE, SocketPoll, SocketPollError, type PollEvent } from '../src';
import { BACKENDS, now } from './helpers/backends';
import * as fds from './helpers/fds';
import { thrown } from './helpers/thrown';

const CORE_DIST = path.resolve(__dirname, '../dist/index.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-unpollable-'));
const opened: number[] = [];

function regularFile(): number {
  const file = path.join(dir, `f${opened.length}.txt`);
  fs.writeFileSync(file, 'contents');
  const fd = fs.openSync(file, 'r+');
  opened.push(fd);
  return fd;
}

afterEach(() => {
  fds.closeAll();
  for (const fd of opened.splice(0)) fs.closeSync(fd);
});


describe.each(BACKENDS)("unpollable: 'ready' on $label", (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test("without the option epoll refuses a regular file with EPERM, and the message names the option", () => {
    const fd = regularFile();
    if (backend.name !== 'epoll') {
      poll.add(fd, POLL_READ); // poll and kqueue take it with their own rules
      return;
    }
    const err = thrown(() => poll.add(fd, POLL_READ));
    expect(err).toMatchObject({ code: 'EPERM', syscall: 'epoll_ctl', fd });
    expect(err.message).toMatch(/unpollable: 'ready'/);
    expect(poll.has(fd)).toBe(false);
  });

  test('level: reported once by every wait, for what was asked, without blocking', () => {
    const fd = regularFile();
    poll.add(fd, POLL_READ | POLL_WRITE, 'file', { unpollable: 'ready' });
    for (let i = 0; i < 3; i++) {
      const start = now();
      expect(poll.wait(2000)).toEqual([{ fd, events: POLL_READ | POLL_WRITE, data: 'file' }]);
      expect(now() - start).toBeLessThan(1000);
    }
    poll.mod(fd, POLL_READ); // mod keeps the option
    expect(poll.wait(0)).toEqual([{ fd, events: POLL_READ, data: 'file' }]);
    poll.del(fd);
    expect(poll.wait(30)).toEqual([]);
  });

  test('oneshot: once until mod re-arms it; edge: once per mod', () => {
    const modes = poll.supportedModes.filter((m) => m !== 'level');
    for (const mode of modes) {
      const fd = regularFile();
      poll.add(fd, POLL_READ, mode, { mode, unpollable: 'ready' });
      expect(poll.wait(1000)).toEqual([{ fd, events: POLL_READ, data: mode }]);
      expect(poll.wait(40)).toEqual([]);
      poll.mod(fd, POLL_READ);
      expect(poll.wait(1000)).toEqual([{ fd, events: POLL_READ, data: mode }]);
      expect(poll.wait(40)).toEqual([]);
      poll.del(fd);
    }
  });

  test('the constructor option applies to every add, with sockets and directories in one batch', () => {
    const p = new SocketPoll<string>({ ...backend.options, unpollable: 'ready' });
    try {
      const file = regularFile();
      const directory = fs.openSync(dir, 'r');
      opened.push(directory);
      const [a, b] = fds.socketpair();
      p.add(a, POLL_READ, 'socket');
      p.add(file, POLL_READ, 'file');
      p.add(directory, POLL_READ, 'directory');
      fds.write(b, 'x');
      const batch = p.wait(1000);
      expect(batch.map((e: PollEvent<string>) => e.data).sort()).toEqual(['directory', 'file', 'socket']);
      expect(thrown(() => p.add(file, POLL_READ)).code).toBe('EEXIST');
    } finally {
      p.close();
    }
  });

  test('start() delivers it on the event loop', async () => {
    const fd = regularFile();
    poll.add(fd, POLL_READ, 'file', { mode: 'oneshot', unpollable: 'ready' });
    const batch = await new Promise<PollEvent<string>[]>((resolve) => poll.start(resolve));
    poll.stop();
    expect(batch).toEqual([{ fd, events: POLL_READ, data: 'file' }]);
  });

  test('bad values are typed errors', () => {
    const fd = regularFile();
    expect(thrown(() => poll.add(fd, POLL_READ, 'x', { unpollable: 'yes' as 'ready' })).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => new SocketPoll({ ...backend.options, unpollable: 1 as unknown as 'ready' })).code).toBe(
      'ERR_INVALID_ARG_VALUE',
    );
  });

  test('node app.js < input.txt: stdin redirected from a file is read through the poller', () => {
    const input = path.join(dir, 'input.txt');
    fs.writeFileSync(input, 'hello from a file\n');
    const script = `
      const fs = require('fs');
      const { SocketPoll, POLL_READ } = require(${JSON.stringify(CORE_DIST)});
      const poll = new SocketPoll({ ...${JSON.stringify(backend.options)}, unpollable: 'ready' });
      poll.add(0, POLL_READ, 'stdin');
      const [ev] = poll.wait(1000);
      const buf = Buffer.alloc(64);
      const n = fs.readSync(ev.fd, buf, 0, 64, null);
      process.stdout.write(ev.data + ':' + buf.subarray(0, n).toString());
      poll.close();`;
    const inputFd = fs.openSync(input, 'r');
    opened.push(inputFd);
    const child = spawnSync(process.execPath, ['-e', script], { stdio: [inputFd, 'pipe', 'pipe'], timeout: 20000 });
    expect(child.stderr.toString()).toBe('');
    expect(child.stdout.toString()).toBe('stdin:hello from a file\n');
  });
});
