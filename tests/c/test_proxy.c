/* mqttc_proxy_set through real proxies that the test starts: tinyproxy (HTTP CONNECT,
 * Basic credentials), microsocks (SOCKS5, without authentication and with a user name
 * and password) and Dante (SOCKS4); TLS inside a tunnel; a refusal, a proxy that
 * answers garbage and one that closes give MQTTC_ERR_PROXY at once, with the answer in
 * on_log and never the password.
 *
 * Needs tinyproxy, microsocks and danted (Debian: tinyproxy microsocks dante-server),
 * which scripts/test.sh installs; environment besides harness.h's:
 * MQTTC_TEST_TLS_PORT, MQTTC_TEST_CA. */
#include "harness.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

typedef struct proxy {
    pid_t pid;
    int port;
    char dir[64];
} proxy;

static bool port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Starts argv (argv[0] looked up in PATH, /usr/sbin too) and waits for its port. */
static void proxy_spawn(proxy *p, char *const argv[]) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    char log[128];
    snprintf(log, sizeof log, "%s/proxy.log", p->dir);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    char path[128];
    snprintf(path, sizeof path, "/usr/sbin/%s", argv[0]);
    int rc = access(path, X_OK) == 0 ? posix_spawn(&p->pid, path, &fa, NULL, argv, environ)
                                      : posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    CHECK_MSG(rc == 0, "cannot start %s: %s (Debian: apt-get install tinyproxy microsocks dante-server)", argv[0],
              strerror(rc));
    int64_t end = h_now_ms() + 5000 * h_time_scale();
    while (!port_open(p->port)) {
        int st;
        CHECK_MSG(waitpid(p->pid, &st, WNOHANG) == 0, "%s exited at start (log in %s)", argv[0], log);
        CHECK_MSG(h_now_ms() < end, "%s did not listen on port %d within 5 s", argv[0], p->port);
        h_sleep_ms(20);
    }
}

