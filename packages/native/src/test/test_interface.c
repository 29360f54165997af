/*
 * test_interface.c — the backend tests. The same file is linked against every backend
 * (test_interface_epoll, test_interface_poll, test_interface_kqueue); a test that depends on a mode the backend
 * does not honour checks SocketPoll_get_supported_modes() and says why it skips.
 * Real kernel fds only: socketpairs, pipes, FIFOs.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "poll/SocketPoll.h"
#include "test_harness.h"

/* ---- fds and helpers ------------------------------------------------------------------------ */

/* Portable (macOS has neither SOCK_NONBLOCK nor pipe2): flags set with fcntl. */
static int supports(SocketPoll_T p, int mode_bit) {
  return (SocketPoll_get_supported_modes(p) & mode_bit) != 0;
}

/* Events for fd in one wait, or 0 when the wait returned none for it. */
/* ---- tests ---------------------------------------------------------------------------------- */

static int test_new_rejects_bad_max_events(void) {
  errno = 0;
  CHECK(SocketPoll_new(0) == NULL);
  CHECK_EQ(errno, EINVAL);
  CHECK(SocketPoll_new(-5) == NULL);
  CHECK(SocketPoll_new(SOCKETPOLL_MAX_EVENTS_LIMIT + 1) == NULL);
  SocketPoll_T p = SocketPoll_new(1);
  CHECK(p != NULL);
  SocketPoll_free(&p);
  CHECK(p == NULL);
  SocketPoll_free(&p); /* NULL is a no-op */
  SocketPoll_free(NULL);
  return 0;
}

static int test_read_readiness_carries_data(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int tag = 42;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &tag), 0);
  CHECK_EQ(SocketPoll_count(p), 1);
  CHECK_EQ(wait_for(p, sv[0], 0, NULL), 0);
  put(sv[1], "x");
  void *data = NULL;
  int ev = wait_for(p, sv[0], 1000, &data);
  CHECK(ev & POLL_READ);
  CHECK(data == &tag);
  CHECK_EQ(SocketPoll_del(p, sv[0]), 0);
  CHECK_EQ(SocketPoll_count(p), 0);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_write_readiness(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_WRITE, NULL), 0);
  int ev = wait_for(p, sv[0], 1000, NULL);
  CHECK(ev & POLL_WRITE);
  CHECK(!(ev & POLL_READ));
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_read_and_write_are_one_event(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  put(sv[1], "x");
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_WRITE, NULL), 0);
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 1000);
  CHECK_EQ(n, 1);
  CHECK_EQ(ev[0].fd, sv[0]);
  CHECK_EQ(ev[0].events & (POLL_READ | POLL_WRITE), POLL_READ | POLL_WRITE);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_mod_changes_interest_and_data(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int a = 1, b = 2;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &a), 0);
  CHECK_EQ(wait_for(p, sv[0], 0, NULL), 0);
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_WRITE, &b), 0);
  void *data = NULL;
  CHECK(wait_for(p, sv[0], 1000, &data) & POLL_WRITE);
  CHECK(data == &b);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

/* The events one end of a pipe (0: the read end, 1: the write end), registered for `interest`,
 * reports once the other end is closed: *events, or 0 when the wait returned none for it. */
static int pipe_end_events_after_peer_close(int end, int interest, int *events) {
  SocketPoll_T p = SocketPoll_new(16);
  int pp[2];
  make_pipe(pp);
  CHECK_EQ(SocketPoll_add(p, pp[end], interest, NULL), 0);
  close(pp[1 - end]);
  *events = wait_for(p, pp[end], 1000, NULL);
  SocketPoll_free(&p);
  close(pp[end]);
  return 0;
}

static int test_hangup_is_always_reported(void) {
  int ev;
  CHECK_EQ(pipe_end_events_after_peer_close(0, 0, &ev), 0); /* no interest at all */
  CHECK(ev & POLL_HANGUP);
  return 0;
}

static int test_hangup_wakes_the_reader(void) {
  /* A pipe whose writer is gone and which holds no data: the kernel says POLLHUP alone (epoll,
   * poll); a registration for POLL_READ gets POLL_READ with it, so a reader reads the EOF. */
  int ev;
  CHECK_EQ(pipe_end_events_after_peer_close(0, POLL_READ, &ev), 0);
  CHECK(ev & POLL_HANGUP);
  CHECK(ev & POLL_READ);
  CHECK(!(ev & POLL_WRITE)); /* only what was asked for */
  return 0;
}

