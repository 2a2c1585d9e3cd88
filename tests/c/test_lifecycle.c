/* Lifecycle: constants, client_new/destroy/reinitialise, user_data_set,
 * lib_version, error_string, connack_string. */
#include "harness.h"

#include <limits.h>
#include <strings.h>

static void constants_have_paho_values(void) {
    CHECK_EQ(MQTTC_ERR_AGAIN, -1);
    CHECK_EQ(MQTTC_ERR_SUCCESS, 0);
    CHECK_EQ(MQTTC_ERR_NOMEM, 1);
    CHECK_EQ(MQTTC_ERR_PROTOCOL, 2);
    CHECK_EQ(MQTTC_ERR_INVAL, 3);
    CHECK_EQ(MQTTC_ERR_NO_CONN, 4);
    CHECK_EQ(MQTTC_ERR_CONN_REFUSED, 5);
    CHECK_EQ(MQTTC_ERR_NOT_FOUND, 6);
    CHECK_EQ(MQTTC_ERR_CONN_LOST, 7);
    CHECK_EQ(MQTTC_ERR_TLS, 8);
    CHECK_EQ(MQTTC_ERR_PAYLOAD_SIZE, 9);
    CHECK_EQ(MQTTC_ERR_NOT_SUPPORTED, 10);
    CHECK_EQ(MQTTC_ERR_AUTH, 11);
    CHECK_EQ(MQTTC_ERR_ACL_DENIED, 12);
    CHECK_EQ(MQTTC_ERR_UNKNOWN, 13);
    CHECK_EQ(MQTTC_ERR_ERRNO, 14);
    CHECK_EQ(MQTTC_ERR_QUEUE_SIZE, 15);
    CHECK_EQ(MQTTC_ERR_KEEPALIVE, 16);
    CHECK_EQ(MQTTC_CONNACK_ACCEPTED, 0);
    CHECK_EQ(MQTTC_CONNACK_REFUSED_PROTOCOL_VERSION, 1);
    CHECK_EQ(MQTTC_CONNACK_REFUSED_IDENTIFIER_REJECTED, 2);
    CHECK_EQ(MQTTC_CONNACK_REFUSED_SERVER_UNAVAILABLE, 3);
    CHECK_EQ(MQTTC_CONNACK_REFUSED_BAD_USERNAME_PASSWORD, 4);
    CHECK_EQ(MQTTC_CONNACK_REFUSED_NOT_AUTHORIZED, 5);
    CHECK_EQ(MQTTC_PROTOCOL_V31, 3);
    CHECK_EQ(MQTTC_PROTOCOL_V311, 4);
    CHECK_EQ(MQTTC_PROTOCOL_V5, 5);
    CHECK_EQ(MQTTC_TRANSPORT_TCP, 0);
    CHECK_EQ(MQTTC_TRANSPORT_WEBSOCKETS, 1);
    CHECK_EQ(MQTTC_LOG_INFO, 0x01);
    CHECK_EQ(MQTTC_LOG_NOTICE, 0x02);
    CHECK_EQ(MQTTC_LOG_WARNING, 0x04);
    CHECK_EQ(MQTTC_LOG_ERR, 0x08);
    CHECK_EQ(MQTTC_LOG_DEBUG, 0x10);
    CHECK_EQ(MQTTC_CONNACK_FLAG_SESSION_PRESENT, 0x01);
    CHECK_EQ(MQTTC_CERT_NONE, 0);
    CHECK_EQ(MQTTC_CERT_OPTIONAL, 1);
    CHECK_EQ(MQTTC_CERT_REQUIRED, 2);
    CHECK_EQ(MQTTC_TLS_VERSION_DEFAULT, 0);
    CHECK_EQ(MQTTC_TLS_VERSION_1_2, 12);
    CHECK_EQ(MQTTC_TLS_VERSION_1_3, 13);
}

