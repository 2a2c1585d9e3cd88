/* The raw-socket limits the client libraries are measured against: no library, just
 * pre-encoded MQTT packets on a blocking TCP socket.
 *
 *   raw chunk|perpkt|lat HOST PORT COUNT SIZE
 *
 *   chunk   COUNT QoS 0 PUBLISH packets, pre-encoded, written in 64 KiB runs
 *   perpkt  the same, one write() per packet
 *   lat     COUNT sequential round trips through a broker: write one QoS 0 PUBLISH to
 *           a topic this connection is subscribed to, read until it comes back
 */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define RUN (64 * 1024)

static void write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("read");
        p += r;
        n -= (size_t)r;
    }
}

/* Reads one whole packet into buf (at most cap bytes); returns its first byte. */
static int read_packet(int fd, unsigned char *buf, size_t cap, size_t *len)
{
    unsigned char b;
    read_all(fd, buf, 1);
    size_t rl = 0, i = 1;
    int shift = 0;
    do {
        read_all(fd, &b, 1);
        buf[i++] = b;
        rl |= (size_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && i < 5);
    if (i + rl > cap)
        die("packet too big");
    read_all(fd, buf + i, rl);
    *len = i + rl;
    return buf[0];
}

static size_t encode_publish(unsigned char *p, const char *topic, int size)
{
    size_t tl = strlen(topic), rl = 2 + tl + (size_t)size, n = 0;
    p[n++] = 0x30;
    size_t len = rl;
    do {
        unsigned char d = len & 0x7f;
        len >>= 7;
        p[n++] = d | (len ? 0x80 : 0);
    } while (len);
    p[n++] = (unsigned char)(tl >> 8);
    p[n++] = (unsigned char)tl;
    memcpy(p + n, topic, tl);
    n += tl;
    memset(p + n, 'x', (size_t)size);
    return n + (size_t)size;
}

static int connect_mqtt(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        die("host must be an IPv4 address");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char id[32];
    int idl = snprintf(id, sizeof id, "bench-raw-%d", (int)getpid());
    unsigned char c[64] = {0x10, (unsigned char)(10 + 2 + idl), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60,
                           0, (unsigned char)idl};
    memcpy(c + 14, id, (size_t)idl);
    write_all(fd, c, 14 + (size_t)idl);
    unsigned char ack[4];
    read_all(fd, ack, 4);
    if (ack[0] != 0x20 || ack[3] != 0)
        die("CONNACK refused");
    return fd;
}

int main(int argc, char **argv)
{
    struct bench_args a = parse_args(argc, argv, "chunk|perpkt|lat");
    int fd = connect_mqtt(a.host, a.port);
    unsigned char *pkt = malloc((size_t)a.size + 256);
    if (strcmp(a.cas, "lat") == 0) {
        char topic[64];
        snprintf(topic, sizeof topic, "lat/raw/%d", (int)getpid());
        size_t tl = strlen(topic);
        unsigned char sub[128] = {0x82, (unsigned char)(2 + 2 + tl + 1), 0, 1, 0, (unsigned char)tl};
        memcpy(sub + 6, topic, tl);
        sub[6 + tl] = 0;
        write_all(fd, sub, 7 + tl);
        unsigned char in[512 + 65536];
        size_t len;
        if (read_packet(fd, in, sizeof in, &len) != 0x90)
            die("expected SUBACK");
        size_t n = encode_publish(pkt, topic, a.size);
        long warmup = a.count / 10 > 0 ? a.count / 10 : 1;
        double *us = malloc(sizeof(double) * (size_t)a.count), c0 = cpu_s();
        for (long i = 0; i < a.count + warmup; i++) {
            double t = now_s();
            write_all(fd, pkt, n);
            if ((read_packet(fd, in, sizeof in, &len) >> 4) != 3)
                die("expected PUBLISH");
            if (i >= warmup)
                us[i - warmup] = (now_s() - t) * 1e6;
        }
        print_latency(us, (int)a.count, cpu_s() - c0);
        return 0;
    }
    size_t n = encode_publish(pkt, BENCH_TOPIC, a.size);
    double t0 = now_s(), c0 = cpu_s();
    if (strcmp(a.cas, "perpkt") == 0) {
        for (long i = 0; i < a.count; i++)
            write_all(fd, pkt, n);
    } else if (strcmp(a.cas, "chunk") == 0) {
        size_t per = RUN / n ? RUN / n : 1;
        unsigned char *run = malloc(per * n);
        for (size_t i = 0; i < per; i++)
            memcpy(run + i * n, pkt, n);
        long left = a.count;
        while (left > 0) {
            long k = left < (long)per ? left : (long)per;
            write_all(fd, run, (size_t)k * n);
            left -= k;
        }
    } else {
        die("unknown case");
    }
    print_throughput(a.count, now_s() - t0, cpu_s() - c0);
    unsigned char disc[2] = {0xe0, 0};
    write_all(fd, disc, 2);
    close(fd);
    return 0;
}
