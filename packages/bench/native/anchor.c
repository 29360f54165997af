/*
 * anchor.c — the raw C anchors of the socketpoll benchmark.
 *
 * The same workloads as src/child.mjs, written against the kernel with nothing in between, so the
 * report can say how close each Node system gets to the physical limit of this machine.
 *
 *   anchor <system> <workload> <n> <warmup_ms> <window_ms> [samples gap_us]
 *     system:   epoll-level | epoll-edge | poll | epoll-nested
 *               (epoll-nested: level-triggered epoll whose fd is itself watched by an outer epoll, and
 *               each wake-up of the outer one is followed by epoll_wait(inner, 0) — the shape of
 *               socketpoll's start() on Node's loop, in C: what the nesting itself costs)
 *     workload: oneway | sparse | bounce | latency | registration | paced
 *               (paced: the 6th argument is the rate in events/s instead of samples)
 *   anchor calibrate <window_ms>      cost of a bare syscall and of a 1-byte AF_UNIX write + read
 *   anchor writer <samples> <gap_us>  latency writer on fd 3 (spawned by the Node receivers)
 *   anchor pacer <rate> <ms> <n>      paced writer on fds 3 .. 3+n-1 (spawned by the Node receivers)
 *
 * Prints one JSON object on stdout. Workloads (AF_UNIX stream socketpairs, non-blocking; an event is
 * one read of >= 1 byte and a 1-byte write):
 *   oneway        N pairs, end a of each registered; handling a's event writes 1 byte into b, so
 *                 every registered fd is ready again in the next round.
 *   sparse        the same N registrations, but only pair 0 carries a byte.
 *   bounce        both ends registered, one byte per pair; each end echoes it back.
 *   latency       a forked writer stamps CLOCK_MONOTONIC, writes the stamp, waits for a 1-byte ack
 *                 and sleeps gap_us; the receiver takes the time as soon as the wait returns.
 *   registration  add + mod + del of N fds, in rounds; ops/s and kernel slab growth per fd.
 *   paced         a separate pacer process writes 1 byte at a fixed rate (events/s) into the N pairs in
 *                 turn (absolute deadlines, so a late wake-up catches up and the mean rate holds; after
 *                 a short fast warm-up, see PACED_WARM_EVENTS); the
 *                 receiver reads what is ready and reports its own CPU time (user + system, getrusage)
 *                 per byte received over the window: the CPU cost of an event at a modest rate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 1024

enum system_kind { SYS_EPOLL_LEVEL, SYS_EPOLL_EDGE, SYS_POLL, SYS_EPOLL_NESTED };
enum workload_kind { WL_ONEWAY, WL_SPARSE, WL_BOUNCE, WL_LATENCY, WL_REGISTRATION, WL_PACED };

static const char *system_names[] = { "c-epoll-level", "c-epoll-edge", "c-poll", "c-epoll-nested" };

static void die(const char *what)
{
    fprintf(stderr, "anchor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One registered fd: the fd to read, the fd to write the answering byte into. */
struct slot {
    int rfd;
    int wfd;
};

/* ---- the backends, reduced to what the workloads need ---------------------------------------- */

struct backend {
    enum system_kind kind;
    int epfd;
    int outer; /* epoll-nested: the epoll fd that watches epfd */
    struct pollfd *pfds; /* poll: dense array, swap-remove on delete */
    int *pindex;         /* poll: fd -> index in pfds, -1 if absent */
    int npfds;
    struct epoll_event evs[MAX_EVENTS];
};

static void backend_init(struct backend *b, enum system_kind kind, int max_fd)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->epfd = -1;
    b->outer = -1;
    if (kind == SYS_POLL) {
        b->pfds = calloc((size_t)max_fd + 1, sizeof *b->pfds);
        b->pindex = malloc(((size_t)max_fd + 1) * sizeof *b->pindex);
        if (!b->pfds || !b->pindex) die("malloc");
        for (int i = 0; i <= max_fd; i++) b->pindex[i] = -1;
    } else {
        b->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (b->epfd < 0) die("epoll_create1");
    }
    if (kind == SYS_EPOLL_NESTED) {
        struct epoll_event ev = { .events = EPOLLIN };
        b->outer = epoll_create1(EPOLL_CLOEXEC);
        if (b->outer < 0) die("epoll_create1");
        if (epoll_ctl(b->outer, EPOLL_CTL_ADD, b->epfd, &ev) < 0) die("epoll_ctl(outer)");
    }
}