static int test_error_wakes_the_writer(void) {
  int ev;
  CHECK_EQ(pipe_end_events_after_peer_close(1, POLL_WRITE, &ev), 0);
  CHECK(ev & POLL_ERROR);
  CHECK(ev & POLL_WRITE);
  CHECK(!(ev & POLL_READ));
  return 0;
}

static int test_error_is_always_reported(void) {
  /* Writing end of a pipe whose reader is gone: POLLERR. */
  int ev;
  CHECK_EQ(pipe_end_events_after_peer_close(1, 0, &ev), 0);
  CHECK(ev & POLL_ERROR);
  return 0;
}

static int test_exact_events_reports_the_kernel_bits(void) {
  /* With POLL_EXACT_EVENTS the rule above is off: what the backend read from the kernel, and no
   * more. epoll and poll say POLLHUP alone for a drained pipe; kqueue's EV_EOF comes on the read
   * filter, which it reports as readable. */
  SocketPoll_T p = SocketPoll_new(16);
  int pp[2];
  make_pipe(pp);
  CHECK_EQ(SocketPoll_add(p, pp[0], POLL_READ | POLL_EXACT_EVENTS, NULL), 0);
  close(pp[1]);
  int ev = wait_for(p, pp[0], 1000, NULL);
  CHECK(ev & POLL_HANGUP);
  CHECK(!(ev & POLL_EXACT_EVENTS));
  if (strcmp(SocketPoll_get_backend_name(p), "kqueue") != 0) CHECK(!(ev & POLL_READ));
  /* mod() without the option turns the rule back on. */
  CHECK_EQ(SocketPoll_mod(p, pp[0], POLL_READ, NULL), 0);
  CHECK(wait_for(p, pp[0], 1000, NULL) & POLL_READ);
  SocketPoll_free(&p);
  close(pp[0]);
  return 0;
}

static int test_rdhup_on_peer_shutdown(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_RDHUP, NULL), 0);
  shutdown(sv[1], SHUT_WR);
  int ev = wait_for(p, sv[0], 1000, NULL);
  CHECK(ev & POLL_RDHUP);
  CHECK(ev & POLL_READ); /* EOF is readable */
  CHECK(!(ev & POLL_HANGUP));
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_priority_on_out_of_band_data(void) {
  /* TCP urgent data is the portable way to raise POLLPRI/EPOLLPRI on a socket. */
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(0x7f000001);
  socklen_t len = sizeof *sin;
  CHECK_EQ(bind(ls, (struct sockaddr *)sin, len), 0);
  CHECK_EQ(listen(ls, 1), 0);
  CHECK_EQ(getsockname(ls, (struct sockaddr *)sin, &len), 0);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_EQ(connect(c, (struct sockaddr *)sin, len), 0);
  int s = accept(ls, NULL, NULL);
  CHECK(s >= 0);
  nonblock(s);
  SocketPoll_T p = SocketPoll_new(16);
  CHECK_EQ(SocketPoll_add(p, s, POLL_PRIORITY, NULL), 0);
  CHECK_EQ(wait_for(p, s, 0, NULL), 0);
  CHECK_EQ(send(c, "!", 1, MSG_OOB), 1);
  int ev = wait_for(p, s, 1000, NULL);
  CHECK(ev & POLL_PRIORITY);
  SocketPoll_free(&p);
  close(s);
  close(c);
  close(ls);
  return 0;
}

