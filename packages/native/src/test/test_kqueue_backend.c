/*
 * test_kqueue_backend.c — what is specific to the kqueue backend (docs/backends/kqueue.md), beyond
 * the shared suite (test_interface.c): failed registrations leave no knote behind, oneshot disarms
 * every filter of the fd, watch knotes report hang-ups but not readiness and never spin, mod
 * switches modes, RDHUP vs HANGUP on EOF, the kqueue fd is pollable, a pipe's write end whose reader
 * is gone reports POLL_ERROR also where the kernel refuses its write filter (FreeBSD; the emulation
 * does so with KQUEUE_EMULATION_PIPE_WRITE_EPIPE=1), fds kqueue refuses with EINVAL go to the side
 * watcher. Portable: it uses only SocketPoll.h and <sys/event.h>, so it runs on the emulation here
 * and on a real kqueue (where the side-watcher tests need a device kqueue refuses: they open
 * /dev/tty, and skip saying why when there is no controlling terminal).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "poll/SocketPoll.h"
#include "../test_harness.h"

static void fill(int fd) {
  char buf[4096];
  memset(buf, 'f', sizeof buf);
  while (write(fd, buf, sizeof buf) > 0) {
  }
}

/* The events of one wait for fd (0: none), and how many entries the wait returned. */
static int wait_counting(SocketPoll_T p, int fd, int timeout_ms, int *count) {
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, timeout_ms);
  if (count) *count = n;
  for (int i = 0; i < n; i++)
    if (ev[i].fd == fd) return ev[i].events;
  return n < 0 ? n : 0;
}

/* Whether the kqueue still holds a knote (fd, filter): EV_DELETE answers ENOENT if not. The
 * knote is deleted by asking, so use it last. */
static int knote_exists(SocketPoll_T p, int fd, int16_t filter) {
  struct kevent kev, out;
  EV_SET(&kev, (uintptr_t)fd, filter, EV_DELETE | EV_RECEIPT, 0, 0, NULL);
  struct timespec zero = {0, 0};
  int n = kevent(SocketPoll_get_fd(p), &kev, 1, &out, 1, &zero);
  return n == 1 && (out.flags & EV_ERROR) && out.data == 0;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static int test_failed_add_leaves_no_knote(void) {
  /* A regular file takes EVFILT_READ but not EVFILT_EXCEPT: the READ knote added first in the
   * same change list must be rolled back. */
  char path[] = "/tmp/socketpoll-kq-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  SocketPoll_T p = SocketPoll_new(8);
  int rc = SocketPoll_add(p, fd, POLL_READ | POLL_PRIORITY, NULL);
  CHECK(rc < 0);
  CHECK(rc != -EEXIST);
  CHECK_EQ(SocketPoll_count(p), 0);
  CHECK(!knote_exists(p, fd, EVFILT_READ));
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ, NULL), 0); /* nothing stale in the way */
  SocketPoll_free(&p);
  close(fd);
  return 0;
}

static int test_oneshot_disarms_every_filter_of_the_fd(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  fill(sv[0]); /* not writable: only READ can fire first */
  put(sv[1], "x");
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_WRITE | POLL_ONESHOT, NULL), 0);
  int ev = wait_counting(p, sv[0], 1000, NULL);
  CHECK_EQ(ev & (POLL_READ | POLL_WRITE), POLL_READ);
  drain(sv[1]); /* now writable: the WRITE filter was disarmed with the READ one */
  CHECK_EQ(wait_counting(p, sv[0], 100, NULL), 0);
  put(sv[1], "y");
  CHECK_EQ(wait_counting(p, sv[0], 100, NULL), 0);
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ | POLL_WRITE | POLL_ONESHOT, NULL), 0);
  ev = wait_counting(p, sv[0], 1000, NULL); /* both ready: one merged event */
  CHECK_EQ(ev & (POLL_READ | POLL_WRITE), POLL_READ | POLL_WRITE);
  CHECK_EQ(wait_counting(p, sv[0], 100, NULL), 0);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_watch_knote_reports_hangup_not_readiness(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], 0, NULL), 0);
  put(sv[1], "unasked");
  int count = -1;
  int64_t t0 = now_ms();
  CHECK_EQ(wait_counting(p, sv[0], 150, &count), 0);
  CHECK_EQ(count, 0);
  CHECK(now_ms() - t0 >= 149); /* the spurious wake-up did not end the wait */
  close(sv[1]);
  int ev = wait_counting(p, sv[0], 1000, NULL);
  CHECK(ev & POLL_HANGUP);
  CHECK(!(ev & POLL_READ));
  SocketPoll_free(&p);
  close(sv[0]);
  return 0;
}

