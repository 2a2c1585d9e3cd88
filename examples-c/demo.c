/*
 * demo: subscribe to a topic, publish messages to it at QoS 0, 1 and 2
 * through the broker, print each message as it comes back, and exit 0 once
 * all have arrived (1 on error or after the timeout).
 *
 *   demo [-h host] [-p port] [-n messages_per_qos] [-W timeout_seconds]
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883. The whole program runs on one thread, driven by
 * mqttc_loop(); the callbacks run inside mqttc_loop().
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example_common.h"
#include "mqttc.h"

#define MAX_PER_QOS 100

struct demo {
    char topic[128];
    int per_qos;
    int expected;           /* messages to receive (and to see published) */
    int received;
    int published;          /* on_publish calls */
    bool seen[3][MAX_PER_QOS];
    bool subscribed;
    bool disconnected;
    int error;              /* first error seen by a callback, or 0 */
};

static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    struct demo *d = userdata;
    (void)flags;
    if (rc != MQTTC_CONNACK_ACCEPTED) {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
        d->error = MQTTC_ERR_CONN_REFUSED;
        return;
    }
    printf("connected; subscribing to %s\n", d->topic);
    /* Subscribing in on_connect renews the subscription after a reconnect. */
    rc = mqttc_subscribe(c, d->topic, 2, NULL);
    if (example_failed(rc, "mqttc_subscribe")) {
        d->error = rc;
    }
}

static void on_subscribe(mqttc_client *c, void *userdata, int mid, int qos_count,
                         const int *granted_qos)
{
    struct demo *d = userdata;
    (void)mid;
    if (qos_count != 1 || granted_qos[0] != 2) {
        fprintf(stderr, "subscription not granted at QoS 2 (got %d)\n",
                qos_count > 0 ? granted_qos[0] : -1);
        d->error = MQTTC_ERR_PROTOCOL;
        return;
    }
    if (d->subscribed) {
        return;
    }
    d->subscribed = true;
    printf("subscribed; publishing %d messages at each of QoS 0, 1 and 2\n", d->per_qos);
    /* Publishing from inside a callback is allowed. */
    for (int i = 0; i < d->per_qos; i++) {
        for (int qos = 0; qos <= 2; qos++) {
            char payload[64];
            int len = snprintf(payload, sizeof payload, "message %d at qos %d", i, qos);
            int rc = mqttc_publish(c, d->topic, payload, len, qos, false, NULL);
            if (example_failed(rc, "mqttc_publish")) {
                d->error = rc;
                return;
            }
        }
    }
}

static void on_publish(mqttc_client *c, void *userdata, int mid)
{
    struct demo *d = userdata;
    (void)c;
    (void)mid;
    d->published++;
}

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    struct demo *d = userdata;
    int i = -1, qos = -1;
    char text[64];
    (void)c;
    int len = msg->payloadlen < (int)sizeof text - 1 ? msg->payloadlen : (int)sizeof text - 1;
    memcpy(text, msg->payload, (size_t)len);
    text[len] = '\0';
    printf("received on %s (qos %d, mid %d): %s\n", msg->topic, msg->qos, msg->mid, text);
    if (sscanf(text, "message %d at qos %d", &i, &qos) != 2 || i < 0 || i >= d->per_qos ||
        qos < 0 || qos > 2 || qos != msg->qos) {
        fprintf(stderr, "unexpected message: %s\n", text);
        d->error = MQTTC_ERR_PROTOCOL;
        return;
    }
    if (d->seen[qos][i]) {
        /* QoS 0 and 1 may in theory be duplicated; QoS 2 never. */
        printf("  (duplicate)\n");
        if (qos == 2) {
            d->error = MQTTC_ERR_PROTOCOL;
        }
        return;
    }
    d->seen[qos][i] = true;
    d->received++;
}

static void on_disconnect(mqttc_client *c, void *userdata, int rc)
{
    struct demo *d = userdata;
    (void)c;
    d->disconnected = true;
    if (rc != MQTTC_ERR_SUCCESS) {
        fprintf(stderr, "connection lost: %s\n", mqttc_error_string(rc));
        if (d->error == 0) {
            d->error = rc;
        }
    }
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-h host] [-p port] [-n messages_per_qos] [-W timeout_s]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL;
    int timeout_s = 30;
    static struct demo d;
    d.per_qos = 2;

    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:W:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'n': d.per_qos = example_int_arg(optarg, 1, MAX_PER_QOS, "message count"); break;
        case 'W': timeout_s = example_int_arg(optarg, 1, 3600, "timeout"); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc) {
        usage(argv[0]);
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);
    d.expected = 3 * d.per_qos;
    /* A topic of our own, so that concurrent runs do not see each other. */
    snprintf(d.topic, sizeof d.topic, "mqttc/demo/%ld-%lld", (long)getpid(), example_now_ms());

    int major = 0, minor = 0, revision = 0;
    mqttc_lib_version(&major, &minor, &revision);
    printf("mqttc %d.%d.%d, broker %s:%d\n", major, minor, revision, host, port);

    mqttc_client *c = mqttc_client_new(NULL, true, &d, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        return 1;
    }
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_subscribe_set(c, on_subscribe);
    mqttc_on_publish_set(c, on_publish);
    mqttc_on_message_set(c, on_message);
    mqttc_on_disconnect_set(c, on_disconnect);

    int status = 1;
    int rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }

    long long deadline = example_now_ms() + (long long)timeout_s * 1000;
    while (d.error == 0 && (d.received < d.expected || d.published < d.expected)) {
        if (example_now_ms() > deadline) {
            fprintf(stderr, "timed out: %d of %d messages received, %d of %d published\n",
                    d.received, d.expected, d.published, d.expected);
            goto out;
        }
        rc = mqttc_loop(c, 100, 1);
        if (example_failed(rc, "mqttc_loop")) {
            goto out;
        }
    }
    if (d.error != 0) {
        goto out;
    }
    printf("all %d messages received\n", d.expected);

    /* Disconnect cleanly: the loop sends DISCONNECT, then on_disconnect runs. */
    rc = mqttc_disconnect(c);
    if (example_failed(rc, "mqttc_disconnect")) {
        goto out;
    }
    deadline = example_now_ms() + 5000;
    while (!d.disconnected && example_now_ms() < deadline) {
        rc = mqttc_loop(c, 100, 1);
        if (rc == MQTTC_ERR_NO_CONN) {
            break; /* already closed */
        }
        if (example_failed(rc, "mqttc_loop")) {
            goto out;
        }
    }
    status = d.error == 0 ? 0 : 1;

out:
    mqttc_client_destroy(c);
    return status;
}
