/**
 * The reference model of the model-based fuzz suites: socketpairs whose registered end and kernel
 * state (bytes waiting, peer closed) the model tracks, the random commands that change them, and
 * applying one command to a poller and the model at once.
 */
import fc from 'fast-check';
import type { PollMode, SocketPoll } from '../../src';
import * as fds from './fds';

export const PAIRS = 5;

export type PairCommand =
  | { op: 'add' | 'mod'; pair: number; events: number; mode: PollMode }
  | { op: 'del' | 'drain' | 'close' | 'reopen'; pair: number }
  | { op: 'write'; pair: number; bytes: number };

export interface Registration {
  events: number;
  mode: PollMode;
  data: string;
  armed: boolean;
  readEdge: boolean;
}

export interface Pair {
  a: number; // the registered end
  b: number; // the peer
  pending: number; // bytes written by the peer, not yet read from a
  peerClosed: boolean;
  reg?: Registration;
}

/** The commands on pairs, with their weights, for fc.oneof. */
export function pairCommands(modes: readonly PollMode[], interest: readonly number[]): fc.WeightedArbitrary<PairCommand>[] {
  const pair = fc.integer({ min: 0, max: PAIRS - 1 });
  const events = fc.constantFrom(...interest);
  const mode = fc.constantFrom(...modes);
  return [
    { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), pair, events, mode }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('mod' as const), pair, events, mode }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), pair }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), pair, bytes: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const), pair }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), pair }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), pair }) },
  ];
}

export function readable(p: Pair): boolean {
  return p.pending > 0 || p.peerClosed;
}

export function newPairs(): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const [a, b] = fds.socketpair();
    pairs.push({ a, b, pending: 0, peerClosed: false });
  }
  return pairs;
}

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

/** Applies cmd to the poller and to the model; `data` names a new registration. Errors are predicted. */
export function applyPairCommand(poll: SocketPoll<string>, pairs: Pair[], cmd: PairCommand, data: () => string): void {
  const p = pairs[cmd.pair];
  switch (cmd.op) {
    case 'add':
    case 'mod': {
      if (cmd.op === 'add' ? p.reg !== undefined : p.reg === undefined) {
        expectCode(() => poll[cmd.op](p.a, cmd.events, 'x', { mode: cmd.mode }), cmd.op === 'add' ? 'EEXIST' : 'ENOENT');
        break;
      }
      const d = data();
      poll[cmd.op](p.a, cmd.events, d, { mode: cmd.mode });
      p.reg = { events: cmd.events, mode: cmd.mode, data: d, armed: true, readEdge: readable(p) };
      break;
    }
    case 'del':
      if (!p.reg) {
        expectCode(() => poll.del(p.a), 'ENOENT');
        break;
      }
      poll.del(p.a);
      p.reg = undefined;
      break;
    case 'write':
      if (p.peerClosed) break;
      expect(fds.write(p.b, Buffer.alloc(cmd.bytes, 'w'))).toBe(cmd.bytes);
      p.pending += cmd.bytes;
      if (p.reg) p.reg.readEdge = true;
      break;
    case 'drain':
      fds.drain(p.a);
      p.pending = 0;
      break;
    case 'close':
      if (p.peerClosed) break;
      fds.close(p.b);
      p.peerClosed = true;
      if (p.reg) p.reg.readEdge = true;
      break;
    case 'reopen': {
      if (p.reg) poll.del(p.a);
      fds.close(p.a);
      if (!p.peerClosed) fds.close(p.b);
      const [a, b] = fds.socketpair();
      pairs[cmd.pair] = { a, b, pending: 0, peerClosed: false };
      break;
    }
  }
  expect(poll.size).toBe(pairs.filter((q) => q.reg).length);
}
