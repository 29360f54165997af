/*
 * SocketPoll_backend.h — what the backends share. Internal: not part of the public interface.
 *
 * Each src/poll/SocketPoll_<backend>.c implements all of SocketPoll.h with the same skeleton
 * (lock, check arguments, tell the kernel, update the fd table, unlock) and uses these helpers,
 * which live once in src/poll/SocketPoll_common.c:
 *   - SocketPoll_Base: the first member of every backend's struct SocketPoll (mutex, fd table,
 *     the event buffer SocketPoll_wait returns);
 *   - the fd -> registration table (O(1) get/put/remove, indexed by fd);
 *   - argument checks, so every backend rejects the same mistakes with the same errno;
 *   - the stale-event rule (SocketPoll_invalidate_fd);
 *   - deadlines for retrying EINTR with the time left;
 *   - the wakeup channel (eventfd on Linux, a non-blocking self-pipe elsewhere);
 *   - the interface functions that read nothing but the Base: SocketPoll_count(),
 *     SocketPoll_was_woken(), SocketPoll_get_failed_call() and the getters of what a backend is
 *     (SocketPoll_get_backend_name, _supported_modes, _supported_sources, _fd), whose values each
 *     backend records in its Base when it makes a poller.
 * It lives beside the backends, not in include/: nothing outside src/poll includes it.
 */
#ifndef SOCKETPOLL_BACKEND_H
#define SOCKETPOLL_BACKEND_H

#include <pthread.h>
#include <stdint.h>

#include "poll/SocketPoll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One registered fd. */
typedef struct SocketPoll_Registration {
  void *data;
  int events;     /* interest | mode, as given to add/mod */
  int slot;       /* backend's own use (poll: index into its pollfd array) */
  int state;      /* backend's own use (oneshot: disarmed after delivery) */
  int registered; /* 0: free entry */
  int out_index;  /* where SocketPoll_emit() put this fd in the buffer, if out_batch is current */
  unsigned out_batch;
  int always_ready; /* registered with POLL_UNPOLLABLE_READY after the kernel refused it */
  int ready_slot;   /* 1 + its index in the armed always-ready set; 0: not armed */
  uint64_t file_dev, file_ino; /* the open file's identity at add (SocketPoll_file_identity) */
} SocketPoll_Registration;

/* The armed always-ready fds (POLL_UNPOLLABLE_READY): reported by every wait while armed. */
typedef struct SocketPoll_ReadySet {
  int *fds;
  int count;
  int capacity;
  int scan_from; /* where the next emit starts, so a full buffer is fair to later fds */
} SocketPoll_ReadySet;

/* fd -> registration, a dense array indexed by fd (fds are small integers); grows by doubling. */
typedef struct SocketPoll_FdTable {
  SocketPoll_Registration *entries;
  int capacity;
  int count;
} SocketPoll_FdTable;

/* The registration of fd, or NULL when fd is not registered. */
SocketPoll_Registration *SocketPoll_table_get(SocketPoll_FdTable *table, int fd);
/* Registers fd (replacing a previous entry) and returns it in *out. 0 or -ENOMEM. */
int SocketPoll_table_put(SocketPoll_FdTable *table, int fd, int events, void *data,
                         SocketPoll_Registration **out);
/* Forgets fd. No-op when fd is not registered. */
void SocketPoll_table_remove(SocketPoll_FdTable *table, int fd);

/* A timer or a process watch: a source that is not an fd. The embedded registration holds data,
 * events (POLL_TIMER or POLL_EXIT) and the batch bookkeeping SocketPoll_emit_source() uses. */
typedef struct SocketPoll_Source {
  SocketPoll_Registration reg; /* reg.registered: live; reg.slot / reg.state: the backend's own */
  int handle;                  /* what SocketPoll_add_timer/add_process gave out */
  int kind;                    /* POLL_TIMER or POLL_EXIT */
  int repeat;                  /* timer: SOCKETPOLL_TIMER_REPEAT given */
  int interval_ms;             /* timer */
  int pid;                     /* process */
  int fd;                      /* backend's own: timerfd or pidfd, -1 when none */
  int64_t deadline_ns;         /* backend's own: poll's next expiry (SocketPoll_now_ns clock) */
  int spent;                   /* reported its last event: forgotten by the next begin_batch */
  unsigned generation;         /* of this slot, so a reused slot gets a new handle */
  int next;                    /* free list / spent list link (slot index, -1 = end) */
} SocketPoll_Source;

