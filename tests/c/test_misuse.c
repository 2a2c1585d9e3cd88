/* API misuse that a C program can commit without meaning to, each with a defined,
 * documented outcome (include/mqttc.h), none of which may crash or hang:
 *  - mqttc_client_destroy from another thread while the loop_start thread is inside a
 *    callback: waits for the callback to return;
 *  - mqttc_client_destroy from inside a callback, on the loop_start thread and inside
 *    mqttc_loop on the caller's thread: no further callback, the call that ran the
 *    callback returns, nothing is touched after being freed (valgrind/ASan passes);
 *  - mqttc_loop_stop from inside a callback, then mqttc_loop_start again (also from
 *    inside the same callback): never two loop threads, never concurrent callbacks;
 *  - mqttc_disconnect from another thread while mqttc_connect (or the loop thread's
 *    connect) is in progress: the connect is cancelled, the client never connects.
 * NULL and invalid arguments are test_bad_args' business. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Number of this process's threads named like the library's loop thread. */
static int loop_threads(void) {
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[300], comm[64] = "";
        snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(p, "r");
        if (f == NULL) continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "mqttc-loop", 10) == 0) n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static bool no_loop_thread(void *arg) {
    (void)arg;
    return loop_threads() == 0;
}

/* A fake broker with a connected client on loop_start (or not), CONNACK seen. */
typedef struct fx {
    h_fake f;
    h_rec rec;
    mqttc_client *c;
    atomic_int in_cb, cb_done, after_destroy;
    atomic_int running, max_running; /* callbacks running at once */
    int sleep_ms;
} fx;

static void fx_start(fx *x, bool threaded, mqttc_on_message_cb on_message) {
    h_fake_listen(&x->f);
    h_rec_init(&x->rec);
    x->rec.ctx = x;
    x->c = h_client("misuse", true, &x->rec);
    if (on_message) mqttc_on_message_set(x->c, on_message);
    CHECK_RC(mqttc_reconnect_on_failure_set(x->c, false), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(x->c, "127.0.0.1", x->f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    if (threaded) CHECK_RC(mqttc_loop_start(x->c), MQTTC_ERR_SUCCESS);
    h_fake_accept(&x->f, 5000);
    static h_pkt p;
    if (!threaded) CHECK_RC(mqttc_loop(x->c, 100, 1), MQTTC_ERR_SUCCESS); /* writes CONNECT */
    h_fake_expect(&x->f, &p, 1, 5000);
    h_fake_connack(&x->f, 0, 0);
    CHECK(h_rec_wait(&x->rec, H_EV_CONNECT, 1, threaded ? NULL : x->c, 5000));
}

/* n QoS 0 PUBLISH packets in one write (the client may close after the first). */
static void fx_publish(fx *x, int n) {
    static const unsigned char pub[] = {0x30, 4, 0, 1, 'm', 'x'};
    unsigned char buf[10 * sizeof pub];
    CHECK(n <= 10);
    for (int i = 0; i < n; i++) memcpy(buf + i * sizeof pub, pub, sizeof pub);
    h_pkt_write(x->f.fd, buf, (size_t)n * sizeof pub);
}

/* ---- destroy from another thread while a callback runs ---- */

static void slow_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_rec *r = ud;
    fx *x = r->ctx;
    h_rec_on_message(c, ud, m);
    atomic_store(&x->in_cb, 1);
    h_sleep_ms(x->sleep_ms);
    atomic_store(&x->cb_done, 1);
}

static void destroy_waits_for_callback(void) {
    static fx x;
    memset(&x, 0, sizeof x);
    x.sleep_ms = 500;
    fx_start(&x, true, slow_on_message);
    fx_publish(&x, 3);
    CHECK(wait_flag(&x.in_cb, 1, NULL, 5000));
    int64_t t0 = h_now_ms();
    mqttc_client_destroy(x.c);
    int64_t dt = h_now_ms() - t0;
    CHECK_MSG(atomic_load(&x.cb_done) == 1, "destroy returned while the callback was still running");
    CHECK_LT(dt, 3000 * h_time_scale());
    CHECK_EQ(h_rec_count(&x.rec, H_EV_MESSAGE), 1); /* no callback after destroy */
    CHECK(wait_until(no_loop_thread, NULL, NULL, 2000));
    /* closed without DISCONNECT */
    static h_pkt p;
    CHECK_EQ(h_fake_read(&x.f, &p, 2000), -1);
    h_rec_free(&x.rec);
    h_fake_close(&x.f);
}

/* ---- destroy from inside a callback ---- */

static void destroying_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_rec *r = ud;
    fx *x = r->ctx;
    h_rec_on_message(c, ud, m);
    if (atomic_fetch_add(&x->in_cb, 1) == 0) {
        mqttc_client_destroy(c);
        atomic_store(&x->cb_done, 1);
    } else {
        atomic_store(&x->after_destroy, 1);
    }
}

/* After a callback destroyed the client: no callback ran after the destroy, one
 * message was delivered, and the socket was closed without DISCONNECT. */
