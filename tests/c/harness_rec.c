/* Test harness: the thread-safe callback recorder and client shortcuts (see harness.h). */
#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Recorder                                                                 */
/* ------------------------------------------------------------------------ */

void h_rec_init(h_rec *r) {
    memset(r, 0, sizeof *r);
    r->magic = H_REC_MAGIC;
    pthread_mutex_init(&r->mu, NULL);
}

void h_rec_free(h_rec *r) {
    if (r->magic != H_REC_MAGIC) return;
    for (int t = 0; t < H_EV_COUNT; t++) {
        for (int i = 0; i < r->n[t]; i++) {
            free(r->ev[t][i].granted);
            free(r->ev[t][i].topic);
            free(r->ev[t][i].payload);
            free(r->ev[t][i].text);
            mqttc_properties_free(r->ev[t][i].props);
        }
        free(r->ev[t]);
    }
    pthread_mutex_destroy(&r->mu);
    r->magic = 0;
}

static h_rec *rec_of(void *ud, const char *cb) {
    h_rec *r = ud;
    if (r == NULL || r->magic != H_REC_MAGIC)
        H_FAIL("%s: userdata %p is not the h_rec the test registered", cb, ud);
    return r;
}

/* Appends *e (ownership of its allocations moves to the recorder). */
static void rec_push(h_rec *r, h_event *e) {
    e->t_ms = h_now_ms();
    e->thread = pthread_self();
    pthread_mutex_lock(&r->mu);
    int t = e->type;
    if (r->n[t] == r->cap[t]) {
        int cap = r->cap[t] ? r->cap[t] * 2 : 16;
        h_event *nv = realloc(r->ev[t], (size_t)cap * sizeof *nv);
        if (nv == NULL) H_FAIL("out of memory in recorder");
        r->ev[t] = nv;
        r->cap[t] = cap;
    }
    e->seq = ++r->seq;
    r->ev[t][r->n[t]++] = *e;
    pthread_mutex_unlock(&r->mu);
}

static void rec_simple(mqttc_client *c, void *ud, h_ev_type t, int a, int b, const char *cb) {
    h_rec *r = rec_of(ud, cb);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    e.client = c;
    e.userdata = ud;
    e.a = a;
    e.b = b;
    rec_push(r, &e);
}

void h_rec_on_connect(mqttc_client *c, void *ud, int flags, int rc) {
    rec_simple(c, ud, H_EV_CONNECT, flags, rc, "on_connect");
}
void h_rec_on_connect_fail(mqttc_client *c, void *ud) {
    rec_simple(c, ud, H_EV_CONNECT_FAIL, 0, 0, "on_connect_fail");
}
void h_rec_on_disconnect(mqttc_client *c, void *ud, int rc) {
    rec_simple(c, ud, H_EV_DISCONNECT, rc, 0, "on_disconnect");
}
void h_rec_on_publish(mqttc_client *c, void *ud, int mid) {
    rec_simple(c, ud, H_EV_PUBLISH, mid, 0, "on_publish");
}
void h_rec_on_unsubscribe(mqttc_client *c, void *ud, int mid) {
    rec_simple(c, ud, H_EV_UNSUBSCRIBE, mid, 0, "on_unsubscribe");
}
void h_rec_on_socket_open(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_OPEN, sock, 0, "on_socket_open");
}
void h_rec_on_socket_close(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_CLOSE, sock, 0, "on_socket_close");
}
void h_rec_on_socket_register_write(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_REG_W, sock, 0, "on_socket_register_write");
}
void h_rec_on_socket_unregister_write(mqttc_client *c, void *ud, int sock) {
    rec_simple(c, ud, H_EV_SOCK_UNREG_W, sock, 0, "on_socket_unregister_write");
}

