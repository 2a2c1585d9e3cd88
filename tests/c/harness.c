/* Test harness for the mqttc C tests: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* State of the running case                                                */
/* ------------------------------------------------------------------------ */

static const char *g_suite = "?";
static const char *g_case = "(runner)";
static char g_prefix[160];
static char g_self_exe[4096];
static atomic_int g_id_counter;
static atomic_int g_last_loop_rc;
static int g_scale = 1; /* timeouts are multiplied by this (valgrind is slow) */

#define H_MAX_BROKERS 8
static volatile pid_t g_brokers[H_MAX_BROKERS];

void h__broker_register(pid_t pid) {
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (g_brokers[i] == 0) {
            g_brokers[i] = pid;
            return;
        }
}

void h__broker_unregister(pid_t pid) {
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (g_brokers[i] == pid) g_brokers[i] = 0;
}

/* async-signal-safe */
const char *h__self_exe(void) { return g_self_exe; }

static void brokers_kill_all(void) {
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (g_brokers[i] > 0) kill(g_brokers[i], SIGKILL);
}

/* ------------------------------------------------------------------------ */
/* Failure reporting                                                        */
/* ------------------------------------------------------------------------ */

void h_fail(const char *file, int line, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL [%s/%s] %s:%d: %s\n", g_suite, g_case, file, line, msg);
    brokers_kill_all();
    _exit(1);
}

void h_log(const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "  [%s] %s\n", g_case, msg);
}

const char *h_rc_name(int rc) {
    static const char *const names[] = {
        "MQTTC_ERR_AGAIN",        "MQTTC_ERR_SUCCESS",       "MQTTC_ERR_NOMEM",
        "MQTTC_ERR_PROTOCOL",     "MQTTC_ERR_INVAL",         "MQTTC_ERR_NO_CONN",
        "MQTTC_ERR_CONN_REFUSED", "MQTTC_ERR_NOT_FOUND",     "MQTTC_ERR_CONN_LOST",
        "MQTTC_ERR_TLS",          "MQTTC_ERR_PAYLOAD_SIZE",  "MQTTC_ERR_NOT_SUPPORTED",
        "MQTTC_ERR_AUTH",         "MQTTC_ERR_ACL_DENIED",    "MQTTC_ERR_UNKNOWN",
        "MQTTC_ERR_ERRNO",        "MQTTC_ERR_QUEUE_SIZE",    "MQTTC_ERR_KEEPALIVE",
    };
    if (rc >= -1 && rc <= 16) return names[rc + 1];
    return "(not a result code)";
}

void h_check_mem(const char *file, int line, const char *what, const void *got,
                 long got_len, const void *want, long want_len) {
    if (got_len != want_len)
        h_fail(file, line, "%s: length %ld, expected %ld", what, got_len, want_len);
    if (got_len == 0) return;
    if (got == NULL) h_fail(file, line, "%s: NULL pointer for %ld bytes", what, got_len);
    const unsigned char *g = got, *w = want;
    for (long i = 0; i < got_len; i++)
        if (g[i] != w[i])
            h_fail(file, line, "%s: byte %ld is 0x%02x, expected 0x%02x (length %ld)", what,
                   i, g[i], w[i], got_len);
}

/* ------------------------------------------------------------------------ */
/* Environment, time, names                                                 */
/* ------------------------------------------------------------------------ */

const char *h_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        H_FAIL("environment variable %s is not set: run the C tests through ctest "
               "after scripts/broker.sh start (a test that needs the broker fails, "
               "it does not skip)",
               name);
    return v;
}

static int env_port(const char *name) {
    const char *v = h_env(name);
    char *end;
    long p = strtol(v, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) H_FAIL("%s=\"%s\" is not a port number", name, v);
    return (int)p;
}

const char *h_host(void) { return h_env("MQTTC_TEST_HOST"); }
int h_port(void) { return env_port("MQTTC_TEST_PORT"); }
int h_auth_port(void) { return env_port("MQTTC_TEST_AUTH_PORT"); }

int64_t h_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *h_topic(char buf[H_TOPIC_MAX], const char *fmt, ...) {
    int n = snprintf(buf, H_TOPIC_MAX, "%s/", g_prefix);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, (size_t)(H_TOPIC_MAX - n), fmt, ap);
    va_end(ap);
    if (n < 0 || m < 0 || n + m >= H_TOPIC_MAX) H_FAIL("topic too long for H_TOPIC_MAX");
    return buf;
}

