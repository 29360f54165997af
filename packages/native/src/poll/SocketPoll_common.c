/*
 * SocketPoll_common.c — the helpers every backend shares (see SocketPoll_backend.h).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#include <sys/syscall.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture; older headers lack it */
#endif
#endif

#include "SocketPoll_backend.h"

/* ---- fd table ---------------------------------------------------------------------------- */

SocketPoll_Registration *SocketPoll_table_get(SocketPoll_FdTable *table, int fd) {
  if (fd < 0 || fd >= table->capacity) return NULL;
  SocketPoll_Registration *reg = &table->entries[fd];
  return reg->registered ? reg : NULL;
}

static int table_reserve(SocketPoll_FdTable *table, int fd) {
  if (fd < table->capacity) return 0;
  int capacity = table->capacity ? table->capacity : 64;
  while (capacity <= fd) {
    if (capacity > (1 << 29)) return -ENOMEM;
    capacity *= 2;
  }
  SocketPoll_Registration *entries = realloc(table->entries, (size_t)capacity * sizeof(*entries));
  if (entries == NULL) return -ENOMEM;
  memset(entries + table->capacity, 0, (size_t)(capacity - table->capacity) * sizeof(*entries));
  table->entries = entries;
  table->capacity = capacity;
  return 0;
}

int SocketPoll_table_put(SocketPoll_FdTable *table, int fd, int events, void *data,
                         SocketPoll_Registration **out) {
  int rc = table_reserve(table, fd);
  if (rc < 0) return rc;
  SocketPoll_Registration *reg = &table->entries[fd];
  if (!reg->registered) table->count++;
  memset(reg, 0, sizeof(*reg));
  reg->registered = 1;
  reg->events = events;
  reg->data = data;
  reg->slot = -1;
  if (out) *out = reg;
  return 0;
}

void SocketPoll_table_remove(SocketPoll_FdTable *table, int fd) {
  SocketPoll_Registration *reg = SocketPoll_table_get(table, fd);
  if (reg == NULL) return;
  memset(reg, 0, sizeof(*reg));
  table->count--;
}

/* ---- base ---------------------------------------------------------------------------------- */

int SocketPoll_base_init(SocketPoll_Base *base, int max_events, const char *backend_name,
                         int supported_modes, int supported_sources) {
  memset(base, 0, sizeof(*base));
  base->backend_name = backend_name;
  base->supported_modes = supported_modes;
  base->supported_sources = supported_sources;
  base->fd = -1;
  if (max_events < 1 || max_events > SOCKETPOLL_MAX_EVENTS_LIMIT) return -EINVAL;
  base->out = calloc((size_t)max_events, sizeof(*base->out));
  if (base->out == NULL) return -ENOMEM;
  int rc = pthread_mutex_init(&base->mutex, NULL);
  if (rc != 0) {
    free(base->out);
    base->out = NULL;
    return -rc;
  }
  base->max_events = max_events;
  base->sources.free_head = base->sources.spent_head = -1;
  return 0;
}

void SocketPoll_base_destroy(SocketPoll_Base *base) {
  pthread_mutex_destroy(&base->mutex);
  free(base->out);
  free(base->table.entries);
  free(base->sources.entries);
  free(base->ready.fds);
  memset(base, 0, sizeof(*base));
}

int SocketPoll_check_events(int fd, int events, int supported_modes) {
  if (fd < 0) return -EBADF;
  if (events & ~(POLL_EVENT_MASK | POLL_MODE_MASK | POLL_OPTION_MASK)) return -EINVAL;
  int mode = events & POLL_MODE_MASK;
  if (mode == POLL_MODE_MASK) return -EINVAL; /* edge and oneshot at once */
  if (mode == POLL_EDGE && !(supported_modes & SOCKETPOLL_SUPPORTS_EDGE)) return -ENOTSUP;
  if (mode == POLL_ONESHOT && !(supported_modes & SOCKETPOLL_SUPPORTS_ONESHOT)) return -ENOTSUP;
  if (mode == 0 && !(supported_modes & SOCKETPOLL_SUPPORTS_LEVEL)) return -ENOTSUP;
  return 0;
}

