/*
 * SocketPoll_epoll.c — the Linux backend: epoll_create1(), epoll_ctl(), epoll_wait().
 *
 * The kernel is the source of truth for what is registered: add asks epoll_ctl(ADD) first, so a
 * double add is EEXIST from the kernel, and an fd that was closed without del (epoll forgot it by
 * itself) can be added again. Each epoll_event carries fd and a registration generation, so an
 * event the kernel queued for an fd that another thread deleted and re-added meanwhile is dropped.
 *
 * Timers are timerfds (CLOCK_MONOTONIC) and process watches pidfds, registered in the same epoll;
 * their token is the source's handle (negative, so never an fd's token). An expired timerfd is read
 * only when its event fits in the batch, so a full buffer leaves it readable for the next wait; the
 * count it returns (expiries since the last read) is what coalesces late expiries into one event.
 *
 * POLL_UNPOLLABLE_READY: an fd epoll refuses with EPERM (regular files, directories, /dev/null:
 * always ready, so epoll has nothing to wait for) is kept in the fd table only, in the shared
 * always-ready set, and reported by every wait while armed. Since no kernel event announces it, an
 * eventfd (`ready`) in the epoll is kept readable while the set is not empty: a blocking wait
 * returns at once, and the epoll fd is readable for an event loop, as poll() would be.
 *
 * Two epoll fds. `epfd` holds everything above and is what wait calls epoll_wait() on; `loop_fd`
 * holds only `epfd` and is what SocketPoll_get_fd() gives an event loop. The indirection exists for
 * one misuse: epoll keys its interest list by (fd number, open file description), so a registered
 * fd closed without del while another descriptor of the same file lives on (a dup, a child
 * process) leaves an item that nothing can remove — epoll_ctl(DEL) on the number reaches whatever
 * file the number names now. Its events carry a stale generation and are dropped, but a
 * level-triggered one keeps epoll_wait() returning at once: a busy loop. When the library sees that
 * this may have happened (add takes a number the table still holds, del or mod find the number
 * closed or naming another file), it rebuilds `epfd`: a new epoll set with every item of the old
 * one that is still live (listed by /proc/self/fdinfo, checked against the file the number names
 * now), then the old set is closed, which drops the orphaned item. `loop_fd` does not change, so an
 * event loop watching it is not disturbed; a thread blocked on the old set is woken to move over.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "SocketPoll_backend.h"

#define WAKEUP_TOKEN UINT64_MAX
#define READY_TOKEN (UINT64_MAX - 1)

struct SocketPoll {
  SocketPoll_Base base; /* must be first */
  int epfd;    /* everything registered, the wakeup and ready eventfds */
  int loop_fd; /* holds epfd only: the fd an event loop watches (SocketPoll_get_fd) */
  int wait_fd;    /* the set a thread is in epoll_wait() on, or -1 */
  int retired_fd; /* an old set that thread still waits on; it closes it, or -1 */
  atomic_int notified; /* SocketPoll_wakeup() was called: the next wait returns */
  struct epoll_event *kevents; /* what epoll_wait fills; only the waiting thread touches it */
  SocketPoll_Wakeup wakeup;
  SocketPoll_Wakeup ready; /* readable while always-ready fds are armed */
  uint32_t generation; /* counts registrations; the registration's `state` holds its own */
};

static uint32_t to_epoll(int events) {
  uint32_t ev = 0;
  if (events & POLL_READ) ev |= EPOLLIN;
  if (events & POLL_WRITE) ev |= EPOLLOUT;
  if (events & POLL_PRIORITY) ev |= EPOLLPRI;
  if (events & POLL_RDHUP) ev |= EPOLLRDHUP;
  if (events & POLL_EDGE) ev |= EPOLLET;
  if (events & POLL_ONESHOT) ev |= EPOLLONESHOT;
  return ev; /* EPOLLERR and EPOLLHUP are always reported by the kernel */
}

static int from_epoll(uint32_t ev) {
  int events = 0;
  if (ev & EPOLLIN) events |= POLL_READ;
  if (ev & EPOLLOUT) events |= POLL_WRITE;
  if (ev & EPOLLERR) events |= POLL_ERROR;
  if (ev & EPOLLHUP) events |= POLL_HANGUP;
  if (ev & EPOLLPRI) events |= POLL_PRIORITY;
  if (ev & EPOLLRDHUP) events |= POLL_RDHUP;
  return events;
}

static uint64_t token(int fd, uint32_t generation) {
  return ((uint64_t)generation << 32) | (uint32_t)fd;
}

