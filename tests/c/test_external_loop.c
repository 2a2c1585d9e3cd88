/* External event loop: mqttc_socket, want_write, loop_read/loop_write/loop_misc,
 * misc_timeout_ms driving a full QoS 1 round trip with poll(2), keepalive through
 * loop_misc, the four socket callbacks with the right fd at the right time, and an
 * edge-triggered epoll loop that gets a flood larger than one loop_read reads. */
#include "harness.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* One turn of a poll(2) loop as a C user would write it. */
static void turn(mqttc_client *c, int max_wait_ms) {
    int fd = mqttc_socket(c);
    if (fd < 0) return;
    struct pollfd p = {fd, (short)(POLLIN | (mqttc_want_write(c) ? POLLOUT : 0)), 0};
    int to = mqttc_misc_timeout_ms(c);
    if (to < 0 || to > max_wait_ms) to = max_wait_ms;
    int n = poll(&p, 1, to);
    CHECK_MSG(n >= 0, "poll: %s", strerror(errno));
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        int rc = mqttc_loop_read(c, 1);
        CHECK_MSG(rc == MQTTC_ERR_SUCCESS || mqttc_socket(c) < 0, "loop_read returned %d (%s) on a live connection",
                  rc, h_rc_name(rc));
    }
    if (mqttc_socket(c) >= 0 && (p.revents & POLLOUT)) CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    if (mqttc_socket(c) >= 0) {
        int rc = mqttc_loop_misc(c);
        CHECK_MSG(rc == MQTTC_ERR_SUCCESS || mqttc_socket(c) < 0, "loop_misc returned %d (%s)", rc, h_rc_name(rc));
    }
}

struct until {
    mqttc_client *c;
    h_rec *r;
    h_ev_type t;
    int n;
};
static bool drive_until(void *p) {
    struct until *u = p;
    if (h_rec_count(u->r, u->t) >= u->n) return true;
    turn(u->c, 50);
    return h_rec_count(u->r, u->t) >= u->n;
}
static void drive(mqttc_client *c, h_rec *r, h_ev_type t, int n, const char *what) {
    struct until u = {c, r, t, n};
    CHECK_MSG(wait_until(drive_until, &u, NULL, 5000), "external loop: %s did not happen within 5 s", what);
}

/* Register/unregister_write strictly alternate, start with register, and use fd. */
static void check_write_registration(h_rec *r, int fd) {
    int nr = h_rec_count(r, H_EV_SOCK_REG_W), nu = h_rec_count(r, H_EV_SOCK_UNREG_W);
    CHECK_GE(nr, 1);
    CHECK_MSG(nr == nu || nr == nu + 1, "%d register_write vs %d unregister_write", nr, nu);
    for (int i = 0; i < nu; i++) {
        h_event a, b, next;
        h_rec_get(r, H_EV_SOCK_REG_W, i, &a);
        h_rec_get(r, H_EV_SOCK_UNREG_W, i, &b);
        CHECK_EQ(a.a, fd);
        CHECK_EQ(b.a, fd);
        CHECK_MSG(a.seq < b.seq, "unregister_write #%d came before its register_write", i);
        if (h_rec_get(r, H_EV_SOCK_REG_W, i + 1, &next))
            CHECK_MSG(b.seq < next.seq, "register_write #%d before unregister_write #%d", i + 1, i);
    }
}

