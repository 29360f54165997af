/*
 * stream_peer.c — the C end of the stream benchmark (src/streams.mjs), the same for every Node
 * stream it measures, so that the peer costs the same in each cell.
 *
 *   stream_peer write <chunk bytes> <seconds>   writes `chunk`-byte messages to fd 1, one blocking
 *                                               write(2) each, until the reader goes away (EPIPE)
 *                                               or `seconds` pass (the producer for a reader)
 *   stream_peer read <seconds>                  reads fd 0 with blocking 256 KiB read(2)s, as fast
 *                                               as they return, until end of file or `seconds` pass
 *                                               (the consumer for a writer)
 *
 * O_NONBLOCK is cleared on the fd first: the peer blocks in the kernel instead of spinning.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double elapsed(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int set_blocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? -1 : 0;
}

static int produce(size_t chunk, double seconds) {
  signal(SIGPIPE, SIG_IGN);
  if (set_blocking(1) < 0) return 3;
  char *buf = malloc(chunk);
  if (buf == NULL) return 4;
  memset(buf, 'x', chunk);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned long i = 0;; i++) {
    size_t off = 0;
    while (off < chunk) {
      ssize_t n = write(1, buf + off, chunk - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        free(buf);
        return errno == EPIPE ? 0 : 5;
      }
      off += (size_t)n;
    }
    if ((i & 1023) == 0 && elapsed(&start) > seconds) break;
  }
  free(buf);
  return 0;
}

static int consume(double seconds) {
  if (set_blocking(0) < 0) return 3;
  static char buf[256 * 1024];
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned long i = 0;; i++) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == ECONNRESET ? 0 : 5;
    if (n == 0) return 0;
    if ((i & 1023) == 0 && elapsed(&start) > seconds) return 0;
  }
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "write") == 0) {
    size_t chunk = (size_t)strtoul(argv[2], NULL, 10);
    if (chunk == 0 || chunk > (1u << 24)) return 2;
    return produce(chunk, strtod(argv[3], NULL));
  }
  if (argc == 3 && strcmp(argv[1], "read") == 0) return consume(strtod(argv[2], NULL));
  fprintf(stderr, "usage: stream_peer write <chunk bytes> <seconds> | stream_peer read <seconds>\n");
  return 2;
}