/* A timer's or process's token: its handle in the low half, nothing in the high half. An fd's
 * low half is the fd (>= 0), the wakeup token's is -1. */
static uint64_t source_token(int handle) {
  return (uint64_t)(uint32_t)handle;
}

static int token_handle(uint64_t data) {
  int low = (int)(uint32_t)data;
  return (data >> 32) == 0 && SOCKETPOLL_IS_HANDLE(low) ? low : 0;
}

static int supported_modes(void) {
  return SOCKETPOLL_SUPPORTS_LEVEL | SOCKETPOLL_SUPPORTS_EDGE | SOCKETPOLL_SUPPORTS_ONESHOT;
}

SocketPoll_T SocketPoll_new(int max_events) {
  SocketPoll_T poll = calloc(1, sizeof(*poll));
  if (poll == NULL) return NULL;
  poll->epfd = poll->loop_fd = poll->wait_fd = poll->retired_fd = -1;
  atomic_init(&poll->notified, 0);
  poll->wakeup.read_fd = poll->wakeup.write_fd = -1;
  poll->ready.read_fd = poll->ready.write_fd = -1;
  int rc = SocketPoll_base_init(&poll->base, max_events, "epoll", supported_modes(),
                                SOCKETPOLL_SOURCE_FD | SOCKETPOLL_SOURCE_TIMER |
                                    (SocketPoll_have_pidfd() ? SOCKETPOLL_SOURCE_PROCESS : 0));
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
  /* EPOLL_CLOEXEC: the epoll fd must not leak into child processes. */
  poll->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (poll->epfd < 0) {
    rc = -errno;
    goto fail;
  }
  rc = SocketPoll_wakeup_open(&poll->wakeup);
  if (rc < 0) goto fail;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKEUP_TOKEN};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_ADD, poll->wakeup.read_fd, &ev) < 0) {
    rc = -errno;
    goto fail;
  }
  rc = SocketPoll_wakeup_open(&poll->ready);
  if (rc < 0) goto fail;
  struct epoll_event ready = {.events = EPOLLIN, .data.u64 = READY_TOKEN};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_ADD, poll->ready.read_fd, &ready) < 0) {
    rc = -errno;
    goto fail;
  }
  poll->loop_fd = epoll_create1(EPOLL_CLOEXEC);
  if (poll->loop_fd < 0) {
    rc = -errno;
    goto fail;
  }
  struct epoll_event inner = {.events = EPOLLIN, .data.u64 = 0};
  if (epoll_ctl(poll->loop_fd, EPOLL_CTL_ADD, poll->epfd, &inner) < 0) {
    rc = -errno;
    goto fail;
  }
  poll->base.fd = poll->loop_fd;
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
  if (poll->loop_fd >= 0) close(poll->loop_fd);
  if (poll->retired_fd >= 0) close(poll->retired_fd);
  if (poll->epfd >= 0) close(poll->epfd);
  SocketPoll_wakeup_close(&poll->wakeup);
  SocketPoll_wakeup_close(&poll->ready);
  free(poll->kevents);
  if (poll->base.out) SocketPoll_base_destroy(&poll->base);
  free(poll);
  *pollp = NULL;
}

/* Raises the ready signal: a wait must return now for the armed always-ready fds. */
static void raise_ready(SocketPoll_T poll) {
  SocketPoll_wakeup_signal(&poll->ready);
}

/* An fd epoll refused with EPERM, registered with POLL_UNPOLLABLE_READY. Caller holds the mutex. */
static int add_always_ready(SocketPoll_T poll, int fd, int events, void *data) {
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg != NULL && reg->always_ready) return -EEXIST;
  SocketPoll_invalidate_fd(&poll->base, fd); /* a closed fd's number, reused */
  SocketPoll_ready_disarm(&poll->base, fd);
  int rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) return rc;
  reg->always_ready = 1;
  rc = SocketPoll_ready_arm(&poll->base, fd);
  if (rc < 0) {
    SocketPoll_table_remove(&poll->base.table, fd);
    return rc;
  }
  raise_ready(poll);
  return 0;
}

/* The poller's own fds: its epoll fds, its eventfds and its sources' timerfds and pidfds. Caller
 * holds the mutex. */
static int is_internal(SocketPoll_T poll, int fd) {
  return fd == poll->epfd || fd == poll->loop_fd || fd == poll->wakeup.read_fd || fd == poll->ready.read_fd ||
         SocketPoll_source_owns_fd(&poll->base, fd);
}

