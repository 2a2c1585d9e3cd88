//! Bytes and packets from the broker: framing of the input stream, and what each packet
//! does to the session.

use super::outgoing::{OutState, Resend};
use super::output::KEEP_CAPACITY;
use super::{Event, PendingKind, ServerLimits, Session, State};
use crate::error::Error;
use crate::proto::properties::id as prop;
use crate::proto::{
    self, reason, Ack, Auth, ConnAck, DecodeOptions, Packet, PacketId, PacketRef, Properties,
    PublishRef, QoS,
};
use std::time::Instant;

impl Session {
    /// Frame `data` into packets and handle each. Complete packets are decoded straight
    /// from `data`; only an incomplete packet at its end is copied, into `inbuf`, and
    /// completed from the front of the next call's bytes.
    pub(super) fn read_bytes(&mut self, now: Instant, mut data: &[u8]) -> Result<(), Error> {
        // MQTT-3.1.2-24 / MQTT-4.13: the Maximum Packet Size we announced is enforced
        // like the configured one.
        let own_max = self
            .own
            .maximum_packet_size
            .map_or(usize::MAX, |m| m as usize);
        let opts = DecodeOptions {
            max_packet_size: self.config.max_packet_size.min(own_max),
            protocol: self.config.protocol,
        };
        if !self.inbuf.is_empty() {
            if !self.complete_buffered(&mut data, &opts)? {
                return Ok(());
            }
            let mut inbuf = std::mem::take(&mut self.inbuf);
            let result = match proto::decode_ref(&inbuf, &opts) {
                Ok(Some((packet, used))) => {
                    debug_assert_eq!(used, inbuf.len());
                    self.handle_packet(now, packet)
                }
                Ok(None) => unreachable!("complete_buffered left a partial packet"),
                Err(e) => Err(e.into()),
            };
            inbuf.clear();
            // A big message must not leave an idle client holding its size.
            inbuf.shrink_to(KEEP_CAPACITY);
            self.inbuf = inbuf;
            result?;
        }
        while let Some((packet, used)) = proto::decode_ref(data, &opts)? {
            data = &data[used..];
            self.handle_packet(now, packet)?;
        }
        self.inbuf.extend_from_slice(data);
        Ok(())
    }

    /// Move bytes from the front of `data` into `inbuf` until it holds one whole packet
    /// (and no more). False: `data` ran out first.
    fn complete_buffered(&mut self, data: &mut &[u8], opts: &DecodeOptions) -> Result<bool, Error> {
        loop {
            // `decode_ref` judges the first byte and the size limit as soon as it can, so
            // a bogus or oversized packet is refused before its body is buffered.
            if proto::decode_ref(&self.inbuf, opts)?.is_some() {
                return Ok(true);
            }
            if data.is_empty() {
                return Ok(false);
            }
            let want = match proto::peek_fixed_header(&self.inbuf)? {
                Some(header) => header.packet_len() - self.inbuf.len(),
                // The remaining-length field is still incomplete: one byte at a time,
                // so no byte of the next packet is taken.
                None => 1,
            };
            let take = want.min(data.len());
            self.inbuf.extend_from_slice(&data[..take]);
            *data = &data[take..];
        }
    }

