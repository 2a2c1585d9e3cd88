//! UNSUBSCRIBE (MQTT-3.10).

use super::codec::{begin_packet, check_remaining, field_len, write_field, Reader, UNSUBSCRIBE};
use super::properties::{self, IN_UNSUBSCRIBE};
use super::topic::valid_topic_filter;
use super::{Properties, ProtoError, ProtocolVersion, Unsubscribe};

pub(super) fn read(body: &[u8], v: ProtocolVersion) -> Result<Unsubscribe, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let properties = if v.is_v5() {
        properties::read_owned(&mut r, IN_UNSUBSCRIBE)?
    } else {
        Properties::new()
    };
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        // MQTT-4.7.1, MQTT-4.7.3-1.
        if !valid_topic_filter(filter) {
            return Err(ProtoError::InvalidTopic);
        }
        filters.push(filter.to_owned());
    }
    // MQTT-3.10.3-2: at least one filter.
    if filters.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    Ok(Unsubscribe {
        pkid,
        filters,
        properties,
    })
}

fn remaining_len(unsub: &Unsubscribe, v5: bool) -> Result<usize, ProtoError> {
    let mut len = 2usize;
    if v5 {
        len += properties::checked_wire_len(&unsub.properties)?;
    }
    for filter in &unsub.filters {
        len = len.saturating_add(field_len(filter.as_bytes())?);
    }
    check_remaining(len)
}

pub(super) fn write(unsub: &Unsubscribe, v5: bool, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = remaining_len(unsub, v5)?;
    // MQTT-3.10.1-1: flags 0b0010.
    begin_packet(out, UNSUBSCRIBE << 4 | 0b0010, len);
    out.extend_from_slice(&unsub.pkid.to_be_bytes());
    if v5 {
        unsub.properties.write(out);
    }
    for filter in &unsub.filters {
        write_field(out, filter.as_bytes());
    }
    Ok(())
}
