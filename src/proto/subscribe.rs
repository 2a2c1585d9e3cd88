//! SUBSCRIBE (MQTT-3.8).

use super::codec::{begin_packet, check_remaining, field_len, write_field, Reader, SUBSCRIBE};
use super::topic::valid_topic_filter;
use super::{ProtoError, QoS, Subscribe};

pub(super) fn read(body: &[u8]) -> Result<Subscribe, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        // MQTT-4.7.1, MQTT-4.7.3-1: wildcards only as whole levels, never empty.
        if !valid_topic_filter(filter) {
            return Err(ProtoError::InvalidTopic);
        }
        let options = r.u8()?;
        // MQTT-3.8.3-4: the upper six bits are reserved and must be 0, and QoS 3 is
        // malformed.
        if options & 0xFC != 0 {
            return Err(ProtoError::InvalidFlags);
        }
        let qos = QoS::from_u8(options).ok_or(ProtoError::InvalidQoS)?;
        filters.push((filter.to_owned(), qos));
    }
    // MQTT-3.8.3-3: at least one filter.
    if filters.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    Ok(Subscribe { pkid, filters })
}

fn remaining_len(sub: &Subscribe) -> Result<usize, ProtoError> {
    let mut len = 2usize;
    for (filter, _) in &sub.filters {
        len = len.saturating_add(field_len(filter.as_bytes())? + 1);
    }
    check_remaining(len)
}

/// Writes the filters as given; the session has already validated them.
pub(super) fn write(sub: &Subscribe, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = remaining_len(sub)?;
    // MQTT-3.8.1-1: flags 0b0010.
    begin_packet(out, SUBSCRIBE << 4 | 0b0010, len);
    out.extend_from_slice(&sub.pkid.to_be_bytes());
    for (filter, qos) in &sub.filters {
        write_field(out, filter.as_bytes());
        out.push(*qos as u8);
    }
    Ok(())
}
