//! MQTT 5 packet forms, byte for byte: the layouts of MQTT-3.x under protocol level 5,
//! every short form the specification allows on input, and the forms paho and
//! libmosquitto send (which the encoder produces).

use super::super::properties::id;
use super::*;

fn user(k: &str, v: &str) -> Properties {
    Properties::new().with(id::USER_PROPERTY, Value::Pair(k.into(), v.into()))
}

fn reason_string(s: &str) -> Properties {
    Properties::new().with(id::REASON_STRING, Value::Str(s.into()))
}

#[test]
fn connect_minimal() {
    // Level 5, Clean Start, keep alive 60, property length 0, client id "c".
    let c = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "c".into(),
        clean_session: true,
        keep_alive: 60,
        will: None,
        username: None,
        password: None,
        properties: Properties::new(),
    };
    assert_wire(
        &Packet::Connect(Box::new(c)),
        &[
            0x10, 14, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 0, 0, 1, b'c',
        ],
        &v5(),
    );
}

#[test]
fn connect_with_everything() {
    let c = Connect {
        protocol: ProtocolVersion::V5,
        client_id: "id".into(),
        clean_session: false,
        keep_alive: 10,
        will: Some(LastWill {
            topic: "w".into(),
            payload: b"x".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::new().with(id::WILL_DELAY_INTERVAL, Value::Int(5)),
        }),
        username: Some("u".into()),
        password: Some(b"p".to_vec()),
        properties: Properties::new()
            .with(id::SESSION_EXPIRY_INTERVAL, Value::Int(3600))
            .with(id::RECEIVE_MAXIMUM, Value::Int(20)),
    };
    #[rustfmt::skip]
    let wire = [
        0x10, 41,
        0, 4, b'M', b'Q', b'T', b'T', 5,
        0xEC, // user name, password, will retain, will QoS 1, will
        0, 10,
        8, 0x11, 0, 0, 0x0e, 0x10, 0x21, 0, 20, // Session Expiry 3600, Receive Maximum 20
        0, 2, b'i', b'd',
        5, 0x18, 0, 0, 0, 5, // Will Delay 5
        0, 1, b'w',
        0, 1, b'x',
        0, 1, b'u',
        0, 1, b'p',
    ];
    assert_wire(&Packet::Connect(Box::new(c)), &wire, &v5());
}

