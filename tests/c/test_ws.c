/* MQTT over WebSockets against mosquitto's websockets listeners (plain and TLS), and
 * the upgrade request as a raw TCP server receives it (path, headers, Host,
 * subprotocol), a refused upgrade, and a server that never answers.
 *
 * Environment besides harness.h's: MQTTC_TEST_WS_PORT, MQTTC_TEST_WSS_PORT,
 * MQTTC_TEST_CA. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int ws_port(void) { return atoi(h_env("MQTTC_TEST_WS_PORT")); }
static int wss_port(void) { return atoi(h_env("MQTTC_TEST_WSS_PORT")); }

static mqttc_client *ws_client(const char *tag, h_rec *rec) {
    char id[64];
    mqttc_client *c = mqttc_client_new(h_client_id(id, tag), true, rec, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_WEBSOCKETS);
    CHECK_MSG(c != NULL, "mqttc_client_new: %s", strerror(errno));
    h_rec_attach(c, H_CB_BASIC | H_CB_LOG);
    return c;
}

/* QoS 0, 1, 2 to itself, plus messages bigger than a frame and many small ones
 * written in one go (several MQTT packets per frame, packets across frames). */
static void round_trip(mqttc_client *c, h_rec *rec, bool threaded) {
    char t[H_TOPIC_MAX];
    h_subscribe(c, rec, h_topic(t, "ws"), 2, threaded);
    mqttc_client *drive = threaded ? NULL : c;
    int msgs = h_rec_count(rec, H_EV_MESSAGE);
    for (int q = 0; q < 3; q++) {
        char p[16];
        int n = snprintf(p, sizeof p, "qos %d", q);
        CHECK_RC(mqttc_publish(c, t, p, n, q, false, NULL), MQTTC_ERR_SUCCESS);
    }
    enum { SMALL = 200 };
    for (int i = 0; i < SMALL; i++) CHECK_RC(mqttc_publish(c, t, "s", 1, 1, false, NULL), MQTTC_ERR_SUCCESS);
    /* More than one of our 64 KiB frames. Not much more: mosquitto 2.0's websockets
     * listener sends large messages at about 40 KiB/s (1.5 s for 64 KiB, the same
     * with paho-mqtt as the client). */
    size_t big_len = 70 * 1024 + 17;
    unsigned char *big = malloc(big_len);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_len; i++) big[i] = (unsigned char)(i ^ (i >> 8));
    CHECK_RC(mqttc_publish(c, t, big, (int)big_len, 2, false, NULL), MQTTC_ERR_SUCCESS);
    int want = msgs + 3 + SMALL + 1;
    CHECK_MSG(h_rec_wait(rec, H_EV_MESSAGE, want, drive, 10000), "%d of %d messages (last loop rc %d)",
              h_rec_count(rec, H_EV_MESSAGE) - msgs, want - msgs, h_last_loop_rc());
    bool qos_seen[3] = {false, false, false};
    bool big_seen = false;
    for (int i = msgs; i < want; i++) {
        h_event e;
        h_rec_get(rec, H_EV_MESSAGE, i, &e);
        if (e.payloadlen == (int)big_len) {
            CHECK_MEMEQ(e.payload, e.payloadlen, big, big_len);
            big_seen = true;
        } else if (e.payloadlen == 5 && memcmp(e.payload, "qos ", 4) == 0) {
            int q = e.payload[4] - '0';
            CHECK(q >= 0 && q <= 2);
            CHECK_EQ(e.qos, q);
            qos_seen[q] = true;
        }
    }
    CHECK(qos_seen[0] && qos_seen[1] && qos_seen[2] && big_seen);
    free(big);
}

