/* Publish round trips at QoS 0/1/2: binary payloads with NUL bytes, message
 * fields in on_message, mids (counter, on_publish, wait_for_publish,
 * is_published), empty and large payloads, ordering, QoS downgrade. */
#include "harness.h"

typedef struct pair {
    h_rec srec, prec;
    mqttc_client *sub, *pub;
} pair;

static void pair_up(pair *p) {
    h_rec_init(&p->srec);
    h_rec_init(&p->prec);
    p->sub = h_client("sub", true, &p->srec);
    p->pub = h_client("pub", true, &p->prec);
    h_connect(p->sub, &p->srec, h_port(), true);
    h_connect(p->pub, &p->prec, h_port(), true);
}

static void pair_down(pair *p) {
    h_disconnect(p->sub, &p->srec, true);
    h_disconnect(p->pub, &p->prec, true);
    mqttc_client_destroy(p->sub);
    mqttc_client_destroy(p->pub);
    h_rec_free(&p->srec);
    h_rec_free(&p->prec);
}

static void fill_binary(unsigned char *b, int n, int seed) {
    for (int i = 0; i < n; i++) b[i] = (unsigned char)((i * 131 + seed * 7) & 0xff);
    if (n > 0) b[0] = 0;
    if (n > 3) b[n / 2] = 0;
    if (n > 1) b[n - 1] = 0;
}

/* The new publisher's first three publishes (QoS 0, 1, 2) get mids 1, 2, 3:
 * one counter for all QoS levels, starting at 1 (API.md "Wire behaviour"). */
static void qos_round_trips_binary(void) {
    pair p;
    pair_up(&p);
    char t[3][H_TOPIC_MAX];
    for (int q = 0; q < 3; q++) CHECK_EQ(h_subscribe(p.sub, &p.srec, h_topic(t[q], "q%d", q), 2, true), 2);
    unsigned char payload[3][300];
    int mids[3];
    for (int q = 0; q < 3; q++) {
        fill_binary(payload[q], 300, q);
        mids[q] = -1;
        CHECK_RC(mqttc_publish(p.pub, t[q], payload[q], 300, q, false, &mids[q]), MQTTC_ERR_SUCCESS);
        CHECK_MSG(mids[q] == q + 1, "publish #%d (QoS %d) got mid %d, expected %d", q + 1, q, mids[q], q + 1);
    }
    for (int q = 0; q < 3; q++) {
        CHECK_RC(mqttc_wait_for_publish(p.pub, mids[q], 5000), MQTTC_ERR_SUCCESS);
        CHECK_MSG(mqttc_is_published(p.pub, mids[q]), "is_published(%d) false after wait_for_publish", mids[q]);
    }
    CHECK(h_rec_wait(&p.prec, H_EV_PUBLISH, 3, NULL, 5000));
    for (int q = 0; q < 3; q++)
        CHECK_MSG(h_rec_count_a(&p.prec, H_EV_PUBLISH, mids[q]) == 1, "on_publish for mid %d seen %d times", mids[q],
                  h_rec_count_a(&p.prec, H_EV_PUBLISH, mids[q]));
    CHECK_MSG(h_rec_wait(&p.srec, H_EV_MESSAGE, 3, NULL, 5000), "subscriber got %d of 3 messages",
              h_rec_count(&p.srec, H_EV_MESSAGE));
    for (int i = 0; i < 3; i++) {
        h_event e;
        h_rec_get(&p.srec, H_EV_MESSAGE, i, &e);
        int q = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(e.topic, t[k]) == 0) q = k;
        CHECK_MSG(q >= 0, "message on unexpected topic %s", e.topic);
        CHECK_MEMEQ(e.payload, e.payloadlen, payload[q], 300);
        CHECK_EQ(e.qos, q);
        CHECK(!e.retain);
        CHECK(!e.dup);
        if (q == 0)
            CHECK_EQ(e.mid, 0); /* QoS 0 has no packet id (paho: mid 0) */
        else
            CHECK_GT(e.mid, 0);
        CHECK(e.client == p.sub);
        CHECK(!pthread_equal(e.thread, pthread_self()));
    }
    CHECK_EQ(h_rec_count(&p.srec, H_EV_MESSAGE), 3);
    pair_down(&p);
}

