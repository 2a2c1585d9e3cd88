/*
 * epoll_loop: drive a client from an epoll loop of our own, with no thread
 * and no mqttc_loop*() call of the library's:
 *
 *   - on_socket_open / on_socket_close add and remove the fd;
 *   - on_socket_register_write / on_socket_unregister_write turn EPOLLOUT on
 *     and off (mqttc_want_write() says the same thing, and is checked too);
 *   - readable -> mqttc_loop_read(), writable -> mqttc_loop_write();
 *   - mqttc_misc_timeout_ms() bounds the wait, mqttc_loop_misc() runs the
 *     keepalive and the other timers.
 *
 * It subscribes to a topic of its own, publishes -n messages to it, and
 * exits 0 once all have come back (1 on error or after -W seconds).
 *
 *   epoll_loop [-h host] [-p port] [-n messages] [-q qos] [-W timeout_seconds]
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "example_common.h"
#include "mqttc.h"

struct app {
    int epfd;
    int fd;          /* the fd registered with epoll, or -1 */
    uint32_t events; /* what it is registered for */
    char topic[128];
    int qos;
    int count;
    int published;
    int received;
    bool subscribed;
    bool disconnect_sent;
    bool disconnected;
    int error;
};

/* Registers fd for EPOLLIN, plus EPOLLOUT when want_write. */
static void watch(struct app *a, int fd, bool want_write)
{
    uint32_t events = EPOLLIN | (want_write ? (uint32_t)EPOLLOUT : 0u);
    if (fd < 0 || (fd == a->fd && events == a->events)) {
        return;
    }
    if (a->fd >= 0 && a->fd != fd) {
        epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->fd, NULL);
        a->fd = -1;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(a->epfd, a->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
        perror("epoll_ctl");
        a->error = MQTTC_ERR_ERRNO;
        return;
    }
    a->fd = fd;
    a->events = events;
}

static void unwatch(struct app *a, int fd)
{
    if (fd >= 0 && fd == a->fd) {
        /* The fd may already be closed, which removes it anyway. */
        epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL);
        a->fd = -1;
        a->events = 0;
    }
}

static void on_socket_open(mqttc_client *c, void *userdata, int sock)
{
    (void)c;
    watch(userdata, sock, false);
}

static void on_socket_close(mqttc_client *c, void *userdata, int sock)
{
    (void)c;
    unwatch(userdata, sock);
}

static void on_socket_register_write(mqttc_client *c, void *userdata, int sock)
{
    (void)c;
    watch(userdata, sock, true);
}

static void on_socket_unregister_write(mqttc_client *c, void *userdata, int sock)
{
    (void)c;
    watch(userdata, sock, false);
}

static void maybe_finish(mqttc_client *c, struct app *a)
{
    if (a->received == a->count && a->published == a->count && !a->disconnect_sent) {
        a->disconnect_sent = true;
        int rc = mqttc_disconnect(c);
        if (example_failed(rc, "mqttc_disconnect")) {
            a->error = rc;
        }
    }
}

static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    struct app *a = userdata;
    (void)flags;
    if (rc != MQTTC_CONNACK_ACCEPTED) {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
        a->error = MQTTC_ERR_CONN_REFUSED;
        return;
    }
    rc = mqttc_subscribe(c, a->topic, a->qos, NULL);
    if (example_failed(rc, "mqttc_subscribe")) {
        a->error = rc;
    }
}

static void on_subscribe(mqttc_client *c, void *userdata, int mid, int qos_count,
                         const int *granted_qos)
{
    struct app *a = userdata;
    (void)mid;
    if (qos_count != 1 || granted_qos[0] > 2) {
        fprintf(stderr, "subscription refused\n");
        a->error = MQTTC_ERR_ACL_DENIED;
        return;
    }
    if (a->subscribed) {
        return;
    }
    a->subscribed = true;
    for (int i = 0; i < a->count; i++) {
        char payload[32];
        int len = snprintf(payload, sizeof payload, "%d", i);
        int rc = mqttc_publish(c, a->topic, payload, len, a->qos, false, NULL);
        if (example_failed(rc, "mqttc_publish")) {
            a->error = rc;
            return;
        }
    }
}

static void on_publish(mqttc_client *c, void *userdata, int mid)
{
    struct app *a = userdata;
    (void)mid;
    a->published++;
    maybe_finish(c, a);
}

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    struct app *a = userdata;
    (void)msg;
    a->received++;
    maybe_finish(c, a);
}

