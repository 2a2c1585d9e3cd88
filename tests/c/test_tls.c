/* TLS against mosquitto's TLS listeners (scripts/broker.sh makes the certificates):
 * the right CA, an unrelated CA, insecure mode, CERT_NONE, the client-certificate
 * listener with and without a certificate, mqttc_tls_context shared and freed early,
 * argument and file errors, SSL_CERT_DIR, the one-shot helpers, an edge-triggered
 * epoll client, and what the client offers (ALPN, cipher suites, versions) as
 * `openssl s_server` reports it.
 *
 * Environment besides harness.h's: MQTTC_TEST_TLS_PORT, MQTTC_TEST_TLS_CLIENT_PORT,
 * MQTTC_TEST_CA, MQTTC_TEST_OTHER_CA, MQTTC_TEST_CLIENT_CERT, MQTTC_TEST_CLIENT_KEY,
 * MQTTC_TEST_BROKER_DIR (its server.crt/server.key and mosquitto.log). */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int env_port(const char *name) { return atoi(h_env(name)); }
static int tls_port(void) { return env_port("MQTTC_TEST_TLS_PORT"); }
static int tls_client_port(void) { return env_port("MQTTC_TEST_TLS_CLIENT_PORT"); }
static const char *ca(void) { return h_env("MQTTC_TEST_CA"); }

