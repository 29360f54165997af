/*
 * test_kqueue_emulation.c — the test-only kqueue emulation checked against the semantics it
 * claims (FreeBSD kqueue(2) / kern_event.c, macOS kqueue(2)), and the documented choices of
 * kqueue_emulation.c (numbered there). Real kernel fds only: socketpairs, pipes, TCP, files.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sys/event.h"
#include "../test_harness.h"

static const struct timespec zero = {0, 0};

/* One change, no events wanted: 0 or -1/errno. */
static int change(int kq, uintptr_t ident, int16_t filter, uint16_t flags, uint32_t fflags, void *udata) {
  struct kevent kev;
  EV_SET(&kev, ident, filter, flags, fflags, 0, udata);
  return kevent(kq, &kev, 1, NULL, 0, NULL);
}

/* Collects without blocking (or up to ms). */
static int collect(int kq, struct kevent *out, int n, int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  return kevent(kq, NULL, 0, out, n, &ts);
}

static int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the DIR's own fd */
}

/* ---- tests ------------------------------------------------------------------------------------ */

static int test_level_read_repeats_with_data_and_udata(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  int tag;
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD, 0, &tag), 0);
  struct kevent ev[4];
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  put(sv[1], "hello");
  for (int i = 0; i < 2; i++) { /* level: reported while the condition holds */
    CHECK_EQ(collect(kq, ev, 4, 1000), 1);
    CHECK_EQ(ev[0].ident, sv[0]);
    CHECK_EQ(ev[0].filter, EVFILT_READ);
    CHECK_EQ(ev[0].data, 5); /* bytes to read */
    CHECK(ev[0].udata == &tag);
    CHECK(!(ev[0].flags & (EV_EOF | EV_ERROR)));
  }
  drain(sv[0]);
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_clear_reports_each_change_once(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, NULL), 0);
  struct kevent ev[4];
  put(sv[1], "a");
  CHECK_EQ(collect(kq, ev, 4, 1000), 1);
  CHECK(ev[0].flags & EV_CLEAR);
  CHECK_EQ(collect(kq, ev, 4, 0), 0); /* state reset after retrieval */
  put(sv[1], "b");
  CHECK_EQ(collect(kq, ev, 4, 1000), 1); /* new data: new event, although not drained */
  CHECK_EQ(ev[0].data, 2);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_oneshot_is_deleted_after_delivery(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  put(sv[1], "a");
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD | EV_ONESHOT, 0, NULL), 0);
  struct kevent ev[4];
  CHECK_EQ(collect(kq, ev, 4, 1000), 1);
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  errno = 0;
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_DELETE, 0, NULL), -1);
  CHECK_EQ(errno, ENOENT); /* gone */
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_dispatch_disables_until_enable(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  put(sv[1], "a");
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD | EV_DISPATCH, 0, NULL), 0);
  struct kevent ev[4];
  CHECK_EQ(collect(kq, ev, 4, 1000), 1);
  CHECK_EQ(collect(kq, ev, 4, 50), 0); /* disabled, still readable */
  put(sv[1], "b");
  CHECK_EQ(collect(kq, ev, 4, 50), 0); /* disabled: new data is not reported either */
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ENABLE, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 4, 1000), 1); /* enable evaluates the filter again */
  CHECK_EQ(ev[0].data, 2);
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_DELETE, 0, NULL), 0); /* still registered */
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_disable_and_enable(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  put(sv[1], "a");
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD | EV_DISABLE, 0, NULL), 0);
  struct kevent ev[4];
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ENABLE, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 4, 1000), 1);
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_DISABLE, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_read_and_write_knotes_are_independent(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  struct kevent ch[2], ev[4];
  EV_SET(&ch[0], sv[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
  EV_SET(&ch[1], sv[0], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, NULL);
  CHECK_EQ(kevent(kq, ch, 2, NULL, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 4, 1000), 1); /* writable at once */
  CHECK_EQ(ev[0].filter, EVFILT_WRITE);
  put(sv[1], "a");
  CHECK_EQ(collect(kq, ev, 4, 1000), 1); /* a READ edge does not re-report WRITE */
  CHECK_EQ(ev[0].filter, EVFILT_READ);
  CHECK_EQ(collect(kq, ev, 4, 0), 0);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_receipt_reports_every_change(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  put(sv[1], "a"); /* something to collect: not collected when receipts are returned */
  CHECK_EQ(change(kq, sv[0], EVFILT_WRITE, EV_ADD, 0, NULL), 0);
  struct kevent ch[3], ev[3];
  EV_SET(&ch[0], sv[0], EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, NULL);
  EV_SET(&ch[1], 100000, EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, NULL); /* not open */
  EV_SET(&ch[2], sv[1], EVFILT_READ, EV_DELETE | EV_RECEIPT, 0, 0, NULL); /* not registered */
  CHECK_EQ(kevent(kq, ch, 3, ev, 3, &zero), 3);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(ev[i].flags, EV_ERROR);
    CHECK_EQ(ev[i].ident, ch[i].ident);
  }
  CHECK_EQ(ev[0].data, 0);
  CHECK_EQ(ev[1].data, EBADF);
  CHECK_EQ(ev[2].data, ENOENT);
  CHECK_EQ(collect(kq, ev, 3, 1000), 2); /* the READ knote was added; WRITE still there */
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_change_errors_without_receipt(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  struct kevent ch[2], ev[2];
  /* Room in the event list: the error is an EV_ERROR entry and later changes still apply. */
  EV_SET(&ch[0], sv[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
  EV_SET(&ch[1], sv[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
  CHECK_EQ(kevent(kq, ch, 2, ev, 2, &zero), 1);
  CHECK_EQ(ev[0].flags, EV_ERROR);
  CHECK_EQ(ev[0].data, ENOENT);
  CHECK_EQ(change(kq, sv[0], EVFILT_WRITE, EV_DELETE, 0, NULL), 0); /* was added */
  /* No room: -1 with errno. */
  errno = 0;
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_DELETE, 0, NULL), -1);
  CHECK_EQ(errno, ENOENT);
  errno = 0;
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ENABLE, 0, NULL), -1);
  CHECK_EQ(errno, ENOENT);
  errno = 0;
  CHECK_EQ(change(kq, sv[0], 77, EV_ADD, 0, NULL), -1); /* unknown filter */
  CHECK_EQ(errno, EINVAL);
  errno = 0;
  CHECK_EQ(kevent(sv[0], NULL, 0, ev, 2, &zero), -1); /* not a kqueue */
  CHECK_EQ(errno, EBADF);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_add_on_existing_knote_updates_and_reevaluates(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  int a, b;
  put(sv[1], "a");
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, &a), 0);
  struct kevent ev[2];
  CHECK_EQ(collect(kq, ev, 2, 1000), 1);
  CHECK_EQ(collect(kq, ev, 2, 0), 0);
  /* EV_ADD again: new udata, the filter is evaluated again and fires (data still there). Mode
   * flags are those of the first EV_ADD (choice 8): still EV_CLEAR although not given now. */
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD, 0, &b), 0);
  CHECK_EQ(collect(kq, ev, 2, 1000), 1);
  CHECK(ev[0].udata == &b);
  CHECK(ev[0].flags & EV_CLEAR);
  CHECK_EQ(collect(kq, ev, 2, 0), 0);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_eof_on_pipe_and_socket(void) {
  int kq = kqueue(), p[2], sv[2];
  make_pipe(p);
  make_socketpair(sv);
  CHECK_EQ(change(kq, p[0], EVFILT_READ, EV_ADD, 0, NULL), 0);
  CHECK_EQ(change(kq, sv[0], EVFILT_READ, EV_ADD, 0, NULL), 0);
  put(p[1], "xy");
  close(p[1]);
  shutdown(sv[1], SHUT_WR);
  struct kevent ev[4];
  int n = collect(kq, ev, 4, 1000);
  if (n == 1) n += collect(kq, ev + 1, 3, 1000);
  CHECK_EQ(n, 2);
  for (int i = 0; i < 2; i++) {
    CHECK(ev[i].flags & EV_EOF);
    CHECK_EQ(ev[i].fflags, 0);
    if ((int)ev[i].ident == p[0]) CHECK_EQ(ev[i].data, 2); /* EOF with data still to read */
    else CHECK_EQ(ev[i].ident, sv[0]);
  }
  close(kq);
  close(p[0]);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_write_eof_when_pipe_reader_is_gone(void) {
  int kq = kqueue(), p[2];
  make_pipe(p);
  CHECK_EQ(change(kq, p[1], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, NULL), 0);
  struct kevent ev[2];
  CHECK_EQ(collect(kq, ev, 2, 1000), 1);
  CHECK(!(ev[0].flags & EV_EOF));
  close(p[0]);
  CHECK_EQ(collect(kq, ev, 2, 1000), 1);
  CHECK(ev[0].flags & EV_EOF);
  CHECK_EQ(ev[0].fflags, 0); /* a pipe's EOF is not an error (choice 3) */
  close(kq);
  close(p[1]);
  return 0;
}

static int test_user_event_trigger_clear_and_fflags(void) {
  int kq = kqueue();
  struct kevent ev[2];
  CHECK_EQ(change(kq, 7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, NULL), 0);
  CHECK_EQ(change(kq, 8, EVFILT_USER, EV_ADD, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 2, 0), 0);
  struct pollfd pfd = {.fd = kq, .events = POLLIN};
  CHECK_EQ(poll(&pfd, 1, 0), 0);
  for (int i = 0; i < 3; i++) CHECK_EQ(change(kq, 7, EVFILT_USER, 0, NOTE_TRIGGER, NULL), 0);
  CHECK_EQ(poll(&pfd, 1, 0), 1); /* the kq fd is readable while an event is pending */
  CHECK_EQ(collect(kq, ev, 2, 0), 1); /* triggers coalesce */
  CHECK_EQ(ev[0].ident, 7);
  CHECK_EQ(collect(kq, ev, 2, 0), 0); /* EV_CLEAR: reset by retrieval */
  CHECK_EQ(poll(&pfd, 1, 0), 0);
  /* Without EV_CLEAR a triggered user event stays triggered; fflags controls. */
  CHECK_EQ(change(kq, 8, EVFILT_USER, 0, NOTE_FFCOPY | 0x5, NULL), 0);
  CHECK_EQ(change(kq, 8, EVFILT_USER, 0, NOTE_TRIGGER | NOTE_FFOR | 0x2, NULL), 0);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(collect(kq, ev, 2, 0), 1);
    CHECK_EQ(ev[0].ident, 8);
    CHECK_EQ(ev[0].fflags, 0x7);
  }
  CHECK_EQ(change(kq, 8, EVFILT_USER, EV_DELETE, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 2, 0), 0);
  errno = 0;
  CHECK_EQ(change(kq, 9, EVFILT_USER, 0, NOTE_TRIGGER, NULL), -1);
  CHECK_EQ(errno, ENOENT);
  close(kq);
  return 0;
}

struct trig {
  int kq;
  int delay_ms;
};

static void *trigger_later(void *arg) {
  struct trig *t = arg;
  usleep((useconds_t)t->delay_ms * 1000);
  change(t->kq, 1, EVFILT_USER, 0, NOTE_TRIGGER, NULL);
  return NULL;
}

static int test_null_timeout_blocks_until_an_event(void) {
  int kq = kqueue();
  CHECK_EQ(change(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, NULL), 0);
  struct trig t = {kq, 50};
  pthread_t th;
  // t0 before the thread exists: it triggers 50 ms after its own start, so at least 50 ms after t0
  // (taken after pthread_create, a descheduled main thread could start the clock late).
  int64_t t0 = now_ms();
  pthread_create(&th, NULL, trigger_later, &t);
  struct kevent ev;
  CHECK_EQ(kevent(kq, NULL, 0, &ev, 1, NULL), 1);
  CHECK(now_ms() - t0 >= 40);
  pthread_join(th, NULL);
  close(kq);
  return 0;
}

static int test_timeout_is_honoured(void) {
  int kq = kqueue();
  struct kevent ev;
  int64_t t0 = now_ms();
  CHECK_EQ(collect(kq, &ev, 1, 0), 0);
  CHECK(now_ms() - t0 < 50);
  t0 = now_ms();
  struct timespec ts = {0, 120 * 1000000L};
  CHECK_EQ(kevent(kq, NULL, 0, &ev, 1, &ts), 0);
  CHECK(now_ms() - t0 >= 119);
  errno = 0;
  struct timespec bad = {0, -1};
  CHECK_EQ(kevent(kq, NULL, 0, &ev, 1, &bad), -1);
  CHECK_EQ(errno, EINVAL);
  close(kq);
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
}

static void *signal_later(void *arg) {
  usleep(50 * 1000);
  pthread_kill(*(pthread_t *)arg, SIGUSR1);
  return NULL;
}

static int test_signal_interrupts_with_eintr(void) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGUSR1, &sa, &old);
  int kq = kqueue();
  pthread_t self = pthread_self(), th;
  pthread_create(&th, NULL, signal_later, &self);
  struct kevent ev;
  struct timespec ts = {5, 0};
  errno = 0;
  int n = kevent(kq, NULL, 0, &ev, 1, &ts);
  int err = errno;
  pthread_join(th, NULL);
  sigaction(SIGUSR1, &old, NULL);
  CHECK_EQ(n, -1); /* kevent is not restarted */
  CHECK_EQ(err, EINTR);
  close(kq);
  return 0;
}

