/* A hostile or broken broker, scripted with the fake broker (harness_raw.c): what a
 * real broker never does on demand. The client must never crash, hang or grow without
 * bound; it reports each fault through on_disconnect and the loop's result code.
 *
 *  - malformed packets of every kind after CONNACK (and before it): bad remaining
 *    length, reserved types and flags, invalid UTF-8 or wildcard topics, packet id 0,
 *    QoS 3, DUP on QoS 0, wrong lengths, a second CONNACK, packets only a client sends:
 *    the client closes the connection, on_disconnect gets MQTTC_ERR_PROTOCOL;
 *  - a packet truncated and then the connection closed, a connection reset (RST) in
 *    the middle of a packet, a packet announcing 256 MiB and then closing:
 *    MQTTC_ERR_CONN_LOST, without allocating what was announced;
 *  - acknowledgements for ids the client never used (PUBACK, PUBREC, PUBREL, PUBCOMP,
 *    SUBACK, UNSUBACK) and acks of the wrong kind: ignored (PUBREL still gets its
 *    PUBCOMP, MQTT-4.3.3), no callback, the connection stays up;
 *  - silence after CONNECT: the CONNACK timeout (keepalive) ends the attempt with
 *    MQTTC_ERR_KEEPALIVE; silence after PINGREQ: MQTTC_ERR_KEEPALIVE;
 *  - CONNACK refusals 1..5: on_connect gets the code, loop_forever backs off per
 *    reconnect_delay_set, doubling up to the maximum (measured at the fake broker);
 *  - a broker that stops reading: the output buffer stops at its bound (4 MiB), QoS 0
 *    publish returns MQTTC_ERR_QUEUE_SIZE, QoS 1 is held in the queue; all of it goes
 *    out once the broker reads again.
 *
 * The maximum incoming packet size cannot be set from C: the default is the largest
 * size the remaining-length field can express (268435455 + 5), so "larger than the
 * maximum" cannot be said on the wire; a remaining length of five bytes (malformed) and
 * a 256 MiB announcement stand for it. */
#include "harness.h"

#include <sys/socket.h>
#include <unistd.h>

typedef struct hs {
    h_fake f;
    h_rec rec;
    mqttc_client *c;
} hs;

/* A client on loop_start connected to a fresh fake broker (CONNACK 0 seen).
 * No reconnecting: one connection per scenario. */
