/*
 * test_sources.c — timers and process exits (SocketPoll_add_timer, SocketPoll_add_process), the
 * sources that are not fds. Linked against every backend like test_interface.c. Real timers and real
 * processes (fork); a test that needs what a backend cannot do here checks
 * SocketPoll_get_supported_sources() and says why it skips.
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
#include <sys/wait.h>
#include <unistd.h>

#include "poll/SocketPoll.h"
#include "test_harness.h"

/* The events one wait reports for handle-or-fd id (0: none); *count gets the batch size. */
static int events_of(SocketPoll_T p, int id, int timeout_ms, void **data, int *count) {
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, timeout_ms);
  if (count) *count = n;
  if (n < 0) return n;
  for (int i = 0; i < n; i++) {
    if (ev[i].fd == id) {
      if (data) *data = ev[i].data;
      return ev[i].events;
    }
  }
  return 0;
}

/* Waits (up to budget_ms in all) until id is reported; its events, or 0. */
static int wait_until(SocketPoll_T p, int id, int budget_ms, void **data) {
  int64_t end = now_ms() + budget_ms;
  for (;;) {
    int left = (int)(end - now_ms());
    if (left <= 0) return 0;
    int ev = events_of(p, id, left, data, NULL);
    if (ev != 0) return ev;
  }
}

/* Whether p can watch processes here. The kqueue backend always can on a real kqueue; the test-only
 * emulation under it is built on pidfds, which valgrind does not know (ENOSYS). */
static int has_processes(SocketPoll_T p) {
  if (!(SocketPoll_get_supported_sources(p) & SOCKETPOLL_SOURCE_PROCESS)) return 0;
  int h;
  int rc = SocketPoll_add_process(p, (int)getpid(), NULL, &h);
  if (rc == 0) SocketPoll_del(p, h);
  return rc != -ENOSYS;
}

/* ---- timers --------------------------------------------------------------------------------- */

static int test_supported_sources_include_fds_and_timers(void) {
  SocketPoll_T p = SocketPoll_new(4);
  int s = SocketPoll_get_supported_sources(p);
  CHECK(s & SOCKETPOLL_SOURCE_FD);
  CHECK(s & SOCKETPOLL_SOURCE_TIMER);
  SocketPoll_free(&p);
  return 0;
}

static int test_one_shot_timer_fires_once_with_its_data(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int tag = 7, h = 0;
  int64_t start = now_ms();
  CHECK_EQ(SocketPoll_add_timer(p, 30, 0, &tag, &h), 0);
  CHECK(SOCKETPOLL_IS_HANDLE(h));
  CHECK_EQ(events_of(p, h, 0, NULL, NULL), 0); /* not yet */
  void *data = NULL;
  CHECK_EQ(wait_until(p, h, 2000, &data), POLL_TIMER);
  CHECK(now_ms() - start >= 29);
  CHECK(data == &tag);
  /* Spent: reported once, forgotten by the next wait. */
  CHECK_EQ(events_of(p, h, 100, NULL, NULL), 0);
  CHECK_EQ(SocketPoll_del(p, h), -ENOENT);
  SocketPoll_free(&p);
  return 0;
}

static int test_repeating_timer_coalesces_late_expiries(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int h;
  CHECK_EQ(SocketPoll_add_timer(p, 50, SOCKETPOLL_TIMER_REPEAT, NULL, &h), 0);
  sleep_ms(275); /* five intervals pass uncollected; the sixth expiry is 25 ms ahead */
  int count = 0;
  CHECK_EQ(events_of(p, h, 0, NULL, &count), POLL_TIMER);
  CHECK_EQ(count, 1); /* one event, not five */
  int64_t after = now_ms();
  int again = events_of(p, h, 0, NULL, NULL);
  if (now_ms() - after < 20) CHECK_EQ(again, 0); /* not again right away (unless descheduled) */
  /* It keeps going on its schedule. */
  int fired = 0;
  int64_t end = now_ms() + 3000;
  while (fired < 3 && now_ms() < end)
    if (events_of(p, h, 200, NULL, NULL) == POLL_TIMER) fired++;
  CHECK_EQ(fired, 3);
  CHECK_EQ(SocketPoll_del(p, h), 0);
  CHECK_EQ(SocketPoll_del(p, h), -ENOENT);
  CHECK_EQ(events_of(p, h, 40, NULL, NULL), 0);
  SocketPoll_free(&p);
  return 0;
}

