/* Broker outages with a private mosquitto (MQTTC_TEST_MOSQUITTO):
 *  - stopped and restarted with persistence under a loop_forever subscriber (in
 *    a thread of ours) and a loop_start publisher, both clean_session=false with
 *    fixed ids: QoS 1 messages published during the outage all arrive, the
 *    session is resumed, reconnect_delay_set is honoured roughly;
 *  - reconnect_on_failure_set(false): loop_forever returns the error;
 *  - mqttc_reconnect by hand after a lost connection. */
#include "harness.h"

typedef struct forever_job {
    mqttc_client *c;
    bool retry_first;
    atomic_int done;
    int rc;
} forever_job;

static void *forever_thread(void *p) {
    forever_job *j = p;
    j->rc = mqttc_loop_forever(j->c, 1000, 1, j->retry_first);
    atomic_store(&j->done, 1);
    return NULL;
}

static mqttc_client *fixed_client(const char *tag, h_rec *rec, char id[64]) {
    errno = 0;
    mqttc_client *c = mqttc_client_new(h_client_id(id, tag), false, rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK_MSG(c != NULL, "client_new errno %d", errno);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 2), MQTTC_ERR_SUCCESS);
    return c;
}

static void restart_delivers_outage_messages(void) {
    h_broker b;
    h_broker_start(&b, true);
    h_rec srec, prec;
    h_rec_init(&srec);
    h_rec_init(&prec);
    char sid[64], pid_[64], t[H_TOPIC_MAX];
    h_topic(t, "outage");

    /* subscriber: loop_forever in our own thread */
    mqttc_client *s = fixed_client("osub", &srec, sid);
    CHECK_RC(mqttc_connect_async(s, "127.0.0.1", b.port, 30, NULL), MQTTC_ERR_SUCCESS);
    static forever_job job;
    job.c = s;
    job.retry_first = true;
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, forever_thread, &job), 0);
    CHECK_MSG(h_rec_wait(&srec, H_EV_CONNECT, 1, NULL, 5000), "subscriber: no on_connect");
    h_subscribe(s, &srec, t, 1, true);

    /* publisher: loop_start */
    mqttc_client *p = fixed_client("opub", &prec, pid_);
    CHECK_RC(mqttc_connect(p, "127.0.0.1", b.port, 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(p), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&prec, H_EV_CONNECT, 1, NULL, 5000));

    for (int i = 0; i < 5; i++) {
        char pl[32];
        int len = snprintf(pl, sizeof pl, "before-%d", i);
        CHECK_RC(mqttc_publish(p, t, pl, len, 1, false, NULL), MQTTC_ERR_SUCCESS);
    }
    CHECK(h_rec_wait(&srec, H_EV_MESSAGE, 5, NULL, 5000));

    h_broker_stop(&b); /* SIGTERM: mosquitto saves its database */
    CHECK_MSG(h_rec_wait(&srec, H_EV_DISCONNECT, 1, NULL, 5000), "subscriber: no on_disconnect after broker stop");
    CHECK_MSG(h_rec_wait(&prec, H_EV_DISCONNECT, 1, NULL, 5000), "publisher: no on_disconnect after broker stop");
    h_event e;
    h_rec_get(&srec, H_EV_DISCONNECT, 0, &e);
    CHECK_MSG(e.a != MQTTC_ERR_SUCCESS, "on_disconnect rc 0 for a lost connection");
    h_log("on_disconnect rc after broker stop: %d (%s)", e.a, h_rc_name(e.a));

    enum { N = 20 };
    int mids[N];
    for (int i = 0; i < N; i++) {
        char pl[32];
        int len = snprintf(pl, sizeof pl, "outage-%d", i);
        mids[i] = 0;
        int rc = mqttc_publish(p, t, pl, len, 1, false, &mids[i]);
        CHECK_RC2(rc, MQTTC_ERR_NO_CONN, MQTTC_ERR_SUCCESS);
        CHECK_GT(mids[i], 0);
        CHECK(!mqttc_is_published(p, mids[i]));
    }
    int fails_before = h_rec_count(&prec, H_EV_CONNECT_FAIL);
    h_sleep_ms(3000);
    int fails = h_rec_count(&prec, H_EV_CONNECT_FAIL) - fails_before;
    h_log("publisher: %d failed reconnect attempts in a 3 s outage (delay 1..2 s)", fails);
    CHECK_MSG(fails >= 1, "no reconnect attempt (on_connect_fail) during a 3 s outage");
    CHECK_MSG(fails <= 4, "%d reconnect attempts in 3 s: reconnect_delay_set(1, 2) not honoured", fails);
    CHECK_EQ(h_rec_count(&prec, H_EV_CONNECT), 1);

    int64_t t_restart = h_now_ms();
    h_broker_restart(&b);
    CHECK_MSG(h_rec_wait(&prec, H_EV_CONNECT, 2, NULL, 10000), "publisher did not reconnect within 10 s");
    CHECK_MSG(h_rec_wait(&srec, H_EV_CONNECT, 2, NULL, 10000), "subscriber did not reconnect within 10 s");
    h_rec_get(&prec, H_EV_CONNECT, 1, &e);
    int64_t latency = e.t_ms - t_restart;
    h_log("publisher reconnected %lld ms after the broker restarted", (long long)latency);
    CHECK_MSG(latency <= 4000 * h_time_scale(), "reconnect took %lld ms with max_delay 2 s", (long long)latency);
    CHECK_EQ(e.b, 0);
    h_rec_get(&srec, H_EV_CONNECT, 1, &e);
    CHECK_EQ(e.b, 0);
    CHECK_MSG(e.a & MQTTC_CONNACK_FLAG_SESSION_PRESENT, "subscriber's session not resumed (flags %d)", e.a);

    CHECK_MSG(h_rec_wait(&srec, H_EV_MESSAGE, 5 + N, NULL, 10000), "subscriber got %d of %d messages",
              h_rec_count(&srec, H_EV_MESSAGE), 5 + N);
    for (int i = 0; i < N; i++) {
        char pl[32];
        snprintf(pl, sizeof pl, "outage-%d", i);
        int found = 0;
        for (int k = 0; k < h_rec_count(&srec, H_EV_MESSAGE); k++) {
            h_rec_get(&srec, H_EV_MESSAGE, k, &e);
            if (strcmp((char *)e.payload, pl) == 0) found++;
        }
        CHECK_MSG(found >= 1, "message %s published during the outage never arrived", pl);
        if (found > 1) h_log("message %s arrived %d times (QoS 1 allows duplicates)", pl, found);
        CHECK_RC(mqttc_wait_for_publish(p, mids[i], 5000), MQTTC_ERR_SUCCESS);
        /* (test_qos checks that on_publish has run when wait_for_publish returns) */
        int64_t end = h_now_ms() + 2000;
        while (h_rec_count_a(&prec, H_EV_PUBLISH, mids[i]) == 0 && h_now_ms() < end) h_sleep_ms(2);
        CHECK_EQ(h_rec_count_a(&prec, H_EV_PUBLISH, mids[i]), 1);
    }
    /* the outage messages arrive in publish order */
    int last = -1;
    for (int k = 0; k < h_rec_count(&srec, H_EV_MESSAGE); k++) {
        h_rec_get(&srec, H_EV_MESSAGE, k, &e);
        int i;
        if (sscanf((char *)e.payload, "outage-%d", &i) == 1 && !e.dup) {
            CHECK_MSG(i > last, "outage-%d arrived after outage-%d", i, last);
            last = i;
        }
    }

    /* disconnect ends loop_forever with success */
    CHECK_RC(mqttc_disconnect(s), MQTTC_ERR_SUCCESS);
    CHECK_MSG(wait_flag(&job.done, 1, NULL, 5000), "loop_forever did not return after mqttc_disconnect");
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_RC(job.rc, MQTTC_ERR_SUCCESS);
    h_disconnect(p, &prec, true);
    mqttc_client_destroy(s);
    mqttc_client_destroy(p);
    h_rec_free(&srec);
    h_rec_free(&prec);
    h_broker_cleanup(&b);
}

