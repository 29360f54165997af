// gpio.h — the Linux GPIO character device (uAPI v2) for @socketpoll/gpio (see gpio.cc).
#ifndef SOCKETPOLL_GPIO_H
#define SOCKETPOLL_GPIO_H

#include <napi.h>

namespace socketpoll {

// Adds gpioIoctl, gpioClose and gpioAbi to `exports`.
void RegisterGpio(Napi::Env env, Napi::Object exports);

}  // namespace socketpoll

#endif  // SOCKETPOLL_GPIO_H
