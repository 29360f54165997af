/*
 * kqueue_emulation.c — TEST-ONLY kqueue()/kevent() for Linux, over epoll. Never shipped.
 *
 * Lets the kqueue backend (src/poll/SocketPoll_kqueue.c) be compiled and run by the test suites on
 * Linux, where there is no kqueue (Debian does not package libkqueue). It implements only what the
 * backend uses — EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT (NOTE_OOB) on fds, EVFILT_USER,
 * EVFILT_TIMER (milliseconds), EVFILT_PROC (NOTE_EXIT), the
 * actions EV_ADD/EV_DELETE/EV_ENABLE/EV_DISABLE, the flags EV_CLEAR/EV_ONESHOT/EV_DISPATCH/
 * EV_RECEIPT, and the returned EV_EOF/EV_ERROR — with the semantics of FreeBSD's kqueue(2)
 * (sys/kern/kern_event.c) and macOS's kqueue(2) man page. tests: test_kqueue_emulation.c.
 *
 * How it works
 *   - kqueue() returns an epoll fd, the "outer" epoll, so the kq fd is pollable as on macOS (the
 *     Node binding watches it with uv_poll_t): it is readable when kevent() has something to return.
 *   - Each (filter, EV_CLEAR or not) pair has its own "inner" epoll, registered level-triggered in
 *     the outer one. A knote (fd, filter) is one epoll registration of fd in the inner epoll of its
 *     filter and mode: EVFILT_READ = EPOLLIN|EPOLLRDHUP, EVFILT_WRITE = EPOLLOUT, EVFILT_EXCEPT =
 *     EPOLLPRI; EV_CLEAR adds EPOLLET. One epoll per filter keeps the READ and WRITE knotes of an fd
 *     independent, as kqueue's are (one epoll item with EPOLLIN|EPOLLOUT|EPOLLET would re-report
 *     WRITE on every READ edge).
 *   - EV_DISABLE, EV_DISPATCH after delivery and EV_ONESHOT after delivery take the fd out of the
 *     inner epoll (EPOLL_CTL_DEL); EV_ENABLE puts it back (EPOLL_CTL_ADD re-checks readiness, which
 *     is what FreeBSD does on enable: the filter is evaluated again).
 *   - EV_ADD on an existing knote is EPOLL_CTL_MOD, which re-checks readiness and queues the item
 *     even in edge mode: FreeBSD's kqueue_register() likewise calls the filter again and activates
 *     the knote if the condition holds.
 *   - EVFILT_USER knotes and knotes on regular files/directories (which epoll refuses with EPERM;
 *     kqueue accepts them as vnodes) live in user space; an eventfd in the outer epoll is kept
 *     readable while one of them is active.
 *   - Every epoll item carries (generation << 32 | fd); an item whose knote is gone is dropped.
 *
 * Points where the emulation CHOSE rather than followed a man page (also in docs/backends/kqueue.md)
 *   1. Constants and struct kevent are macOS's (EVFILT_USER -10, EVFILT_EXCEPT -15, intptr_t data,
 *      no ext[]). FreeBSD uses -11 for EVFILT_USER, has no EVFILT_EXCEPT (its -13 is
 *      EVFILT_EMPTY) and adds ext[4]; the backend only uses the names.
 *   2. EV_EOF is derived from what epoll reports: READ gets EV_EOF on EPOLLRDHUP or EPOLLHUP (peer
 *      shut down its writing half / hang-up), WRITE on EPOLLHUP or EPOLLERR. So shutdown(SHUT_WR)
 *      of one's OWN socket does not set EV_EOF on its WRITE knote (FreeBSD does: SBS_CANTSENDMORE),
 *      because Linux reports nothing for it.
 *   3. EPOLLERR sets EV_EOF, and fflags = EIO on a socket (a stand-in "an error is pending"; the
 *      real so_error cannot be read on Linux without clearing it, which would change what the
 *      program's next recv() returns) and fflags = 0 on anything else (FreeBSD reports a pipe whose
 *      other end is gone as EV_EOF without an error).
 *   4. data is the FIONREAD byte count for READ (0 where FIONREAD fails, e.g. a listening socket;
 *      kqueue gives the backlog there), 0 for WRITE (kqueue gives the free space), 0 for EXCEPT.
 *      NOTE_LOWAT is ignored.
 *   5. EVFILT_EXCEPT fires on EPOLLPRI and returns fflags NOTE_OOB, whatever fflags were asked for.
 *   6. Registering EVFILT_WRITE on a pipe whose reader is already gone succeeds and reports EV_EOF,
 *      as current macOS does. FreeBSD's pipe_kqfilter() refuses it with EPIPE; with the environment
 *      variable KQUEUE_EMULATION_PIPE_WRITE_EPIPE=1 (read by each EV_ADD) the emulation does too.
 *   7. Regular files (and anything else epoll refuses with EPERM) are vnode knotes evaluated when
 *      kevent() is called: READ is active while the file offset is before the end (data = bytes
 *      left; the man pages' rule), WRITE is always active. A write to the file by someone else does
 *      not wake a blocked kevent() (real kqueue is woken by vnode activity). An EV_CLEAR vnode
 *      knote fires once per EV_ADD/EV_ENABLE.
 *   8. The mode flags (EV_CLEAR, EV_ONESHOT, EV_DISPATCH) of an existing knote are not changed by
 *      a later EV_ADD (FreeBSD's kqueue_register() only updates udata, fflags and data then); to
 *      change them, delete and add the knote again.
 *   9. Closing a registered fd: epoll forgets it by itself when the last descriptor of the file is
 *      closed; the emulation notices a closed or reused fd number (fstat dev/inode differ) the next
 *      time a change names it and drops the old knotes then, so EV_DELETE on a closed fd is EBADF
 *      and EV_ADD on a reused number creates a new knote, as with kqueue. If another descriptor of
 *      the closed file stays open (dup, fork), epoll keeps the old item (nothing can remove it by
 *      number); until a change names the number, its events are dropped (stale generation), and
 *      then the inner epoll that holds it is rebuilt without it (rebuild_inner).
 *  10. Closing the kq fd: sys/event.h routes close() of the files that include it through
 *      kqueue_emulation_close(), which frees the emulation's state and private fds (inner epolls,
 *      the eventfd) with the kq fd. A kq fd closed any other way (a close() in a file that does
 *      not include sys/event.h, dup2 over it, close_range) keeps its state until kqueue() next
 *      runs and finds it closed or reused (the outer epoll no longer holds our eventfd), or until
 *      exit; until then the private fds stay open and kevent() on that closed fd is not refused.
 *  11. Change-list errors (FreeBSD's rule): a failed change, or any change with EV_RECEIPT, is
 *      written to the event list with flags = EV_ERROR and data = errno (0 for a receipt); if the
 *      event list is full, an error makes kevent() return -1 with that errno and stop; a receipt
 *      with no room is dropped and processing continues (macOS; FreeBSD returns 0 and stops).
 *      When any entry was written, kevent() returns them without collecting events.
 *  12. NOTE_TRIGGER of an existing EVFILT_USER knote (a change with no EV_* action and nevents 0)
 *      takes no lock, so it is async-signal-safe like the system call; everything else holds a
 *      per-kqueue mutex, never across the blocking epoll_wait().
 *  13. kevent() returns -1/EINTR when a signal interrupts the wait (as the kernel does: kevent is
 *      never restarted); it does not return early with 0 events for a wakeup that finds nothing
 *      (an item dropped as stale): it waits again for the time left.
 *  14. EVFILT_TIMER and EVFILT_PROC knotes are a timerfd (CLOCK_MONOTONIC) or a pidfd (Linux 5.3+;
 *      ENOSYS before) each, in one more inner epoll. They take EV_ADD, EV_DELETE, EV_ONESHOT and
 *      EV_RECEIPT only (EV_ENABLE, EV_DISABLE, EV_CLEAR, EV_DISPATCH: EINVAL). A timer's data is
 *      the interval in milliseconds (fflags must be 0: no NOTE_SECONDS/NOTE_USECONDS), and the
 *      returned data the expiries since the last report. EVFILT_PROC takes NOTE_EXIT only; the exit
 *      is reported with EV_EOF | EV_ONESHOT and data 0 (the status of a process that is not our
 *      child cannot be read on Linux), and the knote is then gone. A pid that does not exist is
 *      ESRCH, as with kqueue.
 *  15. Refusing fds like macOS: macOS's kqueue refuses some character devices with EINVAL, /dev/tty
 *      among them. When the environment variable KQUEUE_EMULATION_EINVAL is "tty" at the time of
 *      an EV_ADD, the emulation refuses EVFILT_READ, EVFILT_WRITE and EVFILT_EXCEPT on every
 *      terminal (isatty(): ptys included, which macOS accepts) with EINVAL, so the backend's path
 *      for refused fds can be tested with a pty. Unset (the default), terminals are accepted.
 */
