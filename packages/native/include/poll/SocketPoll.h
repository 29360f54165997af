/*
 * SocketPoll.h — readiness notification on any file descriptor.
 *
 * One interface, three kernel mechanisms: epoll (Linux), kqueue (macOS/BSD) and poll (any POSIX
 * system). The build picks exactly one backend file (src/poll/SocketPoll_<backend>.c); there is no
 * runtime switch inside the C code.
 *
 * Conventions
 *  - Every function that can fail returns a negative errno (-EEXIST, -ENOENT, -EBADF, ...) and
 *    never prints, aborts or raises. SocketPoll_new() returns NULL and sets errno.
 *    SocketPoll_get_failed_call() then names the call that failed.
 *  - Thread safety: add/mod/del/wakeup may be called from any thread, also while another thread
 *    is blocked in SocketPoll_wait(). Only one thread may be in SocketPoll_wait() at a time.
 *    SocketPoll_free() must not race with any other call.
 */
#ifndef SOCKETPOLL_H
#define SOCKETPOLL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Interest and readiness flags, the same on every backend. */
#define POLL_READ     0x01 /* data to read (or a peer close to read as EOF) */
#define POLL_WRITE    0x02 /* room to write */
#define POLL_ERROR    0x04 /* error condition; always reported, need not be asked for */
#define POLL_HANGUP   0x08 /* hang-up (both directions); always reported */
#define POLL_PRIORITY 0x10 /* urgent/priority data (EPOLLPRI: sysfs GPIO edges, TCP OOB) */
#define POLL_RDHUP    0x20 /* peer shut down its writing half (EPOLLRDHUP) */
/* Reported only, never asked for, and only by the poll backend (epoll and kqueue forget a closed fd
 * by themselves): the fd was closed while registered (POLLNVAL). Comes with POLL_ERROR, once; the
 * registration is then disarmed until SocketPoll_del() (SocketPoll_mod() is -ENOENT: the file is gone). */
#define POLL_INVALID  0x40

#define POLL_EVENT_MASK (POLL_READ | POLL_WRITE | POLL_ERROR | POLL_HANGUP | POLL_PRIORITY | POLL_RDHUP)

/* Reported only, for sources that are not fds (see "Timers and processes" below). */
#define POLL_TIMER 0x1000 /* a timer of SocketPoll_add_timer() expired (once or more: see there) */
#define POLL_EXIT  0x2000 /* the process of SocketPoll_add_process() exited */

/* Registration modes, or-ed into the events of add/mod. Level-triggered is the default (0). */
#define POLL_EDGE    0x100 /* report a condition once per change (EPOLLET, EV_CLEAR) */
#define POLL_ONESHOT 0x200 /* report once, then disarm until SocketPoll_mod() re-arms it */

#define POLL_MODE_MASK (POLL_EDGE | POLL_ONESHOT)

/* Registration option, or-ed into the events of add/mod: an fd the kernel refuses to poll because
 * it is always ready (epoll's EPERM for regular files, directories, /dev/null) is registered anyway
 * and reported ready for its interest (POLL_READ / POLL_WRITE) by every wait, as poll(2) reports
 * it: level = every wait, oneshot = once until mod, edge = once per add/mod. Such an fd never makes
 * a wait block, and is never reported twice by one wait. */
#define POLL_UNPOLLABLE_READY 0x400

/* Hang-ups and errors wake the reader and the writer: when a wait reports POLL_HANGUP or POLL_ERROR
 * for an fd registered for POLL_READ and/or POLL_WRITE, those bits are reported with it, so a
 * handler that tests only for POLL_READ reads, and sees the end of file or the error (as libuv,
 * Python's selectors and tokio report them). Not with POLL_INVALID. Registration option, or-ed into the events of add/mod:
 * report the kernel's own bits only, without that rule (a hang-up without data is then POLL_HANGUP
 * alone on epoll and poll). */
#define POLL_EXACT_EVENTS 0x800

