/* MQTT 5 against the real mosquitto (2.0): properties end to end (request/response with
 * user properties, content type, payload format, correlation data and response
 * topic), message expiry, subscription identifiers, no-local, retain-as-published and
 * the three retain-handling modes, session expiry with and without a persistent
 * session, will delay, SUBACK and UNSUBACK reason codes, the server's DISCONNECT on
 * session take-over, the server's Receive Maximum honoured. */
#include "harness.h"


#define T(buf, ...) h_topic(buf, __VA_ARGS__)

/* Connect an MQTT 5 client with a loop thread; returns the CONNACK flags. */
static int connect5(mqttc_client *c, h_rec *rec, int port, int clean_start, const mqttc_properties *p) {
    int before = h_rec_count(rec, H_EV_CONNECT5);
    CHECK_RC(mqttc_connect_v5(c, h_host(), port, 30, NULL, clean_start, p), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(rec, H_EV_CONNECT5, before + 1, NULL, 5000), "no on_connect_v5");
    h_event e;
    h_rec_get(rec, H_EV_CONNECT5, before, &e);
    CHECK_EQ(e.b, MQTTC_RC_SUCCESS);
    CHECK(!e.props_null);
    return e.a;
}

static void disconnect5(mqttc_client *c, h_rec *rec) {
    h_disconnect(c, rec, true);
}

/* publish_v5 and wait for its on_publish_v5; returns the reason code. */
static int publish5(mqttc_client *c, h_rec *rec, const char *topic, const char *payload, int qos,
                    bool retain, const mqttc_properties *p) {
    int mid = 0;
    CHECK_RC(mqttc_publish_v5(c, topic, payload, (int)strlen(payload), qos, retain, p, &mid),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000 * h_time_scale()), MQTTC_ERR_SUCCESS);
    for (int i = 0;; i++) {
        h_event e;
        if (!h_rec_get(rec, H_EV_PUBLISH5, i, &e)) {
            CHECK(h_rec_wait(rec, H_EV_PUBLISH5, i + 1, NULL, 2000));
            continue;
        }
        if (e.a == mid) return e.b;
    }
}