static void ws_round_trip(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = ws_client("ws", &rec);
    h_connect(c, &rec, ws_port(), false);
    round_trip(c, &rec, false);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void ws_threaded_with_custom_path_and_headers(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = ws_client("ws-hdr", &rec);
    const char *headers[] = {"X-Mqttc-Test: yes", "Authorization: Bearer not-a-secret"};
    CHECK_RC(mqttc_ws_set_options(c, "/custom/mqtt", headers, 2), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, ws_port(), true);
    round_trip(c, &rec, true);
    h_disconnect(c, &rec, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void wss_round_trip(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = ws_client("wss", &rec);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_CA"), NULL, NULL, MQTTC_CERT_REQUIRED,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, wss_port(), false);
    round_trip(c, &rec, false);
    h_disconnect(c, &rec, false);
    /* the wrong CA fails in the TLS handshake, before any HTTP */
    mqttc_client *bad = ws_client("wss-bad", &rec);
    CHECK_RC(mqttc_tls_set(bad, h_env("MQTTC_TEST_OTHER_CA"), NULL, NULL, MQTTC_CERT_REQUIRED,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(bad, h_host(), wss_port(), 30, NULL), MQTTC_ERR_TLS);
    mqttc_client_destroy(bad);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* paho's publish.single(transport="websockets"), plain and over TLS. */
static void oneshot_over_websockets(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *sub = h_client("ws-1shot-sub", true, &rec);
    h_connect(sub, &rec, h_port(), true);
    char t[H_TOPIC_MAX];
    h_subscribe(sub, &rec, h_topic(t, "oneshot"), 1, true);
    mqttc_conn_opts o;
    mqttc_conn_opts_init(&o);
    o.hostname = h_host();
    o.port = ws_port();
    o.transport = MQTTC_TRANSPORT_WEBSOCKETS;
    CHECK_RC(mqttc_publish_single(t, "ws", 2, 1, false, &o), MQTTC_ERR_SUCCESS);
    mqttc_tls_opts tls = {h_env("MQTTC_TEST_CA"), NULL, NULL, MQTTC_TLS_VERSION_DEFAULT, NULL, false};
    o.port = wss_port();
    o.tls = &tls;
    CHECK_RC(mqttc_publish_single(t, "wss", 3, 2, false, &o), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_MESSAGE, 2, NULL, 5000));
    h_disconnect(sub, &rec, true);
    mqttc_client_destroy(sub);
    h_rec_free(&rec);
}

/* ---------------------------------------------------------------------------------- */
/* A raw TCP server that records the upgrade request and answers as told.             */
/* ---------------------------------------------------------------------------------- */

struct raw_server {
    int lfd;
    int port;
    const char *reply; /* NULL: never answer */
    char request[4096];
    pthread_t thread;
};

static void *raw_serve(void *arg) {
    struct raw_server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    size_t len = 0;
    while (len < sizeof s->request - 1 && strstr(s->request, "\r\n\r\n") == NULL) {
        ssize_t n = read(fd, s->request + len, sizeof s->request - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        s->request[len] = '\0';
    }
    if (s->reply != NULL) {
        ssize_t w = write(fd, s->reply, strlen(s->reply));
        (void)w;
    } else {
        /* say nothing until the client gives up and closes */
        char sink[256];
        while (read(fd, sink, sizeof sink) > 0) {
        }
    }
    close(fd);
    return NULL;
}

static void raw_start(struct raw_server *s, const char *reply) {
    memset(s, 0, sizeof *s);
    s->reply = reply;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    CHECK(bind(s->lfd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(s->lfd, 1) == 0);
    socklen_t al = sizeof a;
    CHECK(getsockname(s->lfd, (struct sockaddr *)&a, &al) == 0);
    s->port = ntohs(a.sin_port);
    CHECK(pthread_create(&s->thread, NULL, raw_serve, s) == 0);
}

static void raw_join(struct raw_server *s) {
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

static bool has_line(const char *req, const char *line) {
    char want[512];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strcasestr(req, want) != NULL;
}

static void upgrade_request_on_the_wire(void) {
    struct raw_server s;
    raw_start(&s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = ws_client("ws-raw", &rec);
    const char *headers[] = {"X-Mqttc-Test: yes", "Authorization: Bearer t0ken"};
    CHECK_RC(mqttc_ws_set_options(c, "/custom/path?v=1", headers, 2), MQTTC_ERR_SUCCESS);
    /* a refused upgrade is a protocol error; the reason goes to on_log */
    CHECK_RC(mqttc_connect(c, "127.0.0.1", s.port, 30, NULL), MQTTC_ERR_PROTOCOL);
    CHECK_EQ(mqttc_socket(c), -1);
    raw_join(&s);
    h_log("request:\n%s", s.request);
    CHECK_MSG(strncmp(s.request, "GET /custom/path?v=1 HTTP/1.1\r\n", 31) == 0, "request line: %.60s", s.request);
    char host[64];
    snprintf(host, sizeof host, "Host: 127.0.0.1:%d", s.port);
    CHECK_MSG(has_line(s.request, host), "no \"%s\"", host);
    CHECK(has_line(s.request, "Sec-WebSocket-Protocol: mqtt"));
    CHECK(has_line(s.request, "Upgrade: websocket"));
    CHECK(has_line(s.request, "Sec-WebSocket-Version: 13"));
    CHECK(has_line(s.request, "X-Mqttc-Test: yes"));
    CHECK(has_line(s.request, "Authorization: Bearer t0ken"));
    bool logged = false;
    for (int i = 0; i < h_rec_count(&rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(&rec, H_EV_LOG, i, &e);
        if (strstr(e.text, "404") != NULL) logged = true;
    }
    CHECK_MSG(logged, "the HTTP status is not in any on_log line");

    /* defaults: path /mqtt, and the options can be reset */
    raw_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_RC(mqttc_ws_set_options(c, NULL, NULL, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", s.port, 30, NULL), MQTTC_ERR_PROTOCOL);
    raw_join(&s);
    CHECK_MSG(strncmp(s.request, "GET /mqtt HTTP/1.1\r\n", 20) == 0, "request line: %.60s", s.request);
    CHECK(strcasestr(s.request, "X-Mqttc-Test") == NULL);

    /* a header name HTTP does not allow */
    const char *bad[] = {"Bad Name: x"};
    CHECK_RC(mqttc_ws_set_options(c, "/mqtt", bad, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, h_host(), ws_port(), 30, NULL), MQTTC_ERR_INVAL);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* A server that accepts TCP and never answers the upgrade: connect gives up after
 * its 5 s timeout with ETIMEDOUT. */
static void silent_server_times_out(void) {
    struct raw_server s;
    raw_start(&s, NULL);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = ws_client("ws-silent", &rec);
    int64_t t0 = h_now_ms();
    errno = 0;
    CHECK_RC(mqttc_connect(c, "127.0.0.1", s.port, 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ETIMEDOUT);
    int64_t took = h_now_ms() - t0;
    h_log("gave up after %lld ms", (long long)took);
    CHECK_MSG(took >= 4500 && took < 6500, "gave up after %lld ms", (long long)took);
    mqttc_client_destroy(c);
    raw_join(&s);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(ws_round_trip, 30),
        H_CASE(ws_threaded_with_custom_path_and_headers, 30),
        H_CASE(wss_round_trip, 30),
        H_CASE(oneshot_over_websockets, 30),
        H_CASE(upgrade_request_on_the_wire, 20),
        H_CASE(silent_server_times_out, 30),
    };
    return h_main(argc, argv, "test_ws", cases, sizeof cases / sizeof cases[0]);
}
