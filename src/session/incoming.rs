//! Bytes and packets from the broker: framing of the input stream, and what each packet
//! does to the session.

use super::outgoing::OutState;
use super::output::KEEP_CAPACITY;
use super::{Event, PendingKind, Session, State};
use crate::error::Error;
use crate::proto::{
    self, Ack, ConnAck, DecodeOptions, Packet, PacketId, PacketRef, PublishRef, QoS,
};
use std::time::Instant;

impl Session {
    /// Frame `data` into packets and handle each. Complete packets are decoded straight
    /// from `data`; only an incomplete packet at its end is copied, into `inbuf`, and
    /// completed from the front of the next call's bytes.
    pub(super) fn read_bytes(&mut self, now: Instant, mut data: &[u8]) -> Result<(), Error> {
        let opts = DecodeOptions {
            max_packet_size: self.config.max_packet_size,
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
            Packet::PubAck(Ack { pkid }) => {
                self.finish_outgoing(now, pkid, OutState::WaitPubAck);
                Ok(())
            }
            Packet::PubRec(Ack { pkid }) => {
                // MQTT-4.3.3: answer PUBREC with PUBREL; a PUBREC for an unknown id or a
                // message not waiting for one is ignored.
                let out = (self.state == State::Connected).then_some(&mut self.out);
                self.store.pubrec(now, pkid, out);
                Ok(())
            }
            Packet::PubRel(Ack { pkid }) => {
                // MQTT-4.3.3: the message is released; PUBCOMP is due even for an id we
                // no longer know (its PUBCOMP may have been lost on a past connection).
                self.incoming_qos2.remove(&pkid);
                self.respond(&Packet::PubComp(Ack { pkid }));
                Ok(())
            }
            Packet::PubComp(Ack { pkid }) => {
                self.finish_outgoing(now, pkid, OutState::WaitPubComp);
                Ok(())
            }
            Packet::SubAck(ack) => {
                if self.take_pending(ack.pkid, PendingKind::Subscribe) {
                    self.events.push_back(Event::Subscribed {
                        mid: ack.pkid,
                        granted: ack.return_codes,
                    });
                }
                Ok(())
            }
            Packet::UnsubAck(Ack { pkid }) => {
                if self.take_pending(pkid, PendingKind::Unsubscribe) {
                    self.events.push_back(Event::Unsubscribed { mid: pkid });
                }
                Ok(())
            }
            Packet::PingResp => {
                self.timers.pingresp();
                Ok(())
            }
            // A second CONNACK (MQTT-3.2.0-1 allows one), and packets only a client sends
            // (`decode_ref` returns PUBLISH as `PacketRef::Publish`, handled above).
            other @ (Packet::ConnAck(_)
            | Packet::Publish(_)
            | Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect) => Err(Error::UnexpectedPacket(packet_name(&PacketRef::Other(
                other,
            )))),
        }
    }

    fn handle_connack(&mut self, now: Instant, ack: ConnAck) {
        self.connack_received = true;
        self.timers.connack_received();
        self.events.push_back(Event::Connected {
            session_present: ack.session_present,
            code: ack.code,
        });
        // Refused: the caller closes the transport and the state stays Connecting.
        // Disconnecting: nothing more may be sent after DISCONNECT (MQTT-3.14.4-2).
        if ack.code != 0 || self.state != State::Connecting {
            return;
        }
        self.state = State::Connected;
        // MQTT-4.4.0-1: unacknowledged messages go again first, in their original order,
        // then the queue fills the window.
        self.store
            .resend_all(now, self.config.clean_session, &mut self.out);
        self.fill_window(now);
    }

    fn handle_publish(&mut self, publish: &PublishRef<'_>) -> Result<(), Error> {
        // MQTT-4.3.3, method B: a QoS 2 message is delivered when it first arrives and
        // its id remembered until PUBREL, so a resent PUBLISH (DUP) is not delivered
        // again; it is only acknowledged again with PUBREC.
        if publish.qos == QoS::ExactlyOnce && !self.incoming_qos2.insert(publish.pkid) {
            self.respond(&Packet::PubRec(Ack { pkid: publish.pkid }));
            return Ok(());
        }
        // QoS 1 PUBACK and QoS 2 PUBREC wait for `message_delivered`.
        let message = self.inbox.push(publish);
        self.events.push_back(Event::Message(message));
        Ok(())
    }

    /// PUBACK / PUBCOMP: complete the flow and let the next queued message in.
    fn finish_outgoing(&mut self, now: Instant, mid: PacketId, expected: OutState) {
        if self.store.complete(mid, expected) {
            self.events.push_back(Event::Published { mid });
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
    let packet = match packet {
        PacketRef::Publish(_) => return "PUBLISH",
        PacketRef::Other(packet) => packet,
    };
    match packet {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::Subscribe(_) => "SUBSCRIBE",
        Packet::SubAck(_) => "SUBACK",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingReq => "PINGREQ",
        Packet::PingResp => "PINGRESP",
        Packet::Disconnect => "DISCONNECT",
    }
}