static void hs_start(hs *s, int keepalive) {
    h_fake_listen(&s->f);
    h_rec_init(&s->rec);
    char id[64];
    s->c = mqttc_client_new(h_client_id(id, "hostile"), true, &s->rec, MQTTC_PROTOCOL_V311,
                            MQTTC_TRANSPORT_TCP);
    CHECK(s->c != NULL);
    h_rec_attach(s->c, H_CB_BASIC);
    CHECK_RC(mqttc_reconnect_on_failure_set(s->c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(s->c, "127.0.0.1", s->f.port, keepalive, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(s->c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&s->f, 5000);
    static h_pkt p;
    h_fake_expect(&s->f, &p, 1, 5000);
    h_fake_connack(&s->f, 0, 0);
    CHECK_MSG(h_rec_wait(&s->rec, H_EV_CONNECT, 1, NULL, 5000), "no on_connect");
}

static void hs_end(hs *s) {
    int64_t t0 = h_now_ms();
    mqttc_loop_stop(s->c, false); /* SUCCESS, or INVAL when the thread already ended */
    mqttc_client_destroy(s->c);
    CHECK_MSG(h_now_ms() - t0 < 3000 * h_time_scale(), "loop_stop + destroy took %lld ms",
              (long long)(h_now_ms() - t0));
    h_rec_free(&s->rec);
    h_fake_close(&s->f);
}

/* The client must close the connection: reads (and discards) until EOF. */
static void expect_client_closes(h_fake *f, const char *what) {
    static h_pkt p;
    int64_t deadline = h_now_ms() + 5000 * h_time_scale();
    for (;;) {
        int r = h_fake_read(f, &p, 200);
        if (r < 0) return;
        CHECK_MSG(h_now_ms() < deadline, "%s: the client did not close the connection within 5 s", what);
    }
}

static void expect_disconnect_rc(hs *s, int rc, const char *what) {
    CHECK_MSG(h_rec_wait(&s->rec, H_EV_DISCONNECT, 1, NULL, 5000), "%s: no on_disconnect", what);
    h_event e;
    h_rec_get(&s->rec, H_EV_DISCONNECT, 0, &e);
    CHECK_MSG(e.a == rc, "%s: on_disconnect rc %d (%s), expected %d (%s)", what, e.a, h_rc_name(e.a), rc,
              h_rc_name(rc));
    CHECK_EQ(h_rec_count(&s->rec, H_EV_DISCONNECT), 1);
}

typedef struct bad_packet {
    const char *what;
    unsigned char bytes[16];
    size_t len;
} bad_packet;

/* Each of these, sent after an accepted CONNACK, is a protocol violation. */
static const bad_packet after_connack[] = {
    {"remaining length of five bytes", {0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, 6},
    {"packet type 0", {0x00, 0x00}, 2},
    {"packet type 15", {0xf0, 0x00}, 2},
    {"PUBACK with reserved flags", {0x42, 2, 0, 1}, 4},
    {"PUBREL without its 0x2 flags", {0x60, 2, 0, 1}, 4},
    {"PINGRESP with a flag", {0xd1, 0}, 2},
    {"SUBACK with a flag", {0x92, 3, 0, 1, 0}, 5},
    {"PUBLISH QoS 3", {0x36, 5, 0, 1, 'a', 0, 1}, 7},
    {"PUBLISH QoS 1 with packet id 0", {0x32, 5, 0, 1, 'a', 0, 0}, 7},
    {"PUBLISH QoS 0 with DUP", {0x38, 4, 0, 1, 'a', 'x'}, 6},
    {"PUBLISH with an invalid UTF-8 topic", {0x30, 5, 0, 2, 0xc3, 0x28, 'x'}, 7},
    {"PUBLISH with U+0000 in its topic", {0x30, 5, 0, 2, 'a', 0, 'x'}, 7},
    {"PUBLISH with a wildcard topic", {0x30, 4, 0, 1, '#', 'x'}, 6},
    {"PUBLISH with an empty topic", {0x30, 3, 0, 0, 'x'}, 5},
    {"PUBLISH whose topic runs past the packet", {0x30, 3, 0, 9, 'a'}, 5},
    {"PUBACK with packet id 0", {0x40, 2, 0, 0}, 4},
    {"PUBACK one byte short", {0x40, 1, 0}, 3},
    {"PUBACK with a trailing byte", {0x40, 3, 0, 1, 0}, 5},
    {"PUBCOMP with a trailing byte", {0x70, 3, 0, 1, 0}, 5},
    {"UNSUBACK one byte short", {0xb0, 1, 1}, 3},
    {"SUBACK without return codes", {0x90, 2, 0, 1}, 4},
    {"SUBACK with return code 3", {0x90, 3, 0, 1, 3}, 5},
    {"PINGRESP with a body", {0xd0, 1, 0}, 3},
    {"a second CONNACK", {0x20, 2, 0, 0}, 4},
    {"CONNECT from the server", {0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 0}, 14},
    {"SUBSCRIBE from the server", {0x82, 6, 0, 1, 0, 1, 'a', 0}, 8},
    {"UNSUBSCRIBE from the server", {0xa2, 5, 0, 1, 0, 1, 'a'}, 7},
    {"PINGREQ from the server", {0xc0, 0}, 2},
    {"DISCONNECT from the server", {0xe0, 0}, 2},
};

static void malformed_after_connack(void) {
    for (size_t i = 0; i < sizeof after_connack / sizeof after_connack[0]; i++) {
        const bad_packet *b = &after_connack[i];
        hs s;
        hs_start(&s, 60);
        h_pkt_write(s.f.fd, b->bytes, b->len);
        expect_client_closes(&s.f, b->what);
        expect_disconnect_rc(&s, MQTTC_ERR_PROTOCOL, b->what);
        CHECK_MSG(h_rec_count(&s.rec, H_EV_MESSAGE) == 0, "%s: delivered as a message", b->what);
        /* The handle stays usable: no connection, QoS 0 refused, QoS 1 kept. */
        CHECK_RC(mqttc_publish(s.c, "t", "x", 1, 0, false, NULL), MQTTC_ERR_NO_CONN);
        CHECK_RC(mqttc_publish(s.c, "t", "x", 1, 1, false, NULL), MQTTC_ERR_NO_CONN);
        hs_end(&s);
    }
    h_log("%zu malformed packets refused", sizeof after_connack / sizeof after_connack[0]);
}

/* Before CONNACK: anything else first, or a broken CONNACK. */
static void malformed_instead_of_connack(void) {
    static const bad_packet first[] = {
        {"PUBLISH before CONNACK", {0x30, 4, 0, 1, 'a', 'x'}, 6},
        {"PINGRESP before CONNACK", {0xd0, 0}, 2},
        {"CONNACK with reserved flag bits", {0x20, 2, 0x02, 0}, 4},
        {"CONNACK with a trailing byte", {0x20, 3, 0, 0, 0}, 5},
        {"CONNACK one byte short", {0x20, 1, 0}, 3},
        {"garbage", {0xff, 0xff, 0xff, 0xff}, 4},
    };
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        const bad_packet *b = &first[i];
        h_fake f;
        h_rec rec;
        h_fake_listen(&f);
        h_rec_init(&rec);
        mqttc_client *c = h_client("early", true, &rec);
        CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
        CHECK_RC(mqttc_connect(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
        /* Sent at once, without waiting for CONNECT (which loop_forever writes). */
        h_fake_accept(&f, 5000);
        h_pkt_write(f.fd, b->bytes, b->len);
        /* Driven by loop_forever on this thread: it must return, with the error. */
        int64_t t0 = h_now_ms();
        int rc = mqttc_loop_forever(c, 100, 1, false);
        CHECK_MSG(rc == MQTTC_ERR_PROTOCOL, "%s: loop_forever returned %d (%s)", b->what, rc, h_rc_name(rc));
        CHECK_LT(h_now_ms() - t0, 5000 * h_time_scale());
        CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
        CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);
        expect_client_closes(&f, b->what);
        mqttc_client_destroy(c);
        h_rec_free(&rec);
        h_fake_close(&f);
    }
    /* CONNACK return code 6 (undefined): on_connect hears it, then a protocol error. */
    h_fake f;
    h_rec rec;
    h_fake_listen(&f);
    h_rec_init(&rec);
    mqttc_client *c = h_client("rc6", true, &rec);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    h_fake_accept(&f, 5000);
    h_fake_connack(&f, 0, 6);
    int rc = mqttc_loop_forever(c, 100, 1, false);
    CHECK_RC2(rc, MQTTC_ERR_PROTOCOL, MQTTC_ERR_CONN_REFUSED);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 1);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 6);
    expect_client_closes(&f, "CONNACK 6");
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&f);
}

/* VmRSS of this process in KiB. */
static long rss_kib(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    if (fp == NULL) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1) break;
    fclose(fp);
    return v;
}