/* epoll kinds: wait for events into b->evs; nested: the outer wait, then the inner one with timeout 0. */
static int backend_epoll_wait(struct backend *b)
{
    if (b->kind == SYS_EPOLL_NESTED) {
        struct epoll_event ev;
        int r = epoll_wait(b->outer, &ev, 1, -1);
        if (r <= 0) return r;
        return epoll_wait(b->epfd, b->evs, MAX_EVENTS, 0);
    }
    return epoll_wait(b->epfd, b->evs, MAX_EVENTS, -1);
}

static void backend_free(struct backend *b)
{
    free(b->pfds);
    free(b->pindex);
    if (b->epfd >= 0) close(b->epfd);
    if (b->outer >= 0) close(b->outer);
}

static void close_pairs(int *fds, int n)
{
    for (int i = 0; i < 2 * n; i++) close(fds[i]);
    free(fds);
}

/* data: index of the slot; poll keeps it implicitly (fd -> slot via the caller's table). */
static void backend_add(struct backend *b, int fd, uint32_t data)
{
    if (b->kind == SYS_POLL) {
        b->pindex[fd] = b->npfds;
        b->pfds[b->npfds].fd = fd;
        b->pfds[b->npfds].events = POLLIN;
        b->npfds++;
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | (b->kind == SYS_EPOLL_EDGE ? EPOLLET : 0u) };
    ev.data.u32 = data;
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl(ADD)");
}

static void backend_mod(struct backend *b, int fd, uint32_t data)
{
    if (b->kind == SYS_POLL) {
        b->pfds[b->pindex[fd]].events = POLLIN | POLLPRI;
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI | (b->kind == SYS_EPOLL_EDGE ? EPOLLET : 0u) };
    ev.data.u32 = data;
    if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl(MOD)");
}

static void backend_del(struct backend *b, int fd)
{
    if (b->kind == SYS_POLL) {
        int i = b->pindex[fd];
        int last = --b->npfds;
        if (i != last) {
            b->pfds[i] = b->pfds[last];
            b->pindex[b->pfds[i].fd] = i;
        }
        b->pindex[fd] = -1;
        return;
    }
    if (epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL) < 0) die("epoll_ctl(DEL)");
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static int *make_pairs(int n)
{
    int *fds = malloc(sizeof(int) * 2 * (size_t)n);
    if (!fds) die("malloc");
    for (int i = 0; i < n; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds + 2 * i) < 0)
            die("socketpair");
    }
    return fds;
}

static int max_fd_of(const int *fds, int count)
{
    int m = 0;
    for (int i = 0; i < count; i++)
        if (fds[i] > m) m = fds[i];
    return m;
}

static void write1(int fd)
{
    static const char one = 'x';
    if (write(fd, &one, 1) != 1) die("write");
}

static long slab_bytes(const char *cache)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (!f) return -1;
    char line[512];
    long bytes = -1;
    size_t len = strlen(cache);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, cache, len) == 0 && line[len] == ' ') {
            long active, num, size;
            if (sscanf(line + len, "%ld %ld %ld", &active, &num, &size) == 3) bytes = active * size;
            break;
        }
    }
    fclose(f);
    return bytes;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* CPU time of this process (user + system, all threads), in ns (getrusage: µs resolution). */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

/* ---- throughput: oneway, sparse, bounce -------------------------------------------------------- */