static void fx_end_destroyed(fx *x) {
    CHECK_EQ(atomic_load(&x->after_destroy), 0);
    CHECK_EQ(h_rec_count(&x->rec, H_EV_MESSAGE), 1);
    static h_pkt p;
    CHECK_EQ(h_fake_read(&x->f, &p, 2000), -1); /* socket closed, no DISCONNECT */
}

static void destroy_inside_callback_threaded(void) {
    static fx x;
    memset(&x, 0, sizeof x);
    fx_start(&x, true, destroying_on_message);
    fx_publish(&x, 5); /* five messages in one read: four must not be delivered */
    CHECK(wait_flag(&x.cb_done, 1, NULL, 5000));
    CHECK(wait_until(no_loop_thread, NULL, NULL, 3000));
    CHECK_EQ(h_rec_count(&x.rec, H_EV_DISCONNECT), 0);
    fx_end_destroyed(&x);
    h_rec_free(&x.rec);
    h_fake_close(&x.f);
}

static void destroy_inside_callback_driven(void) {
    static fx x;
    memset(&x, 0, sizeof x);
    fx_start(&x, false, destroying_on_message);
    fx_publish(&x, 5);
    h_sleep_ms(50);
    /* the call that runs the callback returns (SUCCESS or NO_CONN); c is gone after */
    int64_t t0 = h_now_ms();
    while (atomic_load(&x.cb_done) == 0) {
        int rc = mqttc_loop(x.c, 100, 1);
        CHECK_RC2(rc, MQTTC_ERR_SUCCESS, MQTTC_ERR_NO_CONN);
        CHECK_LT(h_now_ms() - t0, 5000);
    }
    fx_end_destroyed(&x);
    h_rec_free(&x.rec);
    h_fake_close(&x.f);
}

static void destroy_inside_callback_loop_forever(void) {
    static fx x;
    memset(&x, 0, sizeof x);
    fx_start(&x, false, destroying_on_message);
    fx_publish(&x, 5);
    /* loop_forever on this thread must return once its callback destroyed the client
     * (it must not reconnect a destroyed client) */
    int64_t t0 = h_now_ms();
    int rc = mqttc_loop_forever(x.c, 100, 1, true);
    CHECK_RC2(rc, MQTTC_ERR_SUCCESS, MQTTC_ERR_NO_CONN);
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());
    CHECK_EQ(atomic_load(&x.cb_done), 1);
    fx_end_destroyed(&x);
    CHECK_MSG(h_accept(x.f.lfd, 1500) < 0, "the destroyed client connected again");
    h_rec_free(&x.rec);
    h_fake_close(&x.f);
}

/* ---- loop_stop (and loop_start) from inside a callback ---- */

static void stopping_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    h_rec *r = ud;
    fx *x = r->ctx;
    int now = atomic_fetch_add(&x->running, 1) + 1;
    if (now > atomic_load(&x->max_running)) atomic_store(&x->max_running, now);
    h_rec_on_message(c, ud, m);
    int n = atomic_fetch_add(&x->in_cb, 1);
    if (n == 0) {
        /* stop: returns at once, the thread leaves after this callback */
        if (mqttc_loop_stop(c, false) != MQTTC_ERR_SUCCESS) atomic_store(&x->after_destroy, 100);
    } else if (n == 1) {
        /* stop and start again from the same callback */
        if (mqttc_loop_stop(c, false) != MQTTC_ERR_SUCCESS) atomic_store(&x->after_destroy, 101);
        if (mqttc_loop_start(c) != MQTTC_ERR_SUCCESS) atomic_store(&x->after_destroy, 102);
        h_sleep_ms(100); /* the old thread is still in here while the new one starts */
    }
    atomic_store(&x->cb_done, n + 1);
    atomic_fetch_sub(&x->running, 1);
}

