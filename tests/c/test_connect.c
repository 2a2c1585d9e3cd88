/* Connecting: connect/disconnect, refused ports, connect_async with loop_start in
 * both orders, loop_forever ending from a callback, on_connect_fail, protocol
 * versions and empty ids, bind address, Unix sockets, keepalive, on_log and
 * enable_logger. */
#include "harness.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void connect_disconnect_driven(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("cd", true, &rec);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_GE(mqttc_socket(c), 0);
    CHECK_MSG(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000), "no on_connect (last loop rc %d)", h_last_loop_rc());
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 0);
    CHECK_EQ(e.a, 0); /* clean session: no session present */
    CHECK(e.client == c);
    CHECK(e.userdata == &rec);
    CHECK(pthread_equal(e.thread, pthread_self())); /* callbacks run on the thread driving the loop */
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, c, 5000));
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(mqttc_socket(c), -1);
    /* after a clean disconnect nothing else happens */
    for (int i = 0; i < 5; i++) mqttc_loop(c, 20, 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT_FAIL), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void connect_refused_fails_at_once(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("refused", true, &rec);
    int port = h_free_port();
    int64_t t0 = h_now_ms();
    errno = 0;
    int rc = mqttc_connect(c, "127.0.0.1", port, 30, NULL);
    int err = errno;
    int64_t dt = h_now_ms() - t0;
    CHECK_RC2(rc, MQTTC_ERR_CONN_REFUSED, MQTTC_ERR_ERRNO);
    if (rc == MQTTC_ERR_ERRNO) CHECK_MSG(err == ECONNREFUSED, "errno %d (%s), expected ECONNREFUSED", err, strerror(err));
    CHECK_MSG(dt < 2000 * h_time_scale(), "refused connect took %lld ms", (long long)dt);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* MQTTC_TRANSPORT_UNIX against mosquitto's Unix socket listener: the host is the
 * path, the port is ignored, mqttc_socket is that socket; a missing path or one
 * nobody listens on gives MQTTC_ERR_ERRNO with ENOENT / ECONNREFUSED. */
static void unix_socket_transport(void) {
    const char *path = h_env("MQTTC_TEST_UNIX");
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = mqttc_client_new(h_client_id(id, "unix"), true, &rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_UNIX);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect(c, path, 0, 30, NULL), MQTTC_ERR_SUCCESS);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    CHECK(mqttc_socket(c) >= 0);
    CHECK_EQ(getsockname(mqttc_socket(c), (struct sockaddr *)&ss, &len), 0);
    CHECK_EQ(ss.ss_family, AF_UNIX);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "unix"), 1, true);
    int mid;
    CHECK_RC(mqttc_publish(c, t, "over a unix socket", 18, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "over a unix socket", 18);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
    h_disconnect(c, &rec, true);
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);

    c = mqttc_client_new(h_client_id(id, "unix-bad"), true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_UNIX);
    CHECK(c != NULL);
    char missing[256];
    snprintf(missing, sizeof missing, "%s.missing", path);
    errno = 0;
    CHECK_RC(mqttc_connect(c, missing, 0, 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ENOENT);
    /* a socket file left by a listener that is gone */
    char stale[256];
    snprintf(stale, sizeof stale, "%s.stale", path);
    unlink(stale);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    CHECK(strlen(stale) < sizeof sun.sun_path);
    memcpy(sun.sun_path, stale, strlen(stale));
    CHECK_EQ(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    errno = 0;
    CHECK_RC(mqttc_connect(c, stale, 0, 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ECONNREFUSED);
    unlink(stale);
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
}

static void async_start(bool loop_first) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client(loop_first ? "ls-ca" : "ca-ls", true, &rec);
    if (loop_first) {
        CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
        h_sleep_ms(100);
        CHECK_RC(mqttc_connect_async(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    } else {
        CHECK_RC(mqttc_connect_async(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
        CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    }
    CHECK_MSG(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000), "no on_connect within 5 s");
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 0);
    CHECK(!pthread_equal(e.thread, pthread_self())); /* ran on the loop_start thread */
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "a"), 2, true);
    int mid = 0;
    CHECK_RC(mqttc_publish(c, t, "hello", 5, 2, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, NULL, 5000));
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}
static void connect_async_then_loop_start(void) { async_start(false); }
static void loop_start_then_connect_async(void) { async_start(true); }

static void disconnect_on_connect(mqttc_client *c, void *ud, int flags, int rc) {
    h_rec_on_connect(c, ud, flags, rc);
    int r = mqttc_disconnect(c);
    if (r != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_disconnect inside on_connect returned %d (%s)", r, h_rc_name(r));
}

static void loop_forever_variant(bool async) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("lf", true, &rec);
    mqttc_on_connect_set(c, disconnect_on_connect);
    if (async)
        CHECK_RC(mqttc_connect_async(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    else
        CHECK_RC(mqttc_connect(c, h_host(), h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    int64_t t0 = h_now_ms();
    int rc = mqttc_loop_forever(c, 1000, 1, false);
    CHECK_RC(rc, MQTTC_ERR_SUCCESS);
    CHECK_LT(h_now_ms() - t0, 5000 * h_time_scale());
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK(pthread_equal(e.thread, pthread_self()));
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}
static void loop_forever_returns_after_disconnect(void) { loop_forever_variant(false); }
static void loop_forever_async_returns_after_disconnect(void) { loop_forever_variant(true); }

static void on_connect_fail_with_loop_start(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("cfail", true, &rec);
    CHECK_RC(mqttc_reconnect_delay_set(c, 1, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", h_free_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec, H_EV_CONNECT_FAIL, 2, NULL, 5000),
              "on_connect_fail fired %d times in 5 s, expected a first failure and a retry 1 s later",
              h_rec_count(&rec, H_EV_CONNECT_FAIL));
    h_event e1, e2;
    h_rec_get(&rec, H_EV_CONNECT_FAIL, 0, &e1);
    h_rec_get(&rec, H_EV_CONNECT_FAIL, 1, &e2);
    CHECK_MSG(e2.t_ms - e1.t_ms >= 700, "retry after %lld ms, reconnect_delay_set(1, 1) asks for 1 s",
              (long long)(e2.t_ms - e1.t_ms));
    CHECK(e1.userdata == &rec && e1.client == c);
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_loop_stop(c, true), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_now_ms() - t0 < 3000 * h_time_scale(), "loop_stop took %lld ms", (long long)(h_now_ms() - t0));
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void loop_forever_first_connection_fails(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("lffail", true, &rec);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", h_free_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    int64_t t0 = h_now_ms();
    int rc = mqttc_loop_forever(c, 100, 1, false);
    CHECK_RC2(rc, MQTTC_ERR_CONN_REFUSED, MQTTC_ERR_ERRNO);
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT_FAIL), 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void connect_with(const char *id, int protocol, const char *bind) {
    h_rec rec;
    h_rec_init(&rec);
    errno = 0;
    mqttc_client *c = mqttc_client_new(id, true, &rec, protocol, MQTTC_TRANSPORT_TCP);
    CHECK_MSG(c != NULL, "client_new(%s, protocol %d) failed, errno %d", id ? id : "NULL", protocol, errno);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 30, bind), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000), "id %s protocol %d: no on_connect",
              id ? id : "NULL", protocol);
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_MSG(e.b == 0, "id %s protocol %d: on_connect rc %d", id ? id : "NULL", protocol, e.b);
    /* the connection really works: a QoS 1 round trip to ourselves */
    char t[H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(t, "p%d", protocol), 1, false);
    CHECK_RC(mqttc_publish(c, t, "v", 1, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void protocols_and_empty_ids(void) {
    connect_with(NULL, MQTTC_PROTOCOL_V311, NULL); /* broker assigns an id */
    connect_with("", MQTTC_PROTOCOL_V311, NULL);
    connect_with(NULL, MQTTC_PROTOCOL_V31, NULL);  /* library generates a random id */
    char id[64];
    connect_with(h_client_id(id, "v31"), MQTTC_PROTOCOL_V31, NULL);
}

static void bind_address_is_used(void) {
    connect_with(NULL, MQTTC_PROTOCOL_V311, "127.0.0.1");
    connect_with(NULL, MQTTC_PROTOCOL_V311, "");
}

/* keepalive 1 with an idle connection: PINGREQ/PINGRESP keep it alive */
static void keepalive_keeps_idle_connection(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("ka", true, &rec);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 1, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    int64_t end = h_now_ms() + 3500;
    while (h_now_ms() < end) mqttc_loop(c, 100, 1);
    CHECK_MSG(h_rec_count(&rec, H_EV_DISCONNECT) == 0, "idle connection with keepalive 1 was dropped");
    char t[H_TOPIC_MAX];
    int mid = 0;
    CHECK_RC(mqttc_publish(c, h_topic(t, "ka"), "k", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 1, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void on_log_receives_valid_lines(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("log", true, &rec);
    h_rec_attach(c, H_CB_LOG);
    h_connect(c, &rec, h_port(), false);
    char t[H_TOPIC_MAX];
    CHECK_RC(mqttc_publish(c, h_topic(t, "log"), "x", 1, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_PUBLISH, 1, c, 5000));
    h_disconnect(c, &rec, false);
    int n = h_rec_count(&rec, H_EV_LOG);
    CHECK_MSG(n > 0, "on_log never called while connecting and publishing (paho logs Sending CONNECT ...)");
    for (int i = 0; i < n; i++) {
        h_event e;
        h_rec_get(&rec, H_EV_LOG, i, &e);
        CHECK_MSG(e.a == MQTTC_LOG_INFO || e.a == MQTTC_LOG_NOTICE || e.a == MQTTC_LOG_WARNING ||
                      e.a == MQTTC_LOG_ERR || e.a == MQTTC_LOG_DEBUG,
                  "on_log level %d is not one of the MQTTC_LOG_* bits (\"%s\")", e.a, e.text);
        CHECK_MSG(e.text[0] != 0, "empty log line");
    }
    /* removing the callback stops it */
    mqttc_on_log_set(c, NULL);
    h_connect(c, &rec, h_port(), false);
    h_disconnect(c, &rec, false);
    CHECK_EQ(h_rec_count(&rec, H_EV_LOG), n);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* Runs connect + QoS 1 publish + disconnect with stderr captured; returns bytes written. */
static long stderr_bytes_during_session(mqttc_client *c, h_rec *rec, int *ok) {
    char path[] = "/tmp/mqttc-logger-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) H_FAIL("mkstemp: %s", strerror(errno));
    unlink(path);
    int saved = dup(2);
    dup2(fd, 2);
    int before = h_rec_count(rec, H_EV_PUBLISH);
    int b2 = h_rec_count(rec, H_EV_DISCONNECT);
    *ok = 0;
    if (mqttc_connect(c, h_host(), h_port(), 30, NULL) == MQTTC_ERR_SUCCESS) {
        char t[H_TOPIC_MAX];
        mqttc_publish(c, h_topic(t, "logger"), "x", 1, 1, false, NULL);
        if (h_rec_wait(rec, H_EV_PUBLISH, before + 1, c, 5000)) *ok |= 1;
        mqttc_disconnect(c);
        if (h_rec_wait(rec, H_EV_DISCONNECT, b2 + 1, c, 5000)) *ok |= 2;
    }
    dup2(saved, 2);
    close(saved);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    return (long)st.st_size;
}

static void enable_logger_writes_stderr(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("logger", true, &rec);
    CHECK_RC(mqttc_enable_logger(c, MQTTC_LOG_INFO | MQTTC_LOG_NOTICE | MQTTC_LOG_WARNING | MQTTC_LOG_ERR |
                                        MQTTC_LOG_DEBUG),
             MQTTC_ERR_SUCCESS);
    int ok;
    long n = stderr_bytes_during_session(c, &rec, &ok);
    CHECK_MSG(ok == 3, "session with logger enabled did not complete (%d)", ok);
    CHECK_MSG(n > 0, "enable_logger(all levels): nothing written to stderr during connect/publish/disconnect");
    CHECK_RC(mqttc_disable_logger(c), MQTTC_ERR_SUCCESS);
    n = stderr_bytes_during_session(c, &rec, &ok);
    CHECK_MSG(ok == 3, "session with logger disabled did not complete (%d)", ok);
    CHECK_MSG(n == 0, "disable_logger: still %ld bytes written to stderr", n);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(connect_disconnect_driven, 20),
        H_CASE(connect_refused_fails_at_once, 10),
        H_CASE(connect_async_then_loop_start, 20),
        H_CASE(loop_start_then_connect_async, 20),
        H_CASE(loop_forever_returns_after_disconnect, 20),
        H_CASE(loop_forever_async_returns_after_disconnect, 20),
        H_CASE(on_connect_fail_with_loop_start, 20),
        H_CASE(loop_forever_first_connection_fails, 15),
        H_CASE(protocols_and_empty_ids, 30),
        H_CASE(bind_address_is_used, 20),
        H_CASE(unix_socket_transport, 20),
        H_CASE(keepalive_keeps_idle_connection, 20),
        H_CASE(on_log_receives_valid_lines, 20),
        H_CASE(enable_logger_writes_stderr, 20),
    };
    return h_main(argc, argv, "test_connect", cases, sizeof cases / sizeof cases[0]);
}
