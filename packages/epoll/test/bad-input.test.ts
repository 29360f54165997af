/**
 * Every misuse the original `epoll` package rejects is rejected here: an `Error` (not a subclass,
 * as the original's), its message starting with the original's words, and for a failed system
 * call `code`, `errno` and `syscall` as Node's own errors have them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Epoll } from '../src';
import { fds } from './helpers';

afterEach(() => fds.closeAll());

/** The error `fn` throws; fails when it throws none. */
function thrown(fn: () => unknown): Error & { code?: string; errno?: number; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('nothing was thrown');
}

function expectPlainError(err: Error, startsWith: string): void {
  expect(Object.getPrototypeOf(err)).toBe(Error.prototype);
  expect(err.message.startsWith(startsWith)).toBe(true);
}

function expectSystemError(err: ReturnType<typeof thrown>, code: string, strerror: string, errno: number): void {
  expectPlainError(err, `${strerror} (${code}): `);
  expect(err.code).toBe(code);
  expect(err.errno).toBe(-errno);
  expect(err.syscall).toBe('epoll_ctl');
}

const E = os.constants.errno;
let epoll: Epoll;
beforeEach(() => {
  epoll = new Epoll(() => {});
});
afterEach(() => {
  if (!epoll.closed) epoll.close();
});

test('a constructor without a callback is an Error with the original message', () => {
  for (const bad of [undefined, null, 1, 'f', {}]) {
    // @ts-expect-error: wrong on purpose
    expectPlainError(thrown(() => new Epoll(bad)), 'First argument to construtor must be a callback');
  }
});

test('add and modify with a non-integer fd or a missing or non-number events are Errors naming the signature', () => {
  const [r] = fds.pipe();
  const calls: [string, () => unknown][] = [
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)(r)],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)()],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)('3', 1)],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)(1.5, 1)],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)(2 ** 31, 1)],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)(r, '1')],
    ['add(int fd, int events)', () => (epoll.add as (...a: unknown[]) => unknown)(r, undefined)],
    ['modify(int fd, int events)', () => (epoll.modify as (...a: unknown[]) => unknown)(r)],
    ['modify(int fd, int events)', () => (epoll.modify as (...a: unknown[]) => unknown)(NaN, 1)],
    ['remove(int fd)', () => (epoll.remove as (...a: unknown[]) => unknown)()],
    ['remove(int fd)', () => (epoll.remove as (...a: unknown[]) => unknown)('0')],
  ];
  for (const [signature, call] of calls) expectPlainError(thrown(call), `incorrect arguments passed to ${signature}`);
});

test('an fd added twice is EEXIST, also from another Epoll of the same thread', () => {
  const [r] = fds.pipe();
  epoll.add(r, Epoll.EPOLLIN);
  expectSystemError(thrown(() => epoll.add(r, Epoll.EPOLLIN)), 'EEXIST', 'File exists', E.EEXIST);
  const other = new Epoll(() => {});
  expectSystemError(thrown(() => other.add(r, Epoll.EPOLLIN)), 'EEXIST', 'File exists', E.EEXIST);
  other.close();
});

test('a closed or negative fd is EBADF for add, modify and remove', () => {
  const [r] = fds.pipe();
  fds.close(r);
  expectSystemError(thrown(() => epoll.add(r, Epoll.EPOLLIN)), 'EBADF', 'Bad file descriptor', E.EBADF);
  expectSystemError(thrown(() => epoll.add(-1, Epoll.EPOLLIN)), 'EBADF', 'Bad file descriptor', E.EBADF);
  expectSystemError(thrown(() => epoll.modify(r, Epoll.EPOLLIN)), 'EBADF', 'Bad file descriptor', E.EBADF);
  expectSystemError(thrown(() => epoll.remove(r)), 'EBADF', 'Bad file descriptor', E.EBADF);
});

test('modify and remove of an open fd that is not registered are ENOENT', () => {
  const [r] = fds.pipe();
  expectSystemError(thrown(() => epoll.modify(r, Epoll.EPOLLIN)), 'ENOENT', 'No such file or directory', E.ENOENT);
  expectSystemError(thrown(() => epoll.remove(r)), 'ENOENT', 'No such file or directory', E.ENOENT);
});

test("modify and remove of another Epoll's fd are ENOENT and leave its registration alone", async () => {
  const [r, w] = fds.pipe();
  const seen: number[] = [];
  const owner = new Epoll((_err, fd) => seen.push(fd));
  owner.add(r, Epoll.EPOLLIN);
  expect(thrown(() => epoll.remove(r)).code).toBe('ENOENT');
  expect(thrown(() => epoll.modify(r, Epoll.EPOLLOUT)).code).toBe('ENOENT');
  fds.write(w, 'x');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(seen.length).toBeGreaterThan(0);
  expect(new Set(seen)).toEqual(new Set([r]));
  owner.close();
});

test('a regular file is EPERM, with what to do instead', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'epoll-')), 'f');
  fs.writeFileSync(file, 'x');
  const fd = fs.openSync(file, 'r');
  try {
    const err = thrown(() => epoll.add(fd, Epoll.EPOLLIN));
    expectSystemError(err, 'EPERM', 'Operation not permitted', E.EPERM);
    expect(err.message).toMatch(/regular files/);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true });
  }
});

test("every method after close() is an Error with the original message; a second close() too", () => {
  const [r] = fds.pipe();
  epoll.add(r, Epoll.EPOLLIN);
  expect(epoll.close()).toBeNull();
  expect(epoll.closed).toBe(true);
  expectPlainError(thrown(() => epoll.add(r, Epoll.EPOLLIN)), "add can't be called after calling close");
  expectPlainError(thrown(() => epoll.modify(r, Epoll.EPOLLIN)), "modify can't be called after calling close");
  expectPlainError(thrown(() => epoll.remove(r)), "remove can't be called after calling close");
  expectPlainError(thrown(() => epoll.close()), "close can't be called more than once");
});

test('the closed check comes before the argument check, as in the original', () => {
  epoll.close();
  // @ts-expect-error: wrong on purpose
  expectPlainError(thrown(() => epoll.add('x')), "add can't be called after calling close");
});

test('a failed add leaves nothing registered: the fd can be added once it is valid', () => {
  const [r] = fds.pipe();
  expect(() => epoll.add(r, Epoll.EPOLLIN)).not.toThrow();
  expect(() => epoll.remove(r).add(r, Epoll.EPOLLIN).remove(r)).not.toThrow();
});
