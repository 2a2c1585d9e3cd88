/* Shared by the C programs of bench/: clocks, CPU time, memory, results. */
#ifndef MQTTC_BENCH_H
#define MQTTC_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_INFLIGHT 1000
#define BENCH_TOPIC "bench/topic"

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU of the whole process (every thread of the client library). */
static inline double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Resident set size in bytes. */
static inline long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static inline void die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `us` and prints the latency result line. */
static inline void print_latency(double *us, int n, double cpu)
{
    qsort(us, (size_t)n, sizeof *us, cmp_double);
    int i99 = (int)(n * 0.99);
    if (i99 >= n)
        i99 = n - 1;
    printf("RESULT msgs=%d p50=%.1f p99=%.1f max=%.1f cpu=%.6f\n", n, us[n / 2], us[i99],
           us[n - 1], cpu);
}

static inline void print_throughput(long msgs, double secs, double cpu)
{
    printf("RESULT msgs=%ld secs=%.6f cpu=%.6f\n", msgs, secs, cpu);
}

/* Command line shared by the client programs: CASE HOST PORT COUNT SIZE. */
struct bench_args {
    const char *cas;
    const char *host;
    int port;
    long count;
    int size;
};

static inline struct bench_args parse_args(int argc, char **argv, const char *cases)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s %s HOST PORT COUNT SIZE\n", argv[0], cases);
        exit(2);
    }
    struct bench_args a = {argv[1], argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5])};
    if (a.port <= 0 || a.count <= 0 || a.size < 0) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        exit(2);
    }
    return a;
}

#endif