static void qos1_round_trip_with_poll(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("ext", true, &rec);
    h_rec_attach(c, H_CB_SOCKETS);

    CHECK_EQ(mqttc_socket(c), -1);
    CHECK(!mqttc_want_write(c));
    CHECK_EQ(mqttc_misc_timeout_ms(c), -1);
    CHECK_RC(mqttc_loop_read(c, 1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_loop_misc(c), MQTTC_ERR_NO_CONN);

    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 60, NULL), MQTTC_ERR_SUCCESS);
    int fd = mqttc_socket(c);
    CHECK_GE(fd, 0);
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_OPEN), 1);
    h_event e;
    h_rec_get(&rec, H_EV_SOCK_OPEN, 0, &e);
    CHECK_EQ(e.a, fd);
    CHECK(pthread_equal(e.thread, pthread_self()));
    /* CONNECT is queued, not yet written: the loop must be asked to write */
    CHECK_MSG(mqttc_want_write(c), "want_write false right after connect (CONNECT not queued?)");
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_REG_W), 1);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    CHECK(!mqttc_want_write(c));
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_UNREG_W), 1);
    /* nothing to write: loop_write is a no-op; nothing to read: loop_read does not block */
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    drive(c, &rec, H_EV_CONNECT, 1, "on_connect");
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    CHECK_EQ(e.b, 0);
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_loop_read(c, 1), MQTTC_ERR_SUCCESS);
    CHECK_MSG(h_now_ms() - t0 < 200 * h_time_scale(), "loop_read on an idle socket blocked %lld ms", (long long)(h_now_ms() - t0));
    int to = mqttc_misc_timeout_ms(c);
    CHECK_MSG(to >= 0 && to <= 60000, "misc_timeout_ms %d with keepalive 60", to);

    char t[H_TOPIC_MAX];
    int smid = 0;
    CHECK_RC(mqttc_subscribe(c, h_topic(t, "ext"), 1, &smid), MQTTC_ERR_SUCCESS);
    CHECK(mqttc_want_write(c));
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_REG_W), 2);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    CHECK(!mqttc_want_write(c));
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_UNREG_W), 2);
    drive(c, &rec, H_EV_SUBSCRIBE, 1, "on_subscribe");

    static const unsigned char pl[] = {1, 0, 2, 0, 3};
    int mid = 0;
    CHECK_RC(mqttc_publish(c, t, pl, (int)sizeof pl, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_MSG(mqttc_want_write(c), "want_write false after publish");
    CHECK(!mqttc_is_published(c, mid));
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_REG_W), 3);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    CHECK_MSG(!mqttc_want_write(c), "want_write still true after loop_write");
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_UNREG_W), 3);
    drive(c, &rec, H_EV_MESSAGE, 1, "on_message");
    drive(c, &rec, H_EV_PUBLISH, 1, "on_publish");
    h_rec_get(&rec, H_EV_PUBLISH, 0, &e);
    CHECK_EQ(e.a, mid);
    CHECK(mqttc_is_published(c, mid));
    h_rec_get(&rec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, pl, sizeof pl);
    CHECK_EQ(e.qos, 1);
    CHECK(pthread_equal(e.thread, pthread_self()));
    /* the PUBACK for the incoming message went out through the same machinery */
    for (int i = 0; i < 5; i++) turn(c, 20);
    CHECK(!mqttc_want_write(c));

    /* QoS 0: on_publish fires once the loop has written it */
    int mid0 = 0;
    int before = h_rec_count(&rec, H_EV_PUBLISH);
    CHECK_RC(mqttc_publish(c, t, "q0", 2, 0, false, &mid0), MQTTC_ERR_SUCCESS);
    CHECK(mqttc_want_write(c));
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    CHECK_EQ(h_rec_count(&rec, H_EV_PUBLISH), before + 1);
    CHECK_EQ(h_rec_count_a(&rec, H_EV_PUBLISH, mid0), 1);
    drive(c, &rec, H_EV_MESSAGE, 2, "QoS 0 on_message");

    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    drive(c, &rec, H_EV_DISCONNECT, 1, "on_disconnect");
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_SUCCESS);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_CLOSE), 1);
    h_rec_get(&rec, H_EV_SOCK_CLOSE, 0, &e);
    CHECK_EQ(e.a, fd);
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_OPEN), 1);
    CHECK_EQ(mqttc_misc_timeout_ms(c), -1);
    check_write_registration(&rec, fd);
    CHECK_RC(mqttc_loop_read(c, 1), MQTTC_ERR_NO_CONN);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* keepalive 1, driven only by the timeouts misc_timeout_ms announces: PINGREQs
 * go out (register_write while idle) and the connection survives. */
