/*
 * fd_helper.c — a test-only Node addon that makes the kernel fds Node cannot make itself
 * (socketpairs, pipes, eventfd, ptys, TCP pairs with urgent data) and does raw reads and writes
 * on them. Used by the jest suite, the demo and the benchmarks; never shipped in a package.
 * Every function returns a negative errno instead of throwing, so tests can assert on it.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#define NAPI_VERSION 8

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#endif

#define MAX_ARGS 3

static int32_t arg_int(napi_env env, napi_value v, int32_t dflt) {
  int32_t out = dflt;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_number) napi_get_value_int32(env, v, &out);
  return out;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static napi_value pair(napi_env env, int a, int b) {
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, a));
  napi_set_element(env, arr, 1, num(env, b));
  return arr;
}

static int nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -errno;
  return 0;
}

#define ARGS()                                                                                \
  size_t argc = MAX_ARGS;                                                                     \
  napi_value argv[MAX_ARGS];                                                                  \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);                                       \
  for (size_t i_ = argc; i_ < MAX_ARGS; i_++) napi_get_undefined(env, &argv[i_]);

/* socketpair(kind = 0 stream | 1 dgram | 2 seqpacket) -> [a, b] | -errno */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  ARGS();
  int kinds[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  int kind = arg_int(env, argv[0], 0);
  if (kind < 0 || kind > 2) return num(env, -EINVAL);
  int sv[2];
  if (socketpair(AF_UNIX, kinds[kind], 0, sv) < 0) return num(env, -errno);
  nonblock_cloexec(sv[0]);
  nonblock_cloexec(sv[1]);
  return pair(env, sv[0], sv[1]);
}

/* pipe() -> [read, write] | -errno */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int p[2];
  if (pipe(p) < 0) return num(env, -errno);
  nonblock_cloexec(p[0]);
  nonblock_cloexec(p[1]);
  return pair(env, p[0], p[1]);
}

/* eventfd(initial = 0) -> fd | -errno */
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  ARGS();
#ifdef __linux__
  int fd = eventfd((unsigned)arg_int(env, argv[0], 0), EFD_NONBLOCK | EFD_CLOEXEC);
  return num(env, fd < 0 ? -errno : fd);
#else
  (void)argv;
  return num(env, -ENOSYS);
#endif
}

/* openpty() -> [master, slave] | -errno; raw mode is not set: the line discipline is live. */
static napi_value js_openpty(napi_env env, napi_callback_info info) {
  (void)info;
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return num(env, -errno);
  const char *name = NULL;
  if (grantpt(master) < 0 || unlockpt(master) < 0 || (name = ptsname(master)) == NULL) {
    int e = errno;
    close(master);
    return num(env, -e);
  }
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    int e = errno;
    close(master);
    return num(env, -e);
  }
  nonblock_cloexec(master);
  nonblock_cloexec(slave);
  return pair(env, master, slave);
}

/* tcpPair() -> [client, server] over 127.0.0.1 | -errno */
static napi_value js_tcp_pair(napi_env env, napi_callback_info info) {
  (void)info;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int c = -1, s = -1, e = 0;
  if (ls < 0) return num(env, -errno);
  if (bind(ls, (struct sockaddr *)&sin, len) < 0 || listen(ls, 1) < 0 ||
      getsockname(ls, (struct sockaddr *)&sin, &len) < 0) goto fail;
  c = socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0 || connect(c, (struct sockaddr *)&sin, len) < 0) goto fail;
  s = accept(ls, NULL, NULL);
  if (s < 0) goto fail;
  close(ls);
  nonblock_cloexec(c);
  nonblock_cloexec(s);
  return pair(env, c, s);
fail:
  e = errno;
  close(ls);
  if (c >= 0) close(c);
  return num(env, -e);
}

/* sendOob(fd) -> 1 | -errno: one byte of TCP urgent data (raises POLLPRI at the peer). */
static napi_value js_send_oob(napi_env env, napi_callback_info info) {
  ARGS();
  ssize_t n = send(arg_int(env, argv[0], -1), "!", 1, MSG_OOB);
  return num(env, n < 0 ? -errno : n);
}

/* write(fd, string | Buffer) -> bytes | -errno */
static napi_value js_write(napi_env env, napi_callback_info info) {
  ARGS();
  int fd = arg_int(env, argv[0], -1);
  bool is_buffer = false;
  napi_is_buffer(env, argv[1], &is_buffer);
  ssize_t n;
  if (is_buffer) {
    void *data;
    size_t len;
    napi_get_buffer_info(env, argv[1], &data, &len);
    n = write(fd, data, len);
  } else {
    char buf[65536];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[1], buf, sizeof buf, &len) != napi_ok) return num(env, -EINVAL);
    n = write(fd, buf, len);
  }
  return num(env, n < 0 ? -errno : n);
}

