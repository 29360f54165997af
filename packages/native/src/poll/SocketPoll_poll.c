/*
 * SocketPoll_poll.c — the POSIX fallback backend: poll(2), for any system without epoll or kqueue
 * (and selectable on Linux for testing and comparison).
 *
 * Data structures
 *   - A dense pollfd array (`fds`), index 0 the wakeup channel, 1..nfds-1 the registered fds, and a
 *     parallel array (`slots`) with each entry's real fd number and registration generation. The
 *     registration's `slot` (SocketPoll_Registration) is its index in both, so add appends, mod
 *     rewrites one entry and del swap-removes (moves the last entry into the hole and fixes that
 *     fd's slot): O(1) each, never a scan for a free entry.
 *   - A disarmed entry (oneshot after delivery, or POLLNVAL) keeps its slot but gets pollfd.fd = -1,
 *     which poll() skips entirely: no events at all, not even POLLHUP/POLLERR/POLLNVAL, exactly
 *     like a disarmed EPOLLONESHOT registration. mod re-arms it.
 *
 * Modes: level and oneshot. Edge is refused with -ENOTSUP (SocketPoll_get_supported_modes lacks
 * SOCKETPOLL_SUPPORTS_EDGE, so SocketPoll_check_events refuses it before anything is registered):
 * poll(2) only reports states, and emulating edges would mean remembering each fd's last state and
 * reporting only changes, which cannot see "more data arrived while still readable" — the very case
 * edge-triggered users rely on. A mode that silently loses those events is worse than none.
 *
 * Waiting without holding the mutex. poll() is given a private copy of the array (`wfds`/`wslots`),
 * refreshed only when add/mod/del changed something (`dirty`), so add/mod/del never block on a
 * sleeping poll(). While a thread is inside poll() (`polling`), the first add/mod/del signals the
 * wakeup channel (`interrupted`); the waiter then takes the new array and resumes with the time left
 * without returning to its caller. Only SocketPoll_wakeup() makes wait return early: it sets the
 * `notified` flag before signalling, and the waiter returns only when that flag is set. The flag is
 * an atomic so that SocketPoll_wakeup stays async-signal-safe (it takes no lock).
 *   After poll() returns, each result is checked against the current registration: deleted, or
 *   deleted and re-added meanwhile (generation differs), or disarmed → dropped; interest changed by
 *   mod meanwhile → masked with the new interest.
 *
 * Close without del. poll() takes fd numbers, not files: a registered fd that is closed and whose
 * number is reused (by an open() the program did not register) is polled as the new file, and its
 * events come with the old registration's data until a poll() happens to run while the number is
 * free (POLLNVAL, below). Nothing the kernel offers closes that window short of an fstat() per
 * event, so: delete before close. What is guaranteed: add of that number succeeds and replaces the
 * old registration (add records the file's identity, dev and inode, and compares it), and from then
 * on nothing of the old registration is reported, as on epoll.
 *
 * POLLNVAL (the fd was closed while registered): reported once as POLL_ERROR | POLL_INVALID, then the
 * entry is disarmed so a closed fd never spins the loop. del forgets it (and succeeds); mod is
 * -ENOENT and forgets it (the file is gone, as on epoll); add of the same fd number replaces it
 * (the number now belongs to a new file, as on epoll).
 *
 * POLL_RDHUP: POLLRDHUP where the system has it (Linux). Elsewhere it is emulated for registrations
 * that ask for it: POLLHUP sets it, and so does POLLIN (only seen when POLL_READ is asked for too)
 * when a one-byte recv(MSG_PEEK | MSG_DONTWAIT) returns 0, i.e. a socket at end of stream; for a
 * registration of POLL_RDHUP without POLL_READ, or a non-socket, only the POLLHUP rule applies.
 *
 * Timers have no kernel object: each one's next expiry (deadline_ns) lives in its source, and every
 * wait folds the nearest one into poll()'s timeout (rounded up to whole milliseconds, so poll()
 * never returns before it), then reports the timers whose deadline has passed. Late expiries
 * coalesce: a repeating timer that missed k intervals is reported once and its next deadline is
 * the first one still ahead on its original schedule. Adding a timer interrupts a sleeping poll()
 * (like add/mod/del) so the new deadline takes effect. Finding the nearest deadline scans the
 * timers, O(timers) per wait, in line with poll()'s own O(registered).
 *
 * Process watches are pidfds (Linux 5.3+) in the pollfd array, beside the registered fds; their
 * slot's `source` is the handle. Where there is no pidfd, SocketPoll_add_process is -ENOTSUP.
 *
 * Complexity: add, mod, del O(1) (amortised: the arrays grow by doubling); wait O(n) in the number
 * of registered fds (poll() itself scans them all, then so does the dispatch; the private copy is
 * another O(n) memcpy, only after a change).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* POLLRDHUP */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "SocketPoll_backend.h"