    fn handle_packet(&mut self, now: Instant, packet: PacketRef<'_>) -> Result<(), Error> {
        // The receive path's packet first, before anything moves it.
        if let PacketRef::Publish(publish) = &packet {
            if self.connack_received && self.state != State::Connecting {
                return self.handle_publish(publish);
            }
        }
        let packet = match packet {
            // MQTT 5: AUTH belongs to the connect exchange (before CONNACK) as much as
            // to a re-authentication, and the server may end the connection with
            // DISCONNECT at any point.
            PacketRef::Other(Packet::Auth(auth)) => return self.handle_auth(auth),
            PacketRef::Other(Packet::Disconnect(d)) if self.v5() => {
                let code = d.code();
                self.closing = Some((code, Some(d.properties.unwrap_or_default())));
                return Err(Error::ServerDisconnect(code));
            }
            other => other,
        };
        // MQTT-3.2.0-1: the server's first packet must be CONNACK (also when DISCONNECT
        // was queued before it came). After a refusal nothing else may follow (the
        // server closes, MQTT-3.2.2-5).
        if !self.connack_received || self.state == State::Connecting {
            return match packet {
                PacketRef::Other(Packet::ConnAck(ack)) if !self.connack_received => {
                    self.handle_connack(now, ack);
                    Ok(())
                }
                other => Err(Error::UnexpectedPacket(packet_name(&other))),
            };
        }
        let packet = match packet {
            PacketRef::Publish(publish) => return self.handle_publish(&publish),
            PacketRef::Other(packet) => packet,
        };
        match packet {
            Packet::PubAck(ack) => {
                let expected = match self.store.state_of(ack.pkid) {
                    // A broker that downgraded a QoS 2 message to QoS 1.
                    Some(OutState::WaitPubRec) => {
                        self.events.push_back(Event::Downgraded { mid: ack.pkid });
                        OutState::WaitPubRec
                    }
                    _ => OutState::WaitPubAck,
                };
                self.finish_outgoing(now, ack, expected);
                Ok(())
            }
            Packet::PubRec(ack) if ack.reason >= 0x80 => {
                // MQTT-4.3.3, MQTT 5: a PUBREC with a failure code ends the flow; no
                // PUBREL follows.
                self.finish_outgoing(now, ack, OutState::WaitPubRec);
                Ok(())
            }
            Packet::PubRec(Ack { pkid, .. }) => {
                // MQTT-4.3.3: answer PUBREC with PUBREL; a PUBREC for an unknown id or a
                // message not waiting for one is ignored.
                let out = (self.state == State::Connected).then_some(&mut self.out);
                self.store.pubrec(now, pkid, out);
                Ok(())
            }
            Packet::PubRel(Ack { pkid, .. }) => {
                // MQTT-4.3.3: the message is released; PUBCOMP is due even for an id we
                // no longer know (its PUBCOMP may have been lost on a past connection),
                // and whatever reason code the PUBREL carries ("packet identifier not
                // found" included: the flow ends either way).
                self.incoming_qos2.remove(&pkid);
                self.respond(&Packet::PubComp(Ack::new(pkid)));
                Ok(())
            }
            Packet::PubComp(ack) => {
                // "Packet identifier not found" ends the flow as a plain PUBCOMP does.
                self.finish_outgoing(now, ack, OutState::WaitPubComp);
                Ok(())
            }
            Packet::SubAck(ack) => {
                if self.take_pending(ack.pkid, PendingKind::Subscribe) {
                    self.events.push_back(Event::Subscribed {
                        mid: ack.pkid,
                        granted: ack.return_codes,
                        properties: ack.properties,
                    });
                }
                Ok(())
            }
            Packet::UnsubAck(ack) => {
                if self.take_pending(ack.pkid, PendingKind::Unsubscribe) {
                    self.events.push_back(Event::Unsubscribed {
                        mid: ack.pkid,
                        reasons: ack.reason_codes,
                        properties: ack.properties,
                    });
                }
                Ok(())
            }
            Packet::PingResp => {
                self.timers.pingresp();
                Ok(())
            }
            // A second CONNACK (MQTT-3.2.0-1 allows one), packets only a client sends
            // (`decode_ref` returns PUBLISH as `PacketRef::Publish`, handled above), and
            // a 3.1.1 server's DISCONNECT, which only a client may send.
            other @ (Packet::ConnAck(_)
            | Packet::Publish(_)
            | Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect(_)
            | Packet::Auth(_)) => Err(Error::UnexpectedPacket(packet_name(&PacketRef::Other(
                other,
            )))),
        }
    }

    fn handle_connack(&mut self, now: Instant, ack: ConnAck) {
        self.connack_received = true;
        self.timers.connack_received();
        let accepted = ack.code == 0;
        if accepted && self.v5() {
            self.apply_connack(&ack.properties);
        }
        self.events.push_back(Event::Connected {
            session_present: ack.session_present,
            code: ack.code,
            properties: ack.properties,
        });
        // Refused: the caller closes the transport and the state stays Connecting.
        // Disconnecting: nothing more may be sent after DISCONNECT (MQTT-3.14.4-2).
        if !accepted || self.state != State::Connecting {
            return;
        }
        self.state = State::Connected;
        // With a clean session, or (MQTT 5) when the server has none for us, what was
        // sent before is unknown to it.
        let clean = self.conn_clean || (self.v5() && !ack.session_present);
        if clean {
            self.incoming_qos2.clear();
        }
        // MQTT-4.4.0-1: unacknowledged messages go again first, in their original order,
        // then the queue fills the window. Under MQTT 5 the quota covers resends too.
        let quota = if self.v5() { self.quota() } else { usize::MAX };
        let mut refused = Vec::new();
        let refuse = self.refusal();
        self.store.resend_all(
            now,
            Resend { clean, quota },
            &mut self.out,
            &refuse,
            &mut refused,
        );
        self.report_refused(refused);
        self.fill_window(now);
    }

    /// The server's limits and assignments from an accepted MQTT 5 CONNACK.
    fn apply_connack(&mut self, props: &Properties) {
        self.server = ServerLimits::from_connack(props);
        self.out.aliases.reset(
            self.server.topic_alias_maximum,
            self.config.topic_alias_auto,
        );
        // MQTT-3.2.2.3.14: the server's keep alive replaces ours.
        if let Some(ka) = props.int(prop::SERVER_KEEP_ALIVE) {
            self.keep_alive = ka as u16;
        }
        // MQTT-3.2.2.3.7: the identifier the server assigned is ours from now on, so a
        // reconnect resumes the same session.
        if let Some(id) = props.str(prop::ASSIGNED_CLIENT_IDENTIFIER) {
            self.config.client_id = id.to_owned();
        }
    }

