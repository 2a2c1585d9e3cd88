//! CONNECT and CONNACK.

use super::*;

fn connect(protocol: ProtocolVersion, client_id: &str) -> Connect {
    Connect {
        properties: Default::default(),
        protocol,
        client_id: client_id.into(),
        clean_session: true,
        keep_alive: 60,
        will: None,
        username: None,
        password: None,
    }
}

/// A CONNECT body: variable header with `flags`, then `payload` fields as given.
fn connect_body(name: &[u8], level: u8, flags: u8, payload: &[&[u8]]) -> Vec<u8> {
    let mut b = field(name);
    b.extend_from_slice(&[level, flags, 0x00, 0x3C]);
    for f in payload {
        b.extend_from_slice(&field(f));
    }
    b
}

#[test]
fn spec_example_variable_header() {
    // MQTT 3.1.1 figure 3.6: user name, password, will QoS 1, will flag, clean session
    // (flags 0xCE), keep alive 10.
    let p = Packet::Connect(Box::new(Connect {
        properties: Default::default(),
        protocol: ProtocolVersion::V311,
        client_id: "cid".into(),
        clean_session: true,
        keep_alive: 10,
        will: Some(LastWill {
            properties: Default::default(),
            topic: "w/t".into(),
            payload: b"bye".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false,
        }),
        username: Some("user".into()),
        password: Some(b"pass".to_vec()),
    }));
    #[rustfmt::skip]
    let bytes = [
        0x10, 37,
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xCE, 0x00, 0x0A,
        0x00, 0x03, b'c', b'i', b'd',
        0x00, 0x03, b'w', b'/', b't',
        0x00, 0x03, b'b', b'y', b'e',
        0x00, 0x04, b'u', b's', b'e', b'r',
        0x00, 0x04, b'p', b'a', b's', b's',
    ];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn minimal_v311_as_paho_sends_it() {
    let p = Packet::Connect(Box::new(connect(ProtocolVersion::V311, "test")));
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C,
        0x00, 0x04, b't', b'e', b's', b't',
    ];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn empty_client_id_is_a_zero_length_field() {
    // MQTT-3.1.3-6: allowed in 3.1.1; the server decides (MQTT-3.1.3-8).
    let mut c = connect(ProtocolVersion::V311, "");
    c.clean_session = false;
    c.keep_alive = 0;
    let bytes = [
        0x10, 0x0C, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    assert_wire(&Packet::Connect(Box::new(c)), &bytes, &v311());
}

#[test]
fn v31_uses_mqisdp_level_3() {
    let mut c = connect(ProtocolVersion::V31, "x");
    c.keep_alive = 0xFFFF;
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x0F, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0xFF, 0xFF,
        0x00, 0x01, b'x',
    ];
    // CONNECT carries its own protocol: the decoder's setting does not matter.
    assert_wire(&Packet::Connect(Box::new(c.clone())), &bytes, &v31());
    assert_wire(&Packet::Connect(Box::new(c)), &bytes, &v311());
}

#[test]
fn empty_will_payload_and_password_are_zero_length_fields() {
    let mut c = connect(ProtocolVersion::V311, "c");
    c.will = Some(LastWill {
        properties: Default::default(),
        topic: "t".into(),
        payload: vec![],
        qos: QoS::ExactlyOnce,
        retain: true,
    });
    c.username = Some(String::new());
    c.password = Some(vec![]);
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x16,
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xF6, 0x00, 0x3C,
        0x00, 0x01, b'c',
        0x00, 0x01, b't',
        0x00, 0x00,
        0x00, 0x00,
        0x00, 0x00,
    ];
    assert_wire(&Packet::Connect(Box::new(c)), &bytes, &v311());
}

#[test]
fn username_without_password() {
    let mut c = connect(ProtocolVersion::V311, "c");
    c.username = Some("u".into());
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3C,
        0x00, 0x01, b'c', 0x00, 0x01, b'u',
    ];
    assert_wire(&Packet::Connect(Box::new(c)), &bytes, &v311());
}

