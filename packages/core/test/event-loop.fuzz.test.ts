/**
 * Model-based fuzzing of event-loop delivery: random sequences of the model's commands on
 * socketpairs (helpers/model.ts) mixed with start(), stop() and loop turns, on every backend and on
 * both delivery paths (uv_poll on the backend's fd where it has one, and the helper thread, which
 * holds a batch it found for the next loop turn), ref()'d and unref()'d.
 *
 * A batch is collected up to one loop turn before it is delivered, and other callbacks may run in
 * between, so each batch is checked against what held at some time since the previous batch, since
 * start(), and since the fd's last add() or mod(): nothing the kernel reported before one of those
 * is delivered after it. What it checks: no callback while stopped; each fd at most once per
 * batch; each reported fd is registered now with its current data; a oneshot registration was
 * armed; READ only if READ was asked while bytes waited or the peer was
 * gone, WRITE only if asked, HANGUP/ERROR only once the peer is gone. At the end of a sequence, a
 * started poller reports every level registration whose asked-for condition holds.
 *
 * The batches are consumed by a start() callback, or by a `for await` loop over events() whose
 * body runs after the batch's delivery (in promise continuations): a batch may only report
 * readiness that held after the consumer finished with the previous one (for events(): after the
 * body asked for the next). The consumer reacts to each event as a user's would: it reads the fd
 * dry, del()s another registered fd (whose later events in the same batch must then be cancelled),
 * mod()s the fd, or stops, each at random. once() has a model of its own below: one readiness of
 * one fd, awaited again and again, each reporting only readiness that held after it was called.
 * FUZZ_RUNS (default 60 sequences per backend and path) and FUZZ_SEED replay a run.
 */
import fc from 'fast-check';
import { POLL_ERROR, POLL_HANGUP, POLL_READ, POLL_WRITE, type PollEvent, type PollMode, SocketPoll } from '../src';
import { BACKENDS, type TestBackend } from './helpers/backends';
import * as fds from './helpers/fds';
import { applyPairCommand, newPairs, type Pair, type PairCommand, pairCommands, readable } from './helpers/model';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 0x7fffffff : Number(process.env.FUZZ_SEED);

type Command = PairCommand | { op: 'start' | 'stop' | 'ref' | 'unref' } | { op: 'turn'; timer: boolean };

/** What the batch callback does after an event, as a user's would: nothing, read the fd dry,
 * del() another registered fd (its later events in the batch must be cancelled), mod() this fd
 * (new data; re-arms a oneshot), or stop(). */
type Reaction = 'none' | 'drain' | 'delOther' | 'modThis' | 'stop';

interface Scenario {
  cmds: Command[];
  reactions: Reaction[]; // used in turn, one per event delivered
  consumer: 'start' | 'events';
}

function scenarios(modes: readonly PollMode[]): fc.Arbitrary<Scenario> {
  const command: fc.Arbitrary<Command> = fc.oneof(
    ...pairCommands(modes, [0, POLL_READ, POLL_WRITE, POLL_READ | POLL_WRITE]),
    { weight: 2, arbitrary: fc.record({ op: fc.constant('start' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('stop' as const) }) },
    // An unref()'d poller delivers the same batches (the test's timers keep the loop alive); on the
    // helper-thread path it hands every batch back to the thread instead of holding the next.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('ref' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unref' as const) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('turn' as const), timer: fc.boolean() }) },
  );
  const reaction = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Reaction>('none') },
    { weight: 4, arbitrary: fc.constant<Reaction>('drain') },
    { weight: 1, arbitrary: fc.constant<Reaction>('delOther') },
    { weight: 1, arbitrary: fc.constant<Reaction>('modThis') },
    { weight: 1, arbitrary: fc.constant<Reaction>('stop') },
  );
  return fc.record({
    cmds: fc.array(command, { minLength: 5, maxLength: 40, size: 'max' }),
    reactions: fc.array(reaction, { minLength: 1, maxLength: 8 }),
    consumer: fc.constantFrom<'start' | 'events'>('start', 'events'),
  });
}

