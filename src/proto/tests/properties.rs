//! Every MQTT 5 property in every packet: accepted (and encoded back byte for byte)
//! where the specification's table allows it, refused where it does not. The property
//! encodings and the packets around them are written out by hand.

use super::super::properties::{self as props, id, Where};
use super::*;

/// One sample of each of the 27 properties: identifier, its wire bytes, its value.
fn samples() -> Vec<(u8, Vec<u8>, Value)> {
    let s = |v: &str| Value::Str(v.into());
    vec![
        (
            id::PAYLOAD_FORMAT_INDICATOR,
            vec![0x01, 0x01],
            Value::Int(1),
        ),
        (
            id::MESSAGE_EXPIRY_INTERVAL,
            vec![0x02, 0, 0, 0x0e, 0x10],
            Value::Int(3600),
        ),
        (
            id::CONTENT_TYPE,
            vec![0x03, 0, 4, b'j', b's', b'o', b'n'],
            s("json"),
        ),
        (
            id::RESPONSE_TOPIC,
            vec![0x08, 0, 3, b'r', b'/', b't'],
            s("r/t"),
        ),
        (
            id::CORRELATION_DATA,
            vec![0x09, 0, 2, 0xde, 0xad],
            Value::Bin(vec![0xde, 0xad]),
        ),
        (
            id::SUBSCRIPTION_IDENTIFIER,
            vec![0x0b, 0x80, 0x01],
            Value::Int(128),
        ),
        (
            id::SESSION_EXPIRY_INTERVAL,
            vec![0x11, 0, 0, 0, 0x3c],
            Value::Int(60),
        ),
        (
            id::ASSIGNED_CLIENT_IDENTIFIER,
            vec![0x12, 0, 2, b'i', b'd'],
            s("id"),
        ),
        (id::SERVER_KEEP_ALIVE, vec![0x13, 0, 0x1e], Value::Int(30)),
        (
            id::AUTHENTICATION_METHOD,
            vec![0x15, 0, 5, b'S', b'C', b'R', b'A', b'M'],
            s("SCRAM"),
        ),
        (
            id::AUTHENTICATION_DATA,
            vec![0x16, 0, 1, 0x07],
            Value::Bin(vec![7]),
        ),
        (
            id::REQUEST_PROBLEM_INFORMATION,
            vec![0x17, 0x00],
            Value::Int(0),
        ),
        (
            id::WILL_DELAY_INTERVAL,
            vec![0x18, 0, 0, 0, 5],
            Value::Int(5),
        ),
        (
            id::REQUEST_RESPONSE_INFORMATION,
            vec![0x19, 0x01],
            Value::Int(1),
        ),
        (
            id::RESPONSE_INFORMATION,
            vec![0x1a, 0, 3, b'r', b'/', b'i'],
            s("r/i"),
        ),
        (
            id::SERVER_REFERENCE,
            vec![0x1c, 0, 4, b'h', b'o', b's', b't'],
            s("host"),
        ),
        (id::REASON_STRING, vec![0x1f, 0, 2, b'o', b'k'], s("ok")),
        (id::RECEIVE_MAXIMUM, vec![0x21, 0, 0x0a], Value::Int(10)),
        (id::TOPIC_ALIAS_MAXIMUM, vec![0x22, 0, 5], Value::Int(5)),
        (id::TOPIC_ALIAS, vec![0x23, 0, 1], Value::Int(1)),
        (id::MAXIMUM_QOS, vec![0x24, 0x01], Value::Int(1)),
        (id::RETAIN_AVAILABLE, vec![0x25, 0x00], Value::Int(0)),
        (
            id::USER_PROPERTY,
            vec![0x26, 0, 1, b'k', 0, 1, b'v'],
            Value::Pair("k".into(), "v".into()),
        ),
        (
            id::MAXIMUM_PACKET_SIZE,
            vec![0x27, 0, 0, 0x10, 0],
            Value::Int(4096),
        ),
        (
            id::WILDCARD_SUBSCRIPTION_AVAILABLE,
            vec![0x28, 1],
            Value::Int(1),
        ),
        (
            id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
            vec![0x29, 0],
            Value::Int(0),
        ),
        (
            id::SHARED_SUBSCRIPTION_AVAILABLE,
            vec![0x2a, 1],
            Value::Int(1),
        ),
    ]
}

