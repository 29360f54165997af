/*
 * test_poll_backend.c — what only the poll backend has to prove (the shared suite, test_interface.c,
 * runs against it too): add/mod/del while another thread is blocked in wait take effect at once
 * without making the wait return early; POLLNVAL is reported once; swap-remove keeps the dense
 * array right under random add/mod/del; oneshot disarms (also against hang-ups) and a full buffer
 * neither loses nor starves anyone. Real kernel fds only.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "poll/SocketPoll.h"
#include "test_harness.h"

/* Events for fd in one wait, or 0 when the wait returned none for it. */
/* ---- interrupt and resume ------------------------------------------------------------------- */

struct script {
  SocketPoll_T p;
  int fd;     /* the fd to add/mod/del */
  int writer; /* its peer */
  int op;     /* 'a' add, 'm' mod to POLL_WRITE, 'd' del then write */
  int64_t changed_at, written_at;
};

static void *run_script(void *arg) {
  struct script *s = arg;
  sleep_ms(50);
  s->changed_at = now_ms();
  if (s->op == 'a') {
    SocketPoll_add(s->p, s->fd, POLL_READ, s); /* nothing to read yet */
    sleep_ms(150);
    s->written_at = now_ms();
    put(s->writer, "x");
  } else if (s->op == 'm') {
    SocketPoll_mod(s->p, s->fd, POLL_WRITE, s); /* writable at once */
  } else {
    SocketPoll_del(s->p, s->fd);
    sleep_ms(20);
    put(s->writer, "x"); /* readable, but no longer registered */
  }
  return NULL;
}

static int test_add_while_blocked_resumes_without_returning(void) {
  /* The add interrupts poll() to take the new fd, but the caller sees nothing until the fd is
   * actually readable 150 ms later. */
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  struct script s = {p, sv[0], sv[1], 'a', 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, run_script, &s);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  int n = SocketPoll_wait(p, &ev, -1);
  int64_t returned_at = now_ms();
  pthread_join(t, NULL);
  CHECK_EQ(n, 1);
  CHECK_EQ(ev[0].fd, sv[0]);
  CHECK(ev[0].events & POLL_READ);
  CHECK(ev[0].data == &s);
  CHECK(returned_at >= s.written_at); /* not returned at the add */
  CHECK(returned_at - t0 < 3000);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_mod_while_blocked_takes_effect_at_once(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  struct script s = {p, sv[0], sv[1], 'm', 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, run_script, &s);
  void *data = NULL;
  int64_t t0 = now_ms();
  int ev = wait_for(p, sv[0], 5000, &data);
  int64_t took = now_ms() - t0;
  pthread_join(t, NULL);
  CHECK(ev & POLL_WRITE);
  CHECK(data == &s);
  CHECK(took < 2000); /* not the 5 s timeout */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_del_while_blocked_is_not_reported(void) {
  /* The fd becomes readable after it was deleted: the wait runs to its timeout and returns 0. */
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, NULL), 0);
  struct script s = {p, sv[0], sv[1], 'd', 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, run_script, &s);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  int n = SocketPoll_wait(p, &ev, 300);
  int64_t took = now_ms() - t0;
  pthread_join(t, NULL);
  CHECK_EQ(n, 0);
  CHECK(took >= 299);
  CHECK(took < 1500);
  CHECK_EQ(SocketPoll_count(p), 0);
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

struct churn {
  SocketPoll_T p;
  atomic_int stop;
  int changes;
};

static void *churn_registrations(void *arg) {
  struct churn *c = arg;
  int sv[2];
  make_socketpair(sv);
  while (!c->stop) {
    SocketPoll_add(c->p, sv[0], POLL_READ, NULL);
    SocketPoll_mod(c->p, sv[0], POLL_READ | POLL_ONESHOT, NULL);
    SocketPoll_del(c->p, sv[0]);
    c->changes += 3;
    sleep_ms(5);
  }
  close(sv[0]);
  close(sv[1]);
  return NULL;
}

static int test_timeout_survives_a_storm_of_changes(void) {
  /* Dozens of interrupts: the wait neither returns early nor restarts its full timeout. */
  SocketPoll_T p = SocketPoll_new(16);
  struct churn c = {p, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, churn_registrations, &c);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  int n = SocketPoll_wait(p, &ev, 300);
  int64_t took = now_ms() - t0;
  c.stop = 1;
  pthread_join(t, NULL);
  CHECK_EQ(n, 0);
  CHECK(took >= 299);
  CHECK(took < 1500);
  CHECK(c.changes >= 30);
  SocketPoll_free(&p);
  return 0;
}

static void *churn_then_wake(void *arg) {
  struct churn *c = arg;
  int sv[2];
  make_socketpair(sv);
  for (int i = 0; i < 20; i++) {
    SocketPoll_add(c->p, sv[0], POLL_READ, NULL);
    SocketPoll_del(c->p, sv[0]);
    sleep_ms(2);
  }
  SocketPoll_wakeup(c->p);
  close(sv[0]);
  close(sv[1]);
  return NULL;
}

static int test_user_wakeup_returns_amid_changes(void) {
  SocketPoll_T p = SocketPoll_new(16);
  struct churn c = {p, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, churn_then_wake, &c);
  SocketEvent_T *ev;
  int64_t t0 = now_ms();
  int n = SocketPoll_wait(p, &ev, 5000);
  int64_t took = now_ms() - t0;
  pthread_join(t, NULL);
  CHECK_EQ(n, 0);
  CHECK(took < 2500);
  /* The wakeup was consumed: the next wait times out. */
  t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &ev, 50), 0);
  CHECK(now_ms() - t0 >= 49);
  SocketPoll_free(&p);
  return 0;
}