static void on_disconnect(mqttc_client *c, void *userdata, int rc)
{
    struct app *a = userdata;
    (void)c;
    a->disconnected = true;
    if (rc != MQTTC_ERR_SUCCESS && a->error == 0) {
        fprintf(stderr, "connection lost: %s\n", mqttc_error_string(rc));
        a->error = rc;
    }
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-h host] [-p port] [-n messages] [-q qos] [-W timeout_s]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL;
    int timeout_s = 30;
    struct app a;
    memset(&a, 0, sizeof a);
    a.fd = -1;
    a.count = 100;
    a.qos = 1;

    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:q:W:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'n': a.count = example_int_arg(optarg, 1, 1000000, "message count"); break;
        case 'q': a.qos = example_int_arg(optarg, 0, 2, "qos"); break;
        case 'W': timeout_s = example_int_arg(optarg, 1, 3600, "timeout"); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc) {
        usage(argv[0]);
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);
    snprintf(a.topic, sizeof a.topic, "mqttc/epoll/%ld-%lld", (long)getpid(), example_now_ms());

    a.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (a.epfd < 0) {
        perror("epoll_create1");
        return 1;
    }
    int status = 1;
    int rc;
    mqttc_client *c = mqttc_client_new(NULL, true, &a, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        close(a.epfd);
        return 1;
    }
    mqttc_on_socket_open_set(c, on_socket_open);
    mqttc_on_socket_close_set(c, on_socket_close);
    mqttc_on_socket_register_write_set(c, on_socket_register_write);
    mqttc_on_socket_unregister_write_set(c, on_socket_unregister_write);
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_subscribe_set(c, on_subscribe);
    mqttc_on_publish_set(c, on_publish);
    mqttc_on_message_set(c, on_message);
    mqttc_on_disconnect_set(c, on_disconnect);
    /* Every message may be in flight at once (the default is 20). */
    rc = mqttc_max_inflight_messages_set(c, (unsigned)a.count);
    if (example_failed(rc, "mqttc_max_inflight_messages_set")) {
        goto out;
    }

    /* Connects the socket (on_socket_open runs) and queues CONNECT. */
    rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }

    long long deadline = example_now_ms() + (long long)timeout_s * 1000;
    while (!a.disconnected && a.error == 0) {
        int fd = mqttc_socket(c);
        if (fd < 0) {
            fprintf(stderr, "not connected\n");
            goto out;
        }
        /* The socket callbacks keep the registration right; this catches a
         * program that does not set them. */
        watch(&a, fd, mqttc_want_write(c));

        long long now = example_now_ms();
        if (now >= deadline) {
            fprintf(stderr, "timed out: %d of %d published, %d received\n", a.published,
                    a.count, a.received);
            goto out;
        }
        long long wait_ms = deadline - now;
        int misc_ms = mqttc_misc_timeout_ms(c);
        if (misc_ms >= 0 && misc_ms < wait_ms) {
            wait_ms = misc_ms;
        }

        struct epoll_event events[4];
        int n = epoll_wait(a.epfd, events, 4, (int)wait_ms);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("epoll_wait");
            goto out;
        }
        for (int i = 0; i < n && !a.disconnected; i++) {
            if (events[i].data.fd != mqttc_socket(c)) {
                continue; /* an fd closed earlier in this batch */
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                rc = mqttc_loop_read(c, 1);
                if (!a.disconnected && example_failed(rc, "mqttc_loop_read")) {
                    goto out;
                }
            }
            if ((events[i].events & EPOLLOUT) && !a.disconnected) {
                rc = mqttc_loop_write(c, 1);
                if (!a.disconnected && example_failed(rc, "mqttc_loop_write")) {
                    goto out;
                }
            }
        }
        if (!a.disconnected) {
            rc = mqttc_loop_misc(c);
            if (!a.disconnected && example_failed(rc, "mqttc_loop_misc")) {
                goto out;
            }
        }
    }
    if (a.error == 0 && a.received == a.count) {
        printf("%d messages sent and received at qos %d on %s through an epoll loop\n",
               a.count, a.qos, a.topic);
        status = 0;
    }

out:
    mqttc_client_destroy(c);
    close(a.epfd);
    return status;
}