#define _GNU_SOURCE
#define SOCKETPOLL_KQUEUE_EMULATION_IMPLEMENTATION /* our own close() is the real one */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sys/event.h"

enum { F_READ, F_WRITE, F_EXCEPT, NFILT };
enum { M_LEVEL, M_CLEAR, NMODE };
enum { MAX_USER = 8, KQ_TABLE_SIZE = 1 << 16 };

#define SOFT_TOKEN UINT64_MAX
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define MODE_FLAGS (EV_CLEAR | EV_ONESHOT | EV_DISPATCH)

struct knote {
  int fd;
  int filt;
  uint16_t flags; /* EV_CLEAR | EV_ONESHOT | EV_DISPATCH as registered */
  uint32_t sfflags;
  intptr_t sdata;
  void *udata;
  uint32_t gen;
  int enabled;
  int in_epoll;
  int vnode;   /* regular file & co: evaluated in user space */
  int pending; /* vnode + EV_CLEAR: not delivered since the last add/enable */
  int socket;
  dev_t dev;
  ino_t ino;
  struct knote *vnext; /* list of vnode knotes */
};

struct uknote {
  atomic_int in_use;
  atomic_int triggered;
  uintptr_t ident;
  uint16_t flags;
  int enabled;
  uint32_t fflags;
  intptr_t data;
  void *udata;
};

