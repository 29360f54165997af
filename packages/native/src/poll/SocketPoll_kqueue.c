/*
 * SocketPoll_kqueue.c — the macOS/BSD backend: kqueue(), kevent().
 *
 * On Linux the same file is built against the test-only kqueue emulation
 * (src/test/kqueue_emulation), so the C suite and the jest suite run it on every CI run.
 *
 * kqueue has one knote per (fd, filter): EVFILT_READ, EVFILT_WRITE and EVFILT_EXCEPT are
 * registered, reported and disarmed separately. This file turns them into the one-registration-
 * per-fd model of SocketPoll.h:
 *   - wait merges the READ, WRITE and EXCEPT kevents of an fd into one SocketEvent
 *     (SocketPoll_emit or-s into the fd's entry of the batch);
 *   - modes: level = no flag, edge = EV_CLEAR, oneshot = EV_DISPATCH. Oneshot is per fd, as
 *     EPOLLONESHOT is: when any filter of a oneshot fd is reported, the fd's other filters are
 *     disabled too (EV_DISABLE) and the registration is marked disarmed, so nothing more is
 *     reported for it until mod re-arms all of them (EV_ADD | EV_ENABLE);
 *   - mod adds the filters now wanted and deletes (EV_DELETE) the ones no longer wanted. A filter
 *     whose mode changes is deleted and added again: FreeBSD does not change EV_CLEAR/EV_DISPATCH
 *     of an existing knote on EV_ADD;
 *   - registration errors are synchronous: every change list is sent with EV_RECEIPT, so kevent
 *     returns one result per change instead of folding errors into a later wait; when a change
 *     fails, the changes of the same call that succeeded are undone (deleted again, or re-added
 *     as they were), so a failed add/mod/del leaves the kernel as it found it. EEXIST (double
 *     add) comes from the fd table: EV_ADD on an existing knote silently modifies it;
 *   - each knote's udata is the registration's generation: a kevent the kernel returned for an
 *     fd that another thread deleted and re-added meanwhile is dropped.
 *
 * ERROR and HANGUP are always reported. kqueue only reports them through a filter, so an fd
 * always has a READ or a WRITE knote: with no READ, RDHUP or WRITE interest, a "watch" knote is
 * registered — EVFILT_READ, or EVFILT_WRITE when the fd is open write-only (the writing end of a
 * pipe, whose EVFILT_READ never fires) — whose plain readiness is not reported, only EV_EOF and
 * errors. A watch knote uses EV_CLEAR in every mode, so readiness nobody asked for (data waiting
 * on a socket whose reading is paused) costs one spurious wakeup per arrival instead of making a
 * level-triggered wait spin; the consequence is that HANGUP of a watch-only fd is reported once
 * per change (edge), not on every wait as epoll does in level mode. The same applies to the READ
 * knote of a fd with POLL_RDHUP but no POLL_READ interest.
 *
 * Event translation (documented choices; kqueue has no HUP/RDHUP/ERR bits):
 *   - EVFILT_READ: POLL_READ if asked. EV_EOF: POLL_RDHUP when asked for (and the fd is not a
 *     pipe/FIFO), else POLL_HANGUP. kqueue sets EV_EOF on the read filter both when the peer only
 *     shut down its writing half and when the connection is gone, and cannot tell the two apart
 *     on every fd type; so with POLL_RDHUP interest a full close also reads as POLL_RDHUP (plus
 *     POLL_HANGUP from the WRITE knote's EV_EOF if WRITE is registered), and without it a
 *     half-close reads as POLL_HANGUP. Pipes and FIFOs have no half-close: EOF is POLL_HANGUP.
 *   - EVFILT_WRITE: POLL_WRITE if asked. EV_EOF: POLL_ERROR on a pipe/FIFO (no reader left:
 *     write() fails with EPIPE, as epoll and poll report it), POLL_HANGUP otherwise.
 *   - EV_EOF with a non-zero fflags (the socket error) or EV_ERROR: POLL_ERROR.
 *   - EVFILT_EXCEPT with NOTE_OOB: POLL_PRIORITY. Where <sys/event.h> has no EVFILT_EXCEPT
 *     (macOS < 10.12, and FreeBSD, whose filter -13 is EVFILT_EMPTY), POLL_PRIORITY is refused
 *     with -ENOTSUP.
 *   - EVFILT_WRITE on a pipe whose reader is gone: current macOS accepts it and reports EV_EOF
 *     (POLL_ERROR, above); FreeBSD's pipe_kqfilter() refuses it with EPIPE. That refusal is not
 *     an error: the fd is registered without the WRITE knote ("widowed", K_WIDOWED) and wait
 *     reports POLL_ERROR for it itself (with POLL_WRITE when asked for, as epoll and poll report
 *     such a pipe), level, edge (once) or oneshot as registered; mod tries the filter again.
 *     A widowed report due makes the kqueue fd readable through READY_IDENT, as always-ready fds
 *     do; it is not a wakeup.
 *   - A oneshot fd with several knotes whose kevents did not all fit in one kevent() call (the
 *     buffer was full): disarming it disables the knotes whose kevents are still queued, so
 *     their readiness is asked of poll(2) on that fd instead and or-ed into its event.
 *
 * Timers are EVFILT_TIMER knotes (data = interval in ms, the default unit on macOS and FreeBSD;
 * EV_ONESHOT unless repeating) and process watches EVFILT_PROC knotes with NOTE_EXIT (which the
 * kernel deletes after the exit). A timer knote's ident is its handle's slot-and-generation number
 * (timers have their own ident space), a process knote's the pid; udata is the handle. kevent's
 * data for a timer counts the expiries since the last report: late expiries coalesce.
 *
 * POLL_UNPOLLABLE_READY: with it, regular files and directories are not given to kqueue (its
 * vnode filters report "not at end of file" for READ, not poll()'s "always ready"), nor is an fd
 * kqueue refuses with EPERM; they go to the shared always-ready set, reported by every wait while
 * armed. A second EVFILT_USER knote (READY_IDENT, EV_CLEAR) is triggered whenever the set is armed,
 * so a blocking wait returns and the kqueue fd is readable for an event loop.
 *
 * The fds kqueue refuses. macOS's kqueue refuses some character devices with EINVAL, /dev/tty
 * among them. Such an fd (a character device that poll() can watch; other EINVALs stay errors)
 * goes to the side watcher. Each SocketPoll_wait whose previous side results have been reported
 * first looks at those fds itself with a non-blocking poll(), so a wait reports what is ready when
 * it starts (level semantics, and never twice for one look). When nothing is ready, the helper
 * thread (one per poller, started by the first such fd) blocks in poll() on them; it looks only
 * when asked (by that wait, and by add and mod), so a level-triggered fd the caller is still
 * handling is not reported twice; what a poll() of the thread saw while the wait looked itself is
 * dropped (the wait's look supersedes it, and the fd is polled again when asked). Its results
 * are kept per fd and it triggers an EVFILT_USER knote (SIDE_IDENT), which makes a blocked
 * kevent() return and the kqueue fd readable; the wait reports them in its batch, without
 * blocking when its own look found them. Level and oneshot as for kqueue's own fds; edge is refused with -ENOTSUP
 * (poll() reports states, not changes). The thread holds the poller's mutex except inside poll();
 * a change of the set interrupts its poll() through a wakeup channel. SocketPoll_free stops and
 * joins it.
 *
 * Wakeup: an EVFILT_USER knote with EV_CLEAR, triggered with NOTE_TRIGGER; triggers before the
 * wait that retrieves it coalesce into one event. EVFILT_USER is required (OpenBSD has it from
 * 7.8 only; before that, use the poll backend).
 *
 * A mod of an fd that was closed without del and whose number now names another file would add
 * knotes to that file (kqueue dropped the old ones on close): add records the file's identity
 * (dev, inode) and mod compares it, so such a mod is -ENOENT and forgets the registration, as on
 * epoll. SocketPoll_get_fd returns the kqueue fd, which
 * is readable while kevent() has events to return.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "SocketPoll_backend.h"

#ifndef EVFILT_USER
#error "the kqueue backend needs EVFILT_USER (OpenBSD has it from 7.8): use the poll backend"
#endif

#define WAKEUP_IDENT 0 /* EVFILT_USER has its own ident space */
#define READY_IDENT 1  /* triggered while always-ready fds are armed or a widowed report is due */
#define SIDE_IDENT 2   /* triggered when the side watcher has results */

