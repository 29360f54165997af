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
import { applyPairCommand, newPairs, type Pair, type PairCommand, pairCommands, readable } from './helpers/model';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 0x7fffffff : Number(process.env.FUZZ_SEED);

type Command = PairCommand | { op: 'wait' };

afterEach(() => fds.closeAll());

function commands(modes: readonly PollMode[]): fc.Arbitrary<Command[]> {
  const command: fc.Arbitrary<Command> = fc.oneof(
    ...pairCommands(modes, [0, POLL_READ, POLL_WRITE, POLL_READ | POLL_WRITE]),
    { weight: 4, arbitrary: fc.record({ op: fc.constant('wait' as const) }) },
  );
  return fc.array(command, { minLength: 1, maxLength: 60 });
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

function run(poll: SocketPoll<string>, cmds: Command[]): void {
  const pairs = newPairs();
  let serial = 0;
  try {
    for (const cmd of cmds) {
      if (cmd.op === 'wait') checkBatch(pairs, poll.wait(0));
      else applyPairCommand(poll, pairs, cmd, () => `d${serial++}`);
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