/* EVFILT_TIMER / EVFILT_PROC knote (choice 14). */
struct sknote {
  int16_t filter;
  uintptr_t ident;
  uint16_t flags;
  void *udata;
  int fd; /* timerfd or pidfd */
  uint32_t gen;
};

struct kq {
  int epfd; /* the outer epoll: the kq fd */
  int sources_ep;           /* inner epoll of the sknotes' fds, -1 until the first */
  struct sknote **sknotes;  /* index (the epoll token's low half) -> knote */
  int nsknotes;
  int soft_efd;
  int inner[NFILT][NMODE];
  pthread_mutex_t mu;
  struct knote *(*fds)[NFILT]; /* fd -> knotes */
  int nfds;
  struct knote *vnodes;
  uint32_t next_gen;
  struct uknote users[MAX_USER];
};

static _Atomic(struct kq *) kq_table[KQ_TABLE_SIZE];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static const uint32_t filt_mask[NFILT] = {EPOLLIN | EPOLLRDHUP, EPOLLOUT, EPOLLPRI};

static int filt_index(int16_t filter) {
  switch (filter) {
  case EVFILT_READ: return F_READ;
  case EVFILT_WRITE: return F_WRITE;
  case EVFILT_EXCEPT: return F_EXCEPT;
  default: return -1;
  }
}

static int16_t filt_value(int filt) {
  static const int16_t values[NFILT] = {EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT};
  return values[filt];
}

/* ---- state lifetime -------------------------------------------------------------------------- */

static void kq_destroy(struct kq *kq) {
  for (int f = 0; f < NFILT; f++)
    for (int m = 0; m < NMODE; m++)
      if (kq->inner[f][m] >= 0) close(kq->inner[f][m]);
  if (kq->soft_efd >= 0) close(kq->soft_efd);
  if (kq->sources_ep >= 0) close(kq->sources_ep);
  for (int i = 0; i < kq->nsknotes; i++) {
    if (kq->sknotes[i] != NULL) close(kq->sknotes[i]->fd);
    free(kq->sknotes[i]);
  }
  free(kq->sknotes);
  for (int fd = 0; fd < kq->nfds; fd++)
    for (int f = 0; f < NFILT; f++) free(kq->fds[fd][f]);
  free(kq->fds);
  pthread_mutex_destroy(&kq->mu);
  free(kq);
}

/* The kq fd still names our outer epoll: only it holds our private eventfd. */
static int kq_alive(int fd, struct kq *kq) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SOFT_TOKEN};
  return epoll_ctl(fd, EPOLL_CTL_MOD, kq->soft_efd, &ev) == 0;
}

/* Frees the state of kq fds that were closed (choice 10). Caller holds table_mu. */
static void sweep_closed(void) {
  for (int fd = 0; fd < KQ_TABLE_SIZE; fd++) {
    struct kq *kq = atomic_load(&kq_table[fd]);
    if (kq != NULL && !kq_alive(fd, kq)) {
      atomic_store(&kq_table[fd], NULL);
      kq_destroy(kq);
    }
  }
}

__attribute__((destructor)) static void free_all(void) {
  for (int fd = 0; fd < KQ_TABLE_SIZE; fd++) {
    struct kq *kq = atomic_exchange(&kq_table[fd], NULL);
    if (kq != NULL) kq_destroy(kq);
  }
}

int kqueue_emulation_close(int fd) {
  if (fd >= 0 && fd < KQ_TABLE_SIZE) {
    pthread_mutex_lock(&table_mu);
    struct kq *kq = atomic_load(&kq_table[fd]);
    if (kq != NULL && kq_alive(fd, kq)) {
      atomic_store(&kq_table[fd], NULL);
      kq_destroy(kq);
    }
    pthread_mutex_unlock(&table_mu);
  }
  return close(fd);
}

int kqueue(void) {
  struct kq *kq = calloc(1, sizeof(*kq));
  if (kq == NULL) {
    errno = ENOMEM;
    return -1;
  }
  for (int f = 0; f < NFILT; f++)
    for (int m = 0; m < NMODE; m++) kq->inner[f][m] = -1;
  kq->soft_efd = -1;
  kq->sources_ep = -1;
  pthread_mutex_init(&kq->mu, NULL);
  int err;
  kq->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (kq->epfd < 0) goto fail_errno;
  kq->soft_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (kq->soft_efd < 0) goto fail_errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SOFT_TOKEN};
  if (epoll_ctl(kq->epfd, EPOLL_CTL_ADD, kq->soft_efd, &ev) < 0) goto fail_errno;
  if (kq->epfd >= KQ_TABLE_SIZE) {
    err = EMFILE;
    goto fail;
  }
  pthread_mutex_lock(&table_mu);
  sweep_closed();
  struct kq *old = atomic_exchange(&kq_table[kq->epfd], kq);
  pthread_mutex_unlock(&table_mu);
  if (old != NULL) kq_destroy(old); /* swept already unless alive, which cannot be: fd is new */
  return kq->epfd;