static void rst_close(h_fake *f) {
    struct linger l = {1, 0};
    setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    h_fake_drop(f);
}

static void truncated_and_reset(void) {
    /* A PUBLISH of 100 bytes, 5 sent, then an orderly close. */
    hs s;
    hs_start(&s, 60);
    static const unsigned char part[] = {0x30, 100, 0, 1, 'a'};
    h_pkt_write(s.f.fd, part, sizeof part);
    h_sleep_ms(50);
    h_fake_drop(&s.f);
    expect_disconnect_rc(&s, MQTTC_ERR_CONN_LOST, "truncated PUBLISH then FIN");
    CHECK_EQ(h_rec_count(&s.rec, H_EV_MESSAGE), 0);
    hs_end(&s);

    /* The same ended by a reset (RST) in the middle of the packet. */
    hs_start(&s, 60);
    h_pkt_write(s.f.fd, part, sizeof part);
    h_sleep_ms(50);
    rst_close(&s.f);
    expect_disconnect_rc(&s, MQTTC_ERR_CONN_LOST, "truncated PUBLISH then RST");
    hs_end(&s);

    /* A reset in the middle of the fixed header's remaining length. */
    hs_start(&s, 60);
    static const unsigned char hdr[] = {0x30, 0x80};
    h_pkt_write(s.f.fd, hdr, sizeof hdr);
    h_sleep_ms(50);
    rst_close(&s.f);
    expect_disconnect_rc(&s, MQTTC_ERR_CONN_LOST, "RST inside the remaining length");
    hs_end(&s);

    /* 256 MiB announced, 1 MiB sent, then closed: the client buffers what came, not
     * what was announced. */
    long before = rss_kib();
    hs_start(&s, 60);
    static unsigned char chunk[64 * 1024];
    static const unsigned char huge[] = {0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1, 'a'};
    h_pkt_write(s.f.fd, huge, sizeof huge);
    for (int i = 0; i < 16; i++) h_pkt_write(s.f.fd, chunk, sizeof chunk);
    h_sleep_ms(100);
    long during = rss_kib();
    h_fake_drop(&s.f);
    expect_disconnect_rc(&s, MQTTC_ERR_CONN_LOST, "256 MiB announced, 1 MiB sent");
    hs_end(&s);
    h_log("RSS %ld KiB before, %ld KiB with 1 MiB of a 256 MiB packet buffered", before, during);
    CHECK_MSG(during - before < 64 * 1024, "RSS grew by %ld KiB for 1 MiB received", during - before);
}

