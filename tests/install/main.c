/* Links against an installed mqttc and calls into it: no broker needed. */
#include <mqttc.h>
#include <stdio.h>

int main(void)
{
    int major = -1, minor = -1, revision = -1;
    int version = mqttc_lib_version(&major, &minor, &revision);
    if (version != major * 1000000 + minor * 1000 + revision) {
        fprintf(stderr, "mqttc_lib_version failed\n");
        return 1;
    }
    mqttc_client *c = mqttc_client_new("install-test", true, NULL, MQTTC_PROTOCOL_V311,
                                       MQTTC_TRANSPORT_TCP);
    if (c == NULL) {
        perror("mqttc_client_new");
        return 1;
    }
    mqttc_client_destroy(c);
    printf("installed mqttc %d.%d.%d works: %s\n", major, minor, revision,
           mqttc_error_string(MQTTC_ERR_SUCCESS));
    return 0;
}