static int test_paused_reading_does_not_spin(void) {
  /* Level READ, then mod(fd, 0) with data unread: no report, and no busy wait. */
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  put(sv[1], "abc");
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK_EQ(SocketPoll_mod(p, sv[0], 0, NULL), 0);
  clock_t c0 = clock();
  int64_t t0 = now_ms();
  CHECK_EQ(wait_counting(p, sv[0], 200, NULL), 0);
  CHECK(now_ms() - t0 >= 199);
  CHECK((double)(clock() - c0) / CLOCKS_PER_SEC < 0.1); /* slept, did not spin */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ, NULL), 0);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ); /* resumed: still there */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_mod_switches_modes(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  put(sv[1], "abc");
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ); /* level */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ | POLL_EDGE, NULL), 0);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ); /* data present at the switch: one edge */
  CHECK_EQ(wait_counting(p, sv[0], 50, NULL), 0);          /* edge: not again */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ | POLL_ONESHOT, NULL), 0);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK_EQ(wait_counting(p, sv[0], 50, NULL), 0); /* oneshot: disarmed */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ, NULL), 0);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_READ); /* level again */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_WRITE, NULL), 0);
  CHECK(!knote_exists(p, sv[0], EVFILT_READ)); /* the READ knote was deleted */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_eof_with_and_without_rdhup(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int a[2], b[2];
  make_socketpair(a);
  make_socketpair(b);
  CHECK_EQ(SocketPoll_add(p, a[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add(p, b[0], POLL_READ | POLL_WRITE | POLL_RDHUP, NULL), 0);
  CHECK(wait_counting(p, b[0], 1000, NULL) & POLL_WRITE);
  shutdown(a[1], SHUT_WR); /* half-close without RDHUP interest: reads as HANGUP (documented) */
  int ev = wait_counting(p, a[0], 1000, NULL);
  CHECK_EQ(ev & (POLL_READ | POLL_HANGUP | POLL_RDHUP), POLL_READ | POLL_HANGUP);
  close(b[1]); /* full close with RDHUP and WRITE interest: RDHUP from READ, HANGUP from WRITE */
  int got = 0;
  for (int i = 0; i < 4 && (got & (POLL_RDHUP | POLL_HANGUP)) != (POLL_RDHUP | POLL_HANGUP); i++)
    got |= wait_counting(p, b[0], 1000, NULL);
  CHECK(got & POLL_RDHUP);
  CHECK(got & POLL_HANGUP);
  SocketPoll_free(&p);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  return 0;
}

static int test_priority_only_still_reports_hangup(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  int rc = SocketPoll_add(p, sv[0], POLL_PRIORITY, NULL);
  if (rc == -ENOTSUP || rc == -EINVAL) {
    /* No EVFILT_EXCEPT, or a kernel that refuses it on AF_UNIX sockets: nothing registered. */
    CHECK_EQ(SocketPoll_count(p), 0);
    printf("     (POLL_PRIORITY on an AF_UNIX socket refused here: %s)\n", strerror(-rc));
  } else {
    CHECK_EQ(rc, 0);
    close(sv[1]);
    sv[1] = -1;
    CHECK(wait_counting(p, sv[0], 1000, NULL) & POLL_HANGUP);
  }
  SocketPoll_free(&p);
  close(sv[0]);
  if (sv[1] >= 0) close(sv[1]);
  return 0;
}

static int test_kqueue_fd_is_pollable(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  struct pollfd pfd = {.fd = SocketPoll_get_fd(p), .events = POLLIN};
  CHECK_EQ(poll(&pfd, 1, 0), 0);
  put(sv[1], "x");
  CHECK_EQ(poll(&pfd, 1, 1000), 1);
  CHECK(wait_counting(p, sv[0], 0, NULL) & POLL_READ);
  CHECK_EQ(poll(&pfd, 1, 0), 1); /* level: still something to return */
  drain(sv[0]);
  CHECK_EQ(wait_counting(p, sv[0], 0, NULL), 0);
  CHECK_EQ(poll(&pfd, 1, 0), 0);
  SocketPoll_wakeup(p);
  CHECK_EQ(poll(&pfd, 1, 1000), 1); /* a wakeup makes it readable too */
  int count = -1;
  wait_counting(p, sv[0], 0, &count);
  CHECK_EQ(count, 0);
  CHECK_EQ(poll(&pfd, 1, 0), 0); /* consumed */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

/* FreeBSD refuses EVFILT_WRITE on a pipe whose reader is gone (EPIPE); macOS accepts it and
 * reports EV_EOF. Either way: registered, POLL_ERROR level-triggered, the kqueue fd readable for
 * it, and no wakeup made of it. */
static int test_widowed_pipe_write_end_reports_error(void) {
  setenv("KQUEUE_EMULATION_PIPE_WRITE_EPIPE", "1", 1);
  SocketPoll_T p = SocketPoll_new(8);
  int fds[2];
  CHECK_EQ(pipe(fds), 0);
  close(fds[0]);
  CHECK_EQ(SocketPoll_add(p, fds[1], POLL_WRITE, NULL), 0);
  struct pollfd kq = {.fd = SocketPoll_get_fd(p), .events = POLLIN};
  CHECK_EQ(poll(&kq, 1, 1000), 1);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(wait_counting(p, fds[1], 1000, NULL) & POLL_ERROR, POLL_ERROR);
    CHECK_EQ(SocketPoll_was_woken(p), 0);
  }
  CHECK_EQ(SocketPoll_mod(p, fds[1], 0, NULL), 0);
  CHECK_EQ(wait_counting(p, fds[1], 1000, NULL) & POLL_ERROR, POLL_ERROR);
  CHECK_EQ(SocketPoll_del(p, fds[1]), 0);
  int count = -1;
  CHECK_EQ(wait_counting(p, fds[1], 50, &count), 0);
  CHECK_EQ(count, 0);
  SocketPoll_free(&p);
  close(fds[1]);
  unsetenv("KQUEUE_EMULATION_PIPE_WRITE_EPIPE");
  return 0;
}

/* ---- fds kqueue refuses: the side watcher ---------------------------------------------------- */

/* A terminal fd kqueue refuses, and the fd that makes it readable: on the emulation, a raw pty
 * with KQUEUE_EMULATION_EINVAL=tty (its documented refusal, macOS-like); on a real kqueue,
 * /dev/tty, fed by nothing (-1). 0, or -1 with *why set. */
static int refused_tty(int *tty, int *feeder, const char **why) {
  *why = "no controlling terminal (/dev/tty) to test with";
#ifdef SOCKETPOLL_KQUEUE_EMULATION
  setenv("KQUEUE_EMULATION_EINVAL", "tty", 1);
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) abort();
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (slave < 0) abort();
  struct termios t;
  tcgetattr(slave, &t);
  cfmakeraw(&t);
  tcsetattr(slave, TCSANOW, &t);
  nonblock_cloexec(master);
  *tty = slave;
  *feeder = master;
  return 0;
#else
  *tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK);
  *feeder = -1;
  return *tty < 0 ? -1 : 0;
#endif
}