fail_errno:
  err = errno;
fail:
  if (kq->epfd >= 0) close(kq->epfd);
  kq_destroy(kq);
  errno = err;
  return -1;
}

/* ---- user-space knotes: the soft eventfd ------------------------------------------------------ */

static int vnode_ready(struct knote *k, intptr_t *data) {
  *data = 0;
  if (k->filt == F_WRITE) return 1;
  if (k->filt != F_READ) return 0;
  struct stat st;
  off_t off = lseek(k->fd, 0, SEEK_CUR);
  if (fstat(k->fd, &st) < 0 || off < 0) return 0;
  *data = (intptr_t)(st.st_size - off);
  return *data != 0;
}

static int vnode_active(struct knote *k) {
  intptr_t data;
  if (!k->enabled) return 0;
  if ((k->flags & EV_CLEAR) && !k->pending) return 0;
  return vnode_ready(k, &data);
}

/* Drain first, then re-check: a concurrent lock-free NOTE_TRIGGER sets its flag before writing
 * the eventfd, so either its write comes after our drain or we see its flag. Caller holds mu. */
static void soft_update(struct kq *kq) {
  uint64_t v;
  while (read(kq->soft_efd, &v, sizeof(v)) > 0) {
  }
  int active = 0;
  for (int i = 0; i < MAX_USER && !active; i++) {
    struct uknote *u = &kq->users[i];
    if (atomic_load(&u->in_use) && u->enabled && atomic_load(&u->triggered)) active = 1;
  }
  for (struct knote *k = kq->vnodes; k != NULL && !active; k = k->vnext) active = vnode_active(k);
  if (active) {
    v = 1;
    ssize_t n = write(kq->soft_efd, &v, sizeof(v));
    (void)n;
  }
}

/* ---- fd knotes --------------------------------------------------------------------------------- */

static int inner_fd(struct kq *kq, int filt, int mode) {
  if (kq->inner[filt][mode] >= 0) return kq->inner[filt][mode];
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return -errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(filt * NMODE + mode)};
  if (epoll_ctl(kq->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  kq->inner[filt][mode] = fd;
  return fd;
}

static uint64_t knote_token(struct knote *k) {
  return ((uint64_t)k->gen << 32) | (uint32_t)k->fd;
}

/* EPOLL_CTL_ADD (op ADD) or MOD of k in its inner epoll. 0 or an errno. */
static int knote_arm(struct kq *kq, struct knote *k, int op) {
  if (k->vnode) {
    k->pending = 1;
    return 0;
  }
  int ep = inner_fd(kq, k->filt, (k->flags & EV_CLEAR) ? M_CLEAR : M_LEVEL);
  if (ep < 0) return -ep;
  struct epoll_event ev = {.events = filt_mask[k->filt] | ((k->flags & EV_CLEAR) ? EPOLLET : 0),
                           .data.u64 = knote_token(k)};
  if (epoll_ctl(ep, op, k->fd, &ev) < 0) return errno;
  k->in_epoll = 1;
  return 0;
}

static void knote_disarm(struct kq *kq, struct knote *k) {
  if (k->in_epoll) {
    int ep = kq->inner[k->filt][(k->flags & EV_CLEAR) ? M_CLEAR : M_LEVEL];
    epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL); /* fails harmlessly if fd was closed */
    k->in_epoll = 0;
  }
}

static void knote_free(struct kq *kq, struct knote *k) {
  knote_disarm(kq, k);
  if (k->vnode) {
    for (struct knote **p = &kq->vnodes; *p != NULL; p = &(*p)->vnext) {
      if (*p == k) {
        *p = k->vnext;
        break;
      }
    }
  }
  kq->fds[k->fd][k->filt] = NULL;
  free(k);
}

static int reserve_fds(struct kq *kq, int fd) {
  if (fd < kq->nfds) return 0;
  int n = kq->nfds ? kq->nfds : 64;
  while (n <= fd) n *= 2;
  void *p = realloc(kq->fds, (size_t)n * sizeof(*kq->fds));
  if (p == NULL) return ENOMEM;
  kq->fds = p;
  memset(kq->fds + kq->nfds, 0, (size_t)(n - kq->nfds) * sizeof(*kq->fds));
  kq->nfds = n;
  return 0;
}

/* Drops knotes of fd whose file is not the one now open under that number (choice 9). */
/* Replaces the inner epoll of (filt, mode) by a new one holding the same knotes: drops an item
 * that a closed fd left behind because another descriptor keeps its file open (real kqueue drops
 * the knotes of an fd on close whatever else holds the file). Best effort. Caller holds mu. */
