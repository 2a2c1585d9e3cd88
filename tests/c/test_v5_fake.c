/* MQTT 5 against a scripted fake broker, for what mosquitto will not do on demand:
 * exact wire bytes of CONNECT, PUBLISH, SUBSCRIBE and DISCONNECT under protocol 5;
 * every CONNACK limit (Maximum QoS, Retain Available, Maximum Packet Size, Server Keep
 * Alive, Assigned Client Identifier, Receive Maximum, Topic Alias Maximum); incoming
 * topic aliases; the AUTH exchange and re-authentication; PUBREC 0x80; SUBACK failure
 * codes; the server's DISCONNECT of every length; our own limits and a malformed packet
 * answered with DISCONNECT and its reason. */
#include "harness.h"

/* An MQTT 5 client connected to a new fake broker with connect_v5(clean_start,
 * cprops) through loop_start, answered with a CONNACK whose property block (without
 * its length) is `props`. *p gets the CONNECT. */
static mqttc_client *start5(h_fake *f, h_rec *rec, const char *id, int clean_start, int keepalive,
                            const mqttc_properties *cprops, const unsigned char *props, int plen,
                            void (*setup)(mqttc_client *), h_pkt *p) {
    h_fake_listen(f);
    h_rec_init(rec);
    mqttc_client *c = mqttc_client_new(id, true, rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    if (setup) setup(c);
    CHECK_RC(mqttc_connect_async_v5(c, "127.0.0.1", f->port, keepalive, NULL, clean_start, cprops),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(f, 5000);
    h_fake_expect(f, p, 1, 5000);
    unsigned char ack[64] = {0x20, (unsigned char)(3 + plen), 0, 0, (unsigned char)plen};
    CHECK(plen < 59);
    if (plen > 0) memcpy(ack + 5, props, (size_t)plen);
    h_pkt_write(f->fd, ack, (size_t)(5 + plen));
    CHECK_MSG(h_rec_wait(rec, H_EV_CONNECT5, 1, NULL, 5000), "no on_connect_v5");
    return c;
}

static void stop(h_fake *f, mqttc_client *c, h_rec *rec) {
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(rec);
    h_fake_close(f);
}

/* The next packet of `type`, its whole body equal to want. */
static void expect_body(h_fake *f, int type, int flags, const unsigned char *want, size_t n) {
    static h_pkt p;
    h_fake_expect(f, &p, type, 5000);
    CHECK_EQ(p.flags, flags);
    CHECK_MEMEQ(p.body, p.len, want, n);
}

/* The connection ends with the client's DISCONNECT carrying `reason`, then EOF, and
 * on_disconnect_v5 reports (rc, reason). */
static void expect_client_disconnect(h_fake *f, h_rec *rec, int reason, int rc) {
    static h_pkt p;
    h_fake_expect(f, &p, 14, 5000);
    CHECK_EQ(p.len, 1);
    CHECK_EQ(p.body[0], reason);
    CHECK_EQ(h_pkt_read(f->fd, &p, 2000), -1);
    CHECK(h_rec_wait(rec, H_EV_DISCONNECT5, 1, NULL, 5000));
    h_event e;
    h_rec_get(rec, H_EV_DISCONNECT5, 0, &e);
    CHECK_RC(e.a, rc);
    CHECK_EQ(e.b, reason);
    CHECK(e.props_null);
}

static void connect_bytes(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_properties *cp = h_props();
    h_prop_int(cp, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 30);
    h_prop_int(cp, MQTTC_PROP_RECEIVE_MAXIMUM, 10);
    h_prop_user(cp, "k", "v");
    mqttc_client *c = start5(&f, &rec, "c5", MQTTC_CLEAN_START_FIRST_ONLY, 30, cp, NULL, 0, NULL, &p);
    mqttc_properties_free(cp);
    /* "MQTT" 5, Clean Start, keepalive 30, properties exactly as given, id "c5". */
    static const unsigned char want[] = {
        0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 30,
        15, 0x11, 0, 0, 0, 30, 0x21, 0, 10, 0x26, 0, 1, 'k', 0, 1, 'v',
        0, 2, 'c', '5'};
    CHECK_MEMEQ(p.body, p.len, want, sizeof want);
    /* FIRST_ONLY: the reconnect resumes (Clean Start 0), same properties. */
    h_fake_drop(&f);
    h_fake_accept(&f, 5000);
    h_fake_expect(&f, &p, 1, 5000);
    CHECK_EQ(p.body[7], 0x00);
    CHECK_MEMEQ(p.body + 8, p.len - 8, want + 8, sizeof want - 8);
    stop(&f, c, &rec);
}

static void setup_will(mqttc_client *c) {
    mqttc_properties *w = h_props();
    h_prop_int(w, MQTTC_PROP_WILL_DELAY_INTERVAL, 5);
    CHECK_RC(mqttc_will_set_v5(c, "w", "x", 1, 1, true, w), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(w);
    CHECK_RC(mqttc_username_pw_set(c, "u", "p"), MQTTC_ERR_SUCCESS);
}

static void connect_with_will_bytes(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    /* the 3.1.1 connect function on an MQTT 5 client: client_new's clean flag, no
     * CONNECT properties */
    mqttc_client *c = mqttc_client_new("id", false, &rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    h_fake_listen(&f);
    h_rec_init(&rec);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    setup_will(c);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", f.port, 10, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&f, 5000);
    h_fake_expect(&f, &p, 1, 5000);
    static const unsigned char want[] = {
        0, 4, 'M', 'Q', 'T', 'T', 5, 0xec, 0, 10, 0, 0, 2, 'i', 'd',
        5, 0x18, 0, 0, 0, 5, 0, 1, 'w', 0, 1, 'x', 0, 1, 'u', 0, 1, 'p'};
    CHECK_MEMEQ(p.body, p.len, want, sizeof want);
    stop(&f, c, &rec);
}

static void publish_subscribe_disconnect_bytes(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c = start5(&f, &rec, "pb", 1, 60, NULL, NULL, 0, NULL, &p);
    int mid;
    /* PUBLISH QoS 1 without properties: property length 0 */
    CHECK_RC(mqttc_publish_v5(c, "a/b", "hi", 2, 1, false, NULL, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1);
    static const unsigned char pub1[] = {0, 3, 'a', '/', 'b', 0, 1, 0, 'h', 'i'};
    expect_body(&f, 3, 0x02, pub1, sizeof pub1);
    h_fake_ack(&f, 4, 1);
    /* PUBLISH QoS 0 retained with properties, in the order given */
    mqttc_properties *pp = h_props();
    h_prop_int(pp, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
    h_prop_str(pp, MQTTC_PROP_CONTENT_TYPE, "t");
    h_prop_user(pp, "k", "v");
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 0, true, pp, &mid), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(pp);
    static const unsigned char pub0[] = {0, 1, 't', 13, 0x01, 1, 0x03, 0, 1, 't', 0x26, 0, 1, 'k', 0, 1, 'v', 'x'};
    expect_body(&f, 3, 0x01, pub0, sizeof pub0);
    /* SUBSCRIBE with options and a subscription identifier */
    mqttc_properties *sp = h_props();
    h_prop_int(sp, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 200);
    CHECK_RC(mqttc_subscribe_v5(c, "s/#", 1 | MQTTC_SUB_OPT_NO_LOCAL | MQTTC_SUB_OPT_RETAIN_AS_PUBLISHED |
                                               MQTTC_SUB_OPT_SEND_RETAIN_NEVER, sp, &mid),
             MQTTC_ERR_SUCCESS);
    mqttc_properties_free(sp);
    CHECK_EQ(mid, 3);
    static const unsigned char sub[] = {0, 3, 3, 0x0b, 0xc8, 0x01, 0, 3, 's', '/', '#', 0x2d};
    expect_body(&f, 8, 0x02, sub, sizeof sub);
    /* SUBACK with a failure code reaches on_subscribe_v5 and on_subscribe's array */
    static const unsigned char suback[] = {0x90, 4, 0, 3, 0, 0x87};
    h_pkt_write(f.fd, suback, sizeof suback);
    CHECK(h_rec_wait(&rec, H_EV_SUBSCRIBE5, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_SUBSCRIBE5, 0, &e);
    CHECK_EQ(e.a, 3);
    CHECK_EQ(e.b, 1);
    CHECK_EQ(e.granted[0], MQTTC_RC_NOT_AUTHORIZED);
    /* UNSUBSCRIBE with a user property */
    mqttc_properties *up = h_props();
    h_prop_user(up, "u", "1");
    CHECK_RC(mqttc_unsubscribe_v5(c, "s/#", up, &mid), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(up);
    static const unsigned char unsub[] = {0, 4, 7, 0x26, 0, 1, 'u', 0, 1, '1', 0, 3, 's', '/', '#'};
    expect_body(&f, 10, 0x02, unsub, sizeof unsub);
    /* DISCONNECT with a reason alone */
    CHECK_RC(mqttc_disconnect_v5(c, MQTTC_RC_DISCONNECT_WITH_WILL_MESSAGE, NULL), MQTTC_ERR_SUCCESS);
    static const unsigned char d4[] = {0x04};
    expect_body(&f, 14, 0, d4, 1);
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT5, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_DISCONNECT5, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(e.b, 4);
    CHECK(e.props_null);
    stop(&f, c, &rec);
}

static void disconnect_forms(void) {
    struct { int rc; bool list; bool with_prop; unsigned char want[16]; int n; } forms[] = {
        {-1, false, false, {0}, 0},                     /* E0 00 */
        {0, false, false, {0}, 1},                      /* E0 01 00 */
        {-1, true, false, {0, 0}, 2},                   /* E0 02 00 00, as paho */
        {0x80, true, true, {0x80, 4, 0x1f, 0, 1, 'x'}, 6},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        h_fake f;
        h_rec rec;
        static h_pkt p;
        mqttc_client *c = start5(&f, &rec, "dis", 1, 60, NULL, NULL, 0, NULL, &p);
        mqttc_properties *l = NULL;
        if (forms[i].list) {
            l = h_props();
            if (forms[i].with_prop) h_prop_str(l, MQTTC_PROP_REASON_STRING, "x");
        }
        CHECK_RC(mqttc_disconnect_v5(c, forms[i].rc, l), MQTTC_ERR_SUCCESS);
        mqttc_properties_free(l);
        expect_body(&f, 14, 0, forms[i].want, (size_t)forms[i].n);
        CHECK(h_rec_wait(&rec, H_EV_DISCONNECT5, 1, NULL, 5000));
        h_event e;
        h_rec_get(&rec, H_EV_DISCONNECT5, 0, &e);
        CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
        CHECK_EQ(e.b, forms[i].rc < 0 ? 0 : forms[i].rc);
        stop(&f, c, &rec);
    }
}

static void connack_limits(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    /* Maximum QoS 1, Retain Available 0, Maximum Packet Size 30 */
    static const unsigned char lim[] = {0x24, 1, 0x25, 0, 0x27, 0, 0, 0, 30};
    mqttc_client *c = start5(&f, &rec, "lim", 1, 60, NULL, lim, sizeof lim, NULL, &p);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT5, 0, &e);
    CHECK_EQ(h_get_int(e.props, MQTTC_PROP_MAXIMUM_QOS, 0), 1);
    int mid = -1;
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 2, false, NULL, &mid), MQTTC_ERR_QOS_NOT_SUPPORTED);
    CHECK_RC(mqttc_publish(c, "t", "x", 1, 2, false, &mid), MQTTC_ERR_QOS_NOT_SUPPORTED);
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 0, true, NULL, &mid), MQTTC_ERR_NOT_SUPPORTED);
    /* 2 + 3 ("t") + 2 (id) + 1 (properties) + 22 = 30 bytes fit; 31 do not */
    char payload[23];
    memset(payload, 'p', sizeof payload);
    CHECK_RC(mqttc_publish_v5(c, "t", payload, 23, 1, false, NULL, &mid), MQTTC_ERR_OVERSIZE_PACKET);
    CHECK_EQ(mid, -1);
    CHECK_RC(mqttc_subscribe(c, "a-filter-long-enough-to-pass-thirty", 0, &mid), MQTTC_ERR_OVERSIZE_PACKET);
    CHECK_EQ(mid, -1);
    CHECK_RC(mqttc_publish_v5(c, "t", payload, 22, 1, false, NULL, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1); /* refused calls took no id */
    h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(p.len + 2, 30);
    stop(&f, c, &rec);
}

static void server_keep_alive_and_assigned_id(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    /* Server Keep Alive 1 (ours is 60), Assigned Client Identifier "given" */
    static const unsigned char props[] = {0x13, 0, 1, 0x12, 0, 5, 'g', 'i', 'v', 'e', 'n'};
    mqttc_client *c = start5(&f, &rec, NULL, 1, 60, NULL, props, sizeof props, NULL, &p);
    CHECK_EQ(p.body[11], 0); /* empty client id in the first CONNECT */
    CHECK_EQ(p.body[12], 0);
    f.answer_ping = false;
    int64_t t0 = h_now_ms();
    h_fake_expect(&f, &p, 12, 3000 * h_time_scale());
    int64_t waited = h_now_ms() - t0;
    CHECK_MSG(waited < 2500 * h_time_scale(), "PINGREQ after %lld ms; Server Keep Alive is 1 s", (long long)waited);
    /* The reconnect uses the assigned identifier. */
    h_fake_drop(&f);
    h_fake_accept(&f, 5000);
    h_fake_expect(&f, &p, 1, 5000);
    static const unsigned char id[] = {0, 5, 'g', 'i', 'v', 'e', 'n'};
    CHECK_MEMEQ(p.body + 11, p.len - 11, id, sizeof id);
    stop(&f, c, &rec);
}

static void receive_maximum_quota(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    static const unsigned char rm[] = {0x21, 0, 2};
    mqttc_client *c = start5(&f, &rec, "rm", 1, 60, NULL, rm, sizeof rm, NULL, &p);
    int mid;
    for (int i = 0; i < 6; i++) CHECK_RC(mqttc_publish(c, "t", "x", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    int got[6], n = 0;
    got[n++] = h_fake_expect(&f, &p, 3, 5000);
    got[n++] = h_fake_expect(&f, &p, 3, 5000);
    CHECK_EQ(h_fake_read(&f, &p, 300), 0); /* the quota is full */
    while (n < 6) {
        h_fake_ack(&f, 4, got[n - 2]);
        got[n++] = h_fake_expect(&f, &p, 3, 5000);
        CHECK_EQ(h_fake_read(&f, &p, 100), 0);
    }
    for (int i = 0; i < 6; i++) CHECK_EQ(got[i], i + 1);
    stop(&f, c, &rec);
}

static void setup_auto_alias(mqttc_client *c) { CHECK_RC(mqttc_topic_alias_auto_set(c, true), MQTTC_ERR_SUCCESS); }

static void topic_aliases_out(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    static const unsigned char tam[] = {0x22, 0, 1};
    mqttc_client *c = start5(&f, &rec, "al", 1, 60, NULL, tam, sizeof tam, setup_auto_alias, &p);
    int mid;
    CHECK_RC(mqttc_publish(c, "long/topic", "1", 1, 0, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, "long/topic", "2", 1, 0, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, "other", "3", 1, 0, false, &mid), MQTTC_ERR_SUCCESS);
    static const unsigned char a1[] = {0, 10, 'l', 'o', 'n', 'g', '/', 't', 'o', 'p', 'i', 'c', 3, 0x23, 0, 1, '1'};
    static const unsigned char a2[] = {0, 0, 3, 0x23, 0, 1, '2'};
    static const unsigned char a3[] = {0, 5, 'o', 't', 'h', 'e', 'r', 3, 0x23, 0, 1, '3'};
    expect_body(&f, 3, 0, a1, sizeof a1);
    expect_body(&f, 3, 0, a2, sizeof a2);
    expect_body(&f, 3, 0, a3, sizeof a3);
    /* An alias the application sets above the maximum is refused. */
    mqttc_properties *pa = h_props();
    h_prop_int(pa, MQTTC_PROP_TOPIC_ALIAS, 2);
    CHECK_RC(mqttc_publish_v5(c, "x", "4", 1, 0, false, pa, &mid), MQTTC_ERR_PROPERTY);
    mqttc_properties_free(pa);
    stop(&f, c, &rec);
}

static void topic_aliases_in(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_properties *cp = h_props();
    h_prop_int(cp, MQTTC_PROP_TOPIC_ALIAS_MAXIMUM, 4);
    mqttc_client *c = start5(&f, &rec, "ain", 1, 60, cp, NULL, 0, NULL, &p);
    mqttc_properties_free(cp);
    static const unsigned char set[] = {0x30, 10, 0, 3, 'a', '/', 'b', 3, 0x23, 0, 2, 'x'};
    static const unsigned char use[] = {0x30, 7, 0, 0, 3, 0x23, 0, 2, 'y'};
    h_pkt_write(f.fd, set, sizeof set);
    h_pkt_write(f.fd, use, sizeof use);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 2, NULL, 5000));
    h_event m;
    for (int i = 0; i < 2; i++) {
        h_rec_get(&rec, H_EV_MESSAGE, i, &m);
        CHECK_STREQ(m.topic, "a/b");
        CHECK_EQ(h_get_int(m.props, MQTTC_PROP_TOPIC_ALIAS, 0), 2);
    }
    CHECK_EQ(m.payload[0], 'y');
    /* An alias above our maximum: DISCONNECT 0x94. */
    static const unsigned char bad[] = {0x30, 7, 0, 0, 3, 0x23, 0, 5, 'z'};
    h_pkt_write(f.fd, bad, sizeof bad);
    expect_client_disconnect(&f, &rec, MQTTC_RC_TOPIC_ALIAS_INVALID, MQTTC_ERR_PROTOCOL);
    stop(&f, c, &rec);
}

static void our_limits_end_the_connection(void) {
    /* Receive Maximum 1: a second unacknowledged QoS 1 message is one too many. The
     * first is held unacknowledged by a callback that waits for the second. */
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_properties *cp = h_props();
    h_prop_int(cp, MQTTC_PROP_RECEIVE_MAXIMUM, 1);
    h_prop_int(cp, MQTTC_PROP_MAXIMUM_PACKET_SIZE, 64);
    mqttc_client *c = start5(&f, &rec, "own", 1, 60, cp, NULL, 0, NULL, &p);
    mqttc_properties_free(cp);
    static const unsigned char two[] = {0x32, 6, 0, 1, 't', 0, 1, 0, 0x32, 6, 0, 1, 't', 0, 2, 0};
    h_pkt_write(f.fd, two, sizeof two);
    expect_client_disconnect(&f, &rec, MQTTC_RC_RECEIVE_MAXIMUM_EXCEEDED, MQTTC_ERR_PROTOCOL);
    stop(&f, c, &rec);

    /* Maximum Packet Size 64: a 65-byte packet. */
    cp = h_props();
    h_prop_int(cp, MQTTC_PROP_MAXIMUM_PACKET_SIZE, 64);
    c = start5(&f, &rec, "own", 1, 60, cp, NULL, 0, NULL, &p);
    mqttc_properties_free(cp);
    unsigned char big[65] = {0x30, 63, 0, 1, 't', 0};
    h_pkt_write(f.fd, big, sizeof big);
    expect_client_disconnect(&f, &rec, MQTTC_RC_PACKET_TOO_LARGE, MQTTC_ERR_PROTOCOL);
    stop(&f, c, &rec);

    /* A malformed packet: PUBLISH QoS 3. */
    c = start5(&f, &rec, "own", 1, 60, NULL, NULL, 0, NULL, &p);
    static const unsigned char mal[] = {0x36, 5, 0, 1, 't', 0, 1};
    h_pkt_write(f.fd, mal, sizeof mal);
    expect_client_disconnect(&f, &rec, MQTTC_RC_MALFORMED_PACKET, MQTTC_ERR_PROTOCOL);
    stop(&f, c, &rec);
}

static void pubrec_failure_ends_the_flow(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_client *c = start5(&f, &rec, "prec", 1, 60, NULL, NULL, 0, NULL, &p);
    int mid;
    CHECK_RC(mqttc_publish(c, "t", "x", 1, 2, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_fake_expect(&f, &p, 3, 5000), mid);
    static const unsigned char rec80[] = {0x50, 7, 0, 1, 0x80, 3, 0x1f, 0, 0};
    h_pkt_write(f.fd, rec80, sizeof rec80);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
    h_event e;
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH5, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_PUBLISH5, 0, &e);
    CHECK_EQ(e.a, mid);
    CHECK_EQ(e.b, MQTTC_RC_UNSPECIFIED_ERROR);
    CHECK(!e.props_null);
    CHECK_STREQ(h_get_str(e.props, MQTTC_PROP_REASON_STRING, 0), "");
    CHECK_EQ(h_fake_read(&f, &p, 300), 0); /* no PUBREL */
    /* QoS 0: SUCCESS and NULL properties */
    CHECK_RC(mqttc_publish(c, "t", "x", 1, 0, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH5, 2, NULL, 5000));
    h_rec_get(&rec, H_EV_PUBLISH5, 1, &e);
    CHECK_EQ(e.a, mid);
    CHECK_EQ(e.b, 0);
    CHECK(e.props_null);
    stop(&f, c, &rec);
}

static void server_disconnect_every_length(void) {
    static const struct { unsigned char bytes[12]; int n; int reason; const char *rs; } forms[] = {
        {{0xe0, 0}, 2, 0, NULL},
        {{0xe0, 1, 0x8e}, 3, 0x8e, NULL},
        {{0xe0, 2, 0x8e, 0}, 4, 0x8e, NULL},
        {{0xe0, 7, 0x9c, 5, 0x1f, 0, 2, 'g', 'o'}, 9, 0x9c, "go"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        h_fake f;
        h_rec rec;
        static h_pkt p;
        mqttc_client *c = start5(&f, &rec, "sd", 1, 60, NULL, NULL, 0, NULL, &p);
        h_pkt_write(f.fd, forms[i].bytes, (size_t)forms[i].n);
        CHECK(h_rec_wait(&rec, H_EV_DISCONNECT5, 1, NULL, 5000));
        h_event e;
        h_rec_get(&rec, H_EV_DISCONNECT5, 0, &e);
        CHECK_RC(e.a, MQTTC_ERR_CONN_LOST);
        CHECK_EQ(e.b, forms[i].reason);
        CHECK(!e.props_null);
        if (forms[i].rs) CHECK_STREQ(h_get_str(e.props, MQTTC_PROP_REASON_STRING, 0), forms[i].rs);
        else CHECK_EQ(mqttc_properties_count(e.props), 0);
        /* nothing is sent back, the connection just ends */
        CHECK_EQ(h_pkt_read(f.fd, &p, 2000), -1);
        stop(&f, c, &rec);
    }
}

/* on_auth that answers the server's challenge "c1" with "r1". */
static void answer_auth(mqttc_client *c, void *ud, int reason, const mqttc_properties *p) {
    h_rec_on_auth(c, ud, reason, p);
    if (reason != MQTTC_RC_CONTINUE_AUTHENTICATION) return;
    mqttc_properties *a = h_props();
    h_prop_str(a, MQTTC_PROP_AUTHENTICATION_METHOD, "X-T");
    h_prop_bin(a, MQTTC_PROP_AUTHENTICATION_DATA, "r1", 2);
    int rc = mqttc_authenticate(c, MQTTC_RC_CONTINUE_AUTHENTICATION, a);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_authenticate in on_auth returned %d", rc);
    mqttc_properties_free(a);
}

static void auth_exchange_and_reauthentication(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    h_fake_listen(&f);
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new("auth", true, &rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    mqttc_on_auth_set(c, answer_auth);
    mqttc_properties *cp = h_props();
    h_prop_str(cp, MQTTC_PROP_AUTHENTICATION_METHOD, "X-T");
    h_prop_bin(cp, MQTTC_PROP_AUTHENTICATION_DATA, "i", 1);
    CHECK_RC(mqttc_connect_async_v5(c, "127.0.0.1", f.port, 60, NULL, 1, cp), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(cp);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&f, 5000);
    h_fake_expect(&f, &p, 1, 5000);
    /* AUTH continue with the challenge */
    static const unsigned char chal[] = {0xf0, 13, 0x18, 11, 0x15, 0, 3, 'X', '-', 'T', 0x16, 0, 2, 'c', '1'};
    h_pkt_write(f.fd, chal, sizeof chal);
    static const unsigned char resp[] = {0x18, 11, 0x15, 0, 3, 'X', '-', 'T', 0x16, 0, 2, 'r', '1'};
    expect_body(&f, 15, 0, resp, sizeof resp);
    h_event e;
    CHECK(h_rec_wait(&rec, H_EV_AUTH, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_AUTH, 0, &e);
    CHECK_EQ(e.a, MQTTC_RC_CONTINUE_AUTHENTICATION);
    const void *d;
    int len;
    CHECK_RC(mqttc_properties_get_binary(e.props, MQTTC_PROP_AUTHENTICATION_DATA, 0, &d, &len), MQTTC_ERR_SUCCESS);
    CHECK_MEMEQ(d, len, "c1", 2);
    static const unsigned char ack[] = {0x20, 9, 0, 0, 6, 0x15, 0, 3, 'X', '-', 'T'};
    h_pkt_write(f.fd, ack, sizeof ack);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT5, 1, NULL, 5000));
    /* Re-authentication started by the application; the server answers success. */
    mqttc_properties *ra = h_props();
    h_prop_str(ra, MQTTC_PROP_AUTHENTICATION_METHOD, "X-T");
    CHECK_RC(mqttc_authenticate(c, MQTTC_RC_REAUTHENTICATE, ra), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(ra);
    static const unsigned char re[] = {0x19, 6, 0x15, 0, 3, 'X', '-', 'T'};
    expect_body(&f, 15, 0, re, sizeof re);
    static const unsigned char ok[] = {0xf0, 8, 0x00, 6, 0x15, 0, 3, 'X', '-', 'T'};
    h_pkt_write(f.fd, ok, sizeof ok);
    CHECK(h_rec_wait(&rec, H_EV_AUTH, 2, NULL, 5000));
    h_rec_get(&rec, H_EV_AUTH, 1, &e);
    CHECK_EQ(e.a, MQTTC_RC_SUCCESS);
    CHECK_STREQ(h_get_str(e.props, MQTTC_PROP_AUTHENTICATION_METHOD, 0), "X-T");
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 0);
    stop(&f, c, &rec);
}

static void setup_no_auth_handler(mqttc_client *c) { mqttc_on_auth_set(c, NULL); }

static void auth_without_on_auth_is_a_protocol_error(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    mqttc_properties *cp = h_props();
    h_prop_str(cp, MQTTC_PROP_AUTHENTICATION_METHOD, "X-T");
    mqttc_client *c = start5(&f, &rec, "noauth", 1, 60, cp, NULL, 0, setup_no_auth_handler, &p);
    mqttc_properties_free(cp);
    static const unsigned char chal[] = {0xf0, 2, 0x18, 0};
    h_pkt_write(f.fd, chal, sizeof chal);
    expect_client_disconnect(&f, &rec, MQTTC_RC_PROTOCOL_ERROR, MQTTC_ERR_PROTOCOL);
    CHECK_EQ(h_rec_count(&rec, H_EV_AUTH), 0);
    stop(&f, c, &rec);
}

static void refused_connack_reason_codes(void) {
    h_fake f;
    h_rec rec;
    static h_pkt p;
    h_fake_listen(&f);
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new("ref", true, &rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    CHECK_RC(mqttc_reconnect_on_failure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&f, 5000);
    h_fake_expect(&f, &p, 1, 5000);
    static const unsigned char no[] = {0x20, 8, 0, 0x86, 5, 0x1f, 0, 2, 'n', 'o'};
    h_pkt_write(f.fd, no, sizeof no);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT5, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT5, 0, &e);
    CHECK_EQ(e.b, MQTTC_RC_BAD_USER_NAME_OR_PASSWORD);
    CHECK_STREQ(h_get_str(e.props, MQTTC_PROP_REASON_STRING, 0), "no");
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_CONN_REFUSED);
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&f);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(connect_bytes, 20),
        H_CASE(connect_with_will_bytes, 20),
        H_CASE(publish_subscribe_disconnect_bytes, 20),
        H_CASE(disconnect_forms, 30),
        H_CASE(connack_limits, 20),
        H_CASE(server_keep_alive_and_assigned_id, 20),
        H_CASE(receive_maximum_quota, 20),
        H_CASE(topic_aliases_out, 20),
        H_CASE(topic_aliases_in, 20),
        H_CASE(our_limits_end_the_connection, 30),
        H_CASE(pubrec_failure_ends_the_flow, 20),
        H_CASE(server_disconnect_every_length, 30),
        H_CASE(auth_exchange_and_reauthentication, 20),
        H_CASE(auth_without_on_auth_is_a_protocol_error, 20),
        H_CASE(refused_connack_reason_codes, 20),
    };
    return h_main(argc, argv, "test_v5_fake", cases, sizeof cases / sizeof cases[0]);
}