int SocketPoll_file_identity(int fd, uint64_t *dev, uint64_t *ino) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  *dev = (uint64_t)st.st_dev;
  *ino = (uint64_t)st.st_ino;
  return 0;
}

int SocketPoll_fail(SocketPoll_Base *base, const char *call, int rc) {
  atomic_store_explicit(&base->failed_call, call, memory_order_relaxed);
  return rc;
}

/* The interface functions every backend would write the same way: they only read the Base,
 * which is the first member of each backend's struct SocketPoll. */
int SocketPoll_was_woken(SocketPoll_T poll) {
  return ((SocketPoll_Base *)(void *)poll)->woken;
}

const char *SocketPoll_get_failed_call(SocketPoll_T poll) {
  SocketPoll_Base *base = (SocketPoll_Base *)(void *)poll;
  const char *call = atomic_load_explicit(&base->failed_call, memory_order_relaxed);
  return call ? call : "SocketPoll";
}

const char *SocketPoll_get_backend_name(SocketPoll_T poll) {
  return ((SocketPoll_Base *)(void *)poll)->backend_name;
}

int SocketPoll_get_supported_modes(SocketPoll_T poll) {
  return ((SocketPoll_Base *)(void *)poll)->supported_modes;
}

int SocketPoll_get_supported_sources(SocketPoll_T poll) {
  return ((SocketPoll_Base *)(void *)poll)->supported_sources;
}

int SocketPoll_get_fd(SocketPoll_T poll) {
  return ((SocketPoll_Base *)(void *)poll)->fd;
}

int SocketPoll_count(SocketPoll_T poll) {
  SocketPoll_Base *base = (SocketPoll_Base *)(void *)poll;
  pthread_mutex_lock(&base->mutex);
  int count = base->table.count;
  pthread_mutex_unlock(&base->mutex);
  return count;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* The event of id (an fd or a handle) in the current dispatch, or NULL. */
static SocketEvent_T *current_event(SocketPoll_Base *base, SocketPoll_Registration *reg, int id) {
  if (reg->out_batch != base->batch || reg->out_index >= base->out_count) return NULL;
  SocketEvent_T *ev = &base->out[reg->out_index];
  return ev->fd == id ? ev : NULL;
}

static void invalidate(SocketPoll_Base *base, SocketPoll_Registration *reg, int id) {
  /* O(1): emit() recorded where the entry is, and each fd or handle has at most one. */
  SocketEvent_T *ev = current_event(base, reg, id);
  if (ev == NULL) return;
  ev->fd = -1;
  ev->events = 0;
  ev->data = NULL;
}

/* What a wait reports for a registration: the kernel's bits and, unless it asked for
 * POLL_EXACT_EVENTS, the POLL_READ / POLL_WRITE it asked for when a hang-up or error came. Not for
 * POLL_INVALID: that fd was closed, and its number may already name another file. */
static int reported(const SocketPoll_Registration *reg, int events) {
  if ((events & (POLL_HANGUP | POLL_ERROR)) && !(events & POLL_INVALID) &&
      !(reg->events & POLL_EXACT_EVENTS)) {
    events |= reg->events & (POLL_READ | POLL_WRITE);
  }
  return events;
}

static SocketPoll_Registration *emit(SocketPoll_Base *base, SocketPoll_Registration *reg, int id,
                                     int events) {
  SocketEvent_T *ev = current_event(base, reg, id);
  if (ev != NULL) {
    ev->events = reported(reg, ev->events | events);
    return reg;
  }
  if (base->out_count >= base->max_events) return NULL;
  ev = &base->out[base->out_count];
  ev->fd = id;
  ev->events = reported(reg, events);
  ev->data = reg->data;
  reg->out_index = base->out_count++;
  reg->out_batch = base->batch;
  return reg;
}

void SocketPoll_invalidate_fd(SocketPoll_Base *base, int fd) {
  SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, fd);
  if (reg != NULL) invalidate(base, reg, fd);
}

static void sweep_spent(SocketPoll_Base *base);

void SocketPoll_begin_batch(SocketPoll_Base *base) {
  sweep_spent(base);
  base->out_count = 0;
  base->batch++;
}

