/*
 * v5_request_response: MQTT 5 request/response between two clients of one
 * program. The responder subscribes to a request topic; the requester sends
 * requests carrying a ResponseTopic, CorrelationData and a UserProperty; the
 * responder answers each on its ResponseTopic with the same CorrelationData, and
 * the requester matches answers to requests by it. Reason codes are printed
 * with mqttc_reason_string().
 *
 *   v5_request_response [-h host] [-p port] [-n requests]
 *
 * The host and port default to $MQTTC_TEST_HOST / $MQTTC_TEST_PORT, then
 * localhost:1883. Exits 0 once every request got its answer.
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
#define MAX_REQUESTS 1000

struct app {
    char request_topic[128];
    char response_topic[128];
    example_counter connected;
    example_counter subscribed;
    example_counter answered;
    bool seen[MAX_REQUESTS];
};

static void on_connect(mqttc_client *c, void *userdata, int flags, int reason_code,
                       const mqttc_properties *props)
{
    struct app *a = userdata;
    (void)c;
    (void)flags;
    uint32_t receive_max = 65535;
    mqttc_properties_get_int(props, MQTTC_PROP_RECEIVE_MAXIMUM, 0, &receive_max);
    printf("connected: %s (server Receive Maximum %u)\n", mqttc_reason_string(reason_code),
           (unsigned)receive_max);
    if (reason_code == MQTTC_RC_SUCCESS) {
        example_counter_add(&a->connected, 1);
    } else {
        example_counter_fail(&a->connected);
    }
}

static void on_subscribe(mqttc_client *c, void *userdata, int mid, int count,
                         const int *reason_codes, const mqttc_properties *props)
{
    struct app *a = userdata;
    (void)c;
    (void)mid;
    (void)props;
    for (int i = 0; i < count; i++) {
        if (reason_codes[i] >= 0x80) {
            fprintf(stderr, "subscription refused: %s\n", mqttc_reason_string(reason_codes[i]));
            example_counter_fail(&a->subscribed);
            return;
        }
    }
    example_counter_add(&a->subscribed, 1);
}

/* The responder: answer on the request's ResponseTopic, echoing CorrelationData. */
static void on_request(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    (void)userdata;
    const char *response_topic = NULL;
    const void *corr = NULL;
    int corr_len = 0;
    if (mqttc_properties_get_string(msg->properties, MQTTC_PROP_RESPONSE_TOPIC, 0,
                                    &response_topic) != MQTTC_ERR_SUCCESS) {
        fprintf(stderr, "a request without ResponseTopic\n");
        return;
    }
    mqttc_properties_get_binary(msg->properties, MQTTC_PROP_CORRELATION_DATA, 0, &corr, &corr_len);
    const char *name = NULL, *value = NULL;
    mqttc_properties_get_user(msg->properties, 0, &name, &value);

    char answer[256];
    int n = snprintf(answer, sizeof answer, "answer to '%.*s' (%s=%s)", msg->payloadlen,
                     (const char *)msg->payload, name ? name : "-", value ? value : "-");
    mqttc_properties *props = mqttc_properties_new();
    if (props == NULL) {
        return;
    }
    if (corr != NULL) {
        mqttc_properties_add_binary(props, MQTTC_PROP_CORRELATION_DATA, corr, corr_len);
    }
    mqttc_properties_add_string(props, MQTTC_PROP_CONTENT_TYPE, "text/plain");
    /* Publishing from inside a callback is allowed; the list is copied. */
    int rc = mqttc_publish_v5(c, response_topic, answer, n, 1, false, props, NULL);
    mqttc_properties_free(props);
    example_failed(rc, "publish answer");
}

/* The requester: match the answer to its request by CorrelationData. */
static void on_response(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    struct app *a = userdata;
    (void)c;
    const void *corr = NULL;
    int len = 0;
    int id = -1;
    if (mqttc_properties_get_binary(msg->properties, MQTTC_PROP_CORRELATION_DATA, 0, &corr,
                                    &len) == MQTTC_ERR_SUCCESS && len == (int)sizeof id) {
        memcpy(&id, corr, sizeof id);
    }
    if (id < 0 || id >= MAX_REQUESTS || a->seen[id]) {
        fprintf(stderr, "an answer that matches no open request\n");
        example_counter_fail(&a->answered);
        return;
    }
    a->seen[id] = true;
    printf("request %d: %.*s\n", id, msg->payloadlen, (const char *)msg->payload);
    example_counter_add(&a->answered, 1);
}

static void on_publish(mqttc_client *c, void *userdata, int mid, int reason_code,
                       const mqttc_properties *props)
{
    (void)c;
    (void)userdata;
    (void)props;
    /* 0x10 "No matching subscribers" is a success code too. */
    if (reason_code >= 0x80) {
        fprintf(stderr, "message %d refused: %s\n", mid, mqttc_reason_string(reason_code));
    }
}

