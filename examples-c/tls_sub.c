/*
 * tls_sub: subscribe over TLS and print each message as "topic payload", like
 * mosquitto_sub -v --cafile.
 *
 *   tls_sub [-h host] [-p port] [-c cafile] [-C certfile -K keyfile] [-k] [-V 12|13]
 *           [-q qos] [-n count] [-W timeout_seconds] -t filter [-t filter ...]
 *
 * The host defaults to $MQTTC_TEST_HOST, then localhost; the port to
 * $MQTTC_TEST_TLS_PORT, then 8883; the CA file to $MQTTC_TEST_CA, then the system's
 * trust store. -C/-K present a client certificate, -k skips the host-name check
 * (testing only: the chain is still verified), -V pins the TLS version.
 *
 * The broker's certificate must name the host given with -h (subjectAltName); a
 * failed handshake makes mqttc_connect() return MQTTC_ERR_TLS and the reason goes
 * to on_log, which this program prints. Otherwise it works as sub.c:
 * mqttc_loop_forever() on the main thread, on_message disconnects after -n messages.
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

static void on_log(mqttc_client *c, void *userdata, int level, const char *line)
{
    (void)c;
    (void)userdata;
    if (level & (MQTTC_LOG_ERR | MQTTC_LOG_WARNING)) {
        fprintf(stderr, "log: %s\n", line);
    }
}

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
    rc = mqttc_subscribe_multiple(c, s->topic_count, s->topics, s->qos, NULL);
    if (example_failed(rc, "mqttc_subscribe_multiple")) {
        s->error = rc;
        mqttc_disconnect(c);
    }
}

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    struct sub *s = userdata;
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
    static const char text[] = "tls_sub: timed out\n";
    (void)sig;
    ssize_t ignored = write(STDERR_FILENO, text, sizeof text - 1);
    (void)ignored;
    _exit(3);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h host] [-p port] [-c cafile] [-C certfile -K keyfile] [-k]"
            " [-V 12|13] [-q qos] [-n count] [-W timeout_s] -t filter [-t filter ...]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL, *cafile = getenv("MQTTC_TEST_CA");
    const char *certfile = NULL, *keyfile = NULL;
    bool insecure = false;
    int qos = 0, timeout_s = 0, version = MQTTC_TLS_VERSION_DEFAULT;
    struct sub s;
    memset(&s, 0, sizeof s);

    int opt;
    while ((opt = getopt(argc, argv, "h:p:c:C:K:kV:q:n:W:t:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'c': cafile = optarg; break;
        case 'C': certfile = optarg; break;
        case 'K': keyfile = optarg; break;
        case 'k': insecure = true; break;
        case 'V': version = example_int_arg(optarg, 12, 13, "TLS version"); break;
        case 'q': qos = example_int_arg(optarg, 0, 2, "qos"); break;
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
    if (s.topic_count == 0 || optind != argc || (keyfile != NULL && certfile == NULL)) {
        usage(argv[0]);
    }
    for (int i = 0; i < s.topic_count; i++) {
        s.qos[i] = qos;
    }
    if (cafile != NULL && *cafile == '\0') {
        cafile = NULL;
    }
    const char *host = example_host(host_arg);
    if (port_arg == NULL) {
        port_arg = getenv("MQTTC_TEST_TLS_PORT");
    }
    int port = (port_arg != NULL && *port_arg != '\0') ? example_port(port_arg) : 8883;

    if (timeout_s > 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_timeout;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)timeout_s);
    }

    mqttc_client *c = mqttc_client_new(NULL, true, &s, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        return 1;
    }
    mqttc_on_log_set(c, on_log);
    mqttc_on_connect_set(c, on_connect);
    mqttc_on_message_set(c, on_message);

    int status = 1;
    /* Files are read here: a missing one is MQTTC_ERR_ERRNO (errno says why), one
     * without a usable certificate or key MQTTC_ERR_TLS. */
    int rc = mqttc_tls_set(c, cafile, certfile, keyfile, MQTTC_CERT_REQUIRED, version, NULL);
    if (example_failed(rc, "mqttc_tls_set")) {
        goto out;
    }
    if (insecure) {
        rc = mqttc_tls_insecure_set(c, true);
        if (example_failed(rc, "mqttc_tls_insecure_set")) {
            goto out;
        }
    }
    rc = mqttc_connect(c, host, port, 60, NULL);
    if (example_failed(rc, "mqttc_connect")) {
        goto out;
    }
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