static void rebuild_inner(struct kq *kq, int filt, int mode) {
  int old = kq->inner[filt][mode];
  if (old < 0) return;
  int fresh = epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0) return;
  for (int fd = 0; fd < kq->nfds; fd++) {
    struct knote *k = kq->fds[fd][filt];
    if (k == NULL || !k->in_epoll || ((k->flags & EV_CLEAR) ? M_CLEAR : M_LEVEL) != mode) continue;
    struct epoll_event ev = {.events = filt_mask[filt] | (mode == M_CLEAR ? EPOLLET : 0),
                             .data.u64 = knote_token(k)};
    if (epoll_ctl(fresh, EPOLL_CTL_ADD, fd, &ev) < 0) k->in_epoll = 0;
  }
  /* The new set takes the old one's number (dup3 closes the old set), so the emulation's fd
   * numbers stay as they were. */
  epoll_ctl(kq->epfd, EPOLL_CTL_DEL, old, NULL);
  int moved = dup3(fresh, old, O_CLOEXEC);
  close(fresh);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(filt * NMODE + mode)};
  if (moved < 0 || epoll_ctl(kq->epfd, EPOLL_CTL_ADD, old, &ev) < 0) {
    close(old); /* best effort, as said: this filter's knotes stop reporting */
    kq->inner[filt][mode] = -1;
  }
}

static void purge_stale(struct kq *kq, int fd, const struct stat *st) {
  if (fd >= kq->nfds) return;
  for (int f = 0; f < NFILT; f++) {
    struct knote *k = kq->fds[fd][f];
    if (k != NULL && (st == NULL || k->dev != st->st_dev || k->ino != st->st_ino)) {
      int was_in = k->in_epoll, mode = (k->flags & EV_CLEAR) ? M_CLEAR : M_LEVEL;
      k->in_epoll = 0; /* the number names another file now: DEL would hit the wrong one */
      knote_free(kq, k);
      if (was_in) rebuild_inner(kq, f, mode);
    }
  }
}

static int register_fd(struct kq *kq, struct kevent *kev) {
  int filt = filt_index(kev->filter);
  if (kev->ident > INT_MAX) return EBADF;
  int fd = (int)kev->ident;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    purge_stale(kq, fd, NULL);
    return EBADF;
  }
  purge_stale(kq, fd, &st);
  struct knote *k = fd < kq->nfds ? kq->fds[fd][filt] : NULL;
  int err;

  if (kev->flags & EV_DELETE) {
    if (k == NULL) return ENOENT;
    knote_free(kq, k);
    return 0;
  }
  if (k == NULL) {
    if (!(kev->flags & EV_ADD)) return ENOENT;
    if (filt == F_WRITE && S_ISFIFO(st.st_mode) && getenv("KQUEUE_EMULATION_PIPE_WRITE_EPIPE")) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) return EPIPE; /* FreeBSD: no reader */
    }
    const char *refuse = getenv("KQUEUE_EMULATION_EINVAL"); /* choice 15 */
    if (refuse != NULL && strcmp(refuse, "tty") == 0 && isatty(fd)) return EINVAL;
    if ((err = reserve_fds(kq, fd)) != 0) return err;
    k = calloc(1, sizeof(*k));
    if (k == NULL) return ENOMEM;
    k->fd = fd;
    k->filt = filt;
    k->flags = kev->flags & MODE_FLAGS;
    k->sfflags = kev->fflags;
    k->sdata = kev->data;
    k->udata = kev->udata;
    k->gen = ++kq->next_gen;
    k->dev = st.st_dev;
    k->ino = st.st_ino;
    k->socket = S_ISSOCK(st.st_mode);
    k->enabled = !(kev->flags & EV_DISABLE);
    /* Attach: epoll decides whether fd can be polled at all (EPERM: a regular file, a vnode). */
    err = knote_arm(kq, k, EPOLL_CTL_ADD);
    if (err == EPERM) {
      if (filt == F_EXCEPT) {
        free(k);
        return EINVAL;
      }
      k->vnode = 1;
      k->pending = 1;
      k->vnext = kq->vnodes;
      kq->vnodes = k;
      err = 0;
    }
    if (err != 0) {
      free(k);
      return err;
    }
    kq->fds[fd][filt] = k;
    if (!k->enabled) knote_disarm(kq, k);
    return 0;
  }

  /* Existing knote: EV_ADD updates udata, fflags and data (not the mode flags: choice 8) and
   * evaluates the filter again; EV_ENABLE/EV_DISABLE switch it on and off. */
  if (kev->flags & EV_ADD) {
    k->udata = kev->udata;
    k->sfflags = kev->fflags;
    k->sdata = kev->data;
  }
  if (kev->flags & EV_DISABLE) {
    k->enabled = 0;
    knote_disarm(kq, k);
    return 0;
  }
  if ((kev->flags & EV_ENABLE) && !k->enabled) {
    k->enabled = 1;
    return knote_arm(kq, k, EPOLL_CTL_ADD);
  }
  if ((kev->flags & EV_ADD) && k->enabled) {
    if (k->vnode) {
      k->pending = 1;
      return 0;
    }
    return knote_arm(kq, k, k->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD);
  }
  return 0;
}

/* ---- EVFILT_USER ------------------------------------------------------------------------------- */