static void refused_tty_close(int tty, int feeder) {
#ifdef SOCKETPOLL_KQUEUE_EMULATION
  unsetenv("KQUEUE_EMULATION_EINVAL");
#endif
  close(tty);
  if (feeder >= 0) close(feeder);
}

static int test_refused_fd_is_watched_by_the_side_watcher_level(void) {
  int tty, feeder;
  const char *why = NULL;
  if (refused_tty(&tty, &feeder, &why) < 0) SKIP(why);
  if (feeder < 0) {
    refused_tty_close(tty, feeder);
    SKIP("nothing can make /dev/tty readable from here");
  }
  SocketPoll_T p = SocketPoll_new(8);
  int tag = 3;
  CHECK_EQ(SocketPoll_add(p, tty, POLL_READ, &tag), 0);
  CHECK_EQ(SocketPoll_count(p), 1);
  CHECK_EQ(wait_counting(p, tty, 50, NULL), 0);
  put(feeder, "x");
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 2000);
  CHECK_EQ(n, 1);
  CHECK_EQ(ev[0].fd, tty);
  CHECK_EQ(ev[0].events, POLL_READ);
  CHECK(ev[0].data == &tag);
  /* Level: still readable, reported again by the next wait, once. */
  int count = 0;
  CHECK_EQ(wait_counting(p, tty, 2000, &count), POLL_READ);
  CHECK_EQ(count, 1);
  drain(tty);
  CHECK_EQ(wait_counting(p, tty, 50, &count), 0);
  CHECK_EQ(count, 0);
  CHECK_EQ(SocketPoll_del(p, tty), 0);
  put(feeder, "y");
  CHECK_EQ(wait_counting(p, tty, 50, &count), 0);
  CHECK_EQ(SocketPoll_add(p, tty, POLL_READ, &tag), 0); /* and back again */
  CHECK_EQ(wait_counting(p, tty, 2000, NULL), POLL_READ);
  SocketPoll_free(&p);
  refused_tty_close(tty, feeder);
  return 0;
}

