/* subscribe / subscribe_multiple / unsubscribe / unsubscribe_multiple with their
 * callbacks (mid, count, granted qos), wildcards, re-subscription, and
 * message_callback_add / message_callback_remove. */
#include "harness.h"

typedef struct fixture {
    h_rec srec, prec;
    mqttc_client *s, *p;
} fixture;

static void up(fixture *f) {
    h_rec_init(&f->srec);
    h_rec_init(&f->prec);
    f->s = h_client("sub", true, &f->srec);
    f->p = h_client("pub", true, &f->prec);
    h_connect(f->s, &f->srec, h_port(), true);
    h_connect(f->p, &f->prec, h_port(), true);
}

static void down(fixture *f) {
    h_disconnect(f->s, &f->srec, true);
    h_disconnect(f->p, &f->prec, true);
    mqttc_client_destroy(f->s);
    mqttc_client_destroy(f->p);
    h_rec_free(&f->srec);
    h_rec_free(&f->prec);
}

static void pub(fixture *f, const char *topic, int qos) {
    int mid = 0;
    CHECK_RC(mqttc_publish(f->p, topic, topic, (int)strlen(topic), qos, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(f->p, mid, 5000), MQTTC_ERR_SUCCESS);
}

/* Publishes a marker on an always-subscribed topic and waits for it: every
 * message published before it has arrived by then. */
static void sync_marker(fixture *f, const char *marker) {
    int before = h_rec_count_topic(&f->srec, H_EV_MESSAGE, marker);
    pub(f, marker, 1);
    int64_t end = h_now_ms() + 5000 * h_time_scale();
    while (h_rec_count_topic(&f->srec, H_EV_MESSAGE, marker) == before && h_now_ms() < end) h_sleep_ms(2);
    CHECK_MSG(h_rec_count_topic(&f->srec, H_EV_MESSAGE, marker) > before, "marker %s not received", marker);
}

static bool mid_seen(h_rec *r, h_ev_type t, int mid, h_event *out) {
    for (int i = 0; i < h_rec_count(r, t); i++) {
        h_rec_get(r, t, i, out);
        if (out->a == mid) return true;
    }
    return false;
}

struct mid_arg {
    h_rec *r;
    h_ev_type t;
    int mid;
};
static bool mid_cond(void *p) {
    struct mid_arg *a = p;
    return h_rec_count_a(a->r, a->t, a->mid) > 0;
}
static void wait_mid(h_rec *r, h_ev_type t, int mid) {
    struct mid_arg a = {r, t, mid};
    CHECK_MSG(wait_until(mid_cond, &a, NULL, 5000), "no callback (type %d) for mid %d within 5 s", t, mid);
}

static void subscribe_unsubscribe_callbacks(void) {
    fixture f;
    up(&f);
    char t[4][H_TOPIC_MAX], marker[H_TOPIC_MAX];
    for (int i = 0; i < 4; i++) h_topic(t[i], "t%d", i);
    h_topic(marker, "marker");
    h_event e;

    int mid = -1;
    CHECK_RC(mqttc_subscribe(f.s, t[0], 1, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1); /* first packet id of a new client */
    wait_mid(&f.srec, H_EV_SUBSCRIBE, 1);
    CHECK(mid_seen(&f.srec, H_EV_SUBSCRIBE, 1, &e));
    CHECK_EQ(e.b, 1);
    CHECK_EQ(e.granted[0], 1);
    CHECK(e.client == f.s && e.userdata == &f.srec);

    const char *const multi[3] = {t[1], t[2], t[3]};
    const int qos[3] = {0, 1, 2};
    CHECK_RC(mqttc_subscribe_multiple(f.s, 3, multi, qos, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 2);
    wait_mid(&f.srec, H_EV_SUBSCRIBE, 2);
    CHECK(mid_seen(&f.srec, H_EV_SUBSCRIBE, 2, &e));
    CHECK_MSG(e.b == 3, "subscribe_multiple of 3 topics: on_subscribe qos_count %d (must be one SUBSCRIBE packet)", e.b);
    for (int i = 0; i < 3; i++) CHECK_EQ(e.granted[i], qos[i]);
    CHECK_EQ(h_rec_count(&f.srec, H_EV_SUBSCRIBE), 2);

    CHECK_RC(mqttc_subscribe(f.s, marker, 1, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 3);
    wait_mid(&f.srec, H_EV_SUBSCRIBE, 3);

    for (int i = 0; i < 4; i++) pub(&f, t[i], 2);
    sync_marker(&f, marker);
    for (int i = 0; i < 4; i++) {
        CHECK_MSG(h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[i]) == 1, "topic %d received %d times", i,
                  h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[i]));
    }
    for (int i = 0; i < 4; i++) {
        h_rec_get(&f.srec, H_EV_MESSAGE, i, &e);
        int k = e.topic[strlen(e.topic) - 1] - '0';
        CHECK_EQ(e.qos, k == 0 ? 1 : qos[k - 1]);
    }

    CHECK_RC(mqttc_unsubscribe(f.s, t[0], &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 4);
    wait_mid(&f.srec, H_EV_UNSUBSCRIBE, 4);
    const char *const un[2] = {t[1], t[3]};
    CHECK_RC(mqttc_unsubscribe_multiple(f.s, 2, un, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 5);
    wait_mid(&f.srec, H_EV_UNSUBSCRIBE, 5);
    CHECK_EQ(h_rec_count(&f.srec, H_EV_UNSUBSCRIBE), 2);
    CHECK(mid_seen(&f.srec, H_EV_UNSUBSCRIBE, 5, &e));
    CHECK(e.client == f.s && e.userdata == &f.srec);

    for (int i = 0; i < 4; i++) pub(&f, t[i], 1);
    sync_marker(&f, marker);
    CHECK_MSG(h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[0]) == 1, "message after unsubscribe");
    CHECK_MSG(h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[1]) == 1, "message after unsubscribe_multiple");
    CHECK_MSG(h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[3]) == 1, "message after unsubscribe_multiple");
    CHECK_MSG(h_rec_count_topic(&f.srec, H_EV_MESSAGE, t[2]) == 2, "still-subscribed topic lost a message");

    /* unsubscribing from something never subscribed is still acknowledged */
    char never[H_TOPIC_MAX];
    CHECK_RC(mqttc_unsubscribe(f.s, h_topic(never, "never/+"), &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 6);
    wait_mid(&f.srec, H_EV_UNSUBSCRIBE, 6);
    down(&f);
}

static void wildcard_subscriptions(void) {
    fixture f;
    up(&f);
    char fp[H_TOPIC_MAX], fh[H_TOPIC_MAX], marker[H_TOPIC_MAX];
    h_subscribe(f.s, &f.srec, h_topic(fp, "w/+"), 1, true);
    h_subscribe(f.s, &f.srec, h_topic(fh, "h/#"), 1, true);
    h_subscribe(f.s, &f.srec, h_topic(marker, "marker"), 1, true);
    char w1[H_TOPIC_MAX], w2[H_TOPIC_MAX], w3[H_TOPIC_MAX], h1[H_TOPIC_MAX], h2[H_TOPIC_MAX], h3[H_TOPIC_MAX],
        o1[H_TOPIC_MAX];
    pub(&f, h_topic(w1, "w/x"), 1);
    pub(&f, h_topic(w2, "w/x/y"), 1); /* + is one level only */
    pub(&f, h_topic(w3, "w/"), 1);    /* empty level matches + */
    pub(&f, h_topic(h1, "h"), 1);     /* # matches the parent level */
    pub(&f, h_topic(h2, "h/a/b/c"), 1);
    pub(&f, h_topic(h3, "hx/a"), 1);
    pub(&f, h_topic(o1, "other"), 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, w1), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, w2), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, w3), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, h1), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, h2), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, h3), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, o1), 0);
    CHECK_EQ(h_rec_count(&f.srec, H_EV_MESSAGE), 5);
    down(&f);
}