#[test]
fn binary_password_and_will_payload_are_kept_verbatim() {
    let mut c = connect(ProtocolVersion::V311, "c");
    c.will = Some(LastWill {
        properties: Default::default(),
        topic: "t".into(),
        payload: vec![0x00, 0xFF, 0xC0],
        qos: QoS::AtMostOnce,
        retain: false,
    });
    c.username = Some("u".into());
    c.password = Some(vec![0x00, 0xFE]);
    let p = Packet::Connect(Box::new(c));
    let bytes = encoded(&p);
    assert_eq!(bytes[9], 0xC6);
    assert_eq!(&bytes[bytes.len() - 4..], &[0x00, 0x02, 0x00, 0xFE]);
    assert_decodes(&bytes, &p, &v311());
}

#[test]
fn v31_password_without_username_is_accepted() {
    let mut c = connect(ProtocolVersion::V31, "c");
    c.password = Some(b"p".to_vec());
    let p = Packet::Connect(Box::new(c));
    let bytes = encoded(&p);
    assert_eq!(bytes[11], 0x42);
    assert_decodes(&bytes, &p, &v31());
}

#[test]
fn v31_flags_may_announce_missing_username_and_password() {
    // MQTT 3.1: the remaining length takes precedence over the user name and password
    // flags.
    let body = connect_body(b"MQIsdp", 3, 0xC2, &[b"c"]);
    let mut want = connect(ProtocolVersion::V31, "c");
    assert_decodes(
        &packet(0x10, &body),
        &Packet::Connect(Box::new(want.clone())),
        &v31(),
    );
    let body = connect_body(b"MQIsdp", 3, 0xC2, &[b"c", b"u"]);
    want.username = Some("u".into());
    assert_decodes(
        &packet(0x10, &body),
        &Packet::Connect(Box::new(want)),
        &v31(),
    );
    // 3.1.1 has no such leniency.
    let body = connect_body(b"MQTT", 4, 0xC2, &[b"c", b"u"]);
    assert_malformed(&packet(0x10, &body), &v311(), ProtoError::Truncated);
}

#[test]
fn malformed_flags() {
    let cases: &[(u8, ProtoError)] = &[
        // MQTT-3.1.2-3: reserved bit.
        (0x03, ProtoError::InvalidFlags),
        // MQTT-3.1.2-14: will QoS 3.
        (0x1E, ProtoError::InvalidQoS),
        (0x18, ProtoError::InvalidQoS),
        // MQTT-3.1.2-13: will QoS without the will flag.
        (0x0A, ProtoError::InvalidFlags),
        (0x12, ProtoError::InvalidFlags),
        // MQTT-3.1.2-15: will retain without the will flag.
        (0x22, ProtoError::InvalidFlags),
        // MQTT-3.1.2-22: password without user name.
        (0x42, ProtoError::InvalidFlags),
    ];
    for &(flags, ref err) in cases {
        let body = connect_body(b"MQTT", 4, flags, &[b"c", b"t", b"m", b"p"]);
        assert_malformed(&packet(0x10, &body), &v311(), err.clone());
    }
}

#[test]
fn invalid_protocol_name_or_level() {
    for (name, level) in [
        (&b"MQTT"[..], 3),
        (b"MQTT", 6),
        (b"MQIsdp", 4),
        (b"mqtt", 4),
        (b"MQTT\0", 4),
        (b"", 4),
    ] {
        let body = connect_body(name, level, 0x02, &[b"c"]);
        assert_malformed(&packet(0x10, &body), &v311(), ProtoError::InvalidProtocol);
    }
}

#[test]
fn invalid_strings_in_every_string_field() {
    // Client id, will topic, user name in turn (flags 0xC6: will, user name,
    // password).
    for position in 0..3 {
        for (bad, err) in [
            (&b"a\0b"[..], ProtoError::NulInString),
            (b"\xC0\x80", ProtoError::InvalidUtf8),
            (b"\xED\xA0\x80", ProtoError::InvalidUtf8),
            (b"\xFF", ProtoError::InvalidUtf8),
        ] {
            let mut fields: Vec<&[u8]> = vec![b"c", b"t", b"m", b"u", b"p"];
            fields[[0, 1, 3][position]] = bad;
            let body = connect_body(b"MQTT", 4, 0xC6, &fields);
            assert_malformed(&packet(0x10, &body), &v311(), err);
        }
    }
}

#[test]
fn will_topic_must_be_a_topic_name() {
    for topic in [&b""[..], b"a/+", b"#"] {
        let body = connect_body(b"MQTT", 4, 0x06, &[b"c", topic, b"m"]);
        assert_malformed(&packet(0x10, &body), &v311(), ProtoError::InvalidTopic);
    }
}

