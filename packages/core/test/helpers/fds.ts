/**
 * Real kernel fds for the tests, from the test-only native helper
 * (packages/native/src/test/node/fd_helper.c): Node cannot make socketpairs, raw pipes, eventfds
 * or ptys itself. Every function throws on a negative errno so a broken fixture fails loudly.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface FdHelper {
  socketpair(kind?: number): [number, number] | number;
  pipe(): [number, number] | number;
  eventfd(initial?: number): number;
  openpty(): [number, number] | number;
  tcpPair(): [number, number] | number;
  sendOob(fd: number): number;
  write(fd: number, data: string | Buffer): number;
  writeCounter(fd: number, value: number): number;
  read(fd: number, max?: number): string | number;
  drain(fd: number): number;
  fill(fd: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  isOpen(fd: number): boolean;
  dup2(from: number, to: number): number;
  openFifo(path: string): [number, number] | number;
  openTun(name: string): number;
}

// SOCKETPOLL_TEST_FD_HELPER: the helper built for another target, when the suite runs under qemu.
export const HELPER_PATH = process.env.SOCKETPOLL_TEST_FD_HELPER ?? path.resolve(__dirname, '../../../native/gyp/build/Release/fd_helper.node');
if (!fs.existsSync(HELPER_PATH)) {
  throw new Error(`${HELPER_PATH} is missing: build it with \`pnpm --filter @socketpoll/native build\``);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(HELPER_PATH) as FdHelper;

function ok<V>(what: string, v: V | number): V {
  if (typeof v === 'number' && v < 0) throw new Error(`${what} failed: errno ${-v}`);
  return v as V;
}

const opened = new Set<number>();
function track<V extends number | [number, number]>(v: V): V {
  if (Array.isArray(v)) v.forEach((fd) => opened.add(fd));
  else opened.add(v);
  return v;
}

export const SOCK_STREAM = 0;
export const SOCK_DGRAM = 1;
export const SOCK_SEQPACKET = 2;

/** A non-blocking AF_UNIX socketpair. */
export const socketpair = (kind = SOCK_STREAM): [number, number] => track(ok('socketpair', native.socketpair(kind)));
/** A non-blocking pipe: [read end, write end]. */
export const pipe = (): [number, number] => track(ok('pipe', native.pipe()));
/** A non-blocking eventfd. */
export const eventfd = (initial = 0): number => track(ok('eventfd', native.eventfd(initial)));
/** A pseudo-terminal: [master, slave], both non-blocking. */
export const openpty = (): [number, number] => track(ok('openpty', native.openpty()));
/** A connected TCP pair over 127.0.0.1: [client, server]. */
export const tcpPair = (): [number, number] => track(ok('tcpPair', native.tcpPair()));
/** A FIFO in a fresh temp dir, opened non-blocking: [read end, write end]. */
export function fifo(): [number, number] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'socketpoll-fifo-'));
  const fds = track(ok('openFifo', native.openFifo(path.join(dir, 'fifo'))));
  fs.rmSync(dir, { recursive: true, force: true }); // the open ends keep working
  return fds;
}

/** A new TUN interface (`IFF_TUN | IFF_NO_PI`, non-blocking); returns -errno where not allowed. */
export const tryOpenTun = (name: string): number => {
  const fd = native.openTun(name);
  return fd >= 0 ? track(fd) : fd;
};

export const write = (fd: number, data: string | Buffer = 'x'): number => ok('write', native.write(fd, data));
/** Raw write that returns -errno instead of throwing. */
export const tryWrite = (fd: number, data: string | Buffer = 'x'): number => native.write(fd, data);
export const writeCounter = (fd: number, value = 1): number => ok('writeCounter', native.writeCounter(fd, value));
export const read = (fd: number, max?: number): string => ok('read', native.read(fd, max));
/** Reads until EAGAIN or EOF; returns the byte count. */
export const drain = (fd: number): number => ok('drain', native.drain(fd));
/** Writes until the fd is not writable any more. */
export const fill = (fd: number): number => native.fill(fd);
export const sendOob = (fd: number): number => ok('sendOob', native.sendOob(fd));
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const shutdown = (fd: number, how: number): number => ok('shutdown', native.shutdown(fd, how));
export const isOpen = (fd: number): boolean => native.isOpen(fd);
export const dup2 = (from: number, to: number): number => track(ok('dup2', native.dup2(from, to)));

/** Closes an fd (and forgets it for closeAll). */
export function close(fd: number): void {
  opened.delete(fd);
  ok('close', native.close(fd));
}

/** `fd` was closed by the code under test: closeAll() must not close its number again. */
export function forget(fd: number): void {
  opened.delete(fd);
}

/** Closes every fd the fixtures opened that is still open (afterEach). */
export function closeAll(): void {
  for (const fd of opened) native.close(fd);
  opened.clear();
}

/** The fds open in this process now (Linux: /proc/self/fd). */
export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/**
 * The epoll and eventfd fds open in this process now: what a poller (and a worker's own event
 * loop) holds. Unlike openFdCount it does not move when jest or ts-jest open files meanwhile.
 */
export function pollerFdCount(): number {
  let count = 0;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${name}`);
      if (target === 'anon_inode:[eventpoll]' || target === 'anon_inode:[eventfd]') count++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return count;
}