/* handle -> source, a dense array of slots; grows by doubling, reuses freed slots. */
typedef struct SocketPoll_SourceTable {
  SocketPoll_Source *entries;
  int capacity;
  int count;      /* live sources (spent ones included until swept) */
  int free_head;  /* -1: none */
  int spent_head; /* -1: none */
} SocketPoll_SourceTable;

/* The part of struct SocketPoll every backend shares. Must be the first member. */
typedef struct SocketPoll_Base {
  pthread_mutex_t mutex;
  SocketPoll_FdTable table;
  SocketPoll_SourceTable sources;
  SocketPoll_ReadySet ready;
  SocketEvent_T *out; /* the buffer SocketPoll_wait() hands out, max_events long */
  int out_count;      /* entries of out filled by the last wait (the current dispatch) */
  int max_events;
  unsigned batch;     /* counts waits; tells SocketPoll_emit() which out_index is current */
  int woken;          /* the last wait consumed a wakeup (SocketPoll_was_woken) */
  const char *_Atomic failed_call; /* SocketPoll_get_failed_call() */
  /* What the backend is, for the getters: recorded by SocketPoll_base_init, fd once it exists. */
  const char *backend_name;
  int supported_modes;   /* SOCKETPOLL_SUPPORTS_* */
  int supported_sources; /* SOCKETPOLL_SOURCE_* */
  int fd;                /* SocketPoll_get_fd(): pollable by an event loop, or -1 */
} SocketPoll_Base;

/* 0, -EINVAL (max_events out of range) or -ENOMEM. Records what the backend is; base->fd is -1
 * until the backend sets it. */
int SocketPoll_base_init(SocketPoll_Base *base, int max_events, const char *backend_name,
                         int supported_modes, int supported_sources);
void SocketPoll_base_destroy(SocketPoll_Base *base);

/* fstat()s fd into *dev, *ino: tells a registered file from another that got its fd number
 * after a close without del. 0 or a negative errno (-EBADF: not open). */
int SocketPoll_file_identity(int fd, uint64_t *dev, uint64_t *ino);

/* Records which call failed (SocketPoll_get_failed_call) and returns rc (a negative errno). */
int SocketPoll_fail(SocketPoll_Base *base, const char *call, int rc);

/* The checks add and mod share: fd >= 0 (-EBADF), only known flags and at most one mode
 * (-EINVAL), a mode the backend honours (-ENOTSUP; supported_modes is SOCKETPOLL_SUPPORTS_*). */
int SocketPoll_check_events(int fd, int events, int supported_modes);

/* The stale-event rule: fd's entry in the current dispatch's buffer gets fd = -1. Call it while
 * fd is still in the table (before SocketPoll_table_remove or a replacing SocketPoll_table_put). */
void SocketPoll_invalidate_fd(SocketPoll_Base *base, int fd);

/* Dispatch: SocketPoll_begin_batch() empties the buffer for a new wait; SocketPoll_emit() adds
 * events for fd with the registration's data, or-ing them into fd's entry when the batch already
 * has one (kqueue reports read and write as two kevents), and returns the registration (NULL, and
 * nothing added, for an fd that is not registered: a stale kernel event). Caller holds the mutex.
 * Returns NULL too when the buffer is full and fd has no entry yet. */
void SocketPoll_begin_batch(SocketPoll_Base *base);
SocketPoll_Registration *SocketPoll_emit(SocketPoll_Base *base, int fd, int events);

/* ---- always-ready fds (POLL_UNPOLLABLE_READY) ---- */

/* Arms fd's always-ready registration (add, or a mod that re-arms it). 0 or -ENOMEM. The backend
 * then makes its wait return (its ready signal), since no kernel event will. */
int SocketPoll_ready_arm(SocketPoll_Base *base, int fd);
/* Disarms it (del, or after one report in edge/oneshot mode). */
void SocketPoll_ready_disarm(SocketPoll_Base *base, int fd);
/* Adds every armed always-ready fd to the batch: its READ/WRITE interest, once per wait; an
 * edge or oneshot registration is disarmed by it. Returns how many stay armed (the backend keeps
 * its ready signal raised while that is > 0, so the next wait returns at once too). */
int SocketPoll_emit_ready(SocketPoll_Base *base);

/* ---- timers and processes (see SocketPoll_add_timer in SocketPoll.h) ---- */

