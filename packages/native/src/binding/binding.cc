// binding.cc — the Node-API glue, the same for every backend (the build links one backend file).
//
// Thin on purpose: it checks argument types, converts between JS and C and owns lifetimes.
// Policy (validation messages, typed errors, the stale-event rule for JS batches, data lookup)
// lives in @socketpoll/core's TypeScript; per-backend behaviour lives in the C backends.
//
// JS surface (used only by @socketpoll/core):
//   new Poller(maxEvents, buffer: Int32Array, syncCleanup?)   buffer holds 3 ints per event: fd,
//     events, token; syncCleanup: a synchronous environment cleanup hook (see PollState::AddHook)
//   add(fd, events, token) / mod(fd, events, token) / del(fd) / wakeup()  -> 0 or -errno
//   wait(timeoutMs) -> count written to buffer, or -errno
//   start(onBatch(count), useUvPoll, scheduleResume) -> 0 or -errno; stop(); ref(); unref(); close()
//     useUvPoll: deliver through a uv_poll_t on the backend's fd (fd_watcher.cc) where there is
//     one, else through a helper thread (thread_watcher.cc); fixed at the first start()
//     scheduleResume(ticket): called after a batch on the helper-thread path; the JS side answers
//     with resume(ticket) on the next loop turn (setImmediate)
//   resume(ticket) -> undefined: looks for the next batch and delivers it (a no-op for an old ticket)
//   backendName(), supportedModes(), supportedSources(), fd(), id()
//   wakeups() -> how many wakeups were asked for so far (wrapping uint32; wait() slices use it)
//   addTimer(ms, repeat, token) / addProcess(pid, token) -> a handle (<= SOCKETPOLL_HANDLE_MAX,
//   below every -errno) or -errno; del(handle) cancels it; its events come as (handle, .., token)
//   failedCall() -> the call behind the last -errno (SocketPoll_get_failed_call)
//   wakeupById(id) (module function, any thread's copy of the addon) -> 0, -errno or -ENOENT
//   uvPollAvailable (module value): this process exports the libuv functions fd_watcher.cc needs
//   readEach / writeEach (module functions): batched read(2)/write(2), see batch_io.cc
//   fdStatus / setNonBlocking / readInto / writeFrom / writeChunks / shutdownWrite / readyNow: one fd,
//     see fd_io.cc
//   serialOpen / serialConfigure / serialSetBaudRate / ... / serialClose: a serial port's line settings, see serial.cc
//   gpioIoctl / gpioClose / gpioAbi: the GPIO character device (Linux uAPI v2), see gpio.cc
//
// Lifetime: each poller's C object and event-loop watcher live in a PollState shared by the JS
// object and a cleanup hook (async, or synchronous on Deno: see PollState::AddHook), so a poller is
// released by close(), by garbage collection, or when its environment (main thread or worker)
// tears down — whichever comes first — and the loop handle is closed before the memory is freed.
#include <napi.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "batch_io.h"
#include "fd_io.h"
#include "gpio.h"
#include "poll/SocketPoll.h"
#include "serial.h"
#include "watcher.h"

namespace socketpoll {
namespace {

struct PollState;

// Process-wide id -> poller map, so that any thread (a worker has its own copy of the JS
// objects, but shares this library) can wake a poller up by id.
std::mutex registry_mutex;
std::unordered_map<uint32_t, PollState*> registry;
uint32_t next_id = 1;

uint32_t RegistryAdd(PollState* state) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  uint32_t id = next_id++;
  if (next_id == 0) next_id = 1;
  registry[id] = state;
  return id;
}

void RegistryRemove(uint32_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry.erase(id);
}

struct PollState {
  napi_env env = nullptr;
  SocketPoll_T poll = nullptr;
  Watcher* watcher = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;  // the async cleanup hook, while registered
  bool sync_hook = false;        // a synchronous cleanup hook is registered instead (Deno)
  bool in_env_cleanup = false;   // that hook is running: the runtime removes it itself
  uint32_t id = 0;
  std::atomic<uint32_t> wakeups{0};  // counted before each SocketPoll_wakeup, from any thread
  int owners = 1;  // the JS object, and the cleanup hook once registered (AddHook)
  bool released = false;

