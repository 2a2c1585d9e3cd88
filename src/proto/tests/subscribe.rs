//! SUBSCRIBE, SUBACK, UNSUBSCRIBE.

use super::*;

fn subscribe(pkid: u16, filters: &[(&str, QoS)]) -> Packet {
    Packet::Subscribe(Subscribe {
        properties: Default::default(),
        pkid,
        filters: filters
            .iter()
            .map(|&(f, q)| (f.to_owned(), q.into()))
            .collect(),
    })
}

fn unsubscribe(pkid: u16, filters: &[&str]) -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        properties: Default::default(),
        pkid,
        filters: filters.iter().map(|&f| f.to_owned()).collect(),
    })
}

#[test]
fn subscribe_spec_example() {
    // MQTT 3.1.1 figures 3.20 and 3.22: packet id 10, "a/b" QoS 1, "c/d" QoS 2.
    let p = subscribe(10, &[("a/b", QoS::AtLeastOnce), ("c/d", QoS::ExactlyOnce)]);
    #[rustfmt::skip]
    let bytes = [
        0x82, 0x0E, 0x00, 0x0A,
        0x00, 0x03, b'a', b'/', b'b', 0x01,
        0x00, 0x03, b'c', b'/', b'd', 0x02,
    ];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn subscribe_wildcards_and_qos0() {
    let p = subscribe(
        0xFFFF,
        &[("#", QoS::AtMostOnce), ("+/x/+", QoS::AtMostOnce)],
    );
    #[rustfmt::skip]
    let bytes = [
        0x82, 0x0E, 0xFF, 0xFF,
        0x00, 0x01, b'#', 0x00,
        0x00, 0x05, b'+', b'/', b'x', b'/', b'+', 0x00,
    ];
    assert_wire(&p, &bytes, &v31());
}

#[test]
fn suback_spec_example() {
    // MQTT 3.1.1 figure 3.26: granted 0, 1, 2 and failure.
    let p = Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: 10,
        return_codes: vec![0x00, 0x01, 0x02, 0x80],
    });
    assert_wire(
        &p,
        &[0x90, 0x06, 0x00, 0x0A, 0x00, 0x01, 0x02, 0x80],
        &v311(),
    );
    assert_wire(
        &p,
        &[0x90, 0x06, 0x00, 0x0A, 0x00, 0x01, 0x02, 0x80],
        &v31(),
    );
}

#[test]
fn unsubscribe_spec_example() {
    // MQTT 3.1.1 figure 3.30: "a/b", "c/d".
    let p = unsubscribe(10, &["a/b", "c/d"]);
    #[rustfmt::skip]
    let bytes = [
        0xA2, 0x0C, 0x00, 0x0A,
        0x00, 0x03, b'a', b'/', b'b',
        0x00, 0x03, b'c', b'/', b'd',
    ];
    assert_wire(&p, &bytes, &v311());
}

#[test]
fn unsuback() {
    assert_wire(
        &Packet::UnsubAck(UnsubAck::new(10)),
        &[0xB0, 0x02, 0x00, 0x0A],
        &v311(),
    );
}

#[test]
fn empty_payloads() {
    // MQTT-3.8.3-3, MQTT-3.10.3-2; a SUBACK answers at least one filter.
    for byte1 in [0x82, 0xA2, 0x90] {
        assert_malformed(
            &[byte1, 0x02, 0x00, 0x01],
            &v311(),
            ProtoError::EmptyPayload,
        );
    }
}