/* A new source of kind POLL_TIMER or POLL_EXIT with data; its handle is in (*out)->handle.
 * Caller holds the mutex. 0 or -ENOMEM. */
int SocketPoll_source_new(SocketPoll_Base *base, int kind, void *data, SocketPoll_Source **out);
/* The live source of handle, or NULL (not a handle, freed, or its slot reused since). */
SocketPoll_Source *SocketPoll_source_get(SocketPoll_Base *base, int handle);
/* Whether fd is the kernel object (timerfd, pidfd) of one of the live sources. O(sources). */
int SocketPoll_source_owns_fd(SocketPoll_Base *base, int fd);
/* The live process watch of pid, or NULL. O(sources). */
SocketPoll_Source *SocketPoll_source_find_pid(SocketPoll_Base *base, int pid);
/* Invalidates the source's event in the current dispatch and frees its slot. The backend has
 * released its kernel object first. */
void SocketPoll_source_remove(SocketPoll_Base *base, SocketPoll_Source *src);
/* Adds the source's event to the batch (events or-ed in when it has one already). NULL when the
 * buffer is full. A source that is not repeating becomes spent: the backend releases its kernel
 * object now, and the next SocketPoll_begin_batch() frees its slot. */
SocketPoll_Source *SocketPoll_emit_source(SocketPoll_Base *base, SocketPoll_Source *src, int events);
/* Calls fn on every live source (for SocketPoll_free and the poll backend's timer scan). */
void SocketPoll_sources_each(SocketPoll_Base *base, void (*fn)(SocketPoll_Source *, void *), void *arg);
/* Checks SocketPoll_add_timer's arguments: -EINVAL for interval_ms < 1 or unknown flags. */
int SocketPoll_check_timer(int interval_ms, int flags, int *handle);
/* The source of a SocketPoll_add_timer whose arguments were checked: a new POLL_TIMER source with
 * its interval and repeat flag set. Caller holds the mutex. 0, or -ENOMEM (recorded as the failed
 * call "realloc"). */
int SocketPoll_source_new_timer(SocketPoll_Base *base, int interval_ms, int flags, void *data, SocketPoll_Source **out);
/* The source of a SocketPoll_add_process: a new POLL_EXIT source for pid. Caller holds the mutex.
 * 0, -EEXIST when this poller watches pid already (recorded as "SocketPoll_add_process"), or
 * -ENOMEM ("realloc"). */
int SocketPoll_source_new_process(SocketPoll_Base *base, int pid, void *data, SocketPoll_Source **out);

/* pidfd_open(pid, 0) with close-on-exec (Linux 5.3+): the fd or a negative errno (-ENOSYS where
 * the kernel or the build lacks it, -ESRCH for no such process). */
int SocketPoll_pidfd_open(int pid);
/* Whether SocketPoll_pidfd_open works on this kernel (probed once). */
int SocketPoll_have_pidfd(void);

/* The monotonic clock in nanoseconds (what timers and deadlines use). */
int64_t SocketPoll_now_ns(void);

/* Deadlines for retrying EINTR: SocketPoll_deadline(timeout_ms) is the absolute time (ms on the
 * monotonic clock) a wait must end by (-1: none); SocketPoll_time_left() gives the timeout to pass
 * to the kernel now (-1 forever, 0 when the deadline has passed). */
int64_t SocketPoll_deadline(int timeout_ms);
int SocketPoll_time_left(int64_t deadline);

/* Wakeup channel. With eventfd read_fd == write_fd. */
typedef struct SocketPoll_Wakeup {
  int read_fd;
  int write_fd;
} SocketPoll_Wakeup;

/* 0 or a negative errno. Both ends are non-blocking and close-on-exec. */
int SocketPoll_wakeup_open(SocketPoll_Wakeup *wakeup);
void SocketPoll_wakeup_close(SocketPoll_Wakeup *wakeup);
/* Makes read_fd readable; repeated signals coalesce (a full pipe or a counter already set is
 * success). Async-signal-safe. 0 or a negative errno. */
int SocketPoll_wakeup_signal(SocketPoll_Wakeup *wakeup);
/* Empties read_fd so it is no longer readable. */
void SocketPoll_wakeup_drain(SocketPoll_Wakeup *wakeup);

#ifdef __cplusplus
}
#endif

#endif /* SOCKETPOLL_BACKEND_H */