static int test_deleted_timer_never_fires(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int h;
  CHECK_EQ(SocketPoll_add_timer(p, 20, 0, NULL, &h), 0);
  CHECK_EQ(SocketPoll_del(p, h), 0);
  int count = -1;
  CHECK_EQ(events_of(p, h, 60, NULL, &count), 0);
  CHECK_EQ(count, 0);
  SocketPoll_free(&p);
  return 0;
}

static int test_timer_deleted_during_dispatch_is_invalidated(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int a, b;
  CHECK_EQ(SocketPoll_add_timer(p, 10, SOCKETPOLL_TIMER_REPEAT, NULL, &a), 0);
  CHECK_EQ(SocketPoll_add_timer(p, 10, SOCKETPOLL_TIMER_REPEAT, NULL, &b), 0);
  sleep_ms(25);
  SocketEvent_T *ev;
  CHECK_EQ(SocketPoll_wait(p, &ev, 1000), 2);
  int other = ev[0].fd == a ? b : a;
  CHECK(ev[0].fd == a || ev[0].fd == b);
  CHECK_EQ(SocketPoll_del(p, other), 0);
  CHECK_EQ(ev[1].fd, -1);
  CHECK_EQ(ev[1].events, 0);
  SocketPoll_free(&p);
  return 0;
}

static int test_one_shot_timer_deleted_in_its_own_batch(void) {
  /* Spent but still in the batch being handled: del succeeds and cancels the entry. */
  SocketPoll_T p = SocketPoll_new(8);
  int h;
  CHECK_EQ(SocketPoll_add_timer(p, 5, 0, NULL, &h), 0);
  SocketEvent_T *ev;
  int n = 0;
  for (int i = 0; i < 20 && n == 0; i++) n = SocketPoll_wait(p, &ev, 100);
  CHECK_EQ(n, 1);
  CHECK_EQ(ev[0].fd, h);
  CHECK_EQ(SocketPoll_del(p, h), 0);
  CHECK_EQ(ev[0].fd, -1);
  CHECK_EQ(SocketPoll_del(p, h), -ENOENT);
  SocketPoll_free(&p);
  return 0;
}

static int test_timer_arguments_are_checked(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int h;
  CHECK_EQ(SocketPoll_add_timer(p, 0, 0, NULL, &h), -EINVAL);
  CHECK_EQ(SocketPoll_add_timer(p, -5, 0, NULL, &h), -EINVAL);
  CHECK_EQ(SocketPoll_add_timer(p, 10, 0x80, NULL, &h), -EINVAL);
  CHECK_EQ(SocketPoll_add_timer(p, 10, 0, NULL, NULL), -EINVAL);
  CHECK_EQ(SocketPoll_del(p, SOCKETPOLL_HANDLE_MAX), -ENOENT);
  CHECK_EQ(SocketPoll_del(p, -1), -EBADF);
  SocketPoll_free(&p);
  return 0;
}

static int test_timers_and_fds_come_in_one_batch(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int sv[2];
  make_socketpair(sv);
  int h;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add_timer(p, 10, 0, NULL, &h), 0);
  put(sv[1], "x");
  sleep_ms(20);
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 1000);
  CHECK_EQ(n, 2);
  int seen_fd = 0, seen_timer = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].fd == sv[0] && (ev[i].events & POLL_READ)) seen_fd = 1;
    if (ev[i].fd == h && ev[i].events == POLL_TIMER) seen_timer = 1;
  }
  CHECK(seen_fd && seen_timer);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

enum { MANY_TIMERS = 10000 };