SocketPoll_Registration *SocketPoll_emit(SocketPoll_Base *base, int fd, int events) {
  SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, fd);
  if (reg == NULL) return NULL;
  return emit(base, reg, fd, events);
}

/* ---- always-ready fds ---------------------------------------------------------------------- */

int SocketPoll_ready_arm(SocketPoll_Base *base, int fd) {
  SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, fd);
  if (reg == NULL) return -ENOENT;
  if (reg->ready_slot > 0) return 0;
  SocketPoll_ReadySet *set = &base->ready;
  if (set->count == set->capacity) {
    int capacity = set->capacity ? set->capacity * 2 : 8;
    int *fds = realloc(set->fds, (size_t)capacity * sizeof(*fds));
    if (fds == NULL) return -ENOMEM;
    set->fds = fds;
    set->capacity = capacity;
  }
  set->fds[set->count++] = fd;
  reg->ready_slot = set->count;
  return 0;
}

void SocketPoll_ready_disarm(SocketPoll_Base *base, int fd) {
  SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, fd);
  if (reg == NULL || reg->ready_slot == 0) return;
  SocketPoll_ReadySet *set = &base->ready;
  int i = reg->ready_slot - 1, last = set->count - 1;
  if (i != last) { /* swap-remove */
    set->fds[i] = set->fds[last];
    SocketPoll_table_get(&base->table, set->fds[i])->ready_slot = i + 1;
  }
  set->count--;
  reg->ready_slot = 0;
}

int SocketPoll_emit_ready(SocketPoll_Base *base) {
  SocketPoll_ReadySet *set = &base->ready;
  int n = set->count;
  if (n == 0) return 0;
  int start = set->scan_from < n ? set->scan_from : 0, next_start = 0, reported_once = 0;
  for (int k = 0; k < n; k++) {
    int fd = set->fds[(start + k) % n];
    SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, fd);
    if (SocketPoll_emit(base, fd, reg->events & (POLL_READ | POLL_WRITE)) == NULL) {
      next_start = (start + k) % n; /* buffer full: this one comes first next time */
      break;
    }
    if (reg->events & POLL_MODE_MASK) {
      reg->always_ready = 2; /* edge/oneshot: reported, to be disarmed below */
      reported_once = 1;
    }
  }
  /* Disarm from the top: a swap-remove moves an entry that was already looked at. */
  for (int i = set->count - 1; reported_once && i >= 0; i--) {
    SocketPoll_Registration *reg = SocketPoll_table_get(&base->table, set->fds[i]);
    if (reg->always_ready != 2) continue;
    reg->always_ready = 1;
    SocketPoll_ready_disarm(base, set->fds[i]);
  }
  set->scan_from = next_start;
  return set->count;
}

/* ---- timers and processes ------------------------------------------------------------------ */

/* handle = SOCKETPOLL_HANDLE_MAX - (generation << SLOT_BITS | slot) */
#define SLOT_BITS 20
#define SLOT_LIMIT (1 << SLOT_BITS)
#define GENERATION_LIMIT 1024

static int handle_of(int slot, unsigned generation) {
  return SOCKETPOLL_HANDLE_MAX - (int)((generation << SLOT_BITS) | (unsigned)slot);
}

int SocketPoll_source_new(SocketPoll_Base *base, int kind, void *data, SocketPoll_Source **out) {
  SocketPoll_SourceTable *t = &base->sources;
  if (t->free_head < 0) {
    if (t->capacity >= SLOT_LIMIT) return -ENOMEM;
    int capacity = t->capacity ? t->capacity * 2 : 16;
    if (capacity > SLOT_LIMIT) capacity = SLOT_LIMIT;
    SocketPoll_Source *entries = realloc(t->entries, (size_t)capacity * sizeof(*entries));
    if (entries == NULL) return -ENOMEM;
    memset(entries + t->capacity, 0, (size_t)(capacity - t->capacity) * sizeof(*entries));
    for (int i = capacity - 1; i >= t->capacity; i--) {
      entries[i].next = t->free_head;
      t->free_head = i;
    }
    t->entries = entries;
    t->capacity = capacity;
  }
  int slot = t->free_head;
  SocketPoll_Source *src = &t->entries[slot];
  t->free_head = src->next;
  unsigned generation = (src->generation + 1) % GENERATION_LIMIT;
  memset(src, 0, sizeof(*src));
  src->generation = generation;
  src->handle = handle_of(slot, generation);
  src->kind = kind;
  src->fd = -1;
  src->next = -1;
  src->reg.registered = 1;
  src->reg.events = kind;
  src->reg.data = data;
  src->reg.slot = -1;
  t->count++;
  *out = src;
  return 0;
}