void h_rec_on_subscribe(mqttc_client *c, void *ud, int mid, int qos_count, const int *granted) {
    h_rec *r = rec_of(ud, "on_subscribe");
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = H_EV_SUBSCRIBE;
    e.client = c;
    e.userdata = ud;
    e.a = mid;
    e.b = qos_count;
    if (qos_count < 0 || qos_count > 1000) H_FAIL("on_subscribe: qos_count %d", qos_count);
    if (qos_count > 0) {
        if (granted == NULL) H_FAIL("on_subscribe: granted_qos NULL with qos_count %d", qos_count);
        e.granted = malloc(sizeof(int) * (size_t)qos_count);
        if (e.granted == NULL) H_FAIL("out of memory");
        memcpy(e.granted, granted, sizeof(int) * (size_t)qos_count);
    }
    rec_push(r, &e);
}

static void rec_message(mqttc_client *c, void *ud, const mqttc_message *m, h_ev_type t,
                        const char *cb) {
    h_rec *r = rec_of(ud, cb);
    if (m == NULL) H_FAIL("%s: message is NULL", cb);
    if (m->topic == NULL) H_FAIL("%s: message topic is NULL", cb);
    if (m->payloadlen < 0) H_FAIL("%s: payloadlen %d", cb, m->payloadlen);
    if (m->payloadlen > 0 && m->payload == NULL)
        H_FAIL("%s: payload NULL with payloadlen %d", cb, m->payloadlen);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    e.client = c;
    e.userdata = ud;
    e.mid = m->mid;
    e.qos = m->qos;
    e.retain = m->retain;
    e.dup = m->dup;
    e.payloadlen = m->payloadlen;
    e.payload_was_null = m->payload == NULL;
    e.topic = strdup(m->topic);
    e.payload = malloc((size_t)m->payloadlen + 1);
    if (e.topic == NULL || e.payload == NULL) H_FAIL("out of memory");
    e.props_null = m->properties == NULL;
    if (m->properties != NULL) {
        e.props = mqttc_properties_copy(m->properties);
        if (e.props == NULL) H_FAIL("%s: mqttc_properties_copy failed", cb);
    }
    if (m->payloadlen > 0) memcpy(e.payload, m->payload, (size_t)m->payloadlen);
    e.payload[m->payloadlen] = 0;
    rec_push(r, &e);
}

void h_rec_on_message(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE, "on_message");
}
void h_rec_on_message_f1(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE_F1, "filtered callback f1");
}
void h_rec_on_message_f2(mqttc_client *c, void *ud, const mqttc_message *m) {
    rec_message(c, ud, m, H_EV_MESSAGE_F2, "filtered callback f2");
}

void h_rec_on_log(mqttc_client *c, void *ud, int level, const char *buf) {
    h_rec *r = rec_of(ud, "on_log");
    if (buf == NULL) H_FAIL("on_log: buf is NULL (level %d)", level);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = H_EV_LOG;
    e.client = c;
    e.userdata = ud;
    e.a = level;
    e.text = strdup(buf);
    if (e.text == NULL) H_FAIL("out of memory");
    rec_push(r, &e);
}

/* A v5 event with a copy of its properties. */
static void rec_v5(mqttc_client *c, void *ud, h_ev_type t, int a, int b, const int *codes,
                   const mqttc_properties *p, const char *cb) {
    h_rec *r = rec_of(ud, cb);
    h_event e;
    memset(&e, 0, sizeof e);
    e.type = t;
    e.client = c;
    e.userdata = ud;
    e.a = a;
    e.b = b;
    e.props_null = p == NULL;
    if (p != NULL) {
        e.props = mqttc_properties_copy(p);
        if (e.props == NULL) H_FAIL("%s: mqttc_properties_copy failed", cb);
    }
    if (codes != NULL && b > 0) {
        e.granted = malloc(sizeof(int) * (size_t)b);
        if (e.granted == NULL) H_FAIL("out of memory");
        memcpy(e.granted, codes, sizeof(int) * (size_t)b);
    } else if (b > 0 && (t == H_EV_SUBSCRIBE5 || t == H_EV_UNSUBSCRIBE5)) {
        H_FAIL("%s: NULL reason codes with count %d", cb, b);
    }
    rec_push(r, &e);
}

