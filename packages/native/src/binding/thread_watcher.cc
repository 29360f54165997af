// thread_watcher.cc — event-loop delivery for backends without a pollable fd (poll).
//
// A helper thread blocks in SocketPoll_wait(poll, .., -1) and hands each batch to the JS thread
// through a uv_async_t; the async callback calls sink->OnBatch() on the JS thread. The helper
// thread then waits (mutex + condition variable) until that call has returned before it polls
// again: the batch lives in the poller's own buffer, which the next wait would overwrite, and
// level-triggered readiness that the JS side drains during OnBatch must not be reported a second
// time by a poll() that raced with the drain. So there is at most one batch in flight, and the cost
// per batch is one uv_async_send (a write to the loop's eventfd/pipe) plus two thread switches.
//
// add/mod/del from the JS thread while the helper is blocked are the backend's business (the poll
// backend interrupts and resumes its poll()). Stop() sets a flag, wakes a blocked wait with
// SocketPoll_wakeup and joins the thread. The uv_async_t is active for the watcher's whole life
// (libuv has no stopped state for it), so it is ref'd only while started and Ref()'d.
//
// Plain C++17 + libuv, no N-API, no exceptions (node-gyp builds with -fno-exceptions): libuv's
// thread, mutex and condition variable return error codes.
#include <csignal>
#include <cstdint>

#include <pthread.h>

#include "watcher.h"

namespace socketpoll {
namespace {

// After a failed wait has been delivered, wait this long before trying again, so a persistent
// error (ENOMEM, say) is reported a few times per second rather than in a hot loop.
constexpr uint64_t kErrorBackoffNs = 100 * 1000 * 1000;

class ThreadWatcher final : public Watcher {
 public:
  ThreadWatcher(SocketPoll_T poll, Sink* sink) : poll_(poll), sink_(sink) {}

  ~ThreadWatcher() override {
    if (sync_ready_) {
      uv_cond_destroy(&cond_);
      uv_mutex_destroy(&mutex_);
    }
  }

  int Init(uv_loop_t* loop) {
    int rc = uv_mutex_init(&mutex_);
    if (rc != 0) return rc;
    rc = uv_cond_init(&cond_);
    if (rc != 0) {
      uv_mutex_destroy(&mutex_);
      return rc;
    }
    sync_ready_ = true;
    rc = uv_async_init(loop, &async_, OnAsync);
    if (rc != 0) return rc;
    async_.data = this;
    UpdateRef();  // not started yet: must not keep the loop alive
    return 0;
  }

  int Start() override {
    if (closing_) return UV_EINVAL;
    if (running_) return 0;
    uv_mutex_lock(&mutex_);
    stopping_ = false;
    pending_ = false;
    uv_mutex_unlock(&mutex_);
    // The helper thread takes no signals: they belong to the JS thread (libuv's signal handling),
    // and a blocked wait is woken by SocketPoll_wakeup, not by signals. It inherits this mask.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = uv_thread_create(&thread_, ThreadMain, this);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) return rc;
    running_ = true;
    UpdateRef();
    return 0;
  }

  // May be called from OnBatch (the sink's callback): the helper thread is then parked on the
  // condition variable, not inside the sink, so joining it cannot deadlock.
  void Stop() override {
    if (!running_) return;
    uv_mutex_lock(&mutex_);
    stopping_ = true;
    bool in_wait = in_wait_;
    uv_cond_signal(&cond_);
    uv_mutex_unlock(&mutex_);
    // Only a thread inside (or about to enter) SocketPoll_wait needs the wakeup; sending one
    // otherwise would leave it pending and make the next wait return 0 for nothing.
    if (in_wait) SocketPoll_wakeup(poll_);
    uv_thread_join(&thread_);
    running_ = false;
    uv_mutex_lock(&mutex_);
    pending_ = false;  // a batch not yet dispatched is dropped: no OnBatch after Stop()
    uv_mutex_unlock(&mutex_);
    UpdateRef();
  }

  void Ref() override {
    refed_ = true;
    UpdateRef();
  }

