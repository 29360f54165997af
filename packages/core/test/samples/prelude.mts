/**
 * What the code samples of the docs, the READMEs and the doc comments take as given: a poller,
 * fds with data waiting, a connection object. Real kernel fds from the test fd helper; a sample
 * imports from here only the names it uses and does not declare itself.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { SocketPoll } from '@socketpoll/core';

interface FdHelper {
  socketpair(kind?: number): [number, number];
  pipe(): [number, number];
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

/** A pipe's read end with data waiting; `sock`: a socketpair end with data waiting. */
const [fd, fdWriter] = helper.pipe();
const [sock, sockPeer] = helper.socketpair();
helper.write(fdWriter, 'ready');
helper.write(sockPeer, 'ready');
export { fd, sock };
export const fds = [fd, sock];
export const buf = Buffer.alloc(64 * 1024);
// Your poller: its data is whatever your program attaches (a sample that needs a type makes its own).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const poll = new SocketPoll<any>();
export function handle(event: { fd: number; events: number }): void {
  if (!Number.isInteger(event.fd)) throw new Error('not an event');
}
export function onBatch(events: unknown[]): void {
  if (!Array.isArray(events)) throw new Error('not a batch');
}

// Samples that start a poller keep the loop alive: each sample gets a short time to fail.
setTimeout(() => process.exit(0), 300).unref();
