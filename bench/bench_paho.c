/* paho.mqtt.c's side of bench/run.sh, through its MQTTAsync API (the library's own
 * threads do the I/O, as mqttc_loop_start's thread does for mqttc).
 *
 *   bench_paho pub0|pub1|pub2|recv|lat HOST PORT COUNT SIZE
 *
 * MQTTAsync has no external-loop API, so ext0 and idle are not measured.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

/* MQTTAsync refuses a send once this many are queued (its maxBufferedMessages, 100 by
 * default, "also applies when the client is connected"); the publisher then waits. */
#define PAHO_BUFFERED 10000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int connected, subscribed;
static atomic_long done;
static long target;
static int finished;
static sem_t got_message;

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

static void wait_flag(atomic_int *flag)
{
    while (!atomic_load(flag))
        usleep(1000);
}

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx, (void)r;
    atomic_store(&connected, 1);
}

static void on_failure(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "bench_paho: failure %d %s\n", r ? r->code : 0,
            r && r->message ? r->message : "");
    exit(1);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx, (void)r;
    atomic_store(&subscribed, 1);
}

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx, (void)r;
    if (atomic_fetch_add(&done, 1) + 1 == target)
        signal_finished();
}

static int on_message_count(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)ctx, (void)topic_len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    if (atomic_fetch_add(&done, 1) + 1 == target)
        signal_finished();
    return 1;
}

static int on_message_post(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)ctx, (void)topic_len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    sem_post(&got_message);
    return 1;
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "bench_paho: connection lost: %s\n", cause ? cause : "");
    exit(1);
}

static MQTTAsync connect_client(struct bench_args *a, const char *tag, MQTTAsync_messageArrived *ma)
{
    char uri[128], id[64];
    snprintf(uri, sizeof uri, "tcp://%s:%d", a->host, a->port);
    snprintf(id, sizeof id, "bench-paho-%s-%d", tag, (int)getpid());
    MQTTAsync c;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.maxBufferedMessages = PAHO_BUFFERED;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    if (MQTTAsync_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
        MQTTASYNC_SUCCESS)
        die("MQTTAsync_create");
    MQTTAsync_setCallbacks(c, NULL, on_lost, ma, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.keepAliveInterval = 60;
    o.cleansession = 1;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.maxInflight = BENCH_INFLIGHT;
    o.onSuccess = on_connected;
    o.onFailure = on_failure;
    if (MQTTAsync_connect(c, &o) != MQTTASYNC_SUCCESS)
        die("MQTTAsync_connect");
    wait_flag(&connected);
    return c;
}

static void subscribe(MQTTAsync c, const char *topic)
{
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.onSuccess = on_subscribed;
    r.onFailure = on_failure;
    if (MQTTAsync_subscribe(c, topic, 0, &r) != MQTTASYNC_SUCCESS)
        die("MQTTAsync_subscribe");
}

static void finish(MQTTAsync c)
{
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    MQTTAsync_setCallbacks(c, NULL, NULL, NULL, NULL);
    MQTTAsync_disconnect(c, &d);
    usleep(20000);
    MQTTAsync_destroy(&c);
}

static void bench_threaded(struct bench_args *a, int qos, int recv)
{
    MQTTAsync c = connect_client(a, "t", on_message_count);
    char *payload = malloc((size_t)a->size + 1);
    memset(payload, 'x', (size_t)a->size);
    target = a->count;
    double t0 = now_s(), c0 = cpu_s();
    if (recv) {
        char topic[64];
        snprintf(topic, sizeof topic, "flood/%ld/%d", a->count, a->size);
        subscribe(c, topic);
    } else {
        MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
        r.onSuccess = on_sent;
        r.onFailure = on_failure;
        MQTTAsync_message m = MQTTAsync_message_initializer;
        m.payload = payload;
        m.payloadlen = a->size;
        m.qos = qos;
        for (long i = 0; i < a->count; i++) {
            int rc;
            while ((rc = MQTTAsync_sendMessage(c, BENCH_TOPIC, &m, &r)) ==
                   MQTTASYNC_MAX_BUFFERED_MESSAGES)
                usleep(50);
            if (rc != MQTTASYNC_SUCCESS) {
                fprintf(stderr, "bench_paho: MQTTAsync_sendMessage: %d\n", rc);
                exit(1);
            }
        }
    }
    wait_finished();
    print_throughput(a->count, now_s() - t0, cpu_s() - c0);
    finish(c);
    free(payload);
}

static void bench_latency(struct bench_args *a)
{
    sem_init(&got_message, 0, 0);
    MQTTAsync c = connect_client(a, "lat", on_message_post);
    char topic[64];
    snprintf(topic, sizeof topic, "lat/paho/%d", (int)getpid());
    subscribe(c, topic);
    wait_flag(&subscribed);
    char *payload = calloc(1, (size_t)a->size + 1);
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = payload;
    m.payloadlen = a->size;
    m.qos = 0;
    long warmup = a->count / 10 > 0 ? a->count / 10 : 1;
    double *us = malloc(sizeof(double) * (size_t)a->count), c0 = cpu_s();
    for (long i = 0; i < a->count + warmup; i++) {
        double t = now_s();
        if (MQTTAsync_sendMessage(c, topic, &m, NULL) != MQTTASYNC_SUCCESS)
            die("MQTTAsync_sendMessage");
        while (sem_wait(&got_message) != 0)
            ;
        if (i >= warmup)
            us[i - warmup] = (now_s() - t) * 1e6;
    }
    print_latency(us, (int)a->count, cpu_s() - c0);
    finish(c);
}

int main(int argc, char **argv)
{
    struct bench_args a = parse_args(argc, argv, "pub0|pub1|pub2|recv|lat");
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
    else
        die("unknown case");
    return 0;
}
