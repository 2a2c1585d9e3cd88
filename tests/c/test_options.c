/* Options: max_inflight_messages_set and message_retry_set observed on the wire
 * with a scripted fake broker (raw socket in this process), max_queued_messages_set
 * while disconnected (QUEUE_SIZE) against the real broker, wait_for_publish
 * timing out, and the argument checks of the option setters. */
#include "harness.h"

#include <unistd.h>

/* connect_async + loop_start, accept, check CONNECT, answer CONNACK. */
static void fake_session(h_fake *f, mqttc_client *c, h_rec *rec) {
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f->port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(f, 5000);
    static h_pkt p;
    h_fake_expect(f, &p, 1, 5000);
    CHECK_MEMEQ(p.body, 6, "\0\4MQTT", 6);
    CHECK_EQ(p.body[6], 4); /* protocol level 3.1.1 */
    h_fake_connack(f, 0, 0);
    CHECK_MSG(h_rec_wait(rec, H_EV_CONNECT, 1, NULL, 5000), "no on_connect after CONNACK");
}

static void fake_end(h_fake *f, mqttc_client *c, h_rec *rec) {
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    h_fake_expect(f, &p, 14, 5000);
    CHECK(h_rec_wait(rec, H_EV_DISCONNECT, 1, NULL, 5000));
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    h_fake_close(f);
}