/* Acks for ids never used, and acks of the wrong kind: ignored, connection up. */
/* RabbitMQ's MQTT plugin grants at most QoS 1 and answers a QoS 2 PUBLISH with
 * PUBACK: the message completes there (as in paho), no PUBREL follows, and on_log
 * reports the downgrade as a warning. */
static void qos2_answered_with_puback(void) {
    hs s;
    hs_start(&s, 60);
    h_rec_attach(s.c, H_CB_LOG);
    static h_pkt p;
    int m2;
    CHECK_RC(mqttc_publish(s.c, "q/2", "two", 3, 2, false, &m2), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_fake_expect(&s.f, &p, 3, 5000), m2);
    h_fake_ack(&s.f, 4, m2);
    CHECK_RC(mqttc_wait_for_publish(s.c, m2, 5000), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&s.rec, H_EV_PUBLISH, 1, NULL, 5000));
    CHECK_EQ(h_rec_count_a(&s.rec, H_EV_PUBLISH, m2), 1);
    int warned = 0;
    for (int i = 0; i < h_rec_count(&s.rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(&s.rec, H_EV_LOG, i, &e);
        if (e.a == MQTTC_LOG_WARNING && e.text != NULL && strstr(e.text, "downgraded") != NULL)
            warned++;
    }
    CHECK_EQ(warned, 1);
    /* Nothing more is sent for it, and a late PUBREC is ignored (no PUBREL). */
    h_fake_ack(&s.f, 5, m2);
    CHECK_EQ(h_fake_read(&s.f, &p, 300), 0);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_PUBLISH), 1);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_DISCONNECT), 0);
    hs_end(&s);
}

