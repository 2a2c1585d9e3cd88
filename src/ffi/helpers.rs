//! Stand-alone helpers: topic matching, strings, version, and the one-shot
//! publish/subscribe helpers (paho `publish.single/multiple`,
//! `subscribe.simple/callback`), built on the client functions.

use super::client::*;
use super::loops::*;
use super::message::{copy_into, free_contents};
use super::pubsub::*;
use super::types::*;
use super::*;
use crate::session::State;
use std::os::raw::{c_char, c_int, c_void};

/// True when `topic` matches subscription filter `sub` (MQTT-4.7: `+` one level, `#`
/// the rest including the parent; topics starting with `$` are not matched by a
/// filter starting with a wildcard). A shared subscription's filter
/// `$share/<group>/<filter>` matches what `<filter>` matches, as the broker delivers to
/// it (MQTT-4.8.2). False for NULL or invalid arguments.
#[no_mangle]
pub extern "C" fn mqttc_topic_matches_sub(sub: *const c_char, topic: *const c_char) -> bool {
    ffi_body!(false, {
        // SAFETY: both are NULL or NUL-terminated strings (API contract).
        match (unsafe { opt_str(sub) }, unsafe { opt_str(topic) }) {
            (Ok(Some(s)), Ok(Some(t))) => crate::proto::topic::matches(s, t),
            _ => false,
        }
    })
}

/// A static description of a CONNACK return code; never NULL.
#[no_mangle]
pub extern "C" fn mqttc_connack_string(connack_code: c_int) -> *const c_char {
    ffi_body!(c"Connection Refused: unknown reason.".as_ptr(), {
        static_cstr(crate::error::connack_string(connack_code))
    })
}

/// A static description of a result code; never NULL.
#[no_mangle]
pub extern "C" fn mqttc_error_string(rc: c_int) -> *const c_char {
    ffi_body!(c"Unknown error.".as_ptr(), {
        static_cstr(crate::error::error_string(rc))
    })
}

/// The static strings above as C strings (each interned once, never freed).
fn static_cstr(s: &'static str) -> *const c_char {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static TABLE: once_cell::sync::Lazy<Mutex<HashMap<&'static str, &'static std::ffi::CStr>>> =
        once_cell::sync::Lazy::new(|| Mutex::new(HashMap::new()));
    let mut t = crate::client::lock(&TABLE);
    t.entry(s)
        .or_insert_with(|| {
            let c = std::ffi::CString::new(s).unwrap_or_default();
            Box::leak(c.into_boxed_c_str())
        })
        .as_ptr()
}

/// The library version: each non-NULL pointer receives a part. Returns
/// `major * 1000000 + minor * 1000 + revision`.
#[no_mangle]
pub extern "C" fn mqttc_lib_version(
    major: *mut c_int,
    minor: *mut c_int,
    revision: *mut c_int,
) -> c_int {
    ffi_body!(0, {
        let parse = |s: &str| s.parse::<c_int>().unwrap_or(0);
        let (ma, mi, re) = (
            parse(env!("CARGO_PKG_VERSION_MAJOR")),
            parse(env!("CARGO_PKG_VERSION_MINOR")),
            parse(env!("CARGO_PKG_VERSION_PATCH")),
        );
        set_out(major, ma);
        set_out(minor, mi);
        set_out(revision, re);
        ma * 1_000_000 + mi * 1000 + re
    })
}

/// Fill `opts` with the defaults: host "localhost", port 1883, a random client id
/// (NULL), keepalive 60, no will, no auth, no TLS, MQTT 3.1.1, TCP. NULL is ignored.
#[no_mangle]
pub extern "C" fn mqttc_conn_opts_init(opts: *mut mqttc_conn_opts) {
    ffi_body!((), {
        if opts.is_null() {
            return;
        }
        let o = mqttc_conn_opts {
            hostname: c"localhost".as_ptr(),
            port: 1883,
            client_id: std::ptr::null(),
            keepalive: 60,
            will: std::ptr::null(),
            auth: std::ptr::null(),
            tls: std::ptr::null(),
            protocol: MQTTC_PROTOCOL_V311,
            transport: MQTTC_TRANSPORT_TCP,
        };
        // SAFETY: opts is a valid, writable mqttc_conn_opts (API contract).
        unsafe { std::ptr::write(opts, o) };
    })
}

