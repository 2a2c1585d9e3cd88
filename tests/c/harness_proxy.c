/* Test harness: a TCP proxy for fault injection between clients and a broker (see
 * harness.h). One thread polls the listening socket, every connection pair and a
 * control pipe; commands from the test take effect at the next turn of that loop. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PX_MAX_PAIRS 32
#define PX_BUF (64 * 1024)

typedef struct px_dir {
    unsigned char buf[PX_BUF];
    size_t len, off; /* bytes buf[off..len] wait to be written */
} px_dir;

typedef struct px_pair {
    int fd[2];     /* 0: client side, 1: broker side */
    px_dir dir[2]; /* dir[i]: read from fd[i], written to fd[1 - i] */
} px_pair;

struct h_proxy {
    pthread_t thread;
    int lfd, port, upstream_port;
    int ctl[2]; /* pipe: wakes the thread */
    pthread_mutex_t mu;
    /* under mu: */
    h_proxy_mode mode;
    int rate; /* bytes per 10 ms tick in H_PROXY_SLOW */
    int cut_requests, cuts_done;
    bool stop;
    int accepted;
    /* thread only: */
    px_pair *pairs[PX_MAX_PAIRS];
};

static void px_wake(h_proxy *p) {
    char b = 1;
    ssize_t w = write(p->ctl[1], &b, 1);
    (void)w;
}

