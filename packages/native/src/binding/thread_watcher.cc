// thread_watcher.cc — event-loop delivery through a helper thread and Node-API only: the path for
// backends without a pollable fd (poll) and for runtimes without a working libuv (Bun, Deno).
//
// A helper thread blocks in SocketPoll_wait(poll, .., -1) and hands each batch to the JS thread
// with a napi_threadsafe_function; its call_js callback calls sink->OnBatch() on the JS thread. The
// helper thread then waits (mutex + condition variable) until that call has returned before it
// polls again: the batch lives in the poller's own buffer, which the next wait would overwrite, and
// level-triggered readiness that the JS side drains during OnBatch must not be reported a second
// time by a wait that raced with the drain. So there is at most one batch in flight, and the cost
// per batch is one napi_call_threadsafe_function (a queue push and a wake of the loop) plus two
// thread switches.
//
// add/mod/del from the JS thread while the helper is blocked are the backend's business (epoll and
// kqueue take them while a wait is in progress; poll interrupts and resumes its poll()). Stop()
// sets a flag, wakes a blocked wait with SocketPoll_wakeup and joins the thread. The thread-safe
// function lives as long as the watcher and is ref'd only while started and Ref()'d.
//
// Plain C++17 + pthreads + Node-API (no libuv, no exceptions: node-gyp builds with
// -fno-exceptions).
#include <pthread.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

#include "watcher.h"

namespace socketpoll {
namespace {

// After a failed wait has been delivered, wait this long before trying again, so a persistent
// error (ENOMEM, say) is reported a few times per second rather than in a hot loop.
constexpr long kErrorBackoffMs = 100;

class ThreadWatcher final : public Watcher {
 public:
  ThreadWatcher(napi_env env, SocketPoll_T poll, Sink* sink) : env_(env), poll_(poll), sink_(sink) {}

  ~ThreadWatcher() override {
    if (sync_ready_) {
      pthread_cond_destroy(&cond_);
      pthread_mutex_destroy(&mutex_);
    }
  }

  int Init() {
    int rc = pthread_mutex_init(&mutex_, nullptr);
    if (rc != 0) return -rc;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
#if !defined(__APPLE__)
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);  // the backoff is immune to clock changes
#endif
    rc = pthread_cond_init(&cond_, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
      pthread_mutex_destroy(&mutex_);
      return -rc;
    }
    sync_ready_ = true;
    napi_value name;
    if (napi_create_string_utf8(env_, "SocketPoll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_threadsafe_function(env_, nullptr, nullptr, name, 0, 1, this, OnFinalize, this,
                                        CallJs, &tsfn_) != napi_ok) {
      return -ENOMEM;
    }
    tsfn_alive_ = true;
    UpdateRef();  // not started yet: must not keep the loop alive
    return 0;
  }

  int Start() override {
    if (closing_ || !tsfn_alive_) return -EINVAL;
    if (running_) return 0;
    pthread_mutex_lock(&mutex_);
    stopping_ = false;
    pending_ = false;
    pthread_mutex_unlock(&mutex_);
    // The helper thread takes no signals: they belong to the JS thread, and a blocked wait is
    // woken by SocketPoll_wakeup, not by signals. It inherits this mask.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&thread_, nullptr, ThreadMain, this);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) return -rc;
    running_ = true;
    UpdateRef();
    return 0;
  }

  // May be called from OnBatch (the sink's callback): the helper thread is then parked on the
  // condition variable, not inside the sink, so joining it cannot deadlock.
  void Stop() override {
    if (!running_) return;
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    bool in_wait = in_wait_;
    pthread_cond_signal(&cond_);
    pthread_mutex_unlock(&mutex_);
    // Only a thread inside (or about to enter) SocketPoll_wait needs the wakeup; sending one
    // otherwise would leave it pending and make the next wait return 0 for nothing.
    if (in_wait) SocketPoll_wakeup(poll_);
    pthread_join(thread_, nullptr);
    running_ = false;
    pthread_mutex_lock(&mutex_);
    pending_ = false;  // a batch not yet dispatched is dropped: no OnBatch after Stop()
    pthread_mutex_unlock(&mutex_);
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
    if (!tsfn_alive_) {  // the environment finalized the function already (teardown)
      delete this;
      if (on_closed) on_closed(arg);
      return;
    }
    on_closed_ = on_closed;
    on_closed_arg_ = arg;
    // Queued calls are dropped; OnFinalize runs later on the JS thread and deletes us.
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  }

 private:
  void UpdateRef() {
    if (closing_ || !tsfn_alive_) return;
    if (refed_ && running_) {
      napi_ref_threadsafe_function(env_, tsfn_);
    } else {
      napi_unref_threadsafe_function(env_, tsfn_);
    }
  }