/* ---- POLLNVAL ------------------------------------------------------------------------------- */

static int test_pollnval_is_reported_once(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int tag = 7;
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &tag), 0);
  int fd = sv[0];
  close(fd); /* without del */
  void *data = NULL;
  int ev = wait_for(p, fd, 1000, &data);
  CHECK_EQ(ev, POLL_ERROR | POLL_INVALID);
  CHECK(data == &tag);
  CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF); /* the documented way without POLL_INVALID */
  /* Disarmed: not reported again, and the wait sleeps its full timeout rather than spinning. */
  SocketEvent_T *evs;
  int64_t t0 = now_ms();
  CHECK_EQ(SocketPoll_wait(p, &evs, 100), 0);
  CHECK(now_ms() - t0 >= 99);
  CHECK_EQ(SocketPoll_count(p), 1); /* still registered until del */
  /* del forgets it. */
  CHECK_EQ(SocketPoll_del(p, fd), 0);
  CHECK_EQ(SocketPoll_count(p), 0);
  /* Again, closed: mod is ENOENT and forgets the dead registration, as on epoll and kqueue. */
  close(sv[1]);
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ, &tag), 0);
  fd = sv[0];
  close(fd);
  CHECK_EQ(SocketPoll_mod(p, fd, POLL_READ, &tag), -ENOENT);
  CHECK_EQ(SocketPoll_count(p), 0);
  CHECK_EQ(wait_for(p, fd, 50, NULL), 0);
  SocketPoll_free(&p);
  close(sv[1]);
  return 0;
}

static int test_pollnval_then_reused_number_can_be_added(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int num = sv[0];
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, NULL), 0);
  close(sv[0]);
  close(sv[1]);
  CHECK_EQ(wait_for(p, num, 1000, NULL), POLL_ERROR | POLL_INVALID);
  make_socketpair(sv);
  CHECK_EQ(sv[0], num);
  int tag = 3;
  /* The old registration is known to be dead: the new file may take the number, as on epoll. */
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, &tag), 0);
  CHECK_EQ(SocketPoll_count(p), 1);
  CHECK_EQ(wait_for(p, num, 50, NULL), 0);
  put(sv[1], "x");
  void *data = NULL;
  CHECK_EQ(wait_for(p, num, 1000, &data), POLL_READ);
  CHECK(data == &tag);
  CHECK_EQ(SocketPoll_add(p, num, POLL_READ, NULL), -EEXIST); /* alive again: a real double add */
  SocketPoll_free(&p);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