static void proxy_dir(proxy *p) {
    snprintf(p->dir, sizeof p->dir, "/tmp/mqttc-proxy.XXXXXX");
    CHECK(mkdtemp(p->dir) != NULL);
    p->port = h_free_port();
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void proxy_stop(proxy *p) {
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    CHECK_EQ(system(cmd), 0);
}

static void start_tinyproxy(proxy *p, bool auth) {
    proxy_dir(p);
    char conf[512], path[128];
    snprintf(conf, sizeof conf,
             "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Info\n%s",
             p->port, auth ? "BasicAuth alice s3cret\n" : "");
    snprintf(path, sizeof path, "%s/tinyproxy.conf", p->dir);
    write_file(path, conf);
    char *argv[] = {"tinyproxy", "-d", "-c", path, NULL};
    proxy_spawn(p, argv);
}

static void start_microsocks(proxy *p, bool auth) {
    proxy_dir(p);
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    char *plain[] = {"microsocks", "-i", "127.0.0.1", "-p", port, NULL};
    char *with_auth[] = {"microsocks", "-i", "127.0.0.1", "-p", port, "-u", "bob", "-P", "pw-bob", NULL};
    proxy_spawn(p, auth ? with_auth : plain);
}

static void start_dante(proxy *p) {
    proxy_dir(p);
    char conf[1024], path[128];
    snprintf(conf, sizeof conf,
             "logoutput: stderr\ninternal: 127.0.0.1 port = %d\nexternal: 127.0.0.1\n"
             "socksmethod: none\nclientmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n"
             "client pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }\n"
             "socks pass { from: 127.0.0.1/32 to: 0.0.0.0/0 protocol: tcp }\n",
             p->port);
    snprintf(path, sizeof path, "%s/danted.conf", p->dir);
    write_file(path, conf);
    char *argv[] = {"danted", "-f", path, "-N", "1", NULL};
    proxy_spawn(p, argv);
}

/* Connect through the proxy set on c and exchange a QoS 1 message with itself. */
static void round_trip(mqttc_client *c, h_rec *rec, const char *host, int port) {
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_connect(c, host, port, 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(rec, H_EV_CONNECT, 1, NULL, 5000));
    char t[H_TOPIC_MAX];
    h_subscribe(c, rec, h_topic(t, "proxy"), 1, true);
    CHECK_RC(mqttc_publish(c, t, "tunnelled", 9, 1, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(rec, H_EV_MESSAGE, 1, NULL, 5000));
    h_event e;
    h_rec_get(rec, H_EV_MESSAGE, 0, &e);
    CHECK_MEMEQ(e.payload, e.payloadlen, "tunnelled", 9);
    h_disconnect(c, rec, true);
    mqttc_loop_stop(c, false);
}

/* One client through one proxy setting, to the plain listener by address. */
static void through(int type, int port, bool rdns, const char *user, const char *pass, const char *host) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("proxy", true, &rec);
    CHECK_RC(mqttc_proxy_set(c, type, "127.0.0.1", port, rdns, user, pass), MQTTC_ERR_SUCCESS);
    round_trip(c, &rec, host, h_port());
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* The connect fails with MQTTC_ERR_PROXY, the log says `why` and never `pass`. */
static void refused(int type, int port, const char *user, const char *pass, const char *why) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("proxy-no", true, &rec);
    h_rec_attach(c, H_CB_LOG);
    CHECK_RC(mqttc_proxy_set(c, type, "127.0.0.1", port, true, user, pass), MQTTC_ERR_SUCCESS);
    int64_t t0 = h_now_ms();
    int rc = mqttc_connect(c, "127.0.0.1", h_port(), 30, NULL);
    CHECK_MSG(rc == MQTTC_ERR_PROXY, "connect returned %d (%s), expected MQTTC_ERR_PROXY", rc, h_rc_name(rc));
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());
    int said = 0;
    for (int i = 0; i < h_rec_count(&rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(&rec, H_EV_LOG, i, &e);
        if (strstr(e.text, why) != NULL) said++;
        if (i + 1 == h_rec_count(&rec, H_EV_LOG) && said == 0) h_log("last log line: %s", e.text);
        if (pass != NULL) CHECK_MSG(strstr(e.text, pass) == NULL, "the log shows the password: %s", e.text);
    }
    CHECK_MSG(said > 0, "no log line says \"%s\"", why);
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void http_connect(void) {
    proxy p;
    start_tinyproxy(&p, false);
    through(MQTTC_PROXY_HTTP, p.port, true, NULL, NULL, "127.0.0.1");
    through(MQTTC_PROXY_HTTP, p.port, true, NULL, NULL, "localhost"); /* the proxy resolves */
    through(MQTTC_PROXY_HTTP, p.port, false, NULL, NULL, "localhost"); /* the client does */
    proxy_stop(&p);
}

static void http_connect_with_credentials(void) {
    proxy p;
    start_tinyproxy(&p, true);
    through(MQTTC_PROXY_HTTP, p.port, true, "alice", "s3cret", "127.0.0.1");
    /* tinyproxy answers wrong credentials with 401, missing ones with 407 */
    refused(MQTTC_PROXY_HTTP, p.port, "alice", "wrong-pw", "the HTTP proxy answered 40");
    refused(MQTTC_PROXY_HTTP, p.port, NULL, NULL, "407");
    proxy_stop(&p);
}

static void socks5(void) {
    proxy p;
    start_microsocks(&p, false);
    through(MQTTC_PROXY_SOCKS5, p.port, true, NULL, NULL, "127.0.0.1");
    through(MQTTC_PROXY_SOCKS5, p.port, true, NULL, NULL, "localhost");
    through(MQTTC_PROXY_SOCKS5, p.port, false, NULL, NULL, "localhost");
    proxy_stop(&p);
}

static void socks5_with_credentials(void) {
    proxy p;
    start_microsocks(&p, true);
    through(MQTTC_PROXY_SOCKS5, p.port, true, "bob", "pw-bob", "localhost");
    refused(MQTTC_PROXY_SOCKS5, p.port, "bob", "not-the-pw", "refused the user name");
    refused(MQTTC_PROXY_SOCKS5, p.port, NULL, NULL, "requires authentication");
    proxy_stop(&p);
}

static void socks4(void) {
    proxy p;
    start_dante(&p);
    through(MQTTC_PROXY_SOCKS4, p.port, false, NULL, NULL, "127.0.0.1");
    through(MQTTC_PROXY_SOCKS4, p.port, false, NULL, NULL, "localhost");
    proxy_stop(&p);
}

static void tls_inside_the_tunnel(void) {
    proxy p;
    start_microsocks(&p, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("proxy-tls", true, &rec);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_CA"), NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, "127.0.0.1", p.port, true, NULL, NULL), MQTTC_ERR_SUCCESS);
    /* the name the certificate is checked against is the broker's, not the proxy's */
    round_trip(c, &rec, "localhost", atoi(h_env("MQTTC_TEST_TLS_PORT")));
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    proxy_stop(&p);
}

/* A listener that answers every connection with `answer` (NULL: closes at once). */
typedef struct fake_proxy {
    int fd, port;
    const char *answer;
    size_t answer_len;
    pthread_t thread;
} fake_proxy;

static void *fake_proxy_run(void *arg) {
    fake_proxy *f = arg;
    int c = accept(f->fd, NULL, NULL);
    if (c >= 0) {
        char buf[512];
        if (f->answer != NULL) {
            ssize_t n = read(c, buf, sizeof buf);
            (void)n;
            ssize_t w = write(c, f->answer, f->answer_len);
            (void)w;
            h_sleep_ms(200);
        }
        close(c);
    }
    return NULL;
}

static void fake_proxy_start(fake_proxy *f, const char *answer, size_t answer_len) {
    f->answer = answer;
    f->answer_len = answer_len;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(f->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    CHECK_EQ(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    CHECK_EQ(listen(f->fd, 4), 0);
    CHECK_EQ(pthread_create(&f->thread, NULL, fake_proxy_run, f), 0);
}

static void fake_proxy_stop(fake_proxy *f) {
    pthread_join(f->thread, NULL);
    close(f->fd);
}

static void broken_proxies(void) {
    static const struct {
        int type;
        const char *answer;
        size_t len;
        const char *why;
    } cases[] = {
        {MQTTC_PROXY_HTTP, "SSH-2.0-OpenSSH_9.2\r\n", 21, "not an HTTP answer"},
        {MQTTC_PROXY_HTTP, NULL, 0, "closed the connection"},
        {MQTTC_PROXY_SOCKS5, "HTTP/1.1 400 Bad Request\r\n\r\n", 28, "not a SOCKS5 reply"},
        {MQTTC_PROXY_SOCKS4, NULL, 0, "closed the connection"},
        {MQTTC_PROXY_SOCKS4, "\x00\x5b\x00\x00\x00\x00\x00\x00", 8, "rejected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_proxy f;
        fake_proxy_start(&f, cases[i].answer, cases[i].len);
        refused(cases[i].type, f.port, NULL, NULL, cases[i].why);
        fake_proxy_stop(&f);
    }
}

static void proxy_bad_arguments(void) {
    CHECK_RC(mqttc_proxy_set(NULL, MQTTC_PROXY_HTTP, "127.0.0.1", 8080, true, NULL, NULL), MQTTC_ERR_INVAL);
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    CHECK_RC(mqttc_proxy_set(c, 4, "127.0.0.1", 8080, true, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, -1, "127.0.0.1", 8080, true, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, NULL, 1080, true, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, "", 1080, true, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, "127.0.0.1", 70000, true, NULL, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, "127.0.0.1", 1080, true, NULL, "pw"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_NONE, NULL, 0, false, NULL, NULL), MQTTC_ERR_SUCCESS);
    /* a proxy nobody listens on: the system error */
    int port = h_free_port();
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_SOCKS5, "127.0.0.1", port, true, NULL, NULL), MQTTC_ERR_SUCCESS);
    errno = 0;
    CHECK_RC(mqttc_connect(c, "127.0.0.1", h_port(), 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ECONNREFUSED);
    /* removed again: straight to the broker */
    CHECK_RC(mqttc_proxy_set(c, MQTTC_PROXY_NONE, NULL, 0, false, NULL, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect(c, "127.0.0.1", h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    mqttc_client_destroy(c);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(http_connect, 30),
        H_CASE(http_connect_with_credentials, 30),
        H_CASE(socks5, 30),
        H_CASE(socks5_with_credentials, 30),
        H_CASE(socks4, 30),
        H_CASE(tls_inside_the_tunnel, 30),
        H_CASE(broken_proxies, 30),
        H_CASE(proxy_bad_arguments, 20),
    };
    return h_main(argc, argv, "test_proxy", cases, sizeof cases / sizeof cases[0]);
}