static void keepalive_through_loop_misc(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("extka", true, &rec);
    h_rec_attach(c, H_CB_SOCKETS);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 1, NULL), MQTTC_ERR_SUCCESS);
    int fd = mqttc_socket(c);
    drive(c, &rec, H_EV_CONNECT, 1, "on_connect");
    int regs = h_rec_count(&rec, H_EV_SOCK_REG_W);
    int64_t end = h_now_ms() + 3500;
    int max_to = -1;
    while (h_now_ms() < end) {
        int to = mqttc_misc_timeout_ms(c);
        CHECK_MSG(to >= 0 && to <= 1000, "misc_timeout_ms %d with keepalive 1", to);
        if (to > max_to) max_to = to;
        turn(c, 1000);
    }
    CHECK_MSG(h_rec_count(&rec, H_EV_DISCONNECT) == 0, "connection dropped while idle with keepalive 1");
    int pings = h_rec_count(&rec, H_EV_SOCK_REG_W) - regs;
    h_log("%d register_write while idle for 3.5 s (keepalive 1), largest misc_timeout_ms %d", pings, max_to);
    CHECK_MSG(pings >= 2 && pings <= 8, "%d PINGREQ writes in 3.5 s with keepalive 1", pings);
    CHECK_EQ(mqttc_socket(c), fd);
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    drive(c, &rec, H_EV_DISCONNECT, 1, "on_disconnect");
    check_write_registration(&rec, fd);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* A connection lost under the external loop: loop_read reports it, on_socket_close
 * fires with the old fd, and a reconnect opens a new socket (on_socket_open again). */
static void lost_connection_and_reconnect(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("extlost", true, &rec);
    h_rec_attach(c, H_CB_SOCKETS);
    CHECK_RC(mqttc_connect(c, h_host(), h_port(), 60, NULL), MQTTC_ERR_SUCCESS);
    int fd = mqttc_socket(c);
    drive(c, &rec, H_EV_CONNECT, 1, "on_connect");
    CHECK_EQ(shutdown(fd, SHUT_RDWR), 0);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 2000), 1);
    int rc = mqttc_loop_read(c, 1);
    CHECK_RC(rc, MQTTC_ERR_CONN_LOST);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);
    h_event e;
    h_rec_get(&rec, H_EV_DISCONNECT, 0, &e);
    CHECK_RC(e.a, MQTTC_ERR_CONN_LOST);
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_CLOSE), 1);
    h_rec_get(&rec, H_EV_SOCK_CLOSE, 0, &e);
    CHECK_EQ(e.a, fd);
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    int fd2 = mqttc_socket(c);
    CHECK_GE(fd2, 0);
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_OPEN), 2);
    h_rec_get(&rec, H_EV_SOCK_OPEN, 1, &e);
    CHECK_EQ(e.a, fd2);
    drive(c, &rec, H_EV_CONNECT, 2, "on_connect after reconnect");
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    drive(c, &rec, H_EV_DISCONNECT, 2, "on_disconnect");
    CHECK_EQ(h_rec_count(&rec, H_EV_SOCK_CLOSE), 2);
    h_rec_get(&rec, H_EV_SOCK_CLOSE, 1, &e);
    CHECK_EQ(e.a, fd2);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* 12 MiB of QoS 0 PUBLISH, three times what one loop_read reads at most (4 MiB). */
#define FLOOD_MSGS 384
#define FLOOD_PAYLOAD (32 * 1024)
#define FLOOD_TOPIC "flood/x"

typedef struct flood {
    int fd;
    atomic_int received;
    atomic_int bad; /* messages with the wrong topic, size or contents */
} flood;

static void *flood_writer(void *arg) {
    flood *f = arg;
    static unsigned char pkt[8 + sizeof FLOOD_TOPIC + FLOOD_PAYLOAD];
    size_t rem = 2 + strlen(FLOOD_TOPIC) + FLOOD_PAYLOAD, n = 0;
    pkt[n++] = 0x30;
    for (size_t r = rem; r > 0; r >>= 7) pkt[n++] = (unsigned char)((r & 0x7f) | (r >> 7 ? 0x80 : 0));
    pkt[n++] = 0;
    pkt[n++] = (unsigned char)strlen(FLOOD_TOPIC);
    memcpy(pkt + n, FLOOD_TOPIC, strlen(FLOOD_TOPIC));
    n += strlen(FLOOD_TOPIC);
    for (int i = 0; i < FLOOD_MSGS; i++) {
        /* Message i is filled with byte i % 256: order and contents are checked. */
        memset(pkt + n, i & 0xff, FLOOD_PAYLOAD);
        h_pkt_write(f->fd, pkt, n + FLOOD_PAYLOAD);
    }
    return NULL;
}

