/* MQTT 5 property lists and the _v5 calls' argument checks, from C: every kind of
 * property added and read back, replacement and order, the names, the reason strings,
 * and the result codes of bad input (NULL lists are empty lists, wrong kinds and ranges
 * INVAL, a property the packet may not carry PROPERTY with a log line naming it, _v5
 * calls with properties on a 3.1.1 client NOT_SUPPORTED). No broker needed. */
#include "harness.h"

static void every_kind_round_trips(void) {
    mqttc_properties *p = h_props();
    CHECK_EQ(mqttc_properties_count(p), 0);
    h_prop_int(p, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 1);    /* byte */
    h_prop_int(p, MQTTC_PROP_RECEIVE_MAXIMUM, 65535);         /* two byte */
    h_prop_int(p, MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL, 4000000000u); /* four byte */
    h_prop_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 268435455); /* variable byte */
    h_prop_str(p, MQTTC_PROP_CONTENT_TYPE, "application/json");
    static const unsigned char corr[] = {0, 1, 0xff, 0};
    h_prop_bin(p, MQTTC_PROP_CORRELATION_DATA, corr, (int)sizeof corr);
    h_prop_user(p, "k", "v1");
    h_prop_user(p, "k", "v2");
    h_prop_user(p, "\xc3\xa9t\xc3\xa9", "");
    CHECK_EQ(mqttc_properties_count(p), 9);
    static const int order[] = {1, 33, 2, 11, 3, 9, 38, 38, 38};
    for (int i = 0; i < 9; i++) CHECK_EQ(mqttc_properties_id_at(p, i), order[i]);
    CHECK_EQ(mqttc_properties_id_at(p, 9), -1);
    CHECK_EQ(mqttc_properties_id_at(p, -1), -1);

    uint32_t v = 0;
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 0, &v), MQTTC_ERR_SUCCESS);
    CHECK_EQ(v, 1);
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_RECEIVE_MAXIMUM, 0, &v), MQTTC_ERR_SUCCESS);
    CHECK_EQ(v, 65535);
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_MESSAGE_EXPIRY_INTERVAL, 0, &v), MQTTC_ERR_SUCCESS);
    CHECK_EQ(v, 4000000000u);
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 0, &v), MQTTC_ERR_SUCCESS);
    CHECK_EQ(v, 268435455);
    const char *s = NULL;
    CHECK_RC(mqttc_properties_get_string(p, MQTTC_PROP_CONTENT_TYPE, 0, &s), MQTTC_ERR_SUCCESS);
    CHECK_STREQ(s, "application/json");
    const void *d = NULL;
    int len = -1;
    CHECK_RC(mqttc_properties_get_binary(p, MQTTC_PROP_CORRELATION_DATA, 0, &d, &len), MQTTC_ERR_SUCCESS);
    CHECK_MEMEQ(d, len, corr, sizeof corr);
    const char *n = NULL, *val = NULL;
    CHECK_RC(mqttc_properties_get_user(p, 0, &n, &val), MQTTC_ERR_SUCCESS);
    CHECK_STREQ(n, "k");
    CHECK_STREQ(val, "v1");
    CHECK_RC(mqttc_properties_get_user(p, 1, &n, &val), MQTTC_ERR_SUCCESS);
    CHECK_STREQ(val, "v2");
    CHECK_RC(mqttc_properties_get_user(p, 2, &n, &val), MQTTC_ERR_SUCCESS);
    CHECK_STREQ(n, "\xc3\xa9t\xc3\xa9");
    CHECK_STREQ(val, "");
    CHECK_RC(mqttc_properties_get_user(p, 3, &n, &val), MQTTC_ERR_NOT_FOUND);

    /* A copy is deep and independent. */
    mqttc_properties *cp = mqttc_properties_copy(p);
    CHECK(cp != NULL);
    mqttc_properties_free(p);
    CHECK_EQ(mqttc_properties_count(cp), 9);
    CHECK_RC(mqttc_properties_get_string(cp, MQTTC_PROP_CONTENT_TYPE, 0, &s), MQTTC_ERR_SUCCESS);
    CHECK_STREQ(s, "application/json");
    mqttc_properties_free(cp);
}

