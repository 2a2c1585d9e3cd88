/* Threads: concurrent publishers next to a loop_start thread, concurrent
 * subscribes, and API calls from inside callbacks (publish chain from
 * on_message, subscribe+publish from on_connect, disconnect from on_message). */
#include "harness.h"

#include <stdint.h>

enum { NTHREADS = 4, PER_THREAD = 1000 };

typedef struct pub_job {
    mqttc_client *c;
    const char *topic;
    uint32_t thread;
    int mids[PER_THREAD];
    int bad_rc, bad_at;
} pub_job;

static void *publisher(void *p) {
    pub_job *j = p;
    j->bad_rc = MQTTC_ERR_SUCCESS;
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        unsigned char pl[8];
        memcpy(pl, &j->thread, 4);
        memcpy(pl + 4, &i, 4);
        int rc = mqttc_publish(j->c, j->topic, pl, 8, 1, false, &j->mids[i]);
        if (rc != MQTTC_ERR_SUCCESS && j->bad_rc == MQTTC_ERR_SUCCESS) {
            j->bad_rc = rc;
            j->bad_at = (int)i;
        }
    }
    return NULL;
}

/* All events of the given types ran on one thread, which is not `not_this`. */
static void check_one_callback_thread(h_rec *r, pthread_t not_this, const char *who) {
    bool have = false;
    pthread_t first = not_this;
    for (int t = 0; t < H_EV_COUNT; t++)
        for (int i = 0; i < h_rec_count(r, (h_ev_type)t); i++) {
            h_event e;
            h_rec_get(r, (h_ev_type)t, i, &e);
            if (!have) {
                first = e.thread;
                have = true;
            }
            CHECK_MSG(pthread_equal(e.thread, first), "%s: callbacks ran on more than one thread", who);
        }
    CHECK_MSG(!pthread_equal(first, not_this), "%s: callback ran on the caller's thread", who);
}

/* On a private broker whose per-client queue (max_queued_messages 10000) holds
 * all 4000 messages: the shared broker's default of 1000 could drop some when
 * the subscriber falls behind (valgrind), which would not be the library's fault. */
