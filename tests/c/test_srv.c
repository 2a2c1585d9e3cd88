/* mqttc_connect_srv against a tiny DNS responder on loopback (a thread of the test,
 * named to the library by MQTTC_DNS_SERVER): priority order, _secure-mqtt with TLS,
 * no records, every target down, a silent DNS server, domain NULL, bad arguments.
 * And host names through the system resolver pointed at the responder: an unknown
 * name (ENOENT), a silent server (bounded by the connect timeout), loop_stop during a
 * lookup.
 *
 * Environment besides harness.h's: MQTTC_TEST_TLS_PORT, MQTTC_TEST_CA. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#define DOMAIN "mqttc.test"

typedef struct dns_rr {
    int priority, weight, port;
    const char *target; /* "." : the service is not offered */
} dns_rr;

typedef struct dns_zone {
    const char *name; /* e.g. "_mqtt._tcp.mqttc.test" */
    const dns_rr *rrs;
    int count;
} dns_zone;

typedef struct dns_server {
    int fd, port;
    const dns_zone *zones;
    int nzones;
    bool silent; /* receive, never answer */
    atomic_int stop, queries;
    pthread_mutex_t mu;
    char names[8][256]; /* the first names asked for */
    pthread_t thread;
} dns_server;

/* Question name at `p` (uncompressed labels) as "a.b.c"; returns bytes used or -1. */
static int read_name(const unsigned char *p, int len, char *out, size_t cap) {
    int i = 0;
    size_t o = 0;
    while (i < len && p[i] != 0) {
        int l = p[i++];
        if (l > 63 || i + l > len || o + (size_t)l + 2 > cap) return -1;
        if (o > 0) out[o++] = '.';
        memcpy(out + o, p + i, (size_t)l);
        o += (size_t)l;
        i += l;
    }
    if (i >= len) return -1;
    out[o] = '\0';
    return i + 1;
}

static int put_name(unsigned char *p, const char *name) {
    int n = 0;
    if (strcmp(name, ".") != 0) {
        while (*name) {
            const char *dot = strchr(name, '.');
            int l = dot ? (int)(dot - name) : (int)strlen(name);
            p[n++] = (unsigned char)l;
            memcpy(p + n, name, (size_t)l);
            n += l;
            name += l;
            if (*name == '.') name++;
        }
    }
    p[n++] = 0;
    return n;
}

