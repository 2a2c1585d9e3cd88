/* One-shot helpers (paho publish.single/multiple, subscribe.simple/callback):
 * messages reach a subscriber, credentials work and bad ones fail without
 * hanging, subscribe_simple's retained switch and message count, and
 * subscribe_callback returning once its callback disconnects. */
#include "harness.h"

#include <unistd.h>

static void opts_for(mqttc_conn_opts *o, int port) {
    mqttc_conn_opts_init(o);
    o->hostname = h_host();
    o->port = port;
}

typedef struct listener {
    h_rec rec;
    mqttc_client *c;
    char t[H_TOPIC_MAX];
} listener;

static void listen_on(listener *l, const char *suffix) {
    h_rec_init(&l->rec);
    l->c = h_client("listen", true, &l->rec);
    h_connect(l->c, &l->rec, h_port(), true);
    h_topic(l->t, "%s", suffix);
    h_subscribe(l->c, &l->rec, l->t, 2, true);
}

static void listen_end(listener *l) {
    h_disconnect(l->c, &l->rec, true);
    mqttc_client_destroy(l->c);
    h_rec_free(&l->rec);
}

static void publish_single_each_qos(void) {
    listener l;
    listen_on(&l, "single");
    mqttc_conn_opts o;
    opts_for(&o, h_port());
    static const unsigned char pl[] = {0, 's', 0, 'i', 0xfe};
    for (int q = 0; q < 3; q++) {
        CHECK_RC(mqttc_publish_single(l.t, pl, (int)sizeof pl, q, false, &o), MQTTC_ERR_SUCCESS);
        CHECK_MSG(h_rec_wait(&l.rec, H_EV_MESSAGE, q + 1, NULL, 5000), "publish_single QoS %d not received", q);
        h_event e;
        h_rec_get(&l.rec, H_EV_MESSAGE, q, &e);
        CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);
        CHECK_EQ(e.qos, q);
        CHECK_STREQ(e.topic, l.t);
    }
    /* a fixed client id and an empty payload */
    char id[64];
    o.client_id = h_client_id(id, "single");
    CHECK_RC(mqttc_publish_single(l.t, NULL, 0, 1, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&l.rec, H_EV_MESSAGE, 4, NULL, 5000));
    h_event e;
    h_rec_get(&l.rec, H_EV_MESSAGE, 3, &e);
    CHECK_EQ(e.payloadlen, 0);
    listen_end(&l);
}

static void publish_single_with_credentials(void) {
    listener l;
    listen_on(&l, "auth");
    mqttc_conn_opts o;
    opts_for(&o, h_auth_port());
    mqttc_auth good = {h_env("MQTTC_TEST_USER"), h_env("MQTTC_TEST_PASS")};
    o.auth = &good;
    CHECK_RC(mqttc_publish_single(l.t, "authed", 6, 1, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&l.rec, H_EV_MESSAGE, 1, NULL, 5000));
    mqttc_auth bad = {h_env("MQTTC_TEST_USER"), "wrong-password"};
    o.auth = &bad;
    int64_t t0 = h_now_ms();
    int rc = mqttc_publish_single(l.t, "nope", 4, 1, false, &o);
    h_log("publish_single with a wrong password -> %d (%s)", rc, h_rc_name(rc));
    CHECK_RC(rc, MQTTC_ERR_CONN_REFUSED);
    CHECK_MSG(h_now_ms() - t0 < 5000 * h_time_scale(), "refused publish_single took %lld ms", (long long)(h_now_ms() - t0));
    o.auth = NULL;
    CHECK_RC(mqttc_publish_single(l.t, "anon", 4, 1, false, &o), MQTTC_ERR_CONN_REFUSED);
    h_sleep_ms(200);
    CHECK_EQ(h_rec_count(&l.rec, H_EV_MESSAGE), 1);
    listen_end(&l);
}