  void Unref() override {
    refed_ = false;
    UpdateRef();
  }

  void Close(void (*on_closed)(void*), void* arg) override {
    if (closing_) return;
    Stop();  // joins the helper thread: the poller may be freed once we return
    closing_ = true;
    on_closed_ = on_closed;
    on_closed_arg_ = arg;
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), OnClosed);
  }

 private:
  void UpdateRef() {
    if (closing_) return;
    auto* handle = reinterpret_cast<uv_handle_t*>(&async_);
    if (refed_ && running_) {
      uv_ref(handle);
    } else {
      uv_unref(handle);
    }
  }

  static void ThreadMain(void* arg) { static_cast<ThreadWatcher*>(arg)->Run(); }

  // The helper thread.
  void Run() {
    uv_mutex_lock(&mutex_);
    while (!stopping_) {
      in_wait_ = true;
      uv_mutex_unlock(&mutex_);
      SocketEvent_T* events = nullptr;
      int count = SocketPoll_wait(poll_, &events, -1);
      uv_mutex_lock(&mutex_);
      in_wait_ = false;
      if (stopping_) break;
      events_ = events;
      count_ = count;
      batch_++;
      pending_ = true;
      uv_mutex_unlock(&mutex_);
      uv_async_send(&async_);
      uv_mutex_lock(&mutex_);
      while (pending_ && !stopping_) uv_cond_wait(&cond_, &mutex_);
      if (count < 0 && !stopping_) uv_cond_timedwait(&cond_, &mutex_, kErrorBackoffNs);
    }
    uv_mutex_unlock(&mutex_);
  }

  // The JS thread.
  static void OnAsync(uv_async_t* handle) {
    auto* self = static_cast<ThreadWatcher*>(handle->data);
    uv_mutex_lock(&self->mutex_);
    if (!self->pending_ || self->stopping_ || self->closing_) {
      uv_mutex_unlock(&self->mutex_);
      return;
    }
    SocketEvent_T* events = self->events_;
    int count = self->count_;
    uint64_t batch = self->batch_;
    uv_mutex_unlock(&self->mutex_);
    // Without the lock: the sink may call Stop(), Close(), add/mod/del or Start().
    self->sink_->OnBatch(events, count);
    // Still alive: Close() only deletes us from the close callback, on a later loop turn.
    uv_mutex_lock(&self->mutex_);
    if (self->pending_ && self->batch_ == batch) {  // not a new thread's batch after Stop+Start
      self->pending_ = false;
      uv_cond_signal(&self->cond_);
    }
    uv_mutex_unlock(&self->mutex_);
  }

  static void OnClosed(uv_handle_t* handle) {
    auto* self = static_cast<ThreadWatcher*>(handle->data);
    void (*on_closed)(void*) = self->on_closed_;
    void* arg = self->on_closed_arg_;
    delete self;
    if (on_closed) on_closed(arg);
  }

  SocketPoll_T poll_;
  Sink* sink_;
  uv_async_t async_;
  uv_thread_t thread_;
  uv_mutex_t mutex_;
  uv_cond_t cond_;
  bool sync_ready_ = false;
  // JS thread only.
  bool running_ = false;
  bool refed_ = true;
  bool closing_ = false;
  void (*on_closed_)(void*) = nullptr;
  void* on_closed_arg_ = nullptr;
  // Under mutex_.
  bool stopping_ = false;
  bool in_wait_ = false;
  bool pending_ = false;  // a batch waits for the JS thread
  SocketEvent_T* events_ = nullptr;
  int count_ = 0;
  uint64_t batch_ = 0;  // counts batches, so the JS thread acknowledges only the one it ran
};

}  // namespace

Watcher* NewThreadWatcher(uv_loop_t* loop, SocketPoll_T poll, Sink* sink) {
  auto* watcher = new ThreadWatcher(poll, sink);
  if (watcher->Init(loop) != 0) {
    delete watcher;  // uv_async_init failed: no handle to close
    return nullptr;
  }
  return watcher;
}

}  // namespace socketpoll
