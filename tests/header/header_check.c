/*
 * Compiles include/mqttc.h as strict C99 with -Wall -Wextra -Werror -pedantic
 * (see CMakeLists.txt), outside any imported target, so that a warning in the
 * generated header breaks the build; links, so that the symbols exist.
 */
#include "mqttc.h"
#include "mqttc.h" /* the include guard works */

#include <stdio.h>

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    (void)c;
    (void)userdata;
    (void)msg;
}

int main(void)
{
    int major = -1, minor = -1, revision = -1;
    mqttc_on_message_cb cb = on_message;
    mqttc_message msg;
    int codes[3];

    codes[0] = MQTTC_ERR_SUCCESS;
    codes[1] = MQTTC_ERR_INVAL;
    codes[2] = MQTTC_ERR_KEEPALIVE;
    msg.mid = 0;
    msg.topic = "a/b";
    msg.payload = NULL;
    msg.payloadlen = 0;
    msg.qos = 0;
    msg.retain = false;
    msg.dup = false;
    (void)msg;
    (void)cb;

    int version = mqttc_lib_version(&major, &minor, &revision);
    if (version != major * 1000000 + minor * 1000 + revision) {
        fprintf(stderr, "mqttc_lib_version failed\n");
        return 1;
    }
    printf("mqttc %d.%d.%d (C99): %s / %s / %s\n", major, minor, revision,
           mqttc_error_string(codes[0]), mqttc_error_string(codes[1]),
           mqttc_error_string(codes[2]));
    if (!mqttc_topic_matches_sub("a/+", "a/b")) {
        fprintf(stderr, "mqttc_topic_matches_sub(\"a/+\", \"a/b\") is false\n");
        return 1;
    }
    if (mqttc_client_new(NULL, false, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP) != NULL) {
        fprintf(stderr, "an empty client id with clean_session false was accepted\n");
        return 1;
    }
    return 0;
}
