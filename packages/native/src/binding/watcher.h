// watcher.h — how a poller's events reach the JS event loop (start()/waitAsync()).
//
// Two implementations; the binding picks one per poller on its first start():
//  - FdWatcher (fd_watcher.cc): the backend has a pollable fd (the epoll or kqueue fd itself) and
//    the runtime has a working libuv (Node, Electron); a uv_poll_t on the loop watches the fd and,
//    when it is readable, the JS thread calls SocketPoll_wait(poll, .., 0). No extra thread, no
//    per-event thread hop. Its uv_* functions are resolved at run time (see FdWatcherAvailable).
//  - ThreadWatcher (thread_watcher.cc): any backend on any Node-API runtime (the only path for
//    poll, which has no fd, and for Bun and Deno); a helper thread blocks in SocketPoll_wait() and
//    hands each batch to the JS thread through a napi_threadsafe_function, then waits until the JS
//    thread has dispatched it before polling again (so level-triggered readiness the JS side is
//    about to drain is not reported twice). A loop turn after each batch (Sink::ScheduleResume),
//    once what the batch set off has run, the JS thread itself looks for the next one with a
//    non-blocking wait; while it finds one, it delivers it there and the helper thread stays
//    parked, so a busy poller pays no thread switch per batch.
//
// Both deliver through the same Sink on the JS thread, one call per batch.
#ifndef SOCKETPOLL_WATCHER_H
#define SOCKETPOLL_WATCHER_H

#include <node_api.h>

#include <cstdint>

#include "poll/SocketPoll.h"

namespace socketpoll {

// Receives batches on the JS thread.
class Sink {
 public:
  virtual ~Sink() = default;
  // events[0..count) as SocketPoll_wait returned them (entries with fd == -1 are skipped by the
  // sink). count == 0: a wakeup or a wait that timed out. count < 0: SocketPoll_wait failed with
  // that negative errno (the watcher stays started; the sink decides).
  virtual void OnBatch(SocketEvent_T* events, int count) = 0;
  // Asks for the watcher's Resume(ticket) to be called on the JS thread on a later loop turn
  // (through the JS side's setImmediate). false: it cannot be, and the watcher must not count on it.
  virtual bool ScheduleResume(uint32_t ticket) = 0;
};

class Watcher {
 public:
  virtual ~Watcher() = default;
  // Begins delivering batches to the sink. 0 or a negative errno.
  virtual int Start() = 0;
  // Stops delivering; no OnBatch call happens after Stop() returns. Idempotent.
  virtual void Stop() = 0;
  // Whether an active watcher keeps the loop alive (like timers and sockets). Default: ref'd.
  virtual void Ref() = 0;
  virtual void Unref() = 0;
  // Stops, releases every loop handle (uv_close, or the thread-safe function) and deletes this
  // object once the loop has let them go, then calls on_closed(arg) (if not null). That may
  // happen later from a loop callback, or before Close() returns when the environment had already
  // released the handle (teardown). The poller must stay alive until Close() is called;
  // SocketPoll_free() may be called right after Close() returns (a helper thread has been joined
  // by then). The sink is not called after Close().
  virtual void Close(void (*on_closed)(void* arg), void* arg) = 0;
  // The JS thread, on the loop turn the sink's ScheduleResume(ticket) asked for: looks for the next
  // batch and delivers it, if the look scheduled under that ticket is still wanted (Stop() drops
  // it; an immediate left from before a Stop() carries an older ticket). A no-op for watchers that
  // never ask.
  virtual void Resume(uint32_t /*ticket*/) {}
};

// Whether this process exports the libuv functions FdWatcher needs (looked up once with dlsym).
// They exist in Node and Electron; Bun exports stubs that abort the process, so the caller decides
// by runtime as well (@socketpoll/core's delivery choice), not by this alone.
bool FdWatcherAvailable();

// Both return nullptr and set *error (a negative errno) on failure; ENOTSUP from NewFdWatcher:
// the backend has no fd, or libuv is not available.
Watcher* NewFdWatcher(napi_env env, SocketPoll_T poll, Sink* sink, int* error);
Watcher* NewThreadWatcher(napi_env env, SocketPoll_T poll, Sink* sink, int* error);

}  // namespace socketpoll

#endif  // SOCKETPOLL_WATCHER_H
