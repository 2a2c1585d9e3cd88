//! UNSUBSCRIBE (MQTT-3.10).

use super::codec::{begin_packet, check_remaining, field_len, write_field, Reader, UNSUBSCRIBE};
use super::topic::valid_topic_filter;
use super::{ProtoError, Unsubscribe};

pub(super) fn read(body: &[u8]) -> Result<Unsubscribe, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
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
    Ok(Unsubscribe { pkid, filters })
}

fn remaining_len(unsub: &Unsubscribe) -> Result<usize, ProtoError> {
    let mut len = 2usize;
    for filter in &unsub.filters {
        len = len.saturating_add(field_len(filter.as_bytes())?);
    }
    check_remaining(len)
}

pub(super) fn write(unsub: &Unsubscribe, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = remaining_len(unsub)?;
    // MQTT-3.10.1-1: flags 0b0010.
    begin_packet(out, UNSUBSCRIBE << 4 | 0b0010, len);
    out.extend_from_slice(&unsub.pkid.to_be_bytes());
    for filter in &unsub.filters {
        write_field(out, filter.as_bytes());
    }
    Ok(())
}