/// Where each identifier may appear, written out from the specification's table
/// (MQTT-2.2.2.2), independently of `properties::SPECS`.
fn allowed(id: u8) -> &'static [Where] {
    use props::*;
    match id {
        1 | 2 | 3 | 8 | 9 => &[IN_PUBLISH, IN_WILL],
        11 => &[IN_PUBLISH, IN_SUBSCRIBE],
        17 => &[IN_CONNECT, IN_CONNACK, IN_DISCONNECT],
        18 | 19 | 26 | 36 | 37 | 40 | 41 | 42 => &[IN_CONNACK],
        21 | 22 => &[IN_CONNECT, IN_CONNACK, IN_AUTH],
        23 | 25 => &[IN_CONNECT],
        24 => &[IN_WILL],
        28 => &[IN_CONNACK, IN_DISCONNECT],
        31 => &[
            IN_CONNACK,
            IN_PUBACK,
            IN_PUBREC,
            IN_PUBREL,
            IN_PUBCOMP,
            IN_SUBACK,
            IN_UNSUBACK,
            IN_DISCONNECT,
            IN_AUTH,
        ],
        33 | 34 | 39 => &[IN_CONNECT, IN_CONNACK],
        35 => &[IN_PUBLISH],
        38 => &[
            IN_CONNECT,
            IN_CONNACK,
            IN_PUBLISH,
            IN_WILL,
            IN_PUBACK,
            IN_PUBREC,
            IN_PUBREL,
            IN_PUBCOMP,
            IN_SUBSCRIBE,
            IN_SUBACK,
            IN_UNSUBSCRIBE,
            IN_UNSUBACK,
            IN_DISCONNECT,
            IN_AUTH,
        ],
        _ => &[],
    }
}

/// A packet of kind `place` carrying the property block `block` (without its length),
/// by hand, and the packet the decoder must make of it.
fn packet_with(place: Where, block: &[u8], p: Properties) -> (Vec<u8>, Packet) {
    use props::*;
    let mut pl = vec![block.len() as u8];
    pl.extend_from_slice(block);
    let (byte1, body, want): (u8, Vec<u8>, Packet) = match place {
        IN_CONNECT => {
            let mut b = vec![0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60];
            b.extend_from_slice(&pl);
            b.extend_from_slice(&[0, 1, b'c']);
            let c = Connect {
                protocol: ProtocolVersion::V5,
                client_id: "c".into(),
                clean_session: true,
                keep_alive: 60,
                will: None,
                username: None,
                password: None,
                properties: p,
            };
            (0x10, b, Packet::Connect(Box::new(c)))
        }
        IN_WILL => {
            // Will flag, will QoS 0: flags 0x06; no CONNECT properties.
            let mut b = vec![0, 4, b'M', b'Q', b'T', b'T', 5, 0x06, 0, 60, 0, 0, 1, b'c'];
            b.extend_from_slice(&pl);
            b.extend_from_slice(&[0, 1, b'w', 0, 0]);
            let c = Connect {
                protocol: ProtocolVersion::V5,
                client_id: "c".into(),
                clean_session: true,
                keep_alive: 60,
                will: Some(LastWill {
                    topic: "w".into(),
                    payload: vec![],
                    qos: QoS::AtMostOnce,
                    retain: false,
                    properties: p,
                }),
                username: None,
                password: None,
                properties: Properties::new(),
            };
            (0x10, b, Packet::Connect(Box::new(c)))
        }
        IN_CONNACK => {
            let mut b = vec![0, 0];
            b.extend_from_slice(&pl);
            let c = ConnAck {
                session_present: false,
                code: 0,
                properties: p,
            };
            (0x20, b, Packet::ConnAck(c))
        }
        IN_PUBLISH => {
            let mut b = vec![0, 1, b't'];
            b.extend_from_slice(&pl);
            b.push(b'x');
            let m = Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: "t".into(),
                pkid: 0,
                payload: b"x".to_vec(),
                properties: p,
            };
            (0x30, b, Packet::Publish(m))
        }
        IN_PUBACK | IN_PUBREC | IN_PUBREL | IN_PUBCOMP => {
            let ty = place.trailing_zeros() as u8;
            let mut b = vec![0, 1, 0];
            b.extend_from_slice(&pl);
            let a = Ack {
                pkid: 1,
                reason: 0,
                properties: p,
            };
            let p = match ty {
                4 => Packet::PubAck(a),
                5 => Packet::PubRec(a),
                6 => Packet::PubRel(a),
                _ => Packet::PubComp(a),
            };
            let flags = if ty == 6 { 0b0010 } else { 0 };
            (ty << 4 | flags, b, p)
        }
        IN_SUBSCRIBE => {
            let mut b = vec![0, 1];
            b.extend_from_slice(&pl);
            b.extend_from_slice(&[0, 1, b't', 0]);
            let s = Subscribe {
                pkid: 1,
                filters: vec![("t".into(), SubOptions(0))],
                properties: p,
            };
            (0x82, b, Packet::Subscribe(s))
        }
        IN_SUBACK => {
            let mut b = vec![0, 1];
            b.extend_from_slice(&pl);
            b.push(0);
            let s = SubAck {
                pkid: 1,
                return_codes: vec![0],
                properties: p,
            };
            (0x90, b, Packet::SubAck(s))
        }
        IN_UNSUBSCRIBE => {
            let mut b = vec![0, 1];
            b.extend_from_slice(&pl);
            b.extend_from_slice(&[0, 1, b't']);
            let u = Unsubscribe {
                pkid: 1,
                filters: vec!["t".into()],
                properties: p,
            };
            (0xA2, b, Packet::Unsubscribe(u))
        }
        IN_UNSUBACK => {
            let mut b = vec![0, 1];
            b.extend_from_slice(&pl);
            b.push(0);
            let u = UnsubAck {
                pkid: 1,
                reason_codes: vec![0],
                properties: p,
            };
            (0xB0, b, Packet::UnsubAck(u))
        }
        IN_DISCONNECT => {
            let mut b = vec![0];
            b.extend_from_slice(&pl);
            let d = Disconnect {
                reason: Some(0),
                properties: Some(p),
            };
            (0xE0, b, Packet::Disconnect(d))
        }
        IN_AUTH => {
            let mut b = vec![0x18];
            b.extend_from_slice(&pl);
            let a = Auth {
                reason: 0x18,
                properties: p,
            };
            (0xF0, b, Packet::Auth(a))
        }
        _ => unreachable!("no such place"),
    };
    (packet(byte1, &body), want)
}

