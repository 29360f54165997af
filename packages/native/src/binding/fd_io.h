// fd_io.h — single-fd control and I/O for the stream layer (see fd_io.cc), and the calling
// convention the addon's other fd functions (serial.cc) share with it.
#ifndef SOCKETPOLL_FD_IO_H
#define SOCKETPOLL_FD_IO_H

#include <napi.h>

#include <cstddef>

namespace socketpoll {

// Adds fdStatus, setNonBlocking, readInto, writeFrom, writeChunks, shutdownWrite, readyNow to `exports`.
void RegisterFdIo(Napi::Env env, Napi::Object exports);

// ---- the fd functions' calling convention ------------------------------------------------------
// The fd comes first; arguments are checked for type only (values are the TypeScript's); the result
// is a count, 0 or a negative errno as a JS number; arguments of the wrong type throw a TypeError.

// info[0] as an fd (a number >= 0); false otherwise.
bool GetFd(const Napi::CallbackInfo& info, int* fd);

// `value` (a count, 0 or -errno) as the function's result.
Napi::Value Result(const Napi::CallbackInfo& info, double value);

// Throws TypeError("<area>: invalid arguments") and returns undefined.
Napi::Value InvalidArguments(const Napi::CallbackInfo& info, const char* area);

// One entry of a module's exports: the JS function `name`, made by Napi::Function::New<body>.
struct ExportedFunction {
  const char* name;
  Napi::Function (*make)(napi_env env, const char* name, void* data);
};

template <Napi::Function::Callback body>
constexpr ExportedFunction Exported(const char* name) {
  return {name, Napi::Function::New<body>};
}

// exports[f.name] = the function f makes, for each of `functions`.
template <size_t N>
void ExportFunctions(Napi::Env env, Napi::Object exports, const ExportedFunction (&functions)[N]) {
  for (const ExportedFunction& f : functions) exports.Set(f.name, f.make(env, f.name, nullptr));
}

}  // namespace socketpoll

#endif  // SOCKETPOLL_FD_IO_H