static void on_flood_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    (void)c;
    flood *f = ud;
    int i = atomic_load(&f->received);
    const unsigned char *p = m->payload;
    /* The payload is aligned as a malloc'd one would be (16 on x86-64 and arm64). */
    if (strcmp(m->topic, FLOOD_TOPIC) != 0 || m->payloadlen != FLOOD_PAYLOAD || p[0] != (i & 0xff) ||
        p[FLOOD_PAYLOAD - 1] != (i & 0xff) || (uintptr_t)m->payload % 16 != 0)
        atomic_fetch_add(&f->bad, 1);
    atomic_store(&f->received, i + 1);
    /* A consumer slower than the writer: the socket does not run dry while the flood
     * lasts, so a loop_read stops at its limit rather than at EAGAIN. */
    usleep(200);
}

/* An edge-triggered (EPOLLET) loop that calls loop_read once per readiness and
 * loop_misc when misc_timeout_ms says: a flood larger than one loop_read reads must
 * arrive whole, without new readiness for the rest (misc_timeout_ms is 0 meanwhile,
 * and loop_misc reads it). */
static void edge_triggered_flood(void) {
    h_fake fk;
    h_fake_listen(&fk);
    flood f = {.fd = -1};
    char id[64];
    mqttc_client *c =
        mqttc_client_new(h_client_id(id, "extflood"), true, &f, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    mqttc_on_message_set(c, on_flood_message);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", fk.port, 60, NULL), MQTTC_ERR_SUCCESS);
    h_fake_accept(&fk, 5000);
    CHECK_RC(mqttc_loop_write(c, 1), MQTTC_ERR_SUCCESS);
    static h_pkt p;
    h_fake_expect(&fk, &p, 1, 5000);
    h_fake_connack(&fk, 0, 0);
    /* Room for more than one loop_read's worth in the kernel, as a busy gateway's
     * socket may have (capped by net.core.rmem_max: the rest of the test does not
     * depend on it, but with it a loop_read that stops at its limit leaves data that
     * no new readiness announces). */
    int rcvbuf = 8 * 1024 * 1024;
    setsockopt(mqttc_socket(c), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    f.fd = fk.fd;
    pthread_t writer;
    CHECK_EQ(pthread_create(&writer, NULL, flood_writer, &f), 0);

    int ep = epoll_create1(0);
    CHECK_GE(ep, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = mqttc_socket(c)};
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, mqttc_socket(c), &ev), 0);
    int64_t deadline = h_now_ms() + 10000 * h_time_scale();
    int reads = 0, misc_reads = 0;
    while (atomic_load(&f.received) < FLOOD_MSGS && h_now_ms() < deadline) {
        int to = mqttc_misc_timeout_ms(c);
        if (to < 0 || to > 1000) to = 1000;
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, to);
        CHECK_MSG(n >= 0 || errno == EINTR, "epoll_wait: %s", strerror(errno));
        if (n == 1) {
            CHECK_RC(mqttc_loop_read(c, 1), MQTTC_ERR_SUCCESS);
            reads++;
        }
        if (mqttc_misc_timeout_ms(c) == 0) {
            misc_reads++;
            CHECK_RC(mqttc_loop_misc(c), MQTTC_ERR_SUCCESS);
        }
    }
    h_log("%d of %d messages; %d loop_read calls, %d loop_misc calls with data left unread",
          atomic_load(&f.received), FLOOD_MSGS, reads, misc_reads);
    CHECK_MSG(atomic_load(&f.received) == FLOOD_MSGS, "the loop stalled at %d of %d messages",
              atomic_load(&f.received), FLOOD_MSGS);
    CHECK_EQ(atomic_load(&f.bad), 0);
    /* The path under test was taken (natively the writer always outpaces the slow
     * consumer; under a sanitizer or valgrind that is not certain). */
    if (h_time_scale() == 1) CHECK_GE(misc_reads, 1);
    CHECK_EQ(pthread_join(writer, NULL), 0);
    close(ep);
    mqttc_client_destroy(c);
    h_fake_close(&fk);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(qos1_round_trip_with_poll, 30),
        H_CASE(keepalive_through_loop_misc, 20),
        H_CASE(lost_connection_and_reconnect, 20),
        H_CASE(edge_triggered_flood, 60),
    };
    return h_main(argc, argv, "test_external_loop", cases, sizeof cases / sizeof cases[0]);
}