static int test_ten_thousand_timers_each_fire_once(void) {
  SocketPoll_T p = SocketPoll_new(1024);
  static int handles[MANY_TIMERS];
  static unsigned char seen[MANY_TIMERS];
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < MANY_TIMERS; i++)
    CHECK_EQ(SocketPoll_add_timer(p, 20 + i % 50, 0, (void *)(intptr_t)i, &handles[i]), 0);
  int total = 0;
  int64_t end = now_ms() + 20000;
  while (total < MANY_TIMERS && now_ms() < end) {
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 500);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
      CHECK_EQ(ev[i].events, POLL_TIMER);
      int idx = (int)(intptr_t)ev[i].data;
      CHECK(idx >= 0 && idx < MANY_TIMERS);
      CHECK_EQ(ev[i].fd, handles[idx]);
      CHECK_EQ(seen[idx], 0);
      seen[idx] = 1;
      total++;
    }
  }
  CHECK_EQ(total, MANY_TIMERS);
  int count = -1;
  CHECK_EQ(events_of(p, 0, 60, NULL, &count), 0);
  CHECK_EQ(count, 0); /* nothing more */
  SocketPoll_free(&p);
  return 0;
}

struct adder {
  SocketPoll_T p;
  int handle;
};

static void *add_timer_later(void *arg) {
  struct adder *a = arg;
  sleep_ms(50);
  SocketPoll_add_timer(a->p, 10, 0, NULL, &a->handle);
  return NULL;
}

static int test_timer_added_by_another_thread_ends_a_blocked_wait(void) {
  SocketPoll_T p = SocketPoll_new(8);
  struct adder a = {p, 0};
  pthread_t t;
  pthread_create(&t, NULL, add_timer_later, &a);
  int64_t start = now_ms();
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 3000);
  pthread_join(t, NULL);
  CHECK_EQ(n, 1);
  CHECK_EQ(ev[0].fd, a.handle);
  CHECK_EQ(ev[0].events, POLL_TIMER);
  CHECK(now_ms() - start < 2000);
  SocketPoll_free(&p);
  return 0;
}

static int test_free_with_live_timers_releases_them(void) {
  /* valgrind and ASan see the leak if a timerfd or slot were left behind. */
  SocketPoll_T p = SocketPoll_new(8);
  int h;
  for (int i = 0; i < 20; i++) CHECK_EQ(SocketPoll_add_timer(p, 1000, SOCKETPOLL_TIMER_REPEAT, NULL, &h), 0);
  SocketPoll_free(&p);
  CHECK(p == NULL);
  return 0;
}

/* ---- always-ready fds (POLL_UNPOLLABLE_READY) ------------------------------------------------ */

static int regular_file(void) {
  char path[] = "/tmp/socketpoll-unpollable-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) abort();
  unlink(path);
  put(fd, "contents");
  lseek(fd, 0, SEEK_SET);
  return fd;
}

static int is_backend(SocketPoll_T p, const char *name) {
  return strcmp(SocketPoll_get_backend_name(p), name) == 0;
}

static int test_unpollable_file_needs_the_option_on_epoll(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int fd = regular_file();
  /* epoll refuses it; poll and kqueue take it (with their own readiness rules). */
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ, NULL), is_backend(p, "epoll") ? -EPERM : 0);
  SocketPoll_free(&p);
  close(fd);
  return 0;
}

static int test_unpollable_file_is_reported_once_per_wait(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int fd = regular_file();
  int tag = 5;
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ | POLL_WRITE | POLL_UNPOLLABLE_READY, &tag), 0);
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ | POLL_UNPOLLABLE_READY, &tag), -EEXIST);
  for (int round = 0; round < 3; round++) {
    int64_t start = now_ms();
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 2000); /* returns at once: the fd is always ready */
    CHECK(now_ms() - start < 1000);
    CHECK_EQ(n, 1);
    CHECK_EQ(ev[0].fd, fd);
    CHECK_EQ(ev[0].events, POLL_READ | POLL_WRITE);
    CHECK(ev[0].data == &tag);
  }
  CHECK_EQ(SocketPoll_mod(p, fd, POLL_READ | POLL_UNPOLLABLE_READY, &tag), 0);
  CHECK_EQ(events_of(p, fd, 0, NULL, NULL), POLL_READ); /* only what is asked for */
  CHECK_EQ(SocketPoll_del(p, fd), 0);
  int count = -1;
  CHECK_EQ(events_of(p, fd, 50, NULL, &count), 0);
  CHECK_EQ(count, 0); /* and the wait blocked again */
  SocketPoll_free(&p);
  close(fd);
  return 0;
}