  int Wakeup() {
    wakeups.fetch_add(1, std::memory_order_relaxed);
    return SocketPoll_wakeup(poll);
  }

  // Stops delivery, closes the loop handle, frees the C poller. Idempotent. The watcher's close
  // callback may run (and this object be deleted) before Close() returns: nothing here touches
  // `this` after it.
  void Release() {
    if (released) return;
    released = true;
    RegistryRemove(id);
    SocketPoll_T p = poll;
    Watcher* w = watcher;
    watcher = nullptr;
    if (w != nullptr) {
      w->Close(OnWatcherClosed, this);
      SocketPoll_free(&p);
    } else {
      SocketPoll_free(&p);
      RemoveHook();
    }
  }

  static void OnWatcherClosed(void* arg) { static_cast<PollState*>(arg)->RemoveHook(); }

  // Registers the cleanup hook that releases this poller when its environment tears down: an
  // async hook, because closing a uv_poll_t completes on a later loop turn; or, when the caller asks
  // (@socketpoll/core does on Deno), a synchronous one. Deno frees an async hook's handle a second
  // time when the hook removes itself, as Node requires a hook to do: a double free when a worker
  // with an open poller is terminated, or when a process exits on an uncaught exception. There
  // every watcher is a helper thread, joined before Close() returns, so a synchronous hook is enough.
  void AddHook(bool synchronous) {
    napi_status status = synchronous ? napi_add_env_cleanup_hook(env, OnEnvCleanup, this)
                                     : napi_add_async_cleanup_hook(env, OnEnvTeardown, this, &hook);
    if (status != napi_ok) {
      hook = nullptr;
      return;  // released by close() or garbage collection only
    }
    sync_hook = hook == nullptr;
    owners++;  // the hook's share, dropped by RemoveHook()
  }

  void RemoveHook() {
    bool registered = hook != nullptr || sync_hook;
    if (hook != nullptr) {
      napi_async_cleanup_hook_handle h = hook;
      hook = nullptr;
      napi_remove_async_cleanup_hook(h);
    } else if (sync_hook) {
      sync_hook = false;
      if (!in_env_cleanup) napi_remove_env_cleanup_hook(env, OnEnvCleanup, this);
    }
    if (registered) Drop();
  }

  void Drop() {
    if (--owners == 0) delete this;
  }

  // The environment is going away (process exit, worker exit): release now; Node waits until
  // the hook is removed, i.e. until the loop handle is closed.
  static void OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
    static_cast<PollState*>(arg)->Release();
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PollState*>(arg);
    self->in_env_cleanup = true;
    self->Release();  // may delete self
  }
};

