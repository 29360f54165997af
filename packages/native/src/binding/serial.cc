// serial.cc — line settings of a serial port (a tty) for @socketpoll/serialport. The I/O itself is
// readInto/writeFrom (fd_io.cc) on the poller's readiness; this file only opens, configures and
// closes. Every function returns a count, 0, or a negative errno; no policy here (option checks
// and typed errors are the TypeScript's).
//
//   serialOpen(path, lock) -> fd | -errno      O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC; -ENOTTY
//                                              for anything that is not a terminal; lock: flock(LOCK_EX
//                                              | LOCK_NB), -EWOULDBLOCK when another open holds it.
//                                              The fd is closed when its environment (main thread or
//                                              worker) tears down, unless serialClose() came first.
//   serialConfigure(fd, baudRate, dataBits, stopBits, parity, flags) -> 0 | -errno   raw mode, VMIN 1
//                                              parity: 0 none, 1 even, 2 odd, 3 mark, 4 space
//                                              flags: 1 rtscts, 2 xon, 4 xoff, 8 xany, 16 hupcl
//   serialSetBaudRate(fd, baudRate) -> 0 | -errno   standard rates through termios; others through
//                                              termios2/BOTHER (Linux) or IOSSIOSPEED (macOS)
//   serialGetBaudRate(fd) -> rate | -errno     what the driver holds (TCGETS2 on Linux)
//   serialSetModem(fd, dtr, rts, cts, dsr, brk) -> 0 | -errno   each -1 (leave), 0 or 1; TIOCMBIS,
//                                              TIOCMBIC, TIOCSBRK/TIOCCBRK (a pty has no modem lines:
//                                              -ENOTTY or -EINVAL)
//   serialGetModem(fd) -> bits | -errno        1 cts, 2 dsr, 4 dcd, 8 ri, 16 dtr, 32 rts (TIOCMGET)
//   serialFlush(fd) -> 0 | -errno              tcflush(TCIOFLUSH)
//   serialOutputPending(fd) -> bytes | -errno  bytes not yet sent (TIOCOUTQ), plus 1 while the
//                                              transmitter is still shifting out (Linux TIOCSERGETLSR)
//   serialClose(fd) -> 0 | -errno
#include "serial.h"

#include "fd_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace socketpoll {
namespace {

// ---- custom rates -----------------------------------------------------------------------------

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
                           defined(__arm__) || defined(__riscv) || defined(__loongarch__))
// The kernel's struct termios2 (asm-generic/termbits.h), defined here under another name:
// <asm/termbits.h> cannot be included next to <termios.h> (both define struct termios). The
// layout is the generic one, which these architectures use; others get ENOTSUP for custom rates.
struct KernelTermios2 {
  uint32_t c_iflag;
  uint32_t c_oflag;
  uint32_t c_cflag;
  uint32_t c_lflag;
  uint8_t c_line;
  uint8_t c_cc[19];
  uint32_t c_ispeed;
  uint32_t c_ospeed;
};
static_assert(sizeof(KernelTermios2) == 44, "struct termios2 is 44 bytes");
#define SOCKETPOLL_TCGETS2 _IOR('T', 0x2A, KernelTermios2)
#define SOCKETPOLL_TCSETS2 _IOW('T', 0x2B, KernelTermios2)
constexpr uint32_t kCbaud = 0010017;
constexpr uint32_t kBother = 0010000;
constexpr int kIbshift = 16;
#define SOCKETPOLL_HAVE_TERMIOS2 1
#endif

#if defined(__APPLE__)
// <IOKit/serial/ioss.h>: sets any speed; the termios speed stays what tcsetattr was given.
#define SOCKETPOLL_IOSSIOSPEED _IOW('T', 2, speed_t)
#endif

struct Speed {
  uint32_t rate;
  speed_t code;
};