static void unknown_ids_are_ignored(void) {
    hs s;
    hs_start(&s, 60);
    static h_pkt p;
    /* a QoS 1 and a QoS 2 message in flight, to receive wrong-kind acks */
    int m1, m2;
    CHECK_RC(mqttc_publish(s.c, "q/1", "one", 3, 1, false, &m1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(s.c, "q/2", "two", 3, 2, false, &m2), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_fake_expect(&s.f, &p, 3, 5000), m1);
    CHECK_EQ(h_fake_expect(&s.f, &p, 3, 5000), m2);
    h_fake_ack(&s.f, 4, 777);  /* PUBACK, unknown id */
    h_fake_ack(&s.f, 5, 778);  /* PUBREC, unknown id: no PUBREL */
    h_fake_ack(&s.f, 7, 780);  /* PUBCOMP, unknown id */
    h_fake_ack(&s.f, 11, 782); /* UNSUBACK, unknown id */
    static const unsigned char suback[] = {0x90, 3, 0x03, 0x0d, 1}; /* SUBACK 781 */
    h_pkt_write(s.f.fd, suback, sizeof suback);
    h_fake_ack(&s.f, 7, m2); /* PUBCOMP before PUBREC */
    h_fake_ack(&s.f, 5, m1); /* PUBREC for a QoS 1 message */
    h_fake_ack(&s.f, 11, m1); /* UNSUBACK for a PUBLISH id */
    h_fake_ack(&s.f, 6, 779); /* PUBREL, unknown id: PUBCOMP all the same (MQTT-4.3.3) */
    CHECK_EQ(h_fake_expect(&s.f, &p, 7, 5000), 779);
    /* Still connected, nothing reported, the real flows complete. */
    h_fake_ack(&s.f, 4, m1);
    h_fake_ack(&s.f, 5, m2);
    CHECK_EQ(h_fake_expect(&s.f, &p, 6, 5000), m2); /* PUBREL */
    h_fake_ack(&s.f, 4, m2); /* PUBACK while waiting for PUBCOMP */
    h_fake_ack(&s.f, 7, m2);
    CHECK(h_rec_wait(&s.rec, H_EV_PUBLISH, 2, NULL, 5000));
    int sub_mid;
    CHECK_RC(mqttc_subscribe(s.c, "s/#", 1, &sub_mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_fake_expect(&s.f, &p, 8, 5000), sub_mid);
    unsigned char sa[5] = {0x90, 3, (unsigned char)(sub_mid >> 8), (unsigned char)sub_mid, 1};
    h_pkt_write(s.f.fd, sa, sizeof sa);
    CHECK(h_rec_wait(&s.rec, H_EV_SUBSCRIBE, 1, NULL, 5000));
    h_sleep_ms(100);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_PUBLISH), 2);
    CHECK_EQ(h_rec_count_a(&s.rec, H_EV_PUBLISH, m1), 1);
    CHECK_EQ(h_rec_count_a(&s.rec, H_EV_PUBLISH, m2), 1);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_SUBSCRIBE), 1);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_UNSUBSCRIBE), 0);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_DISCONNECT), 0);
    /* nothing else was sent in answer to the strays (no PUBREL for 778) */
    CHECK_EQ(h_fake_read(&s.f, &p, 200), 0);
    CHECK_RC(mqttc_disconnect(s.c), MQTTC_ERR_SUCCESS);
    h_fake_expect(&s.f, &p, 14, 5000);
    expect_disconnect_rc(&s, 0, "disconnect");
    hs_end(&s);
}

/* CONNECT answered by nothing: on_disconnect with MQTTC_ERR_KEEPALIVE after the
 * keepalive period (the CONNACK timeout), on_connect never; no hang. */
static void silence_after_connect(void) {
    h_fake f;
    h_rec rec;
    h_fake_listen(&f);
    h_rec_init(&rec);
    mqttc_client *c = h_client("silent", true, &rec);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f.port, 2, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&f, 5000);
    static h_pkt p;
    h_fake_expect(&f, &p, 1, 5000);
    int64_t t0 = h_now_ms();
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 6000), "no on_disconnect without a CONNACK");
    int64_t dt = h_now_ms() - t0;
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_KEEPALIVE);
    h_log("gave up on the CONNACK after %lld ms (keepalive 2 s)", (long long)dt);
    CHECK_MSG(dt >= 1800 && dt <= 3500 * h_time_scale(), "CONNACK timeout after %lld ms", (long long)dt);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    expect_client_closes(&f, "no CONNACK");
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&f);
}