static struct uknote *user_find(struct kq *kq, uintptr_t ident) {
  for (int i = 0; i < MAX_USER; i++) {
    struct uknote *u = &kq->users[i];
    if (atomic_load(&u->in_use) && u->ident == ident) return u;
  }
  return NULL;
}

static void user_fflags(struct uknote *u, uint32_t fflags) {
  uint32_t v = fflags & NOTE_FFLAGSMASK;
  switch (fflags & NOTE_FFCTRLMASK) {
  case NOTE_FFAND: u->fflags &= v; break;
  case NOTE_FFOR: u->fflags |= v; break;
  case NOTE_FFCOPY: u->fflags = v; break;
  default: break;
  }
}

static int register_user(struct kq *kq, struct kevent *kev) {
  struct uknote *u = user_find(kq, kev->ident);
  if (kev->flags & EV_DELETE) {
    if (u == NULL) return ENOENT;
    atomic_store(&u->in_use, 0);
    return 0;
  }
  if (u == NULL) {
    if (!(kev->flags & EV_ADD)) return ENOENT;
    for (int i = 0; i < MAX_USER && u == NULL; i++)
      if (!atomic_load(&kq->users[i].in_use)) u = &kq->users[i];
    if (u == NULL) return ENOMEM;
    u->ident = kev->ident;
    u->flags = kev->flags & MODE_FLAGS;
    u->enabled = 1;
    u->fflags = 0;
    u->data = 0;
    atomic_store(&u->triggered, 0);
    atomic_store(&u->in_use, 1);
  }
  if (kev->flags & EV_ADD) {
    u->udata = kev->udata;
    u->data = kev->data;
  }
  user_fflags(u, kev->fflags);
  if (kev->fflags & NOTE_TRIGGER) atomic_store(&u->triggered, 1);
  if (kev->flags & EV_DISABLE) u->enabled = 0;
  if (kev->flags & EV_ENABLE) u->enabled = 1;
  return 0;
}

/* ---- EVFILT_TIMER and EVFILT_PROC (choice 14) --------------------------------------------------- */

static int sknote_find(struct kq *kq, int16_t filter, uintptr_t ident) {
  for (int i = 0; i < kq->nsknotes; i++) {
    struct sknote *k = kq->sknotes[i];
    if (k != NULL && k->filter == filter && k->ident == ident) return i;
  }
  return -1;
}

static void sknote_free(struct kq *kq, int i) {
  struct sknote *k = kq->sknotes[i];
  epoll_ctl(kq->sources_ep, EPOLL_CTL_DEL, k->fd, NULL);
  close(k->fd);
  free(k);
  kq->sknotes[i] = NULL;
}

static int timer_arm(int fd, intptr_t ms, int oneshot) {
  struct itimerspec its = {0};
  its.it_value.tv_sec = (time_t)(ms / 1000);
  its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
  if (!oneshot) its.it_interval = its.it_value;
  return timerfd_settime(fd, 0, &its, NULL) < 0 ? errno : 0;
}

static int register_source(struct kq *kq, struct kevent *kev) {
  if (kev->flags & (EV_ENABLE | EV_DISABLE | EV_CLEAR | EV_DISPATCH)) return EINVAL;
  int i = sknote_find(kq, kev->filter, kev->ident);
  if (kev->flags & EV_DELETE) {
    if (i < 0) return ENOENT;
    sknote_free(kq, i);
    return 0;
  }
  if (!(kev->flags & EV_ADD)) return i < 0 ? ENOENT : 0;
  if (kev->filter == EVFILT_TIMER && (kev->data <= 0 || kev->fflags != 0)) return EINVAL;
  if (kev->filter == EVFILT_PROC && (kev->fflags != NOTE_EXIT || kev->ident > INT_MAX)) return EINVAL;
  if (i >= 0) { /* EV_ADD of an existing knote: new udata, and a timer restarts with the new data */
    struct sknote *k = kq->sknotes[i];
    k->udata = kev->udata;
    return k->filter == EVFILT_TIMER ? timer_arm(k->fd, kev->data, (k->flags & EV_ONESHOT) != 0) : 0;
  }
  if (kq->sources_ep < 0) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = NFILT * NMODE};
    if (epoll_ctl(kq->epfd, EPOLL_CTL_ADD, ep, &ev) < 0) {
      int err = errno;
      close(ep);
      return err;
    }
    kq->sources_ep = ep;
  }
  int slot = -1;
  for (int j = 0; j < kq->nsknotes && slot < 0; j++)
    if (kq->sknotes[j] == NULL) slot = j;
  if (slot < 0) {
    int n = kq->nsknotes ? kq->nsknotes * 2 : 16;
    void *p = realloc(kq->sknotes, (size_t)n * sizeof(*kq->sknotes));
    if (p == NULL) return ENOMEM;
    kq->sknotes = p;
    memset(kq->sknotes + kq->nsknotes, 0, (size_t)(n - kq->nsknotes) * sizeof(*kq->sknotes));
    slot = kq->nsknotes;
    kq->nsknotes = n;
  }
  int fd;
  if (kev->filter == EVFILT_TIMER) fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  else fd = (int)syscall(SYS_pidfd_open, (pid_t)kev->ident, 0);
  if (fd < 0) return errno; /* ESRCH: no such process; ENOSYS: Linux < 5.3 */
  struct sknote *k = calloc(1, sizeof(*k));
  int err = k == NULL ? ENOMEM : 0;
  if (err == 0) {
    k->filter = kev->filter;
    k->ident = kev->ident;
    k->flags = kev->flags & EV_ONESHOT;
    k->udata = kev->udata;
    k->fd = fd;
    k->gen = ++kq->next_gen;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)k->gen << 32) | (uint32_t)slot};
    if (epoll_ctl(kq->sources_ep, EPOLL_CTL_ADD, fd, &ev) < 0) err = errno;
  }
  if (err == 0 && k->filter == EVFILT_TIMER) err = timer_arm(fd, kev->data, (k->flags & EV_ONESHOT) != 0);
  if (err != 0) {
    if (k != NULL && kq->sources_ep >= 0) epoll_ctl(kq->sources_ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(k);
    return err;
  }
  kq->sknotes[slot] = k;
  return 0;
}