char *h_client_id(char buf[64], const char *tag) {
    int n = atomic_fetch_add(&g_id_counter, 1);
    snprintf(buf, 64, "mq%d-%ld-%d-%s", (int)getpid(), (long)(time(NULL) % 100000), n, tag);
    return buf;
}

int h_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) H_FAIL("socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) H_FAIL("bind: %s", strerror(errno));
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) H_FAIL("getsockname: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */
/* ------------------------------------------------------------------------ */

int h_last_loop_rc(void) { return atomic_load(&g_last_loop_rc); }

int h_time_scale(void) { return g_scale; }

bool wait_until(h_cond_fn cond, void *arg, mqttc_client *drive, int timeout_ms) {
    int64_t deadline = h_now_ms() + (int64_t)timeout_ms * g_scale;
    for (;;) {
        if (cond(arg)) return true;
        if (h_now_ms() >= deadline) return cond(arg);
        if (drive != NULL) {
            int rc = mqttc_loop(drive, 50, 1);
            if (rc != MQTTC_ERR_SUCCESS) {
                atomic_store(&g_last_loop_rc, rc);
                h_sleep_ms(10);
            }
        } else {
            h_sleep_ms(2);
        }
    }
}

struct flag_arg {
    atomic_int *flag;
    int at_least;
};
static bool flag_cond(void *p) {
    struct flag_arg *a = p;
    return atomic_load(a->flag) >= a->at_least;
}
bool wait_flag(atomic_int *flag, int at_least, mqttc_client *drive, int timeout_ms) {
    struct flag_arg a = {flag, at_least};
    return wait_until(flag_cond, &a, drive, timeout_ms);
}

/* ------------------------------------------------------------------------ */
/* Recorder                                                                 */
/* ------------------------------------------------------------------------ */

void h_rec_init(h_rec *r) {
    memset(r, 0, sizeof *r);
    r->magic = H_REC_MAGIC;
    pthread_mutex_init(&r->mu, NULL);
}

void h_rec_free(h_rec *r) {
    if (r->magic != H_REC_MAGIC) return;
    for (int t = 0; t < H_EV_COUNT; t++) {
        for (int i = 0; i < r->n[t]; i++) {
            free(r->ev[t][i].granted);
            free(r->ev[t][i].topic);
            free(r->ev[t][i].payload);
            free(r->ev[t][i].text);
        }
        free(r->ev[t]);
    }
    pthread_mutex_destroy(&r->mu);
    r->magic = 0;
}

static h_rec *rec_of(void *ud, const char *cb) {
    h_rec *r = ud;
    if (r == NULL || r->magic != H_REC_MAGIC)
        H_FAIL("%s: userdata %p is not the h_rec the test registered", cb, ud);
    return r;
}

/* Appends *e (ownership of its allocations moves to the recorder). */
static void rec_push(h_rec *r, h_event *e) {
    e->t_ms = h_now_ms();
    e->thread = pthread_self();
    pthread_mutex_lock(&r->mu);
    int t = e->type;
    if (r->n[t] == r->cap[t]) {
        int cap = r->cap[t] ? r->cap[t] * 2 : 16;
        h_event *nv = realloc(r->ev[t], (size_t)cap * sizeof *nv);
        if (nv == NULL) H_FAIL("out of memory in recorder");
        r->ev[t] = nv;
        r->cap[t] = cap;
    }
    e->seq = ++r->seq;
    r->ev[t][r->n[t]++] = *e;
    pthread_mutex_unlock(&r->mu);
}

static void rec_simple(mqttc_client *c, void *ud, h_ev_type t, int a, int b, const char *cb) {
    h_rec *r = rec_of(ud, cb);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    e.client = c;
    e.userdata = ud;
    e.a = a;
    e.b = b;
    rec_push(r, &e);
}

void h_rec_on_connect(mqttc_client *c, void *ud, int flags, int rc) {
    rec_simple(c, ud, H_EV_CONNECT, flags, rc, "on_connect");
}
void h_rec_on_connect_fail(mqttc_client *c, void *ud) {
    rec_simple(c, ud, H_EV_CONNECT_FAIL, 0, 0, "on_connect_fail");
}
void h_rec_on_disconnect(mqttc_client *c, void *ud, int rc) {
    rec_simple(c, ud, H_EV_DISCONNECT, rc, 0, "on_disconnect");
}
void h_rec_on_publish(mqttc_client *c, void *ud, int mid) {
    rec_simple(c, ud, H_EV_PUBLISH, mid, 0, "on_publish");
}
void h_rec_on_unsubscribe(mqttc_client *c, void *ud, int mid) {
    rec_simple(c, ud, H_EV_UNSUBSCRIBE, mid, 0, "on_unsubscribe");
}
void h_rec_on_socket_open(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_OPEN, sock, 0, "on_socket_open");
}
void h_rec_on_socket_close(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_CLOSE, sock, 0, "on_socket_close");
}
void h_rec_on_socket_register_write(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_REG_W, sock, 0, "on_socket_register_write");
}
void h_rec_on_socket_unregister_write(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_UNREG_W, sock, 0, "on_socket_unregister_write");
}