/* Subscribing again to the same filter replaces the subscription's QoS. */
static void resubscribe_changes_qos(void) {
    fixture f;
    up(&f);
    char t[H_TOPIC_MAX];
    CHECK_EQ(h_subscribe(f.s, &f.srec, h_topic(t, "re"), 0, true), 0);
    CHECK_EQ(h_subscribe(f.s, &f.srec, t, 2, true), 2);
    pub(&f, t, 2);
    CHECK(h_rec_wait(&f.srec, H_EV_MESSAGE, 1, NULL, 5000));
    h_sleep_ms(200);
    CHECK_EQ(h_rec_count(&f.srec, H_EV_MESSAGE), 1);
    h_event e;
    h_rec_get(&f.srec, H_EV_MESSAGE, 0, &e);
    CHECK_EQ(e.qos, 2);
    down(&f);
}

static void subscribe_multiple_many(void) {
    fixture f;
    up(&f);
    enum { N = 40 };
    char topics[N][H_TOPIC_MAX];
    const char *ptrs[N];
    int qos[N];
    for (int i = 0; i < N; i++) {
        ptrs[i] = h_topic(topics[i], "many/%d", i);
        qos[i] = i % 3;
    }
    int mid = 0;
    CHECK_RC(mqttc_subscribe_multiple(f.s, N, ptrs, qos, &mid), MQTTC_ERR_SUCCESS);
    wait_mid(&f.srec, H_EV_SUBSCRIBE, mid);
    h_event e;
    CHECK(mid_seen(&f.srec, H_EV_SUBSCRIBE, mid, &e));
    CHECK_EQ(e.b, N);
    for (int i = 0; i < N; i++) CHECK_EQ(e.granted[i], qos[i]);
    for (int i = 0; i < N; i++) pub(&f, ptrs[i], 2);
    CHECK(h_rec_wait(&f.srec, H_EV_MESSAGE, N, NULL, 10000));
    for (int i = 0; i < N; i++) {
        h_rec_get(&f.srec, H_EV_MESSAGE, i, &e);
        CHECK_STREQ(e.topic, ptrs[i]);
        CHECK_EQ(e.qos, qos[i]);
    }
    CHECK_RC(mqttc_unsubscribe_multiple(f.s, N, ptrs, &mid), MQTTC_ERR_SUCCESS);
    wait_mid(&f.srec, H_EV_UNSUBSCRIBE, mid);
    down(&f);
}

