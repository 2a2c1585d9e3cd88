/* Session behaviour on the wire, against a scripted fake broker:
 *  - unacknowledged QoS 1/2 messages across a reconnect: clean_session=false resends
 *    PUBLISH (DUP) / PUBREL in original order before anything new; clean_session=true
 *    resends them all as PUBLISH with DUP (paho 1.6);
 *  - incoming QoS 2 delivered exactly once, at its first PUBLISH, a resent PUBLISH
 *    answered with PUBREC but not delivered again;
 *  - incoming QoS 1 acknowledged only after on_message returned;
 *  - CONNACK 1 -> retry with MQTT 3.1, CONNACK 2 for an empty id -> random id. */
#include "harness.h"

#include <unistd.h>

typedef struct connect_info {
    char proto[16];
    int level, flags, keepalive;
    char id[128];
} connect_info;

static void parse_connect(const h_pkt *p, connect_info *ci) {
    CHECK_EQ(p->type, 1);
    const unsigned char *b = p->body;
    int nl = b[0] << 8 | b[1];
    CHECK_MSG(nl > 0 && nl < 16, "protocol name length %d", nl);
    memcpy(ci->proto, b + 2, (size_t)nl);
    ci->proto[nl] = 0;
    ci->level = b[2 + nl];
    ci->flags = b[3 + nl];
    ci->keepalive = b[4 + nl] << 8 | b[5 + nl];
    int il = b[6 + nl] << 8 | b[7 + nl];
    CHECK_MSG(il < 128, "client id length %d", il);
    memcpy(ci->id, b + 8 + nl, (size_t)il);
    ci->id[il] = 0;
}

/* Accepts the client's next connection and reads its CONNECT. */
static void accept_connect(h_fake *f, connect_info *ci) {
    h_fake_accept(f, 5000);
    static h_pkt p;
    h_fake_expect(f, &p, 1, 5000);
    parse_connect(&p, ci);
}

static mqttc_client *fake_client(h_fake *f, h_rec *rec, const char *id, bool clean, connect_info *ci) {
    h_fake_listen(f);
    h_rec_init(rec);
    mqttc_client *c = mqttc_client_new(id, clean, rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f->port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    accept_connect(f, ci);
    h_fake_connack(f, 0, 0);
    CHECK_MSG(h_rec_wait(rec, H_EV_CONNECT, 1, NULL, 5000), "no on_connect after CONNACK");
    return c;
}

static void fake_client_end(h_fake *f, mqttc_client *c, h_rec *rec) {
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    h_fake_expect(f, &p, 14, 5000);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(rec);
    h_fake_close(f);
}

static void expect_publish(h_fake *f, int id, int qos, bool dup, const char *what) {
    static h_pkt p;
    int r = h_fake_read(f, &p, 5000);
    CHECK_MSG(r == 1, "%s: nothing received", what);
    CHECK_MSG(p.type == 3 && p.packet_id == id && p.qos == qos && p.dup == dup,
              "%s: got packet type %d id %d qos %d dup %d, expected PUBLISH id %d qos %d dup %d", what, p.type,
              p.packet_id, p.qos, p.dup, id, qos, dup);
}

static void expect_pubrel(h_fake *f, int id, const char *what) {
    static h_pkt p;
    int r = h_fake_read(f, &p, 5000);
    CHECK_MSG(r == 1, "%s: nothing received", what);
    CHECK_MSG(p.type == 6 && p.packet_id == id && p.flags == 2,
              "%s: got packet type %d (flags %d) id %d, expected PUBREL id %d", what, p.type, p.flags, p.packet_id, id);
}

static void resend_after_reconnect(bool clean) {
    h_fake f;
    h_rec rec;
    connect_info ci;
    char id[64];
    mqttc_client *c = fake_client(&f, &rec, h_client_id(id, "resume"), clean, &ci);
    CHECK_EQ(ci.flags & 0x02, clean ? 0x02 : 0);
    int m[4];
    CHECK_RC(mqttc_publish(c, "s/1", "one", 3, 1, false, &m[0]), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, "s/2", "two", 3, 2, false, &m[1]), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, "s/3", "three", 5, 2, false, &m[2]), MQTTC_ERR_SUCCESS);
    expect_publish(&f, m[0], 1, false, "first send of m1");
    expect_publish(&f, m[1], 2, false, "first send of m2");
    expect_publish(&f, m[2], 2, false, "first send of m3");
    h_fake_ack(&f, 5, m[1]); /* PUBREC m2 */
    expect_pubrel(&f, m[1], "PUBREL for m2");
    h_fake_drop(&f);
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 5000), "no on_disconnect after the broker dropped us");
    int rc = mqttc_publish(c, "s/4", "four", 4, 1, false, &m[3]);
    CHECK_RC2(rc, MQTTC_ERR_NO_CONN, MQTTC_ERR_SUCCESS);

    accept_connect(&f, &ci);
    CHECK_EQ(ci.flags & 0x02, clean ? 0x02 : 0);
    h_fake_connack(&f, clean ? 0 : 1, 0);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 1, &e);
    CHECK_EQ(e.a, clean ? 0 : MQTTC_CONNACK_FLAG_SESSION_PRESENT);
    expect_publish(&f, m[0], 1, true, "resend of m1");
    if (clean)
        expect_publish(&f, m[1], 2, true, "clean session: m2 resent as PUBLISH");
    else
        expect_pubrel(&f, m[1], "persistent session: PUBREL resent for m2");
    expect_publish(&f, m[2], 2, true, "resend of m3");
    expect_publish(&f, m[3], 1, false, "m4, new, after the resends");
    CHECK_EQ(h_rec_count(&rec, H_EV_PUBLISH), 0);

    h_fake_ack(&f, 4, m[0]);
    if (clean) {
        h_fake_ack(&f, 5, m[1]);
        expect_pubrel(&f, m[1], "PUBREL m2");
    }
    h_fake_ack(&f, 7, m[1]);
    h_fake_ack(&f, 5, m[2]);
    expect_pubrel(&f, m[2], "PUBREL m3");
    h_fake_ack(&f, 7, m[2]);
    h_fake_ack(&f, 4, m[3]);
    CHECK_MSG(h_rec_wait(&rec, H_EV_PUBLISH, 4, NULL, 5000), "on_publish %d of 4", h_rec_count(&rec, H_EV_PUBLISH));
    for (int i = 0; i < 4; i++) CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, m[i]), 1);
    fake_client_end(&f, c, &rec);
}
static void persistent_session_resends_in_order(void) { resend_after_reconnect(false); }
static void clean_session_resends_as_publish(void) { resend_after_reconnect(true); }

