/* Bad arguments: every function answers INVAL / PAYLOAD_SIZE / NO_CONN as
 * API.md says, never crashes, and a rejected call has no side effect (the next
 * valid call still gets mid 1). */
#include "harness.h"

static void dummy_msg(mqttc_client *c, void *ud, const mqttc_message *m) {
    (void)c;
    (void)ud;
    (void)m;
}
static void dummy_connect(mqttc_client *c, void *ud, int f, int rc) {
    (void)c;
    (void)ud;
    (void)f;
    (void)rc;
}

static void null_client_everywhere(void) {
    const char *topics[1] = {"a"};
    const int qos[1] = {0};
    int mid = 77;
    CHECK_RC(mqttc_reinitialise(NULL, "x", true, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_user_data_set(NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_max_inflight_messages_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_max_queued_messages_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_retry_set(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_enable_logger(NULL, MQTTC_LOG_DEBUG), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_disable_logger(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_username_pw_set(NULL, "u", "p"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_set(NULL, "a", "x", 1, 0, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_will_clear(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_delay_set(NULL, 1, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_jitter_set(NULL, 10), MQTTC_ERR_INVAL);
    mqttc_on_pre_connect_set(NULL, NULL); /* nothing to set: no crash */
    CHECK_RC(mqttc_reconnect_on_failure_set(NULL, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect(NULL, "127.0.0.1", 1883, 60, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_async(NULL, "127.0.0.1", 1883, 60, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_disconnect(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop(NULL, 10, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_start(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_stop(NULL, true), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_forever(NULL, 10, 1, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_read(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_write(NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_misc(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish(NULL, "a", "x", 1, 0, false, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_wait_for_publish(NULL, 1, 10), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe(NULL, "a", 0, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(NULL, 1, topics, qos, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe(NULL, "a", &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple(NULL, 1, topics, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_callback_add(NULL, "a", dummy_msg), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_callback_remove(NULL, "a"), MQTTC_ERR_INVAL);
    /* the ones that do not return a result code */
    CHECK_EQ(mqttc_socket(NULL), -1);
    CHECK(!mqttc_want_write(NULL));
    CHECK_EQ(mqttc_misc_timeout_ms(NULL), -1);
    CHECK(!mqttc_is_published(NULL, 1));
    mqttc_on_connect_set(NULL, dummy_connect);
    mqttc_on_connect_fail_set(NULL, NULL);
    mqttc_on_disconnect_set(NULL, NULL);
    mqttc_on_message_set(NULL, dummy_msg);
    mqttc_on_publish_set(NULL, NULL);
    mqttc_on_subscribe_set(NULL, NULL);
    mqttc_on_unsubscribe_set(NULL, NULL);
    mqttc_on_log_set(NULL, NULL);
    mqttc_on_socket_open_set(NULL, NULL);
    mqttc_on_socket_close_set(NULL, NULL);
    mqttc_on_socket_register_write_set(NULL, NULL);
    mqttc_on_socket_unregister_write_set(NULL, NULL);
    mqttc_client_destroy(NULL);
}

static void not_connected_answers(void) {
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    int mid = -1;
    CHECK_RC(mqttc_publish(c, "a/b", "x", 1, 0, false, &mid), MQTTC_ERR_NO_CONN);
    CHECK_GT(mid, 0); /* *mid is set also for NO_CONN */
    CHECK_RC(mqttc_subscribe(c, "a/b", 0, NULL), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_unsubscribe(c, "a/b", NULL), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop(c, 10, 1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop_read(c, 1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop_misc(c), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_INVAL); /* no connect ever requested */
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_loop_forever(c, 100, 1, false), MQTTC_ERR_NO_CONN);
    CHECK_LT(h_now_ms() - t0, 2000 * h_time_scale());
    CHECK(!mqttc_is_published(c, 4242)); /* never issued */
    /* loop_start twice, loop_stop without a thread */
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reinitialise(c, "x", true, NULL), MQTTC_ERR_INVAL); /* while the thread runs */
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS); /* can start again after a stop */
    CHECK_RC(mqttc_loop_stop(c, true), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
}

static void connect_argument_checks(void) {
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    CHECK_RC(mqttc_connect(c, NULL, h_port(), 60, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), -1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 65536, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_async(c, NULL, h_port(), 60, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_async(c, h_host(), h_port(), -5, NULL), MQTTC_ERR_INVAL);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_INVAL); /* the rejected calls recorded nothing */
    CHECK_RC(mqttc_username_pw_set(c, "bad\xff\xfeutf8", "p"), MQTTC_ERR_INVAL);
    /* jitter: a percentage of the delay, 0..100 */
    CHECK_RC(mqttc_reconnect_jitter_set(c, -1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_jitter_set(c, 101), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_reconnect_jitter_set(c, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_reconnect_jitter_set(c, 100), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
}

static void publish_subscribe_argument_checks(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("badargs", true, &rec);
    h_connect(c, &rec, h_port(), true);
    int mid = 99;
    static const char *const bad_topics[] = {"", "a/+", "a/#", "+", "#", "a/+/b", "bad\xff\xfeutf8"};
    for (size_t i = 0; i < sizeof bad_topics / sizeof bad_topics[0]; i++)
        CHECK_MSG(mqttc_publish(c, bad_topics[i], "x", 1, 0, false, &mid) == MQTTC_ERR_INVAL,
                  "publish to \"%s\" not refused with INVAL", bad_topics[i]);
    CHECK_RC(mqttc_publish(c, NULL, "x", 1, 0, false, &mid), MQTTC_ERR_INVAL);
    char t[H_TOPIC_MAX];
    h_topic(t, "ok");
    CHECK_RC(mqttc_publish(c, t, "x", 1, -1, false, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish(c, t, "x", 1, 3, false, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish(c, t, NULL, 5, 1, false, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish(c, t, "x", -1, 1, false, &mid), MQTTC_ERR_PAYLOAD_SIZE);
    CHECK_RC(mqttc_publish(c, t, "x", 268435456, 1, false, &mid), MQTTC_ERR_PAYLOAD_SIZE);
    char *longt = malloc(70000);
    CHECK(longt != NULL);
    memset(longt, 'a', 69999);
    longt[69999] = 0;
    CHECK_RC(mqttc_publish(c, longt, "x", 1, 0, false, &mid), MQTTC_ERR_INVAL); /* > 65535 bytes */
    CHECK_RC(mqttc_subscribe(c, longt, 0, &mid), MQTTC_ERR_INVAL);
    free(longt);
    /* nothing was consumed: the first valid publish gets mid 1 */
    CHECK_RC(mqttc_publish(c, t, "x", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 1);

    static const char *const bad_filters[] = {"", "a/#/b", "a+", "+a", "#a", "a/b#", "a/+b", "bad\xff\xfeutf8"};
    for (size_t i = 0; i < sizeof bad_filters / sizeof bad_filters[0]; i++) {
        CHECK_MSG(mqttc_subscribe(c, bad_filters[i], 0, &mid) == MQTTC_ERR_INVAL,
                  "subscribe to \"%s\" not refused with INVAL", bad_filters[i]);
        CHECK_MSG(mqttc_unsubscribe(c, bad_filters[i], &mid) == MQTTC_ERR_INVAL,
                  "unsubscribe from \"%s\" not refused with INVAL", bad_filters[i]);
        CHECK_MSG(mqttc_message_callback_add(c, bad_filters[i], dummy_msg) == MQTTC_ERR_INVAL,
                  "message_callback_add(\"%s\") not refused with INVAL", bad_filters[i]);
    }
    CHECK_RC(mqttc_subscribe(c, NULL, 0, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe(c, t, -1, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe(c, t, 3, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe(c, NULL, &mid), MQTTC_ERR_INVAL);
    const char *good[2] = {t, "a/+/c"};
    const char *onebad[2] = {t, "a/#/c"};
    const char *withnull[2] = {t, NULL};
    const int q01[2] = {0, 1}, qbad[2] = {0, 3};
    CHECK_RC(mqttc_subscribe_multiple(c, 0, good, q01, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, -1, good, q01, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, NULL, q01, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, good, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, onebad, q01, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, withnull, q01, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, good, qbad, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple(c, 0, good, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple(c, 2, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple(c, 2, onebad, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple(c, 2, withnull, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_callback_add(c, NULL, dummy_msg), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_callback_add(c, t, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_message_callback_remove(c, NULL), MQTTC_ERR_INVAL);

    /* NULL out-parameters are allowed; the ids still advance (2, 3, 4, 5, 6) */
    CHECK_RC(mqttc_subscribe(c, t, 1, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_subscribe_multiple(c, 2, good, q01, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_unsubscribe(c, t, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_unsubscribe_multiple(c, 2, good, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, t, NULL, 0, 2, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_publish(c, t, "y", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_EQ(mid, 7);
    CHECK(h_rec_wait(&rec, H_EV_SUBSCRIBE, 2, NULL, 5000));
    CHECK(h_rec_wait(&rec, H_EV_UNSUBSCRIBE, 2, NULL, 5000));
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 3, NULL, 5000));
    CHECK_EQ(h_rec_count_a(&rec, H_EV_SUBSCRIBE, 2), 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_SUBSCRIBE, 3), 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_UNSUBSCRIBE, 4), 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_UNSUBSCRIBE, 5), 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, 6), 1);
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void helper_argument_checks(void) {
    /* a closed port: a helper that connected before checking would fail otherwise */
    mqttc_conn_opts o;
    mqttc_conn_opts_init(&o);
    o.hostname = "127.0.0.1";
    o.port = h_free_port();
    CHECK_RC(mqttc_publish_single(NULL, "x", 1, 0, false, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish_single("a/#", "x", 1, 0, false, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish_single("a", "x", 1, 3, false, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish_single("a", "x", -1, 0, false, &o), MQTTC_ERR_PAYLOAD_SIZE);
    CHECK_RC(mqttc_publish_single("a", NULL, 3, 0, false, &o), MQTTC_ERR_INVAL);
    mqttc_publish_msg msgs[2] = {{"a", "x", 1, 0, false}, {"b/+", "y", 1, 0, false}};
    CHECK_RC(mqttc_publish_multiple(NULL, 1, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish_multiple(msgs, 0, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_publish_multiple(msgs, 2, &o), MQTTC_ERR_INVAL);
    msgs[1].topic = "b";
    msgs[1].qos = 5;
    CHECK_RC(mqttc_publish_multiple(msgs, 2, &o), MQTTC_ERR_INVAL);
    const char *topics[2] = {"a", "b/#"};
    const char *badf[1] = {"a/#/b"};
    mqttc_message *out = (mqttc_message *)&o; /* must stay untouched */
    CHECK_RC(mqttc_subscribe_simple(NULL, 1, 0, 1, true, &o, &out), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_simple(topics, 0, 0, 1, true, &o, &out), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_simple(topics, 2, 0, 0, true, &o, &out), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_simple(topics, 2, 3, 1, true, &o, &out), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_simple(badf, 1, 0, 1, true, &o, &out), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_simple(topics, 2, 0, 1, true, &o, NULL), MQTTC_ERR_INVAL);
    CHECK(out == (mqttc_message *)&o);
    CHECK_RC(mqttc_subscribe_callback(NULL, topics, 2, 0, NULL, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_callback(dummy_msg, NULL, 2, 0, NULL, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_callback(dummy_msg, topics, 0, 0, NULL, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_callback(dummy_msg, topics, 2, -1, NULL, &o), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_callback(dummy_msg, badf, 1, 0, NULL, &o), MQTTC_ERR_INVAL);
    /* and a valid call to the closed port fails at once with a connection error */
    int64_t t0 = h_now_ms();
    int rc = mqttc_publish_single("a", "x", 1, 0, false, &o);
    CHECK_RC2(rc, MQTTC_ERR_ERRNO, MQTTC_ERR_CONN_REFUSED);
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());

    CHECK(mqttc_message_copy(NULL) == NULL);
    mqttc_message m = {1, NULL, "x", 1, 0, false, false, NULL};
    CHECK(mqttc_message_copy(&m) == NULL); /* NULL topic */
    m.topic = "t";
    m.payloadlen = -1;
    CHECK(mqttc_message_copy(&m) == NULL); /* negative length */
    mqttc_message_free(NULL);
    mqttc_messages_free(NULL, 3);
    mqttc_conn_opts_init(NULL);
    CHECK(!mqttc_topic_matches_sub(NULL, "a"));
    CHECK(!mqttc_topic_matches_sub("a", NULL));
    CHECK(!mqttc_topic_matches_sub(NULL, NULL));
}

/* The TLS, WebSocket and SRV entry points and the string functions: test_tls covers
 * tls_set and most context setters with a real broker; here, what is left. */
static void tls_ws_srv_and_string_checks(void) {
    const char *hdr[2] = {"X-A: 1", NULL};
    CHECK_RC(mqttc_ws_set_options(NULL, "/mqtt", NULL, 0), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_insecure_set(NULL, true), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(NULL, "example.invalid", 60, NULL), MQTTC_ERR_INVAL);
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_WEBSOCKETS);
    CHECK(c != NULL);
    CHECK_RC(mqttc_ws_set_options(c, "/mqtt", hdr, -1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_ws_set_options(c, "/mqtt", NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_ws_set_options(c, "/mqtt", hdr, 2), MQTTC_ERR_INVAL); /* a NULL line */
    CHECK_RC(mqttc_ws_set_options(c, "/mqtt", hdr, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_ws_set_options(c, NULL, NULL, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_insecure_set(c, true), MQTTC_ERR_INVAL); /* TLS not set */
    CHECK_RC(mqttc_connect_srv(c, "example.invalid", -1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(c, "bad..name", 60, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(c, "bad\xff\xfeutf8", 60, NULL), MQTTC_ERR_INVAL);
    mqttc_client_destroy(c);

    mqttc_tls_context_free(NULL);
    const char *alpn[1] = {"mqtt"};
    CHECK_RC(mqttc_tls_context_load_ca_file(NULL, "/nonexistent"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_load_ca_pem(NULL, "x", 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_use_system_roots(NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_load_cert_chain(NULL, "/nonexistent", NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_verify(NULL, MQTTC_CERT_REQUIRED), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_version(NULL, MQTTC_TLS_VERSION_DEFAULT), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_ciphers(NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_alpn(NULL, alpn, 1), MQTTC_ERR_INVAL);
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK(ctx != NULL);
    CHECK_RC(mqttc_tls_context_set_version(ctx, 11), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_verify(ctx, 7), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, alpn, -1), MQTTC_ERR_INVAL);
    const char *bad_alpn[2] = {"mqtt", ""};
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, bad_alpn, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, "NO_SUCH_SUITE"), MQTTC_ERR_INVAL);
    mqttc_tls_context_free(ctx);

    /* strings: never NULL, whatever the code */
    static const int codes[] = {-1000, -2, -1, 0, 16, 17, 255, 1 << 30};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(mqttc_error_string(codes[i]) != NULL);
        CHECK(mqttc_connack_string(codes[i]) != NULL);
    }
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(null_client_everywhere, 10),
        H_CASE(not_connected_answers, 20),
        H_CASE(connect_argument_checks, 10),
        H_CASE(publish_subscribe_argument_checks, 20),
        H_CASE(helper_argument_checks, 20),
        H_CASE(tls_ws_srv_and_string_checks, 10),
    };
    return h_main(argc, argv, "test_bad_args", cases, sizeof cases / sizeof cases[0]);
}
