/*
 * threaded: mqttc_loop_start() runs the network loop on a thread of the
 * library's while the main thread publishes; on_publish (called on the loop
 * thread) counts the messages the broker has acknowledged, and the main
 * thread waits until all are, then disconnects and joins the loop thread.
 *
 *   threaded [-h host] [-p port] [-n messages] [-q qos] [-t topic]
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example_common.h"
#include "mqttc.h"

#define TIMEOUT_MS 30000

struct threaded {
    example_counter connected;
    example_counter published;
    example_counter disconnected;
};

static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    struct threaded *t = userdata;
    (void)c;
    (void)flags;
    if (rc == MQTTC_CONNACK_ACCEPTED) {
        example_counter_add(&t->connected, 1);
    } else {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
        example_counter_fail(&t->connected);
    }
}

static void on_publish(mqttc_client *c, void *userdata, int mid)
{
    struct threaded *t = userdata;
    (void)c;
    (void)mid;
    /* May run before mqttc_publish() has even returned the mid to the main
     * thread: count, do not look the mid up. */
    example_counter_add(&t->published, 1);
}

static void on_disconnect(mqttc_client *c, void *userdata, int rc)
{
    struct threaded *t = userdata;
    (void)c;
    if (rc != MQTTC_ERR_SUCCESS) {
        /* loop_start's thread reconnects by itself; QoS>0 messages not yet
         * acknowledged are sent again then. */
        fprintf(stderr, "connection lost (%s); reconnecting\n", mqttc_error_string(rc));
        return;
    }
    example_counter_add(&t->disconnected, 1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-h host] [-p port] [-n messages] [-q qos] [-t topic]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL;
    char topic_buf[128];
    const char *topic = NULL;
    int count = 100, qos = 1;

    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:q:t:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'n': count = example_int_arg(optarg, 1, 1000000, "message count"); break;
        case 'q': qos = example_int_arg(optarg, 0, 2, "qos"); break;
        case 't': topic = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc) {
        usage(argv[0]);
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);
    if (topic == NULL) {
        snprintf(topic_buf, sizeof topic_buf, "mqttc/threaded/%ld", (long)getpid());
        topic = topic_buf;
    }

    struct threaded t;
    example_counter_init(&t.connected);
    example_counter_init(&t.published);
    example_counter_init(&t.disconnected);
    int status = 1;
    int rc;

    mqttc_client *c = mqttc_client_new(NULL, true, &t, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        goto cleanup;
    }
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_publish_set(c, on_publish);
    mqttc_on_disconnect_set(c, on_disconnect);
    /* Let every message be in flight at once rather than 20 at a time. */
    rc = mqttc_max_inflight_messages_set(c, 1000);
    if (example_failed(rc, "mqttc_max_inflight_messages_set")) {
        goto out;
    }

    rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }
    rc = mqttc_loop_start(c);
    if (example_failed(rc, "mqttc_loop_start")) {
        goto out;
    }
    if (example_counter_wait(&t.connected, 1, TIMEOUT_MS) != 0) {
        fprintf(stderr, "not connected to %s:%d\n", host, port);
        goto stop;
    }

    long long start = example_now_ms();
    for (int i = 0; i < count; i++) {
        char payload[32];
        int len = snprintf(payload, sizeof payload, "%d", i);
        rc = mqttc_publish(c, topic, payload, len, qos, false, NULL);
        if (example_failed(rc, "mqttc_publish")) {
            goto stop;
        }
    }
    if (example_counter_wait(&t.published, count, TIMEOUT_MS) != 0) {
        fprintf(stderr, "only %d of %d messages published within %d ms\n",
                example_counter_get(&t.published), count, TIMEOUT_MS);
        goto stop;
    }
    long long elapsed = example_now_ms() - start;
    printf("%d messages published at qos %d to %s in %lld ms\n", count, qos, topic, elapsed);

    rc = mqttc_disconnect(c);
    if (example_failed(rc, "mqttc_disconnect")) {
        goto stop;
    }
    if (example_counter_wait(&t.disconnected, 1, TIMEOUT_MS) != 0) {
        fprintf(stderr, "on_disconnect not called\n");
        goto stop;
    }
    status = 0;

stop:
    rc = mqttc_loop_stop(c, status != 0);
    if (example_failed(rc, "mqttc_loop_stop")) {
        status = 1;
    }
out:
    mqttc_client_destroy(c);
cleanup:
    example_counter_destroy(&t.disconnected);
    example_counter_destroy(&t.published);
    example_counter_destroy(&t.connected);
    return status;
}
