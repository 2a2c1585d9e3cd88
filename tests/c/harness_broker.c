/* Test harness: private mosquitto brokers and the will child (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Private broker                                                           */
/* ------------------------------------------------------------------------ */

static void broker_path(const h_broker *b, char *out, size_t n, const char *file) {
    snprintf(out, n, "%s/%s", b->dir, file);
}

static void broker_dump_log(const h_broker *b) {
    char p[160];
    broker_path(b, p, sizeof p, "mosquitto.log");
    FILE *f = fopen(p, "r");
    if (f == NULL) return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > 3000 ? sz - 3000 : 0, SEEK_SET);
    char buf[3001];
    size_t n = fread(buf, 1, 3000, f);
    buf[n] = 0;
    fclose(f);
    fprintf(stderr, "---- tail of %s ----\n%s\n---- end ----\n", p, buf);
}

static bool port_accepts(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void broker_spawn(h_broker *b) {
    const char *mosq = h_env("MQTTC_TEST_MOSQUITTO");
    char conf[160], logp[160];
    broker_path(b, conf, sizeof conf, "mosquitto.conf");
    broker_path(b, logp, sizeof logp, "mosquitto.log");
    FILE *f = fopen(conf, "w");
    if (f == NULL) H_FAIL("cannot write %s: %s", conf, strerror(errno));
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n", b->port);
    if (b->persistence)
        fprintf(f, "persistence true\npersistence_location %s/\npersistence_file mosquitto.db\n", b->dir);
    else
        fprintf(f, "persistence false\n");
    fprintf(f, "log_dest file %s\nlog_type all\nmax_queued_messages 10000\n", logp);
    fprintf(f, "%s\n", b->extra_conf);
    if (geteuid() == 0) fprintf(f, "user root\n");
    fclose(f);

    char *const argv[] = {(char *)mosq, (char *)"-c", conf, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) H_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        /* only async-signal-safe calls between fork and exec */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(mosq, argv);
        _exit(127);
    }
    b->pid = pid;
    h__broker_register(pid);
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            h__broker_unregister(pid);
            b->pid = 0;
            broker_dump_log(b);
            H_FAIL("private broker %s exited at start (status 0x%x, port %d)", mosq, st, b->port);
        }
        if (port_accepts(b->port)) return;
        if (h_now_ms() > deadline) {
            broker_dump_log(b);
            H_FAIL("private broker did not accept on port %d within 5 s", b->port);
        }
        h_sleep_ms(20);
    }
}

void h_broker_start(h_broker *b, bool persistence) { h_broker_start_conf(b, persistence, ""); }

void h_broker_start_conf(h_broker *b, bool persistence, const char *extra_conf) {
    memset(b, 0, sizeof *b);
    b->persistence = persistence;
    if (snprintf(b->extra_conf, sizeof b->extra_conf, "%s", extra_conf) >= (int)sizeof b->extra_conf)
        H_FAIL("extra broker configuration too long");
    snprintf(b->dir, sizeof b->dir, "/tmp/mqttc-test-XXXXXX");
    if (mkdtemp(b->dir) == NULL) H_FAIL("mkdtemp: %s", strerror(errno));
    h__broker_dir_register(b->dir);
    b->port = h_free_port();
    broker_spawn(b);
}

static void broker_end(h_broker *b, int sig) {
    if (b->pid <= 0) return;
    kill(b->pid, sig);
    int64_t deadline = h_now_ms() + 5000;
    int st;
    while (waitpid(b->pid, &st, WNOHANG) != b->pid) {
        if (h_now_ms() > deadline) {
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &st, 0);
            break;
        }
        h_sleep_ms(10);
    }
    h__broker_unregister(b->pid);
    b->pid = 0;
}

void h_broker_stop(h_broker *b) { broker_end(b, SIGTERM); }
void h_broker_kill(h_broker *b) { broker_end(b, SIGKILL); }

void h_broker_restart(h_broker *b) {
    if (b->pid > 0) H_FAIL("h_broker_restart: broker still running");
    broker_spawn(b);
}

void h_broker_cleanup(h_broker *b) {
    if (b->dir[0] == 0) return;
    broker_end(b, SIGKILL);
    static const char *const files[] = {"mosquitto.conf", "mosquitto.db", "mosquitto.db.new",
                                        "mosquitto.log"};
    char p[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        broker_path(b, p, sizeof p, files[i]);
        unlink(p);
    }
    rmdir(b->dir);
    h__broker_dir_unregister(b->dir);
    b->dir[0] = 0;
}