static int test_unpollable_oneshot_and_edge_report_once_per_mod(void) {
  static const int modes[] = {POLL_ONESHOT, POLL_EDGE};
  for (int m = 0; m < 2; m++) {
    SocketPoll_T p = SocketPoll_new(8);
    int mode = modes[m];
    if (mode == POLL_EDGE && !(SocketPoll_get_supported_modes(p) & SOCKETPOLL_SUPPORTS_EDGE)) {
      SocketPoll_free(&p);
      continue; /* poll: edge is ENOTSUP for every fd (test_interface.c checks that) */
    }
    int fd = regular_file();
    CHECK_EQ(SocketPoll_add(p, fd, POLL_READ | mode | POLL_UNPOLLABLE_READY, NULL), 0);
    CHECK_EQ(events_of(p, fd, 1000, NULL, NULL), POLL_READ);
    int count = -1;
    CHECK_EQ(events_of(p, fd, 50, NULL, &count), 0);
    CHECK_EQ(count, 0);
    CHECK_EQ(SocketPoll_mod(p, fd, POLL_READ | mode | POLL_UNPOLLABLE_READY, NULL), 0);
    CHECK_EQ(events_of(p, fd, 1000, NULL, NULL), POLL_READ);
    CHECK_EQ(events_of(p, fd, 50, NULL, NULL), 0);
    SocketPoll_free(&p);
    close(fd);
  }
  return 0;
}

static int test_unpollable_directory_and_dev_null(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
  int null = open("/dev/null", O_RDWR);
  CHECK(dir >= 0 && null >= 0);
  CHECK_EQ(SocketPoll_add(p, dir, POLL_READ | POLL_UNPOLLABLE_READY, NULL), 0);
  CHECK_EQ(events_of(p, dir, 1000, NULL, NULL), POLL_READ);
  /* /dev/null: epoll refuses it (EPERM) and poll() reports it ready; kqueue takes it as a device
   * with kqueue's own rules (see docs/sources.md), so it is checked on epoll and poll only. */
  if (!is_backend(p, "kqueue")) {
    CHECK_EQ(SocketPoll_add(p, null, POLL_WRITE | POLL_UNPOLLABLE_READY, NULL), 0);
    CHECK_EQ(events_of(p, null, 1000, NULL, NULL) & POLL_WRITE, POLL_WRITE);
  }
  SocketPoll_free(&p);
  close(dir);
  close(null);
  return 0;
}

static int test_unpollable_fds_timers_and_sockets_in_one_batch(void) {
  SocketPoll_T p = SocketPoll_new(8);
  int fd = regular_file(), sv[2], h;
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add_timer(p, 5, 0, NULL, &h), 0);
  put(sv[1], "x");
  sleep_ms(20);
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ | POLL_UNPOLLABLE_READY, NULL), 0);
  SocketEvent_T *ev;
  CHECK_EQ(SocketPoll_wait(p, &ev, 1000), 3);
  SocketPoll_free(&p);
  close(fd);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_unpollable_full_buffer_is_fair(void) {
  /* More armed always-ready fds than fit in a batch: each wait is full, and every fd comes. */
  enum { FILES = 5 };
  SocketPoll_T p = SocketPoll_new(2);
  int fds[FILES], seen[FILES] = {0};
  for (int i = 0; i < FILES; i++) {
    fds[i] = regular_file();
    CHECK_EQ(SocketPoll_add(p, fds[i], POLL_READ | POLL_ONESHOT | POLL_UNPOLLABLE_READY, (void *)(intptr_t)i), 0);
  }
  for (int round = 0; round < 3; round++) {
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 1000);
    CHECK(n >= 1 && n <= 2);
    for (int i = 0; i < n; i++) seen[(intptr_t)ev[i].data]++;
  }
  for (int i = 0; i < FILES; i++) CHECK_EQ(seen[i], 1);
  SocketPoll_free(&p);
  for (int i = 0; i < FILES; i++) close(fds[i]);
  return 0;
}

/* ---- processes ------------------------------------------------------------------------------ */

/* A child that sleeps ms, then exits with status code. */
static pid_t spawn_sleeper(int ms, int code) {
  pid_t pid = fork();
  if (pid == 0) {
    sleep_ms(ms);
    _exit(code);
  }
  return pid;
}