static void publish_multiple_all_received(void) {
    listener l;
    listen_on(&l, "multi/#");
    char t1[H_TOPIC_MAX], t2[H_TOPIC_MAX];
    h_topic(t1, "multi/a");
    h_topic(t2, "multi/b");
    mqttc_publish_msg msgs[6] = {
        {t1, "m0", 2, 1, false}, {t2, "m1", 2, 2, false}, {t1, "m2", 2, 1, false},
        {t2, NULL, 0, 1, false}, {t1, "m4\0x", 4, 2, false}, {t1, "m5", 2, 1, false},
    };
    mqttc_conn_opts o;
    opts_for(&o, h_port());
    CHECK_RC(mqttc_publish_multiple(msgs, 6, &o), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&l.rec, H_EV_MESSAGE, 6, NULL, 5000), "got %d of 6", h_rec_count(&l.rec, H_EV_MESSAGE));
    h_sleep_ms(100);
    CHECK_EQ(h_rec_count(&l.rec, H_EV_MESSAGE), 6);
    /* mosquitto forwards a QoS 2 message only at PUBREL, so only messages of the
     * same topic and QoS keep their relative order (MQTT-4.6.0) */
    int last[6];
    for (int i = 0; i < 6; i++) last[i] = -1;
    for (int k = 0; k < 6; k++) {
        h_event e;
        h_rec_get(&l.rec, H_EV_MESSAGE, k, &e);
        int i = -1;
        for (int x = 0; x < 6; x++)
            if (strcmp(e.topic, msgs[x].topic) == 0 && e.payloadlen == msgs[x].payloadlen &&
                memcmp(e.payload, msgs[x].payload ? msgs[x].payload : "", (size_t)e.payloadlen) == 0)
                i = x;
        CHECK_MSG(i >= 0, "message %d does not match any published one", k);
        CHECK_EQ(e.qos, msgs[i].qos);
        for (int x = i + 1; x < 6; x++)
            if (strcmp(msgs[x].topic, msgs[i].topic) == 0 && msgs[x].qos == msgs[i].qos)
                CHECK_MSG(last[x] < 0, "m%d arrived after m%d (same topic and QoS)", i, x);
        last[i] = k;
    }
    listen_end(&l);
}

typedef struct multi_job {
    const mqttc_publish_msg *msgs;
    int n;
    mqttc_conn_opts o;
    int rc;
} multi_job;

static void *multi_thread(void *p) {
    multi_job *j = p;
    j->rc = mqttc_publish_multiple(j->msgs, j->n, &j->o);
    return NULL;
}

/* On the wire (a scripted peer acting as broker): PUBLISH packets in the given
 * order with their QoS, retain flag and payload, then DISCONNECT. */
static void publish_multiple_wire_order(void) {
    static const mqttc_publish_msg msgs[5] = {
        {"w/a", "m0", 2, 1, false}, {"w/b", "m1", 2, 2, true}, {"w/a", "m2", 2, 0, false},
        {"w/c", NULL, 0, 1, false}, {"w/a", "m4", 2, 2, false},
    };
    int port;
    int lfd = h_listen(&port);
    static multi_job j;
    j.msgs = msgs;
    j.n = 5;
    mqttc_conn_opts_init(&j.o);
    j.o.hostname = "127.0.0.1";
    j.o.port = port;
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, multi_thread, &j), 0);
    int fd = h_accept(lfd, 5000);
    CHECK_MSG(fd >= 0, "publish_multiple did not connect");
    static h_pkt p;
    CHECK_EQ(h_pkt_read(fd, &p, 5000), 1);
    CHECK_EQ(p.type, 1);
    static const unsigned char connack[] = {0x20, 2, 0, 0};
    h_pkt_write(fd, connack, 4);
    int seen = 0;
    bool disconnected = false;
    while (!disconnected) {
        int r = h_pkt_read(fd, &p, 5000);
        CHECK_MSG(r == 1, "peer: no packet within 5 s (%d PUBLISH seen)", seen);
        unsigned char ack[4] = {0, 2, (unsigned char)(p.packet_id >> 8), (unsigned char)(p.packet_id & 255)};
        switch (p.type) {
        case 3: {
            CHECK_MSG(seen < 5, "more PUBLISH packets than messages");
            const mqttc_publish_msg *m = &msgs[seen];
            CHECK_MSG(strcmp(p.topic, m->topic) == 0, "PUBLISH #%d on %s, expected %s", seen, p.topic, m->topic);
            CHECK_EQ(p.qos, m->qos);
            CHECK_EQ(p.retain, m->retain);
            int off = 2 + (int)strlen(p.topic) + (p.qos ? 2 : 0);
            CHECK_MEMEQ(p.body + off, p.len - off, m->payload, m->payloadlen);
            seen++;
            if (p.qos == 1) ack[0] = 0x40;
            if (p.qos == 2) ack[0] = 0x50;
            if (p.qos) h_pkt_write(fd, ack, 4);
            break;
        }
        case 6:
            ack[0] = 0x70;
            h_pkt_write(fd, ack, 4);
            break;
        case 14:
            disconnected = true;
            break;
        default:
            H_FAIL("peer: unexpected packet type %d", p.type);
        }
    }
    CHECK_EQ(seen, 5);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_RC(j.rc, MQTTC_ERR_SUCCESS);
    close(fd);
    close(lfd);
}

