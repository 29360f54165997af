/**
 * What the code samples of the docs, the READMEs and the doc comments take as given: a poller,
 * fds with data waiting, a connection object. Real kernel fds from the test fd helper; a sample
 * imports from here only the names it uses and does not declare itself.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { SocketPoll } from '@socketpoll/core';

interface FdHelper {
  socketpair(kind?: number): [number, number];
  pipe(): [number, number];
  openpty(): [number, number];
  write(fd: number, data: string): number;
}
const helper = createRequire(import.meta.url)(process.env.SOCKETPOLL_FD_HELPER ?? path.resolve('fd_helper.node')) as FdHelper;

/** The data samples attach to registrations. */
export interface Conn {
  name: string;
  close(): void;
  onReady(events: number): void;
  push(chunk: Buffer): void;
}
export const conn: Conn = { name: 'conn', close() {}, onReady() {}, push() {} };

/** Socketpair ends with data waiting (readable, and writable): `fd`, `sock`, `fdA`, `fdB`. */
function connected(): number {
  const [end, peer] = helper.socketpair();
  helper.write(peer, 'ready');
  return end;
}
export const fd = connected();
export const sock = connected();
export const fdA = connected();
export const fdB = connected();
export const fds = [fd, sock];
/** A serial port stands in as a pseudo-terminal: `ptyMaster` and `serialFd`, its two sides. */
export const [ptyMaster, serialFd] = helper.openpty();
export const bigBuffer = Buffer.alloc(1 << 20);
export const signal = AbortSignal.timeout(2000);
// Files the samples name: a firmware image in the working directory, a FIFO in /tmp.
fs.writeFileSync('firmware.bin', Buffer.alloc(4096));
const FIFO = '/tmp/events.fifo';
if (!fs.existsSync(FIFO)) {
  execFileSync('mkfifo', [FIFO]);
  process.on('exit', () => fs.rmSync(FIFO, { force: true }));
}
export const buf = Buffer.alloc(64 * 1024);
// Your poller: its data is whatever your program attaches (a sample that needs a type makes its own).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const poll = new SocketPoll<any>();
/** Takes an event or a batch. */
export function handle(what: unknown): void {
  if (typeof what !== 'object' || what === null) throw new Error('not an event or a batch');
}
export function onBatch(events: unknown[]): void {
  if (!Array.isArray(events)) throw new Error('not a batch');
}

// Samples that start a poller keep the loop alive: each sample gets a short time to fail.
setTimeout(() => process.exit(0), 300).unref();