static void empty_payload_each_qos(void) {
    pair p;
    pair_up(&p);
    char t[H_TOPIC_MAX];
    h_subscribe(p.sub, &p.srec, h_topic(t, "empty"), 2, true);
    for (int q = 0; q < 3; q++) {
        int mid = 0;
        CHECK_RC(mqttc_publish(p.pub, t, NULL, 0, q, false, &mid), MQTTC_ERR_SUCCESS);
        CHECK_RC(mqttc_wait_for_publish(p.pub, mid, 5000), MQTTC_ERR_SUCCESS);
        CHECK(h_rec_wait(&p.srec, H_EV_MESSAGE, q + 1, NULL, 5000));
        h_event e;
        h_rec_get(&p.srec, H_EV_MESSAGE, q, &e);
        CHECK_EQ(e.payloadlen, 0);
        CHECK_EQ(e.qos, q);
        CHECK_STREQ(e.topic, t);
    }
    /* a non-NULL pointer with length 0 is also an empty payload */
    CHECK_RC(mqttc_publish(p.pub, t, "ignored", 0, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&p.srec, H_EV_MESSAGE, 4, NULL, 5000));
    h_event e;
    h_rec_get(&p.srec, H_EV_MESSAGE, 3, &e);
    CHECK_EQ(e.payloadlen, 0);
    pair_down(&p);
}

static void large_payloads(void) {
    pair p;
    pair_up(&p);
    char t[H_TOPIC_MAX];
    h_subscribe(p.sub, &p.srec, h_topic(t, "large"), 2, true);
    static const int sizes[] = {127, 128, 16383, 16384, 70000, 1000000};
    const int n = (int)(sizeof sizes / sizeof sizes[0]);
    unsigned char *buf = malloc(1000000);
    CHECK(buf != NULL);
    for (int i = 0; i < n; i++) {
        fill_binary(buf, sizes[i], i);
        int mid = 0;
        CHECK_RC(mqttc_publish(p.pub, t, buf, sizes[i], 1 + i % 2, false, &mid), MQTTC_ERR_SUCCESS);
        CHECK_RC(mqttc_wait_for_publish(p.pub, mid, 10000), MQTTC_ERR_SUCCESS);
    }
    CHECK(h_rec_wait(&p.srec, H_EV_MESSAGE, n, NULL, 10000));
    for (int i = 0; i < n; i++) {
        h_event e;
        h_rec_get(&p.srec, H_EV_MESSAGE, i, &e);
        fill_binary(buf, sizes[i], i);
        CHECK_MEMEQ(e.payload, e.payloadlen, buf, sizes[i]);
        CHECK_EQ(e.qos, 1 + i % 2);
    }
    free(buf);
    pair_down(&p);
}

/* Messages of one publisher on one topic at one QoS arrive in order. */
static void order_is_kept(void) {
    pair p;
    pair_up(&p);
    char t[H_TOPIC_MAX];
    h_subscribe(p.sub, &p.srec, h_topic(t, "order"), 1, true);
    const int n = 300;
    int last_mid = 0;
    for (int i = 0; i < n; i++) {
        char buf[16];
        int len = snprintf(buf, sizeof buf, "%d", i);
        int mid = 0;
        CHECK_RC(mqttc_publish(p.pub, t, buf, len, 1, false, &mid), MQTTC_ERR_SUCCESS);
        CHECK_MSG(mid == last_mid + 1, "mid %d after %d: mids must go up by one", mid, last_mid);
        last_mid = mid;
    }
    CHECK_MSG(h_rec_wait(&p.srec, H_EV_MESSAGE, n, NULL, 15000), "got %d of %d", h_rec_count(&p.srec, H_EV_MESSAGE), n);
    for (int i = 0; i < n; i++) {
        h_event e;
        h_rec_get(&p.srec, H_EV_MESSAGE, i, &e);
        CHECK_MSG(atoi((char *)e.payload) == i, "message %d carries \"%s\"", i, (char *)e.payload);
    }
    CHECK(h_rec_wait(&p.prec, H_EV_PUBLISH, n, NULL, 10000));
    for (int i = 0; i < n; i++) {
        h_event e;
        h_rec_get(&p.prec, H_EV_PUBLISH, i, &e);
        CHECK_MSG(e.a == i + 1, "on_publish #%d has mid %d", i, e.a);
    }
    pair_down(&p);
}