  static void* ThreadMain(void* arg) {
    static_cast<ThreadWatcher*>(arg)->Run();
    return nullptr;
  }

  // The helper thread.
  void Run() {
    pthread_mutex_lock(&mutex_);
    while (!stopping_) {
      in_wait_ = true;
      pthread_mutex_unlock(&mutex_);
      SocketEvent_T* events = nullptr;
      int count = SocketPoll_wait(poll_, &events, -1);
      pthread_mutex_lock(&mutex_);
      in_wait_ = false;
      if (stopping_) break;
      events_ = events;
      count_ = count;
      batch_++;
      pending_ = true;
      pthread_mutex_unlock(&mutex_);
      // Non-blocking on an unbounded queue: fails only once the function is closing (teardown).
      napi_status status = napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
      pthread_mutex_lock(&mutex_);
      if (status != napi_ok) break;
      while (pending_ && !stopping_) pthread_cond_wait(&cond_, &mutex_);
      if (count < 0 && !stopping_) Backoff();
    }
    pthread_mutex_unlock(&mutex_);
  }

  // Under mutex_: waits kErrorBackoffMs or until Stop().
  void Backoff() {
    timespec deadline;
#if defined(__APPLE__)
    clock_gettime(CLOCK_REALTIME, &deadline);
#else
    clock_gettime(CLOCK_MONOTONIC, &deadline);
#endif
    deadline.tv_nsec += kErrorBackoffMs * 1000000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    while (!stopping_ && pthread_cond_timedwait(&cond_, &mutex_, &deadline) != ETIMEDOUT) {
    }
  }

  // The JS thread (env == nullptr: the function is being torn down, nothing to deliver).
  static void CallJs(napi_env env, napi_value /*js_callback*/, void* context, void* /*data*/) {
    if (env == nullptr) return;
    auto* self = static_cast<ThreadWatcher*>(context);
    pthread_mutex_lock(&self->mutex_);
    if (!self->pending_ || self->stopping_ || self->closing_) {
      pthread_mutex_unlock(&self->mutex_);
      return;
    }
    SocketEvent_T* events = self->events_;
    int count = self->count_;
    uint64_t batch = self->batch_;
    pthread_mutex_unlock(&self->mutex_);
    // Without the lock: the sink may call Stop(), Close(), add/mod/del or Start().
    self->in_call_js_ = true;
    self->sink_->OnBatch(events, count);
    self->in_call_js_ = false;
    if (self->finalized_in_call_js_) {  // a runtime that finalizes inside the release call
      self->Finish();
      return;
    }
    pthread_mutex_lock(&self->mutex_);
    if (self->pending_ && self->batch_ == batch) {  // not a new thread's batch after Stop+Start
      self->pending_ = false;
      pthread_cond_signal(&self->cond_);
    }
    pthread_mutex_unlock(&self->mutex_);
  }

  // The JS thread, once the function is released: by Close(), or by the environment's teardown
  // (before Close(): then the helper thread, if any, is told to stop and Close() finishes the job).
  static void OnFinalize(napi_env /*env*/, void* data, void* /*hint*/) {
    auto* self = static_cast<ThreadWatcher*>(data);
    self->tsfn_alive_ = false;
    if (!self->closing_) {
      self->Stop();
      return;
    }
    if (self->in_call_js_) {
      self->finalized_in_call_js_ = true;
      return;
    }
    self->Finish();
  }

  void Finish() {
    void (*on_closed)(void*) = on_closed_;
    void* arg = on_closed_arg_;
    delete this;
    if (on_closed) on_closed(arg);
  }

  napi_env env_;
  SocketPoll_T poll_;
  Sink* sink_;
  napi_threadsafe_function tsfn_ = nullptr;
  pthread_t thread_;
  pthread_mutex_t mutex_;
  pthread_cond_t cond_;
  bool sync_ready_ = false;
  // JS thread only.
  bool tsfn_alive_ = false;
  bool running_ = false;
  bool refed_ = true;
  bool closing_ = false;
  bool in_call_js_ = false;
  bool finalized_in_call_js_ = false;
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

Watcher* NewThreadWatcher(napi_env env, SocketPoll_T poll, Sink* sink, int* error) {
  auto* watcher = new ThreadWatcher(env, poll, sink);
  int rc = watcher->Init();
  if (rc != 0) {
    delete watcher;  // the thread-safe function was not created: nothing to release
    *error = rc;
    return nullptr;
  }
  return watcher;
}

}  // namespace socketpoll