void h_rec_on_connect_v5(mqttc_client *c, void *ud, int flags, int reason, const mqttc_properties *p) {
    rec_v5(c, ud, H_EV_CONNECT5, flags, reason, NULL, p, "on_connect_v5");
    rec_simple(c, ud, H_EV_CONNECT, flags, reason, "on_connect_v5");
}
void h_rec_on_disconnect_v5(mqttc_client *c, void *ud, int rc, int reason, const mqttc_properties *p) {
    rec_v5(c, ud, H_EV_DISCONNECT5, rc, reason, NULL, p, "on_disconnect_v5");
    rec_simple(c, ud, H_EV_DISCONNECT, rc, 0, "on_disconnect_v5");
}
void h_rec_on_publish_v5(mqttc_client *c, void *ud, int mid, int reason, const mqttc_properties *p) {
    rec_v5(c, ud, H_EV_PUBLISH5, mid, reason, NULL, p, "on_publish_v5");
    rec_simple(c, ud, H_EV_PUBLISH, mid, 0, "on_publish_v5");
}
void h_rec_on_subscribe_v5(mqttc_client *c, void *ud, int mid, int count, const int *codes,
                           const mqttc_properties *p) {
    rec_v5(c, ud, H_EV_SUBSCRIBE5, mid, count, codes, p, "on_subscribe_v5");
    h_rec_on_subscribe(c, ud, mid, count, codes);
}
void h_rec_on_unsubscribe_v5(mqttc_client *c, void *ud, int mid, int count, const int *codes,
                             const mqttc_properties *p) {
    rec_v5(c, ud, H_EV_UNSUBSCRIBE5, mid, count, codes, p, "on_unsubscribe_v5");
    rec_simple(c, ud, H_EV_UNSUBSCRIBE, mid, 0, "on_unsubscribe_v5");
}
void h_rec_on_auth(mqttc_client *c, void *ud, int reason, const mqttc_properties *p) {
    if (p == NULL) H_FAIL("on_auth: props is NULL");
    rec_v5(c, ud, H_EV_AUTH, reason, 0, NULL, p, "on_auth");
}

mqttc_properties *h_props(void) {
    mqttc_properties *p = mqttc_properties_new();
    if (p == NULL) H_FAIL("mqttc_properties_new returned NULL");
    return p;
}
void h_prop_int(mqttc_properties *p, int id, uint32_t v) {
    int rc = mqttc_properties_add_int(p, id, v);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_add_int(%d, %u) returned %d", id, v, rc);
}
void h_prop_str(mqttc_properties *p, int id, const char *v) {
    int rc = mqttc_properties_add_string(p, id, v);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_add_string(%d, %s) returned %d", id, v, rc);
}
void h_prop_bin(mqttc_properties *p, int id, const void *data, int len) {
    int rc = mqttc_properties_add_binary(p, id, data, len);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_add_binary(%d) returned %d", id, rc);
}
void h_prop_user(mqttc_properties *p, const char *name, const char *value) {
    int rc = mqttc_properties_add_user(p, name, value);
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_add_user(%s) returned %d", name, rc);
}
long long h_get_int(const mqttc_properties *p, int id, int n) {
    uint32_t v;
    int rc = mqttc_properties_get_int(p, id, n, &v);
    if (rc == MQTTC_ERR_NOT_FOUND) return -1;
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_get_int(%d) returned %d", id, rc);
    return v;
}
const char *h_get_str(const mqttc_properties *p, int id, int n) {
    const char *v;
    int rc = mqttc_properties_get_string(p, id, n, &v);
    if (rc == MQTTC_ERR_NOT_FOUND) return NULL;
    if (rc != MQTTC_ERR_SUCCESS) H_FAIL("mqttc_properties_get_string(%d) returned %d", id, rc);
    return v;
}

