/* Wire behaviour (API.md "Wire behaviour"), byte for byte against a scripted
 * fake broker: CONNECT with will/credentials/empty fields in both protocol
 * versions, SUBSCRIBE/UNSUBSCRIBE/PUBLISH/DISCONNECT encodings, packet ids
 * wrapping at 65535 and skipping ids in use, keepalive PINGREQ even while
 * publishing, and MQTTC_ERR_KEEPALIVE when no PINGRESP comes. */
#include "harness.h"

/* A client of the given kind connected to f through loop_start; returns the
 * CONNECT packet's body in *p (CONNACK already sent and seen). */
static mqttc_client *start(h_fake *f, h_rec *rec, const char *id, bool clean, int protocol, int keepalive,
                           void (*setup)(mqttc_client *), h_pkt *p) {
    h_fake_listen(f);
    h_rec_init(rec);
    mqttc_client *c = mqttc_client_new(id, clean, rec, protocol, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    if (setup) setup(c);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f->port, keepalive, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(f, 5000);
    h_fake_expect(f, p, 1, 5000);
    CHECK_EQ(p->flags, 0);
    h_fake_connack(f, 0, 0);
    CHECK_MSG(h_rec_wait(rec, H_EV_CONNECT, 1, NULL, 5000), "no on_connect");
    return c;
}

static void finish(h_fake *f, mqttc_client *c, h_rec *rec) {
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    h_fake_expect(f, &p, 14, 5000);
    CHECK_EQ(p.flags, 0);
    CHECK_EQ(p.len, 0);
    CHECK(h_rec_wait(rec, H_EV_DISCONNECT, 1, NULL, 5000));
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(rec);
    h_fake_close(f);
}

static void setup_full(mqttc_client *c) {
    CHECK_RC(mqttc_will_set(c, "w", "x", 1, 1, true), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, "u", "p"), MQTTC_ERR_SUCCESS);
}
static void setup_empty_fields(mqttc_client *c) {
    CHECK_RC(mqttc_will_set(c, "w", NULL, 0, 2, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, "u", ""), MQTTC_ERR_SUCCESS);
}
static void setup_user_only(mqttc_client *c) { CHECK_RC(mqttc_username_pw_set(c, "user", NULL), MQTTC_ERR_SUCCESS); }

static void connect_packets(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c;

    /* 3.1.1, will (QoS 1, retained), user name and password, keepalive 42 */
    static const unsigned char full[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0xee, 0, 42, 0, 3, 'a', 'b', 'c', 0, 1, 'w',
                                         0, 1, 'x', 0, 1, 'u', 0, 1, 'p'};
    c = start(&f, &rec, "abc", true, MQTTC_PROTOCOL_V311, 42, setup_full, &p);
    CHECK_MEMEQ(p.body, p.len, full, sizeof full);
    finish(&f, c, &rec);

    /* 3.1, persistent session, nothing else, keepalive 0 */
    static const unsigned char v31[] = {0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x00, 0, 0, 0, 3, 'a', 'b', 'c'};
    c = start(&f, &rec, "abc", false, MQTTC_PROTOCOL_V31, 0, NULL, &p);
    CHECK_MEMEQ(p.body, p.len, v31, sizeof v31);
    finish(&f, c, &rec);

    /* no id (zero-length), empty will payload and empty password as zero-length fields */
    static const unsigned char empty[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0xd6, 0, 60, 0, 0, 0, 1, 'w',
                                          0, 0, 0, 1, 'u', 0, 0};
    c = start(&f, &rec, NULL, true, MQTTC_PROTOCOL_V311, 60, setup_empty_fields, &p);
    CHECK_MEMEQ(p.body, p.len, empty, sizeof empty);
    finish(&f, c, &rec);

    /* user name without password */
    static const unsigned char user[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x82, 0x01, 0x2c, 0, 1, 'z', 0, 4, 'u', 's', 'e', 'r'};
    c = start(&f, &rec, "z", true, MQTTC_PROTOCOL_V311, 300, setup_user_only, &p);
    CHECK_MEMEQ(p.body, p.len, user, sizeof user);
    finish(&f, c, &rec);

    /* 3.1 without an id of our own: a random id of 22 characters */
    c = start(&f, &rec, NULL, true, MQTTC_PROTOCOL_V31, 60, NULL, &p);
    CHECK_EQ(p.body[8], 3);
    CHECK_EQ(p.body[9], 0x02);
    int il = p.body[12] << 8 | p.body[13];
    CHECK_MSG(il == 22, "MQTT 3.1 generated id has %d characters, expected 22", il);
    CHECK_EQ(p.len, 14 + il);
    finish(&f, c, &rec);
}