static int test_child_exit_is_reported(void) {
  SocketPoll_T p = SocketPoll_new(8);
  if (!(SocketPoll_get_supported_sources(p) & SOCKETPOLL_SOURCE_PROCESS)) {
    /* Linux < 5.3, or valgrind, which does not know pidfd_open: epoll (and the kqueue emulation,
     * which is built on pidfds) say ENOSYS, the poll backend says it cannot (ENOTSUP). */
    int h;
    int expected = strcmp(SocketPoll_get_backend_name(p), "poll") == 0 ? -ENOTSUP : -ENOSYS;
    CHECK_EQ(SocketPoll_add_process(p, getpid(), NULL, &h), expected);
    SocketPoll_free(&p);
    SKIP("no process watching on this kernel (no pidfd_open): checked the error only");
  }
  if (!has_processes(p)) {
    SocketPoll_free(&p);
    SKIP("the kqueue emulation has no pidfd_open here (valgrind)");
  }
  pid_t pid = spawn_sleeper(50, 3);
  int tag = 1, h;
  CHECK_EQ(SocketPoll_add_process(p, pid, &tag, &h), 0);
  CHECK(SOCKETPOLL_IS_HANDLE(h));
  CHECK_EQ(SocketPoll_add_process(p, pid, &tag, &h + 0), -EEXIST);
  CHECK_EQ(events_of(p, h, 0, NULL, NULL), 0);
  void *data = NULL;
  CHECK_EQ(wait_until(p, h, 5000, &data), POLL_EXIT);
  CHECK(data == &tag);
  /* Not reaped by the poller: the exit status is still ours to collect. */
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
  CHECK_EQ(events_of(p, h, 50, NULL, NULL), 0);
  CHECK_EQ(SocketPoll_del(p, h), -ENOENT);
  SocketPoll_free(&p);
  return 0;
}

static int test_exit_of_a_process_that_is_not_our_child(void) {
  SocketPoll_T p = SocketPoll_new(8);
  if (!has_processes(p)) {
    SocketPoll_free(&p);
    SKIP("no process watching on this kernel (no pidfd_open)");
  }
  int pp[2];
  if (pipe(pp) != 0) abort();
  pid_t child = fork();
  if (child == 0) {
    pid_t grandchild = spawn_sleeper(150, 0);
    ssize_t w = write(pp[1], &grandchild, sizeof grandchild);
    _exit(w == (ssize_t)sizeof grandchild ? 0 : 1);
  }
  pid_t grandchild = 0;
  CHECK_EQ(read(pp[0], &grandchild, sizeof grandchild), (ssize_t)sizeof grandchild);
  close(pp[0]);
  close(pp[1]);
  CHECK_EQ(waitpid(child, NULL, 0), child); /* the grandchild is now someone else's child */
  int h;
  CHECK_EQ(SocketPoll_add_process(p, grandchild, NULL, &h), 0);
  CHECK_EQ(wait_until(p, h, 5000, NULL), POLL_EXIT);
  SocketPoll_free(&p);
  return 0;
}

static int test_gone_process_is_esrch(void) {
  SocketPoll_T p = SocketPoll_new(8);
  if (!has_processes(p)) {
    SocketPoll_free(&p);
    SKIP("no process watching on this kernel (no pidfd_open)");
  }
  pid_t pid = spawn_sleeper(0, 0);
  CHECK_EQ(waitpid(pid, NULL, 0), pid);
  int h;
  CHECK_EQ(SocketPoll_add_process(p, pid, NULL, &h), -ESRCH);
  CHECK_EQ(SocketPoll_add_process(p, 0, NULL, &h), -EINVAL);
  CHECK_EQ(SocketPoll_add_process(p, -1, NULL, &h), -EINVAL);
  SocketPoll_free(&p);
  return 0;
}