/** What a registration has been since the last batch (or start()): any of it may be reported. */
interface Since {
  data: Set<string>;
  read: boolean;
  write: boolean;
  armed: boolean;
}

const turn = (timer: boolean) => new Promise<void>((r) => (timer ? setTimeout(r, 1) : setImmediate(r)));

async function run(poll: SocketPoll<string>, { cmds, reactions, consumer }: Scenario): Promise<void> {
  const pairs = newPairs();
  const since = new Map<number, Since>(); // by pair index; dropped when its registration ends
  const failures: string[] = [];
  let started = false;
  let serial = 0;
  let seenAtEnd: Set<number> | undefined; // fds reported in batches after the last command
  let reacted = 0;

  /** Adds the present state to what may be reported; `reset`: forget the past (a batch, start()). */
  const observe = (reset: boolean) => {
    pairs.forEach((p, i) => {
      const reg = p.reg;
      if (!reg) return void since.delete(i);
      let s = since.get(i);
      if (!s || reset) {
        s = { data: new Set(), read: false, write: false, armed: false };
        since.set(i, s);
      }
      s.data.add(reg.data);
      if (reg.events & POLL_READ && readable(p)) s.read = true;
      if (reg.events & POLL_WRITE) s.write = true;
      if (reg.armed) s.armed = true;
    });
  };

  const onBatch = (batch: PollEvent<string>[]) => {
    if (!started) failures.push(`a batch while stopped: ${JSON.stringify(batch)}`);
    const seen = new Set<number>();
    for (const ev of batch) {
      if (seen.has(ev.fd)) failures.push(`fd ${ev.fd} twice in one batch`);
      seen.add(ev.fd);
      seenAtEnd?.add(ev.fd);
      const i = pairs.findIndex((p) => p.a === ev.fd);
      const p = pairs[i];
      const s = since.get(i);
      if (!p?.reg || !s) {
        failures.push(`fd ${ev.fd} reported, not registered (${ev.data})`);
        continue;
      }
      const what = `fd ${ev.fd} ${JSON.stringify(ev)}, registration ${JSON.stringify(p.reg)}, since ${JSON.stringify({ ...s, data: [...s.data] })}`;
      if (!s.data.has(ev.data)) failures.push(`data not the registration's: ${what}`);
      if (ev.events === 0 || ev.events & ~(POLL_READ | POLL_WRITE | POLL_HANGUP | POLL_ERROR)) failures.push(`bits: ${what}`);
      if (ev.events & POLL_READ && !s.read) failures.push(`READ never true since: ${what}`);
      if (ev.events & POLL_WRITE && !s.write) failures.push(`WRITE never asked since: ${what}`);
      if (ev.events & (POLL_HANGUP | POLL_ERROR) && !p.peerClosed) failures.push(`HANGUP/ERROR with the peer open: ${what}`);
      if (p.reg.mode === 'oneshot' && !s.armed) failures.push(`oneshot not armed: ${what}`);
      if (p.reg.mode === 'oneshot') p.reg.armed = false;
    }
    // Then react to each event in order, as the user's loop would.
    const reported = batch.map((ev) => ev.fd);
    const deleted = new Set<number>();
    batch.forEach((ev, k) => {
      if (deleted.has(reported[k])) {
        if (ev.events !== 0 || !ev.cancelled) failures.push(`fd ${reported[k]} del()'d earlier in its batch, still reported: ${JSON.stringify(ev)}`);
        return;
      }
      const i = pairs.findIndex((p) => p.a === ev.fd);
      if (i < 0 || !pairs[i].reg) return;
      const p = pairs[i];
      switch (seenAtEnd ? 'none' : reactions[reacted++ % reactions.length]) { // the end's check changes nothing
        case 'drain':
          if (ev.events & POLL_READ) {
            fds.drain(p.a);
            p.pending = 0;
          }
          break;
        case 'delOther': {
          const j = pairs.findIndex((q, n) => n !== i && q.reg !== undefined);
          if (j < 0) break;
          deleted.add(pairs[j].a);
          applyPairCommand(poll, pairs, { op: 'del', pair: j }, () => '');
          since.delete(j);
          break;
        }
        case 'modThis':
          applyPairCommand(poll, pairs, { op: 'mod', pair: i, events: p.reg.events, mode: p.reg.mode }, () => `d${serial++}`);
          since.delete(i);
          break;
        case 'stop':
          stopDelivery();
          break;
      }
    });
    observe(true); // the consumer is done with this batch (events(): the body asks for the next now)
  };

  // events(): the loop body runs when the iterator hands the batch out, after its delivery.
  let iterator: AsyncIterableIterator<PollEvent<string>[]> | undefined;
  let loop: Promise<void> | undefined;
  const startDelivery = () => {
    if (consumer === 'start') return void poll.start(onBatch);
    if (iterator) return;
    const it = poll.events();
    iterator = it;
    loop = (async () => {
      for await (const batch of it) {
        onBatch(batch);
        if (iterator !== it) break; // stopped in the body
      }
    })().catch((err) => void failures.push(`events() loop: ${String(err)}`));
  };
  function stopDelivery(): void {
    started = false;
    if (consumer === 'start') return void poll.stop();
    const it = iterator;
    iterator = undefined;
    void it?.return?.();
  }

  try {
    for (const cmd of cmds) {
      switch (cmd.op) {
        case 'start':
          if (!started) observe(true); // nothing collected before a stop() may come after
          started = true;
          startDelivery();
          break;
        case 'stop':
          stopDelivery();
          await loop; // an events() loop ends at once
          break;
        case 'turn':
          await turn(cmd.timer);
          break;
        case 'ref':
        case 'unref':
          poll[cmd.op]();
          break;
        default: {
          const before = pairs[cmd.pair].reg;
          applyPairCommand(poll, pairs, cmd, () => `d${serial++}`);
          // Nothing reported before an add() or mod() is delivered after it: the registration's
          // facts start again.
          if (pairs[cmd.pair].reg !== before) since.delete(cmd.pair);
        }
      }
      observe(false);
      expect(failures).toEqual([]);
    }
    // Completeness: every level registration whose asked-for condition holds is reported.
    if (started) {
      const due = pairs.filter((p) => p.reg?.mode === 'level' && (((p.reg.events & POLL_READ) !== 0 && readable(p)) || ((p.reg.events & POLL_WRITE) !== 0 && !p.peerClosed)));
      seenAtEnd = new Set();
      const until = Date.now() + 2000;
      while (due.some((p) => !seenAtEnd!.has(p.a)) && Date.now() < until) await turn(true);
      expect(due.filter((p) => !seenAtEnd!.has(p.a)).map((p) => ({ fd: p.a, reg: p.reg }))).toEqual([]);
    }
    expect(failures).toEqual([]);
  } finally {
    stopDelivery();
    await loop;
    poll.stop();
    poll.ref();
    for (const p of pairs) if (p.reg) poll.del(p.a);
    fds.closeAll();
  }
}

