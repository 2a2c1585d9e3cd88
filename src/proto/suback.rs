//! SUBACK (MQTT-3.9) and UNSUBACK (MQTT-3.11): a packet identifier, properties under
//! MQTT 5, then one code per filter (UNSUBACK has no codes under 3.1/3.1.1).

use super::codec::{begin_packet, check_remaining, Reader, UNSUBACK};
use super::properties::{self, IN_SUBACK, IN_UNSUBACK};
use super::{reason, Properties, ProtoError, ProtocolVersion, SubAck, UnsubAck};

/// Return code for a refused subscription (MQTT-3.9.3).
const FAILURE: u8 = 0x80;

pub(super) fn read(body: &[u8], v: ProtocolVersion) -> Result<SubAck, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let properties = if v.is_v5() {
        properties::read_owned(&mut r, IN_SUBACK)?
    } else {
        Properties::new()
    };
    let codes = r.rest();
    // One code per filter of the SUBSCRIBE, which has at least one (MQTT-3.9.3-1,
    // MQTT-3.8.3-3).
    if codes.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    // MQTT-3.9.3-2: codes other than 0, 1, 2 and 0x80 are reserved. 0x80 is accepted
    // from MQTT 3.1 brokers too: several send it there. MQTT 5 has its own list.
    let valid = |c: u8| match v {
        ProtocolVersion::V5 => reason::valid_suback(c),
        _ => c <= 2 || c == FAILURE,
    };
    if let Some(&bad) = codes.iter().find(|&&c| !valid(c)) {
        return Err(ProtoError::InvalidReturnCode(bad));
    }
    Ok(SubAck {
        pkid,
        return_codes: codes.to_vec(),
        properties,
    })
}

pub(super) fn read_unsuback(body: &[u8], v: ProtocolVersion) -> Result<UnsubAck, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    if !v.is_v5() {
        // MQTT-3.11.2: a packet identifier and nothing else.
        r.finish()?;
        return Ok(UnsubAck::new(pkid));
    }
    let properties = properties::read_owned(&mut r, IN_UNSUBACK)?;
    let codes = r.rest();
    // MQTT-3.11.3: one reason code per filter of the UNSUBSCRIBE.
    if codes.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    if let Some(&bad) = codes.iter().find(|&&c| !reason::valid_unsuback(c)) {
        return Err(ProtoError::InvalidReturnCode(bad));
    }
    Ok(UnsubAck {
        pkid,
        reason_codes: codes.to_vec(),
        properties,
    })
}

/// Writes a SUBACK or UNSUBACK (`ty`); under 3.1/3.1.1 an UNSUBACK is the packet
/// identifier alone.
pub(super) fn write(
    ty: u8,
    pkid: u16,
    codes: &[u8],
    props: &Properties,
    v5: bool,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    if !v5 && ty == UNSUBACK {
        begin_packet(out, ty << 4, 2);
        out.extend_from_slice(&pkid.to_be_bytes());
        return Ok(());
    }
    let props_len = if v5 {
        properties::checked_wire_len(props)?
    } else {
        0
    };
    let len = check_remaining((2 + props_len).saturating_add(codes.len()))?;
    begin_packet(out, ty << 4, len);
    out.extend_from_slice(&pkid.to_be_bytes());
    if v5 {
        props.write(out);
    }
    out.extend_from_slice(codes);
    Ok(())
}