static void single_values_replace_multi_values_append(void) {
    mqttc_properties *p = h_props();
    h_prop_str(p, MQTTC_PROP_CONTENT_TYPE, "a");
    h_prop_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 5);
    h_prop_str(p, MQTTC_PROP_CONTENT_TYPE, "b");  /* replaces, in place */
    h_prop_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 6); /* appends */
    CHECK_EQ(mqttc_properties_count(p), 3);
    CHECK_EQ(mqttc_properties_id_at(p, 0), MQTTC_PROP_CONTENT_TYPE);
    CHECK_STREQ(h_get_str(p, MQTTC_PROP_CONTENT_TYPE, 0), "b");
    CHECK(h_get_str(p, MQTTC_PROP_CONTENT_TYPE, 1) == NULL);
    CHECK_EQ(h_get_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 0), 5);
    CHECK_EQ(h_get_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 1), 6);
    mqttc_properties_free(p);
}

static void wrong_kinds_ranges_and_nulls(void) {
    mqttc_properties *p = h_props();
    /* unknown ids */
    CHECK_RC(mqttc_properties_add_int(p, 0, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, 7, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, 256 + 1, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, -1, 1), MQTTC_ERR_INVAL);
    /* wrong kinds */
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_CONTENT_TYPE, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_RECEIVE_MAXIMUM, "1"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_CORRELATION_DATA, "x"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_binary(p, MQTTC_PROP_CONTENT_TYPE, "x", 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_USER_PROPERTY, "x"), MQTTC_ERR_INVAL);
    /* ranges, as paho checks them */
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_RECEIVE_MAXIMUM, 0), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_RECEIVE_MAXIMUM, 65536), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_TOPIC_ALIAS, 0), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_MAXIMUM_PACKET_SIZE, 0), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 0), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 268435456), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_PAYLOAD_FORMAT_INDICATOR, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_MAXIMUM_QOS, 2), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_int(p, MQTTC_PROP_SERVER_KEEP_ALIVE, 65536), MQTTC_ERR_INVAL);
    /* strings and binary */
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_CONTENT_TYPE, "\xff"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_CONTENT_TYPE, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_user(p, NULL, "v"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_user(p, "k", NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_binary(p, MQTTC_PROP_CORRELATION_DATA, NULL, 3), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_binary(p, MQTTC_PROP_CORRELATION_DATA, "x", -1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_binary(p, MQTTC_PROP_CORRELATION_DATA, "x", 65536), MQTTC_ERR_INVAL);
    char *big = malloc(65537);
    CHECK(big != NULL);
    memset(big, 'a', 65536);
    big[65536] = 0;
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_CONTENT_TYPE, big), MQTTC_ERR_INVAL);
    big[65535] = 0;
    CHECK_RC(mqttc_properties_add_string(p, MQTTC_PROP_CONTENT_TYPE, big), MQTTC_ERR_SUCCESS);
    free(big);
    /* nothing failed was added */
    CHECK_EQ(mqttc_properties_count(p), 1);
    /* empty binary is fine */
    CHECK_RC(mqttc_properties_add_binary(p, MQTTC_PROP_CORRELATION_DATA, NULL, 0), MQTTC_ERR_SUCCESS);
    const void *d = (const void *)1;
    int len = -1;
    CHECK_RC(mqttc_properties_get_binary(p, MQTTC_PROP_CORRELATION_DATA, 0, &d, &len), MQTTC_ERR_SUCCESS);
    CHECK_EQ(len, 0);

    /* getters: wrong kind INVAL (present or not), absent NOT_FOUND, NULLs INVAL */
    uint32_t v;
    const char *s;
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_CONTENT_TYPE, 0, &v), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_int(p, MQTTC_PROP_RECEIVE_MAXIMUM, 0, &v), MQTTC_ERR_NOT_FOUND);
    CHECK_RC(mqttc_properties_get_string(p, MQTTC_PROP_RECEIVE_MAXIMUM, 0, &s), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_string(p, MQTTC_PROP_RESPONSE_TOPIC, 0, &s), MQTTC_ERR_NOT_FOUND);
    CHECK_RC(mqttc_properties_get_string(p, MQTTC_PROP_CONTENT_TYPE, -1, &s), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_string(p, MQTTC_PROP_CONTENT_TYPE, 0, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_int(p, 7, 0, &v), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_binary(p, MQTTC_PROP_CONTENT_TYPE, 0, &d, &len), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_user(p, 0, NULL, &s), MQTTC_ERR_INVAL);
    mqttc_properties_free(p);

    /* a NULL list */
    CHECK_EQ(mqttc_properties_count(NULL), 0);
    CHECK_EQ(mqttc_properties_id_at(NULL, 0), -1);
    CHECK(mqttc_properties_copy(NULL) == NULL);
    mqttc_properties_free(NULL);
    CHECK_RC(mqttc_properties_add_int(NULL, MQTTC_PROP_RECEIVE_MAXIMUM, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_string(NULL, MQTTC_PROP_CONTENT_TYPE, "x"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_binary(NULL, MQTTC_PROP_CORRELATION_DATA, "x", 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_add_user(NULL, "k", "v"), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_int(NULL, MQTTC_PROP_RECEIVE_MAXIMUM, 0, &v), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_properties_get_string(NULL, MQTTC_PROP_CONTENT_TYPE, 0, &s), MQTTC_ERR_INVAL);
}

static void names_and_reason_strings(void) {
    static const struct { int id; const char *name; } names[] = {
        {1, "PayloadFormatIndicator"}, {2, "MessageExpiryInterval"}, {3, "ContentType"},
        {8, "ResponseTopic"}, {9, "CorrelationData"}, {11, "SubscriptionIdentifier"},
        {17, "SessionExpiryInterval"}, {18, "AssignedClientIdentifier"}, {19, "ServerKeepAlive"},
        {21, "AuthenticationMethod"}, {22, "AuthenticationData"}, {23, "RequestProblemInformation"},
        {24, "WillDelayInterval"}, {25, "RequestResponseInformation"}, {26, "ResponseInformation"},
        {28, "ServerReference"}, {31, "ReasonString"}, {33, "ReceiveMaximum"},
        {34, "TopicAliasMaximum"}, {35, "TopicAlias"}, {36, "MaximumQoS"}, {37, "RetainAvailable"},
        {38, "UserProperty"}, {39, "MaximumPacketSize"}, {40, "WildcardSubscriptionAvailable"},
        {41, "SubscriptionIdentifierAvailable"}, {42, "SharedSubscriptionAvailable"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_STREQ(mqttc_property_name(names[i].id), names[i].name);
    CHECK_STREQ(mqttc_property_name(0), "");
    CHECK_STREQ(mqttc_property_name(7), "");
    CHECK_STREQ(mqttc_property_name(-5), "");
    CHECK_STREQ(mqttc_reason_string(0), "Success");
    CHECK_STREQ(mqttc_reason_string(MQTTC_RC_GRANTED_QOS_2), "Granted QoS 2");
    CHECK_STREQ(mqttc_reason_string(MQTTC_RC_NO_SUBSCRIPTION_EXISTED), "No subscription existed");
    CHECK_STREQ(mqttc_reason_string(MQTTC_RC_UNSPECIFIED_ERROR), "Unspecified error");
    CHECK_STREQ(mqttc_reason_string(MQTTC_RC_SESSION_TAKEN_OVER), "Session taken over");
    CHECK_STREQ(mqttc_reason_string(MQTTC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED),
                "Wildcard Subscriptions not supported");
    CHECK(mqttc_reason_string(3) != NULL);
    CHECK(mqttc_reason_string(-1) != NULL);
    CHECK(mqttc_reason_string(1000) != NULL);
    /* constants the API fixes */
    CHECK_EQ(MQTTC_RC_NORMAL_DISCONNECTION, 0);
    CHECK_EQ(MQTTC_RC_GRANTED_QOS_0, 0);
    CHECK_EQ(MQTTC_RC_CONTINUE_AUTHENTICATION, 24);
    CHECK_EQ(MQTTC_RC_REAUTHENTICATE, 25);
    CHECK_EQ(MQTTC_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, 162);
    CHECK_EQ(MQTTC_ERR_PROPERTY, 17);
    CHECK_EQ(MQTTC_ERR_QOS_NOT_SUPPORTED, 18);
    CHECK_EQ(MQTTC_ERR_OVERSIZE_PACKET, 19);
    CHECK_EQ(MQTTC_CLEAN_START_FIRST_ONLY, 3);
    CHECK_EQ(MQTTC_SUB_OPT_NO_LOCAL | MQTTC_SUB_OPT_RETAIN_AS_PUBLISHED | MQTTC_SUB_OPT_SEND_RETAIN_NEVER, 0x2c);
    CHECK_EQ(MQTTC_SUB_OPT_SEND_RETAIN_NEW, 0x10);
    CHECK_STREQ(mqttc_error_string(MQTTC_ERR_OVERSIZE_PACKET),
                "The packet is larger than the broker's Maximum Packet Size.");
}

static int g_port;

static void not_allowed_is_property_with_a_log_line(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("props", true, &rec);
    h_rec_attach(c, H_CB_LOG);
    mqttc_properties *p = h_props();
    h_prop_int(p, MQTTC_PROP_SESSION_EXPIRY_INTERVAL, 5);
    int mid = -7;
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 1, false, p, &mid), MQTTC_ERR_PROPERTY);
    CHECK_EQ(mid, -7);
    CHECK(h_rec_wait(&rec, H_EV_LOG, 1, NULL, 1000));
    h_event e;
    bool named = false;
    for (int i = 0; h_rec_get(&rec, H_EV_LOG, i, &e); i++)
        if (strstr(e.text, "SessionExpiryInterval") && strstr(e.text, "PUBLISH")) named = true;
    CHECK_MSG(named, "no log line names SessionExpiryInterval in PUBLISH");
    /* The same for the other calls. */
    CHECK_RC(mqttc_subscribe_v5(c, "t", 1, p, &mid), MQTTC_ERR_PROPERTY);
    CHECK_RC(mqttc_unsubscribe_v5(c, "t", p, &mid), MQTTC_ERR_PROPERTY);
    CHECK_RC(mqttc_will_set_v5(c, "t", "x", 1, 0, false, p), MQTTC_ERR_PROPERTY);
    mqttc_properties *q = h_props();
    h_prop_int(q, MQTTC_PROP_TOPIC_ALIAS, 1);
    CHECK_RC(mqttc_connect_async_v5(c, "127.0.0.1", g_port, 30, NULL, 1, q), MQTTC_ERR_PROPERTY);
    CHECK_RC(mqttc_disconnect_v5(c, 0, q), MQTTC_ERR_PROPERTY);
    /* A client may not send a Subscription Identifier in PUBLISH (MQTT-3.3.4-6). */
    mqttc_properties *r = h_props();
    h_prop_int(r, MQTTC_PROP_SUBSCRIPTION_IDENTIFIER, 3);
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 0, false, r, &mid), MQTTC_ERR_PROPERTY);
    /* A Topic Alias above the server's maximum (0 before any CONNACK). */
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 0, false, q, &mid), MQTTC_ERR_PROPERTY);
    mqttc_properties_free(p);
    mqttc_properties_free(q);
    mqttc_properties_free(r);
    /* No id was used up: the next publish (queued, not connected) gets mid 1. */
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 1, false, NULL, &mid), MQTTC_ERR_NO_CONN);
    CHECK_EQ(mid, 1);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void v311_clients_refuse_v5_arguments(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("v311", true, &rec);
    mqttc_properties *p = h_props();
    h_prop_user(p, "k", "v");
    int mid = -7;
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 1, false, p, &mid), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 1, p, &mid), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 1 | MQTTC_SUB_OPT_NO_LOCAL, NULL, &mid), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_unsubscribe_v5(c, "t", p, &mid), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_will_set_v5(c, "t", "x", 1, 0, false, p), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_connect_async_v5(c, "127.0.0.1", g_port, 30, NULL, 1, p), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_connect_async_v5(c, "127.0.0.1", g_port, 30, NULL, 1, NULL), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_disconnect_v5(c, 0x04, NULL), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_disconnect_v5(c, -1, p), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_authenticate(c, MQTTC_RC_REAUTHENTICATE, NULL), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_topic_alias_auto_set(c, true), MQTTC_ERR_NOT_SUPPORTED);
    CHECK_RC(mqttc_topic_alias_auto_set(c, false), MQTTC_ERR_SUCCESS);
    /* NULL lists are "no properties": these work as the 3.1.1 calls. */
    CHECK_RC(mqttc_publish_v5(c, "t", "x", 1, 1, false, NULL, &mid), MQTTC_ERR_NO_CONN);
    CHECK_EQ(mid, 1);
    CHECK_RC(mqttc_will_set_v5(c, "t", "x", 1, 0, false, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_disconnect_v5(c, -1, NULL), MQTTC_ERR_NO_CONN);
    mqttc_properties_free(p);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void bad_v5_arguments(void) {
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client5("bad", true, &rec);
    int mid = -7;
    const char *topics[2] = {"a", "b"};
    const int opts[2] = {1, 0x40};
    CHECK_RC(mqttc_connect_v5(c, "127.0.0.1", g_port, 30, NULL, 2, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_v5(c, "127.0.0.1", g_port, 30, NULL, -1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_v5(c, NULL, g_port, 30, NULL, 1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_connect_v5(NULL, "127.0.0.1", g_port, 30, NULL, 1, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 3, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 0x30, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 0x40, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_v5(c, "t", 256, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_v5(c, "$share/g/t", MQTTC_SUB_OPT_NO_LOCAL, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple_v5(c, 2, topics, opts, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple_v5(c, 2, topics, NULL, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_subscribe_multiple_v5(c, 0, topics, opts, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_unsubscribe_multiple_v5(c, 0, topics, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_disconnect_v5(c, 256, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_disconnect_v5(c, -2, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_authenticate(c, 0, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_authenticate(c, 300, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_authenticate(c, MQTTC_RC_REAUTHENTICATE, NULL), MQTTC_ERR_NO_CONN);
    CHECK_RC(mqttc_authenticate(NULL, MQTTC_RC_REAUTHENTICATE, NULL), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_topic_alias_auto_set(NULL, true), MQTTC_ERR_INVAL);
    /* An empty topic needs a known Topic Alias. */
    CHECK_RC(mqttc_publish_v5(c, "", "x", 1, 0, false, NULL, &mid), MQTTC_ERR_INVAL);
    CHECK_EQ(mid, -7);
    mqttc_on_connect_v5_set(NULL, NULL);
    mqttc_on_disconnect_v5_set(NULL, NULL);
    mqttc_on_publish_v5_set(NULL, NULL);
    mqttc_on_subscribe_v5_set(NULL, NULL);
    mqttc_on_unsubscribe_v5_set(NULL, NULL);
    mqttc_on_auth_set(NULL, NULL);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void message_copy_keeps_properties(void) {
    mqttc_properties *p = h_props();
    h_prop_str(p, MQTTC_PROP_RESPONSE_TOPIC, "r/t");
    h_prop_user(p, "k", "v");
    mqttc_message m = {3, "t", "x", 1, 1, false, false, p};
    mqttc_message *cp = mqttc_message_copy(&m);
    CHECK(cp != NULL);
    mqttc_properties_free(p);
    CHECK(cp->properties != NULL);
    CHECK_EQ(mqttc_properties_count(cp->properties), 2);
    CHECK_STREQ(h_get_str(cp->properties, MQTTC_PROP_RESPONSE_TOPIC, 0), "r/t");
    mqttc_message_free(cp);
    /* a 3.1.1 message has none */
    mqttc_message m3 = {3, "t", "x", 1, 1, false, false, NULL};
    cp = mqttc_message_copy(&m3);
    CHECK(cp != NULL && cp->properties == NULL);
    mqttc_message_free(cp);
}

int main(int argc, char **argv) {
    g_port = h_free_port();
    static const h_case cases[] = {
        H_CASE(every_kind_round_trips, 10),
        H_CASE(single_values_replace_multi_values_append, 10),
        H_CASE(wrong_kinds_ranges_and_nulls, 10),
        H_CASE(names_and_reason_strings, 10),
        H_CASE(not_allowed_is_property_with_a_log_line, 10),
        H_CASE(v311_clients_refuse_v5_arguments, 10),
        H_CASE(bad_v5_arguments, 10),
        H_CASE(message_copy_keeps_properties, 10),
    };
    return h_main(argc, argv, "test_v5_props", cases, sizeof cases / sizeof cases[0]);
}
