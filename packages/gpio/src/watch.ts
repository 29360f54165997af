/**
 * @internal
 * One poller per thread (per module instance) for every watched line request: its fd is added
 * with `POLL_READ`, which the kernel signals while edge events are queued. On Node the poller's
 * own fd is watched by libuv (no thread); on Bun and Deno the core's helper thread delivers.
 * The poller keeps the process alive while at least one watched request is `ref()`ed.
 * @module
 */
import { POLL_READ, SocketPoll } from '@socketpoll/core';

/** What the poller hands a ready fd to. */
export interface Watched {
  readonly fd: number;
  onReady(events: number): void;
}

let poll: SocketPoll<Watched> | undefined;
const refed = new Set<Watched>();

function poller(): SocketPoll<Watched> {
  if (poll === undefined || poll.closed) {
    poll = new SocketPoll<Watched>({ maxEvents: 64 });
    poll.start((events) => {
      for (const ev of events) {
        // fd < 0 (or `cancelled`): the request was unwatched earlier in this batch.
        if (ev.fd < 0 || (ev as { cancelled?: boolean }).cancelled) continue;
        ev.data.onReady(ev.events);
      }
    });
    poll.unref();
  }
  return poll;
}

export function watch(target: Watched, ref: boolean): void {
  const p = poller();
  if (!p.has(target.fd)) p.add(target.fd, POLL_READ, target);
  setRef(target, ref);
}

export function unwatch(target: Watched): void {
  refed.delete(target);
  if (poll !== undefined && !poll.closed && poll.has(target.fd)) poll.del(target.fd);
  applyRef();
}

export function setRef(target: Watched, ref: boolean): void {
  if (ref) refed.add(target);
  else refed.delete(target);
  applyRef();
}

function applyRef(): void {
  if (poll === undefined || poll.closed) return;
  if (refed.size > 0) poll.ref();
  else poll.unref();
}

/** The poller, for tests and diagnostics. */
export function sharedPoller(): SocketPoll<Watched> | undefined {
  return poll;
}
