/*
 * ws_pub: publish one message over WebSockets (optionally over TLS: wss) and wait
 * until it is published.
 *
 *   ws_pub [-h host] [-p port] [-u path] [-H "Name: value"]... [-s] [-c cafile]
 *          [-q qos] [-r] -t topic -m message
 *
 * The host defaults to $MQTTC_TEST_HOST, then localhost; the port to
 * $MQTTC_TEST_WS_PORT (with -s: $MQTTC_TEST_WSS_PORT), then 8080. -u sets the HTTP
 * path of the upgrade request (default /mqtt), -H adds a header line (for example an
 * Authorization header a proxy wants). -s turns on TLS; -c names the CA file (default
 * $MQTTC_TEST_CA, then the system's trust store).
 *
 * The WebSocket transport is chosen when the client is made; everything else is the
 * same API as over TCP. mqttc_connect() returns once the upgrade is done (a refused
 * upgrade is MQTTC_ERR_PROTOCOL, the HTTP status goes to on_log).
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
#define MAX_HEADERS 16

static void on_log(mqttc_client *c, void *userdata, int level, const char *line)
{
    (void)c;
    (void)userdata;
    if (level & (MQTTC_LOG_ERR | MQTTC_LOG_WARNING)) {
        fprintf(stderr, "log: %s\n", line);
    }
}

/* userdata: an int set to 1 on an accepted CONNACK, -1 on a refusal. */
static void on_connect(mqttc_client *c, void *userdata, int flags, int rc)
{
    int *connected = userdata;
    (void)c;
    (void)flags;
    if (rc != MQTTC_CONNACK_ACCEPTED) {
        fprintf(stderr, "connection refused: %s\n", mqttc_connack_string(rc));
    }
    *connected = rc == MQTTC_CONNACK_ACCEPTED ? 1 : -1;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h host] [-p port] [-u path] [-H 'Name: value']... [-s] [-c cafile]"
            " [-q qos] [-r] -t topic -m message\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL, *path = NULL, *topic = NULL;
    const char *message = NULL, *cafile = getenv("MQTTC_TEST_CA");
    const char *headers[MAX_HEADERS];
    int header_count = 0, qos = 0;
    bool retain = false, secure = false;

    int opt;
    while ((opt = getopt(argc, argv, "h:p:u:H:sc:q:rt:m:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'u': path = optarg; break;
        case 'H':
            if (header_count == MAX_HEADERS) {
                fprintf(stderr, "at most %d headers\n", MAX_HEADERS);
                return 2;
            }
            headers[header_count++] = optarg;
            break;
        case 's': secure = true; break;
        case 'c': cafile = optarg; break;
        case 'q': qos = example_int_arg(optarg, 0, 2, "qos"); break;
        case 'r': retain = true; break;
        case 't': topic = optarg; break;
        case 'm': message = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (topic == NULL || message == NULL || optind != argc) {
        usage(argv[0]);
    }
    if (cafile != NULL && *cafile == '\0') {
        cafile = NULL;
    }
    const char *host = example_host(host_arg);
    if (port_arg == NULL) {
        port_arg = getenv(secure ? "MQTTC_TEST_WSS_PORT" : "MQTTC_TEST_WS_PORT");
    }
    int port = (port_arg != NULL && *port_arg != '\0') ? example_port(port_arg) : 8080;

    int connected = 0;
    mqttc_client *c = mqttc_client_new(NULL, true, &connected, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_WEBSOCKETS);
    if (c == NULL) {
        perror("mqttc_client_new");
        return 1;
    }
    mqttc_on_log_set(c, on_log);
    mqttc_on_connect_set(c, on_connect);
    int status = 1;
    int rc = mqttc_ws_set_options(c, path, headers, header_count);
    if (example_failed(rc, "mqttc_ws_set_options")) {
        goto out;
    }
    if (secure) {
        rc = mqttc_tls_set(c, cafile, NULL, NULL, MQTTC_CERT_REQUIRED, MQTTC_TLS_VERSION_DEFAULT,
                           NULL);
        if (example_failed(rc, "mqttc_tls_set")) {
            goto out;
        }
    }
    rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }
    /* The loop runs on this thread: first until the CONNACK, then until the message
     * is published at its QoS. */
    long long deadline = example_now_ms() + TIMEOUT_MS;
    while (connected == 0 && example_now_ms() < deadline) {
        rc = mqttc_loop(c, 100, 1);
        if (example_failed(rc, "mqttc_loop")) {
            goto out;
        }
    }
    if (connected != 1) {
        fprintf(stderr, "not connected to %s:%d\n", host, port);
        goto out;
    }
    int mid = 0;
    rc = mqttc_publish(c, topic, message, (int)strlen(message), qos, retain, &mid);
    if (example_failed(rc, "mqttc_publish")) {
        goto out;
    }
    deadline = example_now_ms() + TIMEOUT_MS;
    while (!mqttc_is_published(c, mid)) {
        if (example_now_ms() > deadline) {
            fprintf(stderr, "message %d not published within %d ms\n", mid, TIMEOUT_MS);
            goto out;
        }
        rc = mqttc_loop(c, 100, 1);
        if (example_failed(rc, "mqttc_loop")) {
            goto out;
        }
    }
    printf("published message %d to %s over %s at qos %d%s\n", mid, topic,
           secure ? "wss" : "ws", qos, retain ? " (retained)" : "");
    rc = mqttc_disconnect(c);
    if (example_failed(rc, "mqttc_disconnect")) {
        goto out;
    }
    status = 0;

out:
    mqttc_client_destroy(c);
    return status;
}
