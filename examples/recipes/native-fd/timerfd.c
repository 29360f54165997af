/*
 * timerfd.c — a minimal Node-API addon that hands JS the fds of two Linux kernel objects, the
 * way a driver or library addon would: an eventfd (a counter another thread or process can
 * signal) and a periodic timerfd. The addon owns nothing after returning: JS polls, reads and
 * closes the fds. Linux only.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <stdio.h>
#include <node_api.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *what) {
  char message[128];
  snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* eventfd(initial): a non-blocking eventfd; reads return the 8-byte counter and reset it. */
static napi_value make_eventfd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t initial = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc > 0) napi_get_value_uint32(env, argv[0], &initial);
  int fd = eventfd(initial, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "eventfd");
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* timerfd(intervalMs): a non-blocking timerfd that expires every intervalMs; reads return the
 * 8-byte number of expirations since the last read. */
static napi_value make_timerfd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t ms = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &ms) != napi_ok || ms == 0) {
    napi_throw_range_error(env, NULL, "timerfd(intervalMs): intervalMs must be an integer > 0");
    return NULL;
  }
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "timerfd_create");
  struct itimerspec spec = {
      .it_interval = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L},
      .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L},
  };
  if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return throw_errno(env, "timerfd_settime");
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"eventfd", NULL, make_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"timerfd", NULL, make_timerfd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