/* Test hook: -DSOCKETPOLL_NO_POLLRDHUP builds the emulation used on systems without POLLRDHUP. */
#if defined(POLLRDHUP) && !defined(SOCKETPOLL_NO_POLLRDHUP)
#define HAVE_POLLRDHUP 1
#else
#define HAVE_POLLRDHUP 0
#endif

/* Registration state bits (SocketPoll_Registration.state). */
#define STATE_INVALID 0x1 /* POLLNVAL was reported: the fd was closed while registered */

/* The fd and registration generation of one array entry; pollfd.fd is -1 while disarmed. */
typedef struct PollSlot {
  int fd;
  uint32_t generation;
  int source; /* the handle of the process watch this pidfd belongs to; 0 for a registered fd */
} PollSlot;

struct SocketPoll {
  SocketPoll_Base base; /* must be first */
  SocketPoll_Wakeup wakeup;
  /* Shared, under base.mutex. */
  struct pollfd *fds; /* [0] is the wakeup channel */
  PollSlot *slots;
  int nfds;
  int capacity;
  uint32_t generation; /* counts registrations */
  int dirty;           /* the array changed since the waiter copied it */
  int polling;         /* a thread is inside poll() with its copy */
  int interrupted;     /* ... and has been signalled to take the changes */
  atomic_int notified; /* SocketPoll_wakeup() was called: the next wait returns */
  /* The waiter's private copy; only the thread in SocketPoll_wait() touches these. */
  struct pollfd *wfds;
  PollSlot *wslots;
  int wnfds;
  int wcapacity;
  int scan_from; /* where the next dispatch starts, so a full buffer is fair to later fds */
};

static short to_poll(int events) {
  short ev = 0;
  if (events & POLL_READ) ev |= POLLIN;
  if (events & POLL_WRITE) ev |= POLLOUT;
  if (events & POLL_PRIORITY) ev |= POLLPRI;
#if HAVE_POLLRDHUP
  if (events & POLL_RDHUP) ev |= POLLRDHUP;
#else
  /* Nothing to ask for: the end of stream shows as POLLIN (only seen when POLL_READ is asked for,
   * else a socket with unread data would wake poll() forever) or POLLHUP. See rdhup_emulated. */
#endif
  return ev; /* POLLERR, POLLHUP and POLLNVAL are always reported by the kernel */
}

static int from_poll(short revents) {
  int events = 0;
  if (revents & POLLIN) events |= POLL_READ;
  if (revents & POLLOUT) events |= POLL_WRITE;
  if (revents & POLLERR) events |= POLL_ERROR;
  if (revents & POLLHUP) events |= POLL_HANGUP;
  if (revents & POLLPRI) events |= POLL_PRIORITY;
#if HAVE_POLLRDHUP
  if (revents & POLLRDHUP) events |= POLL_RDHUP;
#endif
  if (revents & POLLNVAL) events |= POLL_ERROR | POLL_INVALID;
  return events;
}

#if !HAVE_POLLRDHUP
/* No POLLRDHUP: the peer has shut down its writing half when a socket reads as end of stream
 * (a zero-byte MSG_PEEK recv) or the fd hung up altogether. */
static int rdhup_emulated(int fd, short revents) {
  if (revents & POLLHUP) return 1;
  if (!(revents & POLLIN)) return 0;
  char c;
  ssize_t n;
  do n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n == 0;
}
#endif

/* The syscall, under a name the `poll` parameters below do not shadow. */
static int sys_poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  return poll(fds, nfds, timeout);
}

static int supported_modes(void) {
  return SOCKETPOLL_SUPPORTS_LEVEL | SOCKETPOLL_SUPPORTS_ONESHOT;
}

/* Grows a pollfd array and its slots to hold at least `need` entries. 0 or -ENOMEM. */
static int reserve(struct pollfd **fds, PollSlot **slots, int *capacity, int need) {
  if (need <= *capacity) return 0;
  int capacity_new = *capacity ? *capacity : 64;
  while (capacity_new < need) {
    if (capacity_new > (1 << 28)) return -ENOMEM;
    capacity_new *= 2;
  }
  struct pollfd *f = realloc(*fds, (size_t)capacity_new * sizeof(*f));
  if (f == NULL) return -ENOMEM;
  *fds = f;
  PollSlot *s = realloc(*slots, (size_t)capacity_new * sizeof(*s));
  if (s == NULL) return -ENOMEM;
  *slots = s;
  *capacity = capacity_new;
  return 0;
}