/* Registration slot bits: the knotes registered for the fd, and what kind of fd it is. */
#define K_READ        0x001
#define K_WRITE       0x002
#define K_EXCEPT      0x004
#define K_READ_WATCH  0x008 /* the READ knote is there for EOF/errors only */
#define K_WRITE_WATCH 0x010 /* the WRITE knote is there for EOF/errors only */
#define K_FILTERS     (K_READ | K_WRITE | K_EXCEPT)
#define K_DISARMED    0x100 /* oneshot: reported, waiting for mod */
#define K_FIFO        0x200
#define K_WRONLY      0x400
#define K_SIDE        0x800  /* refused by kqueue (EINVAL): watched by the side watcher */
#define K_WIDOWED     0x1000 /* the WRITE filter was refused with EPIPE: reported by wait itself */
#define K_WIDOW_SEEN  0x2000 /* ... and reported once (edge mode) */

#define MAX_CHANGES 6 /* per fd: delete + add of three filters */

/* One fd of the side watcher. */
typedef struct SideEntry {
  int fd;
  uint32_t generation; /* the registration's */
  short events;        /* what poll() is asked for */
  short revents;       /* results not yet reported by a wait */
  int disarmed;        /* oneshot, reported: not polled until mod */
} SideEntry;

typedef struct SideWatcher {
  pthread_t thread;
  int running;
  int stop;
  int demand;        /* a wait asked for a poll() */
  int pending;       /* entries with revents */
  unsigned looks;    /* counts the waiter's own looks: a thread poll() begun before one is stale */
  SideEntry *entries;
  int count, capacity;
  pthread_cond_t cond;
  SocketPoll_Wakeup interrupt; /* ends the thread's poll() when the set changes or on stop */
  atomic_int active; /* entries exist: waits must look (read without the mutex) */
  struct pollfd *scan; /* the waiter's own non-blocking look (side_scan) */
  int scan_cap;
} SideWatcher;

struct SocketPoll {
  SocketPoll_Base base; /* must be first */
  int kq;
  struct kevent *kevents; /* what kevent fills; only the waiting thread touches it */
  uint32_t generation;    /* counts registrations; the registration's `state` holds its own */
  int widowed;            /* registrations with K_WIDOWED */
  SideWatcher side;
};

struct change {
  struct kevent kev;
  struct kevent undo; /* what puts the knote back as it was, when kev succeeded */
  int has_undo;
};

static const struct timespec zero_timeout = {0, 0};

static int supported_modes(void) {
  return SOCKETPOLL_SUPPORTS_LEVEL | SOCKETPOLL_SUPPORTS_EDGE | SOCKETPOLL_SUPPORTS_ONESHOT;
}

static void *udata_of(uint32_t generation) {
  return (void *)(uintptr_t)generation;
}

/* The knotes an interest needs (K_* bits). */
static int wanted_knotes(int events, int slot) {
  int bits = 0;
  if (events & (POLL_READ | POLL_RDHUP)) {
    bits |= K_READ;
    if (!(events & POLL_READ)) bits |= K_READ_WATCH;
  }
  if (events & POLL_WRITE) bits |= K_WRITE;
  if (events & POLL_PRIORITY) bits |= K_EXCEPT;
  if (!(bits & (K_READ | K_WRITE))) /* ERROR and HANGUP need a knote that can see them */
    bits |= (slot & K_WRONLY) ? (K_WRITE | K_WRITE_WATCH) : (K_READ | K_READ_WATCH);
  return bits;
}

static int watch_bit(int knote) {
  return knote == K_READ ? K_READ_WATCH : knote == K_WRITE ? K_WRITE_WATCH : 0;
}

/* EV_* mode flags of one knote. */
static uint16_t knote_flags(int events, int bits, int knote) {
  if (bits & watch_bit(knote)) return EV_CLEAR; /* see the file comment */
  if (events & POLL_EDGE) return EV_CLEAR;
  if (events & POLL_ONESHOT) return EV_DISPATCH;
  return 0;
}

static int16_t knote_filter(int knote) {
#ifdef EVFILT_EXCEPT
  if (knote == K_EXCEPT) return EVFILT_EXCEPT;
#endif
  return knote == K_READ ? EVFILT_READ : EVFILT_WRITE;
}

static uint32_t knote_fflags(int knote) {
#ifdef NOTE_OOB
  if (knote == K_EXCEPT) return NOTE_OOB;
#endif
  (void)knote;
  return 0;
}

