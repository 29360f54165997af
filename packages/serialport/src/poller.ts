/**
 * @internal
 * The poller the ports wait on: one per thread (module instance), created on the first open, or one
 * the caller passes as the `poll` open option. A poller serving ports is `start()`ed by this
 * package with its own callback, which hands each ready fd to its port; it keeps the process alive
 * only while some port has a read or write in progress, and is stopped again when its last port closes
 * (a caller's poller is then theirs again, `ref()`ed as by default).
 * @module
 */
import { type PollEvent, SocketPoll, SocketPollStateError } from '@socketpoll/core';

/** @internal What a poller delivers to. */
export interface ReadyPort {
  /** `events`: the `POLL_*` bits the fd is ready for. Must not throw. */
  onReady(events: number): void;
}

/** @internal One poller's ports. */
export class PortPoller {
  readonly poll: SocketPoll<ReadyPort>;
  readonly #owned: boolean;
  readonly #interest = new Map<number, number>();
  readonly #waiting = new Set<number>(); // fds with a read or write waiting: they keep the process alive
  #ports = 0;
  #running = false;

  constructor(poll: SocketPoll<ReadyPort>, owned: boolean) {
    this.poll = poll;
    this.#owned = owned;
  }

  /**
   * Throws when this poller cannot serve ports: closed, or started by someone else, or holding fds
   * its owner `add()`ed (its batches would come to this package's callback).
   */
  check(): void {
    const poll = this.poll;
    if (poll.closed) throw new SocketPollStateError('ERR_SOCKETPOLL_CLOSED', "the 'poll' option is a closed SocketPoll; pass an open one (or none)");
    if (this.#running) return;
    if (poll.started) {
      throw new SocketPollStateError(
        'ERR_SOCKETPOLL_BUSY',
        "the 'poll' option is a SocketPoll already start()ed with a callback of its own; the serial ports deliver a poller's batches themselves: pass a poller that is not started (or none)",
      );
    }
    if (poll.size > 0) {
      throw new SocketPollStateError(
        'ERR_SOCKETPOLL_BUSY',
        `the 'poll' option is a SocketPoll with ${poll.size} fd(s) add()ed by its owner; the serial ports deliver a poller's batches themselves: pass a poller of their own (or none)`,
      );
    }
  }

  /** A port opens on this poller: started if it was idle. */
  attach(): void {
    this.check();
    this.#ports++;
    if (!this.#running) {
      this.poll.start(this.#onBatch);
      this.#running = true;
      this.#updateRef();
    }
  }

  /**
   * `fd` waits for `interest` (`POLL_READ | POLL_WRITE`; 0: not at all, unregistered). `waiting`:
   * a read or write is in progress, so the process is kept alive (a lingering registration is not).
   */
  setInterest(fd: number, interest: number, port: ReadyPort, waiting: boolean): void {
    if (this.poll.closed) return;
    const before = this.#interest.get(fd) ?? 0;
    if (before !== interest) {
      if (interest === 0) {
        this.poll.del(fd);
        this.#interest.delete(fd);
      } else if (before === 0) {
        this.poll.add(fd, interest, port);
        this.#interest.set(fd, interest);
      } else {
        this.poll.mod(fd, interest);
        this.#interest.set(fd, interest);
      }
    }
    if (waiting && interest !== 0) this.#waiting.add(fd);
    else this.#waiting.delete(fd);
    this.#updateRef();
  }

  /** A port closes: its fd unregistered (before it is closed), the poller stopped if it was the last. */
  detach(fd: number): void {
    this.#waiting.delete(fd);
    if ((this.#interest.get(fd) ?? 0) !== 0) {
      this.#interest.delete(fd);
      if (!this.poll.closed && this.poll.has(fd)) this.poll.del(fd);
    }
    this.#ports--;
    if (this.#ports > 0) {
      this.#updateRef();
      return;
    }
    this.#running = false;
    if (this.poll.closed) return;
    this.poll.stop();
    if (!this.#owned) this.poll.ref();
  }

  #updateRef(): void {
    if (this.poll.closed || !this.#running) return;
    if (this.#waiting.size > 0) this.poll.ref();
    else this.poll.unref();
  }

  readonly #onBatch = (events: PollEvent<ReadyPort>[]): void => {
    for (const ev of events) {
      if ((ev as { cancelled?: boolean }).cancelled || ev.fd < 0 || ev.data === undefined) continue;
      ev.data.onReady(ev.events);
    }
  };
}

let shared: PortPoller | undefined;
const given = new WeakMap<SocketPoll<any>, PortPoller>();

/** @internal The PortPoller for the `poll` open option, or this thread's shared one. */
export function portPoller(poll: SocketPoll<any> | undefined): PortPoller {
  if (poll !== undefined) {
    let p = given.get(poll);
    if (p === undefined) {
      p = new PortPoller(poll, false);
      given.set(poll, p);
    }
    return p;
  }
  // Held here for the thread's lifetime: a stopped poller nobody references would be collected.
  if (shared === undefined || shared.poll.closed) shared = new PortPoller(new SocketPoll<ReadyPort>(), true);
  return shared;
}