static void subscribe_simple_retained(void) {
    mqttc_conn_opts o;
    opts_for(&o, h_port());
    char t[H_TOPIC_MAX];
    h_topic(t, "simple/r");
    CHECK_RC(mqttc_publish_single(t, "kept\0!", 6, 1, true, &o), MQTTC_ERR_SUCCESS);
    const char *topics[1] = {t};
    mqttc_message *msgs = NULL;
    CHECK_RC(mqttc_subscribe_simple(topics, 1, 1, 1, true, &o, &msgs), MQTTC_ERR_SUCCESS);
    CHECK(msgs != NULL);
    CHECK_STREQ(msgs[0].topic, t);
    CHECK_MEMEQ(msgs[0].payload, msgs[0].payloadlen, "kept\0!", 6);
    CHECK(msgs[0].retain);
    CHECK_EQ(msgs[0].qos, 1);
    mqttc_messages_free(msgs, 1);
    CHECK_RC(mqttc_publish_single(t, NULL, 0, 1, true, &o), MQTTC_ERR_SUCCESS); /* clear */
}

typedef struct simple_job {
    const char *const *topics;
    int ntopics, count;
    bool retained;
    mqttc_conn_opts o;
    mqttc_message *msgs;
    int rc;
    atomic_int done;
} simple_job;

static void *simple_thread(void *p) {
    simple_job *j = p;
    j->rc = mqttc_subscribe_simple(j->topics, j->ntopics, 1, j->count, j->retained, &j->o, &j->msgs);
    atomic_store(&j->done, 1);
    return NULL;
}

/* Publishes "live-N" every 100 ms, alternating over topics, until *done. */
static int feed_until(atomic_int *done, const char *const *topics, int ntopics) {
    mqttc_conn_opts o;
    opts_for(&o, h_port());
    int n = 0;
    int64_t end = h_now_ms() + 15000 * h_time_scale();
    while (!atomic_load(done) && h_now_ms() < end) {
        char pl[32];
        int len = snprintf(pl, sizeof pl, "live-%d", n);
        CHECK_RC(mqttc_publish_single(topics[n % ntopics], pl, len, 1, false, &o), MQTTC_ERR_SUCCESS);
        n++;
        h_sleep_ms(100);
    }
    CHECK_MSG(atomic_load(done), "helper did not return within 15 s while messages kept coming");
    return n;
}