void h_rec_on_subscribe(mqttc_client *c, void *ud, int mid, int qos_count, const int *granted) {
    h_rec *r = rec_of(ud, "on_subscribe");
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = H_EV_SUBSCRIBE;
    e.client = c;
    e.userdata = ud;
    e.a = mid;
    e.b = qos_count;
    if (qos_count < 0 || qos_count > 1000) H_FAIL("on_subscribe: qos_count %d", qos_count);
    if (qos_count > 0) {
        if (granted == NULL) H_FAIL("on_subscribe: granted_qos NULL with qos_count %d", qos_count);
        e.granted = malloc(sizeof(int) * (size_t)qos_count);
        if (e.granted == NULL) H_FAIL("out of memory");
        memcpy(e.granted, granted, sizeof(int) * (size_t)qos_count);
    }
    rec_push(r, &e);
}

static void rec_message(mqttc_client *c, void *ud, const mqttc_message *m, h_ev_type t,
                        const char *cb) {
    h_rec *r = rec_of(ud, cb);
    if (m == NULL) H_FAIL("%s: message is NULL", cb);
    if (m->topic == NULL) H_FAIL("%s: message topic is NULL", cb);
    if (m->payloadlen < 0) H_FAIL("%s: payloadlen %d", cb, m->payloadlen);
    if (m->payloadlen > 0 && m->payload == NULL)
        H_FAIL("%s: payload NULL with payloadlen %d", cb, m->payloadlen);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    e.client = c;
    e.userdata = ud;
    e.mid = m->mid;
    e.qos = m->qos;
    e.retain = m->retain;
    e.dup = m->dup;
    e.payloadlen = m->payloadlen;
    e.payload_was_null = m->payload == NULL;
    e.topic = strdup(m->topic);
    e.payload = malloc((size_t)m->payloadlen + 1);
    if (e.topic == NULL || e.payload == NULL) H_FAIL("out of memory");
    if (m->payloadlen > 0) memcpy(e.payload, m->payload, (size_t)m->payloadlen);
    e.payload[m->payloadlen] = 0;
    rec_push(r, &e);
}

void h_rec_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE, "on_message");
}
void h_rec_on_message_f1(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE_F1, "filtered callback f1");
}
void h_rec_on_message_f2(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE_F2, "filtered callback f2");
}

void h_rec_on_log(mqttc_client *c, void *ud, int level, const char *buf) {
    h_rec *r = rec_of(ud, "on_log");
    if (buf == NULL) H_FAIL("on_log: buf is NULL (level %d)", level);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = H_EV_LOG;
    e.client = c;
    e.userdata = ud;
    e.a = level;
    e.text = strdup(buf);
    if (e.text == NULL) H_FAIL("out of memory");
    rec_push(r, &e);
}

void h_rec_attach(mqttc_client *c, unsigned which) {
    if (which & H_CB_BASIC) {
        mqttc_on_connect_set(c, h_rec_on_connect);
        mqttc_on_connect_fail_set(c, h_rec_on_connect_fail);
        mqttc_on_disconnect_set(c, h_rec_on_disconnect);
        mqttc_on_message_set(c, h_rec_on_message);
        mqttc_on_publish_set(c, h_rec_on_publish);
        mqttc_on_subscribe_set(c, h_rec_on_subscribe);
        mqttc_on_unsubscribe_set(c, h_rec_on_unsubscribe);
    }
    if (which & H_CB_LOG) mqttc_on_log_set(c, h_rec_on_log);
    if (which & H_CB_SOCKETS) {
        mqttc_on_socket_open_set(c, h_rec_on_socket_open);
        mqttc_on_socket_close_set(c, h_rec_on_socket_close);
        mqttc_on_socket_register_write_set(c, h_rec_on_socket_register_write);
        mqttc_on_socket_unregister_write_set(c, h_rec_on_socket_unregister_write);
    }
}