static void set_change(struct kevent *kev, int fd, int knote, uint16_t flags, void *udata) {
  EV_SET(kev, (uintptr_t)fd, knote_filter(knote), flags, knote_fflags(knote), 0, udata);
}

/* Sends changes[0..n) with EV_RECEIPT and stores each one's errno (0: applied) in results. */
static int send_changes(SocketPoll_T poll, struct change *changes, int n, int *results) {
  struct kevent in[MAX_CHANGES], out[MAX_CHANGES];
  for (int i = 0; i < n; i++) {
    in[i] = changes[i].kev;
    in[i].flags |= EV_RECEIPT;
    results[i] = EIO; /* no receipt: treated as failed */
  }
  int got;
  do got = kevent(poll->kq, in, n, out, n, &zero_timeout);
  while (got < 0 && errno == EINTR);
  if (got < 0) return -errno;
  /* Receipts come back in change-list order; match on ident and filter to be sure. */
  for (int i = 0, j = 0; i < got && j < n; i++) {
    if (!(out[i].flags & EV_ERROR)) continue;
    while (j < n && (out[i].ident != in[j].ident || out[i].filter != in[j].filter)) j++;
    if (j < n) results[j++] = (int)out[i].data;
  }
  return 0;
}

/* Undoes the changes that succeeded, newest first. Best effort: the undo of a change that was
 * just applied does not fail unless the fd was closed meanwhile. */
static void undo_changes(SocketPoll_T poll, struct change *changes, int n, const int *results) {
  for (int i = n - 1; i >= 0; i--) {
    if (results[i] != 0 || !changes[i].has_undo) continue;
    struct kevent kev = changes[i].undo, out;
    kev.flags |= EV_RECEIPT;
    kevent(poll->kq, &kev, 1, &out, 1, &zero_timeout);
  }
}

/* ENOENT/EBADF deleting a knote: it is already gone (the fd was closed, and kqueue drops knotes
 * on close). EPIPE adding EVFILT_WRITE: see the file comment. */
static int ignorable(const struct kevent *kev, int err) {
  if ((kev->flags & EV_DELETE) && (err == ENOENT || err == EBADF)) return 1;
  if ((kev->flags & EV_ADD) && kev->filter == EVFILT_WRITE && err == EPIPE) return 1;
  return 0;
}

/* Applies changes; on the first real error undoes the rest and returns it. *widowed (may be NULL)
 * is set when an EVFILT_WRITE add was refused with EPIPE. */
static int apply_changes(SocketPoll_T poll, struct change *changes, int n, int *widowed) {
  if (widowed) *widowed = 0;
  if (n == 0) return 0;
  int results[MAX_CHANGES];
  int rc = send_changes(poll, changes, n, results);
  if (rc < 0) return SocketPoll_fail(&poll->base, "kevent", rc);
  int err = 0;
  for (int i = 0; i < n; i++) {
    if (results[i] == 0) continue;
    if (ignorable(&changes[i].kev, results[i])) {
      if (widowed && results[i] == EPIPE) *widowed = 1;
      results[i] = 0;
      changes[i].has_undo = 0; /* nothing to undo */
      continue;
    }
    if (err == 0) err = results[i];
  }
  if (err != 0) undo_changes(poll, changes, n, results);
  return err ? SocketPoll_fail(&poll->base, "kevent", -err) : 0;
}

/* Marks reg widowed or not after a change list (see the file comment). Caller holds the mutex. */
static void set_widowed(SocketPoll_T poll, SocketPoll_Registration *reg, int widowed) {
  int was = (reg->slot & K_WIDOWED) != 0;
  reg->slot &= ~(K_WIDOWED | K_WIDOW_SEEN);
  if (widowed) reg->slot = (reg->slot & ~K_WRITE) | K_WIDOWED; /* no WRITE knote was made */
  poll->widowed += widowed - was;
}

/* The changes that take fd from (old_events, old_slot) to (new_events, new_slot): deletes the
 * knotes no longer wanted or whose mode changes, adds (and enables) the wanted ones. For add,
 * old_slot has no filter bits. */
static int plan_changes(int fd, int old_events, int old_slot, int new_events, int new_slot,
                        void *udata, struct change *changes) {
  static const int knotes[] = {K_READ, K_WRITE, K_EXCEPT};
  int n = 0;
  for (int i = 0; i < 3; i++) {
    int k = knotes[i];
    int had = old_slot & k, want = new_slot & k;
    uint16_t old_fl = had ? knote_flags(old_events, old_slot, k) : 0;
    uint16_t new_fl = want ? knote_flags(new_events, new_slot, k) : 0;
    uint16_t restore = (uint16_t)(EV_ADD | old_fl | ((old_slot & K_DISARMED) ? EV_DISABLE : 0));
    if (had && (!want || old_fl != new_fl)) {
      struct change *c = &changes[n++];
      set_change(&c->kev, fd, k, EV_DELETE, udata);
      set_change(&c->undo, fd, k, restore, udata);
      c->has_undo = 1;
    }
    if (want) {
      struct change *c = &changes[n++];
      set_change(&c->kev, fd, k, (uint16_t)(EV_ADD | EV_ENABLE | new_fl), udata);
      if (had && old_fl == new_fl) set_change(&c->undo, fd, k, restore, udata);
      else set_change(&c->undo, fd, k, EV_DELETE, udata);
      c->has_undo = 1;
    }
  }
  return n;
}

