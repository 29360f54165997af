// fd_watcher.cc — event-loop delivery for backends with a pollable fd (epoll, kqueue).
//
// A uv_poll_t watches the epoll/kqueue fd itself; when it is readable the JS thread calls
// SocketPoll_wait(poll, .., 0) and hands the batch to the sink: one JS call per batch, no thread.
// The watch is level-triggered, so a batch that filled the buffer is followed by another on the
// next loop iteration (other handles get their turn in between).
#include <cstdlib>

#include "watcher.h"

namespace socketpoll {
namespace {

class FdWatcher final : public Watcher {
 public:
  FdWatcher(SocketPoll_T poll, Sink* sink) : poll_(poll), sink_(sink) {
    handle_.data = this;
  }

  int Init(uv_loop_t* loop) {
    return uv_poll_init(loop, &handle_, SocketPoll_get_fd(poll_));
  }

  int Start() override {
    if (closing_) return UV_EINVAL;
    return uv_poll_start(&handle_, UV_READABLE, OnReadable);
  }

  void Stop() override {
    if (!closing_) uv_poll_stop(&handle_);
  }

  void Ref() override {
    if (!closing_) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_));
  }

  void Unref() override {
    if (!closing_) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_));
  }

  void Close(void (*on_closed)(void*), void* arg) override {
    if (closing_) return;
    closing_ = true;
    on_closed_ = on_closed;
    on_closed_arg_ = arg;
    // uv_close stops the watch at once, so the caller may close the fd right after.
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnClosed);
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

Watcher* NewFdWatcher(uv_loop_t* loop, SocketPoll_T poll, Sink* sink) {
  auto* watcher = new FdWatcher(poll, sink);
  if (watcher->Init(loop) != 0) {
    delete watcher;
    return nullptr;
  }
  return watcher;
}

}  // namespace socketpoll
