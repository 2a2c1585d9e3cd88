/* username_pw_set against the password listener (MQTTC_TEST_AUTH_PORT).
 *
 * Observed broker behaviour (mosquitto 2.0, MQTT 3.1.1): a wrong password or an
 * unknown user is answered with CONNACK 5 "not authorised", not 4 "bad user name
 * or password"; the tests accept either refusal code and log which one came. */
#include "harness.h"

static void good_credentials_connect(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("auth-ok", true, &rec);
    h_rec_attach(c, H_CB_LOG);
    const char *pass = h_env("MQTTC_TEST_PASS");
    CHECK_RC(mqttc_username_pw_set(c, h_env("MQTTC_TEST_USER"), pass), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, h_auth_port(), false);
    /* the connection is usable */
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "auth"), 1, false);
    CHECK_RC(mqttc_publish(c, t, "secret-free", 11, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, c, 5000));
    h_disconnect(c, &rec, false);
    /* API.md: log lines never contain passwords */
    for (int i = 0; i < h_rec_count(&rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(&rec, H_EV_LOG, i, &e);
        CHECK_MSG(strstr(e.text, pass) == NULL, "log line reveals the password: \"%s\"", e.text);
    }
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* on_pre_connect runs before every attempt, on the connecting thread, and the
 * credentials it sets are those of that attempt's CONNECT (a token refreshed before
 * each connect): without them the broker refuses (no_credentials_refused). */
static atomic_int pre_connects;
static void set_credentials(mqttc_client *c, void *ud) {
    (void)ud;
    atomic_fetch_add(&pre_connects, 1);
    CHECK_RC(mqttc_username_pw_set(c, h_env("MQTTC_TEST_USER"), h_env("MQTTC_TEST_PASS")), MQTTC_ERR_SUCCESS);
}

static void pre_connect_sets_the_credentials(void) {
    h_rec rec;
    h_rec_init(&rec);
    atomic_store(&pre_connects, 0);
    mqttc_client *c = h_client("auth-pre", true, &rec);
    mqttc_on_pre_connect_set(c, set_credentials);
    h_connect(c, &rec, h_auth_port(), false);
    CHECK_EQ(atomic_load(&pre_connects), 1);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 0);
    /* again for a reconnect, with the credentials it sets once more */
    CHECK_RC(mqttc_username_pw_set(c, NULL, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    CHECK_EQ(atomic_load(&pre_connects), 2);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, c, 5000));
    h_rec_get(&rec, H_EV_CONNECT, 1, &e);
    CHECK_EQ(e.b, 0);
    /* removed: no more calls */
    mqttc_on_pre_connect_set(c, NULL);
    h_disconnect(c, &rec, false);
    CHECK_EQ(atomic_load(&pre_connects), 2);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* Connects with the given credentials and expects a CONNACK refusal. */
static void expect_refused(const char *user, const char *pass, bool set, const char *what) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("auth-bad", true, &rec);
    h_rec_attach(c, H_CB_LOG);
    if (set) CHECK_RC(mqttc_username_pw_set(c, user, pass), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, h_host(), h_auth_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000), "%s: no on_connect (last loop rc %d)", what,
              h_last_loop_rc());
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    h_log("%s: on_connect rc %d (%s)", what, e.b, mqttc_connack_string(e.b));
    CHECK_MSG(e.b == MQTTC_CONNACK_REFUSED_NOT_AUTHORIZED || e.b == MQTTC_CONNACK_REFUSED_BAD_USERNAME_PASSWORD,
              "%s: on_connect rc %d, expected a refusal (4 or 5)", what, e.b);
    /* the broker closes the connection; the loop reports it */
    CHECK_MSG(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000), "%s: no on_disconnect after a refused CONNACK", what);
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_MSG(e.a != MQTTC_ERR_SUCCESS, "%s: on_disconnect rc 0 after a refusal", what);
    h_log("%s: on_disconnect rc %d (%s)", what, e.a, h_rc_name(e.a));
    CHECK_EQ(mqttc_socket(c), -1);
    if (pass != NULL)
        for (int i = 0; i < h_rec_count(&rec, H_EV_LOG); i++) {
            h_event l;
            h_rec_get(&rec, H_EV_LOG, i, &l);
            CHECK_MSG(strstr(l.text, pass) == NULL, "log line reveals the password: \"%s\"", l.text);
        }
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void wrong_password_refused(void) {
    expect_refused(h_env("MQTTC_TEST_USER"), "definitely-not-the-password", true, "wrong password");
}

static void unknown_user_refused(void) {
    expect_refused("no-such-user-mqttc", "whatever-pw-123", true, "unknown user");
}

static void no_credentials_refused(void) { expect_refused(NULL, NULL, false, "anonymous on the password listener"); }

/* username_pw_set(NULL, NULL) removes the credentials again (paho: username None). */
static void credentials_can_be_removed(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("auth-rm", true, &rec);
    CHECK_RC(mqttc_username_pw_set(c, h_env("MQTTC_TEST_USER"), h_env("MQTTC_TEST_PASS")), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_username_pw_set(c, NULL, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, h_host(), h_auth_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_MSG(e.b != 0, "credentials removed with username_pw_set(NULL, NULL) were still sent");
    /* and they can be set again on the same client */
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000));
    CHECK_RC(mqttc_username_pw_set(c, h_env("MQTTC_TEST_USER"), h_env("MQTTC_TEST_PASS")), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, h_auth_port(), false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(good_credentials_connect, 20),
        H_CASE(wrong_password_refused, 20),
        H_CASE(unknown_user_refused, 20),
        H_CASE(no_credentials_refused, 20),
        H_CASE(credentials_can_be_removed, 20),
        H_CASE(pre_connect_sets_the_credentials, 20),
    };
    return h_main(argc, argv, "test_auth", cases, sizeof cases / sizeof cases[0]);
}