SocketPoll_T SocketPoll_new(int max_events) {
  SocketPoll_T poll = calloc(1, sizeof(*poll));
  if (poll == NULL) return NULL;
  poll->kq = -1;
  poll->side.interrupt.read_fd = poll->side.interrupt.write_fd = -1;
  atomic_init(&poll->side.active, 0);
  int rc = SocketPoll_base_init(&poll->base, max_events, "kqueue", supported_modes(),
                                SOCKETPOLL_SOURCE_FD | SOCKETPOLL_SOURCE_TIMER | SOCKETPOLL_SOURCE_PROCESS);
  if (rc < 0) {
    free(poll);
    errno = -rc;
    return NULL;
  }
  poll->kevents = calloc((size_t)max_events, sizeof(*poll->kevents));
  if (poll->kevents == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  poll->kq = kqueue();
  if (poll->kq < 0) {
    rc = -errno;
    goto fail;
  }
  /* The kqueue fd must not leak into child processes (kqueue() has no CLOEXEC flag on macOS;
   * a kqueue is not inherited by fork anyway, but the fd number would be). */
  int fdfl = fcntl(poll->kq, F_GETFD);
  if (fdfl >= 0) fcntl(poll->kq, F_SETFD, fdfl | FD_CLOEXEC);
  struct kevent kev[3], out[3];
  EV_SET(&kev[0], WAKEUP_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, 0, NULL);
  EV_SET(&kev[1], READY_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, 0, NULL);
  EV_SET(&kev[2], SIDE_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, 0, NULL);
  int got = kevent(poll->kq, kev, 3, out, 3, &zero_timeout);
  if (got < 0) {
    rc = -errno;
    goto fail;
  }
  for (int i = 0; i < got; i++) {
    if ((out[i].flags & EV_ERROR) && out[i].data != 0) {
      rc = -(int)out[i].data;
      goto fail;
    }
  }
  poll->base.fd = poll->kq;
  return poll;

fail:
  SocketPoll_free(&poll);
  errno = -rc;
  return NULL;
}

static void side_stop(SocketPoll_T poll);

void SocketPoll_free(SocketPoll_T *pollp) {
  if (pollp == NULL || *pollp == NULL) return;
  SocketPoll_T poll = *pollp;
  side_stop(poll);
  if (poll->kq >= 0) close(poll->kq); /* closing a kqueue drops all its knotes */
  free(poll->kevents);
  if (poll->base.out) SocketPoll_base_destroy(&poll->base);
  free(poll);
  *pollp = NULL;
}

/* ---- the side watcher: fds kqueue refuses (see the file comment) ---------------------------- */

/* The syscall, under a name the `poll` variables below do not shadow. */
static int sys_poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  return poll(fds, nfds, timeout);
}

static short side_poll_events(int events) {
  short ev = 0;
  if (events & POLL_READ) ev |= POLLIN;
  if (events & POLL_WRITE) ev |= POLLOUT;
  if (events & POLL_PRIORITY) ev |= POLLPRI;
#ifdef POLLRDHUP
  if (events & POLL_RDHUP) ev |= POLLRDHUP;
#endif
  return ev;
}

static int side_from_poll(short revents) {
  int events = 0;
  if (revents & POLLIN) events |= POLL_READ;
  if (revents & POLLOUT) events |= POLL_WRITE;
  if (revents & (POLLERR | POLLNVAL)) events |= POLL_ERROR;
  if (revents & POLLHUP) events |= POLL_HANGUP;
  if (revents & POLLPRI) events |= POLL_PRIORITY;
#ifdef POLLRDHUP
  if (revents & POLLRDHUP) events |= POLL_RDHUP;
#endif
  return events;
}

static SideEntry *side_find(SideWatcher *side, int fd) {
  for (int i = 0; i < side->count; i++)
    if (side->entries[i].fd == fd) return &side->entries[i];
  return NULL;
}

static void side_trigger(SocketPoll_T poll) {
  struct kevent kev;
  EV_SET(&kev, SIDE_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  int n;
  do n = kevent(poll->kq, &kev, 1, NULL, 0, NULL);
  while (n < 0 && errno == EINTR);
}

/* The set changed, or a wait wants a fresh look: wake the thread (in poll() or parked). Caller
 * holds the mutex. */
static void side_poke(SocketPoll_T poll) {
  poll->side.demand = 1;
  pthread_cond_signal(&poll->side.cond);
  SocketPoll_wakeup_signal(&poll->side.interrupt);
}

static void *side_main(void *arg) {
  SocketPoll_T poll = arg;
  SideWatcher *side = &poll->side;
  struct pollfd *pfds = NULL;
  uint32_t *gens = NULL;
  int cap = 0;
  pthread_mutex_lock(&poll->base.mutex);
  for (;;) {
    int armed = 0;
    for (int i = 0; i < side->count; i++) armed += !side->entries[i].disarmed;
    if (side->stop) break;
    if (!side->demand || side->pending > 0 || armed == 0) {
      pthread_cond_wait(&side->cond, &poll->base.mutex);
      continue;
    }
    if (armed + 1 > cap) {
      int ncap = (armed + 1) * 2;
      struct pollfd *p = realloc(pfds, (size_t)ncap * sizeof(*p));
      uint32_t *g = p ? realloc(gens, (size_t)ncap * sizeof(*g)) : NULL;
      if (p) pfds = p;
      if (g == NULL) { /* out of memory: try again on the next change */
        side->demand = 0;
        continue;
      }
      gens = g;
      cap = ncap;
    }
    int np = 0;
    pfds[np].fd = side->interrupt.read_fd;
    pfds[np].events = POLLIN;
    pfds[np++].revents = 0;
    for (int i = 0; i < side->count; i++) {
      SideEntry *e = &side->entries[i];
      if (e->disarmed) continue;
      pfds[np].fd = e->fd;
      pfds[np].events = e->events;
      pfds[np].revents = 0;
      gens[np++] = e->generation;
    }
    unsigned looks = side->looks;
    pthread_mutex_unlock(&poll->base.mutex);
    int n;
    do n = sys_poll(pfds, (nfds_t)np, -1);
    while (n < 0 && errno == EINTR);
    pthread_mutex_lock(&poll->base.mutex);
    if (pfds[0].revents) SocketPoll_wakeup_drain(&side->interrupt);
    if (side->looks != looks) continue; /* a wait looked itself meanwhile: these may be reported */
    int found = 0;
    for (int i = 1; n > 0 && i < np; i++) {
      if (pfds[i].revents == 0) continue;
      SideEntry *e = side_find(side, pfds[i].fd);
      if (e == NULL || e->generation != gens[i] || e->disarmed) continue; /* changed meanwhile */
      if (e->revents == 0) side->pending++;
      e->revents |= pfds[i].revents;
      found = 1;
    }
    if (found) {
      side->demand = 0; /* until a wait has reported these */
      side_trigger(poll);
    }
  }
  pthread_mutex_unlock(&poll->base.mutex);
  free(pfds);
  free(gens);
  return NULL;
}

/* Moves fd to the side watcher (kqueue refused it with EINVAL). Caller holds the mutex. */
static int side_add(SocketPoll_T poll, int fd, int events, void *data, int kind, const struct stat *st) {
  if (events & POLL_EDGE) return SocketPoll_fail(&poll->base, "SocketPoll_add", -ENOTSUP); /* poll() has no edges */
  struct pollfd probe = {fd, POLLIN, 0};
  if (sys_poll(&probe, 1, 0) < 0 || (probe.revents & POLLNVAL))
    return SocketPoll_fail(&poll->base, "kevent", -EINVAL); /* poll() cannot either */
  SideWatcher *side = &poll->side;
  if (!side->running) {
    int rc = SocketPoll_wakeup_open(&side->interrupt);
    if (rc < 0) return SocketPoll_fail(&poll->base, "pipe", rc);
    pthread_cond_init(&side->cond, NULL);
    side->stop = 0;
    side->demand = 1;
    if ((rc = pthread_create(&side->thread, NULL, side_main, poll)) != 0) {
      pthread_cond_destroy(&side->cond);
      SocketPoll_wakeup_close(&side->interrupt);
      return SocketPoll_fail(&poll->base, "pthread_create", -rc);
    }
    side->running = 1;
  }
  if (side->count == side->capacity) {
    int capacity = side->capacity ? side->capacity * 2 : 4;
    SideEntry *entries = realloc(side->entries, (size_t)capacity * sizeof(*entries));
    if (entries == NULL) return SocketPoll_fail(&poll->base, "realloc", -ENOMEM);
    side->entries = entries;
    side->capacity = capacity;
  }
  SocketPoll_Registration *reg;
  int rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) return SocketPoll_fail(&poll->base, "realloc", rc);
  uint32_t generation = ++poll->generation;
  reg->slot = K_SIDE | kind;
  reg->file_dev = (uint64_t)st->st_dev;
  reg->file_ino = (uint64_t)st->st_ino;
  reg->state = (int)generation;
  SideEntry *e = &side->entries[side->count++];
  e->fd = fd;
  e->generation = generation;
  e->events = side_poll_events(events);
  e->revents = 0;
  e->disarmed = 0;
  atomic_store(&side->active, 1);
  side_poke(poll);
  return 0;
}