static void expect_new_fails(const char *id, bool clean, int protocol, int transport, const char *what) {
    errno = 0;
    mqttc_client *c = mqttc_client_new(id, clean, NULL, protocol, transport);
    if (c != NULL) {
        mqttc_client_destroy(c);
        H_FAIL("mqttc_client_new(%s) returned a client, expected NULL", what);
    }
    CHECK_MSG(errno == EINVAL, "mqttc_client_new(%s): errno %d (%s), expected EINVAL", what, errno,
              strerror(errno));
}

static void expect_new_ok(const char *id, bool clean, int protocol, int transport, const char *what) {
    errno = 0;
    mqttc_client *c = mqttc_client_new(id, clean, NULL, protocol, transport);
    CHECK_MSG(c != NULL, "mqttc_client_new(%s) returned NULL, errno %d", what, errno);
    mqttc_client_destroy(c);
}

static void client_new_argument_checks(void) {
    expect_new_fails(NULL, false, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP, "NULL id, clean_session false");
    expect_new_fails("", false, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP, "\"\" id, clean_session false");
    expect_new_fails(NULL, false, MQTTC_PROTOCOL_V31, MQTTC_TRANSPORT_TCP, "NULL id, clean false, V31");
    expect_new_fails("x", true, 7, MQTTC_TRANSPORT_TCP, "protocol 7");
    expect_new_fails("x", true, 0, MQTTC_TRANSPORT_TCP, "protocol 0");
    expect_new_fails("x", true, MQTTC_PROTOCOL_V311, 9, "transport 9");
    expect_new_fails("x", true, MQTTC_PROTOCOL_V311, -1, "transport -1");

    expect_new_ok(NULL, true, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP, "NULL id, clean true");
    expect_new_ok("", true, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP, "\"\" id, clean true");
    expect_new_ok(NULL, true, MQTTC_PROTOCOL_V31, MQTTC_TRANSPORT_TCP, "NULL id, V31 (random id)");
    expect_new_ok("fixed-id", false, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP, "fixed id, clean false");
    expect_new_ok("fixed-id", true, MQTTC_PROTOCOL_V31, MQTTC_TRANSPORT_WEBSOCKETS, "websockets");
}

/* An MQTT 5 client is a client like the others: it connects to the broker with the
 * 3.1.1 functions and hears CONNACK through on_connect (the details are test_v5's). */