const Speed kSpeeds[] = {
    {50, B50},         {75, B75},         {110, B110},       {134, B134},       {150, B150},
    {200, B200},       {300, B300},       {600, B600},       {1200, B1200},     {1800, B1800},
    {2400, B2400},     {4800, B4800},     {9600, B9600},     {19200, B19200},   {38400, B38400},
#ifdef B7200
    {7200, B7200},
#endif
#ifdef B14400
    {14400, B14400},
#endif
#ifdef B28800
    {28800, B28800},
#endif
#ifdef B57600
    {57600, B57600},
#endif
#ifdef B76800
    {76800, B76800},
#endif
#ifdef B115200
    {115200, B115200},
#endif
#ifdef B230400
    {230400, B230400},
#endif
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
};

bool StandardSpeed(uint32_t rate, speed_t* code) {
  for (const Speed& s : kSpeeds) {
    if (s.rate == rate) {
      *code = s.code;
      return true;
    }
  }
  return false;
}

uint32_t RateOfCode(speed_t code) {
  for (const Speed& s : kSpeeds) {
    if (s.code == code) return s.rate;
  }
  return 0;
}

int SetAttr(int fd, const struct termios* t) {
  int r;
  do r = tcsetattr(fd, TCSANOW, t);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

// Applies `t` with the speed set to `rate`.
int ApplyWithRate(int fd, struct termios* t, uint32_t rate) {
  speed_t code;
  if (StandardSpeed(rate, &code)) {
    cfsetispeed(t, code);
    cfsetospeed(t, code);
    return SetAttr(fd, t);
  }
#if defined(SOCKETPOLL_HAVE_TERMIOS2)
  int r = SetAttr(fd, t);  // everything but the speed, which TCSETS leaves as it was
  if (r < 0) return r;
  KernelTermios2 t2;
  if (ioctl(fd, SOCKETPOLL_TCGETS2, &t2) < 0) return -errno;
  t2.c_cflag &= ~(kCbaud | (kCbaud << kIbshift));  // input speed B0: the same as the output speed
  t2.c_cflag |= kBother;
  t2.c_ispeed = rate;
  t2.c_ospeed = rate;
  if (ioctl(fd, SOCKETPOLL_TCSETS2, &t2) < 0) return -errno;
  return 0;
#elif defined(__APPLE__)
  cfsetispeed(t, B9600);  // a placeholder tcsetattr accepts; IOSSIOSPEED then sets the real one
  cfsetospeed(t, B9600);
  int r = SetAttr(fd, t);
  if (r < 0) return r;
  speed_t speed = rate;
  if (ioctl(fd, SOCKETPOLL_IOSSIOSPEED, &speed) < 0) return -errno;
  return 0;
#elif defined(__linux__)
  (void)fd;
  (void)t;
  return -ENOTSUP;  // an architecture whose termios2 layout is not the generic one
#else
  // The BSDs: speed_t is the rate itself; the driver says whether it can.
  cfsetispeed(t, rate);
  cfsetospeed(t, rate);
  return SetAttr(fd, t);
#endif
}

// ---- JS glue ----------------------------------------------------------------------------------

Napi::Value Invalid(const Napi::CallbackInfo& info) {
  return InvalidArguments(info, "serial");
}

// info[i] as an int32 (numbers only); false otherwise.
bool Int(const Napi::CallbackInfo& info, size_t i, int32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

// A JS function (fd) -> op(fd): a count, 0 or -errno.
template <double (*op)(int fd)>
Napi::Value WithFd(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd)) return Invalid(info);
  return Result(info, op(fd));
}

void CloseOnTeardown(void* arg) {
  close(static_cast<int>(reinterpret_cast<intptr_t>(arg)));
}

void* HookArg(int fd) {
  return reinterpret_cast<void*>(static_cast<intptr_t>(fd));
}

