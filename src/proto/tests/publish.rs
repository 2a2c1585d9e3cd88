//! PUBLISH and the packet-identifier acknowledgements.

use super::*;

fn publish(qos: QoS, topic: &str, pkid: u16, payload: &[u8]) -> Publish {
    Publish {
        properties: Default::default(),
        dup: false,
        qos,
        retain: false,
        topic: topic.into(),
        pkid,
        payload: payload.to_vec(),
    }
}

#[test]
fn spec_example_variable_header() {
    // MQTT 3.1.1 figure 3.11: topic "a/b", packet identifier 10.
    let p = Packet::Publish(publish(QoS::AtLeastOnce, "a/b", 10, b""));
    let bytes = [0x32, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn spec_example_utf8_string() {
    // MQTT 3.1.1 figure 1.3: "A\u{2A6D4}" is 00 05 41 F0 AA 9B 94.
    let p = Packet::Publish(publish(QoS::AtMostOnce, "A\u{2A6D4}", 0, b"x"));
    let bytes = [0x30, 0x08, 0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94, b'x'];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn qos0_has_no_packet_id() {
    let p = Packet::Publish(publish(QoS::AtMostOnce, "t", 0, b"hello"));
    let bytes = [0x30, 0x08, 0x00, 0x01, b't', b'h', b'e', b'l', b'l', b'o'];
    assert_wire(&p, &bytes, &v311());
    // A packet id passed with QoS 0 is not written.
    let mut out = vec![];
    encode_publish(
        &mut out,
        "t",
        b"hello",
        QoS::AtMostOnce,
        false,
        false,
        99,
        None,
    )
    .unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn flags_retain_dup_qos2() {
    let mut p = publish(QoS::ExactlyOnce, "t", 0xFFFF, b"");
    p.dup = true;
    p.retain = true;
    let bytes = [0x3D, 0x05, 0x00, 0x01, b't', 0xFF, 0xFF];
    assert_wire(&Packet::Publish(p), &bytes, &v311());
    let mut p = publish(QoS::AtMostOnce, "t", 0, b"");
    p.retain = true;
    assert_wire(
        &Packet::Publish(p),
        &[0x31, 0x03, 0x00, 0x01, b't'],
        &v311(),
    );
    let mut p = publish(QoS::AtLeastOnce, "t", 1, b"");
    p.dup = true;
    let bytes = [0x3A, 0x05, 0x00, 0x01, b't', 0x00, 0x01];
    assert_wire(&Packet::Publish(p), &bytes, &v31());
}

#[test]
fn payload_is_opaque_bytes() {
    let payload: Vec<u8> = (0..=255).collect();
    let p = Packet::Publish(publish(QoS::AtLeastOnce, "$SYS/x", 7, &payload));
    let bytes = encoded(&p);
    assert_eq!(&bytes[..3], &[0x32, 0x8A, 0x02]); // 2 + 6 + 2 + 256 = 266
    assert_eq!(&bytes[3..13], b"\x00\x06$SYS/x\x00\x07");
    assert_eq!(&bytes[13..], &payload[..]);
    assert_decodes(&bytes, &p, &v311());
}

#[test]
fn encode_publish_matches_encode_and_publish_len() {
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        for (topic, payload_len) in [("a", 0), ("a/b/c", 100), ("t", 200), ("x", 20_000)] {
            let mut p = publish(qos, topic, 0, &vec![7; payload_len]);
            if qos != QoS::AtMostOnce {
                p.pkid = 321;
            }
            p.retain = true;
            let via_encode = encoded(&Packet::Publish(p.clone()));
            let mut direct = Vec::new();
            encode_publish(
                &mut direct,
                topic,
                &p.payload,
                qos,
                true,
                false,
                p.pkid,
                None,
            )
            .unwrap();
            assert_eq!(direct, via_encode);
            assert_eq!(
                direct.len(),
                publish_len(topic.len(), payload_len, qos, None)
            );
            // One exact reservation into an empty buffer (Vec never allocates fewer
            // than 8 bytes).
            assert_eq!(direct.capacity(), direct.len().max(8));
        }
    }
}

#[test]
fn decoded_payload_and_topic_are_exactly_sized() {
    let bytes = [0x30, 0x06, 0x00, 0x01, b't', b'a', b'b', b'c'];
    let Ok(Some((Packet::Publish(p), 8))) = decode(&bytes, &v311()) else {
        panic!("not a publish");
    };
    assert_eq!(p.payload.capacity(), 3);
    assert_eq!(p.topic.capacity(), 1);
}

#[test]
fn malformed_publish_flags() {
    // MQTT-3.3.1-4: QoS 3.
    for byte1 in [0x36, 0x37, 0x3E, 0x3F] {
        assert_malformed(
            &[byte1, 0x03, 0x00, 0x01, b't'],
            &v311(),
            ProtoError::InvalidQoS,
        );
    }
    // MQTT-3.3.1-2: DUP with QoS 0.
    for byte1 in [0x38, 0x39] {
        assert_malformed(
            &[byte1, 0x03, 0x00, 0x01, b't'],
            &v311(),
            ProtoError::InvalidFlags,
        );
    }
}

#[test]
fn zero_packet_id_with_qos_1_and_2() {
    // MQTT-2.3.1-1.
    for byte1 in [0x32, 0x34, 0x3A, 0x3C] {
        let bytes = [byte1, 0x05, 0x00, 0x01, b't', 0x00, 0x00];
        assert_malformed(&bytes, &v311(), ProtoError::ZeroPacketId);
    }
}

#[test]
fn malformed_topic_names() {
    let cases: &[(&[u8], ProtoError)] = &[
        // MQTT-4.7.3-1: empty.
        (b"", ProtoError::InvalidTopic),
        // MQTT-3.3.2-2: wildcards.
        (b"a/+", ProtoError::InvalidTopic),
        (b"+", ProtoError::InvalidTopic),
        (b"#", ProtoError::InvalidTopic),
        (b"a/#", ProtoError::InvalidTopic),
        (b"a#b", ProtoError::InvalidTopic),
        // MQTT-1.5.3-2: U+0000.
        (b"a\0", ProtoError::NulInString),
        (b"\0", ProtoError::NulInString),
        // MQTT-1.5.3-1: ill-formed UTF-8, overlong U+0000, surrogate, stray bytes.
        (b"\xC0\x80", ProtoError::InvalidUtf8),
        (b"\xED\xA0\x80", ProtoError::InvalidUtf8),
        (b"a\xFF", ProtoError::InvalidUtf8),
        (b"\xF0\xAA\x9B", ProtoError::InvalidUtf8),
    ];
    for (topic, err) in cases {
        let mut body = field(topic);
        body.extend_from_slice(b"payload");
        assert_malformed(&packet(0x30, &body), &v311(), err.clone());
        let mut body = field(topic);
        body.extend_from_slice(&[0x00, 0x01]);
        assert_malformed(&packet(0x32, &body), &v311(), err.clone());
    }
}

#[test]
fn truncated_publish() {
    // The topic length is cut, or longer than the body, or the packet id is missing.
    assert_malformed(&[0x30, 0x00], &v311(), ProtoError::Truncated);
    assert_malformed(&[0x30, 0x01, 0x00], &v311(), ProtoError::Truncated);
    assert_malformed(
        &[0x30, 0x03, 0x00, 0x05, b't'],
        &v311(),
        ProtoError::Truncated,
    );
    assert_malformed(
        &[0x32, 0x03, 0x00, 0x01, b't'],
        &v311(),
        ProtoError::Truncated,
    );
    assert_malformed(
        &[0x32, 0x04, 0x00, 0x01, b't', 0x01],
        &v311(),
        ProtoError::Truncated,
    );
}

#[test]
fn topic_length_limits_on_encode() {
    let ok = "t".repeat(65_535);
    let mut out = vec![];
    encode_publish(&mut out, &ok, b"", QoS::AtMostOnce, false, false, 0, None).unwrap();
    assert_eq!(&out[..6], &[0x30, 0x81, 0x80, 0x04, 0xFF, 0xFF]);
    assert_eq!(out.len(), 4 + 65_537);
    let p = Packet::Publish(publish(QoS::AtMostOnce, &ok, 0, b""));
    assert_eq!(decode(&out, &v311()), Ok(Some((p, out.len()))));
    let long = "t".repeat(65_536);
    let mut out = vec![];
    let r = encode_publish(&mut out, &long, b"", QoS::AtMostOnce, false, false, 0, None);
    assert_eq!(r, Err(ProtoError::StringTooLong));
    let p = Packet::Publish(publish(QoS::AtMostOnce, &long, 0, b""));
    assert_eq!(
        encode(&p, ProtocolVersion::V311, &mut out),
        Err(ProtoError::StringTooLong)
    );
    assert!(out.is_empty());
}

#[test]
fn acks() {
    type MakeAck = fn(Ack) -> Packet;
    let cases: &[(MakeAck, u8)] = &[
        (Packet::PubAck, 0x40),
        (Packet::PubRec, 0x50),
        (Packet::PubRel, 0x62),
        (Packet::PubComp, 0x70),
        (|a: Ack| Packet::UnsubAck(UnsubAck::new(a.pkid)), 0xB0),
    ];
    for &(make, byte1) in cases {
        assert_wire(&make(Ack::new(1)), &[byte1, 0x02, 0x00, 0x01], &v311());
        assert_wire(&make(Ack::new(0xABCD)), &[byte1, 0x02, 0xAB, 0xCD], &v31());
        assert_wire(&make(Ack::new(0xFFFF)), &[byte1, 0x02, 0xFF, 0xFF], &v311());
        // MQTT-2.3.1-1.
        assert_malformed(
            &[byte1, 0x02, 0x00, 0x00],
            &v311(),
            ProtoError::ZeroPacketId,
        );
        assert_malformed(&[byte1, 0x00], &v311(), ProtoError::Truncated);
        assert_malformed(&[byte1, 0x01, 0x01], &v311(), ProtoError::Truncated);
        assert_malformed(
            &[byte1, 0x03, 0x00, 0x01, 0x00],
            &v311(),
            ProtoError::TrailingBytes,
        );
    }
    // MQTT-3.6.1-1: PUBREL with flags 0 (as some old brokers sent) is malformed.
    assert_malformed(
        &[0x60, 0x02, 0x00, 0x01],
        &v311(),
        ProtoError::ReservedFlags(0x60),
    );
    assert_malformed(
        &[0x42, 0x02, 0x00, 0x01],
        &v311(),
        ProtoError::ReservedFlags(0x42),
    );
}