/* writeCounter(fd, value) -> 8 | -errno: an 8-byte eventfd increment. */
static napi_value js_write_counter(napi_env env, napi_callback_info info) {
  ARGS();
  uint64_t v = (uint64_t)arg_int(env, argv[1], 1);
  ssize_t n = write(arg_int(env, argv[0], -1), &v, sizeof v);
  return num(env, n < 0 ? -errno : n);
}

/* read(fd, max = 65536) -> string (utf8, may be empty on EOF) | -errno */
static napi_value js_read(napi_env env, napi_callback_info info) {
  ARGS();
  int max = arg_int(env, argv[1], 65536);
  if (max <= 0 || max > (1 << 20)) return num(env, -EINVAL);
  char *buf = malloc((size_t)max);
  if (buf == NULL) return num(env, -ENOMEM);
  ssize_t n = read(arg_int(env, argv[0], -1), buf, (size_t)max);
  napi_value out;
  if (n < 0) {
    out = num(env, -errno);
  } else {
    napi_create_string_utf8(env, buf, (size_t)n, &out);
  }
  free(buf);
  return out;
}

/* drain(fd) -> bytes read until EAGAIN or EOF | -errno (when nothing was read) */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  ARGS();
  int fd = arg_int(env, argv[0], -1);
  char buf[65536];
  double total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += (double)n;
  if (n < 0 && errno != EAGAIN && total == 0) return num(env, -errno);
  return num(env, total);
}

/* fill(fd) -> bytes written until EAGAIN (makes a socket unwritable) */
static napi_value js_fill(napi_env env, napi_callback_info info) {
  ARGS();
  int fd = arg_int(env, argv[0], -1);
  static char buf[65536];
  double total = 0;
  ssize_t n;
  while ((n = write(fd, buf, sizeof buf)) > 0) total += (double)n;
  if (n < 0 && errno == EAGAIN) {
    /* top up byte by byte so the buffer is truly full */
    while (write(fd, buf, 1) == 1) total += 1;
  }
  return num(env, total);
}

/* shutdown(fd, how: 0 rd | 1 wr | 2 both) -> 0 | -errno */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS();
  int rc = shutdown(arg_int(env, argv[0], -1), arg_int(env, argv[1], SHUT_WR));
  return num(env, rc < 0 ? -errno : 0);
}

/* close(fd) -> 0 | -errno */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS();
  int rc = close(arg_int(env, argv[0], -1));
  return num(env, rc < 0 ? -errno : 0);
}

/* isOpen(fd) -> boolean */
static napi_value js_is_open(napi_env env, napi_callback_info info) {
  ARGS();
  napi_value v;
  napi_get_boolean(env, fcntl(arg_int(env, argv[0], -1), F_GETFD) >= 0, &v);
  return v;
}

/* dup2(from, to) -> to | -errno */
static napi_value js_dup2(napi_env env, napi_callback_info info) {
  ARGS();
  int rc = dup2(arg_int(env, argv[0], -1), arg_int(env, argv[1], -1));
  return num(env, rc < 0 ? -errno : rc);
}

/* openFifo(path) -> [read, write] (creates the FIFO; both ends non-blocking) | -errno */
static napi_value js_open_fifo(napi_env env, napi_callback_info info) {
  ARGS();
  char path[4096];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return num(env, -EINVAL);
  if (mkfifo(path, 0600) < 0 && errno != EEXIST) return num(env, -errno);
  int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (r < 0) return num(env, -errno);
  int w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (w < 0) {
    int e = errno;
    close(r);
    return num(env, -e);
  }
  return pair(env, r, w);
}

/* openTun(name) -> fd of a new TUN interface (IFF_TUN | IFF_NO_PI, non-blocking) | -errno (Linux) */
static napi_value js_open_tun(napi_env env, napi_callback_info info) {
  ARGS();
#ifdef __linux__
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, &len) != napi_ok) return num(env, -EINVAL);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return num(env, -errno);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
#else
  (void)argv;
  return num(env, -ENOTSUP);
#endif
}

NAPI_MODULE_INIT() {
  struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"socketpair", js_socketpair}, {"pipe", js_pipe},         {"eventfd", js_eventfd},
      {"openpty", js_openpty},       {"tcpPair", js_tcp_pair},  {"sendOob", js_send_oob},
      {"write", js_write},           {"writeCounter", js_write_counter},
      {"read", js_read},             {"drain", js_drain},       {"fill", js_fill},
      {"shutdown", js_shutdown},     {"close", js_close},       {"isOpen", js_is_open},
      {"dup2", js_dup2},             {"openFifo", js_open_fifo}, {"openTun", js_open_tun},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
