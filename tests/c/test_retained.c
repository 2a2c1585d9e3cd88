/* Retained messages: the retain flag seen by a later subscriber, live delivery
 * with retain 0, replacement, QoS of the stored message, wildcards, and
 * clearing with an empty retained publish. */
#include "harness.h"

static void publish_acked(mqttc_client *c, const char *topic, const void *pl, int len, int qos, bool retain) {
    int mid = 0;
    CHECK_RC(mqttc_publish(c, topic, pl, len, qos, retain, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
}

/* A fresh subscriber subscribes to filter and to a marker topic, then pub sends
 * the marker: whatever is retained under filter arrives before it. Fills rec
 * (initialised here; caller frees) and returns how many messages preceded the marker. */
static int late_subscriber(mqttc_client *pub, const char *filter, h_rec *rec) {
    char marker[H_TOPIC_MAX];
    h_topic(marker, "marker-%d", rand());
    h_rec_init(rec);
    mqttc_client *s = h_client("late", true, rec);
    h_connect(s, rec, h_port(), true);
    h_subscribe(s, rec, filter, 2, true);
    h_subscribe(s, rec, marker, 1, true);
    publish_acked(pub, marker, "m", 1, 1, false);
    CHECK_MSG(h_rec_wait(rec, H_EV_MESSAGE, 1, NULL, 5000), "marker not received");
    /* wait for the marker itself, then count what came before it */
    int64_t end = h_now_ms() + 5000;
    while (h_rec_count_topic(rec, H_EV_MESSAGE, marker) == 0 && h_now_ms() < end) h_sleep_ms(5);
    CHECK_MSG(h_rec_count_topic(rec, H_EV_MESSAGE, marker) == 1, "marker not received");
    h_disconnect(s, rec, true);
    mqttc_client_destroy(s);
    int n = h_rec_count(rec, H_EV_MESSAGE);
    h_event last;
    h_rec_get(rec, H_EV_MESSAGE, n - 1, &last);
    CHECK_MSG(strcmp(last.topic, marker) == 0, "a message arrived after the marker: %s", last.topic);
    return n - 1;
}

static void retain_flag_for_later_subscriber(void) {
    h_rec prec, lrec, nrec;
    h_rec_init(&prec);
    h_rec_init(&lrec);
    mqttc_client *p = h_client("pub", true, &prec);
    mqttc_client *live = h_client("live", true, &lrec);
    h_connect(p, &prec, h_port(), true);
    h_connect(live, &lrec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_topic(t, "r");
    h_subscribe(live, &lrec, t, 2, true);
    static const unsigned char pl[] = {'k', 0, 'e', 0, 'p', 0xff};
    publish_acked(p, t, pl, (int)sizeof pl, 1, true);

    CHECK(h_rec_wait(&lrec, H_EV_MESSAGE, 1, NULL, 5000));
    h_event e;
    h_rec_get(&lrec, H_EV_MESSAGE, 0, &e);
    CHECK_MSG(!e.retain, "an existing subscriber got retain=1 for a live message");
    CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);

    CHECK_EQ(late_subscriber(p, t, &nrec), 1);
    h_rec_get(&nrec, H_EV_MESSAGE, 0, &e);
    CHECK_STREQ(e.topic, t);
    CHECK_MSG(e.retain, "a later subscriber got the retained message with retain=0");
    CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);
    CHECK_EQ(e.qos, 1); /* stored at QoS 1, subscription QoS 2 */
    h_rec_free(&nrec);

    /* clear it: a later subscriber gets nothing */
    publish_acked(p, t, NULL, 0, 1, true);
    CHECK_EQ(late_subscriber(p, t, &nrec), 0);
    h_rec_free(&nrec);

    h_disconnect(live, &lrec, true);
    h_disconnect(p, &prec, true);
    mqttc_client_destroy(live);
    mqttc_client_destroy(p);
    h_rec_free(&lrec);
    h_rec_free(&prec);
}

static void retained_is_replaced(void) {
    h_rec prec, nrec;
    h_rec_init(&prec);
    mqttc_client *p = h_client("pub", true, &prec);
    h_connect(p, &prec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_topic(t, "replace");
    publish_acked(p, t, "v1", 2, 1, true);
    publish_acked(p, t, "v2", 2, 2, true);
    CHECK_EQ(late_subscriber(p, t, &nrec), 1);
    h_event e;
    h_rec_get(&nrec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "v2", 2);
    CHECK(e.retain);
    CHECK_EQ(e.qos, 2);
    h_rec_free(&nrec);
    /* clearing with QoS 0 also works */
    publish_acked(p, t, NULL, 0, 0, true);
    CHECK_EQ(late_subscriber(p, t, &nrec), 0);
    h_rec_free(&nrec);
    h_disconnect(p, &prec, true);
    mqttc_client_destroy(p);
    h_rec_free(&prec);
}

static void retained_qos0_and_wildcards(void) {
    h_rec prec, nrec;
    h_rec_init(&prec);
    mqttc_client *p = h_client("pub", true, &prec);
    h_connect(p, &prec, h_port(), true);
    char ta[H_TOPIC_MAX], tb[H_TOPIC_MAX], filter[H_TOPIC_MAX];
    h_topic(ta, "w/a");
    h_topic(tb, "w/b/c");
    h_topic(filter, "w/#");
    publish_acked(p, ta, "A", 1, 0, true);
    publish_acked(p, tb, "BC", 2, 1, true);
    CHECK_EQ(late_subscriber(p, filter, &nrec), 2);
    CHECK_EQ(h_rec_count_topic(&nrec, H_EV_MESSAGE, ta), 1);
    CHECK_EQ(h_rec_count_topic(&nrec, H_EV_MESSAGE, tb), 1);
    for (int i = 0; i < 2; i++) {
        h_event e;
        h_rec_get(&nrec, H_EV_MESSAGE, i, &e);
        CHECK(e.retain);
        if (strcmp(e.topic, ta) == 0) {
            CHECK_EQ(e.qos, 0);
            CHECK_EQ(e.mid, 0);
            CHECK_MEMEQ(e.payload, e.payloadlen, "A", 1);
        } else {
            CHECK_EQ(e.qos, 1);
            CHECK_MEMEQ(e.payload, e.payloadlen, "BC", 2);
        }
    }
    h_rec_free(&nrec);
    publish_acked(p, ta, NULL, 0, 1, true);
    publish_acked(p, tb, "", 0, 1, true);
    CHECK_EQ(late_subscriber(p, filter, &nrec), 0);
    h_rec_free(&nrec);
    h_disconnect(p, &prec, true);
    mqttc_client_destroy(p);
    h_rec_free(&prec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(retain_flag_for_later_subscriber, 40),
        H_CASE(retained_is_replaced, 40),
        H_CASE(retained_qos0_and_wildcards, 40),
    };
    return h_main(argc, argv, "test_retained", cases, sizeof cases / sizeof cases[0]);
}