class Poller : public Napi::ObjectWrap<Poller>, public Sink {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {
                           InstanceMethod<&Poller::Add>("add"),
                           InstanceMethod<&Poller::Mod>("mod"),
                           InstanceMethod<&Poller::Del>("del"),
                           InstanceMethod<&Poller::Wait>("wait"),
                           InstanceMethod<&Poller::Wakeup>("wakeup"),
                           InstanceMethod<&Poller::Start>("start"),
                           InstanceMethod<&Poller::Stop>("stop"),
                           InstanceMethod<&Poller::Resume>("resume"),
                           InstanceMethod<&Poller::Ref>("ref"),
                           InstanceMethod<&Poller::Unref>("unref"),
                           InstanceMethod<&Poller::Close>("close"),
                           InstanceMethod<&Poller::BackendName>("backendName"),
                           InstanceMethod<&Poller::SupportedModes>("supportedModes"),
                           InstanceMethod<&Poller::Fd>("fd"),
                           InstanceMethod<&Poller::Id>("id"),
                           InstanceMethod<&Poller::Wakeups>("wakeups"),
                           InstanceMethod<&Poller::AddTimer>("addTimer"),
                           InstanceMethod<&Poller::AddProcess>("addProcess"),
                           InstanceMethod<&Poller::SupportedSources>("supportedSources"),
                           InstanceMethod<&Poller::FailedCall>("failedCall"),
                       });
  }

  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      Napi::TypeError::New(env, "Poller(maxEvents: number, buffer: Int32Array)")
          .ThrowAsJavaScriptException();
      return;
    }
    int max_events = info[0].As<Napi::Number>().Int32Value();
    Napi::Int32Array buffer = info[1].As<Napi::Int32Array>();
    if (max_events < 1 || buffer.ElementLength() < static_cast<size_t>(max_events) * 3) {
      Napi::RangeError::New(env, "buffer must hold 3 ints per event").ThrowAsJavaScriptException();
      return;
    }
    SocketPoll_T poll = SocketPoll_new(max_events);
    if (poll == nullptr) {
      ThrowErrno(env, -errno, "SocketPoll_new");
      return;
    }
    state_ = new PollState();
    state_->env = env;
    state_->poll = poll;
    state_->id = RegistryAdd(state_);
    state_->AddHook(info.Length() > 2 && info[2].ToBoolean().Value());
    buffer_ref_ = Napi::Persistent(buffer);
    buffer_ = buffer.Data();
  }

  ~Poller() override {
    if (async_context_ != nullptr) napi_async_destroy(Env(), async_context_);
    if (state_ != nullptr) {
      state_->Release();
      state_->Drop();
      state_ = nullptr;
    }
  }

  // Sink: runs on the JS thread, from the watcher's loop callback.
  void OnBatch(SocketEvent_T* events, int count) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    int n = count < 0 ? count : CopyOut(events, count);
    if (on_batch_.IsEmpty()) return;
    napi_value result;
    napi_value argv[1] = {Napi::Number::New(env, n)};
    napi_status status =
        napi_make_callback(env, async_context_, Value(), on_batch_.Value(), 1, argv, &result);
    if (status == napi_pending_exception) {
      // Nobody above us can catch it: report it as Node reports an exception in a callback.
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }

  bool ScheduleResume(uint32_t ticket) override {
    if (schedule_resume_.IsEmpty()) return false;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    napi_value result;
    napi_value argv[1] = {Napi::Number::New(env, ticket)};
    napi_status status =
        napi_call_function(env, env.Undefined(), schedule_resume_.Value(), 1, argv, &result);
    if (status == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      return false;
    }
    return status == napi_ok;
  }

 private:
  static void ThrowErrno(Napi::Env env, int neg_errno, const char* syscall) {
    Napi::Error error = Napi::Error::New(env, std::strerror(-neg_errno));
    error.Set("errno", Napi::Number::New(env, neg_errno));
    error.Set("syscall", Napi::String::New(env, syscall));
    error.ThrowAsJavaScriptException();
  }

  // Writes the live events as (fd or handle, events, token) triples; skips invalidated entries.
  int CopyOut(SocketEvent_T* events, int count) {
    int n = 0;
    for (int i = 0; i < count; i++) {
      if (events[i].fd == -1) continue;
      int32_t* out = buffer_ + 3 * n++;
      out[0] = events[i].fd;
      out[1] = events[i].events;
      out[2] = static_cast<int32_t>(reinterpret_cast<intptr_t>(events[i].data));
    }
    return n;
  }

  bool Open(const Napi::CallbackInfo& info) {
    if (state_ != nullptr && !state_->released) return true;
    Napi::Error error = Napi::Error::New(info.Env(), "poller is closed");
    error.Set("code", Napi::String::New(info.Env(), "ERR_SOCKETPOLL_CLOSED"));
    error.ThrowAsJavaScriptException();
    return false;
  }

  // add/mod: (fd, events, token); the caller (TypeScript) has validated the ranges.
  Napi::Value Register(const Napi::CallbackInfo& info, bool modify) {
    if (!Open(info)) return info.Env().Undefined();
    int fd = info[0].As<Napi::Number>().Int32Value();
    int events = info[1].As<Napi::Number>().Int32Value();
    void* token = reinterpret_cast<void*>(static_cast<intptr_t>(info[2].As<Napi::Number>().Int32Value()));
    int rc = modify ? SocketPoll_mod(state_->poll, fd, events, token)
                    : SocketPoll_add(state_->poll, fd, events, token);
    return Napi::Number::New(info.Env(), rc);
  }

  Napi::Value Add(const Napi::CallbackInfo& info) { return Register(info, false); }
  Napi::Value Mod(const Napi::CallbackInfo& info) { return Register(info, true); }

  Napi::Value Del(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    int fd = info[0].As<Napi::Number>().Int32Value();
    return Napi::Number::New(info.Env(), SocketPoll_del(state_->poll, fd));
  }

  Napi::Value Wait(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    int timeout = info[0].As<Napi::Number>().Int32Value();
    SocketEvent_T* events = nullptr;
    int n = SocketPoll_wait(state_->poll, &events, timeout);
    return Napi::Number::New(info.Env(), n < 0 ? n : CopyOut(events, n));
  }

  Napi::Value Wakeup(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), state_->Wakeup());
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Open(info)) return env.Undefined();
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "start(onBatch: function)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    on_batch_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (info[2].IsFunction()) {
      schedule_resume_ = Napi::Persistent(info[2].As<Napi::Function>());
    } else {
      schedule_resume_.Reset();
    }
    if (async_context_ == nullptr) {
      napi_async_init(env, Value(), Napi::String::New(env, "SocketPoll"), &async_context_);
    }
    if (state_->watcher == nullptr) {
      SocketPoll_T poll = state_->poll;
      bool use_uv_poll = info[1].ToBoolean().Value() && SocketPoll_get_fd(poll) >= 0;
      int error = 0;
      state_->watcher = use_uv_poll ? NewFdWatcher(env, poll, this, &error)
                                    : NewThreadWatcher(env, poll, this, &error);
      if (state_->watcher == nullptr) return Napi::Number::New(env, error < 0 ? error : -ENOMEM);
      if (!ref_) state_->watcher->Unref();
    }
    int rc = state_->watcher->Start();
    return Napi::Number::New(env, rc < 0 ? rc : 0);
  }

  // Drops the references to the JS callbacks, which hold the JS poller: a stopped poller that
  // nothing references is garbage-collected (and released by ~Poller).
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (state_ != nullptr && state_->watcher != nullptr) state_->watcher->Stop();
    on_batch_.Reset();
    schedule_resume_.Reset();
    return info.Env().Undefined();
  }

  // Not Open()-checked: an immediate scheduled before close() may still call it.
  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (state_ != nullptr && !state_->released && state_->watcher != nullptr && info[0].IsNumber()) {
      state_->watcher->Resume(info[0].As<Napi::Number>().Uint32Value());
    }
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    ref_ = true;
    if (state_ != nullptr && state_->watcher != nullptr) state_->watcher->Ref();
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    ref_ = false;
    if (state_ != nullptr && state_->watcher != nullptr) state_->watcher->Unref();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    on_batch_.Reset();
    schedule_resume_.Reset();
    if (state_ != nullptr) state_->Release();
    return info.Env().Undefined();
  }

  Napi::Value BackendName(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::String::New(info.Env(), SocketPoll_get_backend_name(state_->poll));
  }

  Napi::Value SupportedModes(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), SocketPoll_get_supported_modes(state_->poll));
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), SocketPoll_get_fd(state_->poll));
  }

  Napi::Value Id(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), state_->id);
  }

  Napi::Value Wakeups(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), state_->wakeups.load(std::memory_order_relaxed));
  }

  // addTimer(ms, repeat, token) / addProcess(pid, token): the handle, or -errno.
  Napi::Value AddTimer(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    int ms = info[0].As<Napi::Number>().Int32Value();
    int flags = info[1].ToBoolean().Value() ? SOCKETPOLL_TIMER_REPEAT : 0;
    void* token = reinterpret_cast<void*>(static_cast<intptr_t>(info[2].As<Napi::Number>().Int32Value()));
    int handle = 0;
    int rc = SocketPoll_add_timer(state_->poll, ms, flags, token, &handle);
    return Napi::Number::New(info.Env(), rc < 0 ? rc : handle);
  }

  Napi::Value AddProcess(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    int pid = info[0].As<Napi::Number>().Int32Value();
    void* token = reinterpret_cast<void*>(static_cast<intptr_t>(info[1].As<Napi::Number>().Int32Value()));
    int handle = 0;
    int rc = SocketPoll_add_process(state_->poll, pid, token, &handle);
    return Napi::Number::New(info.Env(), rc < 0 ? rc : handle);
  }

  Napi::Value SupportedSources(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), SocketPoll_get_supported_sources(state_->poll));
  }

  Napi::Value FailedCall(const Napi::CallbackInfo& info) {
    if (!Open(info)) return info.Env().Undefined();
    return Napi::String::New(info.Env(), SocketPoll_get_failed_call(state_->poll));
  }

  PollState* state_ = nullptr;
  Napi::Reference<Napi::Int32Array> buffer_ref_;
  int32_t* buffer_ = nullptr;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference schedule_resume_;
  napi_async_context async_context_ = nullptr;
  bool ref_ = true;
};