/* ------------------------------------------------------------------------ */
/* Will child                                                               */
/* ------------------------------------------------------------------------ */

static void hex_encode(const void *p, int n, char *out) {
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (int i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int hex_val(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

void h_will_child_run(const h_will_child *w) {
    if (w->payloadlen < 0 || w->payloadlen > 4096) H_FAIL("will child payload too long");
    char *hex = malloc((size_t)w->payloadlen * 2 + 2);
    if (hex == NULL) H_FAIL("out of memory");
    if (w->payload == NULL)
        strcpy(hex, "-");
    else
        hex_encode(w->payload, w->payloadlen, hex);
    int pfd[2];
    if (pipe(pfd) != 0) H_FAIL("pipe: %s", strerror(errno));
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    char port[16], qos[16], fdarg[16];
    snprintf(port, sizeof port, "%d", w->port);
    snprintf(qos, sizeof qos, "%d", w->qos);
    snprintf(fdarg, sizeof fdarg, "%d", pfd[1]);
    char *const argv[] = {(char *)h__self_exe(), (char *)"--h-will-child", (char *)h_host(), port,
                          (char *)w->topic, hex, qos, (char *)(w->retain ? "1" : "0"),
                          (char *)(w->clear_will ? "1" : "0"), fdarg, NULL};
    pid_t pid = fork();
    if (pid < 0) H_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        execv((char *)h__self_exe(), argv);
        _exit(127);
    }
    close(pfd[1]);
    free(hex);
    struct pollfd p = {pfd[0], POLLIN, 0};
    char ch = 0;
    int pr = poll(&p, 1, 15000);
    ssize_t n = pr > 0 ? read(pfd[0], &ch, 1) : 0;
    close(pfd[0]);
    int st = 0;
    int64_t deadline = h_now_ms() + 5000;
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (h_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            H_FAIL("will child did not exit within 5 s of signalling");
        }
        h_sleep_ms(5);
    }
    if (pr <= 0) H_FAIL("will child did not report CONNACK within 15 s");
    if (n != 1 || ch != 'R')
        H_FAIL("will child failed before CONNACK (exit status 0x%x; its stderr is above)", st);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) H_FAIL("will child exit status 0x%x", st);
}

int h__will_child_main(int argc, char **argv) {
    alarm(20);
    if (argc != 10) {
        fprintf(stderr, "will child: bad arguments\n");
        return 2;
    }
    const char *host = argv[2];
    int port = atoi(argv[3]);
    const char *topic = argv[4];
    const char *hex = argv[5];
    int qos = atoi(argv[6]);
    bool retain = argv[7][0] == '1';
    bool clear = argv[8][0] == '1';
    int fd = atoi(argv[9]);
    unsigned char payload[4096];
    int plen = 0;
    const void *pp = NULL;
    if (strcmp(hex, "-") != 0) {
        plen = (int)strlen(hex) / 2;
        for (int i = 0; i < plen; i++)
            payload[i] = (unsigned char)(hex_val(hex[2 * i]) * 16 + hex_val(hex[2 * i + 1]));
        pp = payload;
    }
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    mqttc_client *c = mqttc_client_new(h_client_id(id, "will"), true, &rec, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_TCP);
    if (c == NULL) H_FAIL("will child: client_new failed errno %d", errno);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_will_set(c, topic, pp, plen, qos, retain), MQTTC_ERR_SUCCESS);
    if (clear) CHECK_RC(mqttc_will_clear(c), MQTTC_ERR_SUCCESS);
    int rc = mqttc_connect(c, host, port, 30, NULL);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("will child: connect returned %d (%s)", rc, h_rc_name(rc));
    if (!h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000)) H_FAIL("will child: no CONNACK within 5 s");
    h_event e;
    h_rec_get(&rec, H_EV_CONNECT, 0, &e);
    if (e.b != 0) H_FAIL("will child: on_connect rc %d", e.b);
    /* Make sure CONNECT left our buffers: nothing may be pending when we vanish. */
    if (write(fd, "R", 1) != 1) _exit(4);
    _exit(0); /* abrupt: no DISCONNECT, no cleanup; the kernel closes the socket */
}

