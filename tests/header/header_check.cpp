// Compiles include/mqttc.h as C++11 with -Wall -Wextra -Werror -pedantic
// (see CMakeLists.txt): the header must be usable from C++ as is, with its
// own extern "C" block; links, so that the symbols have C linkage.
#include "mqttc.h"

#include <cstdio>

static void on_message(mqttc_client *c, void *userdata, const mqttc_message *msg)
{
    static_cast<void>(c);
    static_cast<void>(userdata);
    static_cast<void>(msg);
}

int main()
{
    int major = -1, minor = -1, revision = -1;
    int version = mqttc_lib_version(&major, &minor, &revision);
    if (version != major * 1000000 + minor * 1000 + revision) {
        std::fprintf(stderr, "mqttc_lib_version failed\n");
        return 1;
    }
    std::printf("mqttc %d.%d.%d (C++): %s\n", major, minor, revision,
                mqttc_connack_string(MQTTC_CONNACK_ACCEPTED));

    mqttc_client *c = mqttc_client_new("header-check", true, nullptr, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_TCP);
    if (c == nullptr) {
        std::perror("mqttc_client_new");
        return 1;
    }
    mqttc_on_message_set(c, on_message);
    int rc = mqttc_publish(c, "a/b", "x", 1, 3, false, nullptr);
    mqttc_client_destroy(c);
    if (rc != MQTTC_ERR_INVAL) {
        std::fprintf(stderr, "publish at qos 3 gave %d, not MQTTC_ERR_INVAL\n", rc);
        return 1;
    }
    return 0;
}
