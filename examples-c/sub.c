/*
 * sub: subscribe to one or more topic filters and print each message as
 * "topic payload", like mosquitto_sub -v.
 *
 *   sub [-h host] [-p port] [-q qos] [-u user] [-P password] [-i client_id]
 *       [-n count] [-W timeout_seconds] -t filter [-t filter ...]
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883. mqttc_loop_forever() runs the loop on the main thread and
 * reconnects after a lost connection; after -n messages, on_message calls
 * mqttc_disconnect() and mqttc_loop_forever() returns. -W ends the program
 * with status 3 if that takes longer than the given number of seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example_common.h"
#include "mqttc.h"

#define MAX_TOPICS 16

struct sub {
    const char *topics[MAX_TOPICS];
    int qos[MAX_TOPICS];
    int topic_count;
    int wanted; /* 0: forever */
    int received;
    int error;
};

static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    struct sub *s = userdata;
    (void)flags;
    if (rc != MQTTC_CONNACK_ACCEPTED) {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
        s->error = MQTTC_ERR_CONN_REFUSED;
        mqttc_disconnect(c);
        return;
    }
    /* Subscribing in on_connect renews the subscriptions after a reconnect.
     * One SUBSCRIBE packet carries all the filters. */
    rc = mqttc_subscribe_multiple(c, s->topic_count, s->topics, s->qos, NULL);
    if (example_failed(rc, "mqttc_subscribe_multiple")) {
        s->error = rc;
        mqttc_disconnect(c);
    }
}

static void on_subscribe(mqttc_client *c, void *userdata, int mid, int qos_count,
                         const int *granted_qos)
{
    struct sub *s = userdata;
    (void)mid;
    for (int i = 0; i < qos_count; i++) {
        if (granted_qos[i] > 2) { /* 0x80: the broker refused this filter */
            fprintf(stderr, "subscription to %s refused\n",
                    i < s->topic_count ? s->topics[i] : "?");
            s->error = MQTTC_ERR_ACL_DENIED;
            mqttc_disconnect(c);
            return;
        }
    }
    fprintf(stderr, "subscribed to %d filter(s)\n", qos_count);
}

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    struct sub *s = userdata;
    /* The message is valid only during the callback: print it now. */
    printf("%s %.*s\n", msg->topic, msg->payloadlen, (const char *)msg->payload);
    fflush(stdout);
    s->received++;
    if (s->wanted > 0 && s->received == s->wanted) {
        int rc = mqttc_disconnect(c);
        if (example_failed(rc, "mqttc_disconnect")) {
            s->error = rc;
        }
    }
}

static void on_timeout(int sig)
{
    static const char text[] = "sub: timed out\n";
    (void)sig;
    /* Only async-signal-safe calls here. */
    ssize_t ignored = write(STDERR_FILENO, text, sizeof text - 1);
    (void)ignored;
    _exit(3);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h host] [-p port] [-q qos] [-u user] [-P password] [-i id]"
            " [-n count] [-W timeout_s] -t filter [-t filter ...]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL, *user = NULL, *password = NULL;
    const char *client_id = NULL;
    int qos = 0, timeout_s = 0;
    struct sub s;
    memset(&s, 0, sizeof s);

    int opt;
    while ((opt = getopt(argc, argv, "h:p:q:u:P:i:n:W:t:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'q': qos = example_int_arg(optarg, 0, 2, "qos"); break;
        case 'u': user = optarg; break;
        case 'P': password = optarg; break;
        case 'i': client_id = optarg; break;
        case 'n': s.wanted = example_int_arg(optarg, 0, 1000000000, "count"); break;
        case 'W': timeout_s = example_int_arg(optarg, 0, 86400, "timeout"); break;
        case 't':
            if (s.topic_count == MAX_TOPICS) {
                fprintf(stderr, "at most %d filters\n", MAX_TOPICS);
                return 2;
            }
            s.topics[s.topic_count++] = optarg;
            break;
        default: usage(argv[0]);
        }
    }
    if (s.topic_count == 0 || optind != argc) {
        usage(argv[0]);
    }
    for (int i = 0; i < s.topic_count; i++) {
        s.qos[i] = qos;
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);

    if (timeout_s > 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_timeout;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)timeout_s);
    }

    mqttc_client *c = mqttc_client_new(client_id, true, &s, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        return 1;
    }
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_subscribe_set(c, on_subscribe);
    mqttc_on_message_set(c, on_message);

    int status = 1;
    int rc;
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
    /* Returns after mqttc_disconnect(); reconnects by itself until then.
     * paho returns MQTT_ERR_NO_CONN after a requested disconnect, so that is
     * no error here. */
    rc = mqttc_loop_forever(c, -1, 1, false);
    if (rc == MQTTC_ERR_NO_CONN && s.wanted > 0 && s.received >= s.wanted) {
        rc = MQTTC_ERR_SUCCESS;
    }
    if (example_failed(rc, "mqttc_loop_forever")) {
        goto out;
    }
    status = s.error == 0 ? 0 : 1;

out:
    mqttc_client_destroy(c);
    return status;
}
