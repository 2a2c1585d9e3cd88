//! The commands of a client: connecting, publishing, subscribing, disconnecting, and
//! what the paho API adds around them (waiting for a publish, the socket, the loop
//! thread's start and stop).

use super::{lock, session_config, Client, Inner, Options};
use crate::error::Error;
use crate::proto::properties::{explain, Where, IN_CONNECT, IN_DISCONNECT, IN_WILL};
use crate::proto::{topic, Disconnect, LastWill, Properties, QoS, SubOptions};
use crate::session::{Session, State};
use std::os::raw::c_int;
use std::time::{Duration, Instant};

/// MQTT 5 Clean Start of `connect_v5` (paho's `clean_start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CleanStart {
    No,
    Yes,
    /// Clean Start on the first CONNECT of each `connect_v5`, not on its reconnects.
    FirstOnly,
}

impl Inner {
    /// Properties for `place`: `NotSupported` under 3.1/3.1.1, `Property` (logged)
    /// when one is not allowed there.
    fn check_props(&mut self, props: &Properties, place: Where) -> Result<(), Error> {
        if props.is_empty() {
            return Ok(());
        }
        if !self.session.protocol().is_v5() {
            return Err(Error::NotSupported);
        }
        if let Err(e) = props.check_allowed(place) {
            let why = explain(&e, place);
            self.log(0x08, || format!("property error: {why}"));
            return Err(Error::Property(why));
        }
        Ok(())
    }
}

impl Client {
    /// paho `reinitialise`: back to a new client's state (options reset; protocol and
    /// transport kept; the caller resets its callbacks). `Inval` while the loop thread
    /// runs.
    pub fn reinitialise(&self, client_id: &str, clean_session: bool) -> Result<(), Error> {
        if lock(&self.shared.thread).is_some() {
            return Err(Error::Inval);
        }
        let protocol = lock(&self.shared.inner).session.config().protocol;
        let config = session_config(client_id, clean_session, protocol)?;
        self.with(|inner| {
            inner.close(0, false);
            inner.notes.clear();
            let transport = inner.opts.transport;
            inner.session = Session::new(config);
            inner.opts = Options::new(transport, clean_session);
            inner.want_connect = false;
            inner.user_disconnect = false;
            inner.reconnect_delay = None;
            inner.log_mask = 0;
            inner.undelivered_published.clear();
        });
        Ok(())
    }

    /// paho `will_set`; `properties` are the MQTT 5 will properties.
    pub fn set_will(
        &self,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        properties: &Properties,
    ) -> Result<(), Error> {
        if !topic::valid_topic_name(topic_name) {
            return Err(Error::Inval);
        }
        if payload.len() > crate::proto::MAX_REMAINING_LENGTH {
            return Err(Error::PayloadSize);
        }
        self.with(|inner| {
            inner.check_props(properties, IN_WILL)?;
            inner.session.config_mut().will = Some(LastWill {
                topic: topic_name.to_string(),
                payload: payload.to_vec(),
                qos,
                retain,
                properties: properties.clone(),
            });
            Ok(())
        })
    }

    /// Record the connection parameters (paho `connect_async`); the loop connects.
    /// Under MQTT 5 this is `connect_async_v5` with the client's Clean Start and no
    /// properties.
    pub fn connect_async(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
    ) -> Result<(), Error> {
        self.connect_async_v5(host, port, keepalive, bind, None, &Properties::new())
    }

    /// `connect_async` with the MQTT 5 Clean Start (`None`: the client's
    /// `clean_session`) and CONNECT properties, kept for every reconnect.
    pub fn connect_async_v5(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
        clean_start: Option<CleanStart>,
        properties: &Properties,
    ) -> Result<(), Error> {
        if host.is_empty() {
            return Err(Error::Inval);
        }
        self.with(|inner| {
            inner.check_props(properties, IN_CONNECT)?;
            if clean_start.is_some() && !inner.session.protocol().is_v5() {
                return Err(Error::NotSupported);
            }
            inner.opts.host = Some(host.to_string());
            inner.opts.port = port;
            inner.servers.restart();
            inner.opts.bind_address = bind.map(str::to_string);
            let default_clean = inner.opts.clean_session;
            let cfg = inner.session.config_mut();
            cfg.keep_alive = keepalive;
            cfg.connect_properties = properties.clone();
            let clean = clean_start.unwrap_or(if default_clean {
                CleanStart::Yes
            } else {
                CleanStart::No
            });
            cfg.clean_session = clean == CleanStart::Yes;
            cfg.clean_start_first_only = clean == CleanStart::FirstOnly;
            inner.session.restart_clean_start();
            inner.want_connect = true;
            inner.user_disconnect = false;
            Ok(())
        })?;
        self.shared.wake();
        Ok(())
    }