static void reconnect_on_failure_false_returns(void) {
    h_broker b;
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("norecon", true, &rec);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", b.port, 30, NULL), MQTTC_ERR_SUCCESS);
    static forever_job job;
    job.c = c;
    job.retry_first = false;
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, forever_thread, &job), 0);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    h_broker_kill(&b);
    if (!wait_flag(&job.done, 1, NULL, 5000)) {
        /* do not leave the thread running: stop it before failing */
        mqttc_disconnect(c);
        H_FAIL("loop_forever with reconnect_on_failure false did not return within 5 s of the broker dying");
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    h_log("loop_forever returned %d (%s)", job.rc, h_rc_name(job.rc));
    CHECK_MSG(job.rc != MQTTC_ERR_SUCCESS, "loop_forever returned success after the broker died");
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 1000));
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_NE(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT_FAIL), 0); /* nothing was retried */
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&b);
}

/* loop_start with reconnect_on_failure false: the thread gives up too, and
 * loop_stop still works afterwards. */
static void reconnect_on_failure_false_loop_start(void) {
    h_broker b;
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("norecon2", true, &rec);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 1), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, b.port, true);
    h_broker_kill(&b);
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 5000));
    h_broker_restart(&b);
    h_sleep_ms(2500);
    CHECK_MSG(h_rec_count(&rec, H_EV_CONNECT) == 1, "reconnected although reconnect_on_failure is false");
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT_FAIL), 0);
    CHECK_RC(mqttc_loop_stop(c, true), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&b);
}

static void manual_reconnect_after_loss(void) {
    h_broker b;
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("manual", true, &rec);
    h_connect(c, &rec, b.port, false);
    h_broker_kill(&b);
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000), "driven loop did not notice the broker dying");
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_CONN_LOST);
    CHECK_EQ(mqttc_socket(c), -1);
    /* mqttc_loop does not reconnect by itself (only loop_forever / loop_start do) */
    for (int i = 0; i < 5; i++) {
        int rc = mqttc_loop(c, 20, 1);
        CHECK_MSG(rc != MQTTC_ERR_SUCCESS, "mqttc_loop returned success without a connection");
    }
    errno = 0;
    int rc = mqttc_reconnect(c);
    CHECK_RC2(rc, MQTTC_ERR_CONN_REFUSED, MQTTC_ERR_ERRNO);
    h_broker_restart(&b);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, c, 5000));
    h_rec_get(&rec, H_EV_CONNECT, 1, &e);
    CHECK_EQ(e.b, 0);
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "again"), 1, false);
    CHECK_RC(mqttc_publish(c, t, "again", 5, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&b);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(restart_delivers_outage_messages, 60),
        H_CASE(reconnect_on_failure_false_returns, 20),
        H_CASE(reconnect_on_failure_false_loop_start, 20),
        H_CASE(manual_reconnect_after_loss, 20),
    };
    return h_main(argc, argv, "test_reconnect", cases, sizeof cases / sizeof cases[0]);
}
