/* Broker failover (mqttc_servers_set, mqttc_current_server) between private mosquitto
 * brokers that the tests kill and restart: the next broker at once after a lost
 * connection, the reconnect delay only after a whole round failed, each round starting
 * at the broker of the last CONNACK, brokers that accept and drop at once making a
 * round too; with the loop thread and with an external loop calling mqttc_reconnect. */
#include "harness.h"

/* The port of the broker the connection uses (-1: none). */
static int current_port(mqttc_client *c) {
    char host[64];
    int port = -1;
    int rc = mqttc_current_server(c, host, sizeof host, &port);
    if (rc == MQTTC_ERR_NO_CONN) return -1;
    CHECK_RC(rc, MQTTC_ERR_SUCCESS);
    CHECK_STREQ(host, "127.0.0.1");
    return port;
}

/* A QoS 1 message goes through the connection and is acknowledged. */
static void publish_through(mqttc_client *c) {
    int mid;
    CHECK_RC(mqttc_publish(c, "failover/x", "x", 1, 1, false, &mid), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_wait_for_publish(c, mid, 5000), MQTTC_ERR_SUCCESS);
}

static void failover_with_the_loop_thread(void) {
    h_broker a, b;
    h_broker_start(&a, false);
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("failover", true, &rec);
    /* A delay far above the time a move takes: moving on must not wait for it. */
    CHECK_RC(mqttc_reconnect_delay_set(c, 4, 4), MQTTC_ERR_SUCCESS);
    const char *hosts[] = {"127.0.0.1"};
    int ports[] = {b.port};
    CHECK_RC(mqttc_servers_set(c, hosts, ports, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", a.port, 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 1, NULL, 5000));
    CHECK_EQ(current_port(c), a.port);
    publish_through(c);

    /* A dies: B at once, well inside the 4 s delay. */
    int64_t t0 = h_now_ms();
    h_broker_kill(&a);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, NULL, 3000));
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());
    CHECK_EQ(current_port(c), b.port);
    publish_through(c);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);

    /* B dies while A is back: A at once. (B has been up longer than the reconnect
     * delay: a connection dropped sooner still counts in the failed round, so that
     * brokers accepting and dropping the client cannot make it reconnect unpaused.) */
    h_broker_restart(&a);
    h_sleep_ms(4300);
    t0 = h_now_ms();
    h_broker_kill(&b);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 3, NULL, 3000));
    CHECK_LT(h_now_ms() - t0, 3000 * h_time_scale());
    CHECK_EQ(current_port(c), a.port);
    publish_through(c);

    /* Both die: A (lost) then B (refused) make a failed round, so the delay runs
     * before the next round, which starts at A, the broker of the last CONNACK. */
    h_broker_kill(&a);
    t0 = h_now_ms();
    CHECK(h_rec_wait(&rec, H_EV_DISCONNECT, 3, NULL, 3000));
    CHECK_EQ(current_port(c), -1);
    h_sleep_ms(1000);
    h_broker_restart(&a);
    h_broker_restart(&b);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 4, NULL, 10000));
    int64_t waited = h_now_ms() - t0;
    h_log("reconnected after a failed round in %lld ms", (long long)waited);
    CHECK_MSG(waited >= 3500, "the next round began after %lld ms, before the 4 s delay", (long long)waited);
    CHECK_EQ(current_port(c), a.port);
    publish_through(c);

    h_disconnect(c, &rec, true);
    CHECK_EQ(current_port(c), -1);
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&a);
    h_broker_cleanup(&b);
}

/* An external loop: after a lost connection, mqttc_reconnect goes to the next broker;
 * a failed attempt moves on too. */
/* Two brokers that accept the client and drop it at once (a take-over by another
 * client with the same id, every time): not a reconnect storm, the delay runs after
 * each round. */
