/**
 * Model-based fuzzing: random sequences of add / mod / del / peer write / drain / peer close /
 * reopen / wait on real socketpairs, checked against a reference model after every step.
 *
 * The model knows, per pair, what is registered (interest, mode, data, armed) and what the kernel
 * state is (bytes waiting, peer closed). After each wait(0) it checks what every backend promises:
 * each reported fd is registered (and armed, for oneshot) with its current data; each reported bit
 * is true (READ only with bytes waiting or at end of stream, HANGUP/ERROR only once the peer is
 * gone, never PRIORITY/RDHUP/INVALID); every level or armed oneshot registration whose asked-for
 * condition holds is reported with it; an edge registration with unread data that arrived since
 * its last READ report is reported. Errors are predicted too (EEXIST, ENOENT), and the size.
 *
 * FUZZ_RUNS (default 200 sequences per backend) and FUZZ_SEED replay a run; the seed is printed.
 * The long run: FUZZ_RUNS=2000 npx jest test/model.fuzz.test.ts (see docs/reliability.md).
 */
import fc from 'fast-check';
import {
  POLL_ERROR,
  POLL_HANGUP,
  POLL_READ,
  POLL_WRITE,
  type PollEvent,
  type PollMode,
  SocketPoll,
} from '../src';
import { BACKENDS } from './helpers/backends';
import * as fds from './helpers/fds';

const PAIRS = 5;
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 0x7fffffff : Number(process.env.FUZZ_SEED);

type Command =
  | { op: 'add' | 'mod'; pair: number; events: number; mode: PollMode }
  | { op: 'del' | 'drain' | 'close' | 'reopen' | 'wait'; pair: number }
  | { op: 'write'; pair: number; bytes: number };

interface Pair {
  a: number; // the registered end
  b: number; // the peer
  pending: number; // bytes written by the peer, not yet read from a
  peerClosed: boolean;
  reg?: { events: number; mode: PollMode; data: string; armed: boolean; readEdge: boolean };
}

afterEach(() => fds.closeAll());

function commands(modes: readonly PollMode[]): fc.Arbitrary<Command[]> {
  const pair = fc.integer({ min: 0, max: PAIRS - 1 });
  const interest = fc.constantFrom(0, POLL_READ, POLL_WRITE, POLL_READ | POLL_WRITE);
  const mode = fc.constantFrom(...modes);
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), pair, events: interest, mode }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('mod' as const), pair, events: interest, mode }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), pair }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), pair, bytes: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const), pair }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), pair }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), pair }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('wait' as const), pair }) },
  );
  return fc.array(command, { minLength: 1, maxLength: 60 });
}

function readable(p: Pair): boolean {
  return p.pending > 0 || p.peerClosed;
}

/** Checks one batch against the model and advances it (oneshot disarms, edges seen). */
function checkBatch(pairs: Pair[], batch: PollEvent<string>[]): void {
  const byFd = new Map<number, PollEvent<string>>();
  for (const ev of batch) {
    expect(byFd.has(ev.fd)).toBe(false); // each fd at most once per batch
    byFd.set(ev.fd, ev);
  }
  for (const p of pairs) {
    const ev = byFd.get(p.a);
    byFd.delete(p.a);
    const reg = p.reg;
    if (ev !== undefined) {
      expect(reg).toBeDefined();
      expect(ev.data).toBe(reg!.data);
      if (reg!.mode === 'oneshot') expect(reg!.armed).toBe(true);
      expect(ev.events).not.toBe(0);
      expect(ev.events & ~(POLL_READ | POLL_WRITE | POLL_HANGUP | POLL_ERROR)).toBe(0);
      if (ev.events & POLL_READ) expect((reg!.events & POLL_READ) !== 0 && readable(p)).toBe(true);
      if (ev.events & POLL_WRITE) expect(reg!.events & POLL_WRITE).toBe(POLL_WRITE);
      if (ev.events & (POLL_HANGUP | POLL_ERROR)) expect(p.peerClosed).toBe(true);
    }
    if (reg === undefined) continue;
    const asksRead = (reg.events & POLL_READ) !== 0 && readable(p);
    const asksWrite = (reg.events & POLL_WRITE) !== 0 && !p.peerClosed;
    const got = ev?.events ?? 0;
    if (reg.mode === 'level' || (reg.mode === 'oneshot' && reg.armed)) {
      if (asksRead) expect(got & POLL_READ).toBe(POLL_READ);
      if (asksWrite) expect(got & POLL_WRITE).toBe(POLL_WRITE);
    } else if (reg.mode === 'edge' && reg.readEdge && asksRead) {
      expect(got & POLL_READ).toBe(POLL_READ);
    }
    if (ev !== undefined && reg.mode === 'oneshot') reg.armed = false;
    if (got & POLL_READ) reg.readEdge = false;
  }
  expect([...byFd.keys()]).toEqual([]); // nothing reported for an fd the model does not have
}

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

function run(poll: SocketPoll<string>, cmds: Command[]): void {
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const [a, b] = fds.socketpair();
    pairs.push({ a, b, pending: 0, peerClosed: false });
  }
  let serial = 0;
  try {
    for (const cmd of cmds) {
      const p = pairs[cmd.pair];
      switch (cmd.op) {
        case 'add': {
          if (p.reg) {
            expectCode(() => poll.add(p.a, cmd.events, 'x', { mode: cmd.mode }), 'EEXIST');
            break;
          }
          const data = `d${serial++}`;
          poll.add(p.a, cmd.events, data, { mode: cmd.mode });
          p.reg = { events: cmd.events, mode: cmd.mode, data, armed: true, readEdge: readable(p) };
          break;
        }
        case 'mod': {
          if (!p.reg) {
            expectCode(() => poll.mod(p.a, cmd.events, 'x', { mode: cmd.mode }), 'ENOENT');
            break;
          }
          const data = `d${serial++}`;
          poll.mod(p.a, cmd.events, data, { mode: cmd.mode });
          p.reg = { events: cmd.events, mode: cmd.mode, data, armed: true, readEdge: readable(p) };
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
        case 'wait':
          checkBatch(pairs, poll.wait(0));
          break;
      }
      expect(poll.size).toBe(pairs.filter((q) => q.reg).length);
    }
    checkBatch(pairs, poll.wait(0));
  } finally {
    for (const p of pairs) if (p.reg) poll.del(p.a);
    fds.closeAll();
  }
}

describe.each(BACKENDS)('model-based fuzzing on $label', (backend) => {
  test(`${RUNS} random sequences agree with the model (seed ${SEED})`, () => {
    const poll = new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
    try {
      // eslint-disable-next-line no-console
      console.log(`model fuzz on ${backend.label}: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
      fc.assert(
        fc.property(commands(poll.supportedModes), (cmds) => run(poll, cmds)),
        { seed: SEED, numRuns: RUNS },
      );
      expect(poll.size).toBe(0);
    } finally {
      poll.close();
    }
  });
});