/// A client connected as `opts` says, with the CONNACK received.
struct Oneshot(*mut mqttc_client);

impl Drop for Oneshot {
    fn drop(&mut self) {
        mqttc_client_destroy(self.0);
    }
}

impl Oneshot {
    fn connect(opts: *const mqttc_conn_opts, userdata: *mut c_void) -> Result<Oneshot, c_int> {
        let mut defaults = std::mem::MaybeUninit::<mqttc_conn_opts>::uninit();
        let opts: &mqttc_conn_opts = if opts.is_null() {
            mqttc_conn_opts_init(defaults.as_mut_ptr());
            // SAFETY: initialised by mqttc_conn_opts_init just above.
            unsafe { defaults.assume_init_ref() }
        } else {
            // SAFETY: non-NULL opts points to a valid struct (API contract).
            unsafe { &*opts }
        };
        // SAFETY: client_id is NULL or a NUL-terminated string (API contract).
        let id = match unsafe { opt_str(opts.client_id) } {
            Ok(Some(s)) if !s.is_empty() => s.to_string(),
            Ok(_) => crate::client::random_client_id(),
            Err(_) => return Err(MQTTC_ERR_INVAL),
        };
        let id = std::ffi::CString::new(id).map_err(|_| MQTTC_ERR_INVAL)?;
        let c = mqttc_client_new(id.as_ptr(), true, userdata, opts.protocol, opts.transport);
        if c.is_null() {
            return Err(MQTTC_ERR_INVAL);
        }
        let client = Oneshot(c);
        let check = |rc: c_int| {
            if rc == MQTTC_ERR_SUCCESS {
                Ok(())
            } else {
                Err(rc)
            }
        };
        check(super::options::mqttc_reconnect_on_failure_set(c, false))?;
        // SAFETY: will/auth are NULL or valid per the API contract.
        if let Some(auth) = unsafe { opts.auth.as_ref() } {
            check(super::options::mqttc_username_pw_set(
                c,
                auth.username,
                auth.password,
            ))?;
        }
        // SAFETY: opts.will is NULL or points to a valid mqttc_will (API contract).
        if let Some(w) = unsafe { opts.will.as_ref() } {
            check(super::options::mqttc_will_set(
                c,
                w.topic,
                w.payload,
                w.payloadlen,
                w.qos,
                w.retain,
            ))?;
        }
        // SAFETY: tls is NULL or valid per the API contract.
        if let Some(t) = unsafe { opts.tls.as_ref() } {
            // As paho's helpers: the broker's certificate is always verified.
            check(super::tls::mqttc_tls_set(
                c,
                t.ca_certs,
                t.certfile,
                t.keyfile,
                MQTTC_CERT_REQUIRED,
                t.tls_version,
                t.ciphers,
            ))?;
            if t.insecure {
                check(super::tls::mqttc_tls_insecure_set(c, true))?;
            }
        }
        let host = if opts.hostname.is_null() {
            c"localhost".as_ptr()
        } else {
            opts.hostname
        };
        // MQTT 5 as paho's helpers connect: Clean Start on the first CONNECT only.
        if opts.protocol == MQTTC_PROTOCOL_V5 {
            check(super::v5::mqttc_connect_v5(
                c,
                host,
                opts.port,
                opts.keepalive,
                std::ptr::null(),
                MQTTC_CLEAN_START_FIRST_ONLY,
                std::ptr::null(),
            ))?;
        } else {
            check(mqttc_connect(
                c,
                host,
                opts.port,
                opts.keepalive,
                std::ptr::null(),
            ))?;
        }
        // Wait for the CONNACK (a refusal ends the connection with CONN_REFUSED).
        // SAFETY: c was made by mqttc_client_new above and is not destroyed yet.
        let inner = unsafe { client_ref(c) }.ok_or(MQTTC_ERR_INVAL)?;
        while inner.state() != State::Connected {
            check(mqttc_loop(c, 100, 1))?;
        }
        Ok(client)
    }

    /// Disconnect cleanly and wait until the DISCONNECT is written.
    fn finish(self) -> c_int {
        let rc = mqttc_disconnect(self.0);
        if rc != MQTTC_ERR_SUCCESS {
            return rc;
        }
        while mqttc_socket(self.0) >= 0 {
            let rc = mqttc_loop(self.0, 100, 1);
            if rc != MQTTC_ERR_SUCCESS {
                break;
            }
        }
        MQTTC_ERR_SUCCESS
    }
}