static void other_packets(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c = start(&f, &rec, "enc", true, MQTTC_PROTOCOL_V311, 60, NULL, &p);
    const char *topics[2] = {"a/b", "c/#"};
    const int qos[2] = {1, 2};
    int mid = 0;
    CHECK_RC(mqttc_subscribe_multiple(c, 2, topics, qos, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1);
    h_fake_expect(&f, &p, 8, 5000);
    CHECK_EQ(p.flags, 2);
    static const unsigned char sub[] = {0, 1, 0, 3, 'a', '/', 'b', 1, 0, 3, 'c', '/', '#', 2};
    CHECK_MEMEQ(p.body, p.len, sub, sizeof sub);

    CHECK_RC(mqttc_unsubscribe_multiple(c, 2, topics, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 2);
    h_fake_expect(&f, &p, 10, 5000);
    CHECK_EQ(p.flags, 2);
    static const unsigned char unsub[] = {0, 2, 0, 3, 'a', '/', 'b', 0, 3, 'c', '/', '#'};
    CHECK_MEMEQ(p.body, p.len, unsub, sizeof unsub);

    /* QoS 0 retained: no packet id on the wire, but mid 3 from the same counter */
    CHECK_RC(mqttc_publish(c, "t/0", "p0", 2, 0, true, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 3);
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.flags, 0x1);
    static const unsigned char pub0[] = {0, 3, 't', '/', '0', 'p', '0'};
    CHECK_MEMEQ(p.body, p.len, pub0, sizeof pub0);

    CHECK_RC(mqttc_publish(c, "t/1", "p1", 2, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 4);
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.flags, 0x2);
    static const unsigned char pub1[] = {0, 3, 't', '/', '1', 0, 4, 'p', '1'};
    CHECK_MEMEQ(p.body, p.len, pub1, sizeof pub1);

    /* QoS 2 retained, 300-byte payload: two-byte remaining length */
    unsigned char big[300];
    for (int i = 0; i < 300; i++) big[i] = (unsigned char)i;
    CHECK_RC(mqttc_publish(c, "t/2", big, 300, 2, true, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 5);
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.flags, 0x5);
    CHECK_EQ(p.len, 2 + 3 + 2 + 300);
    CHECK_EQ(p.packet_id, 5);
    CHECK_MEMEQ(p.body + 7, p.len - 7, big, 300);
    /* empty payload */
    CHECK_RC(mqttc_publish(c, "t/e", NULL, 0, 1, false, &mid), MQTTC_ERR_SUCCESS);
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.len, 2 + 3 + 2);
    finish(&f, c, &rec);
}

/* Reads and counts PUBLISH packets from the raw stream until n were seen. */
static void drain_publishes(int fd, int n) {
    static unsigned char buf[1 << 16];
    size_t have = 0;
    int seen = 0;
    while (seen < n) {
        ssize_t r = h_pkt_read_raw(fd, buf + have, sizeof buf - have, 5000);
        CHECK_MSG(r > 0, "stream ended after %d of %d PUBLISH packets", seen, n);
        have += (size_t)r;
        size_t off = 0;
        for (;;) {
            if (have - off < 2) break;
            size_t len = 0, mult = 1, i = 1;
            bool complete = false;
            while (i < have - off && i <= 4) {
                unsigned char b = buf[off + i++];
                len += (b & 127) * mult;
                mult *= 128;
                if (!(b & 128)) {
                    complete = true;
                    break;
                }
            }
            if (!complete || have - off < i + len) break;
            if ((buf[off] >> 4) == 3) seen++;
            off += i + len;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
}

/* mid 1 stays in flight (never acknowledged) while 65534 QoS 0 publishes use
 * 2..65535; the counter then wraps to 1, finds it in use and gives 2. */
static void mid_wraps_and_skips_ids_in_use(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c = start(&f, &rec, "wrap", true, MQTTC_PROTOCOL_V311, 60, NULL, &p);
    int mid = 0;
    CHECK_RC(mqttc_publish(c, "w", "held", 4, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1);
    h_fake_expect(&f, &p, 3, 5000);
    int drained = 0;
    for (int i = 2; i <= 65535; i++) {
        int m = 0;
        int rc = mqttc_publish(c, "w", NULL, 0, 0, false, &m);
        if (rc != MQTTC_ERR_SUCCESS || m != i) H_FAIL("QoS 0 publish #%d: rc %d, mid %d", i, rc, m);
        if (i % 4096 == 0) {
            drain_publishes(f.fd, i - 1 - drained);
            drained = i - 1;
        }
    }
    drain_publishes(f.fd, 65534 - drained);
    CHECK_MSG(h_rec_wait(&rec, H_EV_PUBLISH, 65534, NULL, 20000), "on_publish %d of 65534",
              h_rec_count(&rec, H_EV_PUBLISH));
    CHECK_RC(mqttc_publish(c, "w", "after", 5, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_MSG(mid == 2, "after 65535 the next mid is %d; expected 2 (wrap to 1, which is still in flight)", mid);
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.packet_id, 2);
    h_fake_ack(&f, 4, 1);
    h_fake_ack(&f, 4, 2);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 65536, NULL, 5000));
    CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, 1), 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, 2), 2); /* the QoS 0 one and the wrapped QoS 1 one */
    finish(&f, c, &rec);
}

