//! `Session::publish`: the checks every PUBLISH passes before it takes a message id,
//! then straight into the output buffer (QoS 0) or the message store (QoS 1/2).

use super::output::MsgRef;
use super::{Session, State};
use crate::error::Error;
use crate::proto::properties::{explain, id as prop, IN_PUBLISH};
use crate::proto::{self, topic, Properties, QoS, MAX_REMAINING_LENGTH};
use std::borrow::Cow;
use std::time::Instant;

impl Session {
    /// Queue a PUBLISH. Returns the message id (also for QoS 0). `Err((mid, e))`:
    /// `NoConn` when disconnected (QoS>0 stays queued and goes out after the next
    /// CONNACK, QoS 0 is dropped), `QueueSize` when `max_queued` is reached (dropped),
    /// `Inval` / `PayloadSize` for a bad topic or payload (mid 0, nothing assigned).
    ///
    /// After `disconnect` nothing more may be sent on that connection (MQTT-3.14.4-2),
    /// so publishing while `Disconnecting` behaves as while `Disconnected`. Should all
    /// 65535 ids be in use, the result is `QueueSize` with mid 0.
    pub fn publish(
        &mut self,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, (u16, Error)> {
        self.publish_v5(now, topic, payload, qos, retain, &Properties::new())
    }

    /// [`Session::publish`] with MQTT 5 properties. Checked before an id is taken (mid
    /// 0 with the error): properties allowed in a PUBLISH from a client (not
    /// Subscription Identifier, MQTT-3.3.4-6) and a Topic Alias within the server's
    /// maximum (`Property`); an empty topic only with an alias already set on this
    /// connection (`Inval`); QoS within the server's Maximum QoS (`QosNotSupported`),
    /// retain only where Retain Available (`NotSupported`), and the packet within the
    /// server's Maximum Packet Size (`OversizePacket`). Properties on a 3.1/3.1.1
    /// session give `NotSupported`.
    pub fn publish_v5(
        &mut self,
        now: Instant,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        props: &Properties,
    ) -> Result<u16, (u16, Error)> {
        let fail = |e| Err((0, e));
        let v5 = self.v5();
        // Most messages carry no properties: nothing of them to check then.
        let alias = if props.is_empty() {
            None
        } else {
            if !v5 {
                return fail(Error::NotSupported);
            }
            if let Err(e) = props.check_allowed(IN_PUBLISH) {
                return fail(Error::Property(explain(&e, IN_PUBLISH)));
            }
            if props.get(prop::SUBSCRIPTION_IDENTIFIER, 0).is_some() {
                return fail(Error::Property(
                    "SubscriptionIdentifier is not allowed in a PUBLISH from a client".into(),
                ));
            }
            props.int(prop::TOPIC_ALIAS).map(|a| a as u16)
        };
        let topic = match alias {
            Some(a) if a > self.out.aliases.max() => {
                return fail(Error::Property(format!(
                    "TopicAlias {a} is above the server's Topic Alias Maximum of {}",
                    self.out.aliases.max()
                )))
            }
            // MQTT-3.3.2.3.4: an empty topic uses the alias set earlier on this
            // connection; the message keeps its full topic (for resends).
            Some(a) if topic.is_empty() => match self.out.aliases.topic(a) {
                Some(t) => Cow::Owned(t.to_owned()),
                None => return fail(Error::Inval),
            },
            _ => Cow::Borrowed(topic),
        };
        if !topic::valid_topic_name(&topic) {
            return fail(Error::Inval);
        }
        if v5 {
            if qos > self.server.maximum_qos {
                return fail(Error::QosNotSupported);
            }
            if retain && !self.server.retain_available {
                return fail(Error::NotSupported);
            }
        }
        // The properties as they are stored and sent, the alias apart.
        let mut encoded = Vec::new();
        if v5 && !props.is_empty() {
            let mut p = props.clone();
            p.remove(prop::TOPIC_ALIAS);
            encoded.reserve(p.body_len());
            p.write_body(&mut encoded);
        }
        // The largest form it may take: full topic, and an alias (3 bytes) if one may
        // be added.
        let props_len = v5.then(|| {
            encoded.len()
                + if alias.is_some() || self.config.topic_alias_auto {
                    3
                } else {
                    0
                }
        });
        // MQTT-2.2.3: the remaining length cannot exceed 268435455.
        let pkid_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
        let props_wire = props_len.map_or(0, |n| proto::remaining_length_len(n) + n);
        if (2 + topic.len() + pkid_len + props_wire).saturating_add(payload.len())
            > MAX_REMAINING_LENGTH
        {
            return fail(Error::PayloadSize);
        }
        let size = proto::publish_len(topic.len(), payload.len(), qos, props_len);
        if !self.server.fits(size) {
            return fail(Error::OversizePacket);
        }
        let m = MsgRef {
            topic: &topic,
            payload,
            qos,
            retain,
            props: &encoded,
            alias,
        };
        let mid = self.next_mid().ok_or((0, Error::QueueSize))?;
        if qos == QoS::AtMostOnce {
            if !self.can_send() {
                return Err((mid, Error::NoConn));
            }
            if self.out.over_limit(size, self.config.max_output) {
                return Err((mid, Error::QueueSize));
            }
            // Straight into the output buffer: no per-message allocation.
            self.out
                .publish(&m, false, 0, true)
                .map_err(|_| (mid, Error::PayloadSize))?;
            self.out.mark_qos0(mid);
            return Ok(mid);
        }
        let max_queued = self.config.max_queued as usize;
        if max_queued > 0 && self.store.len() >= max_queued {
            return Err((mid, Error::QueueSize));
        }
        self.store.push(mid, &m);
        match self.state {
            State::Connected => {
                self.fill_window(now);
                Ok(mid)
            }
            // Queued behind CONNECT until CONNACK (then resent/sent in order).
            State::Connecting => Ok(mid),
            State::Disconnected | State::Disconnecting => Err((mid, Error::NoConn)),
        }
    }
}
