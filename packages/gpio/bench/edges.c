// The C side of the GPIO edge benchmark (run in the device lab on a gpio-sim chip):
//   edges gen <sim pull attribute> <edges per second> <count>   toggles the sim's pull at a paced rate
//   edges read <chip> <offset> <count>                          requests the line (both edges), waits
//       with epoll, reads struct gpio_v2_line_event records; prints JSON: latency (read time minus
//       the kernel's timestamp, CLOCK_MONOTONIC) median and p99 in us, CPU us per event, events, missed
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static int gen(const char* attr, double rate, long count) {
  int fd = open(attr, O_WRONLY);
  if (fd < 0) return perror("open"), 1;
  uint64_t period = (uint64_t)(1e9 / rate), start = now_ns();
  for (long i = 0; i < count; i++) {
    uint64_t due = start + (uint64_t)i * period;
    struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    const char* v = (i % 2 == 0) ? "pull-up" : "pull-down";
    if (pwrite(fd, v, strlen(v), 0) < 0) return perror("write"), 1;
  }
  double secs = (now_ns() - start) / 1e9;
  fprintf(stderr, "gen: %ld edges in %.3f s (%.0f/s)\n", count, secs, count / secs);
  return 0;
}

static int rd(const char* chip, unsigned offset, long count) {
  int cfd = open(chip, O_RDWR | O_CLOEXEC);
  if (cfd < 0) return perror("open"), 1;
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = offset;
  req.num_lines = 1;
  req.event_buffer_size = 1024;
  strcpy(req.consumer, "bench-c");
  req.config.flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
  if (ioctl(cfd, GPIO_V2_GET_LINE_IOCTL, &req) < 0) return perror("GPIO_V2_GET_LINE_IOCTL"), 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = req.fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, req.fd, &ev);
  uint64_t* lat = calloc((size_t)count, sizeof *lat);
  long n = 0, missed = 0, seen = 0, warm = count / 10;  // the first tenth is not measured (as in read.cjs)
  uint32_t last = 0;
  printf("ready\n");
  fflush(stdout);
  double cpu0 = 0;
  struct gpio_v2_line_event buf[64];
  while (n < count) {
    struct epoll_event out;
    int r = epoll_wait(ep, &out, 1, 3000);
    if (r == 0) break;  // the generator is done and events were lost
    if (r < 0) continue;
    ssize_t got = read(req.fd, buf, sizeof buf);
    uint64_t t = now_ns();
    for (ssize_t i = 0; i < got / (ssize_t)sizeof buf[0]; i++) {
      if (buf[i].seqno > last + 1) missed += buf[i].seqno - last - 1;
      last = buf[i].seqno;
      if (++seen == warm) cpu0 = cpu_us();
      else if (seen > warm && n < count) lat[n++] = t - buf[i].timestamp_ns;
    }
    if ((long)last >= count) break;
  }
  double cpu = cpu_us() - cpu0;
  qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
  printf("{\"reader\":\"c\",\"events\":%ld,\"missed\":%ld,\"p50us\":%.1f,\"p99us\":%.1f,\"cpuUsPerEvent\":%.2f}\n", n, missed,
         n ? lat[n / 2] / 1e3 : 0.0, n ? lat[(n * 99) / 100] / 1e3 : 0.0, n ? cpu / n : 0.0);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && strcmp(argv[1], "gen") == 0) return gen(argv[2], atof(argv[3]), atol(argv[4]));
  if (argc == 5 && strcmp(argv[1], "read") == 0) return rd(argv[2], (unsigned)atoi(argv[3]), atol(argv[4]));
  fprintf(stderr, "usage: edges gen <pull attr> <rate> <count> | edges read <chip> <offset> <count>\n");
  return 2;
}
