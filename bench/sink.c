/* The server side of the throughput benchmarks: a minimal MQTT 3.1.1 and 5 "broker"
 * that acknowledges and discards whatever it is sent, and floods a subscriber (in the
 * protocol its CONNECT asked for; MQTT 5 acknowledgements take their short forms).
 *
 *   sink PORTFILE
 *
 * Listens on 127.0.0.1 on a free port and writes the port number to PORTFILE. One
 * thread, level-triggered epoll. It answers CONNECT with CONNACK, PUBLISH QoS 1 with
 * PUBACK, QoS 2 with PUBREC, PUBREL with PUBCOMP, PINGREQ with PINGRESP, SUBSCRIBE with
 * SUBACK (granting what was asked); a subscription to "flood/COUNT/SIZE" is answered by
 * COUNT QoS 0 PUBLISH packets with a SIZE-byte payload on that topic, written as fast
 * as the socket takes them from a pre-encoded 64 KiB run. Nothing is routed or stored.
 *
 * When a connection that carried messages closes, one line goes to stdout:
 *   SINK msgs_in=N msgs_out=N cpu=SECONDS
 * with the sink's CPU time (user + system) from accept to close; the benchmarks run one
 * client at a time, so that is what this client cost the server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)
#define FLOOD_RUN (64 * 1024)

struct conn {
    int fd;
    unsigned char *in;
    size_t in_len, in_cap;
    unsigned char *out; /* acknowledgements waiting to be written */
    size_t out_len, out_pos, out_cap;
    unsigned char *flood; /* a run of whole pre-encoded PUBLISH packets */
    size_t flood_len, flood_pkt, flood_off;
    unsigned long long flood_bytes_left;
    long msgs_in, msgs_out;
    double cpu0;
    int watching_out;
    int v5; /* the CONNECT asked for MQTT 5 */
};

static int ep;
static unsigned char rbuf[READ_SIZE];

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        perror("sink: realloc");
        exit(1);
    }
    return p;
}

static void out_append(struct conn *c, const unsigned char *b, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = xrealloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, b, n);
    c->out_len += n;
}

static void ack(struct conn *c, unsigned char type, const unsigned char *id)
{
    unsigned char p[4] = {type, 2, id[0], id[1]};
    out_append(c, p, 4);
}

static void close_conn(struct conn *c)
{
    if (c->msgs_in + c->msgs_out > 0) {
        printf("SINK msgs_in=%ld msgs_out=%ld cpu=%.6f\n", c->msgs_in, c->msgs_out,
               cpu_now() - c->cpu0);
        fflush(stdout);
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c->flood);
    free(c);
}

static size_t encode_len(unsigned char *p, size_t len)
{
    size_t n = 0;
    do {
        unsigned char d = len & 0x7f;
        len >>= 7;
        p[n++] = d | (len ? 0x80 : 0);
    } while (len);
    return n;
}

static void start_flood(struct conn *c, const char *topic, size_t tlen)
{
    char name[128];
    long count = 0, size = 0;
    if (tlen >= sizeof name)
        return;
    memcpy(name, topic, tlen);
    name[tlen] = 0;
    if (sscanf(name, "flood/%ld/%ld", &count, &size) != 2 || count <= 0 || size < 0)
        return;
    /* MQTT 5: an empty property list after the topic. */
    size_t props = c->v5 ? 1 : 0;
    size_t remaining = 2 + tlen + props + (size_t)size;
    unsigned char hdr[8];
    hdr[0] = 0x30;
    size_t hl = 1 + encode_len(hdr + 1, remaining);
    size_t pkt = hl + remaining;
    size_t per_run = FLOOD_RUN / pkt ? FLOOD_RUN / pkt : 1;
    free(c->flood);
    c->flood = xrealloc(NULL, per_run * pkt);
    for (size_t i = 0; i < per_run; i++) {
        unsigned char *p = c->flood + i * pkt;
        memcpy(p, hdr, hl);
        p[hl] = (unsigned char)(tlen >> 8);
        p[hl + 1] = (unsigned char)tlen;
        memcpy(p + hl + 2, topic, tlen);
        if (props)
            p[hl + 2 + tlen] = 0;
        memset(p + hl + 2 + tlen + props, 'x', (size_t)size);
    }
    c->flood_len = per_run * pkt;
    c->flood_pkt = pkt;
    c->flood_off = 0;
    c->flood_bytes_left = (unsigned long long)count * pkt;
    c->msgs_out += count; /* counted when queued: all of them are written before close */
}