static int test_level_mode_repeats_until_drained(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  put(sv[1], "abc");
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ); /* still readable, still reported */
  drain(sv[0]);
  CHECK_EQ(wait_for(p, sv[0], 0, NULL), 0);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_edge_mode_reports_each_change_once(void) {
  SocketPoll_T p = SocketPoll_new(16);
  if (!supports(p, SOCKETPOLL_SUPPORTS_EDGE)) {
    int sv[2];
    make_socketpair(sv);
    CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_EDGE, NULL), -ENOTSUP);
    CHECK_EQ(SocketPoll_count(p), 0);
    SocketPoll_free(&p);
    close(sv[0]);
    close(sv[1]);
    return 0; /* proved: edge is refused with ENOTSUP, nothing registered */
  }
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_EDGE, NULL), 0);
  put(sv[1], "abc");
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK_EQ(wait_for(p, sv[0], 0, NULL), 0); /* not drained, but no new edge */
  put(sv[1], "d");
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ); /* new data: new edge */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_oneshot_disarms_until_mod(void) {
  SocketPoll_T p = SocketPoll_new(16);
  if (!supports(p, SOCKETPOLL_SUPPORTS_ONESHOT)) {
    SocketPoll_free(&p);
    SKIP("backend does not honour oneshot");
  }
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_ONESHOT, NULL), 0);
  put(sv[1], "abc");
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK_EQ(wait_for(p, sv[0], 50, NULL), 0); /* disarmed */
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), -EEXIST); /* still registered */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ | POLL_ONESHOT, NULL), 0);
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ); /* re-armed */
  CHECK_EQ(SocketPoll_del(p, sv[0]), 0);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_errors_have_errno_codes(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, -1, POLL_READ, NULL), -EBADF);
  CHECK_EQ(SocketPoll_add(p, 100000, POLL_READ, NULL), -EBADF); /* not open */
  CHECK_EQ(SocketPoll_add(p, sv[0], 0x4000, NULL), -EINVAL);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_EDGE | POLL_ONESHOT, NULL), -EINVAL);
  CHECK_EQ(SocketPoll_count(p), 0);
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ, NULL), -ENOENT);
  CHECK_EQ(SocketPoll_del(p, sv[0]), -ENOENT);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), -EEXIST);
  CHECK_EQ(SocketPoll_mod(p, sv[0], 0x4000, NULL), -EINVAL);
  CHECK_EQ(SocketPoll_count(p), 1);
  CHECK_EQ(SocketPoll_del(p, sv[0]), 0);
  CHECK_EQ(SocketPoll_del(p, sv[0]), -ENOENT);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_regular_file(void) {
  SocketPoll_T p = SocketPoll_new(16);
  char path[] = "/tmp/socketpoll-test-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  /* Not empty, offset at the start: kqueue reports a regular file readable while the offset is
   * before the end (kqueue(2): "Vnodes: returns when the file pointer is not at the end of
   * file"); poll reports it always. */
  put(fd, "x");
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
  int rc = SocketPoll_add(p, fd, POLL_READ, NULL);
  if (strcmp(SocketPoll_get_backend_name(p), "epoll") == 0) {
    CHECK_EQ(rc, -EPERM); /* epoll refuses regular files */
    CHECK_EQ(SocketPoll_count(p), 0);
  } else {
    CHECK_EQ(rc, 0); /* poll and kqueue accept regular files */
    CHECK(wait_for(p, fd, 1000, NULL) & POLL_READ);
  }
  SocketPoll_free(&p);
  close(fd);
  return 0;
}

static int test_fifo_readiness(void) {
  char dir[] = "/tmp/socketpoll-fifo-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[64];
  snprintf(path, sizeof path, "%s/f", dir);
  CHECK_EQ(mkfifo(path, 0600), 0);
  int r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  CHECK(r >= 0 && w >= 0);
  SocketPoll_T p = SocketPoll_new(16);
  CHECK_EQ(SocketPoll_add(p, r, POLL_READ, NULL), 0);
  CHECK_EQ(wait_for(p, r, 0, NULL), 0);
  put(w, "fifo");
  CHECK(wait_for(p, r, 1000, NULL) & POLL_READ);
  CHECK_EQ(drain(r), 4);
  close(w);
  CHECK(wait_for(p, r, 1000, NULL) & POLL_HANGUP);
  SocketPoll_free(&p);
  close(r);
  unlink(path);
  rmdir(dir);
  return 0;
}

static int test_timeout_is_honoured(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 0), 0);
  CHECK(now_ms() - t0 < 50);
  t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 100), 0);
  int64_t took = now_ms() - t0;
  CHECK(took >= 99);
  CHECK(took < 1000);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static void *wake_after(void *arg) {
  usleep(50 * 1000);
  SocketPoll_wakeup((SocketPoll_T)arg);
  return NULL;
}

static int test_wakeup_interrupts_a_blocked_wait(void) {
  SocketPoll_T p = SocketPoll_new(16);
  pthread_t t;
  pthread_create(&t, NULL, wake_after, p);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, -1), 0);
  CHECK(now_ms() - t0 < 5000);
  pthread_join(t, NULL);
  SocketPoll_free(&p);
  return 0;
}

static int test_wakeups_coalesce(void) {
  SocketPoll_T p = SocketPoll_new(16);
  for (int i = 0; i < 1000; i++) CHECK_EQ(SocketPoll_wakeup(p), 0);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 5000), 0); /* the pending wakeup: returns at once */
  CHECK(now_ms() - t0 < 1000);
  t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 100), 0); /* all 1000 were consumed by one wait */
  CHECK(now_ms() - t0 >= 99);
  SocketPoll_free(&p);
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
}