#define POLL_OPTION_MASK (POLL_UNPOLLABLE_READY | POLL_EXACT_EVENTS)

/* What SocketPoll_get_supported_modes() returns: one bit per mode this backend honours. */
#define SOCKETPOLL_SUPPORTS_LEVEL   0x1
#define SOCKETPOLL_SUPPORTS_EDGE    0x2
#define SOCKETPOLL_SUPPORTS_ONESHOT 0x4

/* What SocketPoll_get_supported_sources() returns: one bit per kind of source this poller can
 * watch. */
#define SOCKETPOLL_SOURCE_FD      0x1
#define SOCKETPOLL_SOURCE_TIMER   0x2
#define SOCKETPOLL_SOURCE_PROCESS 0x4

/* SocketPoll_add_timer() flags. */
#define SOCKETPOLL_TIMER_REPEAT 0x1 /* fire every interval until deleted (else once) */

/* Largest max_events accepted by SocketPoll_new(). */
#define SOCKETPOLL_MAX_EVENTS_LIMIT (1 << 20)

typedef struct SocketPoll *SocketPoll_T;

typedef struct SocketEvent {
  int fd;     /* >= 0: an fd; -1: invalidated by SocketPoll_del() during this dispatch, skip it;
               * <= SOCKETPOLL_HANDLE_MAX: the handle of a timer or process (events has POLL_TIMER
               * or POLL_EXIT) */
  int events; /* POLL_READ | POLL_WRITE | ... */
  void *data; /* what was given to add/mod (or add_timer/add_process) for this fd or handle */
} SocketEvent_T;

/* Handles of timers and processes are at most this (far below -1 and below every negative errno),
 * so neither an fd nor the -1 of an invalidated event can be mistaken for one. */
#define SOCKETPOLL_HANDLE_MAX (-(1 << 20))
#define SOCKETPOLL_IS_HANDLE(fd) ((fd) <= SOCKETPOLL_HANDLE_MAX)

/* A poller whose wait returns at most max_events (1 .. SOCKETPOLL_MAX_EVENTS_LIMIT) events per call.
 * NULL with errno set on failure (EINVAL, ENOMEM, EMFILE, ...). */
SocketPoll_T SocketPoll_new(int max_events);

/* Closes the kernel objects, frees everything and sets *poll to NULL. NULL or *NULL is a no-op. */
void SocketPoll_free(SocketPoll_T *poll);

/* Registers fd. events: interest flags | at most one mode flag.
 * -EEXIST already registered, -EBADF not an open fd, -EPERM fd does not support polling (a
 * regular file on epoll), -EINVAL unknown flags or both modes, or fd is one of the poller's own
 * fds (its epoll/kqueue fd, its wakeup channel), -ENOTSUP a mode the backend cannot honour (see
 * SocketPoll_get_supported_modes).
 * An fd number whose registration is dead (the fd was closed without SocketPoll_del() and the
 * number now names another file) can be added again on every backend; the old registration is
 * replaced and nothing of it is reported again. */
int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data);

/* Replaces the interest, mode and data of a registered fd; re-arms a oneshot registration.
 * -ENOENT when fd is not registered, or when the registered fd was closed (epoll, kqueue: also
 * when its number now names another file; the dead registration is forgotten). */
int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data);

/* Unregisters fd, or cancels the timer or process watch whose handle fd is. -ENOENT when fd is not
 * registered (a handle: not live; a one-shot source is forgotten by the wait after the one that
 * reported it). Events for fd still in the buffer returned
 * by the last SocketPoll_wait() are invalidated (their fd becomes -1), so a dispatch loop never
 * sees an fd after deleting it. Delete before close(): a closed fd cannot be unregistered from
 * some kernels (epoll forgets it by itself once every duplicate is closed). */
int SocketPoll_del(SocketPoll_T poll, int fd);