static void run_throughput(enum system_kind kind, enum workload_kind wl, int n, int warmup_ms, int window_ms)
{
    int *fds = make_pairs(n);
    int nslots = wl == WL_BOUNCE ? 2 * n : n;
    struct slot *slots = malloc(sizeof *slots * (size_t)nslots);
    int max_fd = max_fd_of(fds, 2 * n);
    int *slot_of_fd = malloc(sizeof(int) * ((size_t)max_fd + 1));
    if (!slots || !slot_of_fd) die("malloc");
    struct backend b;
    backend_init(&b, kind, max_fd);

    for (int i = 0; i < n; i++) {
        int a = fds[2 * i], c = fds[2 * i + 1];
        if (wl == WL_BOUNCE) {
            slots[2 * i] = (struct slot){ a, a };
            slots[2 * i + 1] = (struct slot){ c, c };
        } else {
            slots[i] = (struct slot){ a, c };
        }
    }
    for (int s = 0; s < nslots; s++) {
        slot_of_fd[slots[s].rfd] = s;
        backend_add(&b, slots[s].rfd, (uint32_t)s);
    }
    /* Prime: one byte per pair in flight (sparse: pair 0 only). */
    for (int i = 0; i < (wl == WL_SPARSE ? 1 : n); i++) write1(fds[2 * i + 1]);

    char buf[64];
    uint64_t events = 0, t0 = now_ns();
    uint64_t warm_end = t0 + (uint64_t)warmup_ms * 1000000u, end = 0, start = 0;
    uint64_t rounds = 0, cpu0 = 0;
    int measuring = 0;
    for (;;) {
        int k = 0;
        if (kind == SYS_POLL) {
            int r = poll(b.pfds, (nfds_t)b.npfds, -1);
            if (r < 0) {
                if (errno == EINTR) continue;
                die("poll");
            }
            for (int i = 0, seen = 0; i < b.npfds && seen < r; i++) {
                if (!b.pfds[i].revents) continue;
                seen++;
                struct slot *s = &slots[slot_of_fd[b.pfds[i].fd]];
                if (read(s->rfd, buf, sizeof buf) <= 0) die("read");
                write1(s->wfd);
            }
            k = r;
        } else {
            k = backend_epoll_wait(&b);
            if (k < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < k; i++) {
                struct slot *s = &slots[b.evs[i].data.u32];
                /* Edge mode: a short read (1 byte into a 64-byte buffer) means the socket is drained. */
                if (read(s->rfd, buf, sizeof buf) <= 0) die("read");
                write1(s->wfd);
            }
        }
        events += (uint64_t)k;
        rounds++;
        uint64_t t = now_ns();
        if (!measuring) {
            if (t >= warm_end) {
                measuring = 1;
                events = 0;
                rounds = 0;
                start = t;
                end = t + (uint64_t)window_ms * 1000000u;
                cpu0 = cpu_ns();
            }
        } else if (t >= end) {
            double secs = (double)(t - start) / 1e9;
            uint64_t cpu = cpu_ns() - cpu0;
            printf("{\"system\":\"%s\",\"workload\":\"%s\",\"n\":%d,\"events\":%llu,\"rounds\":%llu,"
                   "\"seconds\":%.6f,\"eventsPerSec\":%.1f,\"cpuNsPerEvent\":%.1f}\n",
                   system_names[kind], wl == WL_ONEWAY ? "oneway" : wl == WL_SPARSE ? "sparse" : "bounce", n,
                   (unsigned long long)events, (unsigned long long)rounds, secs, (double)events / secs,
                   (double)cpu / (double)(events ? events : 1));
            break;
        }
    }
    backend_free(&b);
    free(slots);
    free(slot_of_fd);
    close_pairs(fds, n);
}

/* ---- latency ----------------------------------------------------------------------------------- */