static int test_refused_fd_oneshot_and_edge(void) {
  int tty, feeder;
  const char *why = NULL;
  if (refused_tty(&tty, &feeder, &why) < 0) SKIP(why);
  SocketPoll_T p = SocketPoll_new(8);
  CHECK_EQ(SocketPoll_add(p, tty, POLL_READ | POLL_EDGE, NULL), -ENOTSUP); /* poll() has no edges */
  CHECK_EQ(SocketPoll_count(p), 0);
  if (feeder < 0) {
    SocketPoll_free(&p);
    refused_tty_close(tty, feeder);
    SKIP("edge checked; nothing can make /dev/tty readable from here");
  }
  CHECK_EQ(SocketPoll_add(p, tty, POLL_READ | POLL_ONESHOT, NULL), 0);
  put(feeder, "x");
  CHECK_EQ(wait_counting(p, tty, 2000, NULL), POLL_READ);
  CHECK_EQ(wait_counting(p, tty, 80, NULL), 0); /* disarmed */
  CHECK_EQ(SocketPoll_mod(p, tty, POLL_READ | POLL_EDGE, NULL), -ENOTSUP);
  CHECK_EQ(SocketPoll_mod(p, tty, POLL_READ | POLL_ONESHOT, NULL), 0);
  CHECK_EQ(wait_counting(p, tty, 2000, NULL), POLL_READ);
  SocketPoll_free(&p);
  refused_tty_close(tty, feeder);
  return 0;
}

struct feed {
  int fd;
  int delay_ms;
};

static void *feed_later(void *arg) {
  struct feed *f = arg;
  sleep_ms(f->delay_ms);
  put(f->fd, "z");
  return NULL;
}

static int test_side_watcher_wakes_a_blocked_wait_and_shares_the_batch(void) {
  int tty, feeder;
  const char *why = NULL;
  if (refused_tty(&tty, &feeder, &why) < 0) SKIP(why);
  if (feeder < 0) {
    refused_tty_close(tty, feeder);
    SKIP("nothing can make /dev/tty readable from here");
  }
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, tty, POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  struct feed f = {feeder, 60};
  pthread_t t;
  pthread_create(&t, NULL, feed_later, &f);
  int64_t start = now_ms();
  int count = 0;
  CHECK_EQ(wait_counting(p, tty, 3000, &count), POLL_READ); /* blocked in kevent() until then */
  pthread_join(t, NULL);
  CHECK(now_ms() - start >= 50);
  CHECK(now_ms() - start < 2000);
  put(sv[1], "x");
  sleep_ms(20);
  SocketEvent_T *ev;
  CHECK_EQ(SocketPoll_wait(p, &ev, 2000), 2); /* the refused fd and a kqueue fd in one batch */
  SocketPoll_free(&p); /* joins the helper thread (valgrind and ASan check it leaves nothing) */
  close(sv[0]);
  close(sv[1]);
  refused_tty_close(tty, feeder);
  return 0;
}

int main(void) {
  run("a failed add leaves no knote", test_failed_add_leaves_no_knote);
  run("oneshot disarms every filter of the fd", test_oneshot_disarms_every_filter_of_the_fd);
  run("a watch knote reports hangup, not readiness", test_watch_knote_reports_hangup_not_readiness);
  run("paused reading does not spin", test_paused_reading_does_not_spin);
  run("mod switches modes", test_mod_switches_modes);
  run("EOF with and without RDHUP", test_eof_with_and_without_rdhup);
  run("POLL_PRIORITY alone still reports hangup", test_priority_only_still_reports_hangup);
  run("the kqueue fd is pollable", test_kqueue_fd_is_pollable);
  run("a widowed pipe write end reports POLL_ERROR", test_widowed_pipe_write_end_reports_error);
  run("refused fd is watched by the side watcher (level)", test_refused_fd_is_watched_by_the_side_watcher_level);
  run("refused fd: oneshot, and edge is ENOTSUP", test_refused_fd_oneshot_and_edge);
  run("side watcher wakes a blocked wait and shares the batch",
      test_side_watcher_wakes_a_blocked_wait_and_shares_the_batch);
  return finish();
}