/// Connect, publish one message, wait until it is published at its QoS, disconnect
/// (paho `publish.single`). `opts` NULL uses `mqttc_conn_opts_init`'s defaults.
///
/// Returns `MQTTC_ERR_SUCCESS`, or the error that stopped it (`MQTTC_ERR_INVAL`,
/// `MQTTC_ERR_PAYLOAD_SIZE`, `MQTTC_ERR_ERRNO` for a failed connect,
/// `MQTTC_ERR_CONN_REFUSED` for a refused CONNACK, `MQTTC_ERR_CONN_LOST`, ...).
#[no_mangle]
pub extern "C" fn mqttc_publish_single(
    topic: *const c_char,
    payload: *const c_void,
    payloadlen: c_int,
    qos: c_int,
    retain: bool,
    opts: *const mqttc_conn_opts,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        let msg = mqttc_publish_msg {
            topic,
            payload,
            payloadlen,
            qos,
            retain,
        };
        mqttc_publish_multiple(&msg, 1, opts)
    })
}

/// Connect, publish `count` messages in order, wait until all are published, disconnect
/// (paho `publish.multiple`). Returns as `mqttc_publish_single`; `MQTTC_ERR_INVAL` for
/// NULL `msgs` or `count` ≤ 0. Arguments are checked before connecting.
#[no_mangle]
pub extern "C" fn mqttc_publish_multiple(
    msgs: *const mqttc_publish_msg,
    count: c_int,
    opts: *const mqttc_conn_opts,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        if msgs.is_null() || count <= 0 {
            return MQTTC_ERR_INVAL;
        }
        // SAFETY: msgs holds `count` messages (API contract).
        let list = unsafe { std::slice::from_raw_parts(msgs, count as usize) };
        for m in list {
            let topic = try_str!(m.topic);
            if !crate::proto::topic::valid_topic_name(topic) {
                return MQTTC_ERR_INVAL;
            }
            try_rc!(qos_arg(m.qos));
            // SAFETY: each message's payload is NULL or payloadlen bytes (API contract).
            try_rc!(unsafe { payload_slice(m.payload, m.payloadlen) });
        }
        let client = try_rc!(Oneshot::connect(opts, std::ptr::null_mut()));
        let c = client.0;
        let mut mids = Vec::with_capacity(list.len());
        for m in list {
            let mut mid = 0;
            let rc = mqttc_publish(
                c,
                m.topic,
                m.payload,
                m.payloadlen,
                m.qos,
                m.retain,
                &mut mid,
            );
            if rc != MQTTC_ERR_SUCCESS {
                return rc;
            }
            mids.push(mid);
        }
        while !mids.iter().all(|m| mqttc_is_published(c, *m)) {
            let rc = mqttc_loop(c, 100, 1);
            if rc != MQTTC_ERR_SUCCESS {
                return rc;
            }
        }
        client.finish()
    })
}

/// What `subscribe_simple` collects.
struct Collect {
    want: usize,
    retained: bool,
    got: Vec<mqttc_message>,
}

extern "C" fn collect_message(
    c: *mut mqttc_client,
    userdata: *mut c_void,
    msg: *const mqttc_message,
) {
    // SAFETY: userdata is the Collect owned by mqttc_subscribe_simple's frame, which
    // outlives the loop; msg is valid for this call.
    let (state, m) = unsafe { (&mut *(userdata as *mut Collect), &*msg) };
    if state.got.len() >= state.want || (m.retain && !state.retained) {
        return;
    }
    // SAFETY: m is the message the library passes to on_message, valid for this call.
    if let Some(copy) = unsafe { copy_into(m) } {
        state.got.push(copy);
    }
    if state.got.len() == state.want {
        mqttc_disconnect(c);
    }
}

fn subscribe_all(
    c: *mut mqttc_client,
    topics: *const *const c_char,
    topic_count: c_int,
    qos: c_int,
) -> c_int {
    let qs = vec![qos; topic_count.max(0) as usize];
    mqttc_subscribe_multiple(c, topic_count, topics, qs.as_ptr(), std::ptr::null_mut())
}

