//! The C callbacks of one client, and how the client's notifications become calls to
//! them with C structs (`mqttc_message`, `mqttc_properties`).

use super::client::mqttc_client;
use super::properties::mqttc_properties;
use super::types::*;
use crate::client::notify::{Handler, Notify};
use crate::client::{lock, Client};
use crate::proto::Properties;
use crate::session::{Inbox, Incoming};
use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Opaque user pointer handed back to every callback.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut c_void);
// SAFETY: the pointer is never dereferenced by the library; passing it to callbacks on
// another thread is what the C API promises its caller.
unsafe impl Send for UserData {}
// SAFETY: shared references only copy the pointer value, which is never dereferenced.
unsafe impl Sync for UserData {}

/// The C handle given to callbacks.
#[derive(Clone, Copy)]
pub struct Handle(pub *mut mqttc_client);
// SAFETY: as for UserData: only passed back to the caller's callbacks.
unsafe impl Send for Handle {}
// SAFETY: as for UserData.
unsafe impl Sync for Handle {}

/// Every callback of one client, plus what they receive.
#[derive(Clone)]
pub struct Callbacks {
    pub handle: Handle,
    pub userdata: UserData,
    pub on_connect: mqttc_on_connect_cb,
    pub on_connect_v5: mqttc_on_connect_v5_cb,
    pub on_connect_fail: mqttc_on_connect_fail_cb,
    pub on_pre_connect: mqttc_on_pre_connect_cb,
    pub on_disconnect: mqttc_on_disconnect_cb,
    pub on_disconnect_v5: mqttc_on_disconnect_v5_cb,
    pub on_message: mqttc_on_message_cb,
    pub on_publish: mqttc_on_publish_cb,
    pub on_publish_v5: mqttc_on_publish_v5_cb,
    pub on_subscribe: mqttc_on_subscribe_cb,
    pub on_subscribe_v5: mqttc_on_subscribe_v5_cb,
    pub on_unsubscribe: mqttc_on_unsubscribe_cb,
    pub on_unsubscribe_v5: mqttc_on_unsubscribe_v5_cb,
    pub on_auth: mqttc_on_auth_cb,
    pub on_log: mqttc_on_log_cb,
    pub on_socket_open: mqttc_on_socket_cb,
    pub on_socket_close: mqttc_on_socket_cb,
    pub on_socket_register_write: mqttc_on_socket_cb,
    pub on_socket_unregister_write: mqttc_on_socket_cb,
    /// `message_callback_add` filters, in the order they were added.
    pub filters: Arc<Vec<(String, mqttc_on_message_cb)>>,
    /// Log levels written to stderr (`enable_logger`).
    pub logger_mask: c_int,
}

impl Callbacks {
    pub fn new(handle: Handle, userdata: *mut c_void) -> Callbacks {
        Callbacks {
            handle,
            userdata: UserData(userdata),
            on_connect: None,
            on_connect_v5: None,
            on_connect_fail: None,
            on_pre_connect: None,
            on_disconnect: None,
            on_disconnect_v5: None,
            on_message: None,
            on_publish: None,
            on_publish_v5: None,
            on_subscribe: None,
            on_subscribe_v5: None,
            on_unsubscribe: None,
            on_unsubscribe_v5: None,
            on_auth: None,
            on_log: None,
            on_socket_open: None,
            on_socket_close: None,
            on_socket_register_write: None,
            on_socket_unregister_write: None,
            filters: Arc::new(Vec::new()),
            logger_mask: 0,
        }
    }

    /// Levels anyone listens to (on_log hears every level).
    pub fn log_mask(&self) -> c_int {
        if self.on_log.is_some() {
            0x1f
        } else {
            self.logger_mask
        }
    }
}

/// A client's callbacks, shared between the handle (whose setters change them) and the
/// client (which hands them its notifications).
pub struct CallbackTable {
    cbs: Mutex<Callbacks>,
}