struct interrupter {
  pthread_t target;
  int count;
};

static void *interrupt_repeatedly(void *arg) {
  struct interrupter *in = arg;
  for (int i = 0; i < in->count; i++) {
    usleep(20 * 1000);
    pthread_kill(in->target, SIGUSR1);
  }
  return NULL;
}

static int test_eintr_is_retried_with_time_left(void) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: the kernel returns EINTR */
  sigaction(SIGUSR1, &sa, &old);
  SocketPoll_T p = SocketPoll_new(16);
  struct interrupter in = {pthread_self(), 5};
  pthread_t t;
  pthread_create(&t, NULL, interrupt_repeatedly, &in);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  int n = SocketPoll_wait(p, &ev, 300);
  int64_t took = now_ms() - t0;
  pthread_join(t, NULL);
  sigaction(SIGUSR1, &old, NULL);
  CHECK_EQ(n, 0);
  CHECK(took >= 299); /* not cut short by the signals */
  CHECK(took < 1500); /* and not restarted with the full timeout each time */
  SocketPoll_free(&p);
  return 0;
}

struct adder {
  SocketPoll_T p;
  int fd;
  int writer;
};

static void *add_and_write(void *arg) {
  struct adder *a = arg;
  usleep(50 * 1000);
  SocketPoll_add(a->p, a->fd, POLL_READ, a);
  put(a->writer, "x");
  return NULL;
}

static int test_add_from_another_thread_reaches_a_blocked_wait(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  struct adder a = {p, sv[0], sv[1]};
  pthread_t t;
  pthread_create(&t, NULL, add_and_write, &a);
  void *data = NULL;
  int64_t t0 = now_ms();
  int ev = 0;
  while (!(ev & POLL_READ) && now_ms() - t0 < 3000) ev = wait_for(p, sv[0], 3000, &data);
  pthread_join(t, NULL);
  CHECK(ev & POLL_READ);
  CHECK(data == &a);
  CHECK(now_ms() - t0 < 2000); /* woke for the new fd, not for the timeout */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_full_buffer_loses_nothing(void) {
  enum { PAIRS = 50, MAX = 8 };
  SocketPoll_T p = SocketPoll_new(MAX);
  int sv[PAIRS][2];
  int seen[PAIRS] = {0};
  for (int i = 0; i < PAIRS; i++) {
    make_socketpair(sv[i]);
    CHECK_EQ(SocketPoll_add(p, sv[i][0], POLL_READ, (void *)(intptr_t)i), 0);
    put(sv[i][1], "x");
  }
  int total = 0;
  for (int round = 0; round < PAIRS && total < PAIRS; round++) {
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 1000);
    CHECK(n > 0 && n <= MAX);
    for (int i = 0; i < n; i++) {
      int idx = (int)(intptr_t)ev[i].data;
      CHECK_EQ(ev[i].fd, sv[idx][0]);
      CHECK_EQ(seen[idx], 0); /* drained below, so level mode reports each fd once */
      seen[idx] = 1;
      drain(ev[i].fd);
      total++;
    }
  }
  CHECK_EQ(total, PAIRS);
  for (int i = 0; i < PAIRS; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
  SocketPoll_free(&p);
  return 0;
}

static int test_deleted_fd_is_not_dispatched(void) {
  /* Two ready fds in one batch; handling the first deletes the second. */
  SocketPoll_T p = SocketPoll_new(16);
  int a[2], b[2];
  make_socketpair(a);
  make_socketpair(b);
  CHECK_EQ(SocketPoll_add(p, a[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add(p, b[0], POLL_READ, NULL), 0);
  put(a[1], "x");
  put(b[1], "x");
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 1000);
  CHECK_EQ(n, 2);
  int first = ev[0].fd, second = ev[1].fd;
  int dispatched = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].fd < 0) continue; /* invalidated */
    dispatched++;
    if (ev[i].fd == first) CHECK_EQ(SocketPoll_del(p, second), 0);
  }
  CHECK_EQ(dispatched, 1);
  CHECK_EQ(ev[1].fd, -1);
  CHECK_EQ(ev[1].events, 0);
  SocketPoll_free(&p);
  close(a[0]);
  close(a[1]);
  close(b[0]);
  close(b[1]);
  return 0;
}

