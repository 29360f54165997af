/**
 * @internal
 * `poll.events()` / `for await (const events of poll)`: batches as an async iterator over
 * `start()`. Delivery pauses while the consumer is busy, so at most one batch is held, and a batch
 * reports only readiness that held after the consumer asked for it (or a one-time event).
 * @module
 */
import { abortError } from './abort';
import { SocketPollStateError } from './errors';
import type { PollEvent } from './events';
import { internals, type ServedPoller } from './internals';
import { checkOptions, checkSignal } from './validators';

/**
 * Options for {@link SocketPoll.events}.
 *
 * ```ts
 * const ac = new AbortController();
 * for await (const events of poll.events({ signal: ac.signal })) if (events.length > 0) ac.abort();
 * ```
 */
export interface EventsOptions {
  /** Aborting it ends the iteration: the pending (or next) step rejects with an {@link AbortError}. */
  signal?: AbortSignal;
}

type Step<T> = IteratorResult<PollEvent<T>[], undefined>;

/** @internal */
export function iterateEvents<T>(poll: ServedPoller<T>, options: EventsOptions | undefined): AsyncIterableIterator<PollEvent<T>[]> {
  const signal = checkSignal(checkOptions<EventsOptions>(options).signal);
  if (poll.started) {
    throw new SocketPollStateError(
      'ERR_SOCKETPOLL_BUSY',
      'this poller already delivers its batches (start(), another events() iterator, or streams): one consumer at a time; stop() or break out of the other first',
    );
  }
  let held: PollEvent<T>[] | undefined; // delivered while nobody waited (delivery is paused meanwhile)
  let waiter: { resolve(step: Step<T>): void; reject(err: Error): void } | undefined;
  let failure: Error | undefined; // the abort, reported by the pending or next step
  let finished = false;
  const done: Step<T> = { value: undefined, done: true };

  const onBatch = (batch: PollEvent<T>[]): void => {
    const w = waiter;
    if (w === undefined) {
      held = batch; // pause: the consumer is busy with the previous batch
      poll.stop();
      return;
    }
    // Hand it out after start()'s dispatch has returned, so that del() in the loop body cancels
    // the entries of this batch (the stale-event rule), as it does in a start() callback.
    queueMicrotask(() => handOut(batch));
  };

  /**
   * Gives `batch` to the waiting consumer as it holds now: it may have been collected before the
   * consumer asked (the body drained the fd meanwhile); what no longer holds is left out, and a
   * batch left empty is not handed out (delivery goes on).
   */
  const handOut = (batch: PollEvent<T>[]): void => {
    const w = waiter;
    if (finished) return;
    if (w === undefined) {
      // Another batch was handed out first (two deliveries before this microtask): keep this one.
      held = batch;
      if (!poll.closed) poll.stop();
      return;
    }
    const fresh = poll.closed ? batch : internals.refresh(poll, batch);
    if (fresh.length === 0) {
      if (!poll.closed && !poll.started) poll.start(onBatch as (events: PollEvent<T>[]) => void);
      return;
    }
    waiter = undefined;
    if (!poll.closed) internals.setCurrent(poll, fresh);
    w.resolve({ value: fresh, done: false });
  };

  const finish = (): void => {
    if (finished) return;
    finished = true;
    held = undefined;
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
    if (!poll.closed) {
      internals.setCurrent(poll, undefined);
      poll.stop();
    }
  };
  const onAbort = (): void => {
    if (finished) return;
    const err = abortError(signal as AbortSignal);
    finish();
    const w = waiter;
    waiter = undefined;
    if (w) w.reject(err);
    else failure = err;
  };
  const unsubscribe = internals.onClose(poll, () => {
    finish();
    const w = waiter;
    waiter = undefined;
    w?.resolve(done);
  });

  if (signal?.aborted) {
    finished = true;
    unsubscribe();
    failure = abortError(signal);
  } else {
    poll.start(onBatch as (events: PollEvent<T>[]) => void);
    signal?.addEventListener('abort', onAbort, { once: true });
  }

  const iterator: AsyncIterableIterator<PollEvent<T>[]> = {
    next(): Promise<Step<T>> {
      if (failure) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (finished) return Promise.resolve(done);
      if (waiter) {
        return Promise.reject(
          new SocketPollStateError('ERR_SOCKETPOLL_BUSY', 'next() was called again before the previous one settled: one consumer at a time'),
        );
      }
      const batch = held;
      held = undefined;
      if (!poll.closed) {
        internals.setCurrent(poll, undefined);
        if (!poll.started) poll.start(onBatch as (events: PollEvent<T>[]) => void); // resume after a pause
      }
      const step = new Promise<Step<T>>((resolve, reject) => {
        waiter = { resolve, reject };
      });
      if (batch) handOut(batch); // what still holds of the batch that came while the body ran
      return step;
    },
    return(): Promise<Step<T>> {
      finish();
      const w = waiter;
      waiter = undefined;
      w?.resolve(done);
      return Promise.resolve(done);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