static void px_close_fd(int fd, bool reset) {
    if (fd < 0) return;
    if (reset) {
        struct linger l = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
}

static void px_drop(h_proxy *p, int i, bool reset) {
    px_pair *pr = p->pairs[i];
    if (pr == NULL) return;
    px_close_fd(pr->fd[0], reset);
    px_close_fd(pr->fd[1], reset);
    free(pr);
    p->pairs[i] = NULL;
}

static int px_connect_upstream(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void px_accept(h_proxy *p, h_proxy_mode mode) {
    int cfd = accept(p->lfd, NULL, NULL);
    if (cfd < 0) return;
    pthread_mutex_lock(&p->mu);
    p->accepted++;
    pthread_mutex_unlock(&p->mu);
    if (mode == H_PROXY_DOWN) {
        px_close_fd(cfd, true); /* accepted, then reset at once */
        return;
    }
    int ufd = px_connect_upstream(p->upstream_port);
    int slot = -1;
    for (int i = 0; i < PX_MAX_PAIRS && slot < 0; i++)
        if (p->pairs[i] == NULL) slot = i;
    px_pair *pr = ufd >= 0 && slot >= 0 ? calloc(1, sizeof *pr) : NULL;
    if (pr == NULL) {
        px_close_fd(cfd, true);
        if (ufd >= 0) close(ufd);
        return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
    fcntl(ufd, F_SETFL, fcntl(ufd, F_GETFL) | O_NONBLOCK);
    pr->fd[0] = cfd;
    pr->fd[1] = ufd;
    p->pairs[slot] = pr;
}

/* Moves bytes for one pair; false when the pair ended (either side closed). */
static bool px_pump(px_pair *pr, const short *revents, h_proxy_mode mode, int *budget) {
    for (int i = 0; i < 2; i++) {
        px_dir *d = &pr->dir[i];
        if (revents[i] & (POLLERR | POLLHUP) && !(revents[i] & POLLIN)) return false;
        if (mode != H_PROXY_STALL && d->len == 0 && (revents[i] & POLLIN)) {
            size_t want = PX_BUF;
            if (mode == H_PROXY_SLOW) want = (size_t)(*budget > 0 ? *budget : 0);
            if (want > 0) {
                ssize_t r = read(pr->fd[i], d->buf, want);
                if (r == 0) return false;
                if (r < 0 && errno != EAGAIN && errno != EINTR) return false;
                if (r > 0) {
                    d->len = (size_t)r;
                    d->off = 0;
                    if (mode == H_PROXY_SLOW) *budget -= (int)r;
                }
            }
        }
        if (mode != H_PROXY_STALL && d->off < d->len) {
            ssize_t w = send(pr->fd[1 - i], d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
            if (w > 0) d->off += (size_t)w;
            if (d->off == d->len) d->len = d->off = 0;
        }
    }
    return true;
}

static void *px_main(void *arg) {
    h_proxy *p = arg;
    struct pollfd fds[2 + 2 * PX_MAX_PAIRS];
    int idx[PX_MAX_PAIRS];
    int budget = 0;
    int64_t next_tick = h_now_ms();
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop;
        h_proxy_mode mode = p->mode;
        int rate = p->rate;
        bool cut = p->cut_requests != p->cuts_done;
        int cut_to = p->cut_requests;
        pthread_mutex_unlock(&p->mu);
        if (stop) break;
        if (cut) {
            for (int i = 0; i < PX_MAX_PAIRS; i++) px_drop(p, i, true);
            pthread_mutex_lock(&p->mu);
            p->cuts_done = cut_to;
            pthread_mutex_unlock(&p->mu);
        }
        int64_t now = h_now_ms();
        if (now >= next_tick) {
            budget = rate; /* no carry-over: at most `rate` bytes per tick */
            next_tick = now + 10;
        }
        int n = 0;
        fds[n++] = (struct pollfd){p->ctl[0], POLLIN, 0};
        fds[n++] = (struct pollfd){p->lfd, POLLIN, 0};
        for (int i = 0; i < PX_MAX_PAIRS; i++) {
            idx[i] = -1;
            px_pair *pr = p->pairs[i];
            if (pr == NULL) continue;
            idx[i] = n;
            for (int k = 0; k < 2; k++) {
                short ev = 0;
                if (mode != H_PROXY_STALL) {
                    if (pr->dir[k].len == 0 && (mode != H_PROXY_SLOW || budget > 0)) ev |= POLLIN;
                    if (pr->dir[1 - k].off < pr->dir[1 - k].len) ev |= POLLOUT;
                }
                fds[n++] = (struct pollfd){pr->fd[k], ev, 0};
            }
        }
        int timeout = mode == H_PROXY_SLOW ? 10 : 200;
        if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) {
            char b[64];
            ssize_t r = read(p->ctl[0], b, sizeof b);
            (void)r;
        }
        if (fds[1].revents & POLLIN) px_accept(p, mode);
        for (int i = 0; i < PX_MAX_PAIRS; i++) {
            if (idx[i] < 0 || p->pairs[i] == NULL) continue;
            short rev[2] = {fds[idx[i]].revents, fds[idx[i] + 1].revents};
            if (mode == H_PROXY_STALL) {
                /* nothing moves, but a side that went away still ends the pair */
                if ((rev[0] | rev[1]) & (POLLERR | POLLHUP)) px_drop(p, i, false);
                continue;
            }
            if (!px_pump(p->pairs[i], rev, mode, &budget)) px_drop(p, i, false);
        }
    }
    for (int i = 0; i < PX_MAX_PAIRS; i++) px_drop(p, i, true);
    return NULL;
}

h_proxy *h_proxy_start(int upstream_port) {
    h_proxy *p = calloc(1, sizeof *p);
    if (p == NULL) H_FAIL("out of memory");
    p->upstream_port = upstream_port;
    p->lfd = h_listen(&p->port);
    if (pipe(p->ctl) != 0) H_FAIL("pipe: %s", strerror(errno));
    fcntl(p->ctl[0], F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&p->mu, NULL);
    p->mode = H_PROXY_FORWARD;
    if (pthread_create(&p->thread, NULL, px_main, p) != 0) H_FAIL("pthread_create failed");
    return p;
}

int h_proxy_port(const h_proxy *p) { return p->port; }

void h_proxy_set_mode(h_proxy *p, h_proxy_mode mode, int bytes_per_sec) {
    pthread_mutex_lock(&p->mu);
    p->mode = mode;
    p->rate = bytes_per_sec / 100 > 0 ? bytes_per_sec / 100 : 1;
    pthread_mutex_unlock(&p->mu);
    px_wake(p);
}

void h_proxy_cut(h_proxy *p) {
    pthread_mutex_lock(&p->mu);
    int want = ++p->cut_requests;
    pthread_mutex_unlock(&p->mu);
    px_wake(p);
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool done = p->cuts_done - want >= 0;
        pthread_mutex_unlock(&p->mu);
        if (done) return;
        if (h_now_ms() > deadline) H_FAIL("proxy: cut not done within 5 s");
        h_sleep_ms(1);
    }
}

int h_proxy_accepted(h_proxy *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->accepted;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void h_proxy_stop(h_proxy *p) {
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    px_wake(p);
    pthread_join(p->thread, NULL);
    close(p->lfd);
    close(p->ctl[0]);
    close(p->ctl[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