static int test_reused_fd_number_is_not_confused(void) {
  /* del + close + a new fd with the same number: only the new registration's data is seen. */
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int old_tag = 1, new_tag = 2;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &old_tag), 0);
  put(sv[1], "x");
  int num = sv[0];
  CHECK_EQ(SocketPoll_del(p, num), 0);
  close(sv[0]);
  close(sv[1]);
  make_socketpair(sv);
  CHECK_EQ(sv[0], num); /* lowest free number */
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &new_tag), 0);
  CHECK_EQ(wait_for(p, sv[0], 50, NULL), 0); /* nothing written to the new pair */
  put(sv[1], "y");
  void *data = NULL;
  CHECK(wait_for(p, sv[0], 1000, &data) & POLL_READ);
  CHECK(data == &new_tag);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_many_fds(void) {
  enum { PAIRS = 2000 };
  SocketPoll_T p = SocketPoll_new(256);
  static int sv[PAIRS][2];
  for (int i = 0; i < PAIRS; i++) {
    make_socketpair(sv[i]);
    CHECK_EQ(SocketPoll_add(p, sv[i][0], POLL_READ, (void *)(intptr_t)i), 0);
  }
  CHECK_EQ(SocketPoll_count(p), PAIRS);
  /* Only a few are ready: only those come back. */
  int ready[] = {3, 999, 1500, 1999};
  for (int k = 0; k < 4; k++) put(sv[ready[k]][1], "x");
  SocketEvent_T *ev;
  int found = 0;
  for (int round = 0; round < 10 && found < 4; round++) {
    int n = SocketPoll_wait(p, &ev, 1000);
    for (int i = 0; i < n; i++) {
      int idx = (int)(intptr_t)ev[i].data;
      CHECK(idx == 3 || idx == 999 || idx == 1500 || idx == 1999);
      drain(ev[i].fd);
      found++;
    }
  }
  CHECK_EQ(found, 4);
  for (int i = 0; i < PAIRS; i++) {
    if (i % 2) CHECK_EQ(SocketPoll_del(p, sv[i][0]), 0);
  }
  CHECK_EQ(SocketPoll_count(p), PAIRS / 2);
  for (int i = 0; i < PAIRS; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
  SocketPoll_free(&p);
  return 0;
}

static int test_fd_closed_without_del_can_be_deleted(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  close(sv[0]);
  /* Every backend forgets it: del succeeds (epoll already dropped it itself). */
  CHECK_EQ(SocketPoll_del(p, sv[0]), 0);
  CHECK_EQ(SocketPoll_count(p), 0);
  SocketPoll_free(&p);
  close(sv[1]);
  return 0;
}

/* The CPU time (ms) this process has used. */
static int64_t cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A registered fd closed without del while a duplicate keeps its file open (as a child process
 * would), its number then given to another file: adding that number works, the old file is never
 * reported (not even as stale events that keep a wait busy), and del of a closed number too. */
static int test_close_without_del_while_a_duplicate_lives(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int old_pair[2], new_pair[2], tag_old = 1, tag_new = 2;
  make_socketpair(old_pair);
  int num = old_pair[0];
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, &tag_old), 0);
  CHECK_EQ(write(old_pair[1], "x", 1), 1); /* the old file stays readable */
  int copy = dup(num);
  CHECK(copy >= 0);
  close(num);
  make_socketpair(new_pair);
  if (new_pair[0] != num) {
    CHECK_EQ(dup2(new_pair[0], num), num);
    close(new_pair[0]);
  }
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, &tag_new), 0);
  SocketEvent_T *ev;
  int64_t cpu0 = cpu_ms(), t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 200), 0);
  CHECK(now_ms() - t0 >= 199);
  CHECK(cpu_ms() - cpu0 < 50); /* a busy loop would use most of the 200 ms */
  CHECK_EQ(write(new_pair[1], "y", 1), 1);
  void *data = NULL;
  CHECK_EQ(wait_for(p, num, 1000, &data), POLL_READ);
  CHECK(data == &tag_new);
  /* Once more, deleting after the close. */
  int other[2];
  make_socketpair(other);
  CHECK_EQ(SocketPoll_add(p, other[0], POLL_READ, NULL), 0);
  CHECK_EQ(write(other[1], "z", 1), 1);
  int copy2 = dup(other[0]);
  close(other[0]);
  CHECK_EQ(SocketPoll_del(p, other[0]), 0);
  cpu0 = cpu_ms();
  CHECK_EQ(wait_for(p, num, 200, NULL), POLL_READ); /* still level-ready, and only it */
  CHECK_EQ(SocketPoll_count(p), 1);
  CHECK_EQ(SocketPoll_del(p, num), 0);
  CHECK_EQ(SocketPoll_wait(p, &ev, 200), 0);
  CHECK(cpu_ms() - cpu0 < 50);
  SocketPoll_free(&p);
  close(copy);
  close(copy2);
  close(num);
  close(old_pair[1]);
  close(new_pair[1]);
  close(other[1]);
  return 0;
}