#[test]
fn truncated_and_trailing() {
    let full = connect_body(b"MQTT", 4, 0xC6, &[b"c", b"t", b"m", b"u", b"p"]);
    // Cut the body anywhere (the remaining length says where it ends).
    for n in 0..full.len() {
        assert_malformed(&packet(0x10, &full[..n]), &v311(), ProtoError::Truncated);
    }
    let mut long = full.clone();
    long.push(0);
    assert_malformed(&packet(0x10, &long), &v311(), ProtoError::TrailingBytes);
}

#[test]
fn over_long_fields_are_not_encoded() {
    let long = "x".repeat(65_536);
    let ok = "x".repeat(65_535);
    let mut c = connect(ProtocolVersion::V311, &ok);
    assert_eq!(
        encoded(&Packet::Connect(Box::new(c.clone()))).len(),
        1 + 3 + 10 + 2 + 65_535
    );
    c.client_id = long.clone();
    let mut out = vec![];
    assert_eq!(
        encode(
            &Packet::Connect(Box::new(c.clone())),
            ProtocolVersion::V311,
            &mut out
        ),
        Err(ProtoError::StringTooLong)
    );
    c.client_id = "c".into();
    c.password = Some(vec![0; 65_536]);
    assert_eq!(
        encode(
            &Packet::Connect(Box::new(c.clone())),
            ProtocolVersion::V311,
            &mut out
        ),
        Err(ProtoError::StringTooLong)
    );
    c.password = None;
    c.will = Some(LastWill {
        properties: Default::default(),
        topic: "t".into(),
        payload: vec![0; 65_536],
        qos: QoS::AtMostOnce,
        retain: false,
    });
    assert_eq!(
        encode(
            &Packet::Connect(Box::new(c.clone())),
            ProtocolVersion::V311,
            &mut out
        ),
        Err(ProtoError::StringTooLong)
    );
    c.will = None;
    c.username = Some(long);
    assert_eq!(
        encode(
            &Packet::Connect(Box::new(c)),
            ProtocolVersion::V311,
            &mut out
        ),
        Err(ProtoError::StringTooLong)
    );
    assert!(out.is_empty(), "output untouched on error");
}

#[test]
fn connack() {
    let ack = |session_present, code| {
        Packet::ConnAck(ConnAck {
            properties: Default::default(),
            session_present,
            code,
        })
    };
    assert_wire(&ack(false, 0), &[0x20, 0x02, 0x00, 0x00], &v311());
    assert_wire(&ack(true, 0), &[0x20, 0x02, 0x01, 0x00], &v311());
    // Return codes stay raw, reserved ones included: the client interprets them.
    for code in [1, 5, 6, 0x80, 0xFF] {
        assert_wire(&ack(false, code), &[0x20, 0x02, 0x00, code], &v311());
        assert_wire(&ack(false, code), &[0x20, 0x02, 0x00, code], &v31());
    }
}

#[test]
fn connack_flags() {
    // MQTT-3.2.2-1: only bit 0 is defined in 3.1.1.
    for flags in [0x02, 0x80, 0xFF, 0x03] {
        assert_malformed(
            &[0x20, 0x02, flags, 0x00],
            &v311(),
            ProtoError::InvalidFlags,
        );
    }
    // In 3.1 the byte is reserved and unused: anything goes, no session is reported.
    for flags in [0x00, 0x01, 0x02, 0xFF] {
        let want = Packet::ConnAck(ConnAck {
            properties: Default::default(),
            session_present: false,
            code: 2,
        });
        assert_decodes(&[0x20, 0x02, flags, 0x02], &want, &v31());
    }
}

#[test]
fn connack_wrong_length() {
    assert_malformed(&[0x20, 0x00], &v311(), ProtoError::Truncated);
    assert_malformed(&[0x20, 0x01, 0x00], &v311(), ProtoError::Truncated);
    assert_malformed(
        &[0x20, 0x03, 0x00, 0x00, 0x00],
        &v311(),
        ProtoError::TrailingBytes,
    );
    assert_malformed(
        &[0x20, 0x03, 0x00, 0x00, 0x00],
        &v31(),
        ProtoError::TrailingBytes,
    );
}