static void v5_client_connects(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = mqttc_client_new("v5", true, &rec, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    h_event ev;
    CHECK(h_rec_get(&rec, H_EV_CONNECT, 0, &ev));
    CHECK_EQ(ev.b, MQTTC_RC_SUCCESS);
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000));
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void destroy_in_every_state(void) {
    mqttc_client_destroy(NULL);
    /* never connected */
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    mqttc_client_destroy(c);
    /* connected with a running loop thread and callbacks: destroy stops the thread */
    h_rec rec;
    h_rec_init(&rec);
    c = h_client("destroy", true, &rec);
    h_connect(c, &rec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "x"), 1, true);
    CHECK_RC(mqttc_publish(c, t, "abc", 3, 1, false, NULL), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    /* connected, no thread, data pending */
    h_rec_init(&rec);
    c = h_client("destroy2", true, &rec);
    h_connect(c, &rec, h_port(), false);
    CHECK_RC(mqttc_publish(c, t, "abc", 3, 2, false, NULL), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void user_data_set_reaches_callbacks(void) {
    h_rec rec1, rec2;
    h_rec_init(&rec1);
    h_rec_init(&rec2);
    mqttc_client *c = h_client("ud", true, &rec1);
    CHECK_RC(mqttc_user_data_set(c, &rec2), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec2, h_port(), false);
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec2, h_topic(t, "ud"), 1, false);
    CHECK_RC(mqttc_publish(c, t, "u", 1, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec2, H_EV_MESSAGE, 1, c, 5000));
    CHECK(h_rec_wait(&rec2, H_EV_PUBLISH, 1, c, 5000));
    h_event e;
    CHECK(h_rec_get(&rec2, H_EV_CONNECT, 0, &e));
    CHECK(e.userdata == &rec2);
    CHECK(e.client == c);
    CHECK(h_rec_get(&rec2, H_EV_MESSAGE, 0, &e));
    CHECK(e.userdata == &rec2);
    CHECK(e.client == c);
    for (int t2 = 0; t2 < H_EV_COUNT; t2++)
        CHECK_MSG(h_rec_count(&rec1, (h_ev_type)t2) == 0, "old userdata got an event of type %d", t2);
    /* and back again while connected */
    CHECK_RC(mqttc_user_data_set(c, &rec1), MQTTC_ERR_SUCCESS);
    h_disconnect(c, &rec1, false);
    CHECK_EQ(h_rec_count(&rec2, H_EV_DISCONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec1);
    h_rec_free(&rec2);
}

static bool socket_closed(void *c) { return mqttc_socket((mqttc_client *)c) < 0; }
struct pub_arg {
    mqttc_client *c;
    int mid;
};
static bool published(void *p) {
    struct pub_arg *a = p;
    return mqttc_is_published(a->c, a->mid);
}

static void reinitialise_resets_client(void) {
    h_rec rec1, rec2, rec3;
    h_rec_init(&rec1);
    h_rec_init(&rec2);
    h_rec_init(&rec3);
    mqttc_client *c = h_client("ri-a", true, &rec1);
    h_connect(c, &rec1, h_port(), false);
    h_disconnect(c, &rec1, false);

    CHECK_RC(mqttc_reinitialise(c, NULL, false, &rec2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reinitialise(c, "", false, &rec2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reinitialise(NULL, "x", true, &rec2), MQTTC_ERR_INVAL);

    /* new id, persistent session: first connect has no session, the second one does */
    char id2[64];
    CHECK_RC(mqttc_reinitialise(c, h_client_id(id2, "ri-b"), false, &rec2), MQTTC_ERR_SUCCESS);
    h_rec_attach(c, H_CB_BASIC);
    int flags = h_connect(c, &rec2, h_port(), false);
    CHECK_EQ(flags & MQTTC_CONNACK_FLAG_SESSION_PRESENT, 0);
    h_disconnect(c, &rec2, false);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec2, H_EV_CONNECT, 2, c, 5000), "no on_connect after mqttc_reconnect");
    h_event e;
    h_rec_get(&rec2, H_EV_CONNECT, 1, &e);
    CHECK_EQ(e.b, 0);
    CHECK_MSG(e.a & MQTTC_CONNACK_FLAG_SESSION_PRESENT,
              "second connect with the reinitialised id and clean_session false: flags %d, "
              "expected session present",
              e.a);
    CHECK(e.userdata == &rec2);
    h_disconnect(c, &rec2, false);
    /* remove the persistent session from the shared broker */
    CHECK_RC(mqttc_reinitialise(c, id2, true, &rec2), MQTTC_ERR_SUCCESS);
    h_rec_attach(c, H_CB_BASIC);
    h_connect(c, &rec2, h_port(), false);
    h_disconnect(c, &rec2, false);
    int n1 = h_rec_count(&rec1, H_EV_CONNECT);
    CHECK_EQ(n1, 1);

    /* reinitialise re-runs the constructor (paho: __init__): callbacks are cleared */
    char id3[64];
    CHECK_RC(mqttc_reinitialise(c, h_client_id(id3, "ri-c"), true, &rec3), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    char t[H_TOPIC_MAX];
    struct pub_arg pa = {c, 0};
    CHECK_RC(mqttc_publish(c, h_topic(t, "ri"), "r", 1, 1, false, &pa.mid), MQTTC_ERR_SUCCESS);
    CHECK_MSG(wait_until(published, &pa, c, 5000), "QoS 1 publish after reinitialise not acknowledged");
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(wait_until(socket_closed, c, c, 5000));
    for (int ty = 0; ty < H_EV_COUNT; ty++)
        CHECK_MSG(h_rec_count(&rec3, (h_ev_type)ty) == 0,
                  "a callback set before mqttc_reinitialise still fired (event type %d)", ty);
    CHECK_EQ(h_rec_count(&rec2, H_EV_CONNECT), 3);
    mqttc_client_destroy(c);
    h_rec_free(&rec1);
    h_rec_free(&rec2);
    h_rec_free(&rec3);
}

static void lib_version_reports(void) {
    int ma = -1, mi = -1, re = -1;
    int v = mqttc_lib_version(&ma, &mi, &re);
    h_log("mqttc_lib_version -> %d (%d.%d.%d)", v, ma, mi, re);
    CHECK_GE(ma, 0);
    CHECK_GE(mi, 0);
    CHECK_GE(re, 0);
    CHECK_LT(mi, 1000);
    CHECK_LT(re, 1000);
    CHECK_MSG(ma + mi + re > 0, "version 0.0.0");
    /* libmosquitto's convention: the result is major*1000000 + minor*1000 + revision */
    CHECK_EQ(v, ma * 1000000 + mi * 1000 + re);
    CHECK_EQ(mqttc_lib_version(NULL, NULL, NULL), v);
    int ma2 = -1;
    CHECK_EQ(mqttc_lib_version(&ma2, NULL, NULL), v);
    CHECK_EQ(ma2, ma);
}

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return false;
}

static void strings_for_every_code(void) {
    const char *seen[18];
    for (int rc = -1; rc <= 16; rc++) {
        const char *s = mqttc_error_string(rc);
        CHECK_MSG(s != NULL && *s != '\0', "mqttc_error_string(%d) is NULL or empty", rc);
        seen[rc + 1] = s;
        for (int k = -1; k < rc; k++)
            CHECK_MSG(strcmp(seen[k + 1], s) != 0, "error_string(%d) == error_string(%d) == \"%s\"", k,
                      rc, s);
    }
    const int unknown[] = {17, 100, -2, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = mqttc_error_string(unknown[i]);
        CHECK_MSG(s != NULL && *s != '\0', "mqttc_error_string(%d) NULL or empty", unknown[i]);
        CHECK_MSG(strcmp(s, mqttc_error_string(MQTTC_ERR_SUCCESS)) != 0,
                  "unknown code %d described as success", unknown[i]);
    }
    /* paho's connack strings: "Connection Accepted.", "...unacceptable protocol version.",
     * "...identifier rejected.", "...broker unavailable.", "...bad user name or password.",
     * "...not authorised." */
    const char *const keys[] = {"accept", "protocol", "identifier", "unavailable", "password", "authori"};
    for (int rc = 0; rc <= 5; rc++) {
        const char *s = mqttc_connack_string(rc);
        CHECK_MSG(s != NULL && *s != '\0', "mqttc_connack_string(%d) NULL or empty", rc);
        CHECK_MSG(contains_ci(s, keys[rc]), "mqttc_connack_string(%d) = \"%s\" does not mention \"%s\"",
                  rc, s, keys[rc]);
        for (int k = 0; k < rc; k++)
            CHECK_MSG(strcmp(mqttc_connack_string(k), s) != 0, "connack_string(%d) == connack_string(%d)", k, rc);
    }
    const int bad[] = {6, 255, -1, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = mqttc_connack_string(bad[i]);
        CHECK_MSG(s != NULL && *s != '\0', "mqttc_connack_string(%d) NULL or empty", bad[i]);
        CHECK_MSG(strcmp(s, mqttc_connack_string(0)) != 0, "connack %d described as accepted", bad[i]);
    }
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(constants_have_paho_values, 10),
        H_CASE(client_new_argument_checks, 10),
        H_CASE(v5_client_connects, 15),
        H_CASE(destroy_in_every_state, 30),
        H_CASE(user_data_set_reaches_callbacks, 30),
        H_CASE(reinitialise_resets_client, 40),
        H_CASE(lib_version_reports, 10),
        H_CASE(strings_for_every_code, 10),
    };
    return h_main(argc, argv, "test_lifecycle", cases, sizeof cases / sizeof cases[0]);
}