void h_rec_attach(mqttc_client *c, unsigned which) {
    if (which & H_CB_BASIC) {
        mqttc_on_connect_set(c, h_rec_on_connect);
        mqttc_on_connect_fail_set(c, h_rec_on_connect_fail);
        mqttc_on_disconnect_set(c, h_rec_on_disconnect);
        mqttc_on_message_set(c, h_rec_on_message);
        mqttc_on_publish_set(c, h_rec_on_publish);
        mqttc_on_subscribe_set(c, h_rec_on_subscribe);
        mqttc_on_unsubscribe_set(c, h_rec_on_unsubscribe);
    }
    if (which & H_CB_V5) {
        mqttc_on_connect_v5_set(c, h_rec_on_connect_v5);
        mqttc_on_disconnect_v5_set(c, h_rec_on_disconnect_v5);
        mqttc_on_publish_v5_set(c, h_rec_on_publish_v5);
        mqttc_on_subscribe_v5_set(c, h_rec_on_subscribe_v5);
        mqttc_on_unsubscribe_v5_set(c, h_rec_on_unsubscribe_v5);
        mqttc_on_auth_set(c, h_rec_on_auth);
    }
    if (which & H_CB_LOG) mqttc_on_log_set(c, h_rec_on_log);
    if (which & H_CB_SOCKETS) {
        mqttc_on_socket_open_set(c, h_rec_on_socket_open);
        mqttc_on_socket_close_set(c, h_rec_on_socket_close);
        mqttc_on_socket_register_write_set(c, h_rec_on_socket_register_write);
        mqttc_on_socket_unregister_write_set(c, h_rec_on_socket_unregister_write);
    }
}