    /// Blocking connect (paho `connect`): the transport is up and CONNECT queued on
    /// return.
    pub fn connect(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
    ) -> Result<(), Error> {
        self.connect_async(host, port, keepalive, bind)?;
        self.reconnect()
    }

    /// Blocking `connect_v5`.
    pub fn connect_v5(
        &self,
        host: &str,
        port: u16,
        keepalive: u16,
        bind: Option<&str>,
        clean_start: Option<CleanStart>,
        properties: &Properties,
    ) -> Result<(), Error> {
        self.connect_async_v5(host, port, keepalive, bind, clean_start, properties)?;
        self.reconnect()
    }

    /// paho `reconnect`: drop the current connection (no on_disconnect) and open a
    /// new one with the recorded parameters.
    pub fn reconnect(&self) -> Result<(), Error> {
        self.shared.reconnect()
    }

    pub fn disconnect(&self) -> Result<(), Error> {
        self.disconnect_v5(Disconnect::normal())
    }

    /// paho `disconnect(reasoncode, properties)`: DISCONNECT in the MQTT 5 form given.
    pub fn disconnect_v5(&self, d: Disconnect) -> Result<(), Error> {
        let in_loop_thread = self.shared.is_loop_thread();
        let thread_running = lock(&self.shared.thread).is_some();
        let r = self.with(|inner| {
            // A form the session refuses (a property, 3.1.1) changes nothing.
            if let Some(props) = &d.properties {
                inner.check_props(props, IN_DISCONNECT)?;
            }
            inner.user_disconnect = true;
            inner.want_connect = false;
            inner.disconnects += 1;
            let code = d.reason;
            match inner.session.disconnect_v5(Instant::now(), d) {
                Ok(()) => {
                    inner.log(0x10, || match code {
                        Some(rc) => format!("Sending DISCONNECT (reason 0x{rc:02x})"),
                        None => "Sending DISCONNECT".to_string(),
                    });
                    // Without a loop thread nobody else will write it: send it now,
                    // so a program that disconnects and exits does not leave the
                    // broker to publish the will.
                    if !thread_running && !in_loop_thread {
                        inner.flush();
                        inner.finish_disconnect_if_done();
                    } else {
                        inner.sync_write_watch();
                    }
                    Ok(())
                }
                // A connect in progress on another thread: it is cancelled.
                Err(Error::NoConn) if inner.connecting > 0 => {
                    inner.log(0x10, || "Cancelling the connect in progress".to_string());
                    Ok(())
                }
                Err(e) => Err(e),
            }
        });
        self.shared.wake();
        r
    }