static void concurrent_publishers(void) {
    h_broker b;
    h_broker_start(&b, false);
    h_rec srec, prec;
    h_rec_init(&srec);
    h_rec_init(&prec);
    mqttc_client *s = h_client("sub", true, &srec);
    mqttc_client *p = h_client("pub", true, &prec);
    h_connect(s, &srec, b.port, true);
    h_connect(p, &prec, b.port, true);
    char t[H_TOPIC_MAX];
    h_subscribe(s, &srec, h_topic(t, "mt"), 1, true);

    static pub_job jobs[NTHREADS];
    pthread_t th[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        jobs[k].c = p;
        jobs[k].topic = t;
        jobs[k].thread = (uint32_t)k;
        CHECK_EQ(pthread_create(&th[k], NULL, publisher, &jobs[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++) CHECK_EQ(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < NTHREADS; k++)
        CHECK_MSG(jobs[k].bad_rc == MQTTC_ERR_SUCCESS, "thread %d: publish #%d returned %d (%s)", k, jobs[k].bad_at,
                  jobs[k].bad_rc, h_rc_name(jobs[k].bad_rc));

    /* every publish got its own mid */
    static unsigned char mid_used[65536];
    memset(mid_used, 0, sizeof mid_used);
    for (int k = 0; k < NTHREADS; k++)
        for (int i = 0; i < PER_THREAD; i++) {
            int m = jobs[k].mids[i];
            CHECK_MSG(m >= 1 && m <= 65535, "thread %d publish %d: mid %d", k, i, m);
            CHECK_MSG(!mid_used[m], "mid %d handed out twice", m);
            mid_used[m] = 1;
        }

    const int total = NTHREADS * PER_THREAD;
    CHECK_MSG(h_rec_wait(&prec, H_EV_PUBLISH, total, NULL, 30000), "on_publish fired %d times of %d",
              h_rec_count(&prec, H_EV_PUBLISH), total);
    CHECK_MSG(h_rec_wait(&srec, H_EV_MESSAGE, total, NULL, 30000), "subscriber got %d messages of %d",
              h_rec_count(&srec, H_EV_MESSAGE), total);
    h_sleep_ms(300); /* duplicates would show up now */
    CHECK_EQ(h_rec_count(&prec, H_EV_PUBLISH), total);
    CHECK_EQ(h_rec_count(&srec, H_EV_MESSAGE), total);
    for (int i = 0; i < total; i++) {
        h_event e;
        h_rec_get(&prec, H_EV_PUBLISH, i, &e);
        CHECK_MSG(e.a >= 1 && e.a <= 65535 && mid_used[e.a] == 1, "on_publish mid %d unknown or repeated", e.a);
        mid_used[e.a] = 2;
    }

    /* each (thread, i) exactly once, and each thread's messages in order */
    static unsigned char seen[NTHREADS][PER_THREAD];
    memset(seen, 0, sizeof seen);
    int last[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) last[k] = -1;
    for (int n = 0; n < total; n++) {
        h_event e;
        h_rec_get(&srec, H_EV_MESSAGE, n, &e);
        CHECK_EQ(e.payloadlen, 8);
        uint32_t k, i;
        memcpy(&k, e.payload, 4);
        memcpy(&i, e.payload + 4, 4);
        CHECK_MSG(k < NTHREADS && i < PER_THREAD, "garbled payload (thread %u, i %u)", k, i);
        CHECK_MSG(!seen[k][i], "message (thread %u, %u) received twice", k, i);
        seen[k][i] = 1;
        CHECK_MSG((int)i > last[k], "thread %u: message %u arrived after %d", k, i, last[k]);
        last[k] = (int)i;
        CHECK_EQ(e.qos, 1);
    }
    check_one_callback_thread(&srec, pthread_self(), "subscriber");
    check_one_callback_thread(&prec, pthread_self(), "publisher");
    h_disconnect(s, &srec, true);
    h_disconnect(p, &prec, true);
    mqttc_client_destroy(s);
    mqttc_client_destroy(p);
    h_rec_free(&srec);
    h_rec_free(&prec);
    h_broker_cleanup(&b);
}

typedef struct sub_job {
    mqttc_client *c;
    int k;
    int mids[100];
    int bad_rc;
} sub_job;

static void *subscriber_thread(void *p) {
    sub_job *j = p;
    for (int i = 0; i < 100; i++) {
        char t[H_TOPIC_MAX];
        h_topic(t, "cs/%d/%d", j->k, i);
        int rc = i % 2 ? mqttc_unsubscribe(j->c, t, &j->mids[i]) : mqttc_subscribe(j->c, t, i % 3, &j->mids[i]);
        if (rc != MQTTC_ERR_SUCCESS) j->bad_rc = rc;
    }
    return NULL;
}

/* subscribe/unsubscribe from 4 threads: unique mids, one callback per mid. */
static void concurrent_subscribes(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("csub", true, &rec);
    h_connect(c, &rec, h_port(), true);
    static sub_job jobs[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        jobs[k].c = c;
        jobs[k].k = k;
        CHECK_EQ(pthread_create(&th[k], NULL, subscriber_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) CHECK_EQ(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < 4; k++) CHECK_RC(jobs[k].bad_rc, MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec, H_EV_SUBSCRIBE, 200, NULL, 10000), "on_subscribe %d of 200",
              h_rec_count(&rec, H_EV_SUBSCRIBE));
    CHECK_MSG(h_rec_wait(&rec, H_EV_UNSUBSCRIBE, 200, NULL, 10000), "on_unsubscribe %d of 200",
              h_rec_count(&rec, H_EV_UNSUBSCRIBE));
    static unsigned char used[65536];
    memset(used, 0, sizeof used);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 100; i++) {
            int m = jobs[k].mids[i];
            CHECK_MSG(m >= 1 && m <= 65535 && !used[m], "mid %d invalid or repeated", m);
            used[m] = 1;
            CHECK_EQ(h_rec_count_a(&rec, i % 2 ? H_EV_UNSUBSCRIBE : H_EV_SUBSCRIBE, m), 1);
        }
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* on_message publishes the next link of the chain: .../chain/N -> .../chain/N+1 */
static void chain_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_rec_on_message(c, ud, m);
    h_rec *r = ud;
    const char *base = r->ctx;
    size_t bl = strlen(base);
    if (strncmp(m->topic, base, bl) != 0) return;
    int n = atoi(m->topic + bl);
    if (n >= 10) return;
    char t[H_TOPIC_MAX + 16];
    snprintf(t, sizeof t, "%s%d", base, n + 1);
    int rc = mqttc_publish(c, t, &n, sizeof n, 1, false, NULL);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("publish inside on_message returned %d (%s)", rc, h_rc_name(rc));
}

static void chain(bool threaded) {
    h_rec rec;
    h_rec_init(&rec);
    char base[H_TOPIC_MAX], filter[H_TOPIC_MAX], first[H_TOPIC_MAX];
    h_topic(base, "chain/");
    h_topic(filter, "chain/#");
    h_topic(first, "chain/0");
    rec.ctx = base;
    mqttc_client *c = h_client("chain", true, &rec);
    mqttc_on_message_set(c, chain_on_message);
    h_connect(c, &rec, h_port(), threaded);
    h_subscribe(c, &rec, filter, 1, threaded);
    CHECK_RC(mqttc_publish(c, first, NULL, 0, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec, H_EV_MESSAGE, 11, threaded ? NULL : c, 10000), "chain stopped after %d links",
              h_rec_count(&rec, H_EV_MESSAGE));
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 11, threaded ? NULL : c, 5000));
    for (int i = 0; i <= 10; i++) {
        h_event e;
        h_rec_get(&rec, H_EV_MESSAGE, i, &e);
        char want[H_TOPIC_MAX + 16];
        snprintf(want, sizeof want, "%s%d", base, i);
        CHECK_STREQ(e.topic, want);
        if (i > 0) {
            int prev = i - 1;
            CHECK_MEMEQ(e.payload, e.payloadlen, &prev, sizeof prev);
        }
    }
    h_disconnect(c, &rec, threaded);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}
static void publish_chain_from_on_message_threaded(void) { chain(true); }
static void publish_chain_from_on_message_driven(void) { chain(false); }

typedef struct oc_ctx {
    char topic[H_TOPIC_MAX];
    atomic_int sub_mid, pub_mid, rc1, rc2;
} oc_ctx;

static void subscribe_publish_on_connect(mqttc_client *c, void *ud, int flags, int rc) {
    h_rec_on_connect(c, ud, flags, rc);
    oc_ctx *x = ((h_rec *)ud)->ctx;
    int m1 = 0, m2 = 0;
    atomic_store(&x->rc1, mqttc_subscribe(c, x->topic, 2, &m1));
    atomic_store(&x->rc2, mqttc_publish(c, x->topic, "from on_connect", 15, 1, false, &m2));
    atomic_store(&x->sub_mid, m1);
    atomic_store(&x->pub_mid, m2);
}

static void subscribe_and_publish_from_on_connect(void) {
    h_rec rec;
    h_rec_init(&rec);
    static oc_ctx x;
    h_topic(x.topic, "oc");
    rec.ctx = &x;
    mqttc_client *c = h_client("oc", true, &rec);
    mqttc_on_connect_set(c, subscribe_publish_on_connect);
    CHECK_RC(mqttc_connect_async(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    CHECK(h_rec_wait(&rec, H_EV_SUBSCRIBE, 1, NULL, 5000));
    CHECK_MSG(h_rec_wait(&rec, H_EV_MESSAGE, 1, NULL, 5000), "message published from on_connect not received");
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 1, NULL, 5000));
    CHECK_RC(atomic_load(&x.rc1), MQTTC_ERR_SUCCESS);
    CHECK_RC(atomic_load(&x.rc2), MQTTC_ERR_SUCCESS);
    h_event e;
    h_rec_get(&rec, H_EV_SUBSCRIBE, 0, &e);
    CHECK_EQ(e.a, atomic_load(&x.sub_mid));
    CHECK_EQ(e.granted[0], 2);
    h_rec_get(&rec, H_EV_PUBLISH, 0, &e);
    CHECK_EQ(e.a, atomic_load(&x.pub_mid));
    CHECK_NE(atomic_load(&x.sub_mid), atomic_load(&x.pub_mid));
    h_rec_get(&rec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "from on_connect", 15);
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void disconnect_from_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_rec_on_message(c, ud, m);
    int rc = mqttc_disconnect(c);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("disconnect inside on_message returned %d", rc);
}

static void disconnect_from_callback_with_loop_start(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("dcb", true, &rec);
    h_connect(c, &rec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "dcb"), 1, true);
    mqttc_on_message_set(c, disconnect_from_on_message);
    CHECK_RC(mqttc_publish(c, t, "bye", 3, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_rec_count(&rec, H_EV_MESSAGE), 1);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(concurrent_publishers, 60),
        H_CASE(concurrent_subscribes, 30),
        H_CASE(publish_chain_from_on_message_threaded, 20),
        H_CASE(publish_chain_from_on_message_driven, 20),
        H_CASE(subscribe_and_publish_from_on_connect, 20),
        H_CASE(disconnect_from_callback_with_loop_start, 20),
    };
    return h_main(argc, argv, "test_threads", cases, sizeof cases / sizeof cases[0]);
}