static int collect_sources(struct kq *kq, struct kevent *out, int room) {
  if (kq->sources_ep < 0 || room <= 0) return 0;
  struct epoll_event evs[64];
  int got = epoll_wait(kq->sources_ep, evs, room < 64 ? room : 64, 0);
  int n = 0;
  for (int i = 0; i < got; i++) {
    int slot = (int)(uint32_t)evs[i].data.u64;
    struct sknote *k = slot < kq->nsknotes ? kq->sknotes[slot] : NULL;
    if (k == NULL || k->gen != (uint32_t)(evs[i].data.u64 >> 32)) continue;
    if (k->filter == EVFILT_TIMER) {
      uint64_t expiries;
      if (read(k->fd, &expiries, sizeof(expiries)) != (ssize_t)sizeof(expiries)) continue;
      EV_SET(&out[n], k->ident, EVFILT_TIMER, k->flags, 0, (intptr_t)expiries, k->udata);
      n++;
      if (k->flags & EV_ONESHOT) sknote_free(kq, slot);
    } else {
      EV_SET(&out[n], k->ident, EVFILT_PROC, k->flags | EV_EOF | EV_ONESHOT, NOTE_EXIT, 0, k->udata);
      n++;
      sknote_free(kq, slot);
    }
  }
  return n;
}

/* ---- collecting events ------------------------------------------------------------------------- */

static int collect_user(struct kq *kq, struct kevent *out, int room) {
  int n = 0;
  for (int i = 0; i < MAX_USER && n < room; i++) {
    struct uknote *u = &kq->users[i];
    if (!atomic_load(&u->in_use) || !u->enabled || !atomic_load(&u->triggered)) continue;
    EV_SET(&out[n], u->ident, EVFILT_USER, u->flags, u->fflags, u->data, u->udata);
    n++;
    if (u->flags & EV_CLEAR) {
      atomic_store(&u->triggered, 0);
      u->fflags = 0;
    }
    if (u->flags & EV_ONESHOT) atomic_store(&u->in_use, 0);
    else if (u->flags & EV_DISPATCH) u->enabled = 0;
  }
  return n;
}

/* After delivery: EV_ONESHOT deletes, EV_DISPATCH disables. Returns 1 when k was freed. */
static int after_delivery(struct kq *kq, struct knote *k) {
  if (k->flags & EV_ONESHOT) {
    knote_free(kq, k);
    return 1;
  }
  if (k->flags & EV_DISPATCH) {
    k->enabled = 0;
    knote_disarm(kq, k);
  }
  if (k->vnode) k->pending = 0;
  return 0;
}

static int collect_vnodes(struct kq *kq, struct kevent *out, int room) {
  int n = 0;
  struct knote *k = kq->vnodes;
  while (k != NULL && n < room) {
    struct knote *next = k->vnext;
    intptr_t data;
    if (vnode_active(k) && vnode_ready(k, &data)) {
      EV_SET(&out[n], (uintptr_t)k->fd, filt_value(k->filt), k->flags, 0, data, k->udata);
      n++;
      after_delivery(kq, k);
    }
    k = next;
  }
  return n;
}