#[test]
fn connect_v5_password_without_user_name() {
    // MQTT 5 dropped MQTT-3.1.2-22.
    let body = [
        0, 4, b'M', b'Q', b'T', b'T', 5, 0x42, 0, 60, 0, 0, 1, b'c', 0, 1, b'p',
    ];
    let (p, _) = decode(&packet(0x10, &body), &v5()).unwrap().unwrap();
    match p {
        Packet::Connect(c) => {
            assert_eq!(c.username, None);
            assert_eq!(c.password, Some(b"p".to_vec()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn connack_forms() {
    assert_wire(
        &Packet::ConnAck(ConnAck::new(true, 0)),
        &[0x20, 3, 1, 0, 0],
        &v5(),
    );
    let props = Properties::new()
        .with(id::RECEIVE_MAXIMUM, Value::Int(10))
        .with(id::ASSIGNED_CLIENT_IDENTIFIER, Value::Str("auto".into()));
    assert_wire(
        &Packet::ConnAck(ConnAck {
            session_present: false,
            code: 0x87,
            properties: props,
        }),
        &[
            0x20, 13, 0, 0x87, 10, 0x21, 0, 10, 0x12, 0, 4, b'a', b'u', b't', b'o',
        ],
        &v5(),
    );
    // A 3.1.1 broker's refusal of level 5 has no property length.
    assert_decodes(
        &[0x20, 2, 0, 1],
        &Packet::ConnAck(ConnAck::new(false, 1)),
        &v5(),
    );
    // Reserved acknowledge flags are still malformed.
    assert_malformed(&[0x20, 3, 2, 0, 0], &v5(), ProtoError::InvalidFlags);
}

#[test]
fn publish_forms() {
    let mut p = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: "t".into(),
        pkid: 7,
        payload: b"hi".to_vec(),
        properties: Properties::new(),
    };
    // The property length is always there, 0 for none.
    assert_wire(
        &Packet::Publish(p.clone()),
        &[0x32, 8, 0, 1, b't', 0, 7, 0, b'h', b'i'],
        &v5(),
    );
    p.properties = Properties::new()
        .with(id::CONTENT_TYPE, Value::Str("a".into()))
        .with(id::CORRELATION_DATA, Value::Bin(vec![1, 2]));
    assert_wire(
        &Packet::Publish(p.clone()),
        &[
            0x32, 17, 0, 1, b't', 0, 7, 9, 0x03, 0, 1, b'a', 0x09, 0, 2, 1, 2, b'h', b'i',
        ],
        &v5(),
    );
    // An empty topic with a Topic Alias decodes (the session resolves it).
    p.topic = String::new();
    p.properties = Properties::new().with(id::TOPIC_ALIAS, Value::Int(3));
    assert_wire(
        &Packet::Publish(p),
        &[0x32, 10, 0, 0, 0, 7, 3, 0x23, 0, 3, b'h', b'i'],
        &v5(),
    );
    // Under 3.1.1 an empty topic is malformed; under 5 too when it has no bytes for
    // the property length.
    assert_malformed(&[0x30, 2, 0, 0], &v311(), ProtoError::InvalidTopic);
    assert_malformed(&[0x30, 3, 0, 1, b't'], &v5(), ProtoError::Truncated);
}

#[test]
fn publish_properties_are_borrowed_in_wire_order() {
    let wire = [
        0x30, 16, 0, 1, b't', 11, 0x0b, 1, 0x26, 0, 1, b'k', 0, 1, b'v', 0x0b, 2, b'x',
    ];
    let Some((PacketRef::Publish(p), used)) = decode_ref(&wire, &v5()).unwrap() else {
        panic!("a PUBLISH");
    };
    assert_eq!(used, wire.len());
    assert_eq!(p.payload, b"x");
    assert_eq!(p.properties.bytes(), &wire[6..17]);
    let got: Vec<(u8, ValueRef<'_>)> = p.properties.iter().collect();
    assert_eq!(
        got,
        [
            (id::SUBSCRIPTION_IDENTIFIER, ValueRef::Int(1)),
            (id::USER_PROPERTY, ValueRef::Pair("k", "v")),
            (id::SUBSCRIPTION_IDENTIFIER, ValueRef::Int(2)),
        ]
    );
}

#[test]
fn ack_forms() {
    for (ty, byte1) in [(4u8, 0x40u8), (5, 0x50), (6, 0x62), (7, 0x70)] {
        let make = |a: Ack| match ty {
            4 => Packet::PubAck(a),
            5 => Packet::PubRec(a),
            6 => Packet::PubRel(a),
            _ => Packet::PubComp(a),
        };
        // Reason 0 without properties: the 2-byte form, as paho and libmosquitto send.
        assert_wire(&make(Ack::new(7)), &[byte1, 2, 0, 7], &v5());
        // A reason alone: 3 bytes.
        let a = Ack {
            pkid: 7,
            reason: 0x92,
            properties: Properties::new(),
        };
        assert_wire(&make(a.clone()), &[byte1, 3, 0, 7, 0x92], &v5());
        // Reason and an empty property list decode to the same (remaining length 4).
        assert_decodes(&[byte1, 4, 0, 7, 0x92, 0], &make(a), &v5());
        // With properties.
        let a = Ack {
            pkid: 7,
            reason: 0x80,
            properties: reason_string("x"),
        };
        assert_wire(
            &make(a),
            &[byte1, 8, 0, 7, 0x80, 4, 0x1f, 0, 1, b'x'],
            &v5(),
        );
        // Under 3.1.1 only the packet identifier is written.
        let a = Ack {
            pkid: 7,
            reason: 0x80,
            properties: reason_string("x"),
        };
        assert_eq!(
            encoded_as(&make(a), ProtocolVersion::V311),
            [byte1, 2, 0, 7]
        );
        assert_malformed(&[byte1, 3, 0, 7, 0x80], &v311(), ProtoError::TrailingBytes);
    }
}

#[test]
fn subscribe_forms() {
    let s = Subscribe {
        pkid: 1,
        // QoS 1 | No Local | Retain As Published | Retain Handling 2.
        filters: vec![
            ("a".into(), SubOptions(0x2d)),
            ("b/#".into(), SubOptions(0x10)),
        ],
        properties: Properties::new().with(id::SUBSCRIPTION_IDENTIFIER, Value::Int(200)),
    };
    assert_wire(
        &Packet::Subscribe(s.clone()),
        &[
            0x82, 16, 0, 1, 3, 0x0b, 0xc8, 0x01, 0, 1, b'a', 0x2d, 0, 3, b'b', b'/', b'#', 0x10,
        ],
        &v5(),
    );
    // Under 3.1.1 only the QoS of the options is written, and no properties.
    assert_eq!(
        encoded_as(&Packet::Subscribe(s), ProtocolVersion::V311),
        [0x82, 12, 0, 1, 0, 1, b'a', 0x01, 0, 3, b'b', b'/', b'#', 0x00]
    );
    // Reserved bits and Retain Handling 3 are malformed.
    assert_malformed(
        &packet(0x82, &[0, 1, 0, 0, 1, b'a', 0x40]),
        &v5(),
        ProtoError::InvalidFlags,
    );
    assert_malformed(
        &packet(0x82, &[0, 1, 0, 0, 1, b'a', 0x30]),
        &v5(),
        ProtoError::InvalidFlags,
    );
    assert_malformed(
        &packet(0x82, &[0, 1, 0, 0, 1, b'a', 0x03]),
        &v5(),
        ProtoError::InvalidQoS,
    );
}

#[test]
fn suback_and_unsuback_forms() {
    let s = SubAck {
        pkid: 1,
        return_codes: vec![0x01, 0x87],
        properties: reason_string("no"),
    };
    assert_wire(
        &Packet::SubAck(s),
        &[0x90, 10, 0, 1, 5, 0x1f, 0, 2, b'n', b'o', 0x01, 0x87],
        &v5(),
    );
    assert_malformed(
        &[0x90, 4, 0, 1, 0, 0x03],
        &v5(),
        ProtoError::InvalidReturnCode(3),
    );
    let u = UnsubAck {
        pkid: 2,
        reason_codes: vec![0x00, 0x11],
        properties: Properties::new(),
    };
    assert_wire(&Packet::UnsubAck(u), &[0xB0, 5, 0, 2, 0, 0x00, 0x11], &v5());
    assert_malformed(&[0xB0, 3, 0, 2, 0], &v5(), ProtoError::EmptyPayload);
    assert_malformed(
        &[0xB0, 4, 0, 2, 0, 0x05],
        &v5(),
        ProtoError::InvalidReturnCode(5),
    );
    // 3.1.1: the identifier alone.
    assert_wire(
        &Packet::UnsubAck(UnsubAck::new(2)),
        &[0xB0, 2, 0, 2],
        &v311(),
    );
}

#[test]
fn unsubscribe_form() {
    let u = Unsubscribe {
        pkid: 3,
        filters: vec!["a/+".into()],
        properties: user("k", "v"),
    };
    assert_wire(
        &Packet::Unsubscribe(u),
        &[
            0xA2, 15, 0, 3, 7, 0x26, 0, 1, b'k', 0, 1, b'v', 0, 3, b'a', b'/', b'+',
        ],
        &v5(),
    );
}

#[test]
fn disconnect_every_length() {
    // Length 0: reason 0, no properties.
    assert_wire(&Packet::Disconnect(Disconnect::normal()), &[0xE0, 0], &v5());
    // Length 1: a reason alone (paho: disconnect(reasoncode)).
    assert_wire(
        &Packet::Disconnect(Disconnect::reason(0x8E)),
        &[0xE0, 1, 0x8E],
        &v5(),
    );
    // Length 2: a reason and an empty property list (paho: an empty Properties).
    let empty = Disconnect {
        reason: Some(0),
        properties: Some(Properties::new()),
    };
    assert_wire(&Packet::Disconnect(empty), &[0xE0, 2, 0, 0], &v5());
    // With properties.
    let d = Disconnect {
        reason: Some(0x04),
        properties: Some(reason_string("x")),
    };
    assert_wire(
        &Packet::Disconnect(d),
        &[0xE0, 6, 0x04, 4, 0x1f, 0, 1, b'x'],
        &v5(),
    );
    // A property DISCONNECT may not carry.
    assert_malformed(&[0xE0, 4, 0, 2, 0x23, 0], &v5(), ProtoError::Truncated);
    assert_malformed(
        &[0xE0, 5, 0, 3, 0x23, 0, 1],
        &v5(),
        ProtoError::PropertyNotAllowed(id::TOPIC_ALIAS),
    );
    // 3.1.1 DISCONNECT has no body.
    assert_malformed(&[0xE0, 1, 0], &v311(), ProtoError::TrailingBytes);
    assert_eq!(
        encoded_as(
            &Packet::Disconnect(Disconnect::reason(0x8E)),
            ProtocolVersion::V311
        ),
        [0xE0, 0]
    );
}

#[test]
fn auth_forms() {
    // Length 0: Success without properties.
    assert_wire(&Packet::Auth(Auth::default()), &[0xF0, 0], &v5());
    let a = Auth {
        reason: 0x18,
        properties: Properties::new()
            .with(id::AUTHENTICATION_METHOD, Value::Str("M".into()))
            .with(id::AUTHENTICATION_DATA, Value::Bin(vec![9])),
    };
    assert_wire(
        &Packet::Auth(a),
        &[0xF0, 10, 0x18, 8, 0x15, 0, 1, b'M', 0x16, 0, 1, 9],
        &v5(),
    );
    // A reason alone is read too.
    assert_decodes(
        &[0xF0, 1, 0x19],
        &Packet::Auth(Auth {
            reason: 0x19,
            properties: Properties::new(),
        }),
        &v5(),
    );
    assert_malformed(
        &[0xF0, 2, 0x80, 0],
        &v5(),
        ProtoError::InvalidReturnCode(0x80),
    );
    // AUTH does not exist before MQTT 5.
    assert_malformed(&[0xF0, 0], &v311(), ProtoError::InvalidPacketType(15));
    assert_malformed(&[0xF0, 0], &v31(), ProtoError::InvalidPacketType(15));
    let mut out = Vec::new();
    assert_eq!(
        encode(
            &Packet::Auth(Auth::default()),
            ProtocolVersion::V311,
            &mut out
        ),
        Err(ProtoError::InvalidPacketType(15))
    );
    assert!(out.is_empty());
}

#[test]
fn v311_decoding_ignores_nothing_of_v5() {
    // A v5 PUBLISH read as 3.1.1: the property length is payload.
    let wire = [0x30, 5, 0, 1, b't', 0, b'x'];
    let (p, _) = decode(&wire, &v311()).unwrap().unwrap();
    match p {
        Packet::Publish(p) => {
            assert_eq!(p.payload, [0, b'x']);
            assert!(p.properties.is_empty());
        }
        other => panic!("{other:?}"),
    }
}
