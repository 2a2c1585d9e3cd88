/*
 * Test harness for the mqttc C test suite (tests/c/test_*.c).
 *
 * Every test program includes this header FIRST (it sets the feature macros),
 * lists its cases in an h_case table and hands them to h_main(). Each case runs
 * in a forked child with its own watchdog, so one failing, crashing or hanging
 * case does not hide the others; the program exits non-zero when any case
 * failed and prints "N passed, M failed" as its last line.
 *
 *   ./test_x                 run every case
 *   ./test_x case_name ...   run only the named cases
 *   MQTTC_TEST_NOFORK=1      run cases in-process (for gdb); stops at the first failure
 *   MQTTC_TEST_TIME_SCALE=N  multiply watchdogs and wait timeouts (default 5 under valgrind)
 *
 * Environment (set by scripts/broker.sh / ctest). A case that needs a value that is
 * missing FAILS, it never skips:
 *   MQTTC_TEST_HOST, MQTTC_TEST_PORT         anonymous plain listener
 *   MQTTC_TEST_AUTH_PORT, MQTTC_TEST_USER, MQTTC_TEST_PASS   password listener
 *   MQTTC_TEST_MOSQUITTO                     mosquitto binary for private brokers
 */
#ifndef MQTTC_TESTS_HARNESS_H
#define MQTTC_TESTS_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "mqttc.h"

/* ------------------------------------------------------------------------ */
/* Failure reporting and assertions                                         */
/* ------------------------------------------------------------------------ */

/* Prints "FAIL <case> file:line: message" and ends the case (exit status 1). Safe
 * from any thread, including library callbacks. Kills private brokers first. */
_Noreturn void h_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Informational line, prefixed with the case name. */
void h_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Symbolic name of a result code (own table, independent of the library). */
const char *h_rc_name(int rc);

#define H_FAIL(...) h_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) H_FAIL("CHECK(%s) failed", #cond);                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        if (!(cond)) H_FAIL(__VA_ARGS__);                                        \
    } while (0)

#define H_CMP_(a, op, b)                                                         \
    do {                                                                         \
        long long h_a_ = (long long)(a), h_b_ = (long long)(b);                  \
        if (!(h_a_ op h_b_))                                                     \
            H_FAIL("%s %s %s failed: left = %lld, right = %lld", #a, #op, #b,    \
                   h_a_, h_b_);                                                  \
    } while (0)
#define CHECK_EQ(a, b) H_CMP_(a, ==, b)
#define CHECK_NE(a, b) H_CMP_(a, !=, b)
#define CHECK_LT(a, b) H_CMP_(a, <, b)
#define CHECK_LE(a, b) H_CMP_(a, <=, b)
#define CHECK_GT(a, b) H_CMP_(a, >, b)
#define CHECK_GE(a, b) H_CMP_(a, >=, b)

/* Result-code comparison that prints symbolic names. */
#define CHECK_RC(expr, want)                                                     \
    do {                                                                         \
        int h_got_ = (int)(expr), h_want_ = (int)(want);                         \
        if (h_got_ != h_want_)                                                   \
            H_FAIL("%s returned %d (%s), expected %d (%s)", #expr, h_got_,       \
                   h_rc_name(h_got_), h_want_, h_rc_name(h_want_));              \
    } while (0)

#define CHECK_RC2(expr, w1, w2)                                                  \
    do {                                                                         \
        int h_got_ = (int)(expr), h_w1_ = (int)(w1), h_w2_ = (int)(w2);          \
        if (h_got_ != h_w1_ && h_got_ != h_w2_)                                  \
            H_FAIL("%s returned %d (%s), expected %s or %s", #expr, h_got_,      \
                   h_rc_name(h_got_), h_rc_name(h_w1_), h_rc_name(h_w2_));       \
    } while (0)

#define CHECK_STREQ(a, b)                                                        \
    do {                                                                         \
        const char *h_a_ = (a), *h_b_ = (b);                                     \
        if (h_a_ == NULL || h_b_ == NULL || strcmp(h_a_, h_b_) != 0)             \
            H_FAIL("%s == %s failed: left = \"%s\", right = \"%s\"", #a, #b,     \
                   h_a_ ? h_a_ : "(null)", h_b_ ? h_b_ : "(null)");              \
    } while (0)

