//! CONNECT (MQTT-3.1), for MQTT 3.1 ("MQIsdp", level 3), 3.1.1 ("MQTT", level 4) and
//! 5 ("MQTT", level 5: properties after the keep alive, will properties before the
//! will topic).

use super::codec::{begin_packet, check_remaining, field_len, write_field, Reader, CONNECT};
use super::properties::{self, IN_CONNECT, IN_WILL};
use super::topic::valid_topic_name;
use super::{Connect, LastWill, Properties, ProtoError, ProtocolVersion, QoS};

// Connect flags (MQTT-3.1.2.3).
const RESERVED: u8 = 0x01;
const CLEAN_SESSION: u8 = 0x02;
const WILL: u8 = 0x04;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_RETAIN: u8 = 0x20;
const PASSWORD: u8 = 0x40;
const USERNAME: u8 = 0x80;

/// Protocol name and level (MQTT-3.1.2.1, MQTT-3.1.2.2; MQTT 3.1 section 3.1).
fn name_and_level(protocol: ProtocolVersion) -> (&'static [u8], u8) {
    match protocol {
        ProtocolVersion::V31 => (b"MQIsdp", 3),
        ProtocolVersion::V311 => (b"MQTT", 4),
        ProtocolVersion::V5 => (b"MQTT", 5),
    }
}

pub(super) fn read(body: &[u8]) -> Result<Connect, ProtoError> {
    let mut r = Reader::new(body);
    let protocol = match (r.binary()?, r.u8()?) {
        (b"MQTT", 4) => ProtocolVersion::V311,
        (b"MQTT", 5) => ProtocolVersion::V5,
        (b"MQIsdp", 3) => ProtocolVersion::V31,
        _ => return Err(ProtoError::InvalidProtocol),
    };
    let flags = r.u8()?;
    // MQTT-3.1.2-3: the reserved flag is 0.
    if flags & RESERVED != 0 {
        return Err(ProtoError::InvalidFlags);
    }
    let will_flag = flags & WILL != 0;
    // MQTT-3.1.2-14: will QoS 3 is malformed.
    let will_qos = QoS::from_u8((flags >> WILL_QOS_SHIFT) & 0b11).ok_or(ProtoError::InvalidQoS)?;
    let will_retain = flags & WILL_RETAIN != 0;
    // MQTT-3.1.2-11, MQTT-3.1.2-13, MQTT-3.1.2-15: no will QoS or retain without a will.
    if !will_flag && (will_qos != QoS::AtMostOnce || will_retain) {
        return Err(ProtoError::InvalidFlags);
    }
    let has_username = flags & USERNAME != 0;
    let has_password = flags & PASSWORD != 0;
    // MQTT-3.1.2-22: no password without a user name (3.1 has no such rule, and MQTT 5
    // dropped it).
    if protocol == ProtocolVersion::V311 && has_password && !has_username {
        return Err(ProtoError::InvalidFlags);
    }
    let keep_alive = r.u16()?;
    let v5 = protocol == ProtocolVersion::V5;
    let properties = if v5 {
        properties::read_owned(&mut r, IN_CONNECT)?
    } else {
        Properties::new()
    };
    // MQTT-3.1.3-3, MQTT-3.1.3-4: the client id is always present and a UTF-8 string; a
    // zero-length or long one is for the server to refuse with a return code, not
    // malformed.
    let client_id = r.string()?.to_owned();
    let will = if will_flag {
        let will_properties = if v5 {
            properties::read_owned(&mut r, IN_WILL)?
        } else {
            Properties::new()
        };
        let topic = r.string()?;
        // MQTT-3.1.3-10, MQTT-4.7.1-1: a will topic is a topic name.
        if !valid_topic_name(topic) {
            return Err(ProtoError::InvalidTopic);
        }
        let payload = r.binary()?;
        Some(LastWill {
            topic: topic.to_owned(),
            payload: payload.to_vec(),
            qos: will_qos,
            retain: will_retain,
            properties: will_properties,
        })
    } else {
        None
    };
    // MQTT 3.1 lets the remaining length take precedence over the user name and
    // password flags: a server must accept a flag whose field is missing (MQTT 3.1
    // section 3.1, "User name flag" and "Password flag").
    let lenient = protocol == ProtocolVersion::V31;
    let username = if has_username && !(lenient && r.is_empty()) {
        Some(r.string()?.to_owned())
    } else {
        None
    };
    // MQTT-3.1.3.5: binary data in 3.1.1 (a UTF-8 string in 3.1, read as its bytes).
    let password = if has_password && !(lenient && r.is_empty()) {
        Some(r.binary()?.to_vec())
    } else {
        None
    };
    r.finish()?;
    Ok(Connect {
        protocol,
        client_id,
        clean_session: flags & CLEAN_SESSION != 0,
        keep_alive,
        will,
        username,
        password,
        properties,
    })
}

fn remaining_len(c: &Connect) -> Result<usize, ProtoError> {
    let (name, _) = name_and_level(c.protocol);
    let v5 = c.protocol == ProtocolVersion::V5;
    // Protocol name, level, flags, keep alive, client id.
    let mut len = 2 + name.len() + 1 + 1 + 2 + field_len(c.client_id.as_bytes())?;
    if v5 {
        len += properties::checked_wire_len(&c.properties)?;
    }
    if let Some(will) = &c.will {
        len += field_len(will.topic.as_bytes())? + field_len(&will.payload)?;
        if v5 {
            len += properties::checked_wire_len(&will.properties)?;
        }
    }
    if let Some(username) = &c.username {
        len += field_len(username.as_bytes())?;
    }
    if let Some(password) = &c.password {
        len += field_len(password)?;
    }
    check_remaining(len)
}

/// Writes the fields in specification order, each present field (an empty will payload
/// or password included) as a length-prefixed field, as paho and libmosquitto do.
pub(super) fn write(c: &Connect, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let len = remaining_len(c)?;
    let (name, level) = name_and_level(c.protocol);
    let mut flags = 0;
    if c.clean_session {
        flags |= CLEAN_SESSION;
    }
    if let Some(will) = &c.will {
        flags |= WILL | (will.qos as u8) << WILL_QOS_SHIFT;
        if will.retain {
            flags |= WILL_RETAIN;
        }
    }
    if c.username.is_some() {
        flags |= USERNAME;
    }
    if c.password.is_some() {
        flags |= PASSWORD;
    }
    begin_packet(out, CONNECT << 4, len);
    write_field(out, name);
    let keep_alive = c.keep_alive.to_be_bytes();
    out.extend_from_slice(&[level, flags, keep_alive[0], keep_alive[1]]);
    let v5 = c.protocol == ProtocolVersion::V5;
    if v5 {
        c.properties.write(out);
    }
    write_field(out, c.client_id.as_bytes());
    if let Some(will) = &c.will {
        if v5 {
            will.properties.write(out);
        }
        write_field(out, will.topic.as_bytes());
        write_field(out, &will.payload);
    }
    if let Some(username) = &c.username {
        write_field(out, username.as_bytes());
    }
    if let Some(password) = &c.password {
        write_field(out, password);
    }
    Ok(())
}