static void message_callback_add_remove(void) {
    fixture f;
    up(&f);
    char all[H_TOPIC_MAX], plain[H_TOPIC_MAX], cbh[H_TOPIC_MAX], cbp[H_TOPIC_MAX], marker[H_TOPIC_MAX];
    h_subscribe(f.s, &f.srec, h_topic(all, "#"), 1, true);
    h_topic(plain, "plain");
    h_topic(cbh, "cb/#");
    h_topic(cbp, "cb/+/x");
    h_topic(marker, "marker");
    char x[H_TOPIC_MAX], yx[H_TOPIC_MAX], z[H_TOPIC_MAX], q[H_TOPIC_MAX];
    h_topic(x, "cb/x");
    h_topic(yx, "cb/y/x");
    h_topic(z, "cb/z");
    h_topic(q, "cb/q");

    CHECK_RC(mqttc_message_callback_add(f.s, cbh, h_rec_on_message_f1), MQTTC_ERR_SUCCESS);
    pub(&f, x, 1);
    pub(&f, plain, 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, x), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, x), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, plain), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, plain), 0);
    h_event e;
    h_rec_get(&f.srec, H_EV_MESSAGE_F1, 0, &e);
    CHECK(e.client == f.s && e.userdata == &f.srec);
    CHECK_MEMEQ(e.payload, e.payloadlen, x, strlen(x));

    /* two matching filtered callbacks: both get the message (paho calls every match) */
    CHECK_RC(mqttc_message_callback_add(f.s, cbp, h_rec_on_message_f2), MQTTC_ERR_SUCCESS);
    pub(&f, yx, 1);
    pub(&f, z, 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, yx), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F2, yx), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, yx), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, z), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F2, z), 0);

    /* removing the first one: cb/z goes to on_message again, cb/y/x only to f2 */
    CHECK_RC(mqttc_message_callback_remove(f.s, cbh), MQTTC_ERR_SUCCESS);
    pub(&f, z, 1);
    pub(&f, yx, 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, z), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, z), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F2, yx), 2);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, yx), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, yx), 0);

    CHECK_RC(mqttc_message_callback_remove(f.s, cbp), MQTTC_ERR_SUCCESS);
    pub(&f, yx, 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, yx), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F2, yx), 2);

    /* adding the same filter again replaces its callback */
    CHECK_RC(mqttc_message_callback_add(f.s, cbh, h_rec_on_message_f1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_message_callback_add(f.s, cbh, h_rec_on_message_f2), MQTTC_ERR_SUCCESS);
    pub(&f, q, 1);
    sync_marker(&f, marker);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F2, q), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, q), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, q), 0);

    /* removing a filter that was never added: paho ignores it silently */
    char nope[H_TOPIC_MAX];
    int rc = mqttc_message_callback_remove(f.s, h_topic(nope, "nope/#"));
    h_log("message_callback_remove(unknown filter) -> %d (%s)", rc, h_rc_name(rc));
    CHECK_RC2(rc, MQTTC_ERR_SUCCESS, MQTTC_ERR_NOT_FOUND);
    /* on_message(NULL) with no filtered match: the message is dropped quietly */
    mqttc_on_message_set(f.s, NULL);
    pub(&f, plain, 1);
    h_sleep_ms(300);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, plain), 1);
    CHECK_RC(mqttc_message_callback_remove(f.s, cbh), MQTTC_ERR_SUCCESS);
    down(&f);
}