/* Byte-wise comparison of two buffers, printing the first difference. */
void h_check_mem(const char *file, int line, const char *what, const void *got,
                 long got_len, const void *want, long want_len);
#define CHECK_MEMEQ(got, got_len, want, want_len)                                \
    h_check_mem(__FILE__, __LINE__, #got, (got), (long)(got_len), (want),        \
                (long)(want_len))

/* ------------------------------------------------------------------------ */
/* Cases and the runner                                                     */
/* ------------------------------------------------------------------------ */

typedef struct h_case {
    const char *name;
    void (*fn)(void);
    int timeout_s; /* watchdog for this case */
} h_case;
#define H_CASE(fn, timeout_s) { #fn, fn, timeout_s }

int h_main(int argc, char **argv, const char *suite, const h_case *cases, size_t ncases);

/* ------------------------------------------------------------------------ */
/* Environment, time, names                                                 */
/* ------------------------------------------------------------------------ */

const char *h_env(const char *name); /* fails the case when unset or empty */
const char *h_host(void);            /* MQTTC_TEST_HOST */
int h_port(void);                    /* MQTTC_TEST_PORT */
int h_auth_port(void);               /* MQTTC_TEST_AUTH_PORT */

int64_t h_now_ms(void);              /* CLOCK_MONOTONIC */
void h_sleep_ms(int ms);

#define H_TOPIC_MAX 256
/* "<unique prefix>/<fmt...>": the prefix holds suite, case, pid and time, so
 * concurrent or repeated runs never see each other's messages. */