/* Whether the open file behind fd is the one /proc/self/fdinfo listed (inode, kernel dev_t). */
static int same_file(int fd, unsigned long ino, unsigned sdev) {
  struct stat st;
  if (fstat(fd, &st) < 0) return 0;
  return st.st_ino == ino && major(st.st_dev) == (sdev >> 20) && minor(st.st_dev) == (sdev & 0xfffff);
}

/* Whether the old set's item (fd, token) must be carried over: an internal eventfd, a live
 * source, or a registration that is still current and still names the same file. */
static int live_item(SocketPoll_T poll, int fd, uint64_t data, unsigned long ino, unsigned sdev) {
  if (data == WAKEUP_TOKEN) return fd == poll->wakeup.read_fd;
  if (data == READY_TOKEN) return fd == poll->ready.read_fd;
  int handle = token_handle(data);
  if (handle != 0) {
    SocketPoll_Source *src = SocketPoll_source_get(&poll->base, handle);
    return src != NULL && src->fd == fd && same_file(fd, ino, sdev);
  }
  if ((int)(uint32_t)data != fd) return 0;
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL || reg->always_ready || (uint32_t)reg->state != (uint32_t)(data >> 32)) return 0;
  return same_file(fd, ino, sdev);
}

/* Replaces epfd by a new set holding the old one's live items (see the file comment): drops an
 * item orphaned by a close without del while the file lives on elsewhere. Caller holds the mutex.
 * Best effort: without /proc, or on any failure, the old set stays as it is. */
static void rebuild(SocketPoll_T poll) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", poll->epfd);
  FILE *info = fopen(path, "re");
  if (info == NULL) return;
  int fresh = epoll_create1(EPOLL_CLOEXEC);
  if (fresh < 0) {
    fclose(info);
    return;
  }
  char line[256];
  int ok = 1;
  while (ok && fgets(line, sizeof(line), info) != NULL) {
    int fd;
    unsigned events, sdev = 0;
    uint64_t data;
    unsigned long ino = 0;
    long long pos;
    if (sscanf(line, "tfd: %d events: %x data: %" SCNx64 " pos:%lld ino:%lx sdev:%x", &fd, &events,
               &data, &pos, &ino, &sdev) < 3)
      continue;
    if (!live_item(poll, fd, data, ino, sdev)) continue;
    /* A disarmed oneshot item lists no interest: carry it over disarmed, i.e. not at all; mod
     * adds it back (slot 1: see SocketPoll_mod). */
    if ((events & ~(uint32_t)(EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE)) == 0) {
      SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
      if (reg != NULL) reg->slot = 1;
      continue;
    }
    struct epoll_event ev = {.events = events, .data.u64 = data};
    if (epoll_ctl(fresh, EPOLL_CTL_ADD, fd, &ev) < 0) ok = 0;
  }
  fclose(info);
  struct epoll_event inner = {.events = EPOLLIN, .data.u64 = 0};
  if (!ok || epoll_ctl(poll->loop_fd, EPOLL_CTL_ADD, fresh, &inner) < 0) {
    close(fresh);
    return;
  }
  epoll_ctl(poll->loop_fd, EPOLL_CTL_DEL, poll->epfd, NULL);
  if (poll->wait_fd == poll->epfd) {
    /* A thread is in epoll_wait() on the old set: it closes it when it returns, which the
     * wakeup channel (in both sets) makes it do now, and then waits on the new one. */
    poll->retired_fd = poll->epfd;
    SocketPoll_wakeup_signal(&poll->wakeup);
  } else {
    close(poll->epfd);
  }
  poll->epfd = fresh;
}