const PLACES: [Where; 14] = {
    use props::*;
    [
        IN_WILL,
        IN_CONNECT,
        IN_CONNACK,
        IN_PUBLISH,
        IN_PUBACK,
        IN_PUBREC,
        IN_PUBREL,
        IN_PUBCOMP,
        IN_SUBSCRIBE,
        IN_SUBACK,
        IN_UNSUBSCRIBE,
        IN_UNSUBACK,
        IN_DISCONNECT,
        IN_AUTH,
    ]
};

#[test]
fn every_property_in_every_packet() {
    let samples = samples();
    assert_eq!(samples.len(), 27);
    let mut accepted = 0;
    for (pid, bytes, value) in &samples {
        for &place in &PLACES {
            let p = Properties::new().with(*pid, value.clone());
            let (wire, want) = packet_with(place, bytes, p);
            let what = format!(
                "{} in {}",
                props::spec_of(*pid).unwrap().name,
                props::place_name(place)
            );
            if allowed(*pid).contains(&place) {
                accepted += 1;
                assert_eq!(
                    decode(&wire, &v5()),
                    Ok(Some((want.clone(), wire.len()))),
                    "{what}"
                );
                assert_eq!(encoded_as(&want, ProtocolVersion::V5), wire, "{what}");
            } else {
                assert_eq!(
                    decode(&wire, &v5()),
                    Err(ProtoError::PropertyNotAllowed(*pid)),
                    "{what}"
                );
                // The same list is refused where the application hands it over.
                let p = Properties::new().with(*pid, value.clone());
                assert_eq!(
                    p.check_allowed(place),
                    Err(ProtoError::PropertyNotAllowed(*pid)),
                    "{what}"
                );
            }
        }
    }
    // The table has this many (property, place) pairs.
    assert_eq!(accepted, 64);
}

#[test]
fn the_table_agrees_with_the_specification() {
    for spec in props::SPECS.iter() {
        for &place in &PLACES {
            assert_eq!(
                spec.allowed & place != 0,
                allowed(spec.id).contains(&place),
                "{} in {}",
                spec.name,
                props::place_name(place)
            );
        }
    }
}

#[test]
fn single_valued_properties_given_twice_are_refused() {
    // ContentType twice in a PUBLISH.
    let block = [0x03, 0, 1, b'a', 0x03, 0, 1, b'b'];
    let (wire, _) = packet_with(props::IN_PUBLISH, &block, Properties::new());
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::DuplicateProperty(3)));
    // Subscription Identifier: several in a PUBLISH (one per matching subscription),
    // one in a SUBSCRIBE (MQTT-3.8.2.1.2).
    let block = [0x0b, 1, 0x0b, 2];
    let (wire, want) = packet_with(
        props::IN_PUBLISH,
        &block,
        Properties::new()
            .with(id::SUBSCRIPTION_IDENTIFIER, Value::Int(1))
            .with(id::SUBSCRIPTION_IDENTIFIER, Value::Int(2)),
    );
    assert_eq!(decode(&wire, &v5()), Ok(Some((want, wire.len()))));
    let (wire, _) = packet_with(props::IN_SUBSCRIBE, &block, Properties::new());
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::DuplicateProperty(11)));
    // User properties repeat, in order, names repeated too.
    let block = [0x26, 0, 1, b'k', 0, 1, b'2', 0x26, 0, 1, b'k', 0, 1, b'1'];
    let (wire, want) = packet_with(
        props::IN_PUBLISH,
        &block,
        Properties::new()
            .with(id::USER_PROPERTY, Value::Pair("k".into(), "2".into()))
            .with(id::USER_PROPERTY, Value::Pair("k".into(), "1".into())),
    );
    assert_eq!(decode(&wire, &v5()), Ok(Some((want, wire.len()))));
}