int h_rec_count(h_rec *r, h_ev_type t) {
    pthread_mutex_lock(&r->mu);
    int n = r->n[t];
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool h_rec_get(h_rec *r, h_ev_type t, int idx, h_event *out) {
    bool ok = false;
    pthread_mutex_lock(&r->mu);
    if (idx >= 0 && idx < r->n[t]) {
        *out = r->ev[t][idx];
        ok = true;
    }
    pthread_mutex_unlock(&r->mu);
    if (!ok) memset(out, 0, sizeof *out);
    return ok;
}

int h_rec_count_a(h_rec *r, h_ev_type t, int value) {
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n[t]; i++)
        if (r->ev[t][i].a == value) n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int h_rec_count_topic(h_rec *r, h_ev_type t, const char *topic) {
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n[t]; i++)
        if (r->ev[t][i].topic && strcmp(r->ev[t][i].topic, topic) == 0) n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

struct count_arg {
    h_rec *r;
    h_ev_type t;
    int n;
    bool by_a;
    int a;
};
static bool count_cond(void *p) {
    struct count_arg *a = p;
    if (a->by_a) return h_rec_count_a(a->r, a->t, a->a) >= a->n;
    return h_rec_count(a->r, a->t) >= a->n;
}

bool h_rec_wait(h_rec *r, h_ev_type t, int n, mqttc_client *drive, int timeout_ms) {
    struct count_arg a = {r, t, n, false, 0};
    return wait_until(count_cond, &a, drive, timeout_ms);
}

/* ------------------------------------------------------------------------ */
/* Client shortcuts                                                         */
/* ------------------------------------------------------------------------ */

mqttc_client *h_client_at(const char *file, int line, const char *tag, bool clean, h_rec *rec) {
    char id[64];
    errno = 0;
    mqttc_client *c = mqttc_client_new(tag ? h_client_id(id, tag) : NULL, clean, rec,
                                       MQTTC_PROTOCOL_V311, MQTTC_TRANSPORT_TCP);
    if (c == NULL) h_fail(file, line, "mqttc_client_new returned NULL, errno %d (%s)", errno, strerror(errno));
    h_rec_attach(c, H_CB_BASIC);
    return c;
}

mqttc_client *h_client5_at(const char *file, int line, const char *tag, bool clean, h_rec *rec) {
    char id[64];
    errno = 0;
    mqttc_client *c = mqttc_client_new(tag ? h_client_id(id, tag) : NULL, clean, rec,
                                       MQTTC_PROTOCOL_V5, MQTTC_TRANSPORT_TCP);
    if (c == NULL) h_fail(file, line, "mqttc_client_new(V5) returned NULL, errno %d (%s)", errno, strerror(errno));
    h_rec_attach(c, H_CB_BASIC | H_CB_V5);
    return c;
}

int h_connect_at(const char *file, int line, mqttc_client *c, h_rec *rec, int port, bool threaded) {
    int before = h_rec_count(rec, H_EV_CONNECT);
    errno = 0;
    int rc = mqttc_connect(c, h_host(), port, 30, NULL);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_connect(%s:%d) returned %d (%s), errno %d (%s)", h_host(), port,
               rc, h_rc_name(rc), errno, strerror(errno));
    if (threaded) {
        rc = mqttc_loop_start(c);
        if (rc != MQTTC_ERR_SUCCESS)
            h_fail(file, line, "mqttc_loop_start returned %d (%s)", rc, h_rc_name(rc));
    }
    if (!h_rec_wait(rec, H_EV_CONNECT, before + 1, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_connect within 5 s after mqttc_connect to port %d (last mqttc_loop rc %d)",
               port, h_last_loop_rc());
    h_event e;
    h_rec_get(rec, H_EV_CONNECT, before, &e);
    if (e.b != 0) h_fail(file, line, "on_connect rc %d, expected 0", e.b);
    return e.a;
}

void h_disconnect_at(const char *file, int line, mqttc_client *c, h_rec *rec, bool threaded) {
    int before = h_rec_count(rec, H_EV_DISCONNECT);
    int rc = mqttc_disconnect(c);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_disconnect returned %d (%s)", rc, h_rc_name(rc));
    if (!h_rec_wait(rec, H_EV_DISCONNECT, before + 1, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_disconnect within 5 s after mqttc_disconnect");
    h_event e;
    h_rec_get(rec, H_EV_DISCONNECT, before, &e);
    if (e.a != 0) h_fail(file, line, "on_disconnect rc %d (%s) after mqttc_disconnect, expected 0", e.a, h_rc_name(e.a));
    if (threaded) {
        rc = mqttc_loop_stop(c, false);
        if (rc != MQTTC_ERR_SUCCESS)
            h_fail(file, line, "mqttc_loop_stop returned %d (%s)", rc, h_rc_name(rc));
    }
}

int h_subscribe_at(const char *file, int line, mqttc_client *c, h_rec *rec, const char *topic, int qos,
                   bool threaded) {
    int mid = -12345;
    int rc = mqttc_subscribe(c, topic, qos, &mid);
    if (rc != MQTTC_ERR_SUCCESS)
        h_fail(file, line, "mqttc_subscribe(%s, %d) returned %d (%s)", topic, qos, rc, h_rc_name(rc));
    if (mid <= 0) h_fail(file, line, "mqttc_subscribe gave mid %d", mid);
    struct count_arg a = {rec, H_EV_SUBSCRIBE, 1, true, mid};
    if (!wait_until(count_cond, &a, threaded ? NULL : c, 5000))
        h_fail(file, line, "no on_subscribe for mid %d within 5 s", mid);
    int granted = -1;
    pthread_mutex_lock(&rec->mu);
    for (int i = 0; i < rec->n[H_EV_SUBSCRIBE]; i++) {
        h_event *e = &rec->ev[H_EV_SUBSCRIBE][i];
        if (e->a == mid) granted = e->b >= 1 ? e->granted[0] : -2;
    }
    pthread_mutex_unlock(&rec->mu);
    if (granted == -2) h_fail(file, line, "on_subscribe for mid %d had qos_count 0", mid);
    return granted;
}

