// batch_io.h — read or write many fds in one native call (see batch_io.cc).
#ifndef SOCKETPOLL_BATCH_IO_H
#define SOCKETPOLL_BATCH_IO_H

#include <napi.h>

namespace socketpoll {

Napi::Value ReadEach(const Napi::CallbackInfo& info);
Napi::Value WriteEach(const Napi::CallbackInfo& info);

}  // namespace socketpoll

#endif  // SOCKETPOLL_BATCH_IO_H