static void incoming_qos2_exactly_once(void) {
    h_fake f;
    h_rec rec;
    connect_info ci;
    mqttc_client *c = fake_client(&f, &rec, "q2in", true, &ci);
    static const unsigned char pub[] = {0x34, 13, 0, 4, 'i', '/', 'q', '2', 0, 7, 'o', 'n', 'c', 'e', 0};
    static const unsigned char dup[] = {0x3c, 13, 0, 4, 'i', '/', 'q', '2', 0, 7, 'o', 'n', 'c', 'e', 0};
    static h_pkt p;
    for (int round = 0; round < 2; round++) {
        h_pkt_write(f.fd, pub, sizeof pub);
        CHECK_EQ(h_fake_expect(&f, &p, 5, 5000), 7); /* PUBREC */
        /* delivered now, at the first PUBLISH, not at PUBREL */
        CHECK_MSG(h_rec_wait(&rec, H_EV_MESSAGE, round + 1, NULL, 2000), "QoS 2 message not delivered before PUBREL");
        h_pkt_write(f.fd, dup, sizeof dup); /* resent before PUBREL */
        CHECK_EQ(h_fake_expect(&f, &p, 5, 5000), 7);
        h_sleep_ms(200);
        CHECK_MSG(h_rec_count(&rec, H_EV_MESSAGE) == round + 1, "QoS 2 message delivered again on a DUP resend");
        h_fake_ack(&f, 6, 7); /* PUBREL */
        CHECK_EQ(h_fake_expect(&f, &p, 7, 5000), 7); /* PUBCOMP */
        /* after PUBCOMP the id is free: the second round is a new message */
    }
    CHECK_EQ(h_rec_count(&rec, H_EV_MESSAGE), 2);
    h_event e;
    h_rec_get(&rec, H_EV_MESSAGE, 0, &e);
    CHECK_STREQ(e.topic, "i/q2");
    CHECK_MEMEQ(e.payload, e.payloadlen, "once\0", 5);
    CHECK_EQ(e.qos, 2);
    CHECK_EQ(e.mid, 7);
    fake_client_end(&f, c, &rec);
}

