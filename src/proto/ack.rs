//! PUBACK, PUBREC, PUBREL, PUBCOMP (MQTT-3.4 to MQTT-3.7) and UNSUBACK (MQTT-3.11): a
//! body of exactly one packet identifier.

use super::codec::{begin_packet, Reader};
use super::{Ack, ProtoError};

/// Remaining length of every acknowledgement.
const LEN: usize = 2;

pub(super) fn read(body: &[u8]) -> Result<Ack, ProtoError> {
    let mut r = Reader::new(body);
    let pkid = r.pkid()?;
    r.finish()?;
    Ok(Ack { pkid })
}

/// `byte1` carries the packet type and its fixed flags (0b0010 for PUBREL).
pub(super) fn write(byte1: u8, ack: &Ack, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    begin_packet(out, byte1, LEN);
    out.extend_from_slice(&ack.pkid.to_be_bytes());
    Ok(())
}