static void put16(unsigned char *p, int v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void *dns_serve(void *arg) {
    dns_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        unsigned char q[512], r[1024];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 12) continue;
        char name[256];
        int used = read_name(q + 12, (int)n - 12, name, sizeof name);
        if (used < 0 || 12 + used + 4 > n) continue;
        int k = atomic_fetch_add(&s->queries, 1);
        if (k < 8) {
            pthread_mutex_lock(&s->mu);
            snprintf(s->names[k], sizeof s->names[k], "%s", name);
            pthread_mutex_unlock(&s->mu);
        }
        if (s->silent) continue;
        const dns_zone *z = NULL;
        for (int i = 0; i < s->nzones; i++)
            if (strcasecmp(s->zones[i].name, name) == 0) z = &s->zones[i];
        int qlen = 12 + used + 4;
        memcpy(r, q, (size_t)qlen);
        r[2] = (unsigned char)(0x84 | (q[2] & 0x01)); /* QR, AA, RD as asked */
        r[3] = (unsigned char)(0x80 | (z ? 0 : 3));    /* RA; NOERROR or NXDOMAIN */
        put16(r + 4, 1);
        put16(r + 6, z ? z->count : 0);
        put16(r + 8, 0);
        put16(r + 10, 0);
        int o = qlen;
        for (int i = 0; z && i < z->count; i++) {
            const dns_rr *rr = &z->rrs[i];
            r[o++] = 0xc0; /* name: pointer to the question's */
            r[o++] = 12;
            put16(r + o, 33); /* SRV */
            put16(r + o + 2, 1);
            r[o + 4] = 0, r[o + 5] = 0, r[o + 6] = 0, r[o + 7] = 60; /* TTL */
            int rdlen_at = o + 8;
            o += 10;
            int start = o;
            put16(r + o, rr->priority);
            put16(r + o + 2, rr->weight);
            put16(r + o + 4, rr->port);
            o += 6;
            o += put_name(r + o, rr->target);
            put16(r + rdlen_at, o - start);
        }
        sendto(s->fd, r, (size_t)o, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

/* Starts the responder on ip:port (port 0: any); false when that address cannot be
 * bound. */
static bool dns_start_at(dns_server *s, const dns_zone *zones, int nzones, bool silent, const char *ip,
                         int port) {
    memset(s, 0, sizeof *s);
    s->zones = zones;
    s->nzones = nzones;
    s->silent = silent;
    s->fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        h_log("cannot bind %s:%d for the DNS responder: %s", ip, port, strerror(errno));
        close(s->fd);
        return false;
    }
    socklen_t al = sizeof a;
    CHECK(getsockname(s->fd, (struct sockaddr *)&a, &al) == 0);
    s->port = ntohs(a.sin_port);
    pthread_mutex_init(&s->mu, NULL);
    CHECK(pthread_create(&s->thread, NULL, dns_serve, s) == 0);
    return true;
}

/* Starts the responder and points the library's SRV lookups at it (MQTTC_DNS_SERVER). */
static void dns_start(dns_server *s, const dns_zone *zones, int nzones, bool silent) {
    CHECK(dns_start_at(s, zones, nzones, silent, "127.0.0.1", 0));
    char env[64];
    snprintf(env, sizeof env, "127.0.0.1:%d", s->port);
    CHECK(setenv("MQTTC_DNS_SERVER", env, 1) == 0);
}

static void dns_stop(dns_server *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

static mqttc_client *srv_client(const char *tag, h_rec *rec) {
    mqttc_client *c = h_client(tag, true, rec);
    h_rec_attach(c, H_CB_LOG);
    return c;
}

/* Index of the first on_log line containing `needle`, or -1. */
static int log_index(h_rec *rec, const char *needle) {
    for (int i = 0; i < h_rec_count(rec, H_EV_LOG); i++) {
        h_event e;
        h_rec_get(rec, H_EV_LOG, i, &e);
        if (strstr(e.text, needle) != NULL) return i;
    }
    return -1;
}

static void lowest_priority_first_and_fallback(void) {
    int dead = h_free_port();
    const dns_rr rrs[] = {
        {30, 0, dead, "localhost."},
        {20, 5, h_port(), "127.0.0.1."},
        {10, 1, dead, "localhost."},
    };
    const dns_zone zones[] = {{"_mqtt._tcp." DOMAIN, rrs, 3}};
    dns_server d;
    dns_start(&d, zones, 1, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv", &rec);
    CHECK_RC(mqttc_connect_srv(c, DOMAIN, 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    char first[64], second[64];
    snprintf(first, sizeof first, "trying localhost:%d", dead);
    snprintf(second, sizeof second, "trying 127.0.0.1:%d", h_port());
    int i1 = log_index(&rec, first), i2 = log_index(&rec, second);
    CHECK_MSG(i1 >= 0 && i2 > i1, "expected the priority-10 target (%s) before the priority-20 one (%s): %d, %d",
              first, second, i1, i2);
    pthread_mutex_lock(&d.mu);
    CHECK_STREQ(d.names[0], "_mqtt._tcp." DOMAIN);
    pthread_mutex_unlock(&d.mu);
    /* reconnect goes to the target that worked */
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, c, 5000));
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

static void tls_looks_up_secure_mqtt(void) {
    int dead = h_free_port();
    const dns_rr plain[] = {{1, 1, dead, "localhost."}};
    const dns_rr secure[] = {{1, 1, atoi(h_env("MQTTC_TEST_TLS_PORT")), "localhost."}};
    const dns_zone zones[] = {{"_mqtt._tcp." DOMAIN, plain, 1}, {"_secure-mqtt._tcp." DOMAIN, secure, 1}};
    dns_server d;
    dns_start(&d, zones, 2, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-tls", &rec);
    CHECK_RC(mqttc_tls_set(c, h_env("MQTTC_TEST_CA"), NULL, NULL, MQTTC_CERT_REQUIRED,
                           MQTTC_TLS_VERSION_DEFAULT, NULL),
             MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_srv(c, DOMAIN ".", 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, c, 5000));
    pthread_mutex_lock(&d.mu);
    CHECK_STREQ(d.names[0], "_secure-mqtt._tcp." DOMAIN);
    pthread_mutex_unlock(&d.mu);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

static void nothing_to_connect_to(void) {
    const dns_rr dot[] = {{0, 0, 0, "."}};
    const dns_zone zones[] = {{"_mqtt._tcp.empty." DOMAIN, NULL, 0}, {"_mqtt._tcp.dot." DOMAIN, dot, 1}};
    dns_server d;
    dns_start(&d, zones, 2, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-none", &rec);
    CHECK_RC(mqttc_connect_srv(c, "nx." DOMAIN, 30, NULL), MQTTC_ERR_NOT_FOUND);
    CHECK_RC(mqttc_connect_srv(c, "empty." DOMAIN, 30, NULL), MQTTC_ERR_NOT_FOUND);
    CHECK_RC(mqttc_connect_srv(c, "dot." DOMAIN, 30, NULL), MQTTC_ERR_NOT_FOUND);
    CHECK_MSG(log_index(&rec, "SRV lookup failed") >= 0, "no on_log line for the failed lookups");
    CHECK_EQ(mqttc_socket(c), -1);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

static void every_target_down(void) {
    const dns_rr rrs[] = {{1, 1, h_free_port(), "127.0.0.1."}, {2, 1, h_free_port(), "127.0.0.1."}};
    const dns_zone zones[] = {{"_mqtt._tcp." DOMAIN, rrs, 2}};
    dns_server d;
    dns_start(&d, zones, 1, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-down", &rec);
    errno = 0;
    CHECK_RC(mqttc_connect_srv(c, DOMAIN, 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ECONNREFUSED);
    CHECK_EQ(mqttc_socket(c), -1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

static void silent_dns_server_times_out(void) {
    dns_server d;
    dns_start(&d, NULL, 0, true);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-silent", &rec);
    int64_t t0 = h_now_ms();
    errno = 0;
    CHECK_RC(mqttc_connect_srv(c, DOMAIN, 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, ETIMEDOUT);
    int64_t took = h_now_ms() - t0;
    h_log("no DNS answer: gave up after %lld ms", (long long)took);
    CHECK_MSG(took < 6000, "took %lld ms", (long long)took);
    CHECK_GE(atomic_load(&d.queries), 1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

/* domain NULL: this host's domain (which a test machine may not have). */
static void domain_null_is_this_hosts_domain(void) {
    dns_server d;
    dns_start(&d, NULL, 0, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-own", &rec);
    int rc = mqttc_connect_srv(c, NULL, 30, NULL);
    CHECK_RC2(rc, MQTTC_ERR_INVAL, MQTTC_ERR_NOT_FOUND);
    if (rc == MQTTC_ERR_NOT_FOUND) {
        pthread_mutex_lock(&d.mu);
        h_log("looked up %s", d.names[0]);
        CHECK_MSG(strncmp(d.names[0], "_mqtt._tcp.", 11) == 0, "asked for %s", d.names[0]);
        pthread_mutex_unlock(&d.mu);
    } else {
        h_log("this host has no domain: MQTTC_ERR_INVAL, as documented");
        CHECK_EQ(atomic_load(&d.queries), 0);
    }
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

static void bad_arguments(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("srv-args", &rec);
    CHECK_RC(mqttc_connect_srv(NULL, DOMAIN, 30, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(c, DOMAIN, -1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(c, DOMAIN, 65536, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_srv(c, "a..b", 30, NULL), MQTTC_ERR_INVAL);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

/* Host names go to the system resolver (getaddrinfo), which takes its server from
 * /etc/resolv.conf and only on port 53: the case (a forked process of its own) moves
 * into a private mount namespace where /etc/resolv.conf names a responder of the test.
 * That needs root (CAP_SYS_ADMIN, mounts allowed, port 53); without, the case says
 * SKIPPED and passes. */
static bool system_resolver_is_responder(dns_server *d, bool silent) {
    if (geteuid() != 0) {
        h_log("SKIPPED: needs root (a mount namespace, and port 53 for the responder)");
        return false;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        h_log("SKIPPED: no private mount namespace here: unshare: %s", strerror(errno));
        return false;
    }
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0) {
        h_log("SKIPPED: mounts are not allowed here: mount --make-rprivate /: %s", strerror(errno));
        return false;
    }
    char ip[32];
    snprintf(ip, sizeof ip, "127.53.%d.%d", (int)(getpid() >> 8) & 0xff, 1 + (int)(getpid() & 0x7f));
    if (!dns_start_at(d, NULL, 0, silent, ip, 53)) {
        h_log("SKIPPED: no responder on port 53");
        return false;
    }
    char conf[64];
    snprintf(conf, sizeof conf, "/tmp/mqttc-resolv.%d", (int)getpid());
    FILE *f = fopen(conf, "w");
    CHECK(f != NULL);
    /* One try, waiting long: a silent server keeps getaddrinfo busy for 30 s. */
    fprintf(f, "nameserver %s\noptions timeout:30 attempts:1\n", ip);
    fclose(f);
    int rc = mount(conf, "/etc/resolv.conf", "none", MS_BIND, NULL);
    int err = errno;
    unlink(conf);
    if (rc != 0) {
        h_log("SKIPPED: cannot bind-mount a resolv.conf: %s", strerror(err));
        dns_stop(d);
        return false;
    }
    return true;
}

/* mqttc_connect to `host` with the system resolver asking the responder (silent or
 * not) fails with MQTTC_ERR_ERRNO and errno `err` after asking it; returns how long
 * it took in ms, or -1 when the case is skipped. */
static int64_t connect_fails_with(const char *tag, bool silent, const char *host, int err) {
    dns_server d;
    if (!system_resolver_is_responder(&d, silent)) return -1;
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client(tag, &rec);
    int64_t t0 = h_now_ms();
    errno = 0;
    CHECK_RC(mqttc_connect(c, host, h_port(), 30, NULL), MQTTC_ERR_ERRNO);
    CHECK_EQ(errno, err);
    int64_t took = h_now_ms() - t0;
    CHECK_GE(atomic_load(&d.queries), 1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
    return took;
}

/* A name the DNS server says does not exist: MQTTC_ERR_ERRNO with errno ENOENT. */
static void unknown_host_is_enoent(void) { connect_fails_with("nxhost", false, "nx.mqttc.test", ENOENT); }

/* A DNS server that never answers: mqttc_connect gives up at its 5 s bound (errno
 * ETIMEDOUT) although getaddrinfo would wait 30 s. */
static void silent_resolver_bounded_by_connect_timeout(void) {
    int64_t took = connect_fails_with("silenthost", true, "silent.mqttc.test", ETIMEDOUT);
    if (took < 0) return;
    h_log("silent DNS server: mqttc_connect gave up after %lld ms", (long long)took);
    CHECK_MSG(took >= 4500 && took < 6000 * h_time_scale(), "took %lld ms", (long long)took);
}

/* loop_stop while the loop thread waits for a name lookup: it returns promptly. */
static void loop_stop_cuts_a_lookup_short(void) {
    dns_server d;
    if (!system_resolver_is_responder(&d, true)) return;
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = srv_client("stophost", &rec);
    CHECK_RC(mqttc_connect_async(c, "silent.mqttc.test", h_port(), 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    int64_t deadline = h_now_ms() + 3000 * h_time_scale();
    while (atomic_load(&d.queries) < 1 && h_now_ms() < deadline) h_sleep_ms(10);
    CHECK_MSG(atomic_load(&d.queries) >= 1, "the loop thread never asked the DNS server");
    int64_t t0 = h_now_ms();
    CHECK_RC(mqttc_loop_stop(c, false), MQTTC_ERR_SUCCESS);
    int64_t took = h_now_ms() - t0;
    h_log("loop_stop during a name lookup took %lld ms", (long long)took);
    CHECK_MSG(took < 500 * h_time_scale(), "loop_stop took %lld ms", (long long)took);
    CHECK_EQ(h_rec_count(&rec, H_EV_CONNECT), 0);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    dns_stop(&d);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(lowest_priority_first_and_fallback, 30),
        H_CASE(tls_looks_up_secure_mqtt, 30),
        H_CASE(nothing_to_connect_to, 30),
        H_CASE(every_target_down, 30),
        H_CASE(silent_dns_server_times_out, 30),
        H_CASE(domain_null_is_this_hosts_domain, 30),
        H_CASE(bad_arguments, 20),
        H_CASE(unknown_host_is_enoent, 20),
        H_CASE(silent_resolver_bounded_by_connect_timeout, 30),
        H_CASE(loop_stop_cuts_a_lookup_short, 20),
    };
    return h_main(argc, argv, "test_srv", cases, sizeof cases / sizeof cases[0]);
}
