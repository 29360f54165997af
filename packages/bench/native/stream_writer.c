/*
 * stream_writer.c — the producer of the stream benchmark (src/streams.mjs): writes `chunk`-byte
 * messages to fd 1 with one write(2) each, blocking (O_NONBLOCK is cleared), until the reader goes
 * away (EPIPE) or `seconds` pass. Plain C so that the producer costs the same for every reader.
 *
 *   stream_writer <chunk bytes> <seconds>
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stream_writer <chunk bytes> <seconds>\n");
    return 2;
  }
  size_t chunk = (size_t)strtoul(argv[1], NULL, 10);
  double seconds = strtod(argv[2], NULL);
  if (chunk == 0 || chunk > (1u << 24)) return 2;
  signal(SIGPIPE, SIG_IGN);
  int flags = fcntl(1, F_GETFL);
  if (flags < 0 || fcntl(1, F_SETFL, flags & ~O_NONBLOCK) < 0) return 3;
  char *buf = malloc(chunk);
  if (buf == NULL) return 4;
  memset(buf, 'x', chunk);
  struct timespec start, now;
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
    if ((i & 1023) == 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
    }
  }
  free(buf);
  return 0;
}
