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
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "poll/SocketPoll_backend.h"

#define WAKEUP_TOKEN UINT64_MAX
#define READY_TOKEN (UINT64_MAX - 1)

struct SocketPoll {
  SocketPoll_Base base; /* must be first */
  int epfd;
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
  poll->epfd = -1;
  poll->wakeup.read_fd = poll->wakeup.write_fd = -1;
  poll->ready.read_fd = poll->ready.write_fd = -1;
  int rc = SocketPoll_base_init(&poll->base, max_events);
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

int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return rc;
  pthread_mutex_lock(&poll->base.mutex);
  uint32_t generation = ++poll->generation;
  struct epoll_event ev = {.events = to_epoll(events), .data.u64 = token(fd, generation)};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    rc = -errno; /* EEXIST, EBADF, EPERM (regular files, directories), ENOMEM, ENOSPC */
    if (rc == -EPERM && (events & POLL_UNPOLLABLE_READY)) rc = add_always_ready(poll, fd, events, data);
    goto out;
  }
  /* Still in the table although the kernel took the add: fd was closed without del and its
   * number reused. Whatever the current dispatch holds for it belongs to the old file. */
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_ready_disarm(&poll->base, fd);
  SocketPoll_Registration *reg;
  rc = SocketPoll_table_put(&poll->base.table, fd, events, data, &reg);
  if (rc < 0) {
    epoll_ctl(poll->epfd, EPOLL_CTL_DEL, fd, NULL);
    goto out;
  }
  reg->state = (int)generation;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data) {
  int rc = SocketPoll_check_events(fd, events, supported_modes());
  if (rc < 0) return rc;
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = -ENOENT;
    goto out;
  }
  if (reg->always_ready) { /* no kernel registration: re-arm it */
    rc = SocketPoll_ready_arm(&poll->base, fd);
    if (rc < 0) goto out;
    reg->events = events;
    reg->data = data;
    raise_ready(poll);
    goto out;
  }
  struct epoll_event ev = {.events = to_epoll(events), .data.u64 = token(fd, (uint32_t)reg->state)};
  if (epoll_ctl(poll->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
    rc = -errno;
    /* ENOENT: the fd was closed without del and epoll dropped it; forget it here too. */
    if (rc == -ENOENT) {
      SocketPoll_invalidate_fd(&poll->base, fd);
      SocketPoll_table_remove(&poll->base.table, fd);
    }
    goto out;
  }
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
    int rc = -errno;
    close(fd);
    src->fd = -1;
    return rc;
  }
  return 0;
}

int SocketPoll_add_timer(SocketPoll_T poll, int interval_ms, int flags, void *data, int *handle) {
  int rc = SocketPoll_check_timer(interval_ms, flags, handle);
  if (rc < 0) return rc;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return -errno;
  struct itimerspec its = {0};
  its.it_value.tv_sec = interval_ms / 1000;
  its.it_value.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
  if (flags & SOCKETPOLL_TIMER_REPEAT) its.it_interval = its.it_value;
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  rc = SocketPoll_source_new(&poll->base, POLL_TIMER, data, &src);
  if (rc < 0) {
    close(fd);
    goto out;
  }
  src->repeat = (flags & SOCKETPOLL_TIMER_REPEAT) != 0;
  src->interval_ms = interval_ms;
  rc = watch_source(poll, src, fd);
  /* Armed after it is watched: an expiry cannot come before the source exists. */
  if (rc == 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
    rc = -errno;
    release_source(poll, src);
  }
  if (rc < 0) SocketPoll_source_remove(&poll->base, src);
  else *handle = src->handle;
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_add_process(SocketPoll_T poll, int pid, void *data, int *handle) {
  if (handle == NULL) return -EINVAL;
  int fd = SocketPoll_pidfd_open(pid);
  if (fd < 0) return fd; /* -ESRCH: gone already; -ENOSYS: Linux < 5.3 */
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Source *src;
  int rc = SocketPoll_source_find_pid(&poll->base, pid) ? -EEXIST
                                                        : SocketPoll_source_new(&poll->base, POLL_EXIT, data, &src);
  if (rc < 0) {
    close(fd);
    goto out;
  }
  src->pid = pid;
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
  return src != NULL ? 0 : -ENOENT;
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
  if (fd < 0) return -EBADF;
  int rc = 0;
  pthread_mutex_lock(&poll->base.mutex);
  SocketPoll_Registration *reg = SocketPoll_table_get(&poll->base.table, fd);
  if (reg == NULL) {
    rc = -ENOENT;
    goto out;
  }
  SocketPoll_ready_disarm(&poll->base, fd);
  /* EBADF/ENOENT: the fd was closed before del; the kernel has already dropped it. */
  if (!reg->always_ready && epoll_ctl(poll->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF &&
      errno != ENOENT) {
    rc = -errno;
    goto out;
  }
  SocketPoll_invalidate_fd(&poll->base, fd);
  SocketPoll_table_remove(&poll->base.table, fd);
out:
  pthread_mutex_unlock(&poll->base.mutex);
  return rc;
}

int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms) {
  int64_t deadline = SocketPoll_deadline(timeout_ms);
  int timeout = timeout_ms < 0 ? -1 : timeout_ms;
  for (;;) {
    int n = epoll_wait(poll->epfd, poll->kevents, poll->base.max_events, timeout);
    if (n < 0) {
      if (errno != EINTR) return -errno;
      timeout = SocketPoll_time_left(deadline);
      continue;
    }
    int woken = 0;
    pthread_mutex_lock(&poll->base.mutex);
    SocketPoll_begin_batch(&poll->base);
    for (int i = 0; i < n; i++) {
      uint64_t data = poll->kevents[i].data.u64;
      if (data == WAKEUP_TOKEN) {
        SocketPoll_wakeup_drain(&poll->wakeup);
        woken = 1;
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
  return SocketPoll_wakeup_signal(&poll->wakeup);
}

const char *SocketPoll_get_backend_name(SocketPoll_T poll) {
  (void)poll;
  return "epoll";
}

int SocketPoll_get_supported_modes(SocketPoll_T poll) {
  (void)poll;
  return supported_modes();
}

int SocketPoll_get_supported_sources(SocketPoll_T poll) {
  (void)poll;
  return SOCKETPOLL_SOURCE_FD | SOCKETPOLL_SOURCE_TIMER |
         (SocketPoll_have_pidfd() ? SOCKETPOLL_SOURCE_PROCESS : 0);
}

int SocketPoll_get_fd(SocketPoll_T poll) {
  return poll->epfd;
}