static int test_closed_fd_is_refused_at_add(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  int fd = sv[0];
  close(fd);
  CHECK_EQ(SocketPoll_add(p, fd, POLL_READ, NULL), -EBADF);
  CHECK_EQ(SocketPoll_count(p), 0);
  CHECK_EQ(SocketPoll_get_fd(p), -1);
  CHECK_EQ(SocketPoll_add(p, sv[1], POLL_READ | POLL_EDGE, NULL), -ENOTSUP);
  SocketPoll_free(&p);
  close(sv[1]);
  return 0;
}

/* ---- swap-remove ---------------------------------------------------------------------------- */

static int test_random_add_mod_del_matches_a_model(void) {
  /* A model of what is registered (interest, data) and what is readable; after every step, a
   * non-blocking wait must report exactly the registered, read-interested, readable fds. */
  enum { PAIRS = 64, STEPS = 3000 };
  SocketPoll_T p = SocketPoll_new(PAIRS);
  int sv[PAIRS][2];
  int registered[PAIRS] = {0}, interest[PAIRS] = {0}, readable[PAIRS] = {0};
  intptr_t tag[PAIRS] = {0};
  for (int i = 0; i < PAIRS; i++) make_socketpair(sv[i]);
  unsigned seed = 12345;
  for (int step = 0; step < STEPS; step++) {
    int i = (int)(rand_r(&seed) % PAIRS);
    int what = (int)(rand_r(&seed) % 5);
    intptr_t t = (intptr_t)rand_r(&seed) + 1;
    int in = (rand_r(&seed) % 2) ? POLL_READ : POLL_PRIORITY; /* PRIORITY: never raised here */
    if (what == 0) {
      int rc = SocketPoll_add(p, sv[i][0], in, (void *)t);
      CHECK_EQ(rc, registered[i] ? -EEXIST : 0);
      if (!registered[i]) registered[i] = 1, interest[i] = in, tag[i] = t;
    } else if (what == 1) {
      int rc = SocketPoll_mod(p, sv[i][0], in, (void *)t);
      CHECK_EQ(rc, registered[i] ? 0 : -ENOENT);
      if (registered[i]) interest[i] = in, tag[i] = t;
    } else if (what == 2) {
      CHECK_EQ(SocketPoll_del(p, sv[i][0]), registered[i] ? 0 : -ENOENT);
      registered[i] = 0;
    } else if (what == 3) {
      if (!readable[i]) put(sv[i][1], "x");
      readable[i] = 1;
    } else {
      drain(sv[i][0]);
      readable[i] = 0;
    }
    int expect = 0, regs = 0;
    for (int k = 0; k < PAIRS; k++) {
      regs += registered[k];
      expect += registered[k] && interest[k] == POLL_READ && readable[k];
    }
    CHECK_EQ(SocketPoll_count(p), regs);
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 0);
    CHECK_EQ(n, expect);
    for (int e = 0; e < n; e++) {
      int k;
      for (k = 0; k < PAIRS && sv[k][0] != ev[e].fd; k++) {
      }
      CHECK(k < PAIRS);
      CHECK(registered[k] && interest[k] == POLL_READ && readable[k]);
      CHECK_EQ(ev[e].events, POLL_READ);
      CHECK((intptr_t)ev[e].data == tag[k]);
    }
  }
  for (int i = 0; i < PAIRS; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
  SocketPoll_free(&p);
  return 0;
}

/* ---- oneshot and full buffers --------------------------------------------------------------- */

static int test_oneshot_disarms_hangups_too(void) {
  SocketPoll_T p = SocketPoll_new(16);
  int sv[2];
  make_socketpair(sv);
  CHECK_EQ(SocketPoll_add(p, sv[0], POLL_READ | POLL_ONESHOT, NULL), 0);
  put(sv[1], "x");
  CHECK_EQ(wait_for(p, sv[0], 1000, NULL), POLL_READ);
  close(sv[1]); /* a hang-up while disarmed: not reported */
  CHECK_EQ(wait_for(p, sv[0], 50, NULL), 0);
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ | POLL_ONESHOT, NULL), 0);
  int ev = wait_for(p, sv[0], 1000, NULL);
  CHECK(ev & POLL_READ);
  CHECK(ev & POLL_HANGUP);
  CHECK_EQ(wait_for(p, sv[0], 50, NULL), 0);
  /* mod to level: reported on every wait again. */
  CHECK_EQ(SocketPoll_mod(p, sv[0], POLL_READ, NULL), 0);
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ);
  CHECK(wait_for(p, sv[0], 1000, NULL) & POLL_READ);
  SocketPoll_free(&p);
  close(sv[0]);
  return 0;
}