static int test_process_deleted_before_exit_is_not_reported(void) {
  SocketPoll_T p = SocketPoll_new(8);
  if (!has_processes(p)) {
    SocketPoll_free(&p);
    SKIP("no process watching on this kernel (no pidfd_open)");
  }
  pid_t pid = spawn_sleeper(30, 0);
  int h;
  CHECK_EQ(SocketPoll_add_process(p, pid, NULL, &h), 0);
  CHECK_EQ(SocketPoll_del(p, h), 0);
  CHECK_EQ(waitpid(pid, NULL, 0), pid);
  int count = -1;
  CHECK_EQ(events_of(p, h, 80, NULL, &count), 0);
  CHECK_EQ(count, 0);
  /* And the pid can be watched again by a new watch (a new handle). */
  pid_t other = spawn_sleeper(20, 0);
  int h2;
  CHECK_EQ(SocketPoll_add_process(p, other, NULL, &h2), 0);
  CHECK(h2 != h);
  CHECK_EQ(wait_until(p, h2, 5000, NULL), POLL_EXIT);
  CHECK_EQ(waitpid(other, NULL, 0), other);
  SocketPoll_free(&p);
  return 0;
}

static int test_exits_timers_and_fds_mixed(void) {
  SocketPoll_T p = SocketPoll_new(8);
  if (!has_processes(p)) {
    SocketPoll_free(&p);
    SKIP("no process watching on this kernel (no pidfd_open)");
  }
  int sv[2];
  make_socketpair(sv);
  pid_t pid = spawn_sleeper(0, 0);
  int hp, ht;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  CHECK_EQ(SocketPoll_add_timer(p, 5, 0, NULL, &ht), 0);
  int rc = SocketPoll_add_process(p, pid, NULL, &hp);
  CHECK(rc == 0);
  put(sv[1], "x");
  sleep_ms(100); /* the child has exited (a zombie until we reap it), the timer has expired */
  SocketEvent_T *ev;
  int n = SocketPoll_wait(p, &ev, 1000);
  CHECK_EQ(n, 3);
  int mask = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].fd == sv[0]) mask |= 1;
    if (ev[i].fd == ht && ev[i].events == POLL_TIMER) mask |= 2;
    if (ev[i].fd == hp && ev[i].events == POLL_EXIT) mask |= 4;
  }
  CHECK_EQ(mask, 7);
  CHECK_EQ(waitpid(pid, NULL, 0), pid);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

int main(void) {
  SocketPoll_T probe = SocketPoll_new(1);
  printf("# backend: %s\n", SocketPoll_get_backend_name(probe));
  SocketPoll_free(&probe);
  signal(SIGPIPE, SIG_IGN);
  run("supported sources include fds and timers", test_supported_sources_include_fds_and_timers);
  run("one-shot timer fires once with its data", test_one_shot_timer_fires_once_with_its_data);
  run("repeating timer coalesces late expiries", test_repeating_timer_coalesces_late_expiries);
  run("deleted timer never fires", test_deleted_timer_never_fires);
  run("timer deleted during dispatch is invalidated", test_timer_deleted_during_dispatch_is_invalidated);
  run("one-shot timer deleted in its own batch", test_one_shot_timer_deleted_in_its_own_batch);
  run("timer arguments are checked", test_timer_arguments_are_checked);
  run("timers and fds come in one batch", test_timers_and_fds_come_in_one_batch);
  run("ten thousand timers each fire once", test_ten_thousand_timers_each_fire_once);
  run("timer added by another thread ends a blocked wait",
      test_timer_added_by_another_thread_ends_a_blocked_wait);
  run("free with live timers releases them", test_free_with_live_timers_releases_them);
  run("unpollable file needs the option on epoll", test_unpollable_file_needs_the_option_on_epoll);
  run("unpollable file is reported once per wait", test_unpollable_file_is_reported_once_per_wait);
  run("unpollable oneshot and edge report once per mod", test_unpollable_oneshot_and_edge_report_once_per_mod);
  run("unpollable directory and /dev/null", test_unpollable_directory_and_dev_null);
  run("unpollable fds, timers and sockets in one batch", test_unpollable_fds_timers_and_sockets_in_one_batch);
  run("unpollable full buffer is fair", test_unpollable_full_buffer_is_fair);
  run("child exit is reported", test_child_exit_is_reported);
  run("exit of a process that is not our child", test_exit_of_a_process_that_is_not_our_child);
  run("gone process is ESRCH", test_gone_process_is_esrch);
  run("process deleted before exit is not reported", test_process_deleted_before_exit_is_not_reported);
  run("exits, timers and fds mixed", test_exits_timers_and_fds_mixed);
  return finish();
}