/* No PINGRESP: PINGREQ after keepalive seconds without incoming packets even
 * though the client keeps publishing, then MQTTC_ERR_KEEPALIVE one period later. */
static void keepalive_timeout_while_publishing(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c = start(&f, &rec, "kato", true, MQTTC_PROTOCOL_V311, 1, NULL, &p);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    f.answer_ping = false;
    int64_t t0 = h_now_ms(), t_ping = -1, t_eof = -1;
    while (h_now_ms() - t0 < 5000 * h_time_scale() && t_eof < 0) {
        mqttc_publish(c, "ka", "x", 1, 0, false, NULL);
        int r;
        while ((r = h_fake_read(&f, &p, 100)) == 1)
            if (p.type == 12 && t_ping < 0) t_ping = h_now_ms() - t0;
        if (r < 0) t_eof = h_now_ms() - t0;
    }
    h_log("PINGREQ after %lld ms, connection closed after %lld ms (keepalive 1 s)", (long long)t_ping, (long long)t_eof);
    CHECK_MSG(t_ping >= 0, "no PINGREQ within 5 s while publishing with keepalive 1 and nothing incoming");
    CHECK_MSG(t_ping >= 700 && t_ping <= 1700 * h_time_scale(), "PINGREQ after %lld ms, keepalive is 1 s", (long long)t_ping);
    CHECK_MSG(t_eof >= 0, "client did not close the connection without PINGRESP");
    CHECK_MSG(t_eof >= t_ping + 500 && t_eof <= t_ping + 2500 * h_time_scale(), "closed %lld ms after PINGREQ, keepalive 1 s",
              (long long)(t_eof - t_ping));
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 2000));
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_KEEPALIVE);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&f);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(connect_packets, 30),
        H_CASE(other_packets, 20),
        H_CASE(mid_wraps_and_skips_ids_in_use, 60),
        H_CASE(keepalive_timeout_while_publishing, 20),
    };
    return h_main(argc, argv, "test_wire", cases, sizeof cases / sizeof cases[0]);
}
