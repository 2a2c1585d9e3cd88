/*
 * pub: publish one message and wait until it is published.
 *
 *   pub [-h host] [-p port] [-q qos] [-r] [-u user] [-P password] [-i client_id]
 *       -t topic -m message
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883. mqttc_loop_start() runs the network loop on a thread of the
 * library's; the main thread waits for the CONNACK, publishes, and blocks in
 * mqttc_wait_for_publish() until the message is published at its QoS
 * (QoS 0: written to the socket, QoS 1: PUBACK, QoS 2: PUBCOMP).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example_common.h"
#include "mqttc.h"

#define TIMEOUT_MS 10000

struct pub {
    example_counter connected; /* 1 once the CONNACK accepted us */
};

static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    struct pub *p = userdata;
    (void)c;
    (void)flags;
    if (rc == MQTTC_CONNACK_ACCEPTED) {
        example_counter_add(&p->connected, 1);
    } else {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
        example_counter_fail(&p->connected);
    }
}

static void on_disconnect(mqttc_client *c, void *userdata, int rc)
{
    struct pub *p = userdata;
    (void)c;
    if (rc != MQTTC_ERR_SUCCESS) {
        fprintf(stderr, "connection lost: %s\n", mqttc_error_string(rc));
        example_counter_fail(&p->connected);
    }
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h host] [-p port] [-q qos] [-r] [-u user] [-P password] [-i id]"
            " -t topic -m message\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL, *topic = NULL, *message = NULL;
    const char *user = NULL, *password = NULL, *client_id = NULL;
    int qos = 0;
    bool retain = false;

    int opt;
    while ((opt = getopt(argc, argv, "h:p:q:ru:P:i:t:m:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'q': qos = example_int_arg(optarg, 0, 2, "qos"); break;
        case 'r': retain = true; break;
        case 'u': user = optarg; break;
        case 'P': password = optarg; break;
        case 'i': client_id = optarg; break;
        case 't': topic = optarg; break;
        case 'm': message = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (topic == NULL || message == NULL || optind != argc) {
        usage(argv[0]);
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);

    struct pub p;
    example_counter_init(&p.connected);
    int status = 1;
    int rc;

    mqttc_client *c = mqttc_client_new(client_id, true, &p, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        example_counter_destroy(&p.connected);
        return 1;
    }
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_disconnect_set(c, on_disconnect);
    if (user != NULL) {
        rc = mqttc_username_pw_set(c, user, password);
        if (example_failed(rc, "mqttc_username_pw_set")) {
            goto out;
        }
    }

    rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }
    rc = mqttc_loop_start(c);
    if (example_failed(rc, "mqttc_loop_start")) {
        goto out;
    }
    if (example_counter_wait(&p.connected, 1, TIMEOUT_MS) != 0) {
        fprintf(stderr, "not connected to %s:%d\n", host, port);
        goto stop;
    }

    int mid = 0;
    rc = mqttc_publish(c, topic, message, (int)strlen(message), qos, retain, &mid);
    if (example_failed(rc, "mqttc_publish")) {
        goto stop;
    }
    rc = mqttc_wait_for_publish(c, mid, TIMEOUT_MS);
    if (rc == MQTTC_ERR_AGAIN) {
        fprintf(stderr, "message %d not published within %d ms\n", mid, TIMEOUT_MS);
        goto stop;
    }
    if (example_failed(rc, "mqttc_wait_for_publish")) {
        goto stop;
    }
    if (!mqttc_is_published(c, mid)) {
        fprintf(stderr, "mqttc_is_published(%d) is false after wait_for_publish\n", mid);
        goto stop;
    }
    printf("published message %d to %s at qos %d%s\n", mid, topic, qos,
           retain ? " (retained)" : "");

    rc = mqttc_disconnect(c);
    if (example_failed(rc, "mqttc_disconnect")) {
        goto stop;
    }
    status = 0;

stop:
    /* After mqttc_disconnect the loop thread sends the DISCONNECT and ends;
     * loop_stop joins it (and forces it to stop on the error paths). */
    rc = mqttc_loop_stop(c, status != 0);
    if (example_failed(rc, "mqttc_loop_stop")) {
        status = 1;
    }
out:
    mqttc_client_destroy(c);
    example_counter_destroy(&p.connected);
    return status;
}