static int test_except_oob_on_tcp_urgent_data(void) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(0x7f000001);
  socklen_t len = sizeof sin;
  CHECK_EQ(bind(ls, (struct sockaddr *)&sin, len), 0);
  CHECK_EQ(listen(ls, 1), 0);
  CHECK_EQ(getsockname(ls, (struct sockaddr *)&sin, &len), 0);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_EQ(connect(c, (struct sockaddr *)&sin, len), 0);
  int s = accept(ls, NULL, NULL);
  int kq = kqueue();
  CHECK_EQ(change(kq, s, EVFILT_EXCEPT, EV_ADD, NOTE_OOB, NULL), 0);
  struct kevent ev;
  CHECK_EQ(collect(kq, &ev, 1, 0), 0);
  CHECK_EQ(send(c, "!", 1, MSG_OOB), 1);
  CHECK_EQ(collect(kq, &ev, 1, 1000), 1);
  CHECK_EQ(ev.filter, EVFILT_EXCEPT);
  CHECK(ev.fflags & NOTE_OOB);
  close(kq);
  close(s);
  close(c);
  close(ls);
  return 0;
}

static int test_regular_file_is_a_vnode(void) {
  char path[] = "/tmp/kqemu-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  int kq = kqueue();
  struct kevent ch[2], ev[2];
  EV_SET(&ch[0], fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
  EV_SET(&ch[1], fd, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
  CHECK_EQ(kevent(kq, ch, 2, NULL, 0, NULL), 0);
  CHECK_EQ(collect(kq, ev, 2, 0), 1); /* empty file: at end, not readable; always writable */
  CHECK_EQ(ev[0].filter, EVFILT_WRITE);
  put(fd, "abc");
  CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
  CHECK_EQ(collect(kq, ev, 2, 0), 2);
  int r = ev[0].filter == EVFILT_READ ? 0 : 1;
  CHECK_EQ(ev[r].filter, EVFILT_READ);
  CHECK_EQ(ev[r].data, 2); /* bytes from the offset to the end */
  struct pollfd pfd = {.fd = kq, .events = POLLIN};
  CHECK_EQ(poll(&pfd, 1, 0), 1);
  errno = 0;
  CHECK_EQ(change(kq, fd, EVFILT_EXCEPT, EV_ADD, NOTE_OOB, NULL), -1);
  CHECK_EQ(errno, EINVAL);
  close(kq);
  close(fd);
  return 0;
}

static int test_closed_fd_loses_its_knotes(void) {
  int kq = kqueue(), sv[2];
  make_socketpair(sv);
  int num = sv[0];
  CHECK_EQ(change(kq, num, EVFILT_READ, EV_ADD, 0, NULL), 0);
  close(sv[0]);
  close(sv[1]);
  errno = 0;
  CHECK_EQ(change(kq, num, EVFILT_READ, EV_DELETE, 0, NULL), -1);
  CHECK_EQ(errno, EBADF); /* closed fd */
  make_socketpair(sv);
  CHECK_EQ(sv[0], num);
  errno = 0;
  CHECK_EQ(change(kq, num, EVFILT_READ, EV_DELETE, 0, NULL), -1);
  CHECK_EQ(errno, ENOENT); /* the new file under that number has no knote */
  /* Closed without EV_DELETE, number reused: EV_ADD makes a new knote on the new file. */
  CHECK_EQ(change(kq, num, EVFILT_READ, EV_ADD, 0, NULL), 0);
  close(sv[0]);
  close(sv[1]);
  make_socketpair(sv);
  CHECK_EQ(sv[0], num);
  CHECK_EQ(change(kq, num, EVFILT_READ, EV_ADD, 0, NULL), 0);
  struct kevent ev;
  CHECK_EQ(collect(kq, &ev, 1, 0), 0);
  put(sv[1], "x");
  CHECK_EQ(collect(kq, &ev, 1, 1000), 1);
  CHECK_EQ(ev.ident, num);
  close(kq);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int open_busy_kqueue(void) {
  int sv[2];
  make_socketpair(sv);
  int kq = kqueue();
  if (kq < 0) abort();
  /* Knotes in several inner epolls, and a user event. */
  if (change(kq, sv[0], EVFILT_READ, EV_ADD, 0, NULL) != 0) abort();
  if (change(kq, sv[0], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, NULL) != 0) abort();
  if (change(kq, 1, EVFILT_USER, EV_ADD, 0, NULL) != 0) abort();
  close(sv[0]);
  close(sv[1]);
  return kq;
}

static int test_closing_a_kqueue_frees_its_fds(void) {
  /* Choice 10: close() (through kqueue_emulation_close) frees the private fds at once. */
  int before = count_open_fds();
  for (int i = 0; i < 100; i++) {
    int kq = open_busy_kqueue();
    close(kq);
    CHECK_EQ(count_open_fds(), before);
  }
  /* A close the emulation is not told of: freed by the next kqueue(). */
  for (int i = 0; i < 100; i++) {
    int kq = open_busy_kqueue();
    (close)(kq); /* the real close(), not the macro */
  }
  int kq = kqueue();
  close(kq);
  CHECK_EQ(count_open_fds(), before);
  return 0;
}

int main(void) {
  run("level read repeats with data and udata", test_level_read_repeats_with_data_and_udata);
  run("EV_CLEAR reports each change once", test_clear_reports_each_change_once);
  run("EV_ONESHOT is deleted after delivery", test_oneshot_is_deleted_after_delivery);
  run("EV_DISPATCH disables until EV_ENABLE", test_dispatch_disables_until_enable);
  run("EV_DISABLE and EV_ENABLE", test_disable_and_enable);
  run("READ and WRITE knotes are independent", test_read_and_write_knotes_are_independent);
  run("EV_RECEIPT reports every change", test_receipt_reports_every_change);
  run("change errors without EV_RECEIPT", test_change_errors_without_receipt);
  run("EV_ADD on an existing knote updates and re-evaluates",
      test_add_on_existing_knote_updates_and_reevaluates);
  run("EV_EOF on pipe and socket", test_eof_on_pipe_and_socket);
  run("WRITE EV_EOF when the pipe reader is gone", test_write_eof_when_pipe_reader_is_gone);
  run("EVFILT_USER trigger, EV_CLEAR and fflags", test_user_event_trigger_clear_and_fflags);
  run("NULL timeout blocks until an event", test_null_timeout_blocks_until_an_event);
  run("timeout is honoured", test_timeout_is_honoured);
  run("a signal interrupts with EINTR", test_signal_interrupts_with_eintr);
  run("EVFILT_EXCEPT NOTE_OOB on TCP urgent data", test_except_oob_on_tcp_urgent_data);
  run("a regular file is a vnode", test_regular_file_is_a_vnode);
  run("a closed fd loses its knotes", test_closed_fd_loses_its_knotes);
  run("closing a kqueue frees its fds", test_closing_a_kqueue_frees_its_fds);
  return finish();
}
