// watcher.h — how a poller's events reach Node's event loop (start()/waitAsync()).
//
// Two implementations, chosen by the binding from SocketPoll_get_fd():
//  - FdWatcher (fd_watcher.cc): the backend has a pollable fd (the epoll or kqueue fd itself); a
//    uv_poll_t on the loop watches it and, when it is readable, the JS thread calls
//    SocketPoll_wait(poll, .., 0). No extra thread, no per-event thread hop.
//  - ThreadWatcher (thread_watcher.cc): the backend has none (poll); a helper thread blocks in
//    SocketPoll_wait() and hands each batch to the JS thread through a uv_async_t, then waits until
//    the JS thread has dispatched it before polling again (so level-triggered readiness the JS side
//    is about to drain is not reported twice).
//
// Both deliver through the same Sink on the JS thread, one call per batch.
#ifndef SOCKETPOLL_WATCHER_H
#define SOCKETPOLL_WATCHER_H

#include <uv.h>

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
};

class Watcher {
 public:
  virtual ~Watcher() = default;
  // Begins delivering batches to the sink. 0 or a negative errno/uv error.
  virtual int Start() = 0;
  // Stops delivering; no OnBatch call happens after Stop() returns. Idempotent.
  virtual void Stop() = 0;
  // Whether an active watcher keeps the loop alive (like timers and sockets). Default: ref'd.
  virtual void Ref() = 0;
  virtual void Unref() = 0;
  // Stops, releases every loop handle (uv_close) and deletes this object once the loop has
  // closed them, then calls on_closed(arg) (if not null) from the close callback. The poller must
  // stay alive until Close() is called; SocketPoll_free() may be called right after Close()
  // returns (a helper thread has been joined by then). The sink is not called after Close().
  virtual void Close(void (*on_closed)(void* arg), void* arg) = 0;
};

Watcher* NewFdWatcher(uv_loop_t* loop, SocketPoll_T poll, Sink* sink);
Watcher* NewThreadWatcher(uv_loop_t* loop, SocketPoll_T poll, Sink* sink);

}  // namespace socketpoll

#endif  // SOCKETPOLL_WATCHER_H
