/**
 * @internal
 * Delivery for the fds the streams and `once()` watch: a poller serving them is started with one
 * callback that hands each ready fd to the object registered as its data (a {@link ReadyTarget}).
 * One such dispatcher per poller; the default poller is one per thread (per module instance).
 * @module
 */
import { constants as osConstants } from 'node:os';
import { SocketPollStateError, systemError } from './errors';
import type { PollMode } from './flags';
import type { PollEvent, Unpollable } from './events';
import { internals, type ServedPoller } from './internals';

/** @internal What a dispatcher delivers to. */
export interface ReadyTarget {
  /** `events`: what the fd is ready for (`POLL_*`). Must not throw. */
  onReady(events: number): void;
  /** The poller was closed under the target: its registration is gone. */
  onPollClose(): void;
}

interface Claim {
  target: ReadyTarget;
  interest: number;
  /** The `unpollable` option of its registration. */
  unpollable: Unpollable;
  /** Whether this fd keeps the process alive while registered (a stream's `ref()`/`unref()`). */
  refed: boolean;
}

/** @internal */
export class Dispatcher {
  readonly poll: ServedPoller;
  readonly #claims = new Map<number, Claim>();
  #registered = 0;
  #registeredRefed = 0; // registered claims that keep the process alive
  #running = false;
  #warnedForeign = false;
  #dedicated = false; // serves streams and once() only, running or not (defaultPoller())
  readonly #unsubscribe: () => void;

  constructor(poll: ServedPoller) {
    this.poll = poll;
    this.#unsubscribe = internals.onClose(poll, () => this.#pollClosed());
  }

  /** Makes `target` the owner of `fd` on this poller, unregistered until {@link setInterest}. */
  claim(fd: number, target: ReadyTarget, unpollable: Unpollable = 'error'): void {
    const poll = this.poll;
    if (poll.closed) throw new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', 'the given poller is closed; pass an open one');
    if (this.#claims.has(fd) || poll.has(fd)) {
      const err = systemError(-osConstants.errno.EEXIST, 'add', 'SocketPoll_add', poll.backendName, fd);
      err.message = `EEXIST: fd ${fd} is already watched on this poller (by another stream, a once(), or your own add()); use one duplexOf(fd) to read and write the same fd`;
      throw err;
    }
    if (!this.#running) {
      if (poll.started) {
        throw new SocketPollStateError(
          'ERR_SOCKETPOLL_BUSY',
          'this poller is start()ed with your own callback; streams and once() deliver a poller\'s batches themselves: give them a poller of their own (or none: the default one)',
        );
      }
      if (poll.size > this.#registered) {
        throw new SocketPollStateError(
          'ERR_SOCKETPOLL_BUSY',
          `this poller has ${poll.size} fd(s) you add()ed; streams and once() deliver a poller's batches themselves: give them a poller of their own (or none: the default one)`,
        );
      }
      poll.start(this.#onBatch);
      this.#running = true;
      internals.serve(poll, this.accepts);
      this.#updateRef();
    }
    this.#claims.set(fd, { target, interest: 0, unpollable, refed: true });
  }

  /** Whether `fd`, while registered, keeps the process alive (the default) or not. */
  setRef(fd: number, refed: boolean): void {
    const claim = this.#claims.get(fd);
    if (claim === undefined || claim.refed === refed) return;
    claim.refed = refed;
    if (claim.interest !== 0) this.#registeredRefed += refed ? 1 : -1;
    this.#updateRef();
  }

  /**
   * Registers, re-registers or unregisters `fd` so that it reports `interest` (0: unregistered, so a
   * hung-up fd nobody reads does not report `POLL_HANGUP` over and over). Throws the poller's
   * typed errors.
   */
  setInterest(fd: number, interest: number, mode: PollMode = 'level'): void {
    const claim = this.#claims.get(fd);
    if (claim === undefined || this.poll.closed || claim.interest === interest) return;
    if (interest === 0) {
      this.poll.del(fd);
      this.#registered--;
      if (claim.refed) this.#registeredRefed--;
    } else if (claim.interest === 0) {
      this.poll.add(fd, interest, claim.target, { mode, unpollable: claim.unpollable });
      this.#registered++;
      if (claim.refed) this.#registeredRefed++;
    } else {
      this.poll.mod(fd, interest);
    }
    claim.interest = interest;
    this.#updateRef();
  }

  /** Gives `fd` up: unregistered first (`del()`), then forgotten. Idempotent. */
  release(fd: number): void {
    const claim = this.#claims.get(fd);
    if (claim === undefined) return;
    try {
      if (claim.interest !== 0 && !this.poll.closed && this.poll.has(fd)) this.poll.del(fd);
    } finally {
      if (claim.interest !== 0) {
        this.#registered--;
        if (claim.refed) this.#registeredRefed--;
      }
      this.#claims.delete(fd);
      if (this.#claims.size === 0) this.#idle();
      else this.#updateRef();
    }
  }

  /** Whether `fd` is currently registered for some interest. */
  interestOf(fd: number): number {
    return this.#claims.get(fd)?.interest ?? 0;
  }

  /** Makes the poller this dispatcher's for good: an add() of anything else is refused, idle or not. */
  dedicate(): void {
    this.#dedicated = true;
    internals.serve(this.poll, this.accepts);
  }

  /** Which add() calls on the poller are this dispatcher's own: those for a claimed fd and its target. */
  readonly accepts = (fd: number, data: unknown): boolean => {
    const claim = this.#claims.get(fd);
    return claim !== undefined && claim.target === data;
  };

  #idle(): void {
    if (!this.#running) return;
    this.#running = false;
    if (this.poll.closed) return;
    if (!this.#dedicated) internals.serve(this.poll, undefined); // the user's poller again
    this.poll.stop();
    internals.keepAlive(this.poll, true); // the poller is the user's again: their ref()/unref() alone decides
  }

  /**
   * The poller keeps the process alive only while some `ref()`ed fd is registered: a paused or
   * `unref()`ed stream does not hold the process, like a paused or unref()ed socket.
   */
  #updateRef(): void {
    if (this.poll.closed || !this.#running) return;
    internals.keepAlive(this.poll, this.#registeredRefed > 0);
  }

  #pollClosed(): void {
    this.#running = false;
    this.#registered = 0;
    this.#registeredRefed = 0;
    const targets = [...this.#claims.values()].map((c) => c.target);
    this.#claims.clear();
    dispatchers.delete(this.poll);
    this.#unsubscribe();
    for (const target of targets) target.onPollClose();
  }

  readonly #onBatch = (events: PollEvent<unknown>[]): void => {
    let failure: unknown;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev.cancelled) continue; // its fd was deleted earlier in this batch
      const claim = this.#claims.get(ev.fd);
      if (claim === undefined || claim.target !== ev.data) {
        this.#foreign(ev.fd);
        continue;
      }
      try {
        claim.target.onReady(ev.events);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  };

  #foreign(fd: number): void {
    if (this.#warnedForeign) return;
    this.#warnedForeign = true;
    process.emitWarning(
      `fd ${fd} was add()ed to a poller that serves streams or once(): its events are not delivered to you. Use a poller of your own for your own fds.`,
      { code: 'SOCKETPOLL_FOREIGN_FD' },
    );
  }
}

const dispatchers = new WeakMap<ServedPoller, Dispatcher>();

/** @internal The dispatcher of `poll` (made on first use). */
export function dispatcherFor(poll: ServedPoller): Dispatcher {
  let d = dispatchers.get(poll);
  if (d === undefined) {
    d = new Dispatcher(poll);
    dispatchers.set(poll, d);
  }
  return d;
}