/* The writer: stamp, write 8 bytes, wait for the 1-byte ack, sleep. fd is blocking. */
static void writer_loop(int fd, int samples, int gap_us)
{
    char ack;
    struct timespec gap = { .tv_sec = gap_us / 1000000, .tv_nsec = (long)(gap_us % 1000000) * 1000 };
    for (int i = 0; i < samples; i++) {
        nanosleep(&gap, NULL);
        uint64_t stamp = now_ns();
        if (write(fd, &stamp, sizeof stamp) != (ssize_t)sizeof stamp) die("writer write");
        ssize_t r;
        do r = read(fd, &ack, 1);
        while (r < 0 && errno == EINTR);
        if (r != 1) die("writer read ack");
    }
    close(fd);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void run_latency(enum system_kind kind, int samples, int gap_us)
{
    int sv[2];
    /* The receiver end is non-blocking; the writer's end stays blocking (O_NONBLOCK is per file). */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    int warm = samples / 20 + 10;
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sv[0]);
        writer_loop(sv[1], samples + warm, gap_us);
        _exit(0);
    }
    close(sv[1]);
    int fd = sv[0];
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");

    struct backend b;
    backend_init(&b, kind, fd);
    backend_add(&b, fd, 0);
    uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)(samples + warm));
    if (!lat) die("malloc");
    int got = 0;
    for (;;) {
        int k;
        if (kind == SYS_POLL) k = poll(b.pfds, (nfds_t)b.npfds, -1);
        else k = backend_epoll_wait(&b);
        uint64_t t = now_ns(); /* "callback entry" */
        if (k < 0) {
            if (errno == EINTR) continue;
            die("wait");
        }
        if (k == 0) continue;
        uint64_t stamp;
        ssize_t r = read(fd, &stamp, sizeof stamp);
        if (r == 0) break; /* writer done */
        if (r < 0) {
            if (errno == EAGAIN) continue;
            die("read");
        }
        if (r != (ssize_t)sizeof stamp) {
            fprintf(stderr, "anchor: short latency read\n");
            exit(1);
        }
        lat[got++] = t - stamp;
        write1(fd);
    }
    waitpid(pid, NULL, 0);
    int kept = got - warm;
    uint64_t *s = lat + warm;
    printf("{\"system\":\"%s\",\"workload\":\"latency\",\"n\":1,\"samples\":%d,\"latencyNs\":[", system_names[kind],
           kept);
    for (int i = 0; i < kept; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)s[i]);
    qsort(s, (size_t)kept, sizeof *s, cmp_u64);
    printf("],\"p50\":%llu,\"p99\":%llu}\n", (unsigned long long)s[kept / 2],
           (unsigned long long)s[(kept * 99) / 100]);
    backend_free(&b);
    free(lat);
    close(fd);
}

/* ---- registration ------------------------------------------------------------------------------ */

static void run_registration(enum system_kind kind, int n, int warmup_ms, int window_ms)
{
    int *fds = make_pairs(n);
    struct backend b;
    backend_init(&b, kind, max_fd_of(fds, 2 * n));
    long rss0 = rss_bytes(), slab0 = slab_bytes("eventpoll_epi"), pwq0 = slab_bytes("eventpoll_pwq");
    for (int i = 0; i < n; i++) backend_add(&b, fds[2 * i], (uint32_t)i);
    long rss1 = rss_bytes(), slab1 = slab_bytes("eventpoll_epi"), pwq1 = slab_bytes("eventpoll_pwq");
    for (int i = 0; i < n; i++) backend_del(&b, fds[2 * i]);

    uint64_t t0 = now_ns(), warm_end = t0 + (uint64_t)warmup_ms * 1000000u, start = 0;
    uint64_t ops = 0;
    int measuring = 0;
    for (;;) {
        for (int i = 0; i < n; i++) backend_add(&b, fds[2 * i], (uint32_t)i);
        for (int i = 0; i < n; i++) backend_mod(&b, fds[2 * i], (uint32_t)i + 1);
        for (int i = 0; i < n; i++) backend_del(&b, fds[2 * i]);
        ops += 3u * (uint64_t)n;
        uint64_t t = now_ns();
        if (!measuring) {
            if (t >= warm_end) {
                measuring = 1;
                ops = 0;
                start = t;
            }
        } else if (t - start >= (uint64_t)window_ms * 1000000u) {
            double secs = (double)(t - start) / 1e9;
            long slab = (slab0 >= 0 && slab1 >= 0) ? (slab1 - slab0) + (pwq1 - pwq0) : -1;
            printf("{\"system\":\"%s\",\"workload\":\"registration\",\"n\":%d,\"ops\":%llu,\"seconds\":%.6f,"
                   "\"opsPerSec\":%.1f,\"rssPerFd\":%.1f,\"slabPerFd\":%.1f}\n",
                   system_names[kind], n, (unsigned long long)ops, secs, (double)ops / secs,
                   (double)(rss1 - rss0) / n, slab >= 0 ? (double)slab / n : -1.0);
            break;
        }
    }
    backend_free(&b);
    close_pairs(fds, n);
}

/* ---- paced: CPU time per event at a fixed rate --------------------------------------------------- */

/* The JIT warm-up of the Node receivers: PACED_WARM_EVENTS bytes at PACED_WARM_RATE first (V8
 * optimises a function after enough calls, which 1 000 calls/s would take seconds to reach), then
 * the paced rate. The receiver's warm-up time covers both. */
#define PACED_WARM_EVENTS 4000u
#define PACED_WARM_RATE 20000u

