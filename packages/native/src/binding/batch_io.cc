// batch_io.cc — read or write many fds in one native call (SocketPoll.readEach / writeEach).
//
// A JS loop that calls fs.readSync/fs.writeSync per ready fd pays about 1 µs of binding overhead
// per call on top of the syscall; for a batch of ready fds that overhead dominates (see
// docs/benchmarks). These two functions do the syscalls of a whole batch in one call. They only
// loop over read(2)/write(2): no policy, no allocation; argument checks are done by the TypeScript.
//
//   readEach(fds: Int32Array, buffer: Uint8Array, chunkSize, results: Int32Array)
//     fd i is read into buffer[i*chunkSize, (i+1)*chunkSize); results[i] = bytes (0: end of file)
//   writeEach(fds: Int32Array, buffer: Uint8Array, chunkSize, lengths: Int32Array, results: Int32Array)
//     lengths[i] bytes of buffer[i*chunkSize ...] go to fd i; results[i] = bytes written
//   In both, results[i] is -errno on failure (-EAGAIN: nothing to read / no room), and an fd < 0
//   (an event cancelled by del()) is skipped with -EBADF.
#include "batch_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace socketpoll {
namespace {

struct Views {
  int32_t* fds;
  size_t count;
  uint8_t* buffer;
  size_t buffer_length;
  size_t chunk;
};

bool GetViews(const Napi::CallbackInfo& info, Views* v) {
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber()) return false;
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  Napi::Uint8Array buffer = info[1].As<Napi::Uint8Array>();
  v->fds = fds.Data();
  v->count = fds.ElementLength();
  v->buffer = buffer.Data();
  v->buffer_length = buffer.ByteLength();
  v->chunk = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  return v->chunk > 0 && v->count * v->chunk <= v->buffer_length;
}

Napi::Value Invalid(const Napi::CallbackInfo& info) {
  Napi::TypeError::New(info.Env(), "batch I/O: invalid arguments").ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

}  // namespace

Napi::Value ReadEach(const Napi::CallbackInfo& info) {
  Views v;
  if (!GetViews(info, &v) || !info[3].IsTypedArray()) return Invalid(info);
  Napi::Int32Array results = info[3].As<Napi::Int32Array>();
  if (results.ElementLength() < v.count) return Invalid(info);
  int32_t* out = results.Data();
  for (size_t i = 0; i < v.count; i++) {
    if (v.fds[i] < 0) {
      out[i] = -EBADF;
      continue;
    }
    ssize_t n;
    do n = read(v.fds[i], v.buffer + i * v.chunk, v.chunk);
    while (n < 0 && errno == EINTR);
    out[i] = n < 0 ? -errno : static_cast<int32_t>(n);
  }
  return info.Env().Undefined();
}

Napi::Value WriteEach(const Napi::CallbackInfo& info) {
  Views v;
  if (!GetViews(info, &v) || !info[3].IsTypedArray() || !info[4].IsTypedArray()) return Invalid(info);
  Napi::Int32Array lengths = info[3].As<Napi::Int32Array>();
  Napi::Int32Array results = info[4].As<Napi::Int32Array>();
  if (lengths.ElementLength() < v.count || results.ElementLength() < v.count) return Invalid(info);
  const int32_t* len = lengths.Data();
  int32_t* out = results.Data();
  for (size_t i = 0; i < v.count; i++) {
    if (v.fds[i] < 0) {
      out[i] = -EBADF;
      continue;
    }
    size_t want = len[i] < 0 ? 0 : static_cast<size_t>(len[i]);
    if (want > v.chunk) want = v.chunk;
    ssize_t n;
    do n = write(v.fds[i], v.buffer + i * v.chunk, want);
    while (n < 0 && errno == EINTR);
    out[i] = n < 0 ? -errno : static_cast<int32_t>(n);
  }
  return info.Env().Undefined();
}

}  // namespace socketpoll