const PATHS = ['uvpoll', 'thread'] as const;

/** A poller of `backend` on delivery `path`, or undefined where the backend has no such path. */
function pollerOn(backend: TestBackend, path: (typeof PATHS)[number]): SocketPoll<string> | undefined {
  const saved = process.env.SOCKETPOLL_DELIVERY;
  process.env.SOCKETPOLL_DELIVERY = path;
  try {
    return new SocketPoll<string>({ ...backend.options, maxEvents: 16 });
  } catch (err) {
    if (path !== 'uvpoll') throw err;
    return undefined;
  } finally {
    if (saved === undefined) delete process.env.SOCKETPOLL_DELIVERY;
    else process.env.SOCKETPOLL_DELIVERY = saved;
  }
}

describe.each(BACKENDS)('event-loop model fuzzing on $label', (backend) => {
  test.each(PATHS)(`%s delivery: ${RUNS} random sequences agree with the model (seed ${SEED})`, async (path) => {
    const poll = pollerOn(backend, path);
    if (poll === undefined || poll.delivery !== path) {
      // eslint-disable-next-line no-console
      console.log(`event-loop fuzz on ${backend.label}: skipped for ${path} delivery, which this backend does not use (it has no fd to watch)`);
      poll?.close();
      return;
    }
    try {
      // eslint-disable-next-line no-console
      console.log(`event-loop fuzz on ${backend.label}, ${path}: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
      const p = poll;
      await fc.assert(fc.asyncProperty(scenarios(p.supportedModes), (s) => run(p, s)), { seed: SEED, numRuns: RUNS });
      expect(p.size).toBe(0);
    } finally {
      poll.close();
    }
  }, 120_000);
});

/**
 * once(): one readiness of one fd, awaited again and again while bytes arrive and are read (by the
 * awaiting code, as a user's would, or by other code meanwhile). Each resolution may only report
 * readiness that held at some time after that once() was called, and a once() on an fd with bytes
 * waiting resolves.
 */
type OnceCommand = { op: 'write' | 'drain' | 'once' } | { op: 'turn'; timer: boolean };

async function runOnce(poll: SocketPoll<string>, cmds: OnceCommand[], drainAfter: boolean[]): Promise<void> {
  const [a, b] = fds.socketpair();
  const failures: string[] = [];
  let waiting = 0; // bytes waiting in a
  let pending: { readSince: boolean; settled: Promise<void> } | undefined;
  let resolutions = 0;
  try {
    for (const cmd of cmds) {
      if (cmd.op === 'write') {
        fds.write(b, 'x');
        waiting++;
        if (pending) pending.readSince = true;
      } else if (cmd.op === 'drain') {
        fds.drain(a);
        waiting = 0;
      } else if (cmd.op === 'turn') {
        await turn(cmd.timer);
      } else if (!pending) {
        const p: { readSince: boolean; settled: Promise<void> } = { readSince: waiting > 0, settled: Promise.resolve() };
        p.settled = poll.once(a, POLL_READ, { timeout: 3000 }).then((ready) => {
          if (ready & POLL_READ && !p.readSince) failures.push(`once() #${resolutions} reported READ for bytes drained before it was called`);
          if (drainAfter[resolutions++ % drainAfter.length]) {
            fds.drain(a);
            waiting = 0;
          }
          pending = undefined;
        });
        pending = p;
      }
      expect(failures).toEqual([]);
    }
    if (pending && waiting > 0) await pending.settled; // completeness: bytes are waiting, it resolves
    expect(failures).toEqual([]);
  } finally {
    if (pending && waiting === 0) {
      fds.write(b, 'x'); // let the last once() end
      await pending.settled;
    }
    fds.closeAll();
  }
}

describe.each(BACKENDS)('once() model fuzzing on $label', (backend) => {
  test.each(PATHS)(`%s delivery: ${RUNS} random sequences of once() agree with the model (seed ${SEED})`, async (path) => {
    const poll = pollerOn(backend, path);
    if (poll === undefined || poll.delivery !== path) {
      // eslint-disable-next-line no-console
      console.log(`once() fuzz on ${backend.label}: skipped for ${path} delivery, which this backend does not use (it has no fd to watch)`);
      poll?.close();
      return;
    }
    const command: fc.Arbitrary<OnceCommand> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('once' as const) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('turn' as const), timer: fc.boolean() }) },
    );
    const p = poll;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), (cmds, drains) =>
          runOnce(p, cmds, drains),
        ),
        { seed: SEED, numRuns: RUNS },
      );
    } finally {
      p.close();
    }
  }, 120_000);
});