int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add", rc);
  pthread_mutex_lock(&poll->base.mutex);
  if (is_internal(poll, fd)) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_add", -EINVAL);
    goto out;
  }
  uint32_t generation = ++poll->generation;
  struct epoll_event ev = {.events = to_epoll(events), .data.u64 = token(fd, generation)};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    /* EEXIST, EBADF, EPERM (regular files, directories), ENOMEM, ENOSPC */
    rc = SocketPoll_fail(&poll->base, "epoll_ctl", -errno);
    if (rc == -EPERM && (events & POLL_UNPOLLABLE_READY)) {
      rc = add_always_ready(poll, fd, events, data);
      if (rc < 0) SocketPoll_fail(&poll->base, rc == -EEXIST ? "SocketPoll_add" : "realloc", rc);
    }
    goto out;
  }
  int reused = SocketPoll_table_get(&poll->base.table, fd) != NULL;
  /* Still in the table although the kernel took the add: fd was closed without del and its
   * number reused. Whatever the current dispatch holds for it belongs to the old file. */
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_ready_disarm(&poll->base, fd);
  SocketPoll_Registration *reg;
  rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) {
    epoll_ctl(poll->epfd, EPOLL_CTL_DEL, fd, NULL);
    rc = SocketPoll_fail(&poll->base, "realloc", rc);
    goto out;
  }
  reg->state = (int)generation;
  if (reused) rebuild(poll); /* the old file may live on elsewhere: see the file comment */
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_mod", rc);
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = SocketPoll_fail(&poll->base, "SocketPoll_mod", -ENOENT);
    goto out;
  }
  if (reg->always_ready) { /* no kernel registration: re-arm it */
    rc = SocketPoll_ready_arm(&poll->base, fd);
    if (rc < 0) {
      SocketPoll_fail(&poll->base, "realloc", rc);
      goto out;
    }
    reg->events = events;
    reg->data = data;
    raise_ready(poll);
    goto out;
  }
  struct epoll_event ev = {.events = to_epoll(events), .data.u64 = token(fd, (uint32_t)reg->state)};
  /* slot 1: a disarmed oneshot item that a rebuild did not carry over; add it back. */
  int op = reg->slot == 1 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(poll->epfd, op, fd, &ev) < 0) {
    rc = SocketPoll_fail(&poll->base, "epoll_ctl", -errno);
    /* ENOENT: the fd was closed without del (or its number reused) and epoll dropped it; forget
     * it here too. EBADF: closed, and the file may live on elsewhere. */
    if (rc == -ENOENT || rc == -EBADF) {
      SocketPoll_invalidate_fd(&poll->base, fd);
      SocketPoll_table_remove(&poll->base.table, fd);
      rebuild(poll);
      rc = SocketPoll_fail(&poll->base, "epoll_ctl", -ENOENT);
    }
    goto out;
  }
  reg->slot = 0;
  reg->events = events;
  reg->data = data;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

/* The kernel side of a source: out of the epoll, closed. Caller holds the mutex. */
static void release_source(SocketPoll_T poll, SocketPoll_Source *src) {
  if (src->fd < 0) return;
  epoll_ctl(poll->epfd, EPOLL_CTL_DEL, src->fd, NULL);
  close(src->fd);
  src->fd = -1;
}

/* Registers a source's fd (a timerfd or pidfd, owned by the source) in the epoll. */
static int watch_source(SocketPoll_T poll, SocketPoll_Source *src, int fd) {
  src->fd = fd;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = source_token(src->handle)};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int rc = SocketPoll_fail(&poll->base, "epoll_ctl", -errno);
    close(fd);
    src->fd = -1;
    return rc;
  }
  return 0;
}

int SocketPoll_add_timer(SocketPoll_T poll, int interval_ms, int flags, void *data, int *handle) {
  int rc = SocketPoll_check_timer(interval_ms, flags, handle);
  if (rc < 0) return SocketPoll_fail(&poll->base, "SocketPoll_add_timer", rc);
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return SocketPoll_fail(&poll->base, "timerfd_create", -errno);
  struct itimerspec its = {0};
  its.it_value.tv_sec = interval_ms / 1000;
  its.it_value.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
  if (flags & SOCKETPOLL_TIMER_REPEAT) its.it_interval = its.it_value;
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  rc = SocketPoll_source_new_timer(&poll->base, interval_ms, flags, data, &src);
  if (rc < 0) {
    close(fd);
    goto out;
  }
  rc = watch_source(poll, src, fd);
  /* Armed after it is watched: an expiry cannot come before the source exists. */
  if (rc == 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
    rc = SocketPoll_fail(&poll->base, "timerfd_settime", -errno);
    release_source(poll, src);
  }
  if (rc < 0) SocketPoll_source_remove(&poll->base, src);
  else *handle = src->handle;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_add_process(SocketPoll_T poll, int pid, void *data, int *handle) {
  if (handle == NULL) return SocketPoll_fail(&poll->base, "SocketPoll_add_process", -EINVAL);
  int fd = SocketPoll_pidfd_open(pid);
  if (fd < 0) return SocketPoll_fail(&poll->base, "pidfd_open", fd); /* -ESRCH: gone; -ENOSYS: < 5.3 */
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  int rc = SocketPoll_source_new_process(&poll->base, pid, data, &src);
  if (rc < 0) {
    close(fd);
    goto out;
  }
  rc = watch_source(poll, src, fd);
  if (rc < 0) SocketPoll_source_remove(&poll->base, src);
  else *handle = src->handle;
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
  }
  pthread_mutex_unlock(&poll->base.mutex);
  return src != NULL ? 0 : SocketPoll_fail(&poll->base, "SocketPoll_del", -ENOENT);
}

