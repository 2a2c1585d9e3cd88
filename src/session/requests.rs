//! Commands other than publish: SUBSCRIBE, UNSUBSCRIBE, DISCONNECT and (MQTT 5) AUTH.

use super::{PendingKind, Session, State};
use crate::error::Error;
use crate::proto::properties::{
    explain, id as prop, Where, IN_AUTH, IN_DISCONNECT, IN_SUBSCRIBE, IN_UNSUBSCRIBE,
};
use crate::proto::{
    reason, topic, Auth, Disconnect, Packet, PacketId, Properties, QoS, SubOptions, Subscribe,
    Unsubscribe,
};
use std::time::Instant;

impl Session {
    /// Queue one SUBSCRIBE with all filters. `NoConn` when disconnected, `Inval` for an
    /// empty list or an invalid filter (checked first, as paho does).
    pub fn subscribe(&mut self, now: Instant, filters: &[(&str, QoS)]) -> Result<u16, Error> {
        let filters: Vec<(&str, SubOptions)> =
            filters.iter().map(|&(f, q)| (f, q.into())).collect();
        self.subscribe_v5(now, &filters, &Properties::new())
    }

    /// [`Session::subscribe`] with MQTT 5 subscription options and properties. `Inval`
    /// for options with reserved bits or Retain Handling 3, or No Local on a shared
    /// subscription (MQTT-3.8.3-4); `NotSupported` for properties or options beyond
    /// the QoS under 3.1/3.1.1; `Property` for a property SUBSCRIBE may not carry;
    /// `OversizePacket` over the server's Maximum Packet Size.
    pub fn subscribe_v5(
        &mut self,
        now: Instant,
        filters: &[(&str, SubOptions)],
        props: &Properties,
    ) -> Result<u16, Error> {
        let _ = now;
        // MQTT-3.8.3-3: at least one filter.
        if filters.is_empty() || !filters.iter().all(|(f, _)| topic::valid_topic_filter(f)) {
            return Err(Error::Inval);
        }
        for (f, o) in filters {
            if o.0 & 0xC0 != 0 || o.0 & 0x03 == 3 || o.0 & SubOptions::RETAIN_HANDLING_MASK == 0x30
            {
                return Err(Error::Inval);
            }
            if o.0 & SubOptions::NO_LOCAL != 0 && f.starts_with("$share/") {
                return Err(Error::Inval);
            }
            if !self.v5() && o.0 & !0x03 != 0 {
                return Err(Error::NotSupported);
            }
        }
        self.check_props(props, IN_SUBSCRIBE)?;
        let packet = |pkid| {
            Packet::Subscribe(Subscribe {
                pkid,
                filters: filters.iter().map(|&(f, o)| (f.to_owned(), o)).collect(),
                properties: props.clone(),
            })
        };
        self.send_request(packet, PendingKind::Subscribe)
    }

    /// Queue one UNSUBSCRIBE with all filters.
    pub fn unsubscribe(&mut self, now: Instant, filters: &[&str]) -> Result<u16, Error> {
        self.unsubscribe_v5(now, filters, &Properties::new())
    }

    /// [`Session::unsubscribe`] with MQTT 5 properties (User Property only).
    pub fn unsubscribe_v5(
        &mut self,
        now: Instant,
        filters: &[&str],
        props: &Properties,
    ) -> Result<u16, Error> {
        let _ = now;
        // MQTT-3.10.3-2: at least one filter.
        if filters.is_empty() || !filters.iter().all(|f| topic::valid_topic_filter(f)) {
            return Err(Error::Inval);
        }
        self.check_props(props, IN_UNSUBSCRIBE)?;
        let packet = |pkid| {
            Packet::Unsubscribe(Unsubscribe {
                pkid,
                filters: filters.iter().map(|&f| f.to_owned()).collect(),
                properties: props.clone(),
            })
        };
        self.send_request(packet, PendingKind::Unsubscribe)
    }

    /// Queue DISCONNECT (`E0 00`); the caller closes the transport once `wants_write()`
    /// is false and then calls `connection_closed`, which reports rc 0. `NoConn` when
    /// there is no connection.
    pub fn disconnect(&mut self, now: Instant) -> Result<(), Error> {
        self.disconnect_v5(now, Disconnect::normal())
    }