/* subscribe_v5 and wait for its SUBACK; returns the first reason code. */
static int subscribe5(mqttc_client *c, h_rec *rec, const char *topic, int options,
                      const mqttc_properties *p) {
    int mid = 0;
    int before = h_rec_count(rec, H_EV_SUBSCRIBE5);
    CHECK_RC(mqttc_subscribe_v5(c, topic, options, p, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(rec, H_EV_SUBSCRIBE5, before + 1, NULL, 5000));
    h_event e;
    h_rec_get(rec, H_EV_SUBSCRIBE5, before, &e);
    CHECK_EQ(e.a, mid);
    CHECK_EQ(e.b, 1);
    return e.granted[0];
}

/* The index of the first message on `topic` from event `from` on, waiting up to
 * timeout_ms; -1 when none came. */
static int wait_message(h_rec *rec, const char *topic, int from, int timeout_ms) {
    int64_t end = h_now_ms() + (int64_t)timeout_ms * h_time_scale();
    for (;;) {
        h_event e;
        for (int i = from; h_rec_get(rec, H_EV_MESSAGE, i, &e); i++)
            if (strcmp(e.topic, topic) == 0) return i;
        if (h_now_ms() >= end) return -1;
        h_sleep_ms(5);
    }
}

static void request_response_with_properties(void) {
    h_rec rq, rs;
    h_rec_init(&rq);
    h_rec_init(&rs);
    mqttc_client *req = h_client5("req", true, &rq);
    mqttc_client *resp = h_client5("resp", true, &rs);
    connect5(req, &rq, h_port(), 1, NULL);
    connect5(resp, &rs, h_port(), 1, NULL);
    char treq[H_TOPIC_MAX], tresp[H_TOPIC_MAX];
    T(treq, "request");
    T(tresp, "response");
    CHECK_EQ(subscribe5(resp, &rs, treq, 1, NULL), 1);
    CHECK_EQ(subscribe5(req, &rq, tresp, 1, NULL), 1);

    static const unsigned char corr[] = {0xc0, 0xff, 0x00, 0xee};
    mqttc_properties *p = h_props();
    h_prop_str(p, MQTTC_PROP_RESPONSE_TOPIC, tresp);
    h_prop_bin(p, MQTTC_PROP_CORRELATION_DATA, corr, (int)sizeof corr);
    h_prop_str(p, MQTTC_PROP_CONTENT_TYPE, "text/plain; charset=utf-8");
    h_prop_int(p, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
    h_prop_user(p, "a", "1");
    h_prop_user(p, "b", "2");
    h_prop_user(p, "a", "3");
    CHECK_EQ(publish5(req, &rq, treq, "what time is it?", 1, false, p), MQTTC_RC_SUCCESS);
    mqttc_properties_free(p);

    int i = wait_message(&rs, treq, 0, 5000);
    CHECK_MSG(i >= 0, "the request did not arrive");
    h_event m;
    h_rec_get(&rs, H_EV_MESSAGE, i, &m);
    CHECK(!m.props_null);
    CHECK_STREQ(h_get_str(m.props, MQTTC_PROP_RESPONSE_TOPIC, 0), tresp);
    CHECK_STREQ(h_get_str(m.props, MQTTC_PROP_CONTENT_TYPE, 0), "text/plain; charset=utf-8");
    CHECK_EQ(h_get_int(m.props, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 0), 1);
    const void *d;
    int len;
    CHECK_RC(mqttc_properties_get_binary(m.props, MQTTC_PROP_CORRELATION_DATA, 0, &d, &len),
             MQTTC_ERR_SUCCESS);
    CHECK_MEMEQ(d, len, corr, sizeof corr);
    /* user properties in order, repeated names kept */
    const char *k, *v;
    static const char *const want[3][2] = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
    for (int j = 0; j < 3; j++) {
        CHECK_RC(mqttc_properties_get_user(m.props, j, &k, &v), MQTTC_ERR_SUCCESS);
        CHECK_STREQ(k, want[j][0]);
        CHECK_STREQ(v, want[j][1]);
    }
    CHECK_RC(mqttc_properties_get_user(m.props, 3, &k, &v), MQTTC_ERR_NOT_FOUND);

    /* The responder answers on the response topic with the correlation data. */
    mqttc_properties *r = h_props();
    h_prop_bin(r, MQTTC_PROP_CORRELATION_DATA, d, len);
    CHECK_EQ(publish5(resp, &rs, h_get_str(m.props, MQTTC_PROP_RESPONSE_TOPIC, 0), "noon", 1, false, r),
             MQTTC_RC_SUCCESS);
    mqttc_properties_free(r);
    i = wait_message(&rq, tresp, 0, 5000);
    CHECK_MSG(i >= 0, "the response did not arrive");
    h_rec_get(&rq, H_EV_MESSAGE, i, &m);
    CHECK_MEMEQ(m.payload, m.payloadlen, "noon", 4);
    CHECK_RC(mqttc_properties_get_binary(m.props, MQTTC_PROP_CORRELATION_DATA, 0, &d, &len),
             MQTTC_ERR_SUCCESS);
    CHECK_MEMEQ(d, len, corr, sizeof corr);

    disconnect5(req, &rq);
    disconnect5(resp, &rs);
    mqttc_client_destroy(req);
    mqttc_client_destroy(resp);
    h_rec_free(&rq);
    h_rec_free(&rs);
}

static void message_expiry(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("exp", true, &rec);
    connect5(c, &rec, h_port(), 1, NULL);
    char short_t[H_TOPIC_MAX], long_t[H_TOPIC_MAX];
    T(short_t, "short");
    T(long_t, "long");
    mqttc_properties *p = h_props();
    h_prop_int(p, MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL, 1);
    publish5(c, &rec, short_t, "gone", 1, true, p);
    mqttc_properties_free(p);
    p = h_props();
    h_prop_int(p, MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL, 60);
    publish5(c, &rec, long_t, "kept", 1, true, p);
    mqttc_properties_free(p);
    h_sleep_ms(2500);
    subscribe5(c, &rec, short_t, 1, NULL);
    subscribe5(c, &rec, long_t, 1, NULL);
    int i = wait_message(&rec, long_t, 0, 5000);
    CHECK_MSG(i >= 0, "the retained message with 60 s to live did not arrive");
    h_event m;
    h_rec_get(&rec, H_EV_MESSAGE, i, &m);
    CHECK(m.retain);
    /* the broker sends what is left of the interval */
    long long left = h_get_int(m.props, MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL, 0);
    CHECK_MSG(left >= 50 && left <= 60, "MessageExpiryInterval %lld", left);
    CHECK_EQ(wait_message(&rec, short_t, 0, 300), -1);
    /* clear the retained message */
    publish5(c, &rec, long_t, "", 1, true, NULL);
    disconnect5(c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void subscription_identifiers(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("sid", true, &rec);
    connect5(c, &rec, h_port(), 1, NULL);
    char a[H_TOPIC_MAX], b[H_TOPIC_MAX];
    T(a, "a/x");
    T(b, "b/x");
    mqttc_properties *p = h_props();
    h_prop_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 7);
    subscribe5(c, &rec, a, 0, p);
    mqttc_properties_free(p);
    p = h_props();
    h_prop_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 300000);
    subscribe5(c, &rec, b, 0, p);
    mqttc_properties_free(p);
    publish5(c, &rec, a, "1", 0, false, NULL);
    publish5(c, &rec, b, "2", 0, false, NULL);
    int i = wait_message(&rec, a, 0, 5000);
    CHECK(i >= 0);
    h_event m;
    h_rec_get(&rec, H_EV_MESSAGE, i, &m);
    CHECK_EQ(h_get_int(m.props, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 0), 7);
    i = wait_message(&rec, b, 0, 5000);
    CHECK(i >= 0);
    h_rec_get(&rec, H_EV_MESSAGE, i, &m);
    CHECK_EQ(h_get_int(m.props, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 0), 300000);
    disconnect5(c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void no_local(void) {
    h_rec r1, r2;
    h_rec_init(&r1);
    h_rec_init(&r2);
    mqttc_client *c1 = h_client5("nl1", true, &r1);
    mqttc_client *c2 = h_client5("nl2", true, &r2);
    connect5(c1, &r1, h_port(), 1, NULL);
    connect5(c2, &r2, h_port(), 1, NULL);
    char t[H_TOPIC_MAX];
    T(t, "nl");
    subscribe5(c1, &r1, t, 1 | MQTTC_SUB_OPT_NO_LOCAL, NULL);
    publish5(c1, &r1, t, "own", 1, false, NULL);
    publish5(c2, &r2, t, "other", 1, false, NULL);
    int i = wait_message(&r1, t, 0, 5000);
    CHECK_MSG(i >= 0, "the other client's message did not arrive");
    h_event m;
    h_rec_get(&r1, H_EV_MESSAGE, i, &m);
    CHECK_MEMEQ(m.payload, m.payloadlen, "other", 5);
    h_sleep_ms(300);
    CHECK_EQ(h_rec_count_topic(&r1, H_EV_MESSAGE, t), 1);
    disconnect5(c1, &r1);
    disconnect5(c2, &r2);
    mqttc_client_destroy(c1);
    mqttc_client_destroy(c2);
    h_rec_free(&r1);
    h_rec_free(&r2);
}

static void retain_as_published(void) {
    h_rec r1, r2;
    h_rec_init(&r1);
    h_rec_init(&r2);
    mqttc_client *c1 = h_client5("rap1", true, &r1);
    mqttc_client *c2 = h_client5("rap2", true, &r2);
    connect5(c1, &r1, h_port(), 1, NULL);
    connect5(c2, &r2, h_port(), 1, NULL);
    char t[H_TOPIC_MAX];
    T(t, "rap");
    subscribe5(c1, &r1, t, 1 | MQTTC_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
    subscribe5(c2, &r2, t, 1, NULL);
    publish5(c1, &r1, t, "live", 1, true, NULL);
    int i1 = wait_message(&r1, t, 0, 5000), i2 = wait_message(&r2, t, 0, 5000);
    CHECK(i1 >= 0 && i2 >= 0);
    h_event m1, m2;
    h_rec_get(&r1, H_EV_MESSAGE, i1, &m1);
    h_rec_get(&r2, H_EV_MESSAGE, i2, &m2);
    CHECK_MSG(m1.retain, "Retain As Published: the RETAIN flag stays");
    CHECK_MSG(!m2.retain, "without it a live message comes with RETAIN 0");
    publish5(c1, &r1, t, "", 1, true, NULL);
    disconnect5(c1, &r1);
    disconnect5(c2, &r2);
    mqttc_client_destroy(c1);
    mqttc_client_destroy(c2);
    h_rec_free(&r1);
    h_rec_free(&r2);
}

static void retain_handling_modes(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("rh", true, &rec);
    connect5(c, &rec, h_port(), 1, NULL);
    char t[H_TOPIC_MAX];
    T(t, "rh");
    publish5(c, &rec, t, "retained", 1, true, NULL);
    static const struct { int option; int first, again; } modes[] = {
        {MQTTC_SUB_OPT_SEND_RETAIN_ALWAYS, 1, 1},
        {MQTTC_SUB_OPT_SEND_RETAIN_NEW, 1, 0},
        {MQTTC_SUB_OPT_SEND_RETAIN_NEVER, 0, 0},
    };
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        int mid;
        CHECK_RC(mqttc_unsubscribe(c, t, &mid), MQTTC_ERR_SUCCESS);
        CHECK(h_rec_wait(&rec, H_EV_UNSUBSCRIBE, (int)k + 1, NULL, 5000));
        int base = h_rec_count(&rec, H_EV_MESSAGE);
        subscribe5(c, &rec, t, 1 | modes[k].option, NULL);
        int got = wait_message(&rec, t, base, modes[k].first ? 5000 : 300) >= 0;
        CHECK_MSG(got == modes[k].first, "mode 0x%x, first subscribe: %d retained", modes[k].option, got);
        base = h_rec_count(&rec, H_EV_MESSAGE);
        subscribe5(c, &rec, t, 1 | modes[k].option, NULL); /* the subscription exists now */
        got = wait_message(&rec, t, base, modes[k].again ? 5000 : 300) >= 0;
        CHECK_MSG(got == modes[k].again, "mode 0x%x, subscribing again: %d retained", modes[k].option, got);
    }
    publish5(c, &rec, t, "", 1, true, NULL);
    disconnect5(c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* A subscriber that goes away and comes back: with a Session Expiry Interval its
 * subscription and the QoS 1 message sent meanwhile wait for it. */
static void session_expiry(bool persistent) {
    char id[64], t[H_TOPIC_MAX];
    h_client_id(id, persistent ? "se1" : "se0");
    T(t, "se");
    h_rec rec, pr;
    h_rec_init(&rec);
    h_rec_init(&pr);
    mqttc_client *c = mqttc_client_new(id, false, &rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    mqttc_properties *p = h_props();
    if (persistent) h_prop_int(p, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 60);
    CHECK_EQ(connect5(c, &rec, h_port(), 1, p) & MQTTC_CONNACK_FLAG_SESSION_PRESENT, 0);
    subscribe5(c, &rec, t, 1, NULL);
    disconnect5(c, &rec);

    mqttc_client *pub = h_client5("sepub", true, &pr);
    connect5(pub, &pr, h_port(), 1, NULL);
    publish5(pub, &pr, t, "while away", 1, false, NULL);
    disconnect5(pub, &pr);

    int flags = connect5(c, &rec, h_port(), 0, p);
    int gone = h_rec_count(&rec, H_EV_DISCONNECT);
    if (persistent) {
        CHECK_MSG(flags & MQTTC_CONNACK_FLAG_SESSION_PRESENT, "the session must be present");
        CHECK_MSG(wait_message(&rec, t, 0, 5000) >= 0, "the queued message did not arrive");
    } else {
        CHECK_MSG(!(flags & MQTTC_CONNACK_FLAG_SESSION_PRESENT), "no session without expiry");
        CHECK_EQ(wait_message(&rec, t, 0, 500), -1);
    }
    /* end the session */
    mqttc_properties *zero = h_props();
    h_prop_int(zero, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 0);
    if (persistent) {
        CHECK_RC(mqttc_disconnect_v5(c, 0, zero), MQTTC_ERR_SUCCESS);
        CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, gone + 1, NULL, 5000));
        mqttc_loop_stop(c, false);
    } else {
        disconnect5(c, &rec);
    }
    mqttc_properties_free(zero);
    mqttc_properties_free(p);
    mqttc_client_destroy(c);
    mqttc_client_destroy(pub);
    h_rec_free(&rec);
    h_rec_free(&pr);
}
static void session_expiry_keeps_the_session(void) { session_expiry(true); }
static void no_session_expiry_no_session(void) { session_expiry(false); }

static void will_delay(void) {
    h_rec obs, wr;
    h_rec_init(&obs);
    h_rec_init(&wr);
    char t[H_TOPIC_MAX];
    T(t, "will");
    mqttc_client *o = h_client5("wobs", true, &obs);
    connect5(o, &obs, h_port(), 1, NULL);
    subscribe5(o, &obs, t, 1, NULL);

    mqttc_client *w = h_client5("wdie", true, &wr);
    mqttc_properties *p = h_props();
    h_prop_int(p, MQTTC_PROP_WILL_DELAY_INTERVAL, 2);
    h_prop_str(p, MQTTC_PROP_CONTENT_TYPE, "text/x-will");
    CHECK_RC(mqttc_will_set_v5(w, t, "gone", 4, 1, false, p), MQTTC_ERR_SUCCESS);
    mqttc_properties_free(p);
    /* The will is sent only if the session outlives the connection long enough. */
    mqttc_properties *cp = h_props();
    h_prop_int(cp, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 10);
    connect5(w, &wr, h_port(), 1, cp);
    mqttc_properties_free(cp);
    mqttc_loop_stop(w, false);
    int64_t t0 = h_now_ms();
    mqttc_client_destroy(w); /* closes without DISCONNECT */
    int i = wait_message(&obs, t, 0, 6000);
    CHECK_MSG(i >= 0, "the will did not come");
    h_event m;
    h_rec_get(&obs, H_EV_MESSAGE, i, &m);
    /* when it arrived, not when the wait noticed */
    int64_t after = m.t_ms - t0;
    CHECK_MSG(after >= 1800, "will after %lld ms, delay is 2 s", (long long)after);
    CHECK_MEMEQ(m.payload, m.payloadlen, "gone", 4);
    CHECK_STREQ(h_get_str(m.props, MQTTC_PROP_CONTENT_TYPE, 0), "text/x-will");
    disconnect5(o, &obs);
    mqttc_client_destroy(o);
    h_rec_free(&obs);
    h_rec_free(&wr);
}

/* mosquitto 2.0 answers every valid subscription with a granted QoS (its ACLs act at
 * delivery, not in SUBACK), capped by max_qos, which it also announces as Maximum QoS;
 * the failure codes are test_v5_fake's. */
static void suback_and_unsuback_reason_codes(void) {
    h_broker b;
    h_broker_start_conf(&b, false, "max_qos 1\n");
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("codes", true, &rec);
    connect5(c, &rec, b.port, 1, NULL);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT5, 0, &e);
    CHECK_EQ(h_get_int(e.props, MQTTC_PROP_MAXIMUM_QOS, 0), 1);
    const char *topics[3] = {"codes/a", "codes/b", "codes/c"};
    const int opts[3] = {1, 2, 0};
    int mid;
    CHECK_RC(mqttc_subscribe_multiple_v5(c, 3, topics, opts, NULL, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_SUBSCRIBE5, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_SUBSCRIBE5, 0, &e);
    CHECK_EQ(e.a, mid);
    CHECK_EQ(e.b, 3);
    CHECK_EQ(e.granted[0], MQTTC_RC_GRANTED_QOS_1);
    CHECK_EQ(e.granted[1], MQTTC_RC_GRANTED_QOS_1); /* 2 asked, 1 granted */
    CHECK_EQ(e.granted[2], MQTTC_RC_GRANTED_QOS_0);
    CHECK(!e.props_null);
    /* The server's Maximum QoS applies to our publishes: refused before an id is taken. */
    int pmid = -1;
    CHECK_RC(mqttc_publish_v5(c, "codes/a", "x", 1, 2, false, NULL, &pmid), MQTTC_ERR_QOS_NOT_SUPPORTED);
    CHECK_EQ(pmid, -1);
    const char *un[2] = {"codes/a", "codes/never"};
    CHECK_RC(mqttc_unsubscribe_multiple_v5(c, 2, un, NULL, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_UNSUBSCRIBE5, 1, NULL, 5000));
    h_rec_get(&rec, H_EV_UNSUBSCRIBE5, 0, &e);
    CHECK_EQ(e.a, mid);
    CHECK_EQ(e.b, 2);
    CHECK_EQ(e.granted[0], MQTTC_RC_SUCCESS);
    CHECK_EQ(e.granted[1], MQTTC_RC_NO_SUBSCRIPTION_EXISTED);
    disconnect5(c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&b);
}

static void session_take_over_reaches_on_disconnect_v5(void) {
    char id[64];
    h_client_id(id, "takeover");
    h_rec r1, r2;
    h_rec_init(&r1);
    h_rec_init(&r2);
    mqttc_client *c1 = mqttc_client_new(id, true, &r1, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    mqttc_client *c2 = mqttc_client_new(id, true, &r2, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c1 && c2);
    h_rec_attach(c1, H_CB_BASIC | H_CB_V5);
    h_rec_attach(c2, H_CB_BASIC | H_CB_V5);
    /* c1 is driven by hand (mqttc_loop never reconnects) */
    CHECK_RC(mqttc_connect_v5(c1, h_host(), h_port(), 30, NULL, 1, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&r1, H_EV_CONNECT5, 1, c1, 5000));
    connect5(c2, &r2, h_port(), 1, NULL);
    CHECK_MSG(h_rec_wait(&r1, H_EV_DISCONNECT5, 1, c1, 5000), "the first client heard nothing");
    h_event e;
    h_rec_get(&r1, H_EV_DISCONNECT5, 0, &e);
    h_log("on_disconnect_v5(rc %d, reason %d)", e.a, e.b);
    CHECK_RC(e.a, MQTTC_ERR_CONN_LOST);
    /* mosquitto 2.0.11 closes the old connection without a DISCONNECT (reason -1, no
     * properties); later versions send DISCONNECT 0x8E first. Both must arrive as
     * on_disconnect_v5 says; the exact 0x8E bytes are test_v5_fake's. */
    if (e.b == -1) {
        CHECK(e.props_null);
    } else {
        CHECK_EQ(e.b, MQTTC_RC_SESSION_TAKEN_OVER);
        CHECK(!e.props_null);
    }
    disconnect5(c2, &r2);
    h_rec_get(&r2, H_EV_DISCONNECT5, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(e.b, MQTTC_RC_NORMAL_DISCONNECTION);
    CHECK(e.props_null);
    mqttc_client_destroy(c1);
    mqttc_client_destroy(c2);
    h_rec_free(&r1);
    h_rec_free(&r2);
}

static void server_receive_maximum_is_honoured(void) {
    /* mosquitto announces max_inflight_messages as its Receive Maximum and ends the
     * connection of a client that sends more (reason 0x93). */
    h_broker b;
    h_broker_start_conf(&b, false, "max_inflight_messages 3\n");
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("rmax", true, &rec);
    CHECK_RC(mqttc_max_inflight_messages_set(c, 100), MQTTC_ERR_SUCCESS);
    connect5(c, &rec, b.port, 1, NULL);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT5, 0, &e);
    CHECK_EQ(h_get_int(e.props, MQTTC_PROP_RECEIVE_MAXIMUM, 0), 3);
    char t[H_TOPIC_MAX];
    T(t, "rmax");
    int last = 0;
    for (int i = 0; i < 200; i++)
        CHECK_RC(mqttc_publish_v5(c, t, "x", 1, i % 2 + 1, false, NULL, &last), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(c, last, 10000 * h_time_scale()), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH5, 200, NULL, 5000));
    /* nobody subscribes: the broker says so (0x10), a success code */
    for (int i = 0; h_rec_get(&rec, H_EV_PUBLISH5, i, &e); i++)
        CHECK_MSG(e.b == MQTTC_RC_SUCCESS || e.b == MQTTC_RC_NO_MATCHING_SUBSCRIBERS, "reason %d", e.b);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 0);
    disconnect5(c, &rec);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&b);
}

static void v5_helpers_publish_and_subscribe(void) {
    char t[H_TOPIC_MAX];
    T(t, "helper5");
    mqttc_conn_opts o;
    mqttc_conn_opts_init(&o);
    o.hostname = h_host();
    o.port = h_port();
    o.protocol = MQTTC_PROTOCOL_V5;
    CHECK_RC(mqttc_publish_single(t, "r", 1, 1, true, &o), MQTTC_ERR_SUCCESS);
    const char *topics[1] = {t};
    mqttc_message *msgs = NULL;
    CHECK_RC(mqttc_subscribe_simple(topics, 1, 1, 1, true, &o, &msgs), MQTTC_ERR_SUCCESS);
    CHECK(msgs != NULL);
    CHECK_STREQ(msgs[0].topic, t);
    CHECK(msgs[0].retain);
    CHECK_MSG(msgs[0].properties != NULL, "an MQTT 5 message has a property list");
    mqttc_messages_free(msgs, 1);
    CHECK_RC(mqttc_publish_single(t, "", 0, 1, true, &o), MQTTC_ERR_SUCCESS);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(request_response_with_properties, 20),
        H_CASE(message_expiry, 20),
        H_CASE(subscription_identifiers, 20),
        H_CASE(no_local, 20),
        H_CASE(retain_as_published, 20),
        H_CASE(retain_handling_modes, 30),
        H_CASE(session_expiry_keeps_the_session, 20),
        H_CASE(no_session_expiry_no_session, 20),
        H_CASE(will_delay, 30),
        H_CASE(suback_and_unsuback_reason_codes, 20),
        H_CASE(session_take_over_reaches_on_disconnect_v5, 20),
        H_CASE(server_receive_maximum_is_honoured, 30),
        H_CASE(v5_helpers_publish_and_subscribe, 20),
    };
    return h_main(argc, argv, "test_v5", cases, sizeof cases / sizeof cases[0]);
}
