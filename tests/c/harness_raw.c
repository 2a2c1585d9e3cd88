/* Test harness: raw MQTT over TCP and a scripted fake broker (see harness.h). */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Raw MQTT                                                                 */
/* ------------------------------------------------------------------------ */

int h_listen(int *port_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) H_FAIL("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) H_FAIL("bind: %s", strerror(errno));
    if (listen(fd, 8) != 0) H_FAIL("listen: %s", strerror(errno));
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port_out = ntohs(a.sin_port);
    return fd;
}

int h_accept(int lfd, int timeout_ms) {
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    return accept(lfd, NULL, NULL);
}

/* 1 ok, 0 timeout before the first byte, -1 EOF/error. */
static int read_full(int fd, unsigned char *buf, size_t n, int timeout_ms) {
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, got == 0 ? timeout_ms : 2000);
        if (pr == 0) {
            if (got == 0) return 0;
            H_FAIL("raw MQTT peer: truncated data");
        }
        if (pr < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 1;
}

int h_pkt_read(int fd, h_pkt *p, int timeout_ms) {
    unsigned char b;
    int r = read_full(fd, &b, 1, timeout_ms);
    if (r <= 0) return r;
    memset(p, 0, offsetof(h_pkt, body));
    p->type = b >> 4;
    p->flags = b & 15;
    int mult = 1, len = 0;
    for (int i = 0; i < 4; i++) {
        if (read_full(fd, &b, 1, 2000) != 1) return -1;
        len += (b & 127) * mult;
        mult *= 128;
        if (!(b & 128)) break;
    }
    if (len > (int)sizeof p->body) H_FAIL("raw MQTT peer: packet of %d bytes too long", len);
    p->len = len;
    if (len > 0 && read_full(fd, p->body, (size_t)len, 2000) != 1) return -1;
    p->packet_id = -1;
    if (p->type == 3) {
        p->qos = (p->flags >> 1) & 3;
        p->dup = (p->flags & 8) != 0;
        p->retain = (p->flags & 1) != 0;
        int tl = p->body[0] << 8 | p->body[1];
        int cl = tl < (int)sizeof p->topic - 1 ? tl : (int)sizeof p->topic - 1;
        memcpy(p->topic, p->body + 2, (size_t)cl);
        p->topic[cl] = 0;
        if (p->qos > 0) p->packet_id = p->body[2 + tl] << 8 | p->body[3 + tl];
    } else if ((p->type >= 4 && p->type <= 11) && len >= 2) {
        p->packet_id = p->body[0] << 8 | p->body[1];
    }
    return 1;
}

ssize_t h_pkt_read_raw(int fd, void *buf, size_t n, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int pr = poll(&p, 1, timeout_ms);
    if (pr == 0) return 0;
    if (pr < 0) return -1;
    ssize_t r = read(fd, buf, n);
    return r > 0 ? r : -1;
}

void h_pkt_write(int fd, const void *buf, size_t n) {
    const unsigned char *b = buf;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            H_FAIL("raw MQTT peer: send: %s", strerror(errno));
        }
        b += w;
        n -= (size_t)w;
    }
}


/* ------------------------------------------------------------------------ */
/* Fake broker                                                              */
/* ------------------------------------------------------------------------ */

void h_fake_listen(h_fake *f) {
    memset(f, 0, sizeof *f);
    f->lfd = h_listen(&f->port);
    f->fd = -1;
    f->answer_ping = true;
}

void h_fake_accept(h_fake *f, int timeout_ms) {
    if (f->fd >= 0) close(f->fd);
    f->fd = h_accept(f->lfd, timeout_ms * h_time_scale());
    if (f->fd < 0) H_FAIL("fake broker: the client did not connect within %d ms", timeout_ms);
}

int h_fake_read(h_fake *f, h_pkt *p, int timeout_ms) {
    for (;;) {
        int r = h_pkt_read(f->fd, p, timeout_ms);
        if (r <= 0) return r;
        if (p->type == 12 && f->answer_ping) {
            static const unsigned char pingresp[] = {0xd0, 0};
            f->pings++;
            h_pkt_write(f->fd, pingresp, 2);
            continue;
        }
        return 1;
    }
}

int h_fake_expect(h_fake *f, h_pkt *p, int type, int timeout_ms) {
    int r = h_fake_read(f, p, timeout_ms);
    if (r == 0) H_FAIL("fake broker: no packet within %d ms (expected type %d)", timeout_ms, type);
    if (r < 0) H_FAIL("fake broker: connection closed (expected packet type %d)", type);
    if (p->type != type) H_FAIL("fake broker: packet type %d, expected %d", p->type, type);
    return p->packet_id;
}

void h_fake_ack(h_fake *f, int type, int id) {
    unsigned char b[4] = {(unsigned char)(type << 4 | (type == 6 ? 2 : 0)), 2, (unsigned char)(id >> 8),
                          (unsigned char)(id & 255)};
    h_pkt_write(f->fd, b, 4);
}

void h_fake_connack(h_fake *f, int flags, int rc) {
    unsigned char b[4] = {0x20, 2, (unsigned char)flags, (unsigned char)rc};
    h_pkt_write(f->fd, b, 4);
}

void h_fake_drop(h_fake *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

void h_fake_close(h_fake *f) {
    h_fake_drop(f);
    if (f->lfd >= 0) close(f->lfd);
    f->lfd = -1;
}
