/* libmosquitto's side of bench/run.sh: the cases of bench_mqttc.c, written the same
 * way with libmosquitto's API (which mqttc mirrors).
 *
 *   bench_mosq pub0|pub1|pub2|recv|lat|ext0|idle HOST PORT COUNT SIZE
 */
#define _GNU_SOURCE
#include "bench.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m, (void)ud;
    if (rc != 0)
        die("connection refused");
    atomic_fetch_add(&connected, 1);
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    (void)m, (void)ud, (void)mid, (void)n, (void)granted;
    atomic_store(&subscribed, 1);
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m, (void)ud, (void)mid;
    if (++done == target)
        signal_finished();
}

static void on_message_count(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m, (void)ud, (void)msg;
    if (++done == target)
        signal_finished();
}

static void on_message_flag(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m, (void)ud, (void)msg;
    atomic_store(&got_message, 1);
}

static struct mosquitto *new_client(const char *tag, long i)
{
    char id[64];
    snprintf(id, sizeof id, "bench-mosq-%s-%d-%ld", tag, (int)getpid(), i);
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    if (m == NULL)
        die("mosquitto_new");
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(m, BENCH_INFLIGHT);
    mosquitto_connect_callback_set(m, on_connect);
    return m;
}

static void wait_flag(atomic_int *flag)
{
    while (!atomic_load(flag))
        usleep(1000);
}

static void bench_threaded(struct bench_args *a, int qos, int recv)
{
    struct mosquitto *m = new_client("t", 0);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_message_callback_set(m, on_message_count);
    if (mosquitto_connect(m, a->host, a->port, 60) != MOSQ_ERR_SUCCESS)
        die("mosquitto_connect");
    mosquitto_loop_start(m);
    wait_flag(&connected);
    char *payload = malloc((size_t)a->size + 1);
    memset(payload, 'x', (size_t)a->size);
    target = a->count;
    double t0 = now_s(), c0 = cpu_s();
    if (recv) {
        char topic[64];
        snprintf(topic, sizeof topic, "flood/%ld/%d", a->count, a->size);
        if (mosquitto_subscribe(m, NULL, topic, 0) != MOSQ_ERR_SUCCESS)
            die("mosquitto_subscribe");
    } else {
        for (long i = 0; i < a->count; i++) {
            int rc = mosquitto_publish(m, NULL, BENCH_TOPIC, a->size, payload, qos, false);
            if (rc != MOSQ_ERR_SUCCESS)
                die(mosquitto_strerror(rc));
        }
    }
    wait_finished();
    print_throughput(a->count, now_s() - t0, cpu_s() - c0);
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    free(payload);
}

static void bench_latency(struct bench_args *a)
{
    struct mosquitto *m = new_client("lat", 0);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message_flag);
    if (mosquitto_connect(m, a->host, a->port, 60) != MOSQ_ERR_SUCCESS)
        die("mosquitto_connect");
    while (!atomic_load(&connected))
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
            die("mosquitto_loop");
    char topic[64];
    snprintf(topic, sizeof topic, "lat/mosq/%d", (int)getpid());
    mosquitto_subscribe(m, NULL, topic, 0);
    while (!atomic_load(&subscribed))
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
            die("mosquitto_loop");
    char *payload = calloc(1, (size_t)a->size + 1);
    long warmup = a->count / 10 > 0 ? a->count / 10 : 1;
    double *us = malloc(sizeof(double) * (size_t)a->count), c0 = cpu_s();
    for (long i = 0; i < a->count + warmup; i++) {
        double t = now_s();
        atomic_store(&got_message, 0);
        mosquitto_publish(m, NULL, topic, a->size, payload, 0, false);
        while (!atomic_load(&got_message))
            if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS)
                die("mosquitto_loop");
        if (i >= warmup)
            us[i - warmup] = (now_s() - t) * 1e6;
    }
    print_latency(us, (int)a->count, cpu_s() - c0);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
}

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
    struct mosquitto *m = new_client("ext", 0);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, a->host, a->port, 60) != MOSQ_ERR_SUCCESS)
        die("mosquitto_connect");
    int fd = mosquitto_socket(m), ep = epoll_create1(0), watching = 0;
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
        for (int k = 0; atomic_load(&connected) && k < EXT_BATCH && sent < a->count; k++, sent++)
            if (mosquitto_publish(m, NULL, BENCH_TOPIC, a->size, payload, 0, false) != 0)
                die("mosquitto_publish");
        if (done >= target)
            break;
        sync_out(ep, fd, mosquitto_want_write(m), &watching);
        int more = atomic_load(&connected) && sent < a->count;
        int n = epoll_wait(ep, evs, 4, more ? 0 : 1000);
        for (int i = 0; i < n; i++) {
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && mosquitto_loop_read(m, 1) != 0)
                die("mosquitto_loop_read");
            if ((evs[i].events & EPOLLOUT) && mosquitto_loop_write(m, 1) != 0)
                die("mosquitto_loop_write");
        }
        if (mosquitto_loop_misc(m) != 0)
            die("mosquitto_loop_misc");
    }
    print_throughput(a->count, now_s() - t0, cpu_s() - c0);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    close(ep);
}

static void bench_idle(struct bench_args *a)
{
    long n = a->count;
    struct mosquitto **ms = calloc((size_t)n, sizeof *ms);
    int ep = epoll_create1(0);
    struct epoll_event evs[256];
    mosquitto_destroy(new_client("warm", 0));
    long rss0 = rss_bytes();
    for (long i = 0; i < n; i++) {
        ms[i] = new_client("idle", i);
        if (mosquitto_connect(ms[i], a->host, a->port, 60) != MOSQ_ERR_SUCCESS)
            die("mosquitto_connect (is ulimit -n high enough?)");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, mosquitto_socket(ms[i]), &ev);
        if (mosquitto_want_write(ms[i]))
            mosquitto_loop_write(ms[i], 1);
        if (i % 256 == 255 || i == n - 1) {
            int k = epoll_wait(ep, evs, 256, 0);
            for (int j = 0; j < k; j++)
                mosquitto_loop_read(ms[evs[j].data.u64], 1);
        }
    }
    double deadline = now_s() + 30;
    while (atomic_load(&connected) < n && now_s() < deadline) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int j = 0; j < k; j++)
            mosquitto_loop_read(ms[evs[j].data.u64], 1);
    }
    if (atomic_load(&connected) < n)
        die("not every idle client got its CONNACK");
    long rss1 = rss_bytes();
    int rounds = 20;
    double t0 = now_s(), c0 = cpu_s();
    for (int r = 0; r < rounds; r++)
        for (long i = 0; i < n; i++)
            if (mosquitto_loop_misc(ms[i]) != MOSQ_ERR_SUCCESS)
                die("mosquitto_loop_misc");
    double t = now_s() - t0, cpu = cpu_s() - c0;
    printf("RESULT conns=%ld mem_per_conn=%.0f misc_ns=%.1f misc_cpu_ns=%.1f\n", n,
           (double)(rss1 - rss0) / (double)n, t * 1e9 / (double)(rounds * n),
           cpu * 1e9 / (double)(rounds * n));
    for (long i = 0; i < n; i++)
        mosquitto_destroy(ms[i]);
    free(ms);
}

int main(int argc, char **argv)
{
    struct bench_args a = parse_args(argc, argv, "pub0|pub1|pub2|recv|lat|ext0|idle");
    mosquitto_lib_init();
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
    mosquitto_lib_cleanup();
    return 0;
}