/* The array changed: the waiter must take a new copy, and if it is asleep in poll() with the old
 * one, wake it (once) so the change takes effect now rather than at its timeout. Caller holds the
 * mutex. */
static void changed(SocketPoll_T poll) {
  poll->dirty = 1;
  if (poll->polling && !poll->interrupted) {
    poll->interrupted = 1;
    SocketPoll_wakeup_signal(&poll->wakeup);
  }
}

SocketPoll_T SocketPoll_new(int max_events) {
  SocketPoll_T poll = calloc(1, sizeof(*poll));
  if (poll == NULL) return NULL;
  poll->wakeup.read_fd = poll->wakeup.write_fd = -1;
  atomic_init(&poll->notified, 0);
  /* No pollable fd (base.fd stays -1): an event loop runs SocketPoll_wait() on a helper thread. */
  int rc = SocketPoll_base_init(&poll->base, max_events, "poll", supported_modes(),
                                SOCKETPOLL_SOURCE_FD | SOCKETPOLL_SOURCE_TIMER |
                                    (SocketPoll_have_pidfd() ? SOCKETPOLL_SOURCE_PROCESS : 0));
  if (rc < 0) {
    free(poll);
    errno = -rc;
    return NULL;
  }
  rc = reserve(&poll->fds, &poll->slots, &poll->capacity, 1);
  if (rc < 0) goto fail;
  rc = SocketPoll_wakeup_open(&poll->wakeup);
  if (rc < 0) goto fail;
  poll->fds[0].fd = poll->wakeup.read_fd;
  poll->fds[0].events = POLLIN;
  poll->fds[0].revents = 0;
  poll->slots[0].fd = poll->wakeup.read_fd;
  poll->slots[0].generation = 0;
  poll->slots[0].source = 0;
  poll->nfds = 1;
  poll->dirty = 1;
  return poll;

fail:
  SocketPoll_free(&poll);
  errno = -rc;
  return NULL;
}

static void close_source_fd(SocketPoll_Source *src, void *arg) {
  (void)arg;
  if (src->fd >= 0) close(src->fd);
  src->fd = -1;
}

void SocketPoll_free(SocketPoll_T *pollp) {
  if (pollp == NULL || *pollp == NULL) return;
  SocketPoll_T poll = *pollp;
  if (poll->base.out) SocketPoll_sources_each(&poll->base, close_source_fd, NULL);
  SocketPoll_wakeup_close(&poll->wakeup);
  free(poll->fds);
  free(poll->slots);
  free(poll->wfds);
  free(poll->wslots);
  if (poll->base.out) SocketPoll_base_destroy(&poll->base);
  free(poll);
  *pollp = NULL;
}