static int side_mod(SocketPoll_T poll, SocketPoll_Registration *reg, int fd, int events, void *data) {
  if (events & POLL_EDGE) return SocketPoll_fail(&poll->base, "SocketPoll_mod", -ENOTSUP);
  SideEntry *e = side_find(&poll->side, fd);
  if (e->revents) poll->side.pending--;
  e->revents = 0; /* interest changed: poll again */
  e->events = side_poll_events(events);
  e->disarmed = 0;
  reg->events = events;
  reg->data = data;
  side_poke(poll);
  return 0;
}

static void side_del(SocketPoll_T poll, int fd) {
  SideWatcher *side = &poll->side;
  SideEntry *e = side_find(side, fd);
  if (e == NULL) return;
  if (e->revents) side->pending--;
  *e = side->entries[--side->count];
  if (side->count == 0) atomic_store(&side->active, 0);
  side_poke(poll);
}

/* A wait begins and the previous results have been reported: look at the side fds now, with a
 * non-blocking poll() in this thread, so a wait reports what is ready when it starts (level). When
 * nothing is, the helper thread takes over the blocking poll(). Caller holds the mutex. */
static void side_scan(SocketPoll_T poll) {
  SideWatcher *side = &poll->side;
  if (side->count > side->scan_cap) {
    struct pollfd *scan = realloc(side->scan, (size_t)side->count * 2 * sizeof(*scan));
    if (scan == NULL) {
      side_poke(poll); /* the thread looks instead */
      return;
    }
    side->scan = scan;
    side->scan_cap = side->count * 2;
  }
  int n = 0;
  for (int i = 0; i < side->count; i++) {
    SideEntry *e = &side->entries[i];
    side->scan[i].fd = e->disarmed ? -1 : e->fd; /* poll() skips -1 */
    side->scan[i].events = e->events;
    side->scan[i].revents = 0;
  }
  side->looks++; /* what the thread's poll() saw until now is superseded by this look */
  int ready;
  do ready = sys_poll(side->scan, (nfds_t)side->count, 0);
  while (ready < 0 && errno == EINTR);
  for (int i = 0; ready > 0 && i < side->count; i++) {
    if (side->scan[i].revents == 0) continue;
    SideEntry *e = &side->entries[i];
    if (e->revents == 0) side->pending++;
    e->revents |= side->scan[i].revents;
    n++;
  }
  if (n == 0) {
    side_poke(poll);
  } else { /* found: the thread looks again only when a wait has reported these */
    side->demand = 0;
    SocketPoll_wakeup_signal(&side->interrupt);
  }
}

/* Reports the side watcher's results in the batch. Caller holds the mutex. */
static void side_collect(SocketPoll_T poll) {
  SideWatcher *side = &poll->side;
  for (int i = 0; i < side->count && side->pending > 0; i++) {
    SideEntry *e = &side->entries[i];
    if (e->revents == 0) continue;
    SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, e->fd);
    int events = side_from_poll(e->revents) &
                 ((reg->events & POLL_EVENT_MASK) | POLL_ERROR | POLL_HANGUP);
    if (events != 0 && SocketPoll_emit(&poll->base, e->fd, events) == NULL) return; /* full */
    side->pending--;
    if ((reg->events & POLL_ONESHOT) || (e->revents & POLLNVAL)) e->disarmed = 1;
    e->revents = 0;
  }
}

static void side_stop(SocketPoll_T poll) {
  SideWatcher *side = &poll->side;
  if (side->running) {
    pthread_mutex_lock(&poll->base.mutex);
    side->stop = 1;
    pthread_cond_signal(&side->cond);
    SocketPoll_wakeup_signal(&side->interrupt);
    pthread_mutex_unlock(&poll->base.mutex);
    pthread_join(side->thread, NULL);
    pthread_cond_destroy(&side->cond);
    SocketPoll_wakeup_close(&side->interrupt);
    side->running = 0;
  }
  free(side->entries);
  free(side->scan);
  side->entries = NULL;
  side->scan = NULL;
}

