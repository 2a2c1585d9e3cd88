/* Helpers: topic_matches_sub table, message_copy/message_free (deep copies that
 * outlive the callback), conn_opts_init defaults. */
#include "harness.h"

static void topic_matches_sub_table(void) {
    static const struct {
        const char *sub, *topic;
        bool match;
    } t[] = {
        {"foo/bar", "foo/bar", true},
        {"foo/+", "foo/bar", true},
        {"foo/+/baz", "foo/bar/baz", true},
        {"foo/+/#", "foo/bar/baz", true},
        {"A/B/+/#", "A/B/B/C", true},
        {"#", "foo/bar/baz", true},
        {"#", "/foo/bar", true},
        {"/#", "/foo/bar", true},
        {"$SYS/bar", "$SYS/bar", true},
        {"$SYS/#", "$SYS/broker/uptime", true},
        {"$SYS/+/uptime", "$SYS/broker/uptime", true},
        {"foo/#", "foo/$bar", true},
        {"foo/+/baz", "foo/$bar/baz", true},
        {"sport/#", "sport", true},
        {"sport/tennis/#", "sport/tennis", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"foo/+", "foo/", true},
        {"foo/#", "foo/", true},
        {"+/+/+", "a//c", true},
        {"foo/bar/#", "foo/bar", true},
        {"+", "foo", true},
        {"+", "/finance", false},
        {"test/6/#", "test/3", false},
        {"foo/bar", "foo", false},
        {"foo", "foo/bar", false},
        {"foo/bar", "foo/bar/baz", false},
        {"foo/+", "foo/bar/baz", false},
        {"foo/+/baz", "foo/bar/bar", false},
        {"foo/+/#", "fo2/bar/baz", false},
        {"/#", "foo/bar", false},
        {"#", "$SYS/bar", false},
        {"#", "$SYS", false},
        {"+", "$SYS", false},
        {"+/bar", "$SYS/bar", false},
        {"+/#", "$SYS/bar", false},
        {"$BOB/bar", "$SYS/bar", false},
        {"Foo", "foo", false},
        {"+/+/+", "a/b", false},
        {"a/b", "a/b/", false},
        {"sport/tennis/+", "sport/tennis", false},
        /* shared subscriptions (MQTT-4.8.2): the filter after the share name */
        {"$share/g/foo/+", "foo/bar", true},
        {"$share/group/#", "foo/bar", true},
        {"$share/g/foo/+", "foo/bar/baz", false},
        {"$share/g/foo/bar", "$share/g/foo/bar", false},
        {"$share//foo", "foo", false},
        {"$share/g", "g", false},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bool got = mqttc_topic_matches_sub(t[i].sub, t[i].topic);
        if (got != t[i].match) {
            h_log("topic_matches_sub(\"%s\", \"%s\") = %s, expected %s", t[i].sub, t[i].topic, got ? "true" : "false",
                  t[i].match ? "true" : "false");
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d of %zu topic_matches_sub cases wrong (listed above)", bad, sizeof t / sizeof t[0]);
}

static void message_copy_is_deep(void) {
    char topic[] = "a/topic";
    unsigned char payload[] = {0, 'x', 0, 0xff, 7};
    mqttc_message m = {42, topic, payload, (int)sizeof payload, 2, true, true, NULL};
    mqttc_message *cp = mqttc_message_copy(&m);
    CHECK(cp != NULL);
    CHECK(cp != &m);
    CHECK(cp->topic != topic);
    CHECK(cp->payload != (const void *)payload);
    memset(topic, 'z', sizeof topic - 1);
    memset(payload, 0xaa, sizeof payload);
    CHECK_STREQ(cp->topic, "a/topic");
    static const unsigned char want[] = {0, 'x', 0, 0xff, 7};
    CHECK_MEMEQ(cp->payload, cp->payloadlen, want, sizeof want);
    CHECK_EQ(cp->mid, 42);
    CHECK_EQ(cp->qos, 2);
    CHECK(cp->retain);
    CHECK(cp->dup);
    /* a copy of a copy */
    mqttc_message *cp2 = mqttc_message_copy(cp);
    CHECK(cp2 != NULL);
    mqttc_message_free(cp);
    CHECK_STREQ(cp2->topic, "a/topic");
    CHECK_MEMEQ(cp2->payload, cp2->payloadlen, want, sizeof want);
    mqttc_message_free(cp2);
    /* empty payload */
    mqttc_message e = {0, "e", NULL, 0, 0, false, false, NULL};
    cp = mqttc_message_copy(&e);
    CHECK(cp != NULL);
    CHECK_EQ(cp->payloadlen, 0);
    CHECK_STREQ(cp->topic, "e");
    CHECK(!cp->retain && !cp->dup);
    mqttc_message_free(cp);
}

enum { NCOPY = 6 };
typedef struct copies {
    mqttc_message *m[NCOPY];
    atomic_int n;
} copies;

static void copy_on_message(mqttc_client *c, void *ud, const mqttc_message *msg) {
    h_rec_on_message(c, ud, msg);
    copies *k = ((h_rec *)ud)->ctx;
    int i = atomic_load(&k->n);
    if (i >= NCOPY) {
        if (msg->payloadlen != 0) H_FAIL("more messages than published");
        return; /* the empty retained publish that clears topic 4 */
    }
    k->m[i] = mqttc_message_copy(msg);
    if (k->m[i] == NULL) H_FAIL("mqttc_message_copy returned NULL inside on_message");
    if (k->m[i]->topic == msg->topic || (msg->payloadlen > 0 && k->m[i]->payload == msg->payload))
        H_FAIL("mqttc_message_copy shares the library's buffers");
    atomic_store(&k->n, i + 1);
}

/* Copies made in on_message keep topic and payload after the callback returned
 * and later messages reused the library's buffers. */
static void message_copy_outlives_callback(void) {
    h_rec rec;
    h_rec_init(&rec);
    static copies k;
    rec.ctx = &k;
    mqttc_client *c = h_client("copy", true, &rec);
    mqttc_on_message_set(c, copy_on_message);
    h_connect(c, &rec, h_port(), true);
    char filter[H_TOPIC_MAX], topics[NCOPY][H_TOPIC_MAX];
    h_subscribe(c, &rec, h_topic(filter, "copy/#"), 2, true);
    unsigned char payloads[NCOPY][64];
    for (int i = 0; i < NCOPY; i++) {
        h_topic(topics[i], "copy/%d/%s", i, i % 2 ? "odd" : "even-longer-topic");
        for (int j = 0; j < 64; j++) payloads[i][j] = (unsigned char)(i * 40 + j);
        payloads[i][3] = 0;
        CHECK_RC(mqttc_publish(c, topics[i], payloads[i], 10 + i * 9, i % 3, i == 4, NULL), MQTTC_ERR_SUCCESS);
    }
    CHECK(wait_flag(&k.n, NCOPY, NULL, 5000));
    int mid = 0;
    CHECK_RC(mqttc_publish(c, topics[4], NULL, 0, 1, true, &mid), MQTTC_ERR_SUCCESS); /* clear the retained one */
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
    h_disconnect(c, &rec, true);
    for (int j = 0; j < NCOPY; j++) {
        mqttc_message *m = k.m[j];
        h_event e;
        h_rec_get(&rec, H_EV_MESSAGE, j, &e); /* the recorder's copy of the same call */
        int i = -1;
        for (int x = 0; x < NCOPY; x++)
            if (strcmp(e.topic, topics[x]) == 0) i = x;
        CHECK_MSG(i >= 0, "unexpected topic %s", e.topic);
        CHECK_STREQ(m->topic, topics[i]);
        CHECK_MEMEQ(m->payload, m->payloadlen, payloads[i], 10 + i * 9);
        CHECK_EQ(m->qos, i % 3);
        CHECK_EQ(m->mid, e.mid);
        CHECK_EQ(m->retain, e.retain);
        CHECK_EQ(m->dup, e.dup);
        mqttc_message_free(m);
    }
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

static void conn_opts_init_defaults(void) {
    mqttc_conn_opts o;
    memset(&o, 0xab, sizeof o);
    mqttc_conn_opts_init(&o);
    CHECK_STREQ(o.hostname, "localhost");
    CHECK_EQ(o.port, 1883);
    CHECK_MSG(o.client_id == NULL || o.client_id[0] == 0, "default client_id is \"%s\", expected a random id (NULL)",
              o.client_id);
    CHECK_EQ(o.keepalive, 60);
    CHECK(o.will == NULL);
    CHECK(o.auth == NULL);
    CHECK(o.tls == NULL);
    CHECK_EQ(o.protocol, MQTTC_PROTOCOL_V311);
    CHECK_EQ(o.transport, MQTTC_TRANSPORT_TCP);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(topic_matches_sub_table, 10),
        H_CASE(message_copy_is_deep, 10),
        H_CASE(message_copy_outlives_callback, 20),
        H_CASE(conn_opts_init_defaults, 10),
    };
    return h_main(argc, argv, "test_helpers", cases, sizeof cases / sizeof cases[0]);
}
