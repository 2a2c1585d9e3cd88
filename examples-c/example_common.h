/*
 * Small helpers shared by the examples: where the broker is, a monotonic
 * clock, and a one-shot "event" that one thread sets and another waits for.
 * Nothing here is part of mqttc.
 */
#ifndef MQTTC_EXAMPLE_COMMON_H
#define MQTTC_EXAMPLE_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqttc.h"

/* Host: -h, else $MQTTC_TEST_HOST, else localhost. */
static inline const char *example_host(const char *arg)
{
    const char *env = getenv("MQTTC_TEST_HOST");
    if (arg != NULL && *arg != '\0') {
        return arg;
    }
    return (env != NULL && *env != '\0') ? env : "localhost";
}

/* Port: -p, else $MQTTC_TEST_PORT, else 1883. */
static inline int example_port(const char *arg)
{
    const char *s = (arg != NULL && *arg != '\0') ? arg : getenv("MQTTC_TEST_PORT");
    if (s == NULL || *s == '\0') {
        return 1883;
    }
    char *end = NULL;
    long port = strtol(s, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "bad port: %s\n", s);
        exit(2);
    }
    return (int)port;
}

/* An integer in [min, max] from an option argument, or exit(2). */
static inline int example_int_arg(const char *s, int min, int max, const char *what)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "bad %s: %s (expected %d..%d)\n", what, s, min, max);
        exit(2);
    }
    return (int)v;
}

/* Milliseconds from a monotonic clock. */
static inline long long example_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints "what: <mqttc_error_string(rc)>" and returns rc != SUCCESS. */
static inline int example_failed(int rc, const char *what)
{
    if (rc == MQTTC_ERR_SUCCESS) {
        return 0;
    }
    if (rc == MQTTC_ERR_ERRNO) {
        fprintf(stderr, "%s: %s (%s)\n", what, mqttc_error_string(rc), strerror(errno));
    } else {
        fprintf(stderr, "%s: %s (rc %d)\n", what, mqttc_error_string(rc), rc);
    }
    return 1;
}

/*
 * A counter guarded by a mutex: callbacks (on the loop thread) add to it,
 * another thread waits until it reaches a value.
 */
typedef struct example_counter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int value;
    int failed; /* set to stop every waiter early */
} example_counter;

static inline void example_counter_init(example_counter *c)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->value = 0;
    c->failed = 0;
}

static inline void example_counter_destroy(example_counter *c)
{
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
}

static inline void example_counter_add(example_counter *c, int n)
{
    pthread_mutex_lock(&c->lock);
    c->value += n;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static inline void example_counter_fail(example_counter *c)
{
    pthread_mutex_lock(&c->lock);
    c->failed = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Waits until the counter reaches target: 0 when it does, -1 on failure or timeout. */
static inline int example_counter_wait(example_counter *c, int target, int timeout_ms)
{
    struct timespec deadline;
    int rc = 0;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->value < target && !c->failed && rc == 0) {
        rc = pthread_cond_timedwait(&c->cond, &c->lock, &deadline);
    }
    int ok = c->value >= target && !c->failed;
    pthread_mutex_unlock(&c->lock);
    return ok ? 0 : -1;
}

static inline int example_counter_get(example_counter *c)
{
    pthread_mutex_lock(&c->lock);
    int v = c->value;
    pthread_mutex_unlock(&c->lock);
    return v;
}

#endif
