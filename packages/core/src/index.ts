/**
 * `@socketpoll/core` — readiness notification on any file descriptor for Node.js, over epoll
 * (Linux), kqueue (macOS/BSD) or poll (any POSIX system), behind one API.
 *
 * ```ts
 * import { SocketPoll, POLL_READ } from '@socketpoll/core';
 * const poll = new SocketPoll();
 * poll.add(fd, POLL_READ, 'my fifo');
 * poll.start((events) => {
 *   console.log(events);                       // [{ fd, events: POLL_READ, data: 'my fifo' }]
 *   poll.close();                              // or read the fd: level mode reports it until drained
 * });
 * ```
 * @packageDocumentation
 */
export {
  POLL_READ,
  POLL_WRITE,
  POLL_ERROR,
  POLL_HANGUP,
  POLL_PRIORITY,
  POLL_RDHUP,
  POLL_INVALID,
  POLL_TIMER,
  POLL_EXIT,
  POLL_ALL,
  type PollMode,
  type BackendName,
} from './flags';
export { SocketPoll, type SocketPollOptions, type WaitAsyncOptions } from './socketpoll';
export { type RegisterOptions, type Unpollable, type PollEvent, type BatchCallback, type WakeupHandle } from './events';
export { PollSource, type SourceKind, type TimerOptions } from './sources';
export { type EventsOptions } from './iterate';
export { type OnceOptions } from './once';
export { AbortError, TimeoutError } from './abort';
export { defaultPoller } from './default-poller';
export {
  readableFrom,
  writableTo,
  duplexOf,
  FdReadable,
  FdWritable,
  FdDuplex,
  type FdStreamOptions,
  type DuplexOfOptions,
} from './streams';
export { wakeup } from './wakeup';
export { type DeliveryPath } from './delivery';
export { currentRuntime, type RuntimeInfo } from './runtime';
export {
  SocketPollError,
  SocketPollStateError,
  BackendLoadError,
  type BackendAttempt,
  InvalidArgTypeError,
  InvalidArgValueError,
  OutOfRangeError,
} from './errors';
export { loadBackend, availableBackends, platformPackage, type LoadedBackend } from './loader';
export { type PrebuiltPackage } from './platforms';
