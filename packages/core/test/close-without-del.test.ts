/**
 * What the library guarantees when a registered fd is closed without del() (the documented rule is
 * "del() before close()"): an fd number that now names another file can be added again, nothing
 * of the old registration (its data, its readiness) is reported after that, no wait spins, and a
 * mod() of the dead registration is ENOENT rather than a silent registration of the new file.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { POLL_READ, POLL_WRITE, SocketPoll } from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

afterEach(() => fds.closeAll());

/** CPU time (user + system, ms) of the calling thread: /proc/thread-self/stat where there is one
 * (other threads of the process, GC among them, do not count), else the whole process's. */
function threadCpuMs(): number {
  try {
    const fields = fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}

/** CPU time (ms) the calling thread spends in fn. A wait that spins burns all of its timeout
 * (100-300 ms of a 300 ms wait on shared cores); one that sleeps, a few ms. */
function cpuMs<R>(fn: () => R): [R, number] {
  const start = threadCpuMs();
  const result = fn();
  return [result, threadCpuMs() - start];
}

/** A new socketpair whose first end has the number `num` (which must be free). */
function pairAt(num: number): [number, number] {
  const [c, d] = fds.socketpair();
  if (c !== num) {
    fds.dup2(c, num);
    fds.close(c);
  }
  return [num, d];
}

describe.each(BACKENDS)('close without del on $label', (backend) => {
  let poll: SocketPoll<string>;
  beforeEach(() => {
    poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
  });
  afterEach(() => poll.close());

  test('while a duplicate keeps the old file open, re-adding its number neither spins nor reports old data', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.write(b, 'unread'); // the old file stays readable: level-triggered, it would fire forever
    const copy = fds.dup2(a, 900 + a); // the file lives on, as in a child process
    fds.close(a); // without del
    const [n, peer] = pairAt(a);
    poll.add(n, POLL_READ, 'new');
    const [quiet, cpu] = cpuMs(() => poll.wait(300));
    expect(quiet).toEqual([]);
    expect(cpu).toBeLessThan(50); // a busy loop burns 100-300 ms of CPU in a 300 ms wait (shared cores)
    fds.write(peer, 'x');
    expect(poll.wait(1000)).toEqual([{ fd: n, events: POLL_READ, data: 'new' }]);
    expect(fds.read(copy)).toBe('unread'); // the old file was never touched
  });

  test('start() delivers only the new registration and does not spin the event loop', async () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.write(b, 'unread');
    fds.dup2(a, 900 + a);
    fds.close(a);
    const [n, peer] = pairAt(a);
    poll.add(n, POLL_READ, 'new');
    const seen: string[] = [];
    // A spinning poller keeps the event loop from ever sleeping in its poll phase: its utilisation
    // (wall time not spent waiting, whatever share of a CPU the process gets) goes to ~1.
    const start = performance.eventLoopUtilization();
    poll.start((events) => {
      for (const ev of events) {
        seen.push(ev.data);
        fds.drain(ev.fd);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    fds.write(peer, 'x');
    await new Promise((r) => setTimeout(r, 100));
    poll.stop();
    const used = performance.eventLoopUtilization(start);
    expect(seen).toEqual(['new']);
    expect(used.utilization).toBeLessThan(0.5);
  });

  test('del() after the close, while a duplicate lives, leaves no busy wait behind', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.write(b, 'unread');
    fds.dup2(a, 900 + a);
    fds.close(a);
    poll.del(a);
    const [quiet, cpu] = cpuMs(() => poll.wait(300));
    expect(quiet).toEqual([]);
    expect(cpu).toBeLessThan(50);
    expect(poll.size).toBe(0);
  });

  test('a number reused by another file can be added again, with no duplicate alive', () => {
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.write(b, 'x');
    fds.close(a);
    const [n, peer] = pairAt(a);
    poll.add(n, POLL_WRITE, 'new');
    expect(poll.wait(1000)).toEqual([{ fd: n, events: POLL_WRITE, data: 'new' }]);
    poll.mod(n, POLL_READ);
    expect(poll.wait(100)).toEqual([]);
    fds.write(peer, 'y');
    expect(poll.wait(1000)).toEqual([{ fd: n, events: POLL_READ, data: 'new' }]);
    expect(poll.size).toBe(1);
  });

  // Why start() nests the registered fds in the backend's own set rather than watching each one
  // with a uv_poll_t on Node's loop: libuv keys its watchers by fd number, so a direct watch left on
  // a closed fd takes the events of the next Node handle given that number (an outgoing TCP
  // connection never completes).
  test('start(): a Node TCP connection given the number of an fd closed while registered still connects and echoes', async () => {
    const server = net.createServer((conn) => conn.pipe(conn));
    // The first listen() also reserves an fd of libuv's (for EMFILE): take it before the close.
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const [a, b] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    let calls = 0;
    poll.start(() => {
      calls++; // never reads: the number may name Node's socket by now
    });
    await new Promise((r) => setTimeout(r, 20));
    fds.close(b);
    fds.close(a); // without del; the lowest free number is now a
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    const clientFd = () => (client as unknown as { _handle: { fd: number } | null })._handle?.fd;
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no echo in 3 s (client fd ${clientFd()}, connecting: ${client.connecting}, poller callbacks: ${calls})`));
        }, 3000);
        client.on('error', reject);
        client.on('connect', () => client.write('ping'));
        client.on('data', (d) => {
          clearTimeout(timer);
          resolve(d.toString());
        });
      });
      expect(echoed).toBe('ping');
      expect(clientFd()).toBe(a); // the case under test did happen: Node's socket got the number
    } finally {
      poll.stop();
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('mod() of a registration whose fd was closed and its number reused is ENOENT', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.close(a);
    const [n, peer] = pairAt(a);
    expect(() => poll.mod(n, POLL_READ | POLL_WRITE, 'mod')).toThrow(expect.objectContaining({ code: 'ENOENT', fd: n }));
    expect(poll.has(n)).toBe(false);
    // The new file was not registered quietly: nothing is reported for it.
    fds.write(peer, 'x');
    expect(poll.wait(150)).toEqual([]);
    poll.add(n, POLL_READ, 'added');
    expect(poll.wait(1000)).toEqual([{ fd: n, events: POLL_READ, data: 'added' }]);
  });

  test('mod() of a registration whose fd was closed is ENOENT and forgets it', () => {
    const [a] = fds.socketpair();
    poll.add(a, POLL_READ, 'old');
    fds.close(a);
    expect(() => poll.mod(a, POLL_READ)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(poll.size).toBe(0);
  });
});