/* Handle every whole packet in c->in. Returns -1 when the connection must close. */
static int parse(struct conn *c)
{
    size_t pos = 0;
    while (c->in_len - pos >= 2) {
        unsigned char *p = c->in + pos;
        size_t avail = c->in_len - pos, rl = 0, i = 1;
        int mult = 0;
        for (;; i++) {
            if (i >= avail)
                goto partial;
            if (i > 4)
                return -1;
            rl |= (size_t)(p[i] & 0x7f) << mult;
            mult += 7;
            if (!(p[i] & 0x80))
                break;
        }
        size_t hl = i + 1;
        if (avail < hl + rl)
            goto partial;
        unsigned char *body = p + hl;
        switch (p[0] >> 4) {
        case 1: { /* CONNECT: the protocol level follows the name "MQTT" (or "MQIsdp") */
            size_t nl = rl >= 2 ? ((size_t)body[0] << 8) | body[1] : rl;
            c->v5 = 2 + nl < rl && body[2 + nl] == 5;
            static const unsigned char connack[4] = {0x20, 2, 0, 0};
            static const unsigned char connack5[5] = {0x20, 3, 0, 0, 0};
            if (c->v5)
                out_append(c, connack5, 5);
            else
                out_append(c, connack, 4);
            break;
        }
        case 3: { /* PUBLISH */
            int qos = (p[0] >> 1) & 3;
            c->msgs_in++;
            if (qos > 0 && rl >= 2) {
                size_t tl = ((size_t)body[0] << 8) | body[1];
                if (2 + tl + 2 > rl)
                    return -1;
                ack(c, qos == 1 ? 0x40 : 0x50, body + 2 + tl);
            }
            break;
        }
        case 6: /* PUBREL */
            if (rl < 2)
                return -1;
            ack(c, 0x70, body);
            break;
        case 8: { /* SUBSCRIBE */
            if (rl < 2)
                return -1;
            unsigned char sub[256];
            size_t n = 0, off = 2;
            if (c->v5) { /* skip the SUBSCRIBE's properties */
                size_t pl = 0;
                int m = 0;
                while (off < rl && (body[off] & 0x80) && m < 21) {
                    pl |= (size_t)(body[off++] & 0x7f) << m;
                    m += 7;
                }
                if (off >= rl)
                    return -1;
                pl |= (size_t)body[off++] << m;
                off += pl;
            }
            size_t head = c->v5 ? 5 : 4; /* MQTT 5: an empty property list */
            const char *flood_topic = NULL;
            size_t flood_tlen = 0;
            while (off + 2 < rl && n < sizeof sub - 8) {
                size_t tl = ((size_t)body[off] << 8) | body[off + 1];
                if (off + 2 + tl + 1 > rl)
                    return -1;
                const char *t = (const char *)body + off + 2;
                if (tl > 6 && memcmp(t, "flood/", 6) == 0) {
                    flood_topic = t;
                    flood_tlen = tl;
                }
                sub[head + n++] = body[off + 2 + tl] & 3;
                off += 2 + tl + 1;
            }
            sub[0] = 0x90;
            sub[1] = (unsigned char)(head - 2 + n);
            sub[2] = body[0];
            sub[3] = body[1];
            sub[4] = 0;
            out_append(c, sub, head + n);
            if (flood_topic != NULL)
                start_flood(c, flood_topic, flood_tlen);
            break;
        }
        case 10: { /* UNSUBSCRIBE */
            if (rl < 2)
                return -1;
            ack(c, 0xb0, body);
            break;
        }
        case 12: { /* PINGREQ */
            static const unsigned char pong[2] = {0xd0, 0};
            out_append(c, pong, 2);
            break;
        }
        case 14: /* DISCONNECT */
            return -1;
        default: /* PUBACK, PUBREC, PUBCOMP from a client: nothing to do */
            break;
        }
        pos += hl + rl;
    }
partial:
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    return 0;
}

/* Write acknowledgements, then flood data. Returns -1 on a dead socket. */
static int pump(struct conn *c)
{
    while (c->out_pos < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_pos, c->out_len - c->out_pos);
        if (n < 0) {
            if (errno == EAGAIN)
                goto blocked;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->out_pos += (size_t)n;
    }
    c->out_pos = c->out_len = 0;
    while (c->flood_bytes_left > 0) {
        size_t n = c->flood_len - c->flood_off;
        if (n > c->flood_bytes_left)
            n = (size_t)c->flood_bytes_left;
        ssize_t w = write(c->fd, c->flood + c->flood_off, n);
        if (w < 0) {
            if (errno == EAGAIN)
                goto blocked;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->flood_bytes_left -= (size_t)w;
        c->flood_off = (c->flood_off + (size_t)w) % c->flood_len;
    }
    if (c->watching_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->watching_out = 0;
    }
    return 0;
blocked:
    if (!c->watching_out) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->watching_out = 1;
    }
    return 0;
}

static int on_readable(struct conn *c)
{
    ssize_t n = read(c->fd, rbuf, sizeof rbuf);
    if (n == 0)
        return -1;
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    const unsigned char *data = rbuf;
    size_t len = (size_t)n;
    if (c->in_len == 0) {
        /* Parse straight from the read buffer; keep only a partial packet's tail. */
        unsigned char *saved = c->in;
        c->in = (unsigned char *)data;
        c->in_len = len;
        int rc = parse(c);
        size_t left = c->in_len;
        const unsigned char *tail = c->in;
        c->in = saved;
        c->in_len = 0;
        if (rc < 0)
            return -1;
        data = tail;
        len = left;
        if (len == 0)
            return 0;
    }
    if (c->in_len + len > c->in_cap) {
        c->in_cap = (c->in_len + len) * 2;
        c->in = xrealloc(c->in, c->in_cap);
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    return parse(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORTFILE\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 65535) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("sink: listen");
        return 1;
    }
    FILE *pf = fopen(argv[1], "w");
    if (pf == NULL) {
        perror(argv[1]);
        return 1;
    }
    fprintf(pf, "%d\n", ntohs(sa.sin_port));
    fclose(pf);

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("sink: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    if (c == NULL)
                        return 1;
                    c->fd = fd;
                    c->cpu0 = cpu_now();
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            int dead = 0;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                dead = on_readable(c) < 0;
            if (!dead)
                dead = pump(c) < 0;
            if (dead)
                close_conn(c);
        }
    }
}