    fn handle_auth(&mut self, auth: Auth) -> Result<(), Error> {
        // MQTT-4.12.0-6/7: AUTH only follows a CONNECT with an Authentication Method,
        // and only an application that handles it can answer.
        let method = self
            .config
            .connect_properties
            .str(prop::AUTHENTICATION_METHOD)
            .is_some();
        if !method || !self.config.auth_handler {
            return Err(Error::Violation {
                reason: reason::PROTOCOL_ERROR,
                why: if method {
                    "AUTH received and nothing handles it (set on_auth)".into()
                } else {
                    "AUTH received without an Authentication Method in CONNECT".into()
                },
            });
        }
        self.events.push_back(Event::Auth {
            reason: auth.reason,
            properties: auth.properties,
        });
        Ok(())
    }

    fn handle_publish(&mut self, publish: &PublishRef<'_>) -> Result<(), Error> {
        if !self.v5() {
            return self.deliver(publish, None);
        }
        // MQTT-3.3.2.3.4: resolve the Topic Alias, so the application always sees the
        // full topic.
        let topic = match publish.properties.int(prop::TOPIC_ALIAS) {
            Some(alias) => {
                let alias = alias as u16;
                if alias > self.own.topic_alias_maximum {
                    return Err(Error::Violation {
                        reason: reason::TOPIC_ALIAS_INVALID,
                        why: format!(
                            "topic alias {alias} above our Topic Alias Maximum of {}",
                            self.own.topic_alias_maximum
                        ),
                    });
                }
                if publish.topic.is_empty() {
                    match self.in_aliases.get(alias) {
                        Some(t) => Some(t.to_owned()),
                        None => {
                            return Err(Error::Violation {
                                reason: reason::TOPIC_ALIAS_INVALID,
                                why: format!("topic alias {alias} was never set"),
                            })
                        }
                    }
                } else {
                    self.in_aliases.set(alias, publish.topic);
                    None
                }
            }
            None if publish.topic.is_empty() => {
                return Err(Error::Violation {
                    reason: reason::PROTOCOL_ERROR,
                    why: "PUBLISH without a topic or a topic alias".into(),
                })
            }
            None => None,
        };
        // MQTT-3.3.4-9: no more QoS>0 flows than our Receive Maximum.
        let new_flow = match publish.qos {
            QoS::AtMostOnce => false,
            QoS::AtLeastOnce => true,
            QoS::ExactlyOnce => !self.incoming_qos2.contains(&publish.pkid),
        };
        if new_flow
            && self.in_qos1 + self.incoming_qos2.len() >= usize::from(self.own.receive_maximum)
        {
            return Err(Error::Violation {
                reason: reason::RECEIVE_MAXIMUM_EXCEEDED,
                why: format!(
                    "more than our Receive Maximum of {} messages unacknowledged",
                    self.own.receive_maximum
                ),
            });
        }
        self.deliver(publish, topic.as_deref())
    }

    /// Keep an incoming message for the application (`topic`: the one its alias stands
    /// for, when it came without).
    fn deliver(&mut self, publish: &PublishRef<'_>, topic: Option<&str>) -> Result<(), Error> {
        // MQTT-4.3.3, method B: a QoS 2 message is delivered when it first arrives and
        // its id remembered until PUBREL, so a resent PUBLISH (DUP) is not delivered
        // again; it is only acknowledged again with PUBREC.
        if publish.qos == QoS::ExactlyOnce && !self.incoming_qos2.insert(publish.pkid) {
            self.respond(&Packet::PubRec(Ack::new(publish.pkid)));
            return Ok(());
        }
        if publish.qos == QoS::AtLeastOnce {
            self.in_qos1 += 1;
        }
        // QoS 1 PUBACK and QoS 2 PUBREC wait for `message_delivered`.
        let message = self
            .inbox
            .push(publish, topic.unwrap_or(publish.topic), self.epoch);
        self.events.push_back(Event::Message(message));
        Ok(())
    }

    /// PUBACK / PUBREC with a failure code / PUBCOMP: complete the flow and let the
    /// next queued message in.
    fn finish_outgoing(&mut self, now: Instant, ack: Ack, expected: OutState) {
        if self.store.complete(ack.pkid, expected) {
            self.events.push_back(Event::Published {
                mid: ack.pkid,
                reason: ack.reason,
                properties: Some(ack.properties),
            });
            self.fill_window(now);
        }
    }

    fn take_pending(&mut self, mid: PacketId, kind: PendingKind) -> bool {
        if self.pending.get(&mid) == Some(&kind) {
            self.pending.remove(&mid);
            true
        } else {
            false
        }
    }

    /// Queue an acknowledgement. Only on a live connection: after DISCONNECT nothing
    /// more may be sent (MQTT-3.14.4-2), and before CONNACK an ack would answer a
    /// packet of an earlier connection, which the broker resends anyway.
    pub(super) fn respond(&mut self, packet: &Packet) {
        if self.state == State::Connected {
            let r = self.out.packet(packet);
            debug_assert!(r.is_ok(), "encoding an ack failed: {r:?}");
        }
    }
}

/// Control packet names as the specification writes them, for error messages.
fn packet_name(packet: &PacketRef<'_>) -> &'static str {
    match packet {
        PacketRef::Publish(_) => "PUBLISH",
        PacketRef::Other(packet) => packet.name(),
    }
}