/* Idle connection, PINGREQ unanswered: MQTTC_ERR_KEEPALIVE one period later. */
static void silence_after_pingreq(void) {
    hs s;
    hs_start(&s, 1);
    s.f.answer_ping = false;
    static h_pkt p;
    int64_t t0 = h_now_ms();
    CHECK_EQ(h_fake_expect(&s.f, &p, 12, 3000), -1);
    int64_t t_ping = h_now_ms() - t0;
    expect_client_closes(&s.f, "PINGREQ unanswered");
    int64_t t_eof = h_now_ms() - t0;
    expect_disconnect_rc(&s, MQTTC_ERR_KEEPALIVE, "PINGREQ unanswered");
    h_log("PINGREQ after %lld ms, closed after %lld ms (keepalive 1 s)", (long long)t_ping, (long long)t_eof);
    CHECK_MSG(t_eof - t_ping >= 700 && t_eof - t_ping <= 2500 * h_time_scale(), "closed %lld ms after PINGREQ",
              (long long)(t_eof - t_ping));
    hs_end(&s);
}

/* ------------------------------------------------------------------------ */
/* CONNACK refusals and the reconnect back-off of loop_forever               */
/* ------------------------------------------------------------------------ */

typedef struct refuser {
    h_fake f;
    int64_t refused_at[8]; /* when CONNACK n was written */
    int64_t connect_at[8]; /* when CONNECT n arrived */
    int attempts;
    int protocol_level[8];
} refuser;

/* Answers CONNECT n (n = 0..4) with CONNACK code n + 1, then accepts the 6th. */
static void *refuser_main(void *arg) {
    refuser *r = arg;
    static h_pkt p;
    for (int n = 0; n < 6; n++) {
        h_fake_accept(&r->f, 20000);
        h_fake_expect(&r->f, &p, 1, 5000);
        r->connect_at[n] = h_now_ms();
        int nl = p.body[0] << 8 | p.body[1];
        r->protocol_level[n] = p.body[2 + nl];
        r->attempts = n + 1;
        h_fake_connack(&r->f, 0, n < 5 ? n + 1 : 0);
        r->refused_at[n] = h_now_ms();
        if (n < 5) {
            /* the client closes after a refusal */
            int rr;
            while ((rr = h_fake_read(&r->f, &p, 5000)) > 0) {
            }
            if (rr == 0) H_FAIL("client kept the connection open after CONNACK %d", n + 1);
        }
    }
    return NULL;
}

static void disconnect_when_accepted(mqttc_client *c, void *ud, int flags, int rc) {
    h_rec_on_connect(c, ud, flags, rc);
    if (rc == 0) mqttc_disconnect(c);
}

static void refusals_back_off(void) {
    refuser r;
    memset(&r, 0, sizeof r);
    h_fake_listen(&r.f);
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    /* MQTT 3.1 with an id of our own, so that no refusal is retried at once (3.1.1's
     * fallbacks for codes 1 and 2 are test_session's business). */
    mqttc_client *c = mqttc_client_new(h_client_id(id, "refused"), true, &rec, MQTTC_PROTOCOL_V31,
                                       MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    mqttc_on_connect_set(c, disconnect_when_accepted);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 4), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", r.f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, refuser_main, &r), 0);
    int rc = mqttc_loop_forever(c, 1000, 1, true);
    pthread_join(th, NULL);
    CHECK_RC(rc, MQTTC_ERR_SUCCESS);
    CHECK_EQ(r.attempts, 6);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 6);
    for (int n = 0; n < 6; n++) {
        h_event e;
        h_rec_get(&rec, H_EV_CONNECT, n, &e);
        CHECK_MSG(e.b == (n < 5 ? n + 1 : 0), "on_connect %d: rc %d", n, e.b);
        CHECK_EQ(r.protocol_level[n], 3);
        if (n < 5) {
            h_rec_get(&rec, H_EV_DISCONNECT, n, &e);
            CHECK_RC(e.a, MQTTC_ERR_CONN_REFUSED);
        }
    }
    /* min 1 s, doubling, capped at 4 s: 1, 2, 4, 4, 4 */
    static const int want[5] = {1000, 2000, 4000, 4000, 4000};
    char got[128];
    int off = 0;
    for (int n = 0; n < 5; n++) {
        int64_t d = r.connect_at[n + 1] - r.refused_at[n];
        off += snprintf(got + off, sizeof got - (size_t)off, "%s%lld", n ? ", " : "", (long long)d);
        CHECK_MSG(d >= want[n] - 100 && d <= want[n] + 600 * h_time_scale(),
                  "delay %d after CONNACK %d: %lld ms, expected %d ms", n + 1, n + 1, (long long)d, want[n]);
    }
    h_log("delays between attempts (ms): %s", got);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&r.f);
}