SocketPoll_Source *SocketPoll_source_get(SocketPoll_Base *base, int handle) {
  if (!SOCKETPOLL_IS_HANDLE(handle)) return NULL;
  unsigned v = (unsigned)(SOCKETPOLL_HANDLE_MAX - handle);
  int slot = (int)(v & (SLOT_LIMIT - 1));
  if (slot >= base->sources.capacity) return NULL;
  SocketPoll_Source *src = &base->sources.entries[slot];
  return src->reg.registered && src->handle == handle ? src : NULL;
}

int SocketPoll_source_owns_fd(SocketPoll_Base *base, int fd) {
  for (int i = 0; fd >= 0 && i < base->sources.capacity; i++) {
    SocketPoll_Source *src = &base->sources.entries[i];
    if (src->reg.registered && src->fd == fd) return 1;
  }
  return 0;
}

SocketPoll_Source *SocketPoll_source_find_pid(SocketPoll_Base *base, int pid) {
  for (int i = 0; i < base->sources.capacity; i++) {
    SocketPoll_Source *src = &base->sources.entries[i];
    if (src->reg.registered && !src->spent && src->kind == POLL_EXIT && src->pid == pid) return src;
  }
  return NULL;
}

static int slot_of(SocketPoll_Base *base, SocketPoll_Source *src) {
  return (int)(src - base->sources.entries);
}

static void free_slot(SocketPoll_Base *base, SocketPoll_Source *src) {
  unsigned generation = src->generation;
  memset(src, 0, sizeof(*src));
  src->generation = generation;
  src->fd = -1;
  src->next = base->sources.free_head;
  base->sources.free_head = slot_of(base, src);
  base->sources.count--;
}

void SocketPoll_source_remove(SocketPoll_Base *base, SocketPoll_Source *src) {
  invalidate(base, &src->reg, src->handle);
  if (src->spent) {
    /* On the spent list: unlink it there. */
    int slot = slot_of(base, src);
    for (int *p = &base->sources.spent_head; *p >= 0; p = &base->sources.entries[*p].next) {
      if (*p == slot) {
        *p = src->next;
        break;
      }
    }
  }
  free_slot(base, src);
}

SocketPoll_Source *SocketPoll_emit_source(SocketPoll_Base *base, SocketPoll_Source *src, int events) {
  if (emit(base, &src->reg, src->handle, events) == NULL) return NULL;
  if (!src->repeat && !src->spent) {
    src->spent = 1;
    src->next = base->sources.spent_head;
    base->sources.spent_head = slot_of(base, src);
  }
  return src;
}

/* Spent sources were reported by the previous wait; they are forgotten now. */
static void sweep_spent(SocketPoll_Base *base) {
  int slot = base->sources.spent_head;
  base->sources.spent_head = -1;
  while (slot >= 0) {
    SocketPoll_Source *src = &base->sources.entries[slot];
    slot = src->next;
    free_slot(base, src);
  }
}

void SocketPoll_sources_each(SocketPoll_Base *base, void (*fn)(SocketPoll_Source *, void *), void *arg) {
  for (int i = 0; i < base->sources.capacity; i++) {
    SocketPoll_Source *src = &base->sources.entries[i];
    if (src->reg.registered) fn(src, arg);
  }
}

int SocketPoll_check_timer(int interval_ms, int flags, int *handle) {
  if (handle == NULL || interval_ms < 1 || (flags & ~SOCKETPOLL_TIMER_REPEAT)) return -EINVAL;
  return 0;
}

int SocketPoll_source_new_timer(SocketPoll_Base *base, int interval_ms, int flags, void *data, SocketPoll_Source **out) {
  int rc = SocketPoll_source_new(base, POLL_TIMER, data, out);
  if (rc < 0) return SocketPoll_fail(base, "realloc", rc);
  (*out)->repeat = (flags & SOCKETPOLL_TIMER_REPEAT) != 0;
  (*out)->interval_ms = interval_ms;
  return 0;
}