Napi::Value WakeupById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    Napi::TypeError::New(env, "wakeupById(id: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double value = info[0].As<Napi::Number>().DoubleValue();
  if (!(value >= 1 && value <= UINT32_MAX) || value != static_cast<double>(static_cast<uint32_t>(value))) {
    return Napi::Number::New(env, -EINVAL);  // not an id this library hands out
  }
  uint32_t id = static_cast<uint32_t>(value);
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = registry.find(id);
  int rc = it == registry.end() ? -ENOENT : it->second->Wakeup();
  return Napi::Number::New(env, rc);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Poller", Poller::Define(env));
  exports.Set("wakeupById", Napi::Function::New<WakeupById>(env, "wakeupById"));
  exports.Set("readEach", Napi::Function::New<ReadEach>(env, "readEach"));
  exports.Set("writeEach", Napi::Function::New<WriteEach>(env, "writeEach"));
  RegisterFdIo(env, exports);
  RegisterSerial(env, exports);
  RegisterGpio(env, exports);
  exports.Set("constants", [&] {
    Napi::Object c = Napi::Object::New(env);
    c.Set("POLL_READ", POLL_READ);
    c.Set("POLL_WRITE", POLL_WRITE);
    c.Set("POLL_ERROR", POLL_ERROR);
    c.Set("POLL_HANGUP", POLL_HANGUP);
    c.Set("POLL_PRIORITY", POLL_PRIORITY);
    c.Set("POLL_RDHUP", POLL_RDHUP);
    c.Set("POLL_INVALID", POLL_INVALID);
    c.Set("POLL_EDGE", POLL_EDGE);
    c.Set("POLL_ONESHOT", POLL_ONESHOT);
    c.Set("POLL_TIMER", POLL_TIMER);
    c.Set("POLL_EXIT", POLL_EXIT);
    c.Set("POLL_UNPOLLABLE_READY", POLL_UNPOLLABLE_READY);
    c.Set("POLL_EXACT_EVENTS", POLL_EXACT_EVENTS);
    c.Set("SOURCE_FD", SOCKETPOLL_SOURCE_FD);
    c.Set("SOURCE_TIMER", SOCKETPOLL_SOURCE_TIMER);
    c.Set("SOURCE_PROCESS", SOCKETPOLL_SOURCE_PROCESS);
    c.Set("HANDLE_MAX", SOCKETPOLL_HANDLE_MAX);
    c.Set("SUPPORTS_LEVEL", SOCKETPOLL_SUPPORTS_LEVEL);
    c.Set("SUPPORTS_EDGE", SOCKETPOLL_SUPPORTS_EDGE);
    c.Set("SUPPORTS_ONESHOT", SOCKETPOLL_SUPPORTS_ONESHOT);
    c.Set("MAX_EVENTS_LIMIT", SOCKETPOLL_MAX_EVENTS_LIMIT);
    return c;
  }());
  exports.Set("uvPollAvailable", Napi::Boolean::New(env, FdWatcherAvailable()));
  return exports;
}

}  // namespace
}  // namespace socketpoll

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return socketpoll::Init(env, exports);
}

NODE_API_MODULE(socketpoll, InitModule)