#[test]
fn values_out_of_range_are_refused() {
    use props::*;
    for (place, block, pid) in [
        (IN_CONNACK, vec![0x21, 0, 0], id::RECEIVE_MAXIMUM),
        (IN_CONNACK, vec![0x24, 2], id::MAXIMUM_QOS),
        (IN_CONNACK, vec![0x25, 7], id::RETAIN_AVAILABLE),
        (IN_CONNACK, vec![0x27, 0, 0, 0, 0], id::MAXIMUM_PACKET_SIZE),
        (IN_PUBLISH, vec![0x23, 0, 0], id::TOPIC_ALIAS),
        (IN_PUBLISH, vec![0x01, 2], id::PAYLOAD_FORMAT_INDICATOR),
        (IN_PUBLISH, vec![0x0b, 0], id::SUBSCRIPTION_IDENTIFIER),
        (IN_CONNECT, vec![0x17, 2], id::REQUEST_PROBLEM_INFORMATION),
    ] {
        let (wire, _) = packet_with(place, &block, Properties::new());
        assert_eq!(
            decode(&wire, &v5()),
            Err(ProtoError::PropertyValue(pid)),
            "{block:02x?}"
        );
    }
}

#[test]
fn malformed_property_blocks_are_refused() {
    use props::*;
    // Identifier 7 is not defined.
    let (wire, _) = packet_with(IN_PUBLISH, &[0x07, 0], Properties::new());
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::InvalidProperty(7)));
    // A string value cut short by the property length.
    let (wire, _) = packet_with(IN_PUBLISH, &[0x03, 0, 5, b'a'], Properties::new());
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::Truncated));
    // A property length running past the packet: PUBACK with length 9 and 1 byte.
    assert_malformed(&[0x40, 5, 0, 1, 0, 9, 0x1f], &v5(), ProtoError::Truncated);
    // A property string with U+0000.
    let (wire, _) = packet_with(IN_PUBACK, &[0x1f, 0, 1, 0], Properties::new());
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::NulInString));
    // Invalid UTF-8 in a user property value.
    let (wire, _) = packet_with(
        IN_PUBACK,
        &[0x26, 0, 1, b'k', 0, 1, 0xff],
        Properties::new(),
    );
    assert_eq!(decode(&wire, &v5()), Err(ProtoError::InvalidUtf8));
}

#[test]
fn builders_check_kind_and_range() {
    use props::PropError::*;
    let mut p = Properties::new();
    assert_eq!(p.add(7, Value::Int(1)), Err(UnknownId));
    assert_eq!(p.add(id::CONTENT_TYPE, Value::Int(1)), Err(WrongType));
    assert_eq!(p.add(id::RECEIVE_MAXIMUM, Value::Int(0)), Err(OutOfRange));
    assert_eq!(
        p.add(id::RECEIVE_MAXIMUM, Value::Int(65536)),
        Err(OutOfRange)
    );
    assert_eq!(
        p.add(id::SUBSCRIPTION_IDENTIFIER, Value::Int(268_435_456)),
        Err(OutOfRange)
    );
    assert_eq!(
        p.add(id::PAYLOAD_FORMAT_INDICATOR, Value::Int(2)),
        Err(OutOfRange)
    );
    assert!(p.is_empty());
    // Single-valued: replaced in place. Multi-valued: appended.
    p.add(id::CONTENT_TYPE, Value::Str("a".into())).unwrap();
    p.add(id::USER_PROPERTY, Value::Pair("k".into(), "v".into()))
        .unwrap();
    p.add(id::CONTENT_TYPE, Value::Str("b".into())).unwrap();
    p.add(id::USER_PROPERTY, Value::Pair("k".into(), "w".into()))
        .unwrap();
    let mut out = Vec::new();
    p.write(&mut out);
    assert_eq!(
        out,
        [18, 0x03, 0, 1, b'b', 0x26, 0, 1, b'k', 0, 1, b'v', 0x26, 0, 1, b'k', 0, 1, b'w']
    );
}