/* A source's kernel event. Caller holds the mutex. */
static void dispatch_source(SocketPoll_T poll, int handle) {
  SocketPoll_Source *src = SocketPoll_source_get(&poll->base, handle);
  if (src == NULL || src->spent || src->fd < 0) return; /* deleted meanwhile */
  if (poll->base.out_count >= poll->base.max_events) return; /* stays readable: next wait */
  if (src->kind == POLL_TIMER) {
    uint64_t expiries;
    ssize_t n;
    do n = read(src->fd, &expiries, sizeof(expiries));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(expiries)) return; /* EAGAIN: consumed by an earlier wait */
  }
  SocketPoll_emit_source(&poll->base, src, src->kind);
  if (src->spent) release_source(poll, src);
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
  /* EBADF/ENOENT: the fd was closed before del (and its number maybe reused); the kernel has
   * dropped it, unless the file lives on elsewhere: then only a rebuild drops it. */
  int orphan = 0;
  if (!reg->always_ready && epoll_ctl(poll->epfd, EPOLL_CTL_DEL, fd, NULL) < 0) {
    if (errno != EBADF && errno != ENOENT) {
      rc = SocketPoll_fail(&poll->base, "epoll_ctl", -errno);
      goto out;
    }
    orphan = 1;
  }
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_table_remove(&poll->base.table, fd);
  if (orphan) rebuild(poll);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms) {
  int64_t deadline = SocketPoll_deadline(timeout_ms);
  int timeout = timeout_ms < 0 ? -1 : timeout_ms;
  for (;;) {
    pthread_mutex_lock(&poll->base.mutex);
    int epfd = poll->wait_fd = poll->epfd;
    pthread_mutex_unlock(&poll->base.mutex);
    int n = epoll_wait(epfd, poll->kevents, poll->base.max_events, timeout);
    int err = errno;
    pthread_mutex_lock(&poll->base.mutex);
    poll->wait_fd = -1;
    if (poll->retired_fd >= 0) { /* rebuilt while we waited on the old set: see rebuild() */
      close(poll->retired_fd);
      poll->retired_fd = -1;
    }
    if (n < 0) {
      pthread_mutex_unlock(&poll->base.mutex);
      if (err != EINTR) return SocketPoll_fail(&poll->base, "epoll_wait", -err);
      timeout = SocketPoll_time_left(deadline);
      continue;
    }
    int woken = 0;
    SocketPoll_begin_batch(&poll->base);
    for (int i = 0; i < n; i++) {
      uint64_t data = poll->kevents[i].data.u64;
      if (data == WAKEUP_TOKEN) {
        SocketPoll_wakeup_drain(&poll->wakeup);
        /* After the drain: a wakeup whose signal was drained has set the flag before signalling;
         * a signal without the flag was a rebuild's, for this loop only. */
        woken = atomic_exchange(&poll->notified, 0);
        continue;
      }
      if (data == READY_TOKEN) {
        SocketPoll_wakeup_drain(&poll->ready); /* raised again below while fds stay armed */
        continue;
      }
      int handle = token_handle(data);
      if (handle != 0) {
        dispatch_source(poll, handle);
        continue;
      }
      int fd = (int)(uint32_t)data;
      SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
      if (reg == NULL || (uint32_t)reg->state != (uint32_t)(data >> 32)) continue; /* stale */
      SocketPoll_emit(&poll->base, fd, from_epoll(poll->kevents[i].events));
    }
    if (poll->base.ready.count > 0 && SocketPoll_emit_ready(&poll->base) > 0) raise_ready(poll);
    int count = poll->base.out_count;
    poll->base.woken = woken;
    pthread_mutex_unlock(&poll->base.mutex);
    *events = poll->base.out;
    /* Only stale events: not a result. Wait again for the time left. */
    if (count == 0 && n > 0 && !woken && timeout != 0) {
      timeout = SocketPoll_time_left(deadline);
      if (timeout != 0) continue;
    }
    return count;
  }
}

int SocketPoll_wakeup(SocketPoll_T poll) {
  /* Flag first, then the signal (see wait). No lock: this must stay async-signal-safe. */
  atomic_store(&poll->notified, 1);
  int rc = SocketPoll_wakeup_signal(&poll->wakeup);
  return rc < 0 ? SocketPoll_fail(&poll->base, "write", rc) : 0;
}