fn check_filters(topics: *const *const c_char, topic_count: c_int, qos: c_int) -> c_int {
    if topics.is_null() || topic_count <= 0 || qos_arg(qos).is_err() {
        return MQTTC_ERR_INVAL;
    }
    // SAFETY: topics holds topic_count pointers (API contract).
    for p in unsafe { std::slice::from_raw_parts(topics, topic_count as usize) } {
        let t = try_str!(*p);
        if !crate::proto::topic::valid_topic_filter(t) {
            return MQTTC_ERR_INVAL;
        }
    }
    MQTTC_ERR_SUCCESS
}

/// Connect, subscribe to `topic_count` filters at `qos`, wait for `msg_count` messages,
/// disconnect, and return them in `*messages` (an array of `msg_count` messages that
/// the caller frees with `mqttc_messages_free(*messages, msg_count)`). With `retained`
/// false, retained messages are skipped. Waits as long as it takes (paho
/// `subscribe.simple`).
///
/// Returns `MQTTC_ERR_SUCCESS` (then `*messages` is set), `MQTTC_ERR_INVAL` (NULL
/// `messages`/`topics`, counts ≤ 0, bad filter or qos), or the connection error.
#[no_mangle]
pub extern "C" fn mqttc_subscribe_simple(
    topics: *const *const c_char,
    topic_count: c_int,
    qos: c_int,
    msg_count: c_int,
    retained: bool,
    opts: *const mqttc_conn_opts,
    messages: *mut *mut mqttc_message,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        if messages.is_null() || msg_count <= 0 {
            return MQTTC_ERR_INVAL;
        }
        try_rc!(ok_or_rc(check_filters(topics, topic_count, qos)));
        let mut state = Collect {
            want: msg_count as usize,
            retained,
            got: Vec::with_capacity(msg_count as usize),
        };
        let rc = {
            let client = try_rc!(Oneshot::connect(
                opts,
                &mut state as *mut Collect as *mut c_void
            ));
            super::callbacks::mqttc_on_message_set(client.0, Some(collect_message));
            try_rc!(ok_or_rc(subscribe_all(client.0, topics, topic_count, qos)));
            mqttc_loop_forever(client.0, -1, 1, false)
        };
        if state.got.len() < state.want {
            for m in state.got.iter_mut() {
                // SAFETY: each was made by copy_into and is freed once, here.
                unsafe { free_contents(m) };
            }
            return if rc == MQTTC_ERR_SUCCESS {
                MQTTC_ERR_CONN_LOST
            } else {
                rc
            };
        }
        let arr = std::mem::take(&mut state.got).into_boxed_slice();
        // SAFETY: messages is a valid out-pointer (checked non-NULL above).
        unsafe { *messages = Box::into_raw(arr) as *mut mqttc_message };
        MQTTC_ERR_SUCCESS
    })
}

fn ok_or_rc(rc: c_int) -> Result<(), c_int> {
    if rc == MQTTC_ERR_SUCCESS {
        Ok(())
    } else {
        Err(rc)
    }
}

/// Connect, subscribe to `topic_count` filters at `qos`, and call `cb(client,
/// userdata, msg)` for every message until the callback calls `mqttc_disconnect` on
/// the client it is given (paho `subscribe.callback`).
///
/// Returns `MQTTC_ERR_SUCCESS` after that disconnect, `MQTTC_ERR_INVAL` (NULL `cb` or
/// `topics`, bad filter or qos), or the connection error.
#[no_mangle]
pub extern "C" fn mqttc_subscribe_callback(
    cb: mqttc_on_message_cb,
    topics: *const *const c_char,
    topic_count: c_int,
    qos: c_int,
    userdata: *mut c_void,
    opts: *const mqttc_conn_opts,
) -> c_int {
    ffi_body!(MQTTC_ERR_UNKNOWN, {
        if cb.is_none() {
            return MQTTC_ERR_INVAL;
        }
        try_rc!(ok_or_rc(check_filters(topics, topic_count, qos)));
        let client = try_rc!(Oneshot::connect(opts, userdata));
        super::callbacks::mqttc_on_message_set(client.0, cb);
        try_rc!(ok_or_rc(subscribe_all(client.0, topics, topic_count, qos)));
        mqttc_loop_forever(client.0, -1, 1, false)
    })
}