Napi::Value SerialOpen(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBoolean()) return Invalid(info);
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool lock = info[1].As<Napi::Boolean>().Value();
  int fd;
  do fd = open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return Result(info, -errno);
  int failure = 0;
  if (!isatty(fd)) {
    failure = -ENOTTY;
  } else if (lock && flock(fd, LOCK_EX | LOCK_NB) < 0) {
    failure = -errno;
  }
  if (failure != 0) {
    close(fd);
    return Result(info, failure);
  }
  napi_add_env_cleanup_hook(info.Env(), CloseOnTeardown, HookArg(fd));
  return Result(info, fd);
}

Napi::Value SerialClose(const Napi::CallbackInfo& info) {
  int fd;
  if (!GetFd(info, &fd)) return Invalid(info);
  napi_remove_env_cleanup_hook(info.Env(), CloseOnTeardown, HookArg(fd));
  // Not retried on EINTR: the fd is released either way (POSIX leaves it unspecified; Linux and
  // macOS free it).
  return Result(info, close(fd) < 0 && errno != EINTR ? -errno : 0);
}

Napi::Value SerialConfigure(const Napi::CallbackInfo& info) {
  int fd;
  int32_t rate, data_bits, stop_bits, parity, flags;
  if (!GetFd(info, &fd) || !Int(info, 1, &rate) || !Int(info, 2, &data_bits) || !Int(info, 3, &stop_bits) ||
      !Int(info, 4, &parity) || !Int(info, 5, &flags) || rate <= 0) {
    return Invalid(info);
  }
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return Result(info, -errno);

  // Raw: no line editing, echo, signals, translation or stripping of input or output.
  t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY | INPCK | IGNPAR);
  t.c_oflag &= ~OPOST;
  t.c_lflag &= ~(ECHO | ECHONL | ECHOE | ECHOK | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | HUPCL);
#ifdef CMSPAR
  t.c_cflag &= ~CMSPAR;
#endif
#ifdef CRTSCTS
  t.c_cflag &= ~CRTSCTS;
#endif
  t.c_cflag |= CLOCAL | CREAD;
  switch (data_bits) {
    case 5: t.c_cflag |= CS5; break;
    case 6: t.c_cflag |= CS6; break;
    case 7: t.c_cflag |= CS7; break;
    case 8: t.c_cflag |= CS8; break;
    default: return Result(info, -EINVAL);
  }
  if (stop_bits == 2) t.c_cflag |= CSTOPB;
  else if (stop_bits != 1) return Result(info, -EINVAL);
  switch (parity) {
    case 0: break;
    case 1: t.c_cflag |= PARENB; break;
    case 2: t.c_cflag |= PARENB | PARODD; break;
#ifdef CMSPAR
    case 3: t.c_cflag |= PARENB | CMSPAR | PARODD; break;
    case 4: t.c_cflag |= PARENB | CMSPAR; break;
#else
    case 3:
    case 4: return Result(info, -ENOTSUP);  // no stick parity in this system's termios
#endif
    default: return Result(info, -EINVAL);
  }
  if (parity != 0) t.c_iflag |= INPCK;
  if (flags & 1) {
#ifdef CRTSCTS
    t.c_cflag |= CRTSCTS;
#else
    return Result(info, -ENOTSUP);
#endif
  }
  if (flags & 2) t.c_iflag |= IXON;
  if (flags & 4) t.c_iflag |= IXOFF;
  if (flags & 8) t.c_iflag |= IXANY;
  if (flags & 16) t.c_cflag |= HUPCL;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return Result(info, ApplyWithRate(fd, &t, static_cast<uint32_t>(rate)));
}

Napi::Value SerialSetBaudRate(const Napi::CallbackInfo& info) {
  int fd;
  int32_t rate;
  if (!GetFd(info, &fd) || !Int(info, 1, &rate) || rate <= 0) return Invalid(info);
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return Result(info, -errno);
  return Result(info, ApplyWithRate(fd, &t, static_cast<uint32_t>(rate)));
}

