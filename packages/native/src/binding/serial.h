// serial.h — serial port line settings for @socketpoll/serialport (see serial.cc).
#ifndef SOCKETPOLL_SERIAL_H
#define SOCKETPOLL_SERIAL_H

#include <napi.h>

namespace socketpoll {

// Adds serialOpen, serialConfigure, serialSetBaudRate, serialGetBaudRate, serialSetModem,
// serialGetModem, serialFlush, serialOutputPending and serialClose to `exports`.
void RegisterSerial(Napi::Env env, Napi::Object exports);

}  // namespace socketpoll

#endif  // SOCKETPOLL_SERIAL_H
