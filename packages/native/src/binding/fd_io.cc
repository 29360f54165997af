// fd_io.cc — what @socketpoll/core's streams need from the kernel for one fd, without throwing:
// Node has no fcntl(), and fs.readSync/fs.writeSync turn every EAGAIN into an exception.
// Every function returns a count or a negative errno; EINTR is retried; no policy here (argument
// checks and typed errors are the TypeScript's).
//
//   fdStatus(fd, out: Int32Array(3)) -> 0 | -errno   out = [F_GETFL flags, st_mode & S_IFMT, isatty]
//                                                    (-errno with out[0] = -1: fcntl failed, else fstat)
//   setNonBlocking(fd, on) -> the new F_GETFL flags | -errno   (read back: the caller checks O_NONBLOCK)
//   readInto(fd, buffer, offset, length) -> bytes (0: end of file) | -errno
//   writeFrom(fd, buffer, offset, length) -> bytes | -errno
//   writeChunks(fd, chunks: Uint8Array[], firstOffset) -> bytes | -errno   one writev(2), at most
//                                                    IOV_MAX chunks; chunks[0] starts at firstOffset
//   shutdownWrite(fd) -> 0 | -errno                  shutdown(fd, SHUT_WR); -ENOTSOCK for a non-socket
//   readyNow(fd, events) -> POLL_* bits | -errno     what poll(2) says of the fd now (timeout 0), for
//                                                    events' POLL_READ / POLL_WRITE; -EBADF: closed
#include "fd_io.h"

#include "poll/SocketPoll.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

namespace socketpoll {

bool GetFd(const Napi::CallbackInfo& info, int* fd) {
  if (info.Length() < 1 || !info[0].IsNumber()) return false;
  *fd = info[0].As<Napi::Number>().Int32Value();
  return *fd >= 0;
}

Napi::Value Result(const Napi::CallbackInfo& info, double value) {
  return Napi::Number::New(info.Env(), value);
}

Napi::Value InvalidArguments(const Napi::CallbackInfo& info, const char* area) {
  Napi::TypeError::New(info.Env(), std::string(area) + ": invalid arguments").ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

namespace {

Napi::Value Invalid(const Napi::CallbackInfo& info) {
  return InvalidArguments(info, "fd I/O");
}

// buffer, offset, length at info[1..3], checked against the buffer's size.
bool GetRange(const Napi::CallbackInfo& info, uint8_t** data, size_t* length) {
  if (info.Length() < 4 || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber()) return false;
  Napi::Uint8Array buffer = info[1].As<Napi::Uint8Array>();
  int64_t offset = info[2].As<Napi::Number>().Int64Value();
  int64_t want = info[3].As<Napi::Number>().Int64Value();
  int64_t size = static_cast<int64_t>(buffer.ByteLength());
  if (offset < 0 || want < 0 || offset > size || want > size - offset) return false;
  *data = buffer.Data() + offset;
  *length = static_cast<size_t>(want);
  return true;
}

Napi::Value FdStatus(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd) || info.Length() < 2 || !info[1].IsTypedArray()) return Invalid(info);
  Napi::Int32Array array = info[1].As<Napi::Int32Array>();
  if (array.ElementLength() < 3) return Invalid(info);
  int32_t* out = array.Data();  // (operator[] with an int index is ambiguous on 32-bit targets)
  // fcntl first: it reports a closed fd's EBADF reliably. fstat's errno is not trustworthy in every
  // build (the Zig glibc 2.17 build returned errno 0 or ENOENT after a failed fstat).
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    int e = errno;  // before any Node-API call, which may change errno
    out[0] = -1;
    return Result(info, -e);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    out[0] = 0;
    return Result(info, e > 0 ? -e : -EIO);
  }
  out[0] = flags;
  out[1] = static_cast<int32_t>(st.st_mode & S_IFMT);
  out[2] = isatty(fd) ? 1 : 0;
  return Result(info, 0);
}

Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd) || info.Length() < 2 || !info[1].IsBoolean()) return Invalid(info);
  bool on = info[1].As<Napi::Boolean>().Value();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Result(info, -errno);
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return Result(info, -errno);
  flags = fcntl(fd, F_GETFL);
  return Result(info, flags < 0 ? -errno : flags);
}

Napi::Value ReadInto(const Napi::CallbackInfo& info) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!GetFd(info, &fd) || !GetRange(info, &data, &length)) return Invalid(info);
  ssize_t n;
  do n = read(fd, data, length);
  while (n < 0 && errno == EINTR);
  return Result(info, n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value WriteFrom(const Napi::CallbackInfo& info) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!GetFd(info, &fd) || !GetRange(info, &data, &length)) return Invalid(info);
  ssize_t n;
  do n = write(fd, data, length);
  while (n < 0 && errno == EINTR);
  return Result(info, n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value WriteChunks(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd) || info.Length() < 3 || !info[1].IsArray() || !info[2].IsNumber()) return Invalid(info);
  Napi::Array chunks = info[1].As<Napi::Array>();
  int64_t first_offset = info[2].As<Napi::Number>().Int64Value();
  uint32_t count = chunks.Length();
  if (count > IOV_MAX) count = IOV_MAX;
  struct iovec iov[IOV_MAX];
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value chunk = chunks[i];
    if (!chunk.IsTypedArray()) return Invalid(info);
    Napi::Uint8Array bytes = chunk.As<Napi::Uint8Array>();
    size_t skip = 0;
    if (i == 0) {
      if (first_offset < 0 || static_cast<uint64_t>(first_offset) > bytes.ByteLength()) return Invalid(info);
      skip = static_cast<size_t>(first_offset);
    }
    iov[i].iov_base = bytes.Data() + skip;
    iov[i].iov_len = bytes.ByteLength() - skip;
  }
  ssize_t n;
  do n = writev(fd, iov, static_cast<int>(count));
  while (n < 0 && errno == EINTR);
  return Result(info, n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value ShutdownWrite(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd)) return Invalid(info);
  return Result(info, shutdown(fd, SHUT_WR) < 0 ? -errno : 0);
}

Napi::Value ReadyNow(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd) || info.Length() < 2 || !info[1].IsNumber()) return Invalid(info);
  int want = info[1].As<Napi::Number>().Int32Value();
  struct pollfd p;
  p.fd = fd;
  p.events = static_cast<short>(((want & POLL_READ) ? POLLIN : 0) | ((want & POLL_WRITE) ? POLLOUT : 0));
  p.revents = 0;
  int rc;
  do rc = poll(&p, 1, 0);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return Result(info, -errno);
  if (p.revents & POLLNVAL) return Result(info, -EBADF);
  int bits = ((p.revents & POLLIN) ? POLL_READ : 0) | ((p.revents & POLLOUT) ? POLL_WRITE : 0) |
             ((p.revents & POLLERR) ? POLL_ERROR : 0) | ((p.revents & POLLHUP) ? POLL_HANGUP : 0);
  return Result(info, bits);
}

const ExportedFunction kFunctions[] = {
    Exported<ReadyNow>("readyNow"), Exported<FdStatus>("fdStatus"), Exported<SetNonBlocking>("setNonBlocking"),
    Exported<ReadInto>("readInto"), Exported<WriteFrom>("writeFrom"), Exported<WriteChunks>("writeChunks"),
    Exported<ShutdownWrite>("shutdownWrite")};

}  // namespace

void RegisterFdIo(Napi::Env env, Napi::Object exports) {
  ExportFunctions(env, exports, kFunctions);
}

}  // namespace socketpoll