#[test]
fn zero_packet_ids() {
    assert_malformed(
        &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
        &v311(),
        ProtoError::ZeroPacketId,
    );
    assert_malformed(
        &[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'],
        &v311(),
        ProtoError::ZeroPacketId,
    );
    assert_malformed(
        &[0x90, 0x03, 0x00, 0x00, 0x00],
        &v311(),
        ProtoError::ZeroPacketId,
    );
}

#[test]
fn subscribe_options_byte() {
    // MQTT-3.8.3-4: QoS 3 and the six reserved bits.
    let cases = [
        (0x03, ProtoError::InvalidQoS),
        (0x04, ProtoError::InvalidFlags),
        (0x80, ProtoError::InvalidFlags),
        (0xFC, ProtoError::InvalidFlags),
        (0xFF, ProtoError::InvalidFlags),
    ];
    for (options, err) in cases {
        let bytes = [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', options];
        assert_malformed(&bytes, &v311(), err.clone());
        // The bad options may follow a good filter.
        #[rustfmt::skip]
        let bytes = [
            0x82, 0x0A, 0x00, 0x01, 0x00, 0x01, b'a', 0x01, 0x00, 0x01, b'b', options,
        ];
        assert_malformed(&bytes, &v311(), err);
    }
}

#[test]
fn malformed_filters() {
    let cases: &[(&[u8], ProtoError)] = &[
        // MQTT-4.7.3-1: empty.
        (b"", ProtoError::InvalidTopic),
        // MQTT-4.7.1-2: '#' last and alone in its level.
        (b"a/#/b", ProtoError::InvalidTopic),
        (b"a#", ProtoError::InvalidTopic),
        (b"sport/tennis#", ProtoError::InvalidTopic),
        // MQTT-4.7.1-3: '+' alone in its level.
        (b"sport+", ProtoError::InvalidTopic),
        (b"a/+b", ProtoError::InvalidTopic),
        // MQTT-1.5.3-1, MQTT-1.5.3-2.
        (b"a/\0", ProtoError::NulInString),
        (b"\xC0\x80", ProtoError::InvalidUtf8),
        (b"\xED\xBF\xBF", ProtoError::InvalidUtf8),
    ];
    for (filter, err) in cases {
        let mut body = vec![0x00, 0x01];
        body.extend_from_slice(&field(filter));
        let mut sub = body.clone();
        sub.push(0x00);
        assert_malformed(&packet(0x82, &sub), &v311(), err.clone());
        assert_malformed(&packet(0xA2, &body), &v311(), err.clone());
    }
}

#[test]
fn truncated_filters() {
    // Options byte missing.
    assert_malformed(
        &[0x82, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
        &v311(),
        ProtoError::Truncated,
    );
    // Filter length cut or longer than the body.
    assert_malformed(
        &[0x82, 0x03, 0x00, 0x01, 0x00],
        &v311(),
        ProtoError::Truncated,
    );
    assert_malformed(
        &[0xA2, 0x03, 0x00, 0x01, 0x00],
        &v311(),
        ProtoError::Truncated,
    );
    assert_malformed(
        &[0xA2, 0x05, 0x00, 0x01, 0x00, 0x02, b'a'],
        &v311(),
        ProtoError::Truncated,
    );
    // Packet id cut.
    for byte1 in [0x82, 0xA2, 0x90] {
        assert_malformed(&[byte1, 0x01, 0x00], &v311(), ProtoError::Truncated);
        assert_malformed(&[byte1, 0x00], &v311(), ProtoError::Truncated);
    }
}

#[test]
fn suback_return_codes() {
    // MQTT-3.9.3-2: only 0, 1, 2 and 0x80.
    for code in [0x03, 0x7F, 0x81, 0xFF] {
        let bytes = [0x90, 0x04, 0x00, 0x01, 0x00, code];
        assert_malformed(&bytes, &v311(), ProtoError::InvalidReturnCode(code));
        assert_malformed(&bytes, &v31(), ProtoError::InvalidReturnCode(code));
    }
}

#[test]
fn over_long_filter_is_not_encoded() {
    let long = "f".repeat(65_536);
    let mut out = vec![];
    let p = subscribe(1, &[("a", QoS::AtMostOnce), (&long, QoS::AtMostOnce)]);
    assert_eq!(
        encode(&p, ProtocolVersion::V311, &mut out),
        Err(ProtoError::StringTooLong)
    );
    assert_eq!(
        encode(&unsubscribe(1, &[&long]), ProtocolVersion::V311, &mut out),
        Err(ProtoError::StringTooLong)
    );
    assert!(out.is_empty());
}