/* Timers and processes: sources that are not fds, reported in the same batches. Each call stores
 * a handle (<= SOCKETPOLL_HANDLE_MAX) in *handle; events of the source carry it as their fd, and
 * SocketPoll_del(poll, handle) cancels it, with the same stale-event rule as for fds. Both return 0
 * or a negative errno (-EINVAL bad arguments, -ENOMEM, -EMFILE, ...).
 *
 * SocketPoll_add_timer: fires after interval_ms (1 .. INT_MAX), and with SOCKETPOLL_TIMER_REPEAT
 * every interval_ms after that, with POLL_TIMER. Expiries a wait has not collected yet coalesce
 * into one event (a late or busy caller gets one POLL_TIMER, not a burst); the next expiry stays
 * on the original schedule (start + k * interval), it does not drift. A one-shot timer is
 * forgotten after its event: SocketPoll_del of its handle is 0 during that dispatch (the event is
 * invalidated) and -ENOENT after the next wait. Timers run on CLOCK_MONOTONIC.
 *
 * SocketPoll_add_process: reports POLL_EXIT once when process pid exits, whether or not it is a
 * child of this process (it is not reaped). -ESRCH: no such process (already gone). -EEXIST: pid
 * is watched by this poller already. -ENOSYS: the kernel lacks pidfd_open (Linux < 5.3). -ENOTSUP:
 * this backend cannot watch processes here (SocketPoll_get_supported_sources lacks
 * SOCKETPOLL_SOURCE_PROCESS). Forgotten after its event, like a one-shot timer. */
int SocketPoll_add_timer(SocketPoll_T poll, int interval_ms, int flags, void *data, int *handle);
int SocketPoll_add_process(SocketPoll_T poll, int pid, void *data, int *handle);

/* Waits up to timeout_ms (-1: forever, 0: don't block) and points *events at an internal buffer of
 * the ready fds, valid until the next wait or free. Returns the count (0 on timeout or wakeup) or a
 * negative errno. EINTR is retried with the time left. A full buffer means "call again": events
 * that did not fit are returned by the next call, never lost. Each fd appears at most once. */
int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms);

/* Makes a blocked SocketPoll_wait() return, or the next one if none is blocked. Wakeups before the
 * wait that consumes them coalesce into one. Safe from any thread and from signal handlers. */
int SocketPoll_wakeup(SocketPoll_T poll);

/* 1 when the last SocketPoll_wait() consumed a SocketPoll_wakeup(), else 0. Tells a wakeup from
 * "nothing to report" when a wait with timeout 0 returns 0 (an event loop that waits after the
 * poller's fd became readable for events the backend then filtered out). Call it from the thread
 * that waits. */
int SocketPoll_was_woken(SocketPoll_T poll);

/* The call behind the last negative return of add/mod/del/wait/wakeup on this poller: a system
 * call ("epoll_ctl", "kevent", "fstat", "fcntl", "poll", "write", "realloc"...) or, when the
 * poller itself refused the call without asking the kernel (EEXIST or ENOENT from its fd table,
 * bad flags, one of its own fds), the function's own name ("SocketPoll_add"...). Never NULL. */
const char *SocketPoll_get_failed_call(SocketPoll_T poll);

/* "epoll", "kqueue" or "poll". */
const char *SocketPoll_get_backend_name(SocketPoll_T poll);

/* SOCKETPOLL_SUPPORTS_* bits of the modes this backend honours. */
int SocketPoll_get_supported_modes(SocketPoll_T poll);

/* SOCKETPOLL_SOURCE_* bits of what this poller can watch. */
int SocketPoll_get_supported_sources(SocketPoll_T poll);

/* A file descriptor that becomes readable when SocketPoll_wait(poll, .., 0) has something to
 * return (the epoll or kqueue fd itself), for an event loop to watch; -1 when the backend has none
 * (poll), in which case an event loop runs SocketPoll_wait() on a helper thread. */
int SocketPoll_get_fd(SocketPoll_T poll);

/* The number of registered fds (timers and processes not included). */
int SocketPoll_count(SocketPoll_T poll);

#ifdef __cplusplus
}
#endif

#endif /* SOCKETPOLL_H */