int h_rec_count(h_rec *r, h_ev_type t) {
    pthread_mutex_lock(&r->mu);
    int n = r->n[t];
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool h_rec_get(h_rec *r, h_ev_type t, int idx, h_event *out) {
    bool ok = false;
    pthread_mutex_lock(&r->mu);
    if (idx >= 0 && idx < r->n[t]) {
        *out = r->ev[t][idx];
        ok = true;
    }
    pthread_mutex_unlock(&r->mu);
    if (!ok) memset(out, 0, sizeof *out);
    return ok;
}

int h_rec_count_a(h_rec *r, h_ev_type t, int value) {
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n[t]; i++)
        if (r->ev[t][i].a == value) n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int h_rec_count_topic(h_rec *r, h_ev_type t, const char *topic) {
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n[t]; i++)
        if (r->ev[t][i].topic && strcmp(r->ev[t][i].topic, topic) == 0) n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

struct count_arg {
    h_rec *r;
    h_ev_type t;
    int n;
    bool by_a;
    int a;
};
static bool count_cond(void *p) {
    struct count_arg *a = p;
    if (a->by_a) return h_rec_count_a(a->r, a->t, a->a) >= a->n;
    return h_rec_count(a->r, a->t) >= a->n;
}

bool h_rec_wait(h_rec *r, h_ev_type t, int n, mqttc_client *drive, int timeout_ms) {
    struct count_arg a = {r, t, n, false, 0};
    return wait_until(count_cond, &a, drive, timeout_ms);
}

/* ------------------------------------------------------------------------ */
/* Client shortcuts                                                         */
/* ------------------------------------------------------------------------ */

mqttc_client *h_client_at(const char *file, int line, const char *tag, bool clean, h_rec *rec) {
    char id[64];
    errno = 0;
    mqttc_client *c = mqttc_client_new(tag ? h_client_id(id, tag) : NULL, clean, rec,
                                       MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) h_fail(file, line, "mqttc_client_new returned NULL, errno %d (%s)", errno, strerror(errno));
    h_rec_attach(c, H_CB_BASIC);
    return c;
}

int h_connect_at(const char *file, int line, mqttc_client *c, h_rec *rec, int port, bool threaded) {
    int before = h_rec_count(rec, H_EV_CONNECT);
    errno = 0;
    int rc = mqttc_connect(c, h_host(), port, 30, NULL);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_connect(%s:%d) returned %d (%s), errno %d (%s)", h_host(), port,
               rc, h_rc_name(rc), errno, strerror(errno));
    if (threaded) {
        rc = mqttc_loop_start(c);
        if (rc != MQTTC_ERR_SUCCESS)
            h_fail(file, line, "mqttc_loop_start returned %d (%s)", rc, h_rc_name(rc));
    }
    if (!h_rec_wait(rec, H_EV_CONNECT, before + 1, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_connect within 5 s after mqttc_connect to port %d (last mqttc_loop rc %d)",
               port, h_last_loop_rc());
    h_event e;
    h_rec_get(rec, H_EV_CONNECT, before, &e);
    if (e.b != 0) h_fail(file, line, "on_connect rc %d, expected 0", e.b);
    return e.a;
}

void h_disconnect_at(const char *file, int line, mqttc_client *c, h_rec *rec, bool threaded) {
    int before = h_rec_count(rec, H_EV_DISCONNECT);
    int rc = mqttc_disconnect(c);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_disconnect returned %d (%s)", rc, h_rc_name(rc));
    if (!h_rec_wait(rec, H_EV_DISCONNECT, before + 1, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_disconnect within 5 s after mqttc_disconnect");
    h_event e;
    h_rec_get(rec, H_EV_DISCONNECT, before, &e);
    if (e.a != 0) h_fail(file, line, "on_disconnect rc %d (%s) after mqttc_disconnect, expected 0", e.a, h_rc_name(e.a));
    if (threaded) {
        rc = mqttc_loop_stop(c, false);
        if (rc != MQTTC_ERR_SUCCESS)
            h_fail(file, line, "mqttc_loop_stop returned %d (%s)", rc, h_rc_name(rc));
    }
}

int h_subscribe_at(const char *file, int line, mqttc_client *c, h_rec *rec, const char *topic, int qos,
                   bool threaded) {
    int mid = -12345;
    int rc = mqttc_subscribe(c, topic, qos, &mid);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_subscribe(%s, %d) returned %d (%s)", topic, qos, rc, h_rc_name(rc));
    if (mid <= 0) h_fail(file, line, "mqttc_subscribe gave mid %d", mid);
    struct count_arg a = {rec, H_EV_SUBSCRIBE, 1, true, mid};
    if (!wait_until(count_cond, &a, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_subscribe for mid %d within 5 s", mid);
    int granted = -1;
    pthread_mutex_lock(&rec->mu);
    for (int i = 0; i < rec->n[H_EV_SUBSCRIBE]; i++) {
        h_event *e = &rec->ev[H_EV_SUBSCRIBE][i];
        if (e->a == mid) granted = e->b >= 1 ? e->granted[0] : -2;
    }
    pthread_mutex_unlock(&rec->mu);
    if (granted == -2) h_fail(file, line, "on_subscribe for mid %d had qos_count 0", mid);
    return granted;
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                   */
/* ------------------------------------------------------------------------ */

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: case timed out (watchdog); a wait inside it has no bound or the library hangs\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    brokers_kill_all();
    _exit(2);
}

static void run_case_here(const h_case *c) {
    g_case = c->name;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(g_prefix, sizeof g_prefix, "mqttc-test/%s/%s/%d-%ld%09ld", g_suite, c->name,
             (int)getpid(), (long)ts.tv_sec, ts.tv_nsec);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(c->timeout_s * g_scale));
    c->fn();
    alarm(0);
    brokers_kill_all();
}

int h_main(int argc, char **argv, const char *suite, const h_case *cases, size_t ncases) {
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    g_suite = suite;
    const char *scale = getenv("MQTTC_TEST_TIME_SCALE");
    const char *preload = getenv("LD_PRELOAD");
    if (scale != NULL && atoi(scale) > 0)
        g_scale = atoi(scale);
    else if (preload != NULL && strstr(preload, "vgpreload") != NULL)
        g_scale = 5; /* running under valgrind */
    ssize_t n = readlink("/proc/self/exe", g_self_exe, sizeof g_self_exe - 1);
    if (n <= 0) snprintf(g_self_exe, sizeof g_self_exe, "%s", argv[0]);
    else g_self_exe[n] = 0;
    if (argc >= 2 && strcmp(argv[1], "--h-will-child") == 0) {
        g_case = "will-child";
        return h__will_child_main(argc, argv);
    }

    for (int i = 1; i < argc; i++) {
        bool found = false;
        for (size_t k = 0; k < ncases; k++) found |= strcmp(argv[i], cases[k].name) == 0;
        if (!found) {
            fprintf(stderr, "%s: no case named %s; cases:\n", suite, argv[i]);
            for (size_t k = 0; k < ncases; k++) fprintf(stderr, "  %s\n", cases[k].name);
            return 2;
        }
    }
    const char *nf = getenv("MQTTC_TEST_NOFORK");
    bool nofork = nf != NULL && *nf != '\0' && *nf != '0';
    int passed = 0, failed = 0;
    for (size_t k = 0; k < ncases; k++) {
        const h_case *c = &cases[k];
        if (argc >= 2) {
            bool sel = false;
            for (int i = 1; i < argc; i++) sel |= strcmp(argv[i], c->name) == 0;
            if (!sel) continue;
        }
        int64_t t0 = h_now_ms();
        fprintf(stderr, "RUN  %s/%s\n", suite, c->name);
        if (nofork) {
            run_case_here(c);
            g_case = "(runner)";
            fprintf(stderr, "PASS %s/%s (%lld ms)\n", suite, c->name, (long long)(h_now_ms() - t0));
            passed++;
            continue;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            run_case_here(c);
            exit(0);
        }
        int st = 0;
        int64_t deadline = t0 + (int64_t)c->timeout_s * g_scale * 1000 + 10000;
        bool killed = false;
        while (waitpid(pid, &st, WNOHANG) != pid) {
            if (!killed && h_now_ms() > deadline) {
                fprintf(stderr, "FAIL [%s/%s] did not end after its watchdog, killing it\n", suite, c->name);
                kill(pid, SIGKILL);
                killed = true;
            }
            h_sleep_ms(10);
        }
        long long ms = (long long)(h_now_ms() - t0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            fprintf(stderr, "PASS %s/%s (%lld ms)\n", suite, c->name, ms);
            passed++;
        } else {
            if (WIFSIGNALED(st))
                fprintf(stderr, "FAIL %s/%s (%lld ms): killed by signal %d (%s)\n", suite, c->name, ms,
                        WTERMSIG(st), strsignal(WTERMSIG(st)));
            else
                fprintf(stderr, "FAIL %s/%s (%lld ms): exit status %d\n", suite, c->name, ms,
                        WEXITSTATUS(st));
            failed++;
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