static int test_oneshot_with_a_full_buffer_delivers_each_once(void) {
  enum { PAIRS = 10, MAX = 4 };
  SocketPoll_T p = SocketPoll_new(MAX);
  int sv[PAIRS][2], seen[PAIRS] = {0};
  for (int i = 0; i < PAIRS; i++) {
    make_socketpair(sv[i]);
    CHECK_EQ(SocketPoll_add(p, sv[i][0], POLL_READ | POLL_ONESHOT, (void *)(intptr_t)i), 0);
    put(sv[i][1], "x");
  }
  int total = 0;
  for (int round = 0; round < 3; round++) {
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 1000);
    CHECK(n > 0 && n <= MAX);
    for (int e = 0; e < n; e++) {
      int idx = (int)(intptr_t)ev[e].data;
      CHECK_EQ(seen[idx], 0);
      seen[idx] = 1;
      total++;
    }
  }
  CHECK_EQ(total, PAIRS); /* 4 + 4 + 2, nobody twice although nothing was drained */
  SocketEvent_T *ev;
  CHECK_EQ(SocketPoll_wait(p, &ev, 50), 0);
  for (int i = 0; i < PAIRS; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
  SocketPoll_free(&p);
  return 0;
}

static int test_full_buffer_is_fair_in_level_mode(void) {
  /* Nobody drains: still every ready fd is reported within ceil(10 / 4) waits. */
  enum { PAIRS = 10, MAX = 4 };
  SocketPoll_T p = SocketPoll_new(MAX);
  int sv[PAIRS][2], seen[PAIRS] = {0};
  for (int i = 0; i < PAIRS; i++) {
    make_socketpair(sv[i]);
    CHECK_EQ(SocketPoll_add(p, sv[i][0], POLL_READ, (void *)(intptr_t)i), 0);
    put(sv[i][1], "x");
  }
  for (int round = 0; round < 3; round++) {
    SocketEvent_T *ev;
    int n = SocketPoll_wait(p, &ev, 1000);
    CHECK(n > 0 && n <= MAX);
    for (int e = 0; e < n; e++) seen[(intptr_t)ev[e].data]++;
  }
  for (int i = 0; i < PAIRS; i++) CHECK(seen[i] >= 1);
  for (int i = 0; i < PAIRS; i++) {
    close(sv[i][0]);
    close(sv[i][1]);
  }
  SocketPoll_free(&p);
  return 0;
}

int main(void) {
  run("add while blocked resumes without returning", test_add_while_blocked_resumes_without_returning);
  run("mod while blocked takes effect at once", test_mod_while_blocked_takes_effect_at_once);
  run("del while blocked is not reported", test_del_while_blocked_is_not_reported);
  run("timeout survives a storm of changes", test_timeout_survives_a_storm_of_changes);
  run("user wakeup returns amid changes", test_user_wakeup_returns_amid_changes);
  run("POLLNVAL is reported once", test_pollnval_is_reported_once);
  run("POLLNVAL then reused number can be added", test_pollnval_then_reused_number_can_be_added);
  run("closed fd is refused at add", test_closed_fd_is_refused_at_add);
  run("random add/mod/del matches a model", test_random_add_mod_del_matches_a_model);
  run("oneshot disarms hang-ups too", test_oneshot_disarms_hangups_too);
  run("oneshot with a full buffer delivers each once",
      test_oneshot_with_a_full_buffer_delivers_each_once);
  run("full buffer is fair in level mode", test_full_buffer_is_fair_in_level_mode);
  return finish();
}