char *h_topic(char buf[H_TOPIC_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A client id unique to this run: "mqttc-<pid>-<counter>-<tag>" (at most 23 chars). */
char *h_client_id(char buf[64], const char *tag);
/* A TCP port on 127.0.0.1 that nothing listens on right now. */
int h_free_port(void);

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */
/* ------------------------------------------------------------------------ */

/* Factor applied to watchdogs and wait timeouts: MQTTC_TEST_TIME_SCALE, or 5
 * under valgrind (detected from LD_PRELOAD), else 1. */
int h_time_scale(void);

typedef bool (*h_cond_fn)(void *arg);
/* Polls cond(arg) until it is true or timeout_ms pass (monotonic clock). With
 * drive != NULL each iteration calls mqttc_loop(drive, 50, 1) (no loop thread);
 * otherwise it sleeps 2 ms between polls (a loop_start thread does the work). */
bool wait_until(h_cond_fn cond, void *arg, mqttc_client *drive, int timeout_ms);
/* Same for an atomic flag or counter: waits until *flag >= at_least. */
bool wait_flag(atomic_int *flag, int at_least, mqttc_client *drive, int timeout_ms);
/* Last non-success rc returned by mqttc_loop inside wait_until (diagnostics). */
int h_last_loop_rc(void);

/* ------------------------------------------------------------------------ */
/* Callback recorder (thread-safe)                                          */
/* ------------------------------------------------------------------------ */

typedef enum h_ev_type {
    H_EV_CONNECT,      /* a = flags, b = rc */
    H_EV_CONNECT_FAIL,
    H_EV_DISCONNECT,   /* a = rc */
    H_EV_MESSAGE,      /* msg fields */
    H_EV_MESSAGE_F1,   /* message via h_rec_on_message_f1 (message_callback_add) */
    H_EV_MESSAGE_F2,   /* message via h_rec_on_message_f2 */
    H_EV_PUBLISH,      /* a = mid */
    H_EV_SUBSCRIBE,    /* a = mid, b = qos_count, granted[] */
    H_EV_UNSUBSCRIBE,  /* a = mid */
    H_EV_LOG,          /* a = level, text */
    H_EV_SOCK_OPEN,    /* a = fd */
    H_EV_SOCK_CLOSE,   /* a = fd */
    H_EV_SOCK_REG_W,   /* a = fd */
    H_EV_SOCK_UNREG_W, /* a = fd */
    /* MQTT 5 callbacks (H_CB_V5): each also records the plain event above */
    H_EV_CONNECT5,     /* a = flags, b = reason code, props */
    H_EV_DISCONNECT5,  /* a = rc, b = reason code, props */
    H_EV_PUBLISH5,     /* a = mid, b = reason code, props */
    H_EV_SUBSCRIBE5,   /* a = mid, b = count, granted[] = reason codes, props */
    H_EV_UNSUBSCRIBE5, /* a = mid, b = count, granted[] = reason codes, props */
    H_EV_AUTH,         /* a = reason code, props */
    H_EV_COUNT
} h_ev_type;

typedef struct h_event {
    h_ev_type type;
    uint64_t seq;          /* global order across all types of one recorder */
    int64_t t_ms;          /* h_now_ms() when recorded */
    mqttc_client *client;  /* as passed to the callback */
    void *userdata;        /* as passed to the callback */
    pthread_t thread;      /* thread the callback ran on */
    int a, b;
    int *granted;          /* subscribe: copy of granted_qos[b] */
    /* message: deep copy made inside the callback */
    int mid;
    char *topic;
    unsigned char *payload; /* payloadlen bytes (+ NUL), never NULL once recorded */
    int payloadlen;
    int qos;
    bool retain, dup;
    bool payload_was_null;  /* the library passed payload == NULL */
    char *text;             /* log line copy */
    /* MQTT 5: copy of the properties the callback got (messages too); NULL when it got
     * NULL (props_null) */
    mqttc_properties *props;
    bool props_null;
} h_event;

#define H_REC_MAGIC 0x7265635fu
typedef struct h_rec {
    unsigned magic;
    pthread_mutex_t mu;
    h_event *ev[H_EV_COUNT];
    int n[H_EV_COUNT], cap[H_EV_COUNT];
    uint64_t seq;
    int in_callback;      /* callbacks currently running (must never exceed 1) */
    int max_in_callback;
    void *ctx;            /* free for the test */
} h_rec;

void h_rec_init(h_rec *r);
void h_rec_free(h_rec *r);

#define H_CB_BASIC   0x1u /* connect, connect_fail, disconnect, message, publish, subscribe, unsubscribe */
#define H_CB_LOG     0x2u
#define H_CB_SOCKETS 0x4u
#define H_CB_V5      0x8u /* the _v5 callbacks and on_auth (with H_CB_BASIC: message too) */
/* Sets the recorder callbacks on c; the client's userdata must be an h_rec. */
void h_rec_attach(mqttc_client *c, unsigned which);

int h_rec_count(h_rec *r, h_ev_type t);
/* Shallow copy of the idx-th event of type t (pointers stay valid until h_rec_free). */
bool h_rec_get(h_rec *r, h_ev_type t, int idx, h_event *out);
/* Waits until at least n events of type t were recorded. */
bool h_rec_wait(h_rec *r, h_ev_type t, int n, mqttc_client *drive, int timeout_ms);
/* Number of recorded events of type t with a == value (e.g. publish mids). */
int h_rec_count_a(h_rec *r, h_ev_type t, int value);
/* Number of recorded messages (H_EV_MESSAGE*) of type t with this topic. */
int h_rec_count_topic(h_rec *r, h_ev_type t, const char *topic);

/* The recorder callbacks, public so tests can wrap them. */
void h_rec_on_connect(mqttc_client *c, void *ud, int flags, int rc);
void h_rec_on_connect_fail(mqttc_client *c, void *ud);
void h_rec_on_disconnect(mqttc_client *c, void *ud, int rc);
void h_rec_on_message(mqttc_client *c, void *ud, const mqttc_message *msg);
void h_rec_on_message_f1(mqttc_client *c, void *ud, const mqttc_message *msg);
void h_rec_on_message_f2(mqttc_client *c, void *ud, const mqttc_message *msg);
void h_rec_on_publish(mqttc_client *c, void *ud, int mid);
void h_rec_on_subscribe(mqttc_client *c, void *ud, int mid, int qos_count, const int *granted);
void h_rec_on_unsubscribe(mqttc_client *c, void *ud, int mid);
void h_rec_on_log(mqttc_client *c, void *ud, int level, const char *buf);
void h_rec_on_socket_open(mqttc_client *c, void *ud, int sock);
void h_rec_on_socket_close(mqttc_client *c, void *ud, int sock);
void h_rec_on_socket_register_write(mqttc_client *c, void *ud, int sock);
void h_rec_on_socket_unregister_write(mqttc_client *c, void *ud, int sock);
void h_rec_on_connect_v5(mqttc_client *c, void *ud, int flags, int reason, const mqttc_properties *p);
void h_rec_on_disconnect_v5(mqttc_client *c, void *ud, int rc, int reason, const mqttc_properties *p);
void h_rec_on_publish_v5(mqttc_client *c, void *ud, int mid, int reason, const mqttc_properties *p);
void h_rec_on_subscribe_v5(mqttc_client *c, void *ud, int mid, int count, const int *codes,
                           const mqttc_properties *p);
void h_rec_on_unsubscribe_v5(mqttc_client *c, void *ud, int mid, int count, const int *codes,
                             const mqttc_properties *p);
void h_rec_on_auth(mqttc_client *c, void *ud, int reason, const mqttc_properties *p);

/* Property list shortcuts for tests (fail the case on error). */
mqttc_properties *h_props(void);                                 /* new, empty */
void h_prop_int(mqttc_properties *p, int id, uint32_t v);
void h_prop_str(mqttc_properties *p, int id, const char *v);
void h_prop_bin(mqttc_properties *p, int id, const void *data, int len);
void h_prop_user(mqttc_properties *p, const char *name, const char *value);
/* The n-th value of id in p, or -1 / NULL when absent. */
long long h_get_int(const mqttc_properties *p, int id, int n);
const char *h_get_str(const mqttc_properties *p, int id, int n);

/* ------------------------------------------------------------------------ */
/* Client shortcuts (each fails the case on error)                          */
/* ------------------------------------------------------------------------ */

/* New V3.1.1 TCP client with userdata = rec and the basic recorder callbacks.
 * tag NULL: no client id. */
#define h_client(tag, clean_session, rec) h_client_at(__FILE__, __LINE__, tag, clean_session, rec)
/* connect(host, port, keepalive 30), loop_start when threaded, waits for
 * on_connect with rc 0 (5 s). Returns the CONNACK flags. */
#define h_connect(c, rec, port, threaded) h_connect_at(__FILE__, __LINE__, c, rec, port, threaded)
/* disconnect, waits for on_disconnect (rc 0), loop_stop when threaded. */
#define h_disconnect(c, rec, threaded) h_disconnect_at(__FILE__, __LINE__, c, rec, threaded)
/* subscribe and wait for the matching on_subscribe; returns the granted qos. */
#define h_subscribe(c, rec, topic, qos, threaded) \
    h_subscribe_at(__FILE__, __LINE__, c, rec, topic, qos, threaded)

mqttc_client *h_client_at(const char *file, int line, const char *tag, bool clean_session, h_rec *rec);
/* The same for an MQTT 5 client, with the basic and the _v5 recorder callbacks. */
#define h_client5(tag, clean_start, rec) h_client5_at(__FILE__, __LINE__, tag, clean_start, rec)
mqttc_client *h_client5_at(const char *file, int line, const char *tag, bool clean_start, h_rec *rec);
int h_connect_at(const char *file, int line, mqttc_client *c, h_rec *rec, int port, bool threaded);
void h_disconnect_at(const char *file, int line, mqttc_client *c, h_rec *rec, bool threaded);
int h_subscribe_at(const char *file, int line, mqttc_client *c, h_rec *rec, const char *topic,
                   int qos, bool threaded);

/* ------------------------------------------------------------------------ */
/* Private broker (MQTTC_TEST_MOSQUITTO on a free port)                     */
/* ------------------------------------------------------------------------ */

typedef struct h_broker {
    pid_t pid;          /* 0 when not running */
    int port;
    bool persistence;
    char dir[96];       /* temp dir: mosquitto.conf, mosquitto.db, mosquitto.log */
    char extra_conf[512];
} h_broker;

/* Start with a fresh temp dir and a free port; waits until it accepts (5 s). */
void h_broker_start(h_broker *b, bool persistence);
/* The same with extra mosquitto.conf lines (kept for h_broker_restart). */
void h_broker_start_conf(h_broker *b, bool persistence, const char *extra_conf);
void h_broker_stop(h_broker *b);    /* SIGTERM (persists its db), waits for exit */
void h_broker_kill(h_broker *b);    /* SIGKILL, waits for exit */
void h_broker_restart(h_broker *b); /* start again, same port and dir */
void h_broker_cleanup(h_broker *b); /* kill if running, remove the dir */

/* ------------------------------------------------------------------------ */
/* Will child: a separate process that connects with a will and _exit()s     */
/* without DISCONNECT once CONNACK arrived.                                  */
/* ------------------------------------------------------------------------ */

typedef struct h_will_child {
    int port;
    const char *topic;
    const void *payload;
    int payloadlen;
    int qos;
    bool retain;
    bool clear_will; /* will_set then will_clear before connecting */
} h_will_child;
/* Returns once the child has connected and exited abruptly (fails otherwise). */
void h_will_child_run(const h_will_child *w);

/* ------------------------------------------------------------------------ */
/* Raw MQTT over TCP, for a scripted fake broker                             */
/* ------------------------------------------------------------------------ */

int h_listen(int *port_out);                 /* listening socket on 127.0.0.1:0 */
int h_accept(int lfd, int timeout_ms);       /* fd, or -1 on timeout */

typedef struct h_pkt {
    int type;              /* high nibble of the first byte */
    int flags;             /* low nibble */
    int len;               /* remaining length */
    unsigned char body[8192];
    /* PUBLISH only */
    int qos;
    bool dup, retain;
    int packet_id;         /* PUBLISH qos>0, PUBACK.., SUBSCRIBE.. */
    char topic[256];
} h_pkt;
/* 1: packet read; 0: nothing arrived within timeout_ms; -1: EOF or error. */
int h_pkt_read(int fd, h_pkt *p, int timeout_ms);
void h_pkt_write(int fd, const void *buf, size_t n); /* fails the case on error */
/* One read of whatever is there: bytes read, 0 on timeout, -1 on EOF or error. */
ssize_t h_pkt_read_raw(int fd, void *buf, size_t n, int timeout_ms);

/* A scripted broker: listens on 127.0.0.1, accepts one client at a time. */
typedef struct h_fake {
    int lfd, fd, port;
    bool answer_ping; /* answer PINGREQ with PINGRESP by itself (default true) */
    int pings;        /* PINGREQs answered */
} h_fake;
void h_fake_listen(h_fake *f);
void h_fake_accept(h_fake *f, int timeout_ms);          /* fails when nobody connects */
int h_fake_read(h_fake *f, h_pkt *p, int timeout_ms);   /* as h_pkt_read, PINGREQ handled */
int h_fake_expect(h_fake *f, h_pkt *p, int type, int timeout_ms); /* fails otherwise; returns packet id */
void h_fake_ack(h_fake *f, int type, int id);           /* PUBACK 4, PUBREC 5, PUBREL 6, PUBCOMP 7, ... */
void h_fake_connack(h_fake *f, int flags, int rc);
void h_fake_drop(h_fake *f);                            /* close the client's connection */
void h_fake_close(h_fake *f);                           /* and the listener */

/* ------------------------------------------------------------------------ */
/* Fault-injection proxy (harness_proxy.c): listens on a free 127.0.0.1 port  */
/* and forwards each connection to 127.0.0.1:upstream_port from one thread.  */
/* ------------------------------------------------------------------------ */

typedef enum h_proxy_mode {
    H_PROXY_FORWARD, /* move bytes as fast as they come */
    H_PROXY_STALL,   /* move nothing (bytes stay in the kernel buffers) */
    H_PROXY_SLOW,    /* at most bytes_per_sec in each direction of each connection */
    H_PROXY_DOWN,    /* new connections are accepted and reset at once */
} h_proxy_mode;

typedef struct h_proxy h_proxy;
h_proxy *h_proxy_start(int upstream_port);
int h_proxy_port(const h_proxy *p);
/* Takes effect at once for every connection; bytes_per_sec only for H_PROXY_SLOW. */
void h_proxy_set_mode(h_proxy *p, h_proxy_mode mode, int bytes_per_sec);
/* Resets (RST) every current connection on both sides; returns once done. */
void h_proxy_cut(h_proxy *p);
int h_proxy_accepted(h_proxy *p); /* connections accepted so far */
void h_proxy_stop(h_proxy *p);    /* cuts everything, frees; NULL ok */

/* Internal, shared between the harness files. */
void h__broker_register(pid_t pid);
void h__broker_unregister(pid_t pid);
void h__broker_dir_register(const char *dir);   /* removed by h_fail / the watchdog */
void h__broker_dir_unregister(const char *dir);
const char *h__self_exe(void);
int h__will_child_main(int argc, char **argv);

#endif