static int fill_from_epoll(struct knote *k, uint32_t revents, struct kevent *out) {
  uint16_t flags = k->flags;
  uint32_t fflags = 0;
  intptr_t data = 0;
  int fire = 0;
  int eof_bits = 0;
  switch (k->filt) {
  case F_READ:
    fire = (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    eof_bits = (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if (fire) {
      int avail = 0;
      if (ioctl(k->fd, FIONREAD, &avail) == 0) data = avail;
    }
    break;
  case F_WRITE:
    fire = (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    eof_bits = (revents & (EPOLLHUP | EPOLLERR)) != 0;
    break;
  case F_EXCEPT:
    fire = (revents & EPOLLPRI) != 0;
    if (fire) fflags = NOTE_OOB;
    break;
  }
  if (!fire) return 0;
  if (eof_bits) {
    flags |= EV_EOF;
    if ((revents & EPOLLERR) && k->socket) fflags = EIO; /* choice 3 */
  }
  EV_SET(out, (uintptr_t)k->fd, filt_value(k->filt), flags, fflags, data, k->udata);
  return 1;
}

static int collect_epoll(struct kq *kq, struct kevent *out, int room) {
  int n = 0;
  struct epoll_event evs[64];
  for (int f = 0; f < NFILT; f++) {
    for (int m = 0; m < NMODE; m++) {
      int ep = kq->inner[f][m];
      if (ep < 0) continue;
      while (n < room) {
        int want = room - n < 64 ? room - n : 64;
        int got = epoll_wait(ep, evs, want, 0);
        if (got <= 0) break;
        for (int i = 0; i < got; i++) {
          int fd = (int)(uint32_t)evs[i].data.u64;
          uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
          struct knote *k = fd < kq->nfds ? kq->fds[fd][f] : NULL;
          if (k == NULL || k->gen != gen || !k->enabled) continue; /* stale (choice 9) */
          if (fill_from_epoll(k, evs[i].events, &out[n])) {
            n++;
            after_delivery(kq, k);
          }
        }
        if (got < want) break;
      }
    }
  }
  return n;
}

static int collect(struct kq *kq, struct kevent *out, int room) {
  int n = collect_user(kq, out, room);
  n += collect_vnodes(kq, out + n, room - n);
  n += collect_epoll(kq, out + n, room - n);
  n += collect_sources(kq, out + n, room - n);
  soft_update(kq);
  return n;
}

/* ---- kevent ------------------------------------------------------------------------------------ */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Choice 12: a bare NOTE_TRIGGER of existing user knotes, without the lock. 1 when done. */
static int trigger_lock_free(struct kq *kq, const struct kevent *changes, int nchanges) {
  for (int i = 0; i < nchanges; i++) {
    const struct kevent *c = &changes[i];
    if (c->filter != EVFILT_USER || c->flags != 0 || c->fflags != NOTE_TRIGGER) return 0;
    if (user_find(kq, c->ident) == NULL) return 0;
  }
  for (int i = 0; i < nchanges; i++) {
    struct uknote *u = user_find(kq, changes[i].ident);
    if (u != NULL) atomic_store(&u->triggered, 1);
  }
  uint64_t one = 1;
  ssize_t n = write(kq->soft_efd, &one, sizeof(one));
  (void)n;
  return 1;
}

int kevent(int kqfd, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
           int nevents, const struct timespec *timeout) {
  if (nchanges < 0 || nevents < 0) {
    errno = EINVAL;
    return -1;
  }
  struct kq *kq = (kqfd >= 0 && kqfd < KQ_TABLE_SIZE) ? atomic_load(&kq_table[kqfd]) : NULL;
  if (kq == NULL) {
    errno = EBADF;
    return -1;
  }
  if (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)) {
    errno = EINVAL;
    return -1;
  }
  int saved_errno = errno;
  if (nchanges > 0 && nevents == 0 && trigger_lock_free(kq, changelist, nchanges)) {
    errno = saved_errno;
    return 0;
  }

  pthread_mutex_lock(&kq->mu);
  int nerr = 0;
  for (int i = 0; i < nchanges; i++) {
    struct kevent kev = changelist[i];
    kev.flags &= (uint16_t) ~(EV_EOF | EV_ERROR);
    int err;
    if (kev.filter == EVFILT_USER) err = register_user(kq, &kev);
    else if (filt_index(kev.filter) >= 0) err = register_fd(kq, &kev);
    else if (kev.filter == EVFILT_TIMER || kev.filter == EVFILT_PROC) err = register_source(kq, &kev);
    else err = EINVAL;
    if (err != 0 || (kev.flags & EV_RECEIPT)) {
      if (nevents - nerr <= 0) {
        if (err == 0) continue; /* a receipt with no room: dropped (choice 11) */
        soft_update(kq);
        pthread_mutex_unlock(&kq->mu);
        errno = err;
        return -1;
      }
      kev.flags = EV_ERROR;
      kev.data = err;
      eventlist[nerr++] = kev;
    }
  }
  if (nchanges > 0) soft_update(kq);
  if (nerr > 0 || nevents == 0) {
    pthread_mutex_unlock(&kq->mu);
    return nerr;
  }

  int64_t deadline = -1;
  if (timeout != NULL) deadline = now_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
  for (;;) {
    int n = collect(kq, eventlist, nevents);
    pthread_mutex_unlock(&kq->mu);
    if (n > 0) return n;
    int ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now_ns();
      if (left <= 0) return 0;
      ms = (int)((left + 999999) / 1000000); /* round up: never return before the deadline */
    }
    struct epoll_event ev;
    int r = epoll_wait(kq->epfd, &ev, 1, ms);
    if (r < 0) return -1; /* EINTR (choice 13) */
    pthread_mutex_lock(&kq->mu);
  }
}
