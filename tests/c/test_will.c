/* Will: published when a child process loses its connection abruptly, not after
 * a clean disconnect, not after will_clear; retained and empty wills; will_set
 * argument checks. */
#include "harness.h"

#include <sys/socket.h>

typedef struct watcher {
    h_rec rec;
    mqttc_client *c;
    char will[H_TOPIC_MAX], marker[H_TOPIC_MAX];
} watcher;

static void watcher_up(watcher *w) {
    h_rec_init(&w->rec);
    w->c = h_client("watch", true, &w->rec);
    h_connect(w->c, &w->rec, h_port(), true);
    h_topic(w->will, "will");
    h_topic(w->marker, "marker");
    h_subscribe(w->c, &w->rec, w->will, 2, true);
    h_subscribe(w->c, &w->rec, w->marker, 1, true);
}

static void watcher_down(watcher *w) {
    h_disconnect(w->c, &w->rec, true);
    mqttc_client_destroy(w->c);
    h_rec_free(&w->rec);
}

/* Sends a marker through the watcher itself after a pause: a will that was going
 * to be sent would be on the wire by then. Returns the wills seen before it. */
static int wills_before_marker(watcher *w) {
    h_sleep_ms(500);
    int before = h_rec_count_topic(&w->rec, H_EV_MESSAGE, w->marker);
    int mid = 0;
    CHECK_RC(mqttc_publish(w->c, w->marker, "m", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    int64_t end = h_now_ms() + 5000;
    while (h_rec_count_topic(&w->rec, H_EV_MESSAGE, w->marker) == before && h_now_ms() < end) h_sleep_ms(5);
    CHECK_MSG(h_rec_count_topic(&w->rec, H_EV_MESSAGE, w->marker) > before, "marker not received");
    return h_rec_count_topic(&w->rec, H_EV_MESSAGE, w->will);
}

static void will_sent_after_abrupt_exit(void) {
    watcher w;
    watcher_up(&w);
    static const unsigned char pl[] = {'g', 'o', 'n', 'e', 0, 1, 0, 0xfe};
    h_will_child wc = {h_port(), w.will, pl, (int)sizeof pl, 1, false, false};
    h_will_child_run(&wc);
    CHECK_MSG(h_rec_wait(&w.rec, H_EV_MESSAGE, 1, NULL, 5000), "no will message within 5 s of the child's exit");
    h_event e;
    h_rec_get(&w.rec, H_EV_MESSAGE, 0, &e);
    CHECK_STREQ(e.topic, w.will);
    CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);
    CHECK_EQ(e.qos, 1);
    CHECK(!e.retain);
    CHECK_EQ(wills_before_marker(&w), 1);
    watcher_down(&w);
}

static void will_qos2_empty_payload(void) {
    watcher w;
    watcher_up(&w);
    h_will_child wc = {h_port(), w.will, NULL, 0, 2, false, false};
    h_will_child_run(&wc);
    CHECK_MSG(h_rec_wait(&w.rec, H_EV_MESSAGE, 1, NULL, 5000), "no empty will message within 5 s");
    h_event e;
    h_rec_get(&w.rec, H_EV_MESSAGE, 0, &e);
    CHECK_EQ(e.payloadlen, 0);
    CHECK_EQ(e.qos, 2);
    watcher_down(&w);
}

static void retained_will_kept_by_broker(void) {
    watcher w;
    watcher_up(&w);
    h_will_child wc = {h_port(), w.will, "last words", 10, 1, true, false};
    h_will_child_run(&wc);
    CHECK(h_rec_wait(&w.rec, H_EV_MESSAGE, 1, NULL, 5000));
    /* a later subscriber sees it as retained */
    h_rec r2;
    h_rec_init(&r2);
    mqttc_client *late = h_client("late", true, &r2);
    h_connect(late, &r2, h_port(), true);
    h_subscribe(late, &r2, w.will, 1, true);
    CHECK_MSG(h_rec_wait(&r2, H_EV_MESSAGE, 1, NULL, 5000), "retained will not kept");
    h_event e;
    h_rec_get(&r2, H_EV_MESSAGE, 0, &e);
    CHECK(e.retain);
    CHECK_MEMEQ(e.payload, e.payloadlen, "last words", 10);
    int mid;
    CHECK_RC(mqttc_publish(late, w.will, NULL, 0, 1, true, &mid), MQTTC_ERR_SUCCESS); /* clear */
    CHECK_RC(mqttc_wait_for_publish(late, mid, 5000), MQTTC_ERR_SUCCESS);
    h_disconnect(late, &r2, true);
    mqttc_client_destroy(late);
    h_rec_free(&r2);
    watcher_down(&w);
}

static void no_will_after_clean_disconnect(void) {
    watcher w;
    watcher_up(&w);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("willclean", true, &rec);
    CHECK_RC(mqttc_will_set(c, w.will, "nope", 4, 1, false), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, h_port(), false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    CHECK_MSG(wills_before_marker(&w) == 0, "will published after a clean mqttc_disconnect");
    watcher_down(&w);
}

static void no_will_after_will_clear(void) {
    watcher w;
    watcher_up(&w);
    h_will_child wc = {h_port(), w.will, "cleared", 7, 1, false, true};
    h_will_child_run(&wc);
    CHECK_MSG(wills_before_marker(&w) == 0, "will published although will_clear was called before connect");
    watcher_down(&w);
}

static void will_set_bad_arguments(void) {
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    CHECK_RC(mqttc_will_set(c, NULL, "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "a/+/b", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "a/#", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "#", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "a/b", "x", 1, 3, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "a/b", "x", 1, -1, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(c, "a/b", NULL, 5, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC2(mqttc_will_set(c, "a/b", "x", -1, 0, false), MQTTC_ERR_INVAL, MQTTC_ERR_PAYLOAD_SIZE);
    CHECK_RC2(mqttc_will_set(c, "a/b", "x", 268435456, 0, false), MQTTC_ERR_INVAL, MQTTC_ERR_PAYLOAD_SIZE);
    CHECK_RC(mqttc_will_set(NULL, "a/b", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_clear(NULL), MQTTC_ERR_INVAL);
    /* valid ones */
    CHECK_RC(mqttc_will_set(c, "a/b", "x", 1, 2, true), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_will_set(c, "a/b", NULL, 0, 0, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_will_clear(c), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_will_clear(c), MQTTC_ERR_SUCCESS); /* clearing nothing is fine */
    mqttc_client_destroy(c);
}

/* The second will_set replaces the first; the connection is then cut under the
 * library (shutdown of its socket), which the broker sees as an abrupt loss and
 * the library as MQTTC_ERR_CONN_LOST. */
static void second_will_set_replaces_first(void) {
    watcher w;
    watcher_up(&w);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("willrep", true, &rec);
    CHECK_RC(mqttc_will_set(c, w.will, "first", 5, 1, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_will_set(c, w.will, "second", 6, 2, false), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, h_port(), false);
    int fd = mqttc_socket(c);
    CHECK_GE(fd, 0);
    CHECK_EQ(shutdown(fd, SHUT_RDWR), 0);
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000), "no on_disconnect after the socket was shut down");
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_CONN_LOST);
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    CHECK_MSG(h_rec_wait(&w.rec, H_EV_MESSAGE, 1, NULL, 5000), "no will after the connection was cut");
    h_rec_get(&w.rec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "second", 6);
    CHECK_EQ(e.qos, 2);
    CHECK_EQ(wills_before_marker(&w), 1);
    watcher_down(&w);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(will_sent_after_abrupt_exit, 40),
        H_CASE(will_qos2_empty_payload, 40),
        H_CASE(retained_will_kept_by_broker, 40),
        H_CASE(no_will_after_clean_disconnect, 40),
        H_CASE(no_will_after_will_clear, 40),
        H_CASE(will_set_bad_arguments, 10),
        H_CASE(second_will_set_replaces_first, 40),
    };
    return h_main(argc, argv, "test_will", cases, sizeof cases / sizeof cases[0]);
}
