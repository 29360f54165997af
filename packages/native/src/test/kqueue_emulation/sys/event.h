/*
 * sys/event.h — TEST-ONLY kqueue emulation for Linux (see ../kqueue_emulation.c). Never shipped.
 *
 * The declarations of macOS's <sys/event.h> that the kqueue backend uses, with macOS's values
 * (the backend ships for macOS). FreeBSD differs only in EVFILT_USER (-11) and EVFILT_EXCEPT
 * (-13) and in struct kevent having an ext[4] array and a 64-bit data field; the flag values are
 * the same on both.
 */
#ifndef SOCKETPOLL_KQUEUE_EMULATION_SYS_EVENT_H
#define SOCKETPOLL_KQUEUE_EMULATION_SYS_EVENT_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOCKETPOLL_KQUEUE_EMULATION 1

struct kevent {
  uintptr_t ident; /* identifier for this event (an fd for READ/WRITE/EXCEPT) */
  int16_t filter;  /* EVFILT_* */
  uint16_t flags;  /* EV_* */
  uint32_t fflags; /* filter flags (NOTE_*) */
  intptr_t data;   /* filter data */
  void *udata;     /* opaque user data, returned as given */
};

#define EV_SET(kevp, a, b, c, d, e, f) \
  do {                                 \
    struct kevent *kev_ = (kevp);      \
    kev_->ident = (a);                 \
    kev_->filter = (b);                \
    kev_->flags = (c);                 \
    kev_->fflags = (d);                \
    kev_->data = (e);                  \
    kev_->udata = (f);                 \
  } while (0)

/* Filters */
#define EVFILT_READ   (-1)
#define EVFILT_WRITE  (-2)
#define EVFILT_PROC   (-5)
#define EVFILT_TIMER  (-7)
#define EVFILT_USER   (-10)
#define EVFILT_EXCEPT (-15)

/* Actions */
#define EV_ADD     0x0001 /* add event to kq (implies enable) */
#define EV_DELETE  0x0002 /* delete event from kq */
#define EV_ENABLE  0x0004 /* enable event */
#define EV_DISABLE 0x0008 /* disable event (not reported) */

/* Flags */
#define EV_ONESHOT  0x0010 /* only report one occurrence, then delete */
#define EV_CLEAR    0x0020 /* clear event state after reporting */
#define EV_RECEIPT  0x0040 /* force an EV_ERROR entry per change, data 0 on success */
#define EV_DISPATCH 0x0080 /* disable event after reporting */

/* Returned values */
#define EV_EOF   0x8000 /* EOF detected */
#define EV_ERROR 0x4000 /* error, data contains errno */

/* EVFILT_USER */
#define NOTE_FFNOP      0x00000000
#define NOTE_FFAND      0x40000000
#define NOTE_FFOR       0x80000000
#define NOTE_FFCOPY     0xc0000000
#define NOTE_FFCTRLMASK 0xc0000000
#define NOTE_FFLAGSMASK 0x00ffffff
#define NOTE_TRIGGER    0x01000000

/* EVFILT_READ / EVFILT_WRITE */
#define NOTE_LOWAT 0x00000001

/* EVFILT_EXCEPT */
#define NOTE_OOB 0x00000002

/* EVFILT_PROC */
#define NOTE_EXIT 0x80000000

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
           int nevents, const struct timespec *timeout);

/* Closing a kqueue releases it in the kernel; the emulation can only learn of it by being told.
 * In every file that includes this header, close() goes through kqueue_emulation_close(), which
 * frees the emulation's state (and its private fds) when fd is an emulated kqueue, then closes fd. */
int kqueue_emulation_close(int fd);
#ifndef SOCKETPOLL_KQUEUE_EMULATION_IMPLEMENTATION
#define close(fd) kqueue_emulation_close(fd)
#endif

#ifdef __cplusplus
}
#endif

#endif /* SOCKETPOLL_KQUEUE_EMULATION_SYS_EVENT_H */
