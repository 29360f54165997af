// gpio.cc — the GPIO character device's ioctls (uAPI v2), for @socketpoll/gpio.
//
// The structures cross as bytes: the TypeScript encodes and decodes them (its layout is checked
// against gpioAbi below), this file only checks the buffer's size for the call and makes it.
// Nothing else is allowed through: `op` picks one of six ioctls from a fixed table.
//
//   gpioIoctl(fd, op, buffer: Uint8Array) -> >= 0 | -errno   EINTR retried; elsewhere than Linux -ENOTSUP
//     op 0 GPIO_GET_CHIPINFO_IOCTL        buffer: struct gpiochip_info (out)
//     op 1 GPIO_V2_GET_LINEINFO_IOCTL     buffer: struct gpio_v2_line_info (offset in, info out)
//     op 2 GPIO_V2_GET_LINE_IOCTL         buffer: struct gpio_v2_line_request; returns the new
//                                         request fd, made O_NONBLOCK (edge events are read(2)
//                                         from it as struct gpio_v2_line_event records)
//     op 3 GPIO_V2_LINE_SET_CONFIG_IOCTL  buffer: struct gpio_v2_line_config
//     op 4 GPIO_V2_LINE_GET_VALUES_IOCTL  buffer: struct gpio_v2_line_values (mask in, bits out)
//     op 5 GPIO_V2_LINE_SET_VALUES_IOCTL  buffer: struct gpio_v2_line_values
//   gpioClose(fd) -> 0 | -errno   close(2) of a request fd (made here, not by Node's fs: a worker's
//     fs.closeSync warns about fds it did not open)
//   gpioAbi (module value): { supported, sizes: { chipInfo, lineInfo, lineRequest, lineConfig,
//     lineValues, lineEvent }, offsets: { ... } } of the structures as compiled here
//
// The structures are defined here from the kernel's ABI (include/uapi/linux/gpio.h, stable since
// Linux 5.10) so that every target builds the same code whatever its headers hold; where the
// headers have them, the sizes, offsets and ioctl numbers are checked against them at compile time.
#include "gpio.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#ifdef __linux__
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/gpio.h>)
#include <linux/gpio.h>
#endif
#endif
#endif