/* Triggers the ready knote: a wait must return now for the armed always-ready fds. */
static void raise_ready(SocketPoll_T poll) {
  struct kevent kev;
  EV_SET(&kev, READY_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  int n;
  do n = kevent(poll->kq, &kev, 1, NULL, 0, NULL);
  while (n < 0 && errno == EINTR);
}

/* The poller's own fds: the kqueue fd and the side watcher's interrupt channel. Caller holds the
 * mutex. */
static int is_own_fd(SocketPoll_T poll, int fd) {
  const SideWatcher *side = &poll->side;
  return fd == poll->kq || (side->running && (fd == side->interrupt.read_fd || fd == side->interrupt.write_fd));
}

/* Forgets the registration of an fd closed without del (kqueue dropped its knotes on close),
 * with its side-watcher entry and its events in the current dispatch. Caller holds the mutex. */
static void forget_dead(SocketPoll_T poll, int fd, SocketPoll_Registration *reg) {
  set_widowed(poll, reg, 0);
  if (reg->slot & K_SIDE) side_del(poll, fd);
  SocketPoll_ready_disarm(&poll->base, fd);
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_table_remove(&poll->base.table, fd);
}

/* fd with POLL_UNPOLLABLE_READY, kept out of kqueue. Caller holds the mutex. */
static int add_always_ready(SocketPoll_T poll, int fd, int events, void *data, const struct stat *st) {
  SocketPoll_Registration *reg;
  int rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) return rc;
  reg->always_ready = 1;
  reg->file_dev = (uint64_t)st->st_dev;
  reg->file_ino = (uint64_t)st->st_ino;
  reg->slot = 0; /* no knotes */
  rc = SocketPoll_ready_arm(&poll->base, fd);
  if (rc < 0) {
    SocketPoll_table_remove(&poll->base.table, fd);
    return rc;
  }
  raise_ready(poll);
  return 0;
}

int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add", rc);
#ifndef EVFILT_EXCEPT
  if (events & POLL_PRIORITY) return SocketPoll_fail(&poll->base, "SocketPoll_add", -ENOTSUP);