/* The pacer: PACED_WARM_EVENTS bytes at PACED_WARM_RATE, then one byte every 1/rate s, into fds[0],
 * fds[1], … in turn, for ms milliseconds in all. Deadlines are absolute (start + i / rate): a late
 * wake-up writes what is due at once, so the mean rate holds. Exits quietly when the receiver has
 * gone (EPIPE). */
static void pacer_loop(const int *fds, int n, int rate, int ms)
{
    static const char one = 'x';
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* default slack (50 µs) is half the 10 k/s period */
    uint64_t t0 = now_ns(), period = 1000000000u / (uint64_t)rate, stop = t0 + (uint64_t)ms * 1000000u;
    uint64_t warm_period = 1000000000u / PACED_WARM_RATE, paced_t0 = t0 + PACED_WARM_EVENTS * warm_period;
    for (uint64_t i = 0;; i++) {
        uint64_t due = i < PACED_WARM_EVENTS ? t0 + i * warm_period : paced_t0 + (i - PACED_WARM_EVENTS) * period;
        if (due >= stop) break;
        struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        ssize_t r;
        do r = write(fds[i % (uint64_t)n], &one, 1);
        while (r < 0 && errno == EINTR);
        if (r < 0 && errno == EAGAIN) continue; /* the receiver is far behind: drop, it is counted by bytes read */
        if (r != 1) break;
    }
}

static void run_paced(enum system_kind kind, int n, int warmup_ms, int window_ms, int rate)
{
    int *fds = make_pairs(n);
    int *wfds = malloc(sizeof(int) * (size_t)n);
    int max_fd = max_fd_of(fds, 2 * n);
    int *slot_of_fd = malloc(sizeof(int) * ((size_t)max_fd + 1));
    if (!wfds || !slot_of_fd) die("malloc");
    for (int i = 0; i < n; i++) wfds[i] = fds[2 * i + 1];
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        pacer_loop(wfds, n, rate, warmup_ms + window_ms + 3000);
        _exit(0);
    }
    for (int i = 0; i < n; i++) close(wfds[i]);
    struct backend b;
    backend_init(&b, kind, max_fd);
    for (int i = 0; i < n; i++) {
        slot_of_fd[fds[2 * i]] = i;
        backend_add(&b, fds[2 * i], (uint32_t)i);
    }
    char buf[256];
    uint64_t t0 = now_ns(), warm_end = t0 + (uint64_t)warmup_ms * 1000000u, start = 0, end = 0, cpu0 = 0;
    uint64_t events = 0, batches = 0;
    int measuring = 0;
    for (;;) {
        int k;
        if (kind == SYS_POLL) k = poll(b.pfds, (nfds_t)b.npfds, -1);
        else k = backend_epoll_wait(&b);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("wait");
        }
        uint64_t got = 0;
        if (kind == SYS_POLL) {
            for (int i = 0, seen = 0; i < b.npfds && seen < k; i++) {
                if (!b.pfds[i].revents) continue;
                seen++;
                ssize_t r = read(b.pfds[i].fd, buf, sizeof buf);
                if (r == 0) die("pacer ended early");
                if (r > 0) got += (uint64_t)r;
            }
        } else {
            for (int i = 0; i < k; i++) {
                ssize_t r = read(fds[2 * b.evs[i].data.u32], buf, sizeof buf);
                if (r == 0) die("pacer ended early");
                if (r > 0) got += (uint64_t)r;
            }
        }
        events += got;
        batches++;
        uint64_t t = now_ns();
        if (!measuring) {
            if (t >= warm_end) {
                measuring = 1;
                events = 0;
                batches = 0;
                start = t;
                end = t + (uint64_t)window_ms * 1000000u;
                cpu0 = cpu_ns();
            }
        } else if (t >= end) {
            uint64_t cpu = cpu_ns() - cpu0;
            double secs = (double)(t - start) / 1e9;
            printf("{\"system\":\"%s\",\"workload\":\"paced\",\"n\":%d,\"rate\":%d,\"events\":%llu,\"batches\":%llu,"
                   "\"seconds\":%.6f,\"eventsPerSec\":%.1f,\"cpuNs\":%llu,\"cpuNsPerEvent\":%.1f,\"cpuShare\":%.5f}\n",
                   system_names[kind], n, rate, (unsigned long long)events, (unsigned long long)batches, secs,
                   (double)events / secs, (unsigned long long)cpu, (double)cpu / (double)(events ? events : 1),
                   (double)cpu / 1e9 / secs);
            break;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    backend_free(&b);
    free(wfds);
    free(slot_of_fd);
    for (int i = 0; i < n; i++) close(fds[2 * i]);
    free(fds);
}