namespace socketpoll {
namespace {

namespace abi {

constexpr int kNameSize = 32;     // GPIO_MAX_NAME_SIZE
constexpr int kLinesMax = 64;     // GPIO_V2_LINES_MAX
constexpr int kNumAttrsMax = 10;  // GPIO_V2_LINE_NUM_ATTRS_MAX

typedef uint64_t aligned_u64 __attribute__((aligned(8)));

struct chip_info {
  char name[kNameSize];
  char label[kNameSize];
  uint32_t lines;
};

struct line_attribute {
  uint32_t id;
  uint32_t padding;
  union {
    aligned_u64 flags;
    aligned_u64 values;
    uint32_t debounce_period_us;
  };
};

struct line_config_attribute {
  line_attribute attr;
  aligned_u64 mask;
};

struct line_config {
  aligned_u64 flags;
  uint32_t num_attrs;
  uint32_t padding[5];
  line_config_attribute attrs[kNumAttrsMax];
};

struct line_request {
  uint32_t offsets[kLinesMax];
  char consumer[kNameSize];
  line_config config;
  uint32_t num_lines;
  uint32_t event_buffer_size;
  uint32_t padding[5];
  int32_t fd;
};

struct line_values {
  aligned_u64 bits;
  aligned_u64 mask;
};

struct line_info {
  char name[kNameSize];
  char consumer[kNameSize];
  uint32_t offset;
  uint32_t num_attrs;
  aligned_u64 flags;
  line_attribute attrs[kNumAttrsMax];
  uint32_t padding[4];
};

struct line_event {
  aligned_u64 timestamp_ns;
  uint32_t id;
  uint32_t offset;
  uint32_t seqno;
  uint32_t line_seqno;
  uint32_t padding[6];
};

// The kernel's sizes (the ABI is the same on every architecture: u64 members are 8-aligned).
static_assert(sizeof(chip_info) == 68, "gpiochip_info");
static_assert(sizeof(line_attribute) == 16, "gpio_v2_line_attribute");
static_assert(sizeof(line_config_attribute) == 24, "gpio_v2_line_config_attribute");
static_assert(sizeof(line_config) == 272, "gpio_v2_line_config");
static_assert(sizeof(line_request) == 592, "gpio_v2_line_request");
static_assert(sizeof(line_values) == 16, "gpio_v2_line_values");
static_assert(sizeof(line_info) == 256, "gpio_v2_line_info");
static_assert(sizeof(line_event) == 48, "gpio_v2_line_event");

}  // namespace abi

#ifdef __linux__
constexpr unsigned long kOps[] = {
    _IOR(0xB4, 0x01, abi::chip_info),
    _IOWR(0xB4, 0x05, abi::line_info),
    _IOWR(0xB4, 0x07, abi::line_request),
    _IOWR(0xB4, 0x0D, abi::line_config),
    _IOWR(0xB4, 0x0E, abi::line_values),
    _IOWR(0xB4, 0x0F, abi::line_values),
};

#ifdef GPIO_V2_LINES_MAX
// These headers have uAPI v2: the definitions above must match them.
static_assert(sizeof(abi::line_request) == sizeof(struct gpio_v2_line_request), "line request");
static_assert(sizeof(abi::line_info) == sizeof(struct gpio_v2_line_info), "line info");
static_assert(sizeof(abi::line_event) == sizeof(struct gpio_v2_line_event), "line event");
static_assert(offsetof(abi::line_request, fd) == offsetof(struct gpio_v2_line_request, fd), "request fd");
static_assert(offsetof(abi::line_info, flags) == offsetof(struct gpio_v2_line_info, flags), "info flags");
static_assert(kOps[0] == GPIO_GET_CHIPINFO_IOCTL, "GPIO_GET_CHIPINFO_IOCTL");
static_assert(kOps[1] == GPIO_V2_GET_LINEINFO_IOCTL, "GPIO_V2_GET_LINEINFO_IOCTL");
static_assert(kOps[2] == GPIO_V2_GET_LINE_IOCTL, "GPIO_V2_GET_LINE_IOCTL");
static_assert(kOps[3] == GPIO_V2_LINE_SET_CONFIG_IOCTL, "GPIO_V2_LINE_SET_CONFIG_IOCTL");
static_assert(kOps[4] == GPIO_V2_LINE_GET_VALUES_IOCTL, "GPIO_V2_LINE_GET_VALUES_IOCTL");
static_assert(kOps[5] == GPIO_V2_LINE_SET_VALUES_IOCTL, "GPIO_V2_LINE_SET_VALUES_IOCTL");
#endif
#endif

constexpr size_t kOpSizes[] = {
    sizeof(abi::chip_info),   sizeof(abi::line_info),   sizeof(abi::line_request),
    sizeof(abi::line_config), sizeof(abi::line_values), sizeof(abi::line_values),
};
constexpr int kOpCount = static_cast<int>(sizeof(kOpSizes) / sizeof(kOpSizes[0]));

Napi::Value GpioIoctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "gpioIoctl: invalid arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Number>().Int32Value();
  Napi::Uint8Array buffer = info[2].As<Napi::Uint8Array>();
  if (fd < 0 || op < 0 || op >= kOpCount || buffer.ByteLength() != kOpSizes[op]) {
    Napi::TypeError::New(env, "gpioIoctl: invalid arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#ifdef __linux__
  // The buffer's bytes are copied into a correctly aligned structure and back.
  union {
    abi::chip_info chip;
    abi::line_info line;
    abi::line_request request;
    abi::line_config config;
    abi::line_values values;
  } arg;
  uint8_t* bytes = buffer.Data();
  std::memcpy(&arg, bytes, kOpSizes[op]);
  int rc;
  do {
    rc = ioctl(fd, kOps[op], &arg);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return Napi::Number::New(env, -errno);
  if (op == 2) {  // GPIO_V2_GET_LINE_IOCTL: the new request fd
    rc = arg.request.fd;
    int flags = fcntl(rc, F_GETFL);
    if (flags < 0 || fcntl(rc, F_SETFL, flags | O_NONBLOCK) < 0) {
      int err = errno;
      close(rc);
      return Napi::Number::New(env, -err);
    }
  }
  std::memcpy(bytes, &arg, kOpSizes[op]);
  return Napi::Number::New(env, rc);
#else
  return Napi::Number::New(env, -ENOTSUP);
#endif
}

Napi::Value GpioClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 0) {
    Napi::TypeError::New(env, "gpioClose: invalid arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#ifdef __linux__
  // No retry on EINTR: on Linux the fd is released whatever close() returns.
  return Napi::Number::New(env, close(info[0].As<Napi::Number>().Int32Value()) < 0 ? -errno : 0);
#else
  return Napi::Number::New(env, -ENOTSUP);
#endif
}

Napi::Object Abi(Napi::Env env) {
  Napi::Object sizes = Napi::Object::New(env);
  sizes.Set("chipInfo", static_cast<double>(sizeof(abi::chip_info)));
  sizes.Set("lineInfo", static_cast<double>(sizeof(abi::line_info)));
  sizes.Set("lineRequest", static_cast<double>(sizeof(abi::line_request)));
  sizes.Set("lineConfig", static_cast<double>(sizeof(abi::line_config)));
  sizes.Set("lineValues", static_cast<double>(sizeof(abi::line_values)));
  sizes.Set("lineEvent", static_cast<double>(sizeof(abi::line_event)));
  Napi::Object offsets = Napi::Object::New(env);
  offsets.Set("chipInfoLines", static_cast<double>(offsetof(abi::chip_info, lines)));
  offsets.Set("lineInfoOffset", static_cast<double>(offsetof(abi::line_info, offset)));
  offsets.Set("lineInfoFlags", static_cast<double>(offsetof(abi::line_info, flags)));
  offsets.Set("lineInfoAttrs", static_cast<double>(offsetof(abi::line_info, attrs)));
  offsets.Set("requestConsumer", static_cast<double>(offsetof(abi::line_request, consumer)));
  offsets.Set("requestConfig", static_cast<double>(offsetof(abi::line_request, config)));
  offsets.Set("requestNumLines", static_cast<double>(offsetof(abi::line_request, num_lines)));
  offsets.Set("requestEventBufferSize", static_cast<double>(offsetof(abi::line_request, event_buffer_size)));
  offsets.Set("requestFd", static_cast<double>(offsetof(abi::line_request, fd)));
  offsets.Set("configAttrs", static_cast<double>(offsetof(abi::line_config, attrs)));
  offsets.Set("eventSeqno", static_cast<double>(offsetof(abi::line_event, seqno)));
  Napi::Object out = Napi::Object::New(env);
#ifdef __linux__
  out.Set("supported", true);
#else
  out.Set("supported", false);
#endif
  out.Set("sizes", sizes);
  out.Set("offsets", offsets);
  return out;
}

}  // namespace

void RegisterGpio(Napi::Env env, Napi::Object exports) {
  exports.Set("gpioIoctl", Napi::Function::New<GpioIoctl>(env, "gpioIoctl"));
  exports.Set("gpioClose", Napi::Function::New<GpioClose>(env, "gpioClose"));
  exports.Set("gpioAbi", Abi(env));
}

}  // namespace socketpoll