static void loop_stop_inside_callback(void) {
    static fx x;
    memset(&x, 0, sizeof x);
    fx_start(&x, true, stopping_on_message);
    fx_publish(&x, 1);
    CHECK(wait_flag(&x.cb_done, 1, NULL, 5000));
    CHECK_MSG(wait_until(no_loop_thread, NULL, NULL, 3000), "the loop thread did not end after loop_stop in a callback");
    /* nobody reads now: a second message is not delivered */
    fx_publish(&x, 1);
    h_sleep_ms(200);
    CHECK_EQ(h_rec_count(&x.rec, H_EV_MESSAGE), 1);
    CHECK_RC(mqttc_loop_stop(x.c, false), MQTTC_ERR_INVAL); /* no thread any more */
    /* start again from here: the message waiting is delivered; that callback stops and
     * restarts the thread */
    CHECK_RC(mqttc_loop_start(x.c), MQTTC_ERR_SUCCESS);
    CHECK(wait_flag(&x.cb_done, 2, NULL, 5000));
    h_sleep_ms(300);
    CHECK_EQ(atomic_load(&x.after_destroy), 0);
    CHECK_MSG(loop_threads() == 1, "%d loop threads after loop_stop + loop_start in a callback", loop_threads());
    fx_publish(&x, 3);
    CHECK(h_rec_wait(&x.rec, H_EV_MESSAGE, 5, NULL, 5000));
    CHECK_EQ(atomic_load(&x.max_running), 1);
    CHECK_RC(mqttc_disconnect(x.c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&x.rec, H_EV_DISCONNECT, 1, NULL, 5000));
    CHECK_RC(mqttc_loop_stop(x.c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(x.c);
    CHECK(wait_until(no_loop_thread, NULL, NULL, 2000));
    h_rec_free(&x.rec);
    h_fake_close(&x.f);
}

/* ---- disconnect during a connect ---- */

/* A listener whose accept queue is full: a new TCP connect to it stays in SYN_SENT
 * (Linux drops the SYN) until a place frees up and the SYN is retransmitted (1 s). */
typedef struct jam {
    h_fake f;
    int fillers[4];
    int n;
} jam;

static int connect_nb(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, (struct sockaddr *)&a, sizeof a);
    return fd;
}

static void jam_start(jam *j) {
    memset(j, 0, sizeof *j);
    h_fake_listen(&j->f);
    CHECK_EQ(listen(j->f.lfd, 0), 0); /* an accept queue of one */
    for (j->n = 0; j->n < 2; j->n++) j->fillers[j->n] = connect_nb(j->f.port);
    h_sleep_ms(50);
}

/* Frees the queue: accepts and closes the fillers (whatever comes first). */
static void jam_release(jam *j) {
    for (int i = 0; i < j->n; i++) {
        int fd = h_accept(j->f.lfd, 100);
        if (fd >= 0) close(fd);
        close(j->fillers[i]);
    }
    j->n = 0;
}

typedef struct connect_call {
    mqttc_client *c;
    int port, rc, err;
    int64_t took;
    atomic_int done;
} connect_call;

static void *do_connect(void *arg) {
    connect_call *cc = arg;
    int64_t t0 = h_now_ms();
    errno = 0;
    cc->rc = mqttc_connect(cc->c, "127.0.0.1", cc->port, 60, NULL);
    cc->err = errno;
    cc->took = h_now_ms() - t0;
    atomic_store(&cc->done, 1);
    return NULL;
}

static void disconnect_during_connect(void) {
    jam j;
    jam_start(&j);
    h_rec rec;
    h_rec_init(&rec);
    connect_call cc = {h_client("jam", true, &rec), j.f.port, -99, 0, 0, 0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, do_connect, &cc), 0);
    h_sleep_ms(300); /* the connect is stuck in SYN_SENT */
    CHECK_EQ(atomic_load(&cc.done), 0);
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_disconnect(cc.c), MQTTC_ERR_SUCCESS); /* a connect was in progress */
    CHECK_LT(h_now_ms() - t0, 500 * h_time_scale());
    jam_release(&j); /* now the connect can complete ... */
    pthread_join(th, NULL);
    h_log("mqttc_connect returned %d (%s), errno %d (%s) after %lld ms", cc.rc, h_rc_name(cc.rc), cc.err,
          strerror(cc.err), (long long)cc.took);
    /* ... and is cancelled: the socket closed unused */
    CHECK_RC(cc.rc, MQTTC_ERR_ERRNO);
    CHECK_EQ(cc.err, ECANCELED);
    CHECK_EQ(mqttc_socket(cc.c), -1);
    CHECK_RC(mqttc_loop(cc.c, 10, 1), MQTTC_ERR_NO_CONN);
    int fd = h_accept(j.f.lfd, 3000);
    if (fd >= 0) {
        static h_pkt p;
        CHECK_EQ(h_pkt_read(fd, &p, 1000), -1); /* no CONNECT, closed */
        close(fd);
    }
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 0);
    mqttc_client_destroy(cc.c);
    h_rec_free(&rec);
    h_fake_close(&j.f);
}

static void disconnect_during_loop_thread_connect(void) {
    jam j;
    jam_start(&j);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("jamloop", true, &rec);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", j.f.port, 60, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    h_sleep_ms(300);
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_disconnect(c), MQTTC_ERR_SUCCESS);
    CHECK_LT(h_now_ms() - t0, 500 * h_time_scale());
    jam_release(&j);
    /* the loop thread ends by itself (disconnect ends it), never connected */
    CHECK_MSG(wait_until(no_loop_thread, NULL, NULL, 6000), "the loop thread did not end after disconnect");
    int fd = h_accept(j.f.lfd, 2000);
    if (fd >= 0) {
        static h_pkt p;
        CHECK_EQ(h_pkt_read(fd, &p, 1000), -1);
        close(fd);
    }
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT_FAIL), 0);
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_fake_close(&j.f);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(destroy_waits_for_callback, 20),
        H_CASE(destroy_inside_callback_threaded, 20),
        H_CASE(destroy_inside_callback_driven, 20),
        H_CASE(destroy_inside_callback_loop_forever, 20),
        H_CASE(loop_stop_inside_callback, 20),
        H_CASE(disconnect_during_connect, 20),
        H_CASE(disconnect_during_loop_thread_connect, 20),
    };
    return h_main(argc, argv, "test_misuse", cases, sizeof cases / sizeof cases[0]);
}