static void flapping_brokers_still_wait(void) {
    h_broker a, b;
    h_broker_start(&a, false);
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    char id[64];
    h_client_id(id, "flap");
    mqttc_client *c = mqttc_client_new(id, true, &rec, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    h_rec_attach(c, H_CB_BASIC);
    CHECK_RC(mqttc_reconnect_delay_set(c, 2, 2), MQTTC_ERR_SUCCESS);
    const char *hosts[] = {"127.0.0.1"};
    int ports[] = {b.port};
    CHECK_RC(mqttc_servers_set(c, hosts, ports, 1), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_connect_async(c, "127.0.0.1", a.port, 30, NULL), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_loop_start(c), MQTTC_ERR_SUCCESS);
    /* A thief with the same id on each broker, taking the session over each time the
     * client comes back: the broker drops the client right after its CONNACK. */
    int64_t t0 = h_now_ms();
    int64_t end = t0 + 5000;
    int rounds = 0;
    while (h_now_ms() < end) {
        int n = h_rec_count(&rec, H_EV_CONNECT);
        if (n > rounds) {
            rounds = n;
            char host[64];
            int port;
            if (mqttc_current_server(c, host, sizeof host, &port) == MQTTC_ERR_SUCCESS) {
                mqttc_client *thief = mqttc_client_new(id, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
                CHECK(thief != NULL);
                if (mqttc_connect(thief, "127.0.0.1", port, 30, NULL) == MQTTC_ERR_SUCCESS)
                    for (int i = 0; i < 20; i++) mqttc_loop(thief, 10, 1);
                mqttc_client_destroy(thief);
            }
        }
        h_sleep_ms(5);
    }
    int connects = h_rec_count(&rec, H_EV_CONNECT);
    h_log("%d connections accepted in 5 s", connects);
    /* Without the rule: hundreds. With it: one round (2 brokers) per 2 s delay. */
    CHECK_MSG(connects <= 8, "%d connections in 5 s: reconnecting without pause", connects);
    CHECK_MSG(connects >= 2, "only %d connection(s)", connects);
    mqttc_loop_stop(c, true);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&a);
    h_broker_cleanup(&b);
}

static void failover_with_an_external_loop(void) {
    h_broker a, b;
    h_broker_start(&a, false);
    h_broker_start(&b, false);
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client *c = h_client("failover-ext", true, &rec);
    int dead = h_free_port();
    const char *hosts[] = {"127.0.0.1", "127.0.0.1"};
    int ports[] = {dead, b.port};
    CHECK_RC(mqttc_servers_set(c, hosts, ports, 2), MQTTC_ERR_SUCCESS);
    h_connect(c, &rec, a.port, false);
    CHECK_EQ(current_port(c), a.port);
    h_broker_kill(&a);
    int64_t end = h_now_ms() + 5000 * h_time_scale();
    while (h_rec_count(&rec, H_EV_DISCONNECT) == 0 && h_now_ms() < end)
        mqttc_loop(c, 100, 1);
    CHECK_EQ(h_rec_count(&rec, H_EV_DISCONNECT), 1);
    /* entry 1 listens nowhere: refused, and the attempt after it goes to entry 2 */
    int rc = mqttc_reconnect(c);
    CHECK_MSG(rc != MQTTC_ERR_SUCCESS, "reconnect to a dead port returned %d", rc);
    CHECK_RC(mqttc_reconnect(c), MQTTC_ERR_SUCCESS);
    CHECK(h_rec_wait(&rec, H_EV_CONNECT, 2, c, 5000));
    CHECK_EQ(current_port(c), b.port);
    h_disconnect(c, &rec, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
    h_broker_cleanup(&a);
    h_broker_cleanup(&b);
}

static void servers_bad_arguments(void) {
    const char *hosts[] = {"127.0.0.1", ""};
    const char *null_host[] = {NULL};
    int ports[] = {1883, 1883};
    CHECK_RC(mqttc_servers_set(NULL, hosts, ports, 1), MQTTC_ERR_INVAL);
    char buf[8];
    int port;
    CHECK_RC(mqttc_current_server(NULL, buf, sizeof buf, &port), MQTTC_ERR_INVAL);
    mqttc_client *c = mqttc_client_new(NULL, true, NULL, MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    CHECK(c != NULL);
    CHECK_RC(mqttc_servers_set(c, hosts, ports, -1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_servers_set(c, NULL, ports, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_servers_set(c, hosts, ports, 2), MQTTC_ERR_INVAL); /* "" */
    CHECK_RC(mqttc_servers_set(c, null_host, ports, 1), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_servers_set(c, NULL, NULL, 0), MQTTC_ERR_SUCCESS);
    CHECK_RC(mqttc_servers_set(c, hosts, NULL, 1), MQTTC_ERR_SUCCESS); /* port 1883 */
    CHECK_RC(mqttc_current_server(c, buf, sizeof buf, &port), MQTTC_ERR_NO_CONN);
    /* connected: a host buffer too short is INVAL, NULL buffers are fine */
    h_rec rec;
    h_rec_init(&rec);
    mqttc_client_destroy(c);
    c = h_client("failover-args", true, &rec);
    h_connect(c, &rec, h_port(), true);
    char tiny[4];
    CHECK_RC(mqttc_current_server(c, tiny, sizeof tiny, &port), MQTTC_ERR_INVAL);
    CHECK_RC(mqttc_current_server(c, NULL, 0, &port), MQTTC_ERR_SUCCESS);
    CHECK_EQ(port, h_port());
    CHECK_RC(mqttc_current_server(c, NULL, 0, NULL), MQTTC_ERR_SUCCESS);
    h_disconnect(c, &rec, true);
    mqttc_loop_stop(c, false);
    mqttc_client_destroy(c);
    h_rec_free(&rec);
}

int main(int argc, char **argv) {
    static const h_case cases[] = {
        H_CASE(failover_with_the_loop_thread, 60),
        H_CASE(flapping_brokers_still_wait, 30),
        H_CASE(failover_with_an_external_loop, 30),
        H_CASE(servers_bad_arguments, 20),
    };
    return h_main(argc, argv, "test_failover", cases, sizeof cases / sizeof cases[0]);
}