/* ------------------------------------------------------------------------ */
/* A broker that stops reading                                               */
/* ------------------------------------------------------------------------ */

static void stalled_broker_bounds_the_output(void) {
    hs s;
    hs_start(&s, 0);
    /* Keep the kernel's share small, so that the library's bound is what stops us. */
    int small = 64 * 1024;
    setsockopt(s.f.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    static unsigned char payload[1024];
    memset(payload, 'p', sizeof payload);
    long before = rss_kib();
    int accepted = 0, rc = MQTTC_ERR_SUCCESS, last_mid = 0;
    /* 64 MiB at most: far past the 4 MiB bound plus any socket buffer. */
    for (int i = 0; i < 64 * 1024; i++) {
        rc = mqttc_publish(s.c, "stall", payload, sizeof payload, 0, false, &last_mid);
        if (rc != MQTTC_ERR_SUCCESS) break;
        accepted++;
        if (i % 1024 == 0) h_sleep_ms(5); /* let the loop thread write what it can */
    }
    CHECK_MSG(rc == MQTTC_ERR_QUEUE_SIZE, "publish to a broker that reads nothing: rc %d (%s) after %d KiB", rc,
              h_rc_name(rc), accepted);
    long at_bound = rss_kib();
    h_log("QoS 0 refused with MQTTC_ERR_QUEUE_SIZE after %d messages of 1 KiB (RSS +%ld KiB)", accepted,
          at_bound - before);
    CHECK_MSG(accepted < 24 * 1024, "%d KiB accepted before the bound", accepted);
    CHECK_MSG(at_bound - before < 32 * 1024, "RSS grew by %ld KiB", at_bound - before);
    /* QoS 1 is still accepted: it waits in the message queue. */
    int q1[50];
    for (int i = 0; i < 50; i++) CHECK_RC(mqttc_publish(s.c, "stall/q1", payload, 100, 1, false, &q1[i]), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_rec_count(&s.rec, H_EV_DISCONNECT), 0);
    /* The broker reads again: every accepted QoS 0 message and the QoS 1 ones arrive. */
    static h_pkt p;
    int q0_seen = 0, q1_seen = 0;
    while (q0_seen < accepted || q1_seen < 50) {
        int r = h_fake_read(&s.f, &p, 5000);
        CHECK_MSG(r == 1, "stream ended after %d of %d QoS 0 and %d of 50 QoS 1", q0_seen, accepted, q1_seen);
        CHECK_EQ(p.type, 3);
        if (p.qos == 0) {
            q0_seen++;
        } else {
            CHECK_EQ(p.packet_id, q1[q1_seen]);
            q1_seen++;
            h_fake_ack(&s.f, 4, p.packet_id);
        }
    }
    CHECK(h_rec_wait(&s.rec, H_EV_PUBLISH, accepted + 50, NULL, 10000));
    CHECK_EQ(h_rec_count_a(&s.rec, H_EV_PUBLISH, last_mid), 0); /* the refused one */
    CHECK_RC(mqttc_publish(s.c, "stall", payload, sizeof payload, 0, false, NULL), MQTTC_ERR_SUCCESS);
    h_fake_expect(&s.f, &p, 3, 5000);
    CHECK_RC(mqttc_disconnect(s.c), MQTTC_ERR_SUCCESS);
    h_fake_expect(&s.f, &p, 14, 5000);
    hs_end(&s);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(malformed_after_connack, 60),
        H_CASE(malformed_instead_of_connack, 30),
        H_CASE(truncated_and_reset, 30),
        H_CASE(unknown_ids_are_ignored, 20),
        H_CASE(qos2_answered_with_puback, 20),
        H_CASE(silence_after_connect, 20),
        H_CASE(silence_after_pingreq, 20),
        H_CASE(refusals_back_off, 40),
        H_CASE(stalled_broker_bounds_the_output, 60),
    };
    return h_main(argc, argv, "test_hostile", cases, sizeof cases / sizeof cases[0]);
}
