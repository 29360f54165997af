/**
 * The `epoll` package's event bits (the kernel's `EPOLL*` values from `<sys/epoll.h>`) and their
 * translation to and from socketpoll's `POLL_*` flags.
 * @module
 */
import {
  POLL_ERROR,
  POLL_HANGUP,
  POLL_PRIORITY,
  POLL_RDHUP,
  POLL_READ,
  POLL_WRITE,
  type PollMode,
} from '@socketpoll/core';

export const EPOLLIN = 0x1;
export const EPOLLPRI = 0x2;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000;
/** `1 << 30` */
export const EPOLLONESHOT = 0x40000000;
/** `1 << 31`, positive as the original package gives it (2147483648). */
export const EPOLLET = 0x80000000;

/** The bits with a `POLL_*` counterpart: [epoll bit, socketpoll flag]. */
const PAIRS: readonly (readonly [number, number])[] = [
  [EPOLLIN, POLL_READ],
  [EPOLLPRI, POLL_PRIORITY],
  [EPOLLOUT, POLL_WRITE],
  [EPOLLERR, POLL_ERROR],
  [EPOLLHUP, POLL_HANGUP],
  [EPOLLRDHUP, POLL_RDHUP],
];

const POLL_MASK = PAIRS.reduce((m, [, p]) => m | p, 0);

/**
 * `POLL_*` flags (as a wait reports them) to epoll bits, by table: one lookup per event. Bits
 * without an epoll counterpart (`POLL_INVALID` of the poll backend, which comes with
 * `POLL_ERROR`) are dropped.
 */
const TO_EPOLL = new Uint32Array(POLL_MASK + 1);
for (let flags = 0; flags <= POLL_MASK; flags++) {
  let bits = 0;
  for (const [e, p] of PAIRS) if (flags & p) bits |= e;
  TO_EPOLL[flags] = bits;
}

/** The epoll bits for what a wait reported. */
export function toEpollBits(pollFlags: number): number {
  return TO_EPOLL[pollFlags & POLL_MASK];
}

/** The `POLL_*` interest for epoll bits (`events >>> 0`); bits without a counterpart are ignored. */
export function toPollFlags(bits: number): number {
  let flags = 0;
  for (const [e, p] of PAIRS) if (bits & e) flags |= p;
  return flags;
}

/** `EPOLLONESHOT` wins over `EPOLLET`: a one-shot item is reported once per arming either way. */
export function modeOf(bits: number): PollMode {
  if (bits & EPOLLONESHOT) return 'oneshot';
  if (bits & EPOLLET) return 'edge';
  return 'level';
}
