//! What the client reports, as Rust values. Notifications are collected while the
//! client lock is held and handed, after it is released, to the client's [`Handler`]
//! (the C callbacks, in `ffi/`), so a callback may call any function of its client.
//! Nothing here knows a C type.

use crate::proto::Properties;
use crate::session::{Inbox, Incoming};
use std::sync::atomic::AtomicBool;

/// Something the application must hear about.
#[derive(Debug)]
pub enum Notify {
    /// CONNACK: `flags` bit 0 is session present; `rc` the return (3.1.1) or reason
    /// (5) code; `properties` the CONNACK's (MQTT 5 only).
    Connect {
        flags: i32,
        rc: i32,
        properties: Option<Properties>,
    },
    ConnectFail,
    /// A connection attempt is about to start (paho 2's `on_pre_connect`).
    PreConnect,
    /// The connection ended: `rc` a result code (0 after a requested disconnect);
    /// `reason` the reason code of the DISCONNECT involved (-1: none); `properties`
    /// the server DISCONNECT's.
    Disconnect {
        rc: i32,
        reason: i32,
        properties: Option<Properties>,
    },
    /// Topic, payload and properties in the batch's inbox.
    Message(Incoming),
    /// `properties`: the PUBACK/PUBREC/PUBCOMP's (MQTT 5); `None` for QoS 0.
    Publish {
        mid: u16,
        reason: i32,
        properties: Option<Properties>,
    },
    /// SUBACK codes (granted QoS or reason codes).
    Subscribe {
        mid: u16,
        codes: Vec<i32>,
        properties: Option<Properties>,
    },
    /// UNSUBACK; MQTT 5 reason codes (none under 3.1.1).
    Unsubscribe {
        mid: u16,
        codes: Vec<i32>,
        properties: Option<Properties>,
    },
    /// MQTT 5 AUTH from the server.
    Auth {
        reason: i32,
        properties: Properties,
    },
    Log {
        level: i32,
        line: String,
    },
    SocketOpen(i32),
    SocketClose(i32),
    RegisterWrite(i32),
    UnregisterWrite(i32),
}

/// Receives a client's notifications, on the thread that drives the loop, with no
/// client lock held.
pub trait Handler: Send + Sync {
    /// Deliver `notes` in order; stop as soon as `destroyed` is set (the client was
    /// destroyed by one of them). Messages' bytes are in `inbox`; `v5` says whether the
    /// client speaks MQTT 5 (messages then have a property list, possibly empty).
    fn dispatch(
        &self,
        notes: &mut dyn Iterator<Item = Notify>,
        inbox: &Inbox,
        v5: bool,
        destroyed: &AtomicBool,
    );
}

/// A handler that drops everything (a new or destroyed client).
pub struct NoHandler;

impl Handler for NoHandler {
    fn dispatch(&self, _: &mut dyn Iterator<Item = Notify>, _: &Inbox, _: bool, _: &AtomicBool) {}
}
