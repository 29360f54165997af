/*
 * test_harness.h — what every C test program shares: the CHECK macros, the runner and its
 * closing line ("N passed, N failed, N skipped"), and real-fd fixtures (socketpairs, pipes).
 * Header-only; each test program is one .c file that includes it once.
 * A test is `static int test_x(void)`: 0 passed, 1 failed (CHECK returns it), -1 skipped (SKIP).
 */
#ifndef SOCKETPOLL_TEST_HARNESS_H
#define SOCKETPOLL_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_UNUSED __attribute__((unused))

static int harness_passed, harness_failed, harness_skipped;
static const char *harness_current;

#define CHECK(cond)                                                                           \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
      return 1;                                                                               \
    }                                                                                         \
  } while (0)

#define CHECK_EQ(a, b)                                                                        \
  do {                                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                                       \
    if (a_ != b_) {                                                                           \
      fprintf(stderr, "  FAIL %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
              a_, #b, b_);                                                                    \
      return 1;                                                                               \
    }                                                                                         \
  } while (0)

/* Skips the current test, saying why. */
#define SKIP(why)                                                                             \
  do {                                                                                        \
    printf("skip %s: %s\n", harness_current, why);                                            \
    return -1;                                                                                \
  } while (0)

static HARNESS_UNUSED void run(const char *name, int (*fn)(void)) {
  harness_current = name;
  int rc = fn();
  if (rc == 0) {
    harness_passed++;
    printf("ok   %s\n", name);
  } else if (rc < 0) {
    harness_skipped++;
  } else {
    harness_failed++;
    printf("FAIL %s\n", name);
  }
  fflush(stdout);
}

/* Prints the closing line and returns main's exit code. */
static HARNESS_UNUSED int finish(void) {
  printf("%d passed, %d failed, %d skipped\n", harness_passed, harness_failed, harness_skipped);
  return harness_failed ? 1 : 0;
}

/* ---- real fds (portable: no SOCK_NONBLOCK/pipe2, so the tests build on macOS too) ---------- */

static HARNESS_UNUSED void nonblock(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static HARNESS_UNUSED void nonblock_cloexec(int fd) {
  nonblock(fd);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* A non-blocking, close-on-exec AF_UNIX stream socketpair. */
static HARNESS_UNUSED void make_socketpair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  nonblock_cloexec(sv[0]);
  nonblock_cloexec(sv[1]);
}

/* A non-blocking, close-on-exec pipe: p[0] reads, p[1] writes. */
static HARNESS_UNUSED void make_pipe(int p[2]) {
  if (pipe(p) != 0) abort();
  nonblock_cloexec(p[0]);
  nonblock_cloexec(p[1]);
}

static HARNESS_UNUSED void put(int fd, const char *s) {
  if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) abort();
}

/* Reads until EAGAIN or EOF; returns the byte count. */
static HARNESS_UNUSED int drain(int fd) {
  char buf[4096];
  int total = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) total += (int)n;
  return total;
}

static HARNESS_UNUSED int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static HARNESS_UNUSED void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

#ifdef SOCKETPOLL_H
/* The events one wait reports for fd (and its data), or 0 when the wait returned none for it. */
static HARNESS_UNUSED int wait_for(SocketPoll_T p, int fd, int timeout_ms, void **data) {
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, timeout_ms);
  if (n < 0) return n;
  for (int i = 0; i < n; i++) {
    if (ev[i].fd == fd) {
      if (data) *data = ev[i].data;
      return ev[i].events;
    }
  }
  return 0;
}
#endif

#endif /* SOCKETPOLL_TEST_HARNESS_H */
