//! SUBSCRIBE (MQTT-3.8).

use super::codec::{begin_packet, check_remaining, field_len, write_field, Reader, SUBSCRIBE};
use super::properties::{self, IN_SUBSCRIBE};
use super::topic::valid_topic_filter;
use super::{Properties, ProtoError, ProtocolVersion, QoS, SubOptions, Subscribe};

pub(super) fn read(body: &[u8], v: ProtocolVersion) -> Result<Subscribe, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let properties = if v.is_v5() {
        properties::read_owned(&mut r, IN_SUBSCRIBE)?
    } else {
        Properties::new()
    };
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        // MQTT-4.7.1, MQTT-4.7.3-1: wildcards only as whole levels, never empty.
        if !valid_topic_filter(filter) {
            return Err(ProtoError::InvalidTopic);
        }
        let options = r.u8()?;
        // MQTT-3.8.3-4 (3.1.1): the upper six bits are reserved and 0. MQTT-3.8.3-5
        // (5): bits 6 and 7 are reserved, and Retain Handling 3 is malformed.
        let reserved = if v.is_v5() { 0xC0 } else { 0xFC };
        if options & reserved != 0 || options & SubOptions::RETAIN_HANDLING_MASK == 0x30 {
            return Err(ProtoError::InvalidFlags);
        }
        QoS::from_u8(options & 0b11).ok_or(ProtoError::InvalidQoS)?;
        filters.push((filter.to_owned(), SubOptions(options)));
    }
    // MQTT-3.8.3-3: at least one filter.
    if filters.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    Ok(Subscribe {
        pkid,
        filters,
        properties,
    })
}

fn remaining_len(sub: &Subscribe, v5: bool) -> Result<usize, ProtoError> {
    let mut len = 2usize;
    if v5 {
        len += properties::checked_wire_len(&sub.properties)?;
    }
    for (filter, _) in &sub.filters {
        len = len.saturating_add(field_len(filter.as_bytes())? + 1);
    }
    check_remaining(len)
}

/// Writes the filters as given; the session has already validated them. Under 3.1/3.1.1
/// only the QoS bits of the options are written.
pub(super) fn write(sub: &Subscribe, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = remaining_len(sub, v5)?;
    // MQTT-3.8.1-1: flags 0b0010.
    begin_packet(out, SUBSCRIBE << 4 | 0b0010, len);
    out.extend_from_slice(&sub.pkid.to_be_bytes());
    if v5 {
        sub.properties.write(out);
    }
    for (filter, options) in &sub.filters {
        write_field(out, filter.as_bytes());
        out.push(if v5 { options.0 } else { options.0 & 0b11 });
    }
    Ok(())
}