static mqttc_client *new_client(struct app *a, const char *role, mqttc_on_message_cb on_message)
{
    char id[64];
    snprintf(id, sizeof id, "v5rr-%s-%ld", role, (long)getpid());
    mqttc_client *c = mqttc_client_new(id, true, a, MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        exit(1);
    }
    mqttc_on_connect_v5_set(c, on_connect);
    mqttc_on_subscribe_v5_set(c, on_subscribe);
    mqttc_on_publish_v5_set(c, on_publish);
    mqttc_on_message_set(c, on_message);
    return c;
}

static int connect_and_subscribe(mqttc_client *c, struct app *a, const char *host, int port,
                                 const char *topic, int n)
{
    /* A session that lives 60 s beyond the connection, so a short outage loses nothing. */
    mqttc_properties *props = mqttc_properties_new();
    if (props == NULL) {
        return 1;
    }
    mqttc_properties_add_int(props, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 60);
    int rc = mqttc_connect_v5(c, host, port, 30, NULL, MQTTC_CLEAN_START_FIRST_ONLY, props);
    mqttc_properties_free(props);
    if (example_failed(rc, "connect")) {
        return 1;
    }
    if (example_failed(mqttc_loop_start(c), "loop_start")) {
        return 1;
    }
    if (example_counter_wait(&a->connected, n, TIMEOUT_MS) != 0) {
        fprintf(stderr, "no CONNACK\n");
        return 1;
    }
    rc = mqttc_subscribe_v5(c, topic, 1 | MQTTC_SUB_OPT_NO_LOCAL, NULL, NULL);
    if (example_failed(rc, "subscribe") || example_counter_wait(&a->subscribed, n, TIMEOUT_MS) != 0) {
        fprintf(stderr, "no SUBACK\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *host_arg = NULL, *port_arg = NULL;
    int requests = 3;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:")) != -1) {
        switch (opt) {
        case 'h': host_arg = optarg; break;
        case 'p': port_arg = optarg; break;
        case 'n': requests = example_int_arg(optarg, 1, MAX_REQUESTS, "requests"); break;
        default:
            fprintf(stderr, "usage: %s [-h host] [-p port] [-n requests]\n", argv[0]);
            return 2;
        }
    }
    const char *host = example_host(host_arg);
    int port = example_port(port_arg);

    static struct app a;
    snprintf(a.request_topic, sizeof a.request_topic, "mqttc/example/v5/%ld/request", (long)getpid());
    snprintf(a.response_topic, sizeof a.response_topic, "mqttc/example/v5/%ld/response", (long)getpid());
    example_counter_init(&a.connected);
    example_counter_init(&a.subscribed);
    example_counter_init(&a.answered);

    mqttc_client *responder = new_client(&a, "responder", on_request);
    mqttc_client *requester = new_client(&a, "requester", on_response);
    int failed = connect_and_subscribe(responder, &a, host, port, a.request_topic, 1) ||
                 connect_and_subscribe(requester, &a, host, port, a.response_topic, 2);

    for (int i = 0; !failed && i < requests; i++) {
        mqttc_properties *props = mqttc_properties_new();
        if (props == NULL) {
            failed = 1;
            break;
        }
        mqttc_properties_add_string(props, MQTTC_PROP_RESPONSE_TOPIC, a.response_topic);
        mqttc_properties_add_binary(props, MQTTC_PROP_CORRELATION_DATA, &i, (int)sizeof i);
        mqttc_properties_add_user(props, "request-no", i % 2 ? "odd" : "even");
        char question[32];
        int n = snprintf(question, sizeof question, "question %d", i);
        failed = example_failed(mqttc_publish_v5(requester, a.request_topic, question, n, 1, false,
                                                 props, NULL),
                                "publish request");
        mqttc_properties_free(props);
    }
    if (!failed && example_counter_wait(&a.answered, requests, TIMEOUT_MS) != 0) {
        fprintf(stderr, "%d of %d requests answered\n", example_counter_get(&a.answered), requests);
        failed = 1;
    }
    /* End both sessions now instead of letting them expire. */
    mqttc_properties *bye = mqttc_properties_new();
    if (bye != NULL) {
        mqttc_properties_add_int(bye, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 0);
    }
    mqttc_disconnect_v5(requester, MQTTC_RC_NORMAL_DISCONNECTION, bye);
    mqttc_disconnect_v5(responder, MQTTC_RC_NORMAL_DISCONNECTION, bye);
    mqttc_properties_free(bye);
    mqttc_loop_stop(requester, false);
    mqttc_loop_stop(responder, false);
    mqttc_client_destroy(requester);
    mqttc_client_destroy(responder);
    example_counter_destroy(&a.connected);
    example_counter_destroy(&a.subscribed);
    example_counter_destroy(&a.answered);
    if (!failed) {
        printf("all %d requests answered\n", requests);
    }
    return failed ? 1 : 0;
}
