/** The shape of the API: the exports, the eight constants and their values, chaining, `closed`. */
import * as epollModule from '../src';
import { Epoll } from '../src';
import { fds } from './helpers';

afterEach(() => fds.closeAll());

test('the constants have the kernel values and are read-only properties of Epoll, as in the original', () => {
  const expected = {
    EPOLLIN: 0x1,
    EPOLLPRI: 0x2,
    EPOLLOUT: 0x4,
    EPOLLERR: 0x8,
    EPOLLHUP: 0x10,
    EPOLLRDHUP: 0x2000,
    EPOLLONESHOT: 1 << 30,
    EPOLLET: 2 ** 31,
  };
  for (const [name, value] of Object.entries(expected)) {
    expect(Object.getOwnPropertyDescriptor(Epoll, name)).toEqual({ value, writable: false, enumerable: true, configurable: true });
  }
  expect(Epoll.EPOLLET).toBe(2147483648); // positive, as the original gives it on x64
});

test('the module exports Epoll (the runtime names: Epoll and an internal test hook)', () => {
  expect(Object.keys(epollModule).sort()).toEqual(['Epoll', 'setPollerOptions']);
  expect(typeof Epoll).toBe('function');
  expect(Object.getOwnPropertyNames(Epoll.prototype).sort()).toEqual(['add', 'close', 'closed', 'constructor', 'modify', 'remove']);
});

test('add, modify and remove return the Epoll; close returns null; closed follows close()', () => {
  const [r] = fds.pipe();
  const epoll = new Epoll(() => {});
  expect(epoll.closed).toBe(false);
  expect(epoll.add(r, Epoll.EPOLLIN)).toBe(epoll);
  expect(epoll.modify(r, Epoll.EPOLLOUT)).toBe(epoll);
  expect(epoll.remove(r)).toBe(epoll);
  expect(epoll.close()).toBeNull();
  expect(epoll.closed).toBe(true);
});

test('add and modify accept every event bit alone, EPOLLET as the negative int32 ARM code passes too', () => {
  const [r] = fds.pipe();
  const epoll = new Epoll(() => {});
  const bits = [Epoll.EPOLLIN, Epoll.EPOLLOUT, Epoll.EPOLLRDHUP, Epoll.EPOLLPRI, Epoll.EPOLLERR, Epoll.EPOLLHUP, Epoll.EPOLLET, Epoll.EPOLLONESHOT, Epoll.EPOLLET | 0];
  for (const b of bits) epoll.add(r, b).remove(r);
  epoll.add(r, Epoll.EPOLLONESHOT);
  for (const b of bits) epoll.modify(r, b);
  epoll.remove(r).close();
});