int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add", rc);
  /* poll() would take any number and report POLLNVAL later; refuse it now, as epoll does. The
   * identity tells this file from one that had the number before (see below). */
  uint64_t dev, ino;
  rc = SocketPoll_file_identity(fd, &dev, &ino);
  if (rc < 0) return SocketPoll_fail(&poll->base, "fstat", rc);
  pthread_mutex_lock(&poll->base.mutex);
  if (fd == poll->wakeup.read_fd || fd == poll->wakeup.write_fd || SocketPoll_source_owns_fd(&poll->base, fd)) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_add", -EINVAL); /* one of the poller's own fds */
    goto out;
  }
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  int slot;
  if (reg != NULL) {
    if (!(reg->state & STATE_INVALID) && reg->file_dev == dev && reg->file_ino == ino) {
      rc = SocketPoll_fail(&poll->base, "SocketPoll_add", -EEXIST);
      goto out;
    }
    /* Registered, but poll() said the fd was closed, or the number now names another file: it
     * was closed without del (epoll forgets closed fds by itself, so there this add succeeds
     * too). Reuse the slot. Whatever the current dispatch holds for it belongs to the old file. */
    slot = reg->slot;
    SocketPoll_invalidate_fd(&poll->base, fd);
  } else {
    rc = reserve(&poll->fds, &poll->slots, &poll->capacity, poll->nfds + 1);
    if (rc < 0) {
      rc = SocketPoll_fail(&poll->base, "realloc", rc);
      goto out;
    }
    slot = poll->nfds;
  }
  rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) { /* only when fd was not registered: nothing to undo */
    rc = SocketPoll_fail(&poll->base, "realloc", rc);
    goto out;
  }
  reg->file_dev = dev;
  reg->file_ino = ino;
  reg->slot = slot;
  if (slot == poll->nfds) poll->nfds++;
  poll->fds[slot].fd = fd;
  poll->fds[slot].events = to_poll(events);
  poll->fds[slot].revents = 0;
  poll->slots[slot].fd = fd;
  poll->slots[slot].generation = ++poll->generation;
  poll->slots[slot].source = 0;
  changed(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

static void forget(SocketPoll_T poll, int fd, SocketPoll_Registration *reg);

int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_mod", rc);
  uint64_t dev = 0, ino = 0;
  int open_rc = SocketPoll_file_identity(fd, &dev, &ino);
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_mod", -ENOENT);
    goto out;
  }
  if (open_rc < 0 || dev != reg->file_dev || ino != reg->file_ino) {
    /* Closed without del, its number maybe reused: the registration is dead. Forget it (as del
     * does) rather than poll whatever file the number names now; epoll and kqueue do the same. */
    forget(poll, fd, reg);
    rc = SocketPoll_fail(&poll->base, "fstat", -ENOENT);
    goto out;
  }
  reg->events = events;
  reg->data = data;
  reg->state = 0; /* re-armed, also after POLLNVAL: it is reported again (once) if still closed */
  poll->fds[reg->slot].fd = fd;
  poll->fds[reg->slot].events = to_poll(events);
  changed(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

/* The registration (of an fd, or of a process watch's pidfd) that owns array entry slot. */
static SocketPoll_Registration *slot_owner(SocketPoll_T poll, int slot) {
  const PollSlot *s = &poll->slots[slot];
  if (s->source != 0) return &SocketPoll_source_get(&poll->base, s->source)->reg;
  return SocketPoll_table_get(&poll->base.table, s->fd);
}

/* Swap-removes array entry slot: the last entry moves into the hole. Caller holds the mutex. */
static void remove_slot(SocketPoll_T poll, int slot) {
  int last = poll->nfds - 1;
  if (slot != last) {
    poll->fds[slot] = poll->fds[last];
    poll->slots[slot] = poll->slots[last];
    slot_owner(poll, slot)->slot = slot;
  }
  poll->nfds--;
}

/* Unregisters fd: its entry leaves the array. Caller holds the mutex. */
static void forget(SocketPoll_T poll, int fd, SocketPoll_Registration *reg) {
  remove_slot(poll, reg->slot);
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_table_remove(&poll->base.table, fd);
  changed(poll);
}

/* The kernel side of a source: a process watch's pidfd leaves the array and is closed. */
static void release_source(SocketPoll_T poll, SocketPoll_Source *src) {
  if (src->fd < 0) return;
  remove_slot(poll, src->reg.slot);
  close(src->fd);
  src->fd = -1;
  src->reg.slot = -1;
  changed(poll);
}

int SocketPoll_add_timer(SocketPoll_T poll, int interval_ms, int flags, void *data, int *handle) {
  int rc = SocketPoll_check_timer(interval_ms, flags, handle);
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add_timer", rc);
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  rc = SocketPoll_source_new_timer(&poll->base, interval_ms, flags, data, &src);
  if (rc == 0) {
    src->deadline_ns = SocketPoll_now_ns() + (int64_t)interval_ms * 1000000;
    *handle = src->handle;
    changed(poll); /* a sleeping poll() must take the new deadline into account */
  }
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_add_process(SocketPoll_T poll, int pid, void *data, int *handle) {
  if (handle == NULL) return SocketPoll_fail(&poll->base, "SocketPoll_add_process", -EINVAL);
  if (!SocketPoll_have_pidfd()) return SocketPoll_fail(&poll->base, "pidfd_open", -ENOTSUP);
  int fd = SocketPoll_pidfd_open(pid);
  if (fd < 0) return SocketPoll_fail(&poll->base, "pidfd_open", fd); /* -ESRCH: gone already */
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src = NULL;
  int rc = reserve(&poll->fds, &poll->slots, &poll->capacity, poll->nfds + 1);
  if (rc < 0) SocketPoll_fail(&poll->base, "realloc", rc);
  else rc = SocketPoll_source_new_process(&poll->base, pid, data, &src);
  if (rc < 0) {
    close(fd);
    goto out;
  }
  src->fd = fd;
  int slot = src->reg.slot = poll->nfds++;
  poll->fds[slot].fd = fd;
  poll->fds[slot].events = POLLIN;
  poll->fds[slot].revents = 0;
  poll->slots[slot].fd = fd;
  poll->slots[slot].generation = ++poll->generation;
  poll->slots[slot].source = src->handle;
  *handle = src->handle;
  changed(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

static int del_source(SocketPoll_T poll, int handle) {
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src = SocketPoll_source_get(&poll->base, handle);
  if (src != NULL) {
    release_source(poll, src);
    SocketPoll_source_remove(&poll->base, src);
    changed(poll);
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
  /* No kernel call: a closed fd is forgotten like any other. */
  forget(poll, fd, reg);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

/* Takes a new private copy of the array if it changed. Caller holds the mutex. 0 or -ENOMEM. */
static int refresh_copy(SocketPoll_T poll) {
  if (!poll->dirty) return 0;
  int rc = reserve(&poll->wfds, &poll->wslots, &poll->wcapacity, poll->nfds);
  if (rc < 0) return rc;
  memcpy(poll->wfds, poll->fds, (size_t)poll->nfds * sizeof(*poll->wfds));
  memcpy(poll->wslots, poll->slots, (size_t)poll->nfds * sizeof(*poll->wslots));
  poll->wnfds = poll->nfds;
  poll->dirty = 0;
  return 0;
}

/* A process watch's pidfd polled readable: the process has exited. Caller holds the mutex. */
static void dispatch_process(SocketPoll_T poll, const PollSlot *polled) {
  SocketPoll_Source *src = SocketPoll_source_get(&poll->base, polled->source);
  /* Deleted (or its pidfd released) while we were in poll(), or a later generation. */
  if (src == NULL || src->spent || src->reg.slot < 0 ||
      poll->slots[src->reg.slot].generation != polled->generation)
    return;
  if (SocketPoll_emit_source(&poll->base, src, POLL_EXIT) != NULL) release_source(poll, src);
}

/* What one scan of the timers found: the nearest deadline still ahead (-1: none). */
struct timer_scan {
  SocketPoll_T poll;
  int64_t now;
  int64_t next;
  int fire; /* report the timers that are due (else only find the nearest deadline) */
};

static void scan_timer(SocketPoll_Source *src, void *arg) {
  struct timer_scan *scan = arg;
  if (src->kind != POLL_TIMER || src->spent) return;
  if (scan->fire && src->deadline_ns <= scan->now &&
      SocketPoll_emit_source(&scan->poll->base, src, POLL_TIMER) != NULL) {
    if (!src->repeat) return;
    /* Coalesce: skip every deadline that has passed; stay on the original schedule. */
    int64_t interval = (int64_t)src->interval_ms * 1000000;
    src->deadline_ns += ((scan->now - src->deadline_ns) / interval + 1) * interval;
  }
  if (scan->next < 0 || src->deadline_ns < scan->next) scan->next = src->deadline_ns;
}

/* Reports the due timers (fire) and returns the milliseconds until the nearest deadline left,
 * rounded up (-1: no timers). Caller holds the mutex. */
static int scan_timers(SocketPoll_T poll, int fire) {
  struct timer_scan scan = {poll, SocketPoll_now_ns(), -1, fire};
  SocketPoll_sources_each(&poll->base, scan_timer, &scan);
  if (scan.next < 0) return -1;
  int64_t left = scan.next - SocketPoll_now_ns();
  if (left <= 0) return 0;
  int64_t ms = (left + 999999) / 1000000;
  return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* Turns the private copy's results (`ready` entries have revents) into the output buffer. Caller
 * holds the mutex. */
static void dispatch(SocketPoll_T poll, int ready) {
  int n = poll->wnfds - 1; /* registered entries: 1 .. wnfds-1 */
  if (n <= 0) return;
  int start = poll->scan_from < n ? poll->scan_from : 0;
  for (int k = 0; k < n && ready > 0; k++) {
    int i = 1 + (start + k) % n;
    struct pollfd *pfd = &poll->wfds[i];
    if (pfd->revents == 0) continue;
    ready--;
    if (poll->wslots[i].source != 0) {
      dispatch_process(poll, &poll->wslots[i]);
      pfd->revents = 0;
      continue;
    }
    int fd = poll->wslots[i].fd;
    SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
    /* Deleted, or deleted and re-added, while we were in poll(). */
    if (reg == NULL || poll->slots[reg->slot].generation != poll->wslots[i].generation) continue;
    struct pollfd *live = &poll->fds[reg->slot];
    if (live->fd < 0) continue; /* disarmed meanwhile (or by an earlier round) */
    int events = from_poll(pfd->revents);
#if !HAVE_POLLRDHUP
    if ((reg->events & POLL_RDHUP) && rdhup_emulated(fd, pfd->revents)) events |= POLL_RDHUP;
#endif
    /* Interest may have changed by mod while we were in poll(): report only what is asked for now
     * (errors, hang-ups and POLLNVAL are always reported). */
    events &= (reg->events & POLL_EVENT_MASK) | POLL_ERROR | POLL_HANGUP | POLL_INVALID;
    if (events == 0) continue;
    if (SocketPoll_emit(&poll->base, fd, events) == NULL) {
      /* Buffer full: start here next time. Level readiness is still there for the next poll(). */
      poll->scan_from = (start + k) % n;
      return;
    }
    pfd->revents = 0;
    if (events & POLL_INVALID) {
      reg->state |= STATE_INVALID;
      live->fd = -1;
      poll->dirty = 1;
    } else if (reg->events & POLL_ONESHOT) {
      live->fd = -1;
      poll->dirty = 1;
    }
  }
  poll->scan_from = 0;
}

int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms) {
  int64_t deadline = SocketPoll_deadline(timeout_ms);
  int timeout = timeout_ms < 0 ? -1 : timeout_ms;
  pthread_mutex_lock(&poll->base.mutex);
  for (;;) {
    int rc = refresh_copy(poll);
    if (rc < 0) {
      pthread_mutex_unlock(&poll->base.mutex);
      return SocketPoll_fail(&poll->base, "realloc", rc);
    }
    int timer_ms = poll->base.sources.count > 0 ? scan_timers(poll, 0) : -1;
    int poll_timeout = timeout;
    if (timer_ms >= 0 && (poll_timeout < 0 || timer_ms < poll_timeout)) poll_timeout = timer_ms;
    poll->polling = 1;
    pthread_mutex_unlock(&poll->base.mutex);

    int n = sys_poll(poll->wfds, (nfds_t)poll->wnfds, poll_timeout);
    int err = errno;

    pthread_mutex_lock(&poll->base.mutex);
    poll->polling = 0;
    if (n < 0) {
      if (poll->interrupted) SocketPoll_wakeup_drain(&poll->wakeup);
      poll->interrupted = 0;
      if (err != EINTR) {
        pthread_mutex_unlock(&poll->base.mutex);
        return SocketPoll_fail(&poll->base, "poll", -err);
      }
      timeout = SocketPoll_time_left(deadline);
      continue;
    }
    int signalled = poll->wfds[0].revents != 0;
    if (signalled || poll->interrupted) {
      /* The signal of an add/mod/del is in the channel by now (written under the mutex). */
      SocketPoll_wakeup_drain(&poll->wakeup);
      poll->wfds[0].revents = 0;
    }
    poll->interrupted = 0;
    /* After the drain: a wakeup whose signal was drained has set the flag before signalling. */
    int woken = atomic_exchange(&poll->notified, 0);
    SocketPoll_begin_batch(&poll->base);
    if (n > signalled) dispatch(poll, n - signalled);
    if (poll->base.sources.count > 0) scan_timers(poll, 1);
    int count = poll->base.out_count;
    poll->base.woken = woken;
    /* n == 0 with the caller's time not up: poll() slept until a timer's deadline. */
    if (count > 0 || woken || (n == 0 && poll_timeout == timeout)) {
      pthread_mutex_unlock(&poll->base.mutex);
      *events = poll->base.out;
      return count;
    }
    /* Only an internal interrupt, stale results or a timer not quite due: not a result. Resume
     * with the time left. */
    timeout = SocketPoll_time_left(deadline);
    if (timeout == 0) {
      pthread_mutex_unlock(&poll->base.mutex);
      *events = poll->base.out;
      return 0;
    }
  }
}

int SocketPoll_wakeup(SocketPoll_T poll) {
  /* Flag first, then the signal: whoever drains the signal sees the flag. No lock: this must
   * stay async-signal-safe. */
  atomic_store(&poll->notified, 1);
  int rc = SocketPoll_wakeup_signal(&poll->wakeup);
  return rc < 0 ? SocketPoll_fail(&poll->base, "write", rc) : 0;
}