    /// [`Session::disconnect`] with the MQTT 5 form given (under 3.1/3.1.1 only the
    /// plain form). `Property` for a property DISCONNECT may not carry, or a non-zero
    /// Session Expiry Interval when CONNECT had none (MQTT-3.14.2-2).
    pub fn disconnect_v5(&mut self, now: Instant, d: Disconnect) -> Result<(), Error> {
        let _ = now;
        if !self.v5() && (d.reason.is_some() || d.properties.is_some()) {
            return Err(Error::NotSupported);
        }
        if let Some(props) = &d.properties {
            self.check_props(props, IN_DISCONNECT)?;
            let expiry = props.int(prop::SESSION_EXPIRY_INTERVAL).unwrap_or(0);
            if expiry != 0 && self.session_expiry() == 0 {
                return Err(Error::Property(
                    "SessionExpiryInterval in DISCONNECT needs one in CONNECT".into(),
                ));
            }
        }
        match self.state {
            State::Disconnected => Err(Error::NoConn),
            // Already queued; a second DISCONNECT would break MQTT-3.14.4-2.
            State::Disconnecting => Ok(()),
            State::Connecting | State::Connected => {
                let code = d.code();
                self.out
                    .packet(&Packet::Disconnect(d))
                    .map_err(|e| Error::Property(e.to_string()))?;
                if self.v5() {
                    self.closing = Some((code, None));
                }
                self.state = State::Disconnecting;
                Ok(())
            }
        }
    }

    /// MQTT 5 enhanced authentication: queue AUTH with `reason`
    /// (`CONTINUE_AUTHENTICATION` during the connect exchange, `REAUTHENTICATE` to
    /// start a re-authentication while connected). `NotSupported` under 3.1/3.1.1,
    /// `Inval` for another reason code, `NoConn` without a connection, `Property` for
    /// a property AUTH may not carry.
    pub fn authenticate(
        &mut self,
        now: Instant,
        reason: u8,
        props: &Properties,
    ) -> Result<(), Error> {
        let _ = now;
        if !self.v5() {
            return Err(Error::NotSupported);
        }
        if reason != reason::CONTINUE_AUTHENTICATION && reason != reason::REAUTHENTICATE {
            return Err(Error::Inval);
        }
        self.check_props(props, IN_AUTH)?;
        if !self.can_send() {
            return Err(Error::NoConn);
        }
        let auth = Packet::Auth(Auth {
            reason,
            properties: props.clone(),
        });
        let start = self.out.pending().len();
        self.out
            .packet(&auth)
            .map_err(|e| Error::Property(e.to_string()))?;
        if !self.server.fits(self.out.pending().len() - start) {
            self.out.truncate_unwritten(start);
            return Err(Error::OversizePacket);
        }
        Ok(())
    }

    /// Properties given to a command: none under 3.1/3.1.1 (`NotSupported`), only
    /// those `place` may carry under MQTT 5 (`Property`).
    pub(super) fn check_props(&self, props: &Properties, place: Where) -> Result<(), Error> {
        if props.is_empty() {
            return Ok(());
        }
        if !self.v5() {
            return Err(Error::NotSupported);
        }
        props
            .check_allowed(place)
            .map_err(|e| Error::Property(explain(&e, place)))
    }
}

impl Session {
    pub(super) fn send_request(
        &mut self,
        packet: impl FnOnce(PacketId) -> Packet,
        kind: PendingKind,
    ) -> Result<u16, Error> {
        if !self.can_send() {
            return Err(Error::NoConn);
        }
        let ids = self.ids;
        let mid = self.next_mid().ok_or(Error::QueueSize)?;
        let start = self.out.pending().len();
        // Filters were validated, so only a packet over 268435455 bytes can fail here.
        if self.out.packet(&packet(mid)).is_err() {
            self.ids = ids;
            return Err(Error::PayloadSize);
        }
        // MQTT-3.1.2-24 (server side, MQTT-3.2.2.3.6): nothing over the server's
        // Maximum Packet Size; the call then takes no id.
        let size = self.out.pending().len() - start;
        if !self.server.fits(size) {
            self.out.truncate_unwritten(start);
            self.ids = ids;
            return Err(Error::OversizePacket);
        }
        self.pending.insert(mid, kind);
        Ok(mid)
    }
}