static void slow_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_sleep_ms(400);
    h_rec_on_message(c, ud, m);
}

static void incoming_qos1_acked_after_callback(void) {
    h_fake f;
    h_rec rec;
    connect_info ci;
    mqttc_client *c = fake_client(&f, &rec, "q1in", true, &ci);
    mqttc_on_message_set(c, slow_on_message);
    static const unsigned char pub[] = {0x32, 9, 0, 4, 'i', '/', 'q', '1', 0, 9, 'x'};
    int64_t t0 = h_now_ms();
    h_pkt_write(f.fd, pub, sizeof pub);
    static h_pkt p;
    CHECK_EQ(h_fake_expect(&f, &p, 4, 5000), 9); /* PUBACK */
    int64_t dt = h_now_ms() - t0;
    CHECK_MSG(dt >= 350, "PUBACK %lld ms after PUBLISH, before on_message (400 ms) returned", (long long)dt);
    CHECK_EQ(h_rec_count(&rec, H_EV_MESSAGE), 1);
    fake_client_end(&f, c, &rec);
}

static void connack_1_falls_back_to_v31(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new("fallback", true, &rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    connect_info ci;
    accept_connect(&f, &ci);
    CHECK_STREQ(ci.proto, "MQTT");
    CHECK_EQ(ci.level, 4);
    h_fake_connack(&f, 0, MQTTC_CONNACK_REFUSED_PROTOCOL_VERSION);
    int64_t t0 = h_now_ms();
    accept_connect(&f, &ci);
    CHECK_MSG(h_now_ms() - t0 < 1500 * h_time_scale(), "retry with MQTT 3.1 took %lld ms (must be at once)", (long long)(h_now_ms() - t0));
    CHECK_STREQ(ci.proto, "MQIsdp");
    CHECK_EQ(ci.level, 3);
    CHECK_STREQ(ci.id, "fallback");
    h_fake_connack(&f, 0, 0);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 0);
    fake_client_end(&f, c, &rec);
}

static void connack_2_retries_with_random_id(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new(NULL, true, &rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    connect_info ci;
    accept_connect(&f, &ci);
    CHECK_STREQ(ci.id, "");
    h_fake_connack(&f, 0, MQTTC_CONNACK_REFUSED_IDENTIFIER_REJECTED);
    accept_connect(&f, &ci);
    size_t n = strlen(ci.id);
    CHECK_MSG(n >= 1 && n <= 23, "retry after CONNACK 2 used id \"%s\"", ci.id);
    CHECK_EQ(ci.level, 4);
    h_fake_connack(&f, 0, 0);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    fake_client_end(&f, c, &rec);
}

/* True when nobody connects to the fake broker within ms. */
static bool no_new_connection(h_fake *f, int ms) {
    int fd = h_accept(f->lfd, ms);
    if (fd < 0) return true;
    close(fd);
    return false;
}

/* With reconnect_on_failure false a CONNACK 1 is reported, not retried. */
static void connack_1_without_reconnect_on_failure(void) {
    h_fake f;
    h_fake_listen(&f);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new("noretry", true, &rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    connect_info ci;
    accept_connect(&f, &ci);
    h_fake_connack(&f, 0, MQTTC_CONNACK_REFUSED_PROTOCOL_VERSION);
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 5000), "no on_disconnect after CONNACK 1");
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    h_log("on_disconnect rc %d (%s), on_connect calls %d", e.a, h_rc_name(e.a), h_rec_count(&rec, H_EV_CONNECT));
    CHECK_NE(e.a, MQTTC_ERR_SUCCESS);
    CHECK_MSG(no_new_connection(&f, 2000), "client reconnected although reconnect_on_failure is false");
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&f);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(persistent_session_resends_in_order, 30),
        H_CASE(clean_session_resends_as_publish, 30),
        H_CASE(incoming_qos2_exactly_once, 20),
        H_CASE(incoming_qos1_acked_after_callback, 20),
        H_CASE(connack_1_falls_back_to_v31, 20),
        H_CASE(connack_2_retries_with_random_id, 20),
        H_CASE(connack_1_without_reconnect_on_failure, 20),
    };
    return h_main(argc, argv, "test_session", cases, sizeof cases / sizeof cases[0]);
}