/* ---- calibration ------------------------------------------------------------------------------- */

static void run_calibrate(int window_ms)
{
    uint64_t budget = (uint64_t)window_ms * 1000000u / 2, t0, t;
    uint64_t iters = 0;
    t0 = now_ns();
    do {
        for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
        iters += 1000;
        t = now_ns();
    } while (t - t0 < budget);
    double syscall_ns = (double)(t - t0) / (double)iters;

    int sv[2];
    char c;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    iters = 0;
    t0 = now_ns();
    do {
        for (int i = 0; i < 1000; i++) {
            write1(sv[1]);
            if (read(sv[0], &c, 1) != 1) die("read");
        }
        iters += 1000;
        t = now_ns();
    } while (t - t0 < budget);
    double wr_ns = (double)(t - t0) / (double)iters;
    printf("{\"workload\":\"calibrate\",\"syscallNs\":%.1f,\"unixWriteReadNs\":%.1f}\n", syscall_ns, wr_ns);
    close(sv[0]);
    close(sv[1]);
}

/* ---- main -------------------------------------------------------------------------------------- */

static int parse_system(const char *s)
{
    if (!strcmp(s, "epoll-level")) return SYS_EPOLL_LEVEL;
    if (!strcmp(s, "epoll-edge")) return SYS_EPOLL_EDGE;
    if (!strcmp(s, "poll")) return SYS_POLL;
    if (!strcmp(s, "epoll-nested")) return SYS_EPOLL_NESTED;
    return -1;
}

static int parse_workload(const char *s)
{
    static const char *names[] = { "oneway", "sparse", "bounce", "latency", "registration", "paced" };
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

static void usage(void)
{
    fputs("usage: anchor <epoll-level|epoll-edge|poll|epoll-nested> <oneway|sparse|bounce|latency|registration|paced> "
          "<n> <warmup_ms> <window_ms> [samples gap_us | rate]\n"
          "       anchor calibrate <window_ms>\n"
          "       anchor writer <samples> <gap_us>   (latency writer on fd 3)\n"
          "       anchor pacer <rate> <ms> <n>       (paced writer on fds 3 .. 3+n-1)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (argc >= 3 && !strcmp(argv[1], "calibrate")) {
        run_calibrate(atoi(argv[2]));
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "writer")) {
        /* The Node receivers hand over a non-blocking end; the writer blocks on the ack. */
        if (fcntl(3, F_SETFL, fcntl(3, F_GETFL) & ~O_NONBLOCK) < 0) die("fcntl(3)");
        writer_loop(3, atoi(argv[2]), atoi(argv[3]));
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "pacer")) {
        int n = atoi(argv[4]);
        int *fds = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
        if (!fds || n < 1 || atoi(argv[2]) < 1) usage();
        for (int i = 0; i < n; i++) fds[i] = 3 + i;
        pacer_loop(fds, n, atoi(argv[2]), atoi(argv[3]));
        free(fds);
        return 0;
    }
    if (argc < 6) usage();
    int sys = parse_system(argv[1]), wl = parse_workload(argv[2]);
    if (sys < 0 || wl < 0) usage();
    int n = atoi(argv[3]), warmup_ms = atoi(argv[4]), window_ms = atoi(argv[5]);
    switch (wl) {
    case WL_LATENCY:
        run_latency((enum system_kind)sys, argc > 6 ? atoi(argv[6]) : 2000, argc > 7 ? atoi(argv[7]) : 1000);
        break;
    case WL_REGISTRATION:
        run_registration((enum system_kind)sys, n, warmup_ms, window_ms);
        break;
    case WL_PACED:
        run_paced((enum system_kind)sys, n, warmup_ms, window_ms, argc > 6 ? atoi(argv[6]) : 1000);
        break;
    default:
        run_throughput((enum system_kind)sys, (enum workload_kind)wl, n, warmup_ms, window_ms);
    }
    return 0;
}