double GetBaudRate(int fd) {
#if defined(SOCKETPOLL_HAVE_TERMIOS2)
  KernelTermios2 t2;
  if (ioctl(fd, SOCKETPOLL_TCGETS2, &t2) < 0) return -errno;
  if (t2.c_ospeed != 0 || (t2.c_cflag & kCbaud) == kBother) return t2.c_ospeed;
#endif
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return -errno;
  speed_t code = cfgetospeed(&t);
#if defined(__linux__)
  return RateOfCode(code);
#else
  (void)RateOfCode;
  return static_cast<double>(code);  // the BSDs and macOS: speed_t is the rate
#endif
}

int Ioctl(int fd, unsigned long request, void* arg) {
  int r;
  do r = ioctl(fd, request, arg);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

Napi::Value SerialSetModem(const Napi::CallbackInfo& info) {
  int fd;
  int32_t dtr, rts, cts, dsr, brk;
  if (!GetFd(info, &fd) || !Int(info, 1, &dtr) || !Int(info, 2, &rts) || !Int(info, 3, &cts) || !Int(info, 4, &dsr) ||
      !Int(info, 5, &brk)) {
    return Invalid(info);
  }
  int on = 0, off = 0;
  const struct { int32_t value; int bit; } lines[] = {
      {dtr, TIOCM_DTR}, {rts, TIOCM_RTS}, {cts, TIOCM_CTS}, {dsr, TIOCM_DSR}};
  for (const auto& line : lines) {
    if (line.value == 1) on |= line.bit;
    else if (line.value == 0) off |= line.bit;
  }
  int r = 0;
  if (on != 0 && (r = Ioctl(fd, TIOCMBIS, &on)) < 0) return Result(info, r);
  if (off != 0 && (r = Ioctl(fd, TIOCMBIC, &off)) < 0) return Result(info, r);
  if (brk == 1) r = Ioctl(fd, TIOCSBRK, nullptr);
  else if (brk == 0) r = Ioctl(fd, TIOCCBRK, nullptr);
  return Result(info, r);
}

double GetModem(int fd) {
  int bits = 0;
  int r = Ioctl(fd, TIOCMGET, &bits);
  if (r < 0) return r;
  int out = 0;
  if (bits & TIOCM_CTS) out |= 1;
  if (bits & TIOCM_DSR) out |= 2;
  if (bits & TIOCM_CAR) out |= 4;
  if (bits & TIOCM_RNG) out |= 8;
  if (bits & TIOCM_DTR) out |= 16;
  if (bits & TIOCM_RTS) out |= 32;
  return out;
}

double Flush(int fd) {
  return tcflush(fd, TCIOFLUSH) < 0 ? -errno : 0;
}

double OutputPending(int fd) {
  int queued = 0;
  int r = Ioctl(fd, TIOCOUTQ, &queued);
  if (r < 0) return r;
#if defined(__linux__) && defined(TIOCSERGETLSR) && defined(TIOCSER_TEMT)
  // The UART's own FIFO and shift register are not in TIOCOUTQ. Drivers without it (a pty) refuse.
  unsigned int lsr = 0;
  if (queued == 0 && Ioctl(fd, TIOCSERGETLSR, &lsr) == 0 && !(lsr & TIOCSER_TEMT)) queued = 1;
#endif
  return queued;
}

const ExportedFunction kFunctions[] = {
    Exported<SerialOpen>("serialOpen"), Exported<SerialClose>("serialClose"),
    Exported<SerialConfigure>("serialConfigure"), Exported<SerialSetBaudRate>("serialSetBaudRate"),
    Exported<WithFd<GetBaudRate>>("serialGetBaudRate"), Exported<SerialSetModem>("serialSetModem"),
    Exported<WithFd<GetModem>>("serialGetModem"), Exported<WithFd<Flush>>("serialFlush"),
    Exported<WithFd<OutputPending>>("serialOutputPending")};

}  // namespace

void RegisterSerial(Napi::Env env, Napi::Object exports) {
  ExportFunctions(env, exports, kFunctions);
}

}  // namespace socketpoll