static void inflight_limit_on_the_wire(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("inflight", true, &rec);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 3), MQTTC_ERR_SUCCESS);
    fake_session(&f, c, &rec);
    enum { N = 10 };
    int mids[N];
    for (int i = 0; i < N; i++) {
        CHECK_RC(mqttc_publish(c, "inflight/t", &i, sizeof i, 1, false, &mids[i]), MQTTC_ERR_SUCCESS);
        CHECK_EQ(mids[i], i + 1);
    }
    static h_pkt p;
    int seen = 0, acked = 0;
    /* without acks exactly 3 PUBLISH packets come */
    while (h_fake_read(&f, &p, 700) == 1) {
        CHECK_EQ(p.type, 3);
        CHECK_MSG(seen < 3, "PUBLISH #%d sent with only %d acknowledged: max_inflight 3 not honoured", seen + 1, acked);
        CHECK_EQ(p.packet_id, mids[seen]);
        CHECK(!p.dup);
        CHECK_EQ(p.qos, 1);
        seen++;
    }
    CHECK_MSG(seen == 3, "%d PUBLISH packets before any PUBACK, expected 3", seen);
    /* each PUBACK lets exactly one more through, in order */
    while (acked < N) {
        CHECK_MSG(acked < seen, "after %d PUBACKs only %d of %d PUBLISH packets arrived", acked, seen, N);
        h_fake_ack(&f, 4, mids[acked]);
        acked++;
        while (h_fake_read(&f, &p, seen < N ? 1000 : 300) == 1) {
            CHECK_EQ(p.type, 3);
            CHECK_MSG(seen - acked < 3, "more than 3 unacknowledged PUBLISH packets");
            CHECK_EQ(p.packet_id, mids[seen]);
            seen++;
            if (seen - acked == 3 || seen == N) break;
        }
    }
    CHECK_EQ(seen, N);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, N, NULL, 5000));
    for (int i = 0; i < N; i++) {
        h_event e;
        h_rec_get(&rec, H_EV_PUBLISH, i, &e);
        CHECK_EQ(e.a, mids[i]);
    }
    fake_end(&f, c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void inflight_zero_is_unlimited(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("inflight0", true, &rec);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 0), MQTTC_ERR_SUCCESS);
    fake_session(&f, c, &rec);
    for (int i = 0; i < 50; i++) CHECK_RC(mqttc_publish(c, "inflight/0", "x", 1, 1, false, NULL), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    int seen = 0;
    while (seen < 50 && h_fake_read(&f, &p, 1000) == 1) {
        CHECK_EQ(p.type, 3);
        seen++;
    }
    CHECK_MSG(seen == 50, "max_inflight 0: %d of 50 PUBLISH packets sent without acks", seen);
    for (int i = 1; i <= 50; i++) h_fake_ack(&f, 4, i);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 50, NULL, 5000));
    fake_end(&f, c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void message_retry_resends_with_dup(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("retry", true, &rec);
    CHECK_RC(mqttc_message_retry_set(c, 1), MQTTC_ERR_SUCCESS);
    fake_session(&f, c, &rec);
    for (int qos = 1; qos <= 2; qos++) {
        int mid = 0;
        CHECK_RC(mqttc_publish(c, "retry/t", "r", 1, qos, false, &mid), MQTTC_ERR_SUCCESS);
        static h_pkt p;
        CHECK_MSG(h_fake_read(&f, &p, 2000) == 1, "no PUBLISH");
        CHECK_EQ(p.type, 3);
        CHECK_EQ(p.packet_id, mid);
        CHECK(!p.dup);
        int64_t t1 = h_now_ms();
        CHECK_MSG(h_fake_read(&f, &p, 4000) == 1, "QoS %d: no resend within 4 s with message_retry_set(1)", qos);
        int64_t dt = h_now_ms() - t1;
        CHECK_EQ(p.type, 3);
        CHECK_EQ(p.packet_id, mid);
        CHECK_MSG(p.dup, "resent PUBLISH without DUP");
        CHECK_MSG(dt >= 800, "resent after %lld ms, retry is 1 s", (long long)dt);
        if (qos == 1) {
            h_fake_ack(&f, 4, mid);
        } else {
            h_fake_ack(&f, 5, mid); /* PUBREC */
            do {
                CHECK_MSG(h_fake_read(&f, &p, 3000) == 1, "no PUBREL after PUBREC");
            } while (p.type == 3); /* a PUBLISH resend may have crossed our PUBREC */
            CHECK_EQ(p.type, 6);
            CHECK_EQ(p.flags, 2);
            CHECK_EQ(p.packet_id, mid);
            h_fake_ack(&f, 7, mid); /* PUBCOMP */
        }
        CHECK(h_rec_wait(&rec, H_EV_PUBLISH, qos, NULL, 5000));
        CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, mid), 1);
    }
    h_sleep_ms(1500); /* nothing more is resent once acknowledged */
    static h_pkt p;
    while (h_fake_read(&f, &p, 10) == 1) CHECK_MSG(p.type == 6, "unexpected packet type %d after all acks", p.type);
    CHECK_EQ(h_rec_count(&rec, H_EV_PUBLISH), 2);
    fake_end(&f, c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void default_retry_never_resends(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("noretry", true, &rec);
    fake_session(&f, c, &rec);
    int mid = 0;
    CHECK_RC(mqttc_publish(c, "retry/none", "r", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    CHECK_EQ(h_fake_read(&f, &p, 2000), 1);
    CHECK_EQ(p.type, 3);
    CHECK_MSG(h_fake_read(&f, &p, 2500) == 0, "packet type %d (dup %d) sent while the PUBLISH was unacknowledged; "
              "message_retry 0 must never resend on a live connection", p.type, p.dup);
    CHECK(!mqttc_is_published(c, mid));
    CHECK_RC(mqttc_wait_for_publish(c, mid, 100), MQTTC_ERR_AGAIN);
    h_fake_ack(&f, 4, mid);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
    CHECK(mqttc_is_published(c, mid));
    fake_end(&f, c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void max_queued_while_disconnected(void) {
    h_rec srec, rec;
    h_rec_init(&srec);
    h_rec_init(&rec);
    mqttc_client *s = h_client("qsub", true, &srec);
    h_connect(s, &srec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(s, &srec, h_topic(t, "queued"), 1, true);

    mqttc_client *c = h_client("queued", true, &rec);
    CHECK_RC(mqttc_max_queued_messages_set(c, 2), MQTTC_ERR_SUCCESS);
    int m1 = 0, m2 = 0, m3 = 0, m0 = 0;
    CHECK_RC(mqttc_publish(c, t, "q1", 2, 1, false, &m1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_publish(c, t, "q2", 2, 2, false, &m2), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_publish(c, t, "q3", 2, 1, false, &m3), MQTTC_ERR_QUEUE_SIZE);
    CHECK_RC(mqttc_publish(c, t, "q0", 2, 0, false, &m0), MQTTC_ERR_NO_CONN); /* QoS 0: dropped */
    CHECK(m1 > 0 && m2 > 0 && m1 != m2);
    CHECK(!mqttc_is_published(c, m1));
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_wait_for_publish(c, m1, 300), MQTTC_ERR_AGAIN);
    int64_t dt = h_now_ms() - t0;
    CHECK_MSG(dt >= 250 && dt < 2000 * h_time_scale(), "wait_for_publish(300 ms) returned after %lld ms", (long long)dt);

    h_connect(c, &rec, h_port(), true);
    CHECK_RC(mqttc_wait_for_publish(c, m1, 5000), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(c, m2, 5000), MQTTC_ERR_SUCCESS);
    CHECK(mqttc_is_published(c, m2));
    int mm = 0;
    CHECK_RC(mqttc_publish(c, t, "marker", 6, 1, false, &mm), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&srec, H_EV_MESSAGE, 3, NULL, 5000));
    h_sleep_ms(200);
    CHECK_EQ(h_rec_count(&srec, H_EV_MESSAGE), 3);
    const char *want[3] = {"q1", "q2", "marker"};
    for (int i = 0; i < 3; i++) {
        h_event e;
        h_rec_get(&srec, H_EV_MESSAGE, i, &e);
        CHECK_STREQ((char *)e.payload, want[i]);
    }
    /* with the limit at 0 (unlimited) nothing is refused */
    h_disconnect(c, &rec, true);
    CHECK_RC(mqttc_max_queued_messages_set(c, 0), MQTTC_ERR_SUCCESS);
    for (int i = 0; i < 100; i++) CHECK_RC(mqttc_publish(c, t, "u", 1, 1, false, NULL), MQTTC_ERR_NO_CONN);
    mqttc_client_destroy(c);
    h_disconnect(s, &srec, true);
    mqttc_client_destroy(s);
    h_rec_free(&srec);
    h_rec_free(&rec);
}

static void option_setters_accept_and_refuse(void) {
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 65535), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_max_queued_messages_set(c, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_max_queued_messages_set(c, 100000), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_message_retry_set(c, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_message_retry_set(c, 5), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_message_retry_set(c, 20), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 120), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_delay_set(c, 3, 3), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_delay_set(c, 5, 1), MQTTC_ERR_INVAL); /* paho: min_delay > max_delay */
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, true), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, "u", "p"), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, "u", NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, NULL, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_enable_logger(c, MQTTC_LOG_ERR), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_disable_logger(c), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_disable_logger(c), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    CHECK_RC(mqttc_max_inflight_messages_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_max_queued_messages_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_retry_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_delay_set(NULL, 1, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_on_failure_set(NULL, true), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_username_pw_set(NULL, "u", "p"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_enable_logger(NULL, MQTTC_LOG_ERR), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_disable_logger(NULL), MQTTC_ERR_INVAL);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(inflight_limit_on_the_wire, 30),
        H_CASE(inflight_zero_is_unlimited, 20),
        H_CASE(message_retry_resends_with_dup, 30),
        H_CASE(default_retry_never_resends, 20),
        H_CASE(max_queued_while_disconnected, 30),
        H_CASE(option_setters_accept_and_refuse, 10),
    };
    return h_main(argc, argv, "test_options", cases, sizeof cases / sizeof cases[0]);
}
