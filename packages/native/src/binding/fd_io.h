// fd_io.h — single-fd control and I/O for the stream layer (see fd_io.cc).
#ifndef SOCKETPOLL_FD_IO_H
#define SOCKETPOLL_FD_IO_H

#include <napi.h>

namespace socketpoll {

// Adds fdStatus, setNonBlocking, readInto, writeFrom, writeChunks, shutdownWrite, readyNow to `exports`.
void RegisterFdIo(Napi::Env env, Napi::Object exports);

}  // namespace socketpoll

#endif  // SOCKETPOLL_FD_IO_H
