// fd_watcher.cc — event-loop delivery for backends with a pollable fd (epoll, kqueue) on a
// runtime with a working libuv (Node, Electron).
//
// A uv_poll_t watches the epoll/kqueue fd itself; when it is readable the JS thread calls
// SocketPoll_wait(poll, .., 0) and hands the batch to the sink: one JS call per batch, no thread.
// The watch is level-triggered, so a batch that filled the buffer is followed by another on the
// next loop iteration (other handles get their turn in between).
//
// No uv_* symbol is referenced at link time: the addon must load in runtimes without libuv (Bun
// has none, Deno only part of it). The few functions used here are looked up in the process with
// dlsym(RTLD_DEFAULT) the first time they are needed; uv.h is used for its types only.
#include <dlfcn.h>

#include <cerrno>

#include <uv.h>

#include "watcher.h"

namespace socketpoll {
namespace {

struct UvFunctions {
  decltype(&uv_poll_init) poll_init = nullptr;
  decltype(&uv_poll_start) poll_start = nullptr;
  decltype(&uv_poll_stop) poll_stop = nullptr;
  decltype(&uv_ref) ref = nullptr;
  decltype(&uv_unref) unref = nullptr;
  decltype(&uv_close) close = nullptr;
  bool complete = false;
};

template <typename F>
bool Resolve(F* out, const char* name) {
  *out = reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
  return *out != nullptr;
}

UvFunctions Load() {
  UvFunctions uv;
  bool ok = Resolve(&uv.poll_init, "uv_poll_init");
  ok = Resolve(&uv.poll_start, "uv_poll_start") && ok;
  ok = Resolve(&uv.poll_stop, "uv_poll_stop") && ok;
  ok = Resolve(&uv.ref, "uv_ref") && ok;
  ok = Resolve(&uv.unref, "uv_unref") && ok;
  ok = Resolve(&uv.close, "uv_close") && ok;
  uv.complete = ok;
  return uv;
}

// Looked up once per process (a thread-safe static), on the first start() or availability check.
const UvFunctions& Uv() {
  static const UvFunctions uv = Load();
  return uv;
}

class FdWatcher final : public Watcher {
 public:
  FdWatcher(SocketPoll_T poll, Sink* sink) : poll_(poll), sink_(sink) {
    handle_.data = this;
  }

  int Init(uv_loop_t* loop) {
    return Uv().poll_init(loop, &handle_, SocketPoll_get_fd(poll_));
  }

  int Start() override {
    if (closing_) return -EINVAL;
    return Uv().poll_start(&handle_, UV_READABLE, OnReadable);
  }

  void Stop() override {
    if (!closing_) Uv().poll_stop(&handle_);
  }

  void Ref() override {
    if (!closing_) Uv().ref(reinterpret_cast<uv_handle_t*>(&handle_));
  }

  void Unref() override {
    if (!closing_) Uv().unref(reinterpret_cast<uv_handle_t*>(&handle_));
  }

  void Close(void (*on_closed)(void*), void* arg) override {
    if (closing_) return;
    closing_ = true;
    on_closed_ = on_closed;
    on_closed_arg_ = arg;
    // uv_close stops the watch at once, so the caller may close the fd right after.
    Uv().close(reinterpret_cast<uv_handle_t*>(&handle_), OnClosed);
  }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    if (status < 0) {
      self->sink_->OnBatch(nullptr, status);
      return;
    }
    SocketEvent_T* events = nullptr;
    int n = SocketPoll_wait(self->poll_, &events, 0);
    // Readable for events the backend then dropped (stale, or not asked for): nothing happened.
    if (n == 0 && !SocketPoll_was_woken(self->poll_)) return;
    self->sink_->OnBatch(events, n);
  }

  static void OnClosed(uv_handle_t* handle) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    void (*on_closed)(void*) = self->on_closed_;
    void* arg = self->on_closed_arg_;
    delete self;
    if (on_closed) on_closed(arg);
  }

  uv_poll_t handle_;
  SocketPoll_T poll_;
  Sink* sink_;
  bool closing_ = false;
  void (*on_closed_)(void*) = nullptr;
  void* on_closed_arg_ = nullptr;
};

}  // namespace

bool FdWatcherAvailable() { return Uv().complete; }

Watcher* NewFdWatcher(napi_env env, SocketPoll_T poll, Sink* sink, int* error) {
  uv_loop_t* loop = nullptr;
  if (!FdWatcherAvailable() || SocketPoll_get_fd(poll) < 0 ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    *error = -ENOTSUP;
    return nullptr;
  }
  auto* watcher = new FdWatcher(poll, sink);
  int rc = watcher->Init(loop);
  if (rc != 0) {
    delete watcher;
    *error = rc;
    return nullptr;
  }
  return watcher;
}

}  // namespace socketpoll
