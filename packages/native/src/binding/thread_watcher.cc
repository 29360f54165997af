// thread_watcher.cc — event-loop delivery through a helper thread and Node-API only: the path for
// backends without a pollable fd (poll) and for runtimes without a working libuv (Bun, Deno).
//
// A helper thread blocks in SocketPoll_wait(poll, .., -1) and hands each batch to the JS thread
// with a napi_threadsafe_function; its call_js callback calls sink->OnBatch() on the JS thread. The
// helper thread then waits (mutex + condition variable) until that call has returned before it
// polls again: the batch lives in the poller's own buffer, which the next wait would overwrite, and
// level-triggered readiness that the JS side drains during OnBatch must not be reported a second
// time by a wait that raced with the drain. So there is at most one batch in flight.
//
// Handing a batch over costs two thread wake-ups: the helper's napi_call_threadsafe_function wakes
// the loop, and the JS thread's acknowledgement wakes the helper. Waking a thread that sleeps on
// another core is the dearest part (an inter-processor interrupt; in a VM, an exit to the
// hypervisor), and on a busy poller it would be paid for every batch. So once a batch has been
// dispatched, the helper stays parked and the sink is asked to call Resume() on the next loop turn
// (setImmediate on the JS side), where the JS thread looks for the next batch itself, with
// SocketPoll_wait(.., 0):
//  - nothing ready: the helper thread is released into its blocking wait;
//  - a batch (or a wakeup): it is delivered there, and the next turn looks again. Other handles
//    run in between, as with FdWatcher's level-triggered uv_poll_t, and an undrained
//    level-triggered fd is reported once per loop turn, not in a hot loop.
// The look waits for the next turn rather than following the batch at once, so that what the
// batch sets off after the callback returns (promise continuations: an events() loop body, an
// awaited once()) has run: a batch never reports readiness that its consumer drained since.
// Only a ref()'d watcher looks for itself: an unref()'d one must not hold the loop open, and Node
// does not run an unref()'d immediate until something else wakes the loop.
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
    held_ = false;
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
    held_ = false;  // and so is one the JS thread holds for Resume()
    UpdateRef();
  }

  // The loop turn after a batch: looks for the next one (the helper thread is still parked on the
  // batch delivered), delivers it if there is one, else lets the helper thread wait.
  void Resume(uint32_t ticket) override {
    if (!held_ || ticket != held_ticket_) return;  // dropped by Stop(), or an older immediate
    held_ = false;
    pthread_mutex_lock(&mutex_);
    uint64_t batch = batch_;
    bool ours = pending_ && !stopping_;
    pthread_mutex_unlock(&mutex_);
    if (!ours || closing_) return;
    SocketEvent_T* next = nullptr;
    int n = SocketPoll_wait(poll_, &next, 0);
    if (n > 0 || (n == 0 && SocketPoll_was_woken(poll_))) {
      Deliver(next, n, batch, true);
      return;
    }
    // Nothing ready (or an error, which the helper thread's own wait meets and delivers with its
    // back-off): the helper thread waits again.
    ReleaseHelper(batch);
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
      uint64_t batch = ++batch_;
      pending_ = true;
      pthread_mutex_unlock(&mutex_);
      // Non-blocking on an unbounded queue: fails only once the function is closing (teardown).
      // The call carries the batch number, so CallJs runs only the batch it was queued for.
      napi_status status = napi_call_threadsafe_function(tsfn_, BatchTag(batch), napi_tsfn_nonblocking);
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
  static void CallJs(napi_env env, napi_value /*js_callback*/, void* context, void* data) {
    if (env == nullptr) return;
    auto* self = static_cast<ThreadWatcher*>(context);
    pthread_mutex_lock(&self->mutex_);
    // A call queued by a thread that Stop() then joined carries an older batch number than the
    // new thread's batch: it has nothing to deliver.
    if (!self->pending_ || BatchTag(self->batch_) != data || self->stopping_ || self->closing_) {
      pthread_mutex_unlock(&self->mutex_);
      return;
    }
    SocketEvent_T* events = self->events_;
    int count = self->count_;
    uint64_t batch = self->batch_;
    pthread_mutex_unlock(&self->mutex_);
    self->Deliver(events, count, batch, true);
  }

  // A batch number as a thread-safe-function call's data (its low bits where pointers are 32-bit:
  // a stale call would have to be 2^32 batches old to match).
  static void* BatchTag(uint64_t batch) { return reinterpret_cast<void*>(static_cast<uintptr_t>(batch)); }

  // The JS thread: hands a batch to the sink, then (look_again) looks for the next one itself or
  // releases the helper thread. `batch` is the helper's batch number, which it stays parked on.
  void Deliver(SocketEvent_T* events, int count, uint64_t batch, bool look_again) {
    // Without the lock: the sink may call Stop(), Close(), add/mod/del or Start().
    in_call_js_ = true;
    sink_->OnBatch(events, count);
    in_call_js_ = false;
    if (finalized_in_call_js_) {  // a runtime that finalizes inside the release call
      Finish();
      return;
    }
    pthread_mutex_lock(&mutex_);
    // Not after Stop(), nor for a new thread's batch after Stop() + Start().
    bool ours = pending_ && batch_ == batch && !stopping_;
    pthread_mutex_unlock(&mutex_);
    if (!ours) return;
    if (look_again && refed_ && !closing_) {
      // Look for the next batch on the next loop turn, not now: what the batch just delivered
      // leads to may run after this call returns (promise continuations: an events() loop body,
      // an awaited once()), and readiness it drains then must not be reported again.
      held_ = true;
      if (sink_->ScheduleResume(++held_ticket_)) return;
      held_ = false;  // no later turn to be had: the helper thread waits
    }
    ReleaseHelper(batch);
  }

  // Lets the helper thread, parked on `batch`, wait for the next one.
  void ReleaseHelper(uint64_t batch) {
    pthread_mutex_lock(&mutex_);
    if (pending_ && batch_ == batch) {
      pending_ = false;
      pthread_cond_signal(&cond_);
    }
    pthread_mutex_unlock(&mutex_);
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
  // A batch the JS thread found itself, waiting for Resume() (the helper thread is parked).
  bool held_ = false;          // a look for the next batch is scheduled (Resume)
  uint32_t held_ticket_ = 0;  // counts looks, so each Resume() runs only its own
  void (*on_closed_)(void*) = nullptr;
  void* on_closed_arg_ = nullptr;
  // Under mutex_.
  bool stopping_ = false;
  bool in_wait_ = false;
  bool pending_ = false;  // the helper thread waits for the JS thread to be done with its batch
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