static void subscribe_simple_skips_retained(void) {
    mqttc_conn_opts o;
    opts_for(&o, h_port());
    char t1[H_TOPIC_MAX], t2[H_TOPIC_MAX];
    h_topic(t1, "simple/a");
    h_topic(t2, "simple/b");
    CHECK_RC(mqttc_publish_single(t1, "retained", 8, 1, true, &o), MQTTC_ERR_SUCCESS);
    static const char *topics[2];
    topics[0] = t1;
    topics[1] = t2;
    static simple_job j;
    j.topics = topics;
    j.ntopics = 2;
    j.count = 3;
    j.retained = false;
    opts_for(&j.o, h_port());
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, simple_thread, &j), 0);
    feed_until(&j.done, topics, 2);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_RC(j.rc, MQTTC_ERR_SUCCESS);
    int first = -1;
    for (int i = 0; i < 3; i++) {
        mqttc_message *m = &j.msgs[i];
        CHECK_MSG(!m->retain, "subscribe_simple(retained=false) returned a retained message");
        int n = -1;
        char buf[32] = {0};
        CHECK_MSG(m->payloadlen > 5 && m->payloadlen < 32, "unexpected payload length %d", m->payloadlen);
        memcpy(buf, m->payload, (size_t)m->payloadlen); /* payloads are not NUL-terminated */
        CHECK_MSG(sscanf(buf, "live-%d", &n) == 1, "unexpected payload \"%s\"", buf);
        if (i == 0) first = n;
        CHECK_EQ(n, first + i); /* consecutive: nothing skipped, nothing repeated */
        CHECK_STREQ(m->topic, n % 2 ? t2 : t1);
    }
    mqttc_messages_free(j.msgs, 3);
    CHECK_RC(mqttc_publish_single(t1, NULL, 0, 1, true, &o), MQTTC_ERR_SUCCESS);
}

typedef struct cb_ctx {
    atomic_int calls;
    int first, bad_sequence;
} cb_ctx;

static cb_ctx g_ctx;

static void three_then_disconnect(mqttc_client *c, void *ud, const mqttc_message *m) {
    cb_ctx *x = ud;
    if (x != &g_ctx) H_FAIL("subscribe_callback passed userdata %p, not the one given (%p)", ud, (void *)&g_ctx);
    int n = -1;
    char buf[32] = {0};
    memcpy(buf, m->payload, m->payloadlen < 31 ? (size_t)m->payloadlen : 31);
    sscanf(buf, "live-%d", &n);
    int k = atomic_fetch_add(&x->calls, 1);
    if (k == 0) x->first = n;
    if (n != x->first + k) x->bad_sequence = 1;
    if (k == 2) {
        int rc = mqttc_disconnect(c);
        if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_disconnect in the subscribe_callback callback: %d", rc);
    }
}

typedef struct cb_job {
    const char *const *topics;
    cb_ctx *ctx;
    mqttc_conn_opts o;
    int rc;
    atomic_int done;
} cb_job;

static void *cb_thread(void *p) {
    cb_job *j = p;
    j->rc = mqttc_subscribe_callback(three_then_disconnect, j->topics, 1, 1, j->ctx, &j->o);
    atomic_store(&j->done, 1);
    return NULL;
}

static void subscribe_callback_until_disconnect(void) {
    char t[H_TOPIC_MAX];
    h_topic(t, "cb");
    static const char *topics[1];
    topics[0] = t;
    static cb_job j;
    j.topics = topics;
    j.ctx = &g_ctx;
    opts_for(&j.o, h_port());
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, cb_thread, &j), 0);
    feed_until(&j.done, topics, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_RC(j.rc, MQTTC_ERR_SUCCESS);
    CHECK_MSG(atomic_load(&g_ctx.calls) == 3, "callback ran %d times; it disconnected on the 3rd",
              atomic_load(&g_ctx.calls));
    CHECK_MSG(!g_ctx.bad_sequence, "callback saw messages out of sequence");
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(publish_single_each_qos, 20),
        H_CASE(publish_single_with_credentials, 20),
        H_CASE(publish_multiple_all_received, 20),
        H_CASE(publish_multiple_wire_order, 20),
        H_CASE(subscribe_simple_retained, 20),
        H_CASE(subscribe_simple_skips_retained, 30),
        H_CASE(subscribe_callback_until_disconnect, 30),
    };
    return h_main(argc, argv, "test_oneshot", cases, sizeof cases / sizeof cases[0]);
}