int SocketPoll_source_new_process(SocketPoll_Base *base, int pid, void *data, SocketPoll_Source **out) {
  /* One watch per pid and poller: kqueue has one knote per pid, and a second would modify it. */
  if (SocketPoll_source_find_pid(base, pid) != NULL) return SocketPoll_fail(base, "SocketPoll_add_process", -EEXIST);
  int rc = SocketPoll_source_new(base, POLL_EXIT, data, out);
  if (rc < 0) return SocketPoll_fail(base, "realloc", rc);
  (*out)->pid = pid;
  return 0;
}

int SocketPoll_pidfd_open(int pid) {
  if (pid <= 0) return -EINVAL; /* 0 and negative pids name process groups elsewhere */
#ifdef __linux__
  long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return -errno;
  /* pidfd_open sets close-on-exec itself (a pidfd is always O_CLOEXEC). */
  return (int)fd;
#else
  return -ENOSYS;
#endif
}

static int have_pidfd;
static pthread_once_t have_pidfd_once = PTHREAD_ONCE_INIT;

static void probe_pidfd(void) {
  int fd = SocketPoll_pidfd_open((int)getpid());
  have_pidfd = fd >= 0;
  if (fd >= 0) close(fd);
}

int SocketPoll_have_pidfd(void) {
  pthread_once(&have_pidfd_once, probe_pidfd);
  return have_pidfd;
}

/* ---- time ---------------------------------------------------------------------------------- */

int64_t SocketPoll_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ms(void) {
  return SocketPoll_now_ns() / 1000000;
}

int64_t SocketPoll_deadline(int timeout_ms) {
  if (timeout_ms < 0) return -1;
  return now_ms() + timeout_ms;
}

int SocketPoll_time_left(int64_t deadline) {
  if (deadline < 0) return -1;
  int64_t left = deadline - now_ms();
  return left > 0 ? (int)left : 0;
}

/* ---- wakeup -------------------------------------------------------------------------------- */

#ifndef __linux__
static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -errno;
  return 0;
}
#endif

int SocketPoll_wakeup_open(SocketPoll_Wakeup *wakeup) {
#ifdef __linux__
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return -errno;
  wakeup->read_fd = wakeup->write_fd = fd;
  return 0;
#else
  int fds[2];
  if (pipe(fds) < 0) return -errno;
  int rc = set_nonblock_cloexec(fds[0]);
  if (rc == 0) rc = set_nonblock_cloexec(fds[1]);
  if (rc < 0) {
    close(fds[0]);
    close(fds[1]);
    return rc;
  }
  wakeup->read_fd = fds[0];
  wakeup->write_fd = fds[1];
  return 0;
#endif
}

void SocketPoll_wakeup_close(SocketPoll_Wakeup *wakeup) {
  if (wakeup->read_fd >= 0) close(wakeup->read_fd);
  if (wakeup->write_fd >= 0 && wakeup->write_fd != wakeup->read_fd) close(wakeup->write_fd);
  wakeup->read_fd = wakeup->write_fd = -1;
}

int SocketPoll_wakeup_signal(SocketPoll_Wakeup *wakeup) {
  int saved = errno; /* async-signal-safe: leave errno as it was */
  int rc = 0;
#ifdef __linux__
  uint64_t one = 1;
  ssize_t n;
  do n = write(wakeup->write_fd, &one, sizeof(one));
  while (n < 0 && errno == EINTR);
#else
  char one = 1;
  ssize_t n;
  do n = write(wakeup->write_fd, &one, 1);
  while (n < 0 && errno == EINTR);
#endif
  /* EAGAIN: the counter or the pipe is already full, so a wakeup is already pending. */
  if (n < 0 && errno != EAGAIN) rc = -errno;
  errno = saved;
  return rc;
}

void SocketPoll_wakeup_drain(SocketPoll_Wakeup *wakeup) {
  char buf[256];
  ssize_t n;
  do n = read(wakeup->read_fd, buf, sizeof(buf));
  while (n > 0 || (n < 0 && errno == EINTR));
}
