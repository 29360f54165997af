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
 * registration is then disarmed until SocketPoll_mod() or SocketPoll_del(). */
#define POLL_INVALID  0x40

#define POLL_EVENT_MASK (POLL_READ | POLL_WRITE | POLL_ERROR | POLL_HANGUP | POLL_PRIORITY | POLL_RDHUP)

/* Registration modes, or-ed into the events of add/mod. Level-triggered is the default (0). */
#define POLL_EDGE    0x100 /* report a condition once per change (EPOLLET, EV_CLEAR) */
#define POLL_ONESHOT 0x200 /* report once, then disarm until SocketPoll_mod() re-arms it */

#define POLL_MODE_MASK (POLL_EDGE | POLL_ONESHOT)

/* What SocketPoll_get_supported_modes() returns: one bit per mode this backend honours. */
#define SOCKETPOLL_SUPPORTS_LEVEL   0x1
#define SOCKETPOLL_SUPPORTS_EDGE    0x2
#define SOCKETPOLL_SUPPORTS_ONESHOT 0x4

/* Largest max_events accepted by SocketPoll_new(). */
#define SOCKETPOLL_MAX_EVENTS_LIMIT (1 << 20)

typedef struct SocketPoll *SocketPoll_T;

typedef struct SocketEvent {
  int fd;     /* -1: invalidated by SocketPoll_del() during this dispatch; skip it */
  int events; /* POLL_READ | POLL_WRITE | ... */
  void *data; /* what was given to add/mod for this fd */
} SocketEvent_T;

/* A poller whose wait returns at most max_events (1 .. SOCKETPOLL_MAX_EVENTS_LIMIT) events per call.
 * NULL with errno set on failure (EINVAL, ENOMEM, EMFILE, ...). */
SocketPoll_T SocketPoll_new(int max_events);

/* Closes the kernel objects, frees everything and sets *poll to NULL. NULL or *NULL is a no-op. */
void SocketPoll_free(SocketPoll_T *poll);

/* Registers fd. events: interest flags | at most one mode flag.
 * -EEXIST already registered, -EBADF not an open fd, -EPERM fd does not support polling (a
 * regular file on epoll), -EINVAL unknown flags or both modes, -ENOTSUP a mode the backend
 * cannot honour (see SocketPoll_get_supported_modes). */
int SocketPoll_add(SocketPoll_T poll, int fd, int events, void *data);

/* Replaces the interest, mode and data of a registered fd; re-arms a oneshot registration.
 * -ENOENT when fd is not registered. */
int SocketPoll_mod(SocketPoll_T poll, int fd, int events, void *data);

/* Unregisters fd. -ENOENT when fd is not registered. Events for fd still in the buffer returned
 * by the last SocketPoll_wait() are invalidated (their fd becomes -1), so a dispatch loop never
 * sees an fd after deleting it. Delete before close(): a closed fd cannot be unregistered from
 * some kernels (epoll forgets it by itself once every duplicate is closed). */
int SocketPoll_del(SocketPoll_T poll, int fd);

/* Waits up to timeout_ms (-1: forever, 0: don't block) and points *events at an internal buffer of
 * the ready fds, valid until the next wait or free. Returns the count (0 on timeout or wakeup) or a
 * negative errno. EINTR is retried with the time left. A full buffer means "call again": events
 * that did not fit are returned by the next call, never lost. Each fd appears at most once. */
int SocketPoll_wait(SocketPoll_T poll, SocketEvent_T **events, int timeout_ms);

/* Makes a blocked SocketPoll_wait() return, or the next one if none is blocked. Wakeups before the
 * wait that consumes them coalesce into one. Safe from any thread and from signal handlers. */
int SocketPoll_wakeup(SocketPoll_T poll);

/* "epoll", "kqueue" or "poll". */
const char *SocketPoll_get_backend_name(SocketPoll_T poll);

/* SOCKETPOLL_SUPPORTS_* bits of the modes this backend honours. */
int SocketPoll_get_supported_modes(SocketPoll_T poll);

/* A file descriptor that becomes readable when SocketPoll_wait(poll, .., 0) has something to
 * return (the epoll or kqueue fd itself), for an event loop to watch; -1 when the backend has none
 * (poll), in which case an event loop runs SocketPoll_wait() on a helper thread. */
int SocketPoll_get_fd(SocketPoll_T poll);

/* The number of registered fds. */
int SocketPoll_count(SocketPoll_T poll);

#ifdef __cplusplus
}
#endif

#endif /* SOCKETPOLL_H */
