//! Callback dispatch. Notifications are collected while the client lock is held and
//! delivered after it is released, so a callback may call any function of its client.

use crate::ffi::client::mqttc_client;
use crate::ffi::types::*;
use crate::proto::QoS;
use crate::session::{Inbox, Incoming};
use std::ffi::CString;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    pub on_connect_fail: mqttc_on_connect_fail_cb,
    pub on_disconnect: mqttc_on_disconnect_cb,
    pub on_message: mqttc_on_message_cb,
    pub on_publish: mqttc_on_publish_cb,
    pub on_subscribe: mqttc_on_subscribe_cb,
    pub on_unsubscribe: mqttc_on_unsubscribe_cb,
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
    pub fn new(userdata: *mut c_void) -> Callbacks {
        Callbacks {
            handle: Handle(std::ptr::null_mut()),
            userdata: UserData(userdata),
            on_connect: None,
            on_connect_fail: None,
            on_disconnect: None,
            on_message: None,
            on_publish: None,
            on_subscribe: None,
            on_unsubscribe: None,
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

/// Something a callback must hear about.
pub enum Notify {
    Connect {
        flags: c_int,
        rc: c_int,
    },
    ConnectFail,
    Disconnect {
        rc: c_int,
    },
    /// Topic and payload in the batch's inbox.
    Message(Incoming),
    Publish {
        mid: c_int,
    },
    Subscribe {
        mid: c_int,
        granted: Vec<c_int>,
    },
    Unsubscribe {
        mid: c_int,
    },
    Log {
        level: c_int,
        line: String,
    },
    SocketOpen(c_int),
    SocketClose(c_int),
    RegisterWrite(c_int),
    UnregisterWrite(c_int),
}

/// Deliver notifications in order. Returns the incoming QoS>0 messages whose callback
/// has returned, to be acknowledged.
/// Stops as soon as `destroyed` is set (the client was destroyed by a callback).
pub fn dispatch(
    cb: &Callbacks,
    notes: impl IntoIterator<Item = Notify>,
    inbox: &Inbox,
    delivered: &mut Vec<(QoS, u16)>,
    destroyed: &AtomicBool,
) {
    let h = cb.handle.0;
    let ud = cb.userdata.0;
    for note in notes {
        if destroyed.load(Ordering::Acquire) {
            return;
        }
        match note {
            Notify::Connect { flags, rc } => {
                if let Some(f) = cb.on_connect {
                    f(h, ud, flags, rc)
                }
            }
            Notify::ConnectFail => {
                if let Some(f) = cb.on_connect_fail {
                    f(h, ud)
                }
            }
            Notify::Disconnect { rc } => {
                if let Some(f) = cb.on_disconnect {
                    f(h, ud, rc)
                }
            }
            Notify::Message(p) => {
                deliver_message(cb, &p, inbox);
                if p.qos != QoS::AtMostOnce {
                    delivered.push((p.qos, p.pkid));
                }
            }
            Notify::Publish { mid } => {
                if let Some(f) = cb.on_publish {
                    f(h, ud, mid)
                }
            }
            Notify::Subscribe { mid, granted } => {
                if let Some(f) = cb.on_subscribe {
                    f(h, ud, mid, granted.len() as c_int, granted.as_ptr())
                }
            }
            Notify::Unsubscribe { mid } => {
                if let Some(f) = cb.on_unsubscribe {
                    f(h, ud, mid)
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

fn deliver_message(cb: &Callbacks, m: &Incoming, inbox: &Inbox) {
    // Topic (NUL-terminated) and payload are handed out in place, from the inbox.
    let payload = inbox.payload(m);
    let msg = mqttc_message {
        mid: m.pkid as c_int,
        topic: inbox.topic_with_nul(m).as_ptr() as *const _,
        payload: payload.as_ptr() as *const c_void,
        payloadlen: payload.len() as c_int,
        qos: m.qos as c_int,
        retain: m.retain,
        dup: m.dup,
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