impl CallbackTable {
    pub fn new(cbs: Callbacks) -> Arc<CallbackTable> {
        Arc::new(CallbackTable {
            cbs: Mutex::new(cbs),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Callbacks> {
        lock(&self.cbs)
    }

    /// Change the callbacks, then tell the client what it needs to know of them.
    pub fn update(&self, client: &Client, f: impl FnOnce(&mut Callbacks)) {
        let (mask, auth) = {
            let mut cbs = self.lock();
            f(&mut cbs);
            (cbs.log_mask(), cbs.on_auth.is_some())
        };
        client.set_log_mask(mask);
        client.set_auth_handler(auth);
    }
}

/// A properties argument for a callback: the list, or NULL.
fn props_ptr(p: &Option<mqttc_properties>) -> *const mqttc_properties {
    p.as_ref().map_or(std::ptr::null(), |p| p as *const _)
}

fn c_props(p: Option<Properties>) -> Option<mqttc_properties> {
    p.map(|p| mqttc_properties::owned(&p))
}

/// A code array argument: NULL when empty.
fn codes_ptr(codes: &[c_int]) -> *const c_int {
    if codes.is_empty() {
        std::ptr::null()
    } else {
        codes.as_ptr()
    }
}

impl Handler for CallbackTable {
    fn dispatch(
        &self,
        notes: &mut dyn Iterator<Item = Notify>,
        inbox: &Inbox,
        v5: bool,
        destroyed: &AtomicBool,
    ) {
        let cb = self.lock().clone();
        let h = cb.handle.0;
        let ud = cb.userdata.0;
        for note in notes {
            if destroyed.load(Ordering::Acquire) {
                return;
            }
            match note {
                Notify::Connect {
                    flags,
                    rc,
                    properties,
                } => {
                    if let Some(f) = cb.on_connect_v5 {
                        let p = c_props(properties);
                        f(h, ud, flags, rc, props_ptr(&p))
                    } else if let Some(f) = cb.on_connect {
                        f(h, ud, flags, rc)
                    }
                }
                Notify::ConnectFail => {
                    if let Some(f) = cb.on_connect_fail {
                        f(h, ud)
                    }
                }
                Notify::PreConnect => {
                    if let Some(f) = cb.on_pre_connect {
                        f(h, ud)
                    }
                }
                Notify::Disconnect {
                    rc,
                    reason,
                    properties,
                } => {
                    if let Some(f) = cb.on_disconnect_v5 {
                        let p = c_props(properties);
                        f(h, ud, rc, reason, props_ptr(&p))
                    } else if let Some(f) = cb.on_disconnect {
                        f(h, ud, rc)
                    }
                }
                Notify::Message(m) => deliver_message(&cb, &m, inbox, v5),
                Notify::Publish {
                    mid,
                    reason,
                    properties,
                } => {
                    if let Some(f) = cb.on_publish_v5 {
                        let p = c_props(properties);
                        f(h, ud, mid.into(), reason, props_ptr(&p))
                    } else if let Some(f) = cb.on_publish {
                        f(h, ud, mid.into())
                    }
                }
                Notify::Subscribe {
                    mid,
                    codes,
                    properties,
                } => {
                    let n = codes.len() as c_int;
                    if let Some(f) = cb.on_subscribe_v5 {
                        let p = c_props(properties);
                        f(h, ud, mid.into(), n, codes_ptr(&codes), props_ptr(&p))
                    } else if let Some(f) = cb.on_subscribe {
                        f(h, ud, mid.into(), n, codes_ptr(&codes))
                    }
                }
                Notify::Unsubscribe {
                    mid,
                    codes,
                    properties,
                } => {
                    if let Some(f) = cb.on_unsubscribe_v5 {
                        let p = c_props(properties);
                        let n = codes.len() as c_int;
                        f(h, ud, mid.into(), n, codes_ptr(&codes), props_ptr(&p))
                    } else if let Some(f) = cb.on_unsubscribe {
                        f(h, ud, mid.into())
                    }
                }
                Notify::Auth { reason, properties } => {
                    if let Some(f) = cb.on_auth {
                        let p = mqttc_properties::owned(&properties);
                        f(h, ud, reason, &p)
                    }
                }
                Notify::Log { level, line } => {
                    let line = CString::new(line.replace('\0', "\\0")).unwrap_or_default();
                    if cb.logger_mask & level != 0 {
                        eprintln!("mqttc: {}", line.to_string_lossy());
                    }
                    if let Some(f) = cb.on_log {
                        f(h, ud, level, line.as_ptr())
                    }
                }
                Notify::SocketOpen(fd) => {
                    if let Some(f) = cb.on_socket_open {
                        f(h, ud, fd)
                    }
                }
                Notify::SocketClose(fd) => {
                    if let Some(f) = cb.on_socket_close {
                        f(h, ud, fd)
                    }
                }
                Notify::RegisterWrite(fd) => {
                    if let Some(f) = cb.on_socket_register_write {
                        f(h, ud, fd)
                    }
                }
                Notify::UnregisterWrite(fd) => {
                    if let Some(f) = cb.on_socket_unregister_write {
                        f(h, ud, fd)
                    }
                }
            }
        }
    }
}

fn deliver_message(cb: &Callbacks, m: &Incoming, inbox: &Inbox, v5: bool) {
    // Topic (NUL-terminated), payload and properties are handed out in place, from the
    // inbox; the property list decodes only if a getter asks.
    let payload = inbox.payload(m);
    let props = v5.then(|| mqttc_properties::borrowed(inbox.properties(m)));
    let msg = mqttc_message {
        mid: m.pkid as c_int,
        topic: inbox.topic_with_nul(m).as_ptr() as *const _,
        payload: payload.as_ptr() as *const c_void,
        payloadlen: payload.len() as c_int,
        qos: m.qos as c_int,
        retain: m.retain,
        dup: m.dup,
        properties: props_ptr(&props),
    };
    let mut matched = false;
    if !cb.filters.is_empty() {
        let topic = inbox.topic(m);
        for (filter, f) in cb.filters.iter() {
            if crate::proto::topic::matches(filter, topic) {
                if let Some(f) = f {
                    matched = true;
                    f(cb.handle.0, cb.userdata.0, &msg);
                }
            }
        }
    }
    if !matched {
        if let Some(f) = cb.on_message {
            f(cb.handle.0, cb.userdata.0, &msg);
        }
    }
}