/* A QoS 1 subscription delivers QoS 2 publishes at QoS 1, a QoS 0 one at QoS 0. */
static void qos_is_downgraded_to_subscription(void) {
    pair p;
    pair_up(&p);
    char t0[H_TOPIC_MAX], t1[H_TOPIC_MAX];
    CHECK_EQ(h_subscribe(p.sub, &p.srec, h_topic(t0, "d0"), 0, true), 0);
    CHECK_EQ(h_subscribe(p.sub, &p.srec, h_topic(t1, "d1"), 1, true), 1);
    CHECK_RC(mqttc_publish(p.pub, t0, "x", 1, 2, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&p.srec, H_EV_MESSAGE, 1, NULL, 5000));
    CHECK_RC(mqttc_publish(p.pub, t1, "y", 1, 2, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&p.srec, H_EV_MESSAGE, 2, NULL, 5000));
    h_event e;
    h_rec_get(&p.srec, H_EV_MESSAGE, 0, &e);
    CHECK_EQ(e.qos, 0);
    CHECK_EQ(e.mid, 0);
    h_rec_get(&p.srec, H_EV_MESSAGE, 1, &e);
    CHECK_EQ(e.qos, 1);
    CHECK_GT(e.mid, 0);
    pair_down(&p);
}

/* Publishing to itself in a driven (no thread) loop: every callback on this thread. */
static void self_round_trip_driven(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("self", true, &rec);
    h_connect(c, &rec, h_port(), false);
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "self"), 2, false);
    static const unsigned char pl[] = {0, 1, 0, 2, 0};
    for (int q = 0; q < 3; q++) {
        int mid = 0;
        CHECK_RC(mqttc_publish(c, t, pl, (int)sizeof pl, q, q == 1, &mid), MQTTC_ERR_SUCCESS);
        CHECK(h_rec_wait(&rec, H_EV_MESSAGE, q + 1, c, 5000));
        CHECK(h_rec_wait(&rec, H_EV_PUBLISH, q + 1, c, 5000));
        h_event e;
        h_rec_get(&rec, H_EV_PUBLISH, q, &e);
        CHECK_EQ(e.a, mid);
        CHECK(mqttc_is_published(c, mid));
        h_rec_get(&rec, H_EV_MESSAGE, q, &e);
        CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);
        CHECK_EQ(e.qos, q);
        CHECK(!e.retain); /* live delivery: retain is 0 even for a retained publish */
        CHECK(pthread_equal(e.thread, pthread_self()));
    }
    /* clear the retained message */
    CHECK_RC(mqttc_publish(c, t, NULL, 0, 1, true, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 4, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void slow_on_publish(mqttc_client *c, void *ud, int mid) {
    h_sleep_ms(300);
    h_rec_on_publish(c, ud, mid);
}

/* paho 1.6 runs on_publish first and only then marks the message published
 * (_do_on_publish), so when wait_for_publish returns or is_published turns true
 * the callback has finished. */
static void on_publish_done_before_wait_returns(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("slowpub", true, &rec);
    mqttc_on_publish_set(c, slow_on_publish);
    h_connect(c, &rec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_topic(t, "slowpub");
    for (int q = 0; q < 3; q++) {
        int mid = 0;
        CHECK_RC(mqttc_publish(c, t, "x", 1, q, false, &mid), MQTTC_ERR_SUCCESS);
        CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
        CHECK_MSG(h_rec_count_a(&rec, H_EV_PUBLISH, mid) == 1,
                  "QoS %d: wait_for_publish returned before on_publish (mid %d) finished", q, mid);
    }
    int mid = 0;
    CHECK_RC(mqttc_publish(c, t, "y", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    int64_t end = h_now_ms() + 5000;
    while (!mqttc_is_published(c, mid) && h_now_ms() < end) h_sleep_ms(1);
    CHECK(mqttc_is_published(c, mid));
    CHECK_MSG(h_rec_count_a(&rec, H_EV_PUBLISH, mid) == 1, "is_published true before on_publish finished");
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(qos_round_trips_binary, 30),
        H_CASE(empty_payload_each_qos, 30),
        H_CASE(large_payloads, 60),
        H_CASE(order_is_kept, 60),
        H_CASE(qos_is_downgraded_to_subscription, 30),
        H_CASE(self_round_trip_driven, 30),
        H_CASE(on_publish_done_before_wait_returns, 30),
    };
    return h_main(argc, argv, "test_qos", cases, sizeof cases / sizeof cases[0]);
}
