//! PUBLISH (MQTT-3.3), the hot path in both directions.

use super::codec::{check_remaining, Reader, MAX_FIELD_LEN, PUBLISH};
use super::properties::{self, id, write_varint, PropsRef, IN_PUBLISH};
use super::{ProtoError, ProtocolVersion, Publish, PublishRef, QoS};

const DUP: u8 = 0b1000;
const RETAIN: u8 = 0b0001;

/// Judges the fixed-header flags of a PUBLISH.
pub(super) fn check_flags(flags: u8) -> Result<(), ProtoError> {
    match (flags >> 1) & 0b11 {
        // MQTT-3.3.1-4: both QoS bits set is malformed.
        3 => Err(ProtoError::InvalidQoS),
        // MQTT-3.3.1-2: DUP must be 0 for QoS 0.
        0 if flags & DUP != 0 => Err(ProtoError::InvalidFlags),
        _ => Ok(()),
    }
}

/// Reads the body of a PUBLISH whose first byte passed [`check_flags`], borrowing
/// topic, properties and payload from `body` (the receive path copies nothing here).
///
/// Under MQTT 5 the topic may be empty: a Topic Alias then stands for it, which the
/// session resolves (an empty topic without an alias is its protocol error to report).
pub(super) fn read(
    byte1: u8,
    body: &[u8],
    v: ProtocolVersion,
) -> Result<PublishRef<'_>, ProtoError> {
    let qos = QoS::from_u8((byte1 >> 1) & 0b11).ok_or(ProtoError::InvalidQoS)?;
    let mut r = Reader::new(body);
    let topic = r.utf8()?;
    // MQTT-4.7.3-1: a topic name is at least one character long.
    if topic.is_empty() && !v.is_v5() {
        return Err(ProtoError::InvalidTopic);
    }
    // MQTT-1.5.3-2 (no U+0000) and MQTT-3.3.2-2 (no wildcard in a topic name): a word
    // at a time, then byte by byte only to name what was found.
    if super::topic::has_nul_or_wildcard(topic.as_bytes()) {
        for &b in topic.as_bytes() {
            match b {
                0 => return Err(ProtoError::NulInString),
                b'+' | b'#' => return Err(ProtoError::InvalidTopic),
                _ => {}
            }
        }
    }
    // MQTT-2.3.1-5: only QoS 1 and 2 carry a packet identifier.
    let pkid = if qos == QoS::AtMostOnce { 0 } else { r.pkid()? };
    let properties = if v.is_v5() {
        properties::read_props(&mut r, IN_PUBLISH)?
    } else {
        PropsRef::default()
    };
    // MQTT-3.3.3: the payload is the rest of the packet and may be empty.
    Ok(PublishRef {
        dup: byte1 & DUP != 0,
        qos,
        retain: byte1 & RETAIN != 0,
        topic,
        pkid,
        payload: r.rest(),
        properties,
    })
}

/// The MQTT 5 part of an outgoing PUBLISH: its properties, already encoded (without the
/// Property Length, as [`super::Properties::write_body`] writes them), and a Topic Alias
/// to append to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishV5<'a> {
    pub props: &'a [u8],
    pub alias: Option<u16>,
}

impl PublishV5<'_> {
    /// Bytes of the property block, without the Property Length.
    pub fn body_len(&self) -> usize {
        self.props.len() + if self.alias.is_some() { 3 } else { 0 }
    }
}

/// Bytes after the fixed header; `props` is the property block's length under MQTT 5.
fn remaining_len(topic_len: usize, payload_len: usize, qos: QoS, props: Option<usize>) -> usize {
    let pkid_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let props_len = props.map_or(0, |n| properties::varint_len(n).saturating_add(n));
    (2 + pkid_len + topic_len)
        .saturating_add(props_len)
        .saturating_add(payload_len)
}

/// Bytes a PUBLISH with these sizes takes on the wire, fixed header included; `props`
/// is `Some(property block length)` under MQTT 5.
pub fn publish_len(topic_len: usize, payload_len: usize, qos: QoS, props: Option<usize>) -> usize {
    let remaining = remaining_len(topic_len, payload_len, qos, props);
    (1 + super::remaining_length_len(remaining)).saturating_add(remaining)
}

/// Appends a PUBLISH built from its parts, reserving its exact size once; `v5` is
/// `Some` under MQTT 5 (the Property Length is then always written, `00` for none).
///
/// Fields are written as given: the session validates the topic, and passes a non-zero
/// `pkid` with QoS 1/2 and no `dup` with QoS 0. `pkid` is not written for QoS 0. On
/// error `out` is left unchanged.
#[allow(clippy::too_many_arguments)]
pub fn encode_publish(
    out: &mut Vec<u8>,
    topic: &str,
    payload: &[u8],
    qos: QoS,
    retain: bool,
    dup: bool,
    pkid: u16,
    v5: Option<PublishV5<'_>>,
) -> Result<(), ProtoError> {
    if topic.len() > MAX_FIELD_LEN {
        return Err(ProtoError::StringTooLong);
    }
    let props_len = v5.map(|v| v.body_len());
    let len = check_remaining(remaining_len(topic.len(), payload.len(), qos, props_len))?;
    let byte1 = PUBLISH << 4
        | if dup { DUP } else { 0 }
        | (qos as u8) << 1
        | if retain { RETAIN } else { 0 };
    // The fixed header and the topic length in one small copy: this runs once per
    // message, so fewer, larger appends matter.
    let mut head = [0u8; 7];
    head[0] = byte1;
    let mut n = 1;
    let mut rest = len;
    loop {
        let digit = (rest & 0x7F) as u8;
        rest >>= 7;
        head[n] = if rest == 0 { digit } else { digit | 0x80 };
        n += 1;
        if rest == 0 {
            break;
        }
    }
    head[n..n + 2].copy_from_slice(&(topic.len() as u16).to_be_bytes());
    n += 2;
    out.reserve(n - 2 + len);
    out.extend_from_slice(&head[..n]);
    out.extend_from_slice(topic.as_bytes());
    if qos != QoS::AtMostOnce {
        out.extend_from_slice(&pkid.to_be_bytes());
    }
    if let Some(v) = v5 {
        write_varint(out, v.body_len());
        out.extend_from_slice(v.props);
        if let Some(alias) = v.alias {
            out.push(id::TOPIC_ALIAS);
            out.extend_from_slice(&alias.to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    Ok(())
}

pub(super) fn write(p: &Publish, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    if !v5 {
        return encode_publish(
            out, &p.topic, &p.payload, p.qos, p.retain, p.dup, p.pkid, None,
        );
    }
    properties::checked_wire_len(&p.properties)?;
    let mut props = Vec::with_capacity(p.properties.body_len());
    p.properties.write_body(&mut props);
    let v = PublishV5 {
        props: &props,
        alias: None,
    };
    encode_publish(
        out,
        &p.topic,
        &p.payload,
        p.qos,
        p.retain,
        p.dup,
        p.pkid,
        Some(v),
    )
}