/* A shared subscription (mosquitto has them under 3.1.1 too): messages arrive on the
 * plain topic and go to the callback added with the same "$share/..." string. */
static void shared_subscription_callback(void) {
    fixture f;
    up(&f);
    char plain[H_TOPIC_MAX], shared[H_TOPIC_MAX + 32], x[H_TOPIC_MAX], other[H_TOPIC_MAX];
    h_topic(plain, "shared/#");
    snprintf(shared, sizeof shared, "$share/grp/%s", plain);
    h_topic(x, "shared/x");
    h_topic(other, "other");
    CHECK_RC(mqttc_message_callback_add(f.s, shared, h_rec_on_message_f1), MQTTC_ERR_SUCCESS);
    h_subscribe(f.s, &f.srec, shared, 1, true);
    h_subscribe(f.s, &f.srec, other, 1, true);
    pub(&f, x, 1);
    pub(&f, other, 1);
    CHECK(h_rec_wait(&f.srec, H_EV_MESSAGE, 1, NULL, 10000));
    CHECK(h_rec_wait(&f.srec, H_EV_MESSAGE_F1, 1, NULL, 10000));
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE_F1, x), 1);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, x), 0);
    CHECK_EQ(h_rec_count_topic(&f.srec, H_EV_MESSAGE, other), 1);
    CHECK(mqttc_topic_matches_sub(shared, x));
    CHECK_RC(mqttc_message_callback_remove(f.s, shared), MQTTC_ERR_SUCCESS);
    down(&f);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(subscribe_unsubscribe_callbacks, 30),
        H_CASE(wildcard_subscriptions, 30),
        H_CASE(resubscribe_changes_qos, 20),
        H_CASE(subscribe_multiple_many, 30),
        H_CASE(message_callback_add_remove, 30),
        H_CASE(shared_subscription_callback, 30),
    };
    return h_main(argc, argv, "test_subscribe", cases, sizeof cases / sizeof cases[0]);
}
