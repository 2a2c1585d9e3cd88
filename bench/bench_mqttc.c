/* mqttc's side of bench/run.sh.
 *
 *   bench_mqttc CASE HOST PORT COUNT SIZE
 *
 *   pub0|pub1|pub2  publish COUNT messages of SIZE bytes at QoS 0/1/2 from the main
 *                   thread, the loop on mqttc_loop_start's thread, max_inflight 1000;
 *                   done when on_publish has run for every one
 *   recv            subscribe to "flood/COUNT/SIZE" (bench/sink floods COUNT QoS 0
 *                   messages), done when on_message has run COUNT times
 *   lat             COUNT sequential round trips publish -> on_message through a broker,
 *                   one thread driving mqttc_loop
 *   ext0            as pub0, but one thread and no loop thread: an epoll loop around
 *                   mqttc_socket / mqttc_want_write / mqttc_loop_read / _write / _misc
 *   idle            COUNT connections in one epoll loop: memory per connection and the
 *                   cost of one mqttc_loop_misc call
 *
 * With BENCH_MQTT5=1 in the environment the clients speak MQTT 5.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <mqttc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int connected, subscribed, got_message;
static long target, done; /* written by the loop thread only */
static int finished;

static void signal_finished(void)
{
    pthread_mutex_lock(&mu);
    finished = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_finished(void)
{
    pthread_mutex_lock(&mu);
    while (!finished)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void on_connect(mqttc_client *c, void *ud, int flags, int rc)
{
    (void)c, (void)ud, (void)flags;
    if (rc != 0)
        die("connection refused");
    atomic_fetch_add(&connected, 1);
}

static void on_subscribe(mqttc_client *c, void *ud, int mid, int n, const int *granted)
{
    (void)c, (void)ud, (void)mid, (void)n, (void)granted;
    atomic_store(&subscribed, 1);
}

static void on_publish(mqttc_client *c, void *ud, int mid)
{
    (void)c, (void)ud, (void)mid;
    if (++done == target)
        signal_finished();
}

static void on_message_count(mqttc_client *c, void *ud, const mqttc_message *m)
{
    (void)c, (void)ud, (void)m;
    if (++done == target)
        signal_finished();
}

static void on_message_flag(mqttc_client *c, void *ud, const mqttc_message *m)
{
    (void)c, (void)ud, (void)m;
    atomic_store(&got_message, 1);
}

static mqttc_client *new_client(const char *tag)
{
    char id[64];
    snprintf(id, sizeof id, "bench-mqttc-%s-%d", tag, (int)getpid());
    /* BENCH_MQTT5=1: the same work under MQTT 5 (bench/run.sh's mqttc-v5 rows). */
    const char *v5 = getenv("BENCH_MQTT5");
    int protocol = v5 != NULL && strcmp(v5, "1") == 0 ? MQTTC_PROTOCOL_V5 : MQTTC_PROTOCOL_V311;
    mqttc_client *c = mqttc_client_new(id, true, NULL, protocol, MQTTC_TRANSPORT_TCP);
    if (c == NULL)
        die("mqttc_client_new");
    mqttc_max_inflight_messages_set(c, BENCH_INFLIGHT);
    mqttc_on_connect_set(c, on_connect);
    return c;
}

static void wait_flag(atomic_int *flag)
{
    while (!atomic_load(flag))
        usleep(1000);
}

static void bench_threaded(struct bench_args *a, int qos, int recv)
{
    mqttc_client *c = new_client("t");
    mqttc_on_publish_set(c, on_publish);
    mqttc_on_message_set(c, on_message_count);
    if (mqttc_connect(c, a->host, a->port, 60, NULL) != MQTTC_ERR_SUCCESS)
        die("mqttc_connect");
    mqttc_loop_start(c);
    wait_flag(&connected);
    char *payload = malloc((size_t)a->size + 1);
    memset(payload, 'x', (size_t)a->size);
    target = a->count;
    double t0 = now_s(), c0 = cpu_s();
    if (recv) {
        char topic[64];
        snprintf(topic, sizeof topic, "flood/%ld/%d", a->count, a->size);
        if (mqttc_subscribe(c, topic, 0, NULL) != MQTTC_ERR_SUCCESS)
            die("mqttc_subscribe");
    } else {
        for (long i = 0; i < a->count; i++) {
            int rc;
            /* A full output buffer refuses QoS 0 (QUEUE_SIZE): wait for it to drain. */
            while ((rc = mqttc_publish(c, BENCH_TOPIC, payload, a->size, qos, false, NULL)) ==
                   MQTTC_ERR_QUEUE_SIZE)
                sched_yield();
            if (rc != MQTTC_ERR_SUCCESS)
                die(mqttc_error_string(rc));
        }
    }
    wait_finished();
    print_throughput(a->count, now_s() - t0, cpu_s() - c0);
    mqttc_disconnect(c);
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    free(payload);
}

static void bench_latency(struct bench_args *a)
{
    mqttc_client *c = new_client("lat");
    mqttc_on_subscribe_set(c, on_subscribe);
    mqttc_on_message_set(c, on_message_flag);
    if (mqttc_connect(c, a->host, a->port, 60, NULL) != MQTTC_ERR_SUCCESS)
        die("mqttc_connect");
    while (!atomic_load(&connected))
        if (mqttc_loop(c, 100, 1) != MQTTC_ERR_SUCCESS)
            die("mqttc_loop");
    char topic[64];
    snprintf(topic, sizeof topic, "lat/mqttc/%d", (int)getpid());
    mqttc_subscribe(c, topic, 0, NULL);
    while (!atomic_load(&subscribed))
        if (mqttc_loop(c, 100, 1) != MQTTC_ERR_SUCCESS)
            die("mqttc_loop");
    char *payload = calloc(1, (size_t)a->size + 1);
    long warmup = a->count / 10 > 0 ? a->count / 10 : 1;
    double *us = malloc(sizeof(double) * (size_t)a->count), c0 = cpu_s();
    for (long i = 0; i < a->count + warmup; i++) {
        double t = now_s();
        atomic_store(&got_message, 0);
        mqttc_publish(c, topic, payload, a->size, 0, false, NULL);
        while (!atomic_load(&got_message))
            if (mqttc_loop(c, 1000, 1) != MQTTC_ERR_SUCCESS)
                die("mqttc_loop");
        if (i >= warmup)
            us[i - warmup] = (now_s() - t) * 1e6;
    }
    print_latency(us, (int)a->count, cpu_s() - c0);
    mqttc_disconnect(c);
    mqttc_client_destroy(c);
}

/* Watch `fd` for writing exactly while the client has something to write. */
static void sync_out(int ep, int fd, int want, int *watching)
{
    if (want == *watching)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    *watching = want;
}

#define EXT_BATCH 1000

static void bench_external(struct bench_args *a)
{
    mqttc_client *c = new_client("ext");
    mqttc_on_publish_set(c, on_publish);
    if (mqttc_connect(c, a->host, a->port, 60, NULL) != MQTTC_ERR_SUCCESS)
        die("mqttc_connect");
    int fd = mqttc_socket(c), ep = epoll_create1(0), watching = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, evs[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    char *payload = calloc(1, (size_t)a->size + 1);
    target = a->count;
    long sent = 0;
    double t0 = 0, c0 = 0;
    while (done < target) {
        if (atomic_load(&connected) && sent == 0) {
            t0 = now_s();
            c0 = cpu_s();
        }
        /* The application's work for this turn: publish a batch. */
        for (int k = 0; atomic_load(&connected) && k < EXT_BATCH && sent < a->count; k++, sent++) {
            int rc = mqttc_publish(c, BENCH_TOPIC, payload, a->size, 0, false, NULL);
            if (rc == MQTTC_ERR_QUEUE_SIZE)
                break; /* the output buffer is full: write first */
            if (rc != MQTTC_ERR_SUCCESS)
                die("mqttc_publish");
        }
        if (done >= target)
            break;
        sync_out(ep, fd, mqttc_want_write(c), &watching);
        int more = atomic_load(&connected) && sent < a->count;
        int n = epoll_wait(ep, evs, 4, more ? 0 : 1000);
        for (int i = 0; i < n; i++) {
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && mqttc_loop_read(c, 1) != 0)
                die("mqttc_loop_read");
            if ((evs[i].events & EPOLLOUT) && mqttc_loop_write(c, 1) != 0)
                die("mqttc_loop_write");
        }
        if (mqttc_loop_misc(c) != 0)
            die("mqttc_loop_misc");
    }
    print_throughput(a->count, now_s() - t0, cpu_s() - c0);
    mqttc_disconnect(c);
    mqttc_client_destroy(c);
    close(ep);
}

static void bench_idle(struct bench_args *a)
{
    long n = a->count;
    mqttc_client **cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(0);
    struct epoll_event evs[256];
    mqttc_client *warm = new_client("warm"); /* first-use costs (thread-locals, ...) */
    mqttc_client_destroy(warm);
    long rss0 = rss_bytes();
    for (long i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "bench-idle-%d-%ld", (int)getpid(), i);
        cs[i] = mqttc_client_new(id, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
        if (cs[i] == NULL)
            die("mqttc_client_new");
        mqttc_on_connect_set(cs[i], on_connect);
        if (mqttc_connect(cs[i], a->host, a->port, 60, NULL) != MQTTC_ERR_SUCCESS)
            die("mqttc_connect (is ulimit -n high enough?)");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, mqttc_socket(cs[i]), &ev);
        mqttc_loop_write(cs[i], 1); /* CONNECT */
        if (i % 256 == 255 || i == n - 1) {
            int k = epoll_wait(ep, evs, 256, 0);
            for (int j = 0; j < k; j++)
                mqttc_loop_read(cs[evs[j].data.u64], 1);
        }
    }
    double deadline = now_s() + 30;
    while (atomic_load(&connected) < n && now_s() < deadline) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int j = 0; j < k; j++)
            mqttc_loop_read(cs[evs[j].data.u64], 1);
    }
    if (atomic_load(&connected) < n)
        die("not every idle client got its CONNACK");
    long rss1 = rss_bytes();
    int rounds = 20;
    double t0 = now_s(), c0 = cpu_s();
    for (int r = 0; r < rounds; r++)
        for (long i = 0; i < n; i++)
            if (mqttc_loop_misc(cs[i]) != MQTTC_ERR_SUCCESS)
                die("mqttc_loop_misc");
    double t = now_s() - t0, cpu = cpu_s() - c0;
    printf("RESULT conns=%ld mem_per_conn=%.0f misc_ns=%.1f misc_cpu_ns=%.1f\n", n,
           (double)(rss1 - rss0) / (double)n, t * 1e9 / (double)(rounds * n),
           cpu * 1e9 / (double)(rounds * n));
    for (long i = 0; i < n; i++)
        mqttc_client_destroy(cs[i]);
    free(cs);
}

int main(int argc, char **argv)
{
    struct bench_args a = parse_args(argc, argv, "pub0|pub1|pub2|recv|lat|ext0|idle");
    if (strcmp(a.cas, "pub0") == 0)
        bench_threaded(&a, 0, 0);
    else if (strcmp(a.cas, "pub1") == 0)
        bench_threaded(&a, 1, 0);
    else if (strcmp(a.cas, "pub2") == 0)
        bench_threaded(&a, 2, 0);
    else if (strcmp(a.cas, "recv") == 0)
        bench_threaded(&a, 0, 1);
    else if (strcmp(a.cas, "lat") == 0)
        bench_latency(&a);
    else if (strcmp(a.cas, "ext0") == 0)
        bench_external(&a);
    else if (strcmp(a.cas, "idle") == 0)
        bench_idle(&a);
    else
        die("unknown case");
    return 0;
}