#endif
  pthread_mutex_lock(&poll->base.mutex);
  if (is_own_fd(poll, fd)) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_add", -EINVAL);
    goto out;
  }
  struct stat st;
  int fl;
  if (fstat(fd, &st) < 0) {
    rc = SocketPoll_fail(&poll->base, "fstat", -errno);
    goto out;
  }
  SocketPoll_Registration *old = SocketPoll_table_get(&poll->base.table, fd);
  if (old != NULL) {
    if (old->file_dev == (uint64_t)st.st_dev && old->file_ino == (uint64_t)st.st_ino) {
      rc = SocketPoll_fail(&poll->base, "SocketPoll_add", -EEXIST); /* EV_ADD would just modify */
      goto out;
    }
    /* Closed without del, and the number names another file now: kqueue dropped the old knotes
     * on close; forget the dead registration (and its events in the current dispatch). */
    forget_dead(poll, fd, old);
  }
  if ((fl = fcntl(fd, F_GETFL)) < 0) {
    rc = SocketPoll_fail(&poll->base, "fcntl", -errno);
    goto out;
  }
  int unpollable = (events & POLL_UNPOLLABLE_READY) != 0;
  if (unpollable && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    rc = add_always_ready(poll, fd, events, data, &st);
    goto out;
  }
  int kind = (S_ISFIFO(st.st_mode) ? K_FIFO : 0) | ((fl & O_ACCMODE) == O_WRONLY ? K_WRONLY : 0);
  int slot = wanted_knotes(events, kind) | kind;
  uint32_t generation = ++poll->generation;
  struct change changes[MAX_CHANGES];
  int n = plan_changes(fd, 0, kind, events, slot, udata_of(generation), changes);
  int widowed;
  rc = apply_changes(poll, changes, n, &widowed);
  if (rc == -EPERM && unpollable) rc = add_always_ready(poll, fd, events, data, &st);
  /* A character device kqueue refuses (macOS: /dev/tty and others). */
  if (rc == -EINVAL && S_ISCHR(st.st_mode)) rc = side_add(poll, fd, events, data, kind, &st);
  if (rc < 0) goto out;
  if (SocketPoll_table_get(&poll->base.table, fd) != NULL) goto out; /* always-ready or side */
  SocketPoll_Registration *reg;
  rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) {
    int results[MAX_CHANGES] = {0};
    undo_changes(poll, changes, n, results);
    rc = SocketPoll_fail(&poll->base, "realloc", rc);
    goto out;
  }
  reg->slot = slot;
  reg->state = (int)generation;
  reg->file_dev = (uint64_t)st.st_dev;
  reg->file_ino = (uint64_t)st.st_ino;
  set_widowed(poll, reg, widowed);
  if (widowed) raise_ready(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_mod", rc);
#ifndef EVFILT_EXCEPT
  if (events & POLL_PRIORITY) return SocketPoll_fail(&poll->base, "SocketPoll_mod", -ENOTSUP);
#endif
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_mod", -ENOENT);
    goto out;
  }
  uint64_t dev, ino;
  if (SocketPoll_file_identity(fd, &dev, &ino) < 0 || dev != reg->file_dev || ino != reg->file_ino) {
    /* Closed without del (and maybe its number reused): kqueue dropped its knotes by itself;
     * forget it here too rather than register whatever file the number names now. */
    forget_dead(poll, fd, reg);
    rc = SocketPoll_fail(&poll->base, "fstat", -ENOENT);
    goto out;
  }
  if (reg->always_ready) { /* no knotes: re-arm it */
    rc = SocketPoll_ready_arm(&poll->base, fd);
    if (rc < 0) goto out;
    reg->events = events;
    reg->data = data;
    raise_ready(poll);
    goto out;
  }
  if (reg->slot & K_SIDE) {
    rc = side_mod(poll, reg, fd, events, data);
    goto out;
  }
  int kind = reg->slot & (K_FIFO | K_WRONLY);
  int slot = wanted_knotes(events, kind) | kind;
  struct change changes[MAX_CHANGES];
  int n = plan_changes(fd, reg->events, reg->slot, events, slot, udata_of((uint32_t)reg->state),
                       changes);
  int widowed;
  rc = apply_changes(poll, changes, n, &widowed);
  if (rc < 0) goto out;
  reg->events = events;
  reg->data = data;
  reg->slot = slot | (reg->slot & (K_WIDOWED | K_WIDOW_SEEN)); /* re-armed: K_DISARMED cleared */
  set_widowed(poll, reg, widowed);
  if (widowed) raise_ready(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

/* One change for a source's knote, applied synchronously (EV_RECEIPT). 0 or a negative errno. */
static int source_change(SocketPoll_T poll, uintptr_t ident, int16_t filter, uint16_t flags,
                         uint32_t fflags, intptr_t data, int handle) {
  struct kevent kev, out;
  EV_SET(&kev, ident, filter, flags | EV_RECEIPT, fflags, data, (void *)(intptr_t)handle);
  int n;
  do n = kevent(poll->kq, &kev, 1, &out, 1, &zero_timeout);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (n == 1 && (out.flags & EV_ERROR) && out.data != 0) return -(int)out.data;
  return 0;
}

static uintptr_t timer_ident(int handle) {
  return (uintptr_t)(unsigned)(SOCKETPOLL_HANDLE_MAX - handle);
}

int SocketPoll_add_timer(SocketPoll_T poll, int interval_ms, int flags, void *data, int *handle) {
  int rc = SocketPoll_check_timer(interval_ms, flags, handle);
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add_timer", rc);
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  rc = SocketPoll_source_new_timer(&poll->base, interval_ms, flags, data, &src);
  if (rc < 0) goto out;
  rc = source_change(poll, timer_ident(src->handle), EVFILT_TIMER,
                     (uint16_t)(EV_ADD | (src->repeat ? 0 : EV_ONESHOT)), 0, interval_ms, src->handle);
  if (rc < 0) {
    SocketPoll_fail(&poll->base, "kevent", rc);
    SocketPoll_source_remove(&poll->base, src);
  }
  else *handle = src->handle;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_add_process(SocketPoll_T poll, int pid, void *data, int *handle) {
  if (handle == NULL || pid <= 0) return SocketPoll_fail(&poll->base, "SocketPoll_add_process", -EINVAL);
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  int rc = SocketPoll_source_new_process(&poll->base, pid, data, &src);
  if (rc < 0) goto out;
  rc = source_change(poll, (uintptr_t)pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, src->handle);
  if (rc < 0) { /* -ESRCH: gone already */
    SocketPoll_fail(&poll->base, "kevent", rc);
    SocketPoll_source_remove(&poll->base, src);
  }
  else *handle = src->handle;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

static int del_source(SocketPoll_T poll, int handle) {
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src = SocketPoll_source_get(&poll->base, handle);
  if (src != NULL) {
    /* A spent source's knote was deleted by the kernel (EV_ONESHOT, or the exit). ENOENT too when
     * the timer fired and was deleted between the kernel's report and now. */
    if (!src->spent) {
      if (src->kind == POLL_TIMER) source_change(poll, timer_ident(handle), EVFILT_TIMER, EV_DELETE, 0, 0, handle);
      else source_change(poll, (uintptr_t)src->pid, EVFILT_PROC, EV_DELETE, 0, 0, handle);
    }
    SocketPoll_source_remove(&poll->base, src);
  }
  pthread_mutex_unlock(&poll->base.mutex);
  return src != NULL ? 0 : SocketPoll_fail(&poll->base, "SocketPoll_del", -ENOENT);
}

int SocketPoll_del(SocketPoll_T poll, int fd) {
  if (SOCKETPOLL_IS_HANDLE(fd)) return del_source(poll, fd);
  if (fd < 0) return SocketPoll_fail(&poll->base, "SocketPoll_del", -EBADF);
  int rc = 0;
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_del", -ENOENT);
    goto out;
  }
  SocketPoll_ready_disarm(&poll->base, fd);
  if (reg->slot & K_SIDE) side_del(poll, fd);
  struct change changes[MAX_CHANGES];
  int n = reg->always_ready || (reg->slot & K_SIDE) ? 0
                            : plan_changes(fd, reg->events, reg->slot, 0, 0, udata_of((uint32_t)reg->state), changes);
  rc = apply_changes(poll, changes, n, NULL); /* a closed fd's knotes are gone already: ignorable */
  if (rc < 0) goto out;
  set_widowed(poll, reg, 0);
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_table_remove(&poll->base.table, fd);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

/* SocketPoll_* flags of one kevent for its registration (see the file comment). */
static int translate(const struct kevent *kev, const SocketPoll_Registration *reg) {
  int interest = reg->events, slot = reg->slot, ev = 0;
  if (kev->flags & EV_ERROR) return POLL_ERROR;
  int eof = (kev->flags & EV_EOF) != 0;
  if (eof && kev->fflags != 0) ev |= POLL_ERROR;
  if (kev->filter == EVFILT_READ) {
    if (interest & POLL_READ) ev |= POLL_READ;
    if (eof) ev |= ((interest & POLL_RDHUP) && !(slot & K_FIFO)) ? POLL_RDHUP : POLL_HANGUP;
  } else if (kev->filter == EVFILT_WRITE) {
    if (interest & POLL_WRITE) ev |= POLL_WRITE;
    if (eof) ev |= (slot & K_FIFO) ? POLL_ERROR : POLL_HANGUP;
  }
#ifdef EVFILT_EXCEPT
  else if (kev->filter == EVFILT_EXCEPT) {
    if (interest & POLL_PRIORITY) ev |= POLL_PRIORITY;
  }
#endif
  return ev;
}

/* Oneshot is per fd: after one report, disable every knote of the fd until mod. */
static void disarm(SocketPoll_T poll, int fd, SocketPoll_Registration *reg) {
  static const int knotes[] = {K_READ, K_WRITE, K_EXCEPT};
  struct kevent in[3], out[3];
  int n = 0;
  for (int i = 0; i < 3; i++) {
    if (reg->slot & knotes[i])
      set_change(&in[n++], fd, knotes[i], EV_DISABLE | EV_RECEIPT, udata_of((uint32_t)reg->state));
  }
  reg->slot |= K_DISARMED;
  kevent(poll->kq, in, n, out, n, &zero_timeout); /* errors: the fd was closed; nothing to do */
}

/* Whether reg's widowed report is due now (see the file comment). */
static int widow_due(const SocketPoll_Registration *reg) {
  if (!(reg->slot & K_WIDOWED) || (reg->slot & K_DISARMED)) return 0;
  return !((reg->events & POLL_EDGE) && (reg->slot & K_WIDOW_SEEN));
}

/* Adds the due widowed reports to the batch; returns how many level ones stay due after it.
 * Caller holds the mutex; only called while poll->widowed > 0 (a scan of the table). */
static int report_widowed(SocketPoll_T poll) {
  int level = 0;
  SocketPoll_FdTable *table = &poll->base.table;
  for (int fd = 0; fd < table->capacity; fd++) {
    SocketPoll_Registration *reg = SocketPoll_table_get(table, fd);
    if (reg == NULL || !widow_due(reg)) continue;
    if (SocketPoll_emit(&poll->base, fd, POLL_ERROR | (reg->events & POLL_WRITE)) == NULL) {
      level++; /* buffer full: due again next time */
      continue;
    }
    if (reg->events & POLL_ONESHOT) disarm(poll, fd, reg);
    else if (reg->events & POLL_EDGE) reg->slot |= K_WIDOW_SEEN;
    else level++;
  }
  return level;
}

static int any_widow_due(SocketPoll_T poll) {
  SocketPoll_FdTable *table = &poll->base.table;
  for (int fd = 0; fd < table->capacity; fd++) {
    SocketPoll_Registration *reg = SocketPoll_table_get(table, fd);
    if (reg != NULL && widow_due(reg)) return 1;
  }
  return 0;
}

/* The kevent() buffer came back full, so an fd's other kevents may still be queued, and a oneshot
 * fd's were disabled by disarm(): ask poll(2) for the readiness they would have reported. */
static void complete_oneshot(SocketPoll_T poll) {
  for (int i = 0; i < poll->base.out_count; i++) {
    SocketEvent_T *ev = &poll->base.out[i];
    SocketPoll_Registration *reg = ev->fd < 0 ? NULL : SocketPoll_table_get(&poll->base.table, ev->fd);
    if (reg == NULL || !(reg->events & POLL_ONESHOT)) continue;
    int missing = reg->events & (POLL_READ | POLL_WRITE | POLL_PRIORITY) & ~ev->events;
    if (missing == 0 || missing == (reg->events & (POLL_READ | POLL_WRITE | POLL_PRIORITY))) continue;
    struct pollfd p = {.fd = ev->fd, .events = 0, .revents = 0};
    if (missing & POLL_READ) p.events |= POLLIN;
    if (missing & POLL_WRITE) p.events |= POLLOUT;
    if (missing & POLL_PRIORITY) p.events |= POLLPRI;
    int n;
    do n = sys_poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1) continue;
    if (p.revents & POLLIN) ev->events |= missing & POLL_READ;
    if (p.revents & POLLOUT) ev->events |= missing & POLL_WRITE;
    if (p.revents & POLLPRI) ev->events |= missing & POLL_PRIORITY;
  }
}

int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms) {
  int64_t deadline = SocketPoll_deadline(timeout_ms);
  int timeout = timeout_ms < 0 ? -1 : timeout_ms;
  if (atomic_load(&poll->side.active)) {
    /* The previous batch has been handled: the side watcher may look again. */
    pthread_mutex_lock(&poll->base.mutex);
    if (poll->side.pending == 0) side_scan(poll);
    pthread_mutex_unlock(&poll->base.mutex);
  }
  for (;;) {
    pthread_mutex_lock(&poll->base.mutex);
    int widow_now = poll->widowed > 0 && any_widow_due(poll);
    int side_now = poll->side.pending > 0; /* results found by side_scan: report them now */
    pthread_mutex_unlock(&poll->base.mutex);
    int t = widow_now || side_now ? 0 : timeout;
    struct timespec ts = {t / 1000, (long)(t % 1000) * 1000000L};
    int n = kevent(poll->kq, NULL, 0, poll->kevents, poll->base.max_events, t < 0 ? NULL : &ts);
    if (n < 0) {
      if (errno != EINTR) return SocketPoll_fail(&poll->base, "kevent", -errno);
      timeout = SocketPoll_time_left(deadline);
      continue;
    }
    int woken = 0;
    pthread_mutex_lock(&poll->base.mutex);
    SocketPoll_begin_batch(&poll->base);
    for (int i = 0; i < n; i++) {
      const struct kevent *kev = &poll->kevents[i];
      if (kev->filter == EVFILT_USER) {
        if (kev->ident == WAKEUP_IDENT) woken = 1; /* EV_CLEAR: retrieving it reset it */
        continue;                                   /* READY_IDENT: triggered again below */
      }
      if (kev->filter == EVFILT_TIMER || kev->filter == EVFILT_PROC) {
        SocketPoll_Source *src = SocketPoll_source_get(&poll->base, (int)(intptr_t)kev->udata);
        if (src == NULL || src->spent) continue; /* deleted meanwhile */
        if (kev->filter == EVFILT_PROC && !(kev->fflags & NOTE_EXIT)) continue;
        SocketPoll_emit_source(&poll->base, src, src->kind);
        continue;
      }
      int fd = (int)kev->ident;
      SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
      if (reg == NULL || (uint32_t)reg->state != (uint32_t)(uintptr_t)kev->udata) continue; /* stale */
      /* Oneshot, already reported: only another filter of the same batch may still join in. */
      int in_batch = reg->out_batch == poll->base.batch && reg->out_index < poll->base.out_count &&
                     poll->base.out[reg->out_index].fd == fd;
      if ((reg->slot & K_DISARMED) && !in_batch) continue;
      int ev = translate(kev, reg);
      if (ev == 0) continue; /* readiness of a watch knote: not asked for */
      if (SocketPoll_emit(&poll->base, fd, ev) && (reg->events & POLL_ONESHOT) &&
          !(reg->slot & K_DISARMED))
        disarm(poll, fd, reg);
    }
    if (poll->base.ready.count > 0 && SocketPoll_emit_ready(&poll->base) > 0) raise_ready(poll);
    if (n == poll->base.max_events) complete_oneshot(poll);
    if (poll->widowed > 0 && report_widowed(poll) > 0) raise_ready(poll);
    if (poll->side.pending > 0) side_collect(poll);
    int count = poll->base.out_count;
    poll->base.woken = woken;
    pthread_mutex_unlock(&poll->base.mutex);
    *events = poll->base.out;
    /* Only stale or unreported events: not a result. Wait again for the time left. */
    if (count == 0 && (n > 0 || widow_now || side_now) && !woken && timeout != 0) {
      timeout = SocketPoll_time_left(deadline);
      if (timeout != 0) continue;
    }
    return count;
  }
}

int SocketPoll_wakeup(SocketPoll_T poll) {
  int saved = errno; /* async-signal-safe: leave errno as it was */
  struct kevent kev;
  EV_SET(&kev, WAKEUP_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  int rc = 0;
  int n;
  do n = kevent(poll->kq, &kev, 1, NULL, 0, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) rc = SocketPoll_fail(&poll->base, "kevent", -errno);
  errno = saved;
  return rc;
}