    pub fn publish(
        &self,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, (u16, Error)> {
        self.publish_v5(topic_name, payload, qos, retain, &Properties::new())
    }

    /// paho `publish(..., properties)`.
    pub fn publish_v5(
        &self,
        topic_name: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        properties: &Properties,
    ) -> Result<u16, (u16, Error)> {
        let r = self.with(|inner| {
            let r = inner.session.publish_v5(
                Instant::now(),
                topic_name,
                payload,
                qos,
                retain,
                properties,
            );
            if let Err((_, e @ Error::Property(_))) = &r {
                let why = e.to_string();
                inner.log(0x08, || format!("PUBLISH refused: {why}"));
            }
            if let Ok(mid) = r {
                inner.log(0x10, || {
                    format!(
                        "Sending PUBLISH (d0, q{}, r{}, m{}), '{}', ... ({} bytes)",
                        qos as u8,
                        retain as u8,
                        mid,
                        topic_name,
                        payload.len()
                    )
                });
            }
            // Wake the loop only if it sleeps and now has something to write: not
            // once per message while it is busy writing earlier ones.
            let wake = inner.loop_parked && inner.wants_write();
            if wake {
                inner.loop_parked = false;
            }
            inner.sync_write_watch();
            (r, wake)
        });
        if r.1 {
            self.shared.wake();
        }
        r.0
    }

    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<u16, Error> {
        self.request("SUBSCRIBE", &filters, |s, now| s.subscribe(now, filters))
    }

    /// paho `subscribe(topic, options, properties)`.
    pub fn subscribe_v5(
        &self,
        filters: &[(&str, SubOptions)],
        properties: &Properties,
    ) -> Result<u16, Error> {
        self.request("SUBSCRIBE", &filters, |s, now| {
            s.subscribe_v5(now, filters, properties)
        })
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> Result<u16, Error> {
        self.request("UNSUBSCRIBE", &filters, |s, now| {
            s.unsubscribe(now, filters)
        })
    }

    /// paho `unsubscribe(topic, properties)`.
    pub fn unsubscribe_v5(&self, filters: &[&str], properties: &Properties) -> Result<u16, Error> {
        self.request("UNSUBSCRIBE", &filters, |s, now| {
            s.unsubscribe_v5(now, filters, properties)
        })
    }

    /// MQTT 5 enhanced authentication: send AUTH (see `Session::authenticate`).
    pub fn authenticate(&self, reason: u8, properties: &Properties) -> Result<(), Error> {
        let r = self.with(|inner| {
            let r = inner
                .session
                .authenticate(Instant::now(), reason, properties);
            match &r {
                Ok(()) => inner.log(0x10, || format!("Sending AUTH (reason 0x{reason:02x})")),
                Err(e @ Error::Property(_)) => {
                    let why = e.to_string();
                    inner.log(0x08, || format!("AUTH refused: {why}"))
                }
                Err(_) => {}
            }
            inner.sync_write_watch();
            r
        });
        self.shared.wake();
        r
    }

    /// MQTT 5: assign outgoing topic aliases automatically (from the next connection
    /// on, and on the current one at once).
    pub fn set_topic_alias_auto(&self, on: bool) -> Result<(), Error> {
        self.with(|inner| inner.session.set_topic_alias_auto(on));
        Ok(())
    }

    /// Queue a SUBSCRIBE or UNSUBSCRIBE, log it and wake the loop to send it.
    fn request(
        &self,
        name: &str,
        filters: &dyn std::fmt::Debug,
        queue: impl FnOnce(&mut Session, Instant) -> Result<u16, Error>,
    ) -> Result<u16, Error> {
        let r = self.with(|inner| {
            let r = queue(&mut inner.session, Instant::now());
            match &r {
                Ok(mid) => inner.log(0x10, || format!("Sending {name} (d0, m{mid}) {filters:?}")),
                Err(e @ Error::Property(_)) => {
                    let why = e.to_string();
                    inner.log(0x08, || format!("{name} refused: {why}"))
                }
                Err(_) => {}
            }
            inner.sync_write_watch();
            r
        });
        self.shared.wake();
        r
    }

    pub fn is_published(&self, mid: u16) -> bool {
        lock(&self.shared.inner).is_published(mid)
    }

    /// Block until `mid` is published or the timeout passes (`None`: no limit).
    pub fn wait_for_publish(&self, mid: u16, timeout: Option<Duration>) -> Result<(), Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let in_loop = self.shared.is_loop_thread();
        let mut inner = lock(&self.shared.inner);
        loop {
            if inner.is_published(mid) {
                return Ok(());
            }
            // Inside a loop callback nothing can progress while we wait.
            if in_loop {
                return Err(Error::Again);
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::Again);
                    }
                    (d - now).min(Duration::from_millis(500))
                }
                None => Duration::from_millis(500),
            };
            inner.publish_waiters += 1;
            let (g, _) = self
                .shared
                .published
                .wait_timeout(inner, wait)
                .unwrap_or_else(|e| e.into_inner());
            inner = g;
            inner.publish_waiters -= 1;
        }
    }

    pub fn socket(&self) -> c_int {
        lock(&self.shared.inner)
            .conn
            .as_ref()
            .map(|c| c.fd())
            .unwrap_or(-1)
    }

    pub fn want_write(&self) -> bool {
        lock(&self.shared.inner).wants_write()
    }

    pub fn protocol(&self) -> crate::proto::ProtocolVersion {
        lock(&self.shared.inner).session.protocol()
    }

    pub fn state(&self) -> State {
        lock(&self.shared.inner).session.state()
    }

    pub fn loop_start(&self) -> Result<(), Error> {
        self.shared.loop_start()
    }

    pub fn loop_stop(&self) -> Result<(), Error> {
        self.shared.loop_stop()
    }
}
