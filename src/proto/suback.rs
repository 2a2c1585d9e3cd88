//! SUBACK (MQTT-3.9).

use super::codec::{begin_packet, check_remaining, Reader, SUBACK};
use super::{ProtoError, SubAck};

/// Return code for a refused subscription (MQTT-3.9.3).
const FAILURE: u8 = 0x80;

pub(super) fn read(body: &[u8]) -> Result<SubAck, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    let codes = r.rest();
    // One code per filter of the SUBSCRIBE, which has at least one (MQTT-3.9.3-1,
    // MQTT-3.8.3-3).
    if codes.is_empty() {
        return Err(ProtoError::EmptyPayload);
    }
    // MQTT-3.9.3-2: codes other than 0, 1, 2 and 0x80 are reserved. 0x80 is accepted
    // from MQTT 3.1 brokers too: several send it there.
    if let Some(&bad) = codes.iter().find(|&&c| c > 2 && c != FAILURE) {
        return Err(ProtoError::InvalidReturnCode(bad));
    }
    Ok(SubAck {
        pkid,
        return_codes: codes.to_vec(),
    })
}

pub(super) fn write(suback: &SubAck, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = check_remaining(2 + suback.return_codes.len())?;
    begin_packet(out, SUBACK << 4, len);
    out.extend_from_slice(&suback.pkid.to_be_bytes());
    out.extend_from_slice(&suback.return_codes);
    Ok(())
}