/* A V3.1.1 TCP client with the recorder and a known client id (for the broker log). */
static mqttc_client *new_client(const char *tag, h_rec *rec, char id[64]) {
    h_client_id(id, tag);
    mqttc_client *c = mqttc_client_new(id, true, rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK_MSG(c != NULL, "mqttc_client_new: %s", strerror(errno));
    h_rec_attach(c, H_CB_BASIC | H_CB_LOG);
    return c;
}

static bool file_contains(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* The broker logged a CONNECT from client id `id`. */
static bool broker_saw(const char *id) {
    char path[512];
    snprintf(path, sizeof path, "%s/mosquitto.log", h_env("MQTTC_TEST_BROKER_DIR"));
    char needle[128];
    snprintf(needle, sizeof needle, " as %s ", id);
    return file_contains(path, needle);
}

static bool log_mentions(h_rec *rec, const char *needle) {
    for (int i = 0; i < h_rec_count(rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(rec, H_EV_LOG, i, &e);
        if (strstr(e.text, needle) != NULL) return true;
    }
    return false;
}

/* Subscribes to a fresh topic at QoS 2, publishes at QoS 0, 1 and 2 (and a large
 * QoS 1 message spanning many TLS records) and checks all come back. */
static void round_trip(mqttc_client *c, h_rec *rec, bool threaded) {
    char t[H_TOPIC_MAX];
    h_subscribe(c, rec, h_topic(t, "rt"), 2, threaded);
    int msgs = h_rec_count(rec, H_EV_MESSAGE), pubs = h_rec_count(rec, H_EV_PUBLISH);
    int mids[4];
    static const char *const payloads[3] = {"qos zero", "qos one", "qos two"};
    for (int q = 0; q < 3; q++)
        CHECK_RC(mqttc_publish(c, t, payloads[q], (int)strlen(payloads[q]), q, false, &mids[q]),
                 MQTTC_ERR_SUCCESS);
    size_t big_len = 300 * 1024;
    unsigned char *big = malloc(big_len);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_len; i++) big[i] = (unsigned char)(i * 7 + 3);
    CHECK_RC(mqttc_publish(c, t, big, (int)big_len, 1, false, &mids[3]), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_rec_wait(rec, H_EV_MESSAGE, msgs + 4, threaded ? NULL : c, 10000),
              "%d of 4 messages came back (last loop rc %d)", h_rec_count(rec, H_EV_MESSAGE) - msgs,
              h_last_loop_rc());
    CHECK(h_rec_wait(rec, H_EV_PUBLISH, pubs + 4, threaded ? NULL : c, 10000));
    for (int i = 0; i < 4; i++) CHECK_EQ(h_rec_count_a(rec, H_EV_PUBLISH, mids[i]), 1);
    bool seen[4] = {false, false, false, false};
    for (int i = msgs; i < msgs + 4; i++) {
        h_event e;
        h_rec_get(rec, H_EV_MESSAGE, i, &e);
        if (e.payloadlen == (int)big_len) {
            CHECK_MEMEQ(e.payload, e.payloadlen, big, big_len);
            CHECK_EQ(e.qos, 1);
            seen[3] = true;
            continue;
        }
        for (int q = 0; q < 3; q++)
            if (e.payloadlen == (int)strlen(payloads[q]) && memcmp(e.payload, payloads[q], e.payloadlen) == 0) {
                CHECK_EQ(e.qos, q);
                seen[q] = true;
            }
    }
    for (int i = 0; i < 4; i++) CHECK_MSG(seen[i], "message %d did not come back intact", i);
    free(big);
}

static void right_ca_round_trips_qos_0_1_2(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-ok", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, tls_port(), false);
    CHECK_MSG(broker_saw(id), "the broker log does not show client %s (check of the check)", id);
    round_trip(c, &rec, false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* The DNS name in the certificate, with the loop on its own thread. */
static void localhost_by_name_threaded(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-name", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "localhost", tls_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    round_trip(c, &rec, true);
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* The connect fails as a whole: TLS error, reason logged, no socket, and the broker
 * never saw a CONNECT. */
static void expect_tls_refusal(mqttc_client *c, h_rec *rec, const char *id, const char *host, int port,
                               const char *what) {
    errno = 0;
    int rc = mqttc_connect(c, host, port, 30, NULL);
    CHECK_MSG(rc == MQTTC_ERR_TLS, "%s: mqttc_connect returned %d (%s), errno %d, expected MQTTC_ERR_TLS", what,
              rc, h_rc_name(rc), errno);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_MSG(log_mentions(rec, "TLS"), "%s: no on_log line gives the TLS reason", what);
    for (int i = 0; i < h_rec_count(rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(rec, H_EV_LOG, i, &e);
        if (strstr(e.text, "TLS") != NULL) h_log("%s: on_log: %s", what, e.text);
    }
    CHECK_RC(mqttc_loop(c, 10, 1), MQTTC_ERR_NO_CONN);
    CHECK_EQ(h_rec_count(rec, H_EV_CONNECT), 0);
    h_sleep_ms(100); /* let the broker write its log */
    CHECK_MSG(!broker_saw(id), "%s: the broker received a CONNECT from %s", what, id);
}

static void unrelated_ca_fails_and_sends_nothing(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-bad-ca", &rec, id);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_OTHER_CA"), NULL, NULL, MQTTC_CERT_REQUIRED,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    expect_tls_refusal(c, &rec, id, h_host(), tls_port(), "unrelated CA");
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* "::ffff:127.0.0.1" reaches the 127.0.0.1 listener but is not a name the
 * certificate holds (it names localhost and 127.0.0.1). */
#define WRONG_NAME "::ffff:127.0.0.1"

static void insecure_skips_only_the_host_name(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-name-bad", &rec, id);
    CHECK_RC(mqttc_tls_insecure_set(c, true), MQTTC_ERR_INVAL); /* TLS not set yet */
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    expect_tls_refusal(c, &rec, id, WRONG_NAME, tls_port(), "host name not in the certificate");
    mqttc_client_destroy(c);
    h_rec_free(&rec);

    h_rec_init(&rec);
    c = new_client("tls-insecure", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_insecure_set(c, true), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, WRONG_NAME, tls_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    h_disconnect(c, &rec, false);
    /* and back to checking names */
    CHECK_RC(mqttc_tls_insecure_set(c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, WRONG_NAME, tls_port(), 30, NULL), MQTTC_ERR_TLS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);

    /* insecure does not accept an untrusted chain */
    h_rec_init(&rec);
    c = new_client("tls-insecure-ca", &rec, id);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_OTHER_CA"), NULL, NULL, MQTTC_CERT_REQUIRED,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_insecure_set(c, true), MQTTC_ERR_SUCCESS);
    expect_tls_refusal(c, &rec, id, h_host(), tls_port(), "insecure with an unrelated CA");
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void cert_none_accepts_any_chain(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-none", &rec, id);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_OTHER_CA"), NULL, NULL, MQTTC_CERT_NONE,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, WRONG_NAME, tls_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void client_cert_listener_with_a_cert(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-cc", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), h_env("MQTTC_TEST_CLIENT_CERT"), h_env("MQTTC_TEST_CLIENT_KEY"),
                           MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, tls_client_port(), false);
    round_trip(c, &rec, false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void client_cert_listener_without_a_cert(void) {
    /* TLS 1.2: the broker refuses inside the handshake, so connect fails. */
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-nocc12", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_1_2, NULL),
             MQTTC_ERR_SUCCESS);
    expect_tls_refusal(c, &rec, id, h_host(), tls_client_port(), "TLS 1.2 without a client certificate");
    mqttc_client_destroy(c);
    h_rec_free(&rec);

    /* TLS 1.3: the refusal (an alert) comes after the client finished its handshake;
     * the loop reports it and the session never starts. */
    h_rec_init(&rec);
    c = new_client("tls-nocc13", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_1_3, NULL),
             MQTTC_ERR_SUCCESS);
    int rc = mqttc_connect(c, h_host(), tls_client_port(), 30, NULL);
    CHECK_RC2(rc, MQTTC_ERR_SUCCESS, MQTTC_ERR_TLS);
    if (rc == MQTTC_ERR_SUCCESS) {
        int64_t end = h_now_ms() + 5000;
        while (rc == MQTTC_ERR_SUCCESS && h_now_ms() < end) rc = mqttc_loop(c, 100, 1);
        CHECK_RC2(rc, MQTTC_ERR_TLS, MQTTC_ERR_CONN_LOST);
        h_log("TLS 1.3 without a client certificate: the loop returned %s", h_rc_name(rc));
        CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 1, NULL, 100));
    }
    for (int i = 0; i < h_rec_count(&rec, H_EV_CONNECT); i++) {
        h_event e;
        h_rec_get(&rec, H_EV_CONNECT, i, &e);
        CHECK_MSG(e.b != 0, "on_connect rc 0 on the client-certificate listener without a certificate");
    }
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static char temp_dir[64];

/* Writes `text` to a new file in a fresh temporary directory; returns its path
 * (valid until the next call). */
static const char *temp_file(const char *name, const char *text) {
    char *dir = temp_dir;
    static char path[128];
    if (dir[0] == '\0') {
        snprintf(temp_dir, sizeof temp_dir, "/tmp/mqttc-tls-XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static void tls_set_argument_and_file_errors(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-args", &rec, id);
    const int R = MQTTC_CERT_REQUIRED, D = MQTTC_TLS_VERSION_DEFAULT;
    CHECK_RC(mqttc_tls_set(NULL, ca(), NULL, NULL, R, D, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, 3, D, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, -1, D, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, 11, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, h_env("MQTTC_TEST_CLIENT_KEY"), R, D, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, D, "NO_SUCH_SUITE"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, D, "ECDHE-RSA-AES128-GCM-SHA256"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, MQTTC_TLS_VERSION_1_2, "TLS_AES_128_GCM_SHA256"),
             MQTTC_ERR_INVAL);
    errno = 0;
    CHECK_RC(mqttc_tls_set(c, "/nonexistent/mqttc/ca.pem", NULL, NULL, R, D, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ENOENT);
    errno = 0;
    CHECK_RC(mqttc_tls_set(c, ca(), "/nonexistent/mqttc/c.pem", NULL, R, D, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ENOENT);
    CHECK_RC(mqttc_tls_set(c, temp_file("empty.pem", "nothing here\n"), NULL, NULL, R, D, NULL), MQTTC_ERR_TLS);
    /* a certificate file given as the key, and an encrypted key */
    CHECK_RC(mqttc_tls_set(c, ca(), h_env("MQTTC_TEST_CLIENT_CERT"), ca(), R, D, NULL), MQTTC_ERR_TLS);
    const char *enc = temp_file("enc.key",
                                "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                                "MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIb2uW0QtJ2nQCAggA\n"
                                "-----END ENCRYPTED PRIVATE KEY-----\n");
    CHECK_RC(mqttc_tls_set(c, ca(), h_env("MQTTC_TEST_CLIENT_CERT"), enc, R, D, NULL), MQTTC_ERR_TLS);
    unlink(enc);
    unlink(temp_file("empty.pem", ""));
    rmdir(temp_dir);
    /* none of the failures left TLS half-configured: the client still talks plain TCP */
    h_connect(c, &rec, h_port(), false);
    h_disconnect(c, &rec, false);
    /* valid cipher names, then: configured once only, as in paho */
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_OPTIONAL, D,
                           "TLS_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, D, NULL), MQTTC_ERR_INVAL);
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK_RC(mqttc_tls_set_context(c, ctx), MQTTC_ERR_INVAL);
    mqttc_tls_context_free(ctx);
    h_connect(c, &rec, tls_port(), false);
    h_disconnect(c, &rec, false);
    /* reinitialise forgets TLS */
    CHECK_RC(mqttc_reinitialise(c, id, true, &rec), MQTTC_ERR_SUCCESS);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_tls_insecure_set(c, true), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, R, MQTTC_TLS_VERSION_1_2, NULL), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void context_builder_errors(void) {
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK(ctx != NULL);
    CHECK_RC(mqttc_tls_context_load_ca_file(NULL, ca()), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_load_ca_file(ctx, NULL), MQTTC_ERR_INVAL);
    errno = 0;
    CHECK_RC(mqttc_tls_context_load_ca_file(ctx, "/nonexistent/mqttc/ca.pem"), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ENOENT);
    CHECK_RC(mqttc_tls_context_load_ca_pem(ctx, NULL, 10), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_load_ca_pem(ctx, "garbage", 7), MQTTC_ERR_TLS);
    CHECK_RC(mqttc_tls_context_load_cert_chain(ctx, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_load_cert_chain(ctx, h_env("MQTTC_TEST_CLIENT_CERT"), NULL), MQTTC_ERR_TLS);
    CHECK_RC(mqttc_tls_context_set_verify(ctx, 5), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_verify(NULL, MQTTC_CERT_NONE), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_version(ctx, 10), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, "TLS_AES_128_GCM_SHA256:bogus"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, ""), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, NULL), MQTTC_ERR_SUCCESS);
    const char *bad[] = {"mqtt", ""};
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, bad, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, NULL, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, bad, -1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, NULL, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_context_use_system_roots(ctx), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_set_context(NULL, ctx), MQTTC_ERR_INVAL);
    mqttc_tls_context_free(ctx);
    mqttc_tls_context_free(NULL);
}

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "%s: %s", path, strerror(errno));
    char *buf = malloc(65536);
    CHECK(buf != NULL);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* One context, two clients, the context freed right after being handed over. */
static void context_shared_and_freed_early(void) {
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    size_t len;
    char *pem = slurp(ca(), &len);
    CHECK_RC(mqttc_tls_context_load_ca_pem(ctx, pem, len), MQTTC_ERR_SUCCESS);
    memset(pem, 0, len); /* copied, not kept */
    free(pem);
    CHECK_RC(mqttc_tls_context_load_cert_chain(ctx, h_env("MQTTC_TEST_CLIENT_CERT"), h_env("MQTTC_TEST_CLIENT_KEY")),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_context_set_verify(ctx, MQTTC_CERT_REQUIRED), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, "TLS_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
             MQTTC_ERR_SUCCESS);
    h_rec ra, rb;
    h_rec_init(&ra);
    h_rec_init(&rb);
    char ida[64], idb[64];
    mqttc_client *a = new_client("ctx-a", &ra, ida);
    mqttc_client *b = new_client("ctx-b", &rb, idb);
    CHECK_RC(mqttc_tls_set_context(a, ctx), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_set_context(b, ctx), MQTTC_ERR_SUCCESS);
    /* changing or freeing the context does not reach the clients */
    CHECK_RC(mqttc_tls_context_set_verify(ctx, MQTTC_CERT_NONE), MQTTC_ERR_SUCCESS);
    mqttc_tls_context_free(ctx);

    h_connect(a, &ra, tls_client_port(), true);
    h_connect(b, &rb, tls_client_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(b, &rb, h_topic(t, "ctx"), 1, true);
    int mid;
    CHECK_RC(mqttc_publish(a, t, "from a", 6, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(a, mid, 5000), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rb, H_EV_MESSAGE, 1, NULL, 5000));
    h_event e;
    h_rec_get(&rb, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "from a", 6);
    h_disconnect(a, &ra, true);
    h_disconnect(b, &rb, true);
    mqttc_client_destroy(a);
    mqttc_client_destroy(b);
    h_rec_free(&ra);
    h_rec_free(&rb);
}

/* A NULL context: paho's default context (system store), which does not know the
 * test CA. */
static void null_context_uses_the_system_store(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("ctx-null", &rec, id);
    int rc = mqttc_tls_set_context(c, NULL);
    if (rc == MQTTC_ERR_TLS) {
        h_log("no system trust store on this machine: MQTTC_ERR_TLS, as documented");
    } else {
        CHECK_RC(rc, MQTTC_ERR_SUCCESS);
        expect_tls_refusal(c, &rec, id, h_host(), tls_port(), "system store vs the test CA");
    }
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* SSL_CERT_DIR adds its directories' certificates to the system store, as OpenSSL
 * does: with the test CA in such a directory, the system store trusts the broker
 * (null_context_uses_the_system_store shows it does not without). */
static void ssl_cert_dir_joins_the_system_store(void) {
    size_t len;
    char *pem = slurp(ca(), &len);
    temp_file("README", "not a certificate\n");
    const char *path = temp_file("test-ca.pem", pem);
    free(pem);
    char dir[128];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    char dirs[300];
    snprintf(dirs, sizeof dirs, "/nonexistent/mqttc:%s", dir);
    CHECK_EQ(setenv("SSL_CERT_DIR", dirs, 1), 0);
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("ssl-cert-dir", &rec, id);
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK(ctx != NULL);
    CHECK_RC(mqttc_tls_context_use_system_roots(ctx), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_set_context(c, ctx), MQTTC_ERR_SUCCESS);
    mqttc_tls_context_free(ctx);
    h_connect(c, &rec, tls_port(), false);
    CHECK_MSG(broker_saw(id), "the broker log does not show client %s", id);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* paho's publish.single with tls={...}. */
static void oneshot_helpers_with_tls(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *sub = h_client("tls-1shot-sub", true, &rec);
    h_connect(sub, &rec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(sub, &rec, h_topic(t, "oneshot"), 1, true);

    mqttc_tls_opts tls = {ca(), NULL, NULL, MQTTC_TLS_VERSION_DEFAULT, NULL, false};
    mqttc_conn_opts o;
    mqttc_conn_opts_init(&o);
    o.hostname = h_host();
    o.port = tls_port();
    o.tls = &tls;
    CHECK_RC(mqttc_publish_single(t, "over tls", 8, 1, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 1, NULL, 5000));

    /* a wrong name passes only with insecure; an unrelated CA never */
    o.hostname = WRONG_NAME;
    CHECK_RC(mqttc_publish_single(t, "x", 1, 0, false, &o), MQTTC_ERR_TLS);
    tls.insecure = true;
    CHECK_RC(mqttc_publish_single(t, "insecure", 8, 1, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 2, NULL, 5000));
    tls.ca_certs = h_env("MQTTC_TEST_OTHER_CA");
    CHECK_RC(mqttc_publish_single(t, "x", 1, 0, false, &o), MQTTC_ERR_TLS);
    /* with a client certificate on the listener that wants one */
    tls.ca_certs = ca();
    tls.insecure = false;
    tls.certfile = h_env("MQTTC_TEST_CLIENT_CERT");
    tls.keyfile = h_env("MQTTC_TEST_CLIENT_KEY");
    tls.tls_version = MQTTC_TLS_VERSION_1_2;
    o.hostname = "localhost";
    o.port = tls_client_port();
    CHECK_RC(mqttc_publish_single(t, "client cert", 11, 2, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 3, NULL, 5000));
    h_disconnect(sub, &rec, true);
    mqttc_client_destroy(sub);
    h_rec_free(&rec);
}

/* ---------------------------------------------------------------------------------- */
/* Edge-triggered epoll: mqttc_loop_read is called once per EPOLLIN edge, so any byte */
/* the library decrypted but did not hand to the session would stall the test.        */
/* ---------------------------------------------------------------------------------- */

struct ep {
    int epfd;
    int fd;
    bool out;
};

static void ep_update(struct ep *ep, mqttc_client *c) {
    int fd = mqttc_socket(c);
    if (fd < 0) return;
    bool out = mqttc_want_write(c);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | (out ? EPOLLOUT : 0), .data = {.fd = fd}};
    if (fd != ep->fd) {
        CHECK_MSG(epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl ADD: %s", strerror(errno));
        ep->fd = fd;
        ep->out = out;
    } else if (out != ep->out) {
        CHECK_MSG(epoll_ctl(ep->epfd, EPOLL_CTL_MOD, fd, &ev) == 0, "epoll_ctl MOD: %s", strerror(errno));
        ep->out = out;
    }
}

static void ep_turn(struct ep *ep, mqttc_client *c) {
    ep_update(ep, c);
    int to = mqttc_misc_timeout_ms(c);
    if (to < 0 || to > 200) to = 200;
    struct epoll_event evs[4];
    int n = epoll_wait(ep->epfd, evs, 4, to);
    CHECK_MSG(n >= 0 || errno == EINTR, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            int rc = mqttc_loop_read(c, 1); /* once per edge: the library must drain */
            CHECK_MSG(rc == MQTTC_ERR_SUCCESS, "loop_read returned %d (%s)", rc, h_rc_name(rc));
        }
        if (evs[i].events & EPOLLOUT) CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    }
    if (mqttc_want_write(c)) CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_misc(c), MQTTC_ERR_SUCCESS);
}

static void ep_until(struct ep *ep, mqttc_client *c, h_rec *rec, h_ev_type t, int n, const char *what) {
    int64_t end = h_now_ms() + 10000L * h_time_scale();
    while (h_rec_count(rec, t) < n) {
        CHECK_MSG(h_now_ms() < end, "edge-triggered epoll: %s stalled at %d of %d", what, h_rec_count(rec, t), n);
        ep_turn(ep, c);
    }
}

static void epoll_edge_triggered_round_trip(void) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-epoll", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    struct ep ep = {epoll_create1(EPOLL_CLOEXEC), -1, false};
    CHECK(ep.epfd >= 0);
    CHECK_RC(mqttc_connect(c, h_host(), tls_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    ep_until(&ep, c, &rec, H_EV_CONNECT, 1, "CONNACK");
    char t[H_TOPIC_MAX];
    CHECK_RC(mqttc_subscribe(c, h_topic(t, "epoll"), 1, NULL), MQTTC_ERR_SUCCESS);
    ep_until(&ep, c, &rec, H_EV_SUBSCRIBE, 1, "SUBACK");
    /* Many messages at once, and big ones: the broker's answers arrive as runs of
     * TLS records, read in one go and decrypted in 16 KiB pieces. */
    enum { SMALL = 300, BIG = 4 };
    static unsigned char big[200 * 1024];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)i;
    for (int i = 0; i < SMALL; i++) {
        char p[32];
        int n = snprintf(p, sizeof p, "m%d", i);
        CHECK_RC(mqttc_publish(c, t, p, n, 1, false, NULL), MQTTC_ERR_SUCCESS);
    }
    for (int i = 0; i < BIG; i++) CHECK_RC(mqttc_publish(c, t, big, (int)sizeof big, 1, false, NULL), MQTTC_ERR_SUCCESS);
    ep_until(&ep, c, &rec, H_EV_MESSAGE, SMALL + BIG, "messages");
    ep_until(&ep, c, &rec, H_EV_PUBLISH, SMALL + BIG, "PUBACKs");
    int bigs = 0;
    for (int i = 0; i < SMALL + BIG; i++) {
        h_event e;
        h_rec_get(&rec, H_EV_MESSAGE, i, &e);
        if (e.payloadlen == (int)sizeof big) {
            CHECK_MEMEQ(e.payload, e.payloadlen, big, sizeof big);
            bigs++;
        }
    }
    CHECK_EQ(bigs, BIG);
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    ep_until(&ep, c, &rec, H_EV_DISCONNECT, 1, "on_disconnect");
    close(ep.epfd);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* ---------------------------------------------------------------------------------- */
/* What the client offers, as `openssl s_server` prints it.                            */
/* ---------------------------------------------------------------------------------- */

struct s_server {
    pid_t pid;
    int stdin_w; /* kept open: s_server ends its session at end of input */
    int port;
    char out[96];
};

static void s_server_start(struct s_server *s, const char *const *extra) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", h_env("MQTTC_TEST_BROKER_DIR"));
    char cert[600], key[600], port[16];
    snprintf(cert, sizeof cert, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    s->port = h_free_port();
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(s->out, sizeof s->out, "/tmp/mqttc-s_server-%d-%d.out", (int)getpid(), s->port);
    const char *argv[24] = {"openssl", "s_server", "-accept", port, "-cert", cert, "-key", key};
    int n = 8;
    for (int i = 0; extra[i] != NULL && n < 22; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    int p[2];
    CHECK(pipe(p) == 0);
    s->pid = fork();
    CHECK(s->pid >= 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(126);
        dup2(p[0], 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(p[1]);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    close(p[0]);
    s->stdin_w = p[1];
    int64_t end = h_now_ms() + 5000;
    while (!file_contains(s->out, "ACCEPT")) {
        int st;
        CHECK_MSG(waitpid(s->pid, &st, WNOHANG) == 0, "openssl s_server exited (see %s)", s->out);
        CHECK_MSG(h_now_ms() < end, "openssl s_server did not start (see %s)", s->out);
        h_sleep_ms(20);
    }
}

/* Waits until the server's output holds `needle`. */
static void s_server_expect(struct s_server *s, const char *needle) {
    int64_t end = h_now_ms() + 5000;
    while (!file_contains(s->out, needle)) {
        if (h_now_ms() >= end) {
            size_t len;
            char *text = slurp(s->out, &len);
            H_FAIL("openssl s_server never printed \"%s\"; it printed:\n%s", needle, text);
        }
        h_sleep_ms(20);
    }
}

static void s_server_stop(struct s_server *s) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    close(s->stdin_w);
    unlink(s->out);
}

/* Connects a client with `ctx` to the s_server (TLS only: no MQTT answer comes). */
static void offer(struct s_server *s, mqttc_tls_context *ctx) {
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("offer", &rec, id);
    CHECK_RC(mqttc_tls_set_context(c, ctx), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "localhost", s->port, 30, NULL), MQTTC_ERR_SUCCESS);
    for (int i = 0; i < 5; i++) mqttc_loop(c, 20, 1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void alpn_is_offered(void) {
    static const char *const args[] = {"-alpn", "mqtt", NULL};
    struct s_server s;
    s_server_start(&s, args);
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK_RC(mqttc_tls_context_load_ca_file(ctx, ca()), MQTTC_ERR_SUCCESS);
    const char *protos[] = {"x-first", "mqtt"};
    CHECK_RC(mqttc_tls_context_set_alpn(ctx, protos, 2), MQTTC_ERR_SUCCESS);
    offer(&s, ctx);
    s_server_expect(&s, "ALPN protocols advertised by the client: x-first, mqtt");
    s_server_expect(&s, "ALPN protocols selected: mqtt");
    s_server_stop(&s);

    /* mosquitto has no ALPN: offering it does no harm */
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("alpn-mosq", &rec, id);
    CHECK_RC(mqttc_tls_set_context(c, ctx), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, tls_port(), false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    mqttc_tls_context_free(ctx);
}

static void cipher_and_version_are_honoured(void) {
    static const char *const none[] = {NULL};
    struct s_server s;
    s_server_start(&s, none);
    mqttc_tls_context *ctx = mqttc_tls_context_new();
    CHECK_RC(mqttc_tls_context_load_ca_file(ctx, ca()), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, "TLS_CHACHA20_POLY1305_SHA256"), MQTTC_ERR_SUCCESS);
    offer(&s, ctx);
    s_server_expect(&s, "CIPHER is TLS_CHACHA20_POLY1305_SHA256");
    s_server_stop(&s);

    s_server_start(&s, none);
    CHECK_RC(mqttc_tls_context_set_ciphers(ctx, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_tls_context_set_version(ctx, MQTTC_TLS_VERSION_1_2), MQTTC_ERR_SUCCESS);
    offer(&s, ctx);
    s_server_expect(&s, "CIPHER is ECDHE-RSA-AES128-GCM-SHA256");
    s_server_stop(&s);
    mqttc_tls_context_free(ctx);
}

/* Writing TLS records to a peer that is gone must give an error, not SIGPIPE (the
 * default action of which ends a C program). */
static void peer_gone_is_an_error_not_sigpipe(void) {
    signal(SIGPIPE, SIG_DFL);
    static const char *const none[] = {NULL};
    struct s_server s;
    s_server_start(&s, none);
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = new_client("tls-epipe", &rec, id);
    CHECK_RC(mqttc_tls_set(c, ca(), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "localhost", s.port, 30, NULL), MQTTC_ERR_SUCCESS);
    kill(s.pid, SIGKILL);
    waitpid(s.pid, NULL, 0);
    h_sleep_ms(100);
    /* Only writes, no reads: the first may still be accepted (the RST comes back),
     * the next ones hit EPIPE. */
    int rc = MQTTC_ERR_SUCCESS;
    for (int i = 0; i < 20 && rc == MQTTC_ERR_SUCCESS; i++) {
        mqttc_publish(c, "t", "payload", 7, 0, false, NULL);
        rc = mqttc_loop_write(c, 1);
        h_sleep_ms(20);
    }
    h_log("writing to a vanished peer: %s", h_rc_name(rc));
    CHECK_RC2(rc, MQTTC_ERR_CONN_LOST, MQTTC_ERR_NO_CONN);
    CHECK_EQ(mqttc_socket(c), -1);
    close(s.stdin_w);
    unlink(s.out);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(right_ca_round_trips_qos_0_1_2, 30),
        H_CASE(localhost_by_name_threaded, 30),
        H_CASE(unrelated_ca_fails_and_sends_nothing, 20),
        H_CASE(insecure_skips_only_the_host_name, 30),
        H_CASE(cert_none_accepts_any_chain, 20),
        H_CASE(client_cert_listener_with_a_cert, 30),
        H_CASE(client_cert_listener_without_a_cert, 30),
        H_CASE(tls_set_argument_and_file_errors, 30),
        H_CASE(context_builder_errors, 20),
        H_CASE(context_shared_and_freed_early, 30),
        H_CASE(null_context_uses_the_system_store, 20),
        H_CASE(oneshot_helpers_with_tls, 30),
        H_CASE(ssl_cert_dir_joins_the_system_store, 30),
        H_CASE(epoll_edge_triggered_round_trip, 60),
        H_CASE(alpn_is_offered, 30),
        H_CASE(cipher_and_version_are_honoured, 30),
        H_CASE(peer_gone_is_an_error_not_sigpipe, 30),
    };
    return h_main(argc, argv, "test_tls", cases, sizeof cases / sizeof cases[0]);
}
