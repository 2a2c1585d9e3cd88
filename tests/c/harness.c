/* Test harness for the mqttc C tests: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
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

const char *h__self_exe(void) { return g_self_exe; }

/* Temp dirs of private brokers, removed when a case fails or times out. */
static char g_broker_dirs[H_MAX_BROKERS][96];

void h__broker_dir_register(const char *dir) {
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (g_broker_dirs[i][0] == 0) {
            snprintf(g_broker_dirs[i], sizeof g_broker_dirs[i], "%s", dir);
            return;
        }
}

void h__broker_dir_unregister(const char *dir) {
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (strcmp(g_broker_dirs[i], dir) == 0) g_broker_dirs[i][0] = 0;
}

/* async-signal-safe: kill, unlink and rmdir only (paths built without stdio) */
static void brokers_kill_all(void) {
    static const char *const files[] = {"/mosquitto.conf", "/mosquitto.db", "/mosquitto.db.new", "/mosquitto.log"};
    for (int i = 0; i < H_MAX_BROKERS; i++)
        if (g_brokers[i] > 0) kill(g_brokers[i], SIGKILL);
    for (int i = 0; i < H_MAX_BROKERS; i++) {
        if (g_broker_dirs[i][0] == 0) continue;
        for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
            char p[160];
            size_t n = strlen(g_broker_dirs[i]), m = strlen(files[k]);
            memcpy(p, g_broker_dirs[i], n);
            memcpy(p + n, files[k], m + 1);
            unlink(p);
        }
        rmdir(g_broker_dirs[i]);
    }
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
        "MQTTC_ERR_PROPERTY",     "MQTTC_ERR_QOS_NOT_SUPPORTED", "MQTTC_ERR_OVERSIZE_PACKET",
        "MQTTC_ERR_PROXY",        "MQTTC_ERR_PERSIST",
    };
    if (rc >= -1 && rc <= 21) return names[rc + 1];
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