/* Fault: the process runs out of fds. SocketPoll_new fails with EMFILE and leaks nothing (the
 * sanitizer and valgrind passes check), and a poller made before keeps working: adding a number
 * whose old registration died with a duplicate alive (which makes epoll rebuild its set, needing
 * a new epoll fd) still succeeds and reports only the new file. */
static int test_running_out_of_fds_fails_cleanly(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int old_pair[2], new_pair[2], tag = 3;
  make_socketpair(old_pair);
  make_socketpair(new_pair);
  int num = old_pair[0];
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, NULL), 0);
  CHECK_EQ(write(old_pair[1], "x", 1), 1);
  int copy = dup(num);
  CHECK(copy >= 0);
  close(num);
  CHECK_EQ(dup2(new_pair[0], num), num); /* the number names the new file now */
  struct rlimit saved, tight;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int highest = new_pair[1] > copy ? new_pair[1] : copy;
  tight = saved;
  tight.rlim_cur = (rlim_t)highest + 1; /* no fd number left */
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  errno = 0;
  SocketPoll_T none = SocketPoll_new(8);
  int err = errno;
  int rc = SocketPoll_add(p, num, POLL_READ, &tag);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  CHECK(none == NULL);
  CHECK(err == EMFILE || err == ENFILE);
  CHECK_EQ(rc, 0);
  CHECK_EQ(write(new_pair[1], "y", 1), 1);
  void *data = NULL;
  CHECK_EQ(wait_for(p, num, 1000, &data), POLL_READ);
  CHECK(data == &tag);
  CHECK_EQ(SocketPoll_del(p, num), 0);
  SocketPoll_free(&p);
  close(copy);
  close(num);
  close(new_pair[0]);
  close(new_pair[1]);
  close(old_pair[1]);
  return 0;
}

int main(void) {
  SocketPoll_T probe = SocketPoll_new(1);
  printf("# backend: %s\n", SocketPoll_get_backend_name(probe));
  SocketPoll_free(&probe);
  run("new rejects bad max_events", test_new_rejects_bad_max_events);
  run("read readiness carries data", test_read_readiness_carries_data);
  run("write readiness", test_write_readiness);
  run("read and write are one event", test_read_and_write_are_one_event);
  run("mod changes interest and data", test_mod_changes_interest_and_data);
  run("hangup is always reported", test_hangup_is_always_reported);
  run("error is always reported", test_error_is_always_reported);
  run("hangup wakes the reader", test_hangup_wakes_the_reader);
  run("error wakes the writer", test_error_wakes_the_writer);
  run("exact events reports the kernel bits", test_exact_events_reports_the_kernel_bits);
  run("rdhup on peer shutdown", test_rdhup_on_peer_shutdown);
  run("priority on out-of-band data", test_priority_on_out_of_band_data);
  run("level mode repeats until drained", test_level_mode_repeats_until_drained);
  run("edge mode reports each change once", test_edge_mode_reports_each_change_once);
  run("oneshot disarms until mod", test_oneshot_disarms_until_mod);
  run("errors have errno codes", test_errors_have_errno_codes);
  run("regular file", test_regular_file);
  run("fifo readiness", test_fifo_readiness);
  run("timeout is honoured", test_timeout_is_honoured);
  run("wakeup interrupts a blocked wait", test_wakeup_interrupts_a_blocked_wait);
  run("wakeups coalesce", test_wakeups_coalesce);
  run("EINTR is retried with the time left", test_eintr_is_retried_with_time_left);
  run("add from another thread reaches a blocked wait",
      test_add_from_another_thread_reaches_a_blocked_wait);
  run("full buffer loses nothing", test_full_buffer_loses_nothing);
  run("deleted fd is not dispatched", test_deleted_fd_is_not_dispatched);
  run("reused fd number is not confused", test_reused_fd_number_is_not_confused);
  run("many fds", test_many_fds);
  run("fd closed without del can be deleted", test_fd_closed_without_del_can_be_deleted);
  run("close without del while a duplicate lives", test_close_without_del_while_a_duplicate_lives);
  run("running out of fds fails cleanly", test_running_out_of_fds_fails_cleanly);
  return finish();
}
