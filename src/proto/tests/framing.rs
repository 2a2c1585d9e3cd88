//! Fixed header, remaining length, size limit, packet types and flags, incremental
//! decoding.

use super::super::codec::write_fixed_header;
use super::*;

/// MQTT 3.1.1 table 2.4: the boundaries of each remaining-length size.
const BOUNDARIES: &[(usize, &[u8])] = &[
    (0, &[0x00]),
    (127, &[0x7F]),
    (128, &[0x80, 0x01]),
    (16_383, &[0xFF, 0x7F]),
    (16_384, &[0x80, 0x80, 0x01]),
    (2_097_151, &[0xFF, 0xFF, 0x7F]),
    (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
    (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
];

#[test]
fn remaining_length_boundaries_encode_and_peek() {
    for &(len, bytes) in BOUNDARIES {
        let mut out = vec![];
        write_fixed_header(&mut out, 0x30, len);
        assert_eq!(out[0], 0x30);
        assert_eq!(&out[1..], bytes, "remaining length {len}");
        assert_eq!(
            remaining_length_len(len),
            bytes.len(),
            "remaining length {len}"
        );
        let header = peek_fixed_header(&out).unwrap().unwrap();
        assert_eq!(
            header,
            FixedHeader {
                byte1: 0x30,
                remaining_length: len,
                header_len: 1 + bytes.len(),
            }
        );
        assert_eq!(header.packet_len(), 1 + bytes.len() + len);
        // Every prefix of the header is incomplete.
        for n in 0..out.len() {
            assert_eq!(peek_fixed_header(&out[..n]), Ok(None));
        }
    }
    assert_eq!(MAX_REMAINING_LENGTH, 268_435_455);
}

/// A PUBLISH "a" with QoS 0 and a payload making the remaining length `len`.
fn publish_of_remaining_length(len: usize) -> Publish {
    Publish {
        properties: Default::default(),
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: "a".into(),
        pkid: 0,
        payload: vec![0x5A; len - 3],
    }
}

#[test]
fn remaining_length_boundaries_in_real_packets() {
    for &(len, bytes) in &BOUNDARIES[1..7] {
        let p = Packet::Publish(publish_of_remaining_length(len));
        let out = encoded(&p);
        assert_eq!(out.len(), 1 + bytes.len() + len);
        assert_eq!(out.len(), publish_len(1, len - 3, QoS::AtMostOnce, None));
        assert_eq!(out[0], 0x30);
        assert_eq!(&out[1..1 + bytes.len()], bytes);
        assert_eq!(&out[1 + bytes.len()..][..3], &[0x00, 0x01, b'a']);
        assert_eq!(decode(&out, &v311()), Ok(Some((p, out.len()))));
        assert_eq!(decode(&out[..out.len() - 1], &v311()), Ok(None));
    }
}

#[test]
fn largest_packet_round_trips() {
    let p = Packet::Publish(publish_of_remaining_length(MAX_REMAINING_LENGTH));
    let out = encoded(&p);
    assert_eq!(out.len(), MAX_REMAINING_LENGTH + 5);
    assert_eq!(&out[..8], &[0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, b'a']);
    assert_eq!(decode(&out, &v311()), Ok(Some((p, out.len()))));
}

#[test]
fn remaining_length_over_the_limit_is_not_encoded() {
    // Zeroed allocations are lazy: this costs no real memory.
    let payload = vec![0u8; MAX_REMAINING_LENGTH - 2];
    let mut out = vec![0xAB];
    let r = encode_publish(
        &mut out,
        "a",
        &payload,
        QoS::AtMostOnce,
        false,
        false,
        0,
        None,
    );
    assert_eq!(r, Err(ProtoError::PayloadTooLarge));
    assert_eq!(out, [0xAB], "output untouched on error");
    let r = encode_publish(
        &mut out,
        "a",
        &payload[1..],
        QoS::AtLeastOnce,
        false,
        false,
        1,
        None,
    );
    assert_eq!(r, Err(ProtoError::PayloadTooLarge), "the packet id counts");
    assert_eq!(out, [0xAB]);
    assert_eq!(
        publish_len(1, MAX_REMAINING_LENGTH - 3, QoS::AtMostOnce, None),
        MAX_REMAINING_LENGTH + 5
    );
}

#[test]
fn remaining_length_of_five_bytes_is_malformed() {
    // MQTT-2.2.3: at most four bytes; the fourth must not announce a fifth.
    for bytes in [
        &[0x30, 0x80, 0x80, 0x80, 0x80][..],
        &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        &[0xC0, 0x80, 0x80, 0x80, 0x80, 0x00],
    ] {
        assert_eq!(
            peek_fixed_header(bytes),
            Err(ProtoError::MalformedRemainingLength)
        );
        assert_malformed(bytes, &v311(), ProtoError::MalformedRemainingLength);
    }
    assert_eq!(peek_fixed_header(&[0x30, 0x80, 0x80, 0x80]), Ok(None));
}

#[test]
fn non_minimal_remaining_length_is_accepted() {
    // 3.1.1 does not require the shortest encoding (MQTT 5 does, MQTT-1.5.5-1).
    assert_eq!(
        decode(&[0xC0, 0x80, 0x00], &v311()),
        Ok(Some((Packet::PingReq, 3)))
    );
    assert_eq!(
        decode(&[0x40, 0x82, 0x80, 0x00, 0x00, 0x07], &v311()),
        Ok(Some((Packet::PubAck(Ack::new(7)), 6)))
    );
}

#[test]
fn max_packet_size_is_enforced_from_the_fixed_header_alone() {
    let opts = DecodeOptions {
        max_packet_size: 1024,
        ..v311()
    };
    // Only the fixed header of a 256 MiB PUBLISH has arrived.
    assert_malformed(
        &[0x30, 0xFF, 0xFF, 0xFF, 0x7F],
        &opts,
        ProtoError::PacketTooLarge {
            size: MAX_REMAINING_LENGTH + 5,
            max: 1024,
        },
    );
    // 1021 + 3 header bytes = 1024: allowed, waits for the body; one more is refused.
    assert_eq!(decode(&[0x30, 0xFD, 0x07], &opts), Ok(None));
    assert_malformed(
        &[0x30, 0xFE, 0x07],
        &opts,
        ProtoError::PacketTooLarge {
            size: 1025,
            max: 1024,
        },
    );
    let p = Packet::Publish(publish_of_remaining_length(1021));
    let out = encoded(&p);
    assert_eq!(out.len(), 1024);
    assert_eq!(decode(&out, &opts), Ok(Some((p, 1024))));
    // The limit counts the fixed header: a 2-byte PINGREQ does not fit in 1.
    let tiny = DecodeOptions {
        max_packet_size: 1,
        ..v311()
    };
    assert_malformed(
        &[0xC0, 0x00],
        &tiny,
        ProtoError::PacketTooLarge { size: 2, max: 1 },
    );
}

#[test]
fn packet_types_0_and_15_are_refused_from_the_first_byte() {
    for byte1 in [0x00, 0x0F, 0xF0, 0xFF] {
        assert_malformed(&[byte1], &v311(), ProtoError::InvalidPacketType(byte1 >> 4));
        assert_malformed(
            &[byte1, 0x00],
            &v311(),
            ProtoError::InvalidPacketType(byte1 >> 4),
        );
    }
}

#[test]
fn fixed_header_flags_are_checked_for_every_byte1() {
    // MQTT-2.2.2-1/-2, MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1, MQTT-3.3.1-2/-4.
    for byte1 in 0..=255u8 {
        let (kind, flags) = (byte1 >> 4, byte1 & 0x0F);
        let expected = match kind {
            0 | 15 => Err(ProtoError::InvalidPacketType(kind)),
            3 if flags & 0b0110 == 0b0110 => Err(ProtoError::InvalidQoS),
            3 if flags & 0b0110 == 0 && flags & 0b1000 != 0 => Err(ProtoError::InvalidFlags),
            3 => Ok(None),
            6 | 8 | 10 if flags == 0b0010 => Ok(None),
            1..=14 if flags == 0 && !matches!(kind, 6 | 8 | 10) => Ok(None),
            _ => Err(ProtoError::ReservedFlags(byte1)),
        };
        assert_eq!(decode(&[byte1], &v311()), expected, "byte1 0x{byte1:02x}");
    }
}

#[test]
fn header_only_packets() {
    assert_wire(&Packet::PingReq, &[0xC0, 0x00], &v311());
    assert_wire(&Packet::PingResp, &[0xD0, 0x00], &v311());
    assert_wire(
        &Packet::Disconnect(Disconnect::normal()),
        &[0xE0, 0x00],
        &v311(),
    );
    assert_wire(
        &Packet::Disconnect(Disconnect::normal()),
        &[0xE0, 0x00],
        &v31(),
    );
}

#[test]
fn header_only_packets_with_a_body_are_malformed() {
    for byte1 in [0xC0, 0xD0, 0xE0] {
        assert_malformed(&[byte1, 0x01, 0x00], &v311(), ProtoError::TrailingBytes);
        assert_malformed(
            &[byte1, 0x02, 0x00, 0x00],
            &v311(),
            ProtoError::TrailingBytes,
        );
    }
    // A non-zero remaining length waits for its body before it is judged.
    assert_eq!(decode(&[0xC0, 0x01], &v311()), Ok(None));
}

/// One packet of every kind, each with its expected bytes.
fn stream() -> Vec<(Packet, Vec<u8>)> {
    vec![
        (Packet::PingReq, vec![0xC0, 0x00]),
        (
            Packet::Publish(Publish {
                properties: Default::default(),
                dup: false,
                qos: QoS::AtLeastOnce,
                retain: true,
                topic: "a/b".into(),
                pkid: 10,
                payload: b"hi".to_vec(),
            }),
            vec![
                0x33, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
            ],
        ),
        (Packet::PubAck(Ack::new(10)), vec![0x40, 0x02, 0x00, 0x0A]),
        (Packet::PubRec(Ack::new(11)), vec![0x50, 0x02, 0x00, 0x0B]),
        (Packet::PubRel(Ack::new(11)), vec![0x62, 0x02, 0x00, 0x0B]),
        (Packet::PubComp(Ack::new(11)), vec![0x70, 0x02, 0x00, 0x0B]),
        (
            Packet::SubAck(SubAck {
                properties: Default::default(),
                pkid: 2,
                return_codes: vec![1],
            }),
            vec![0x90, 0x03, 0x00, 0x02, 0x01],
        ),
        (
            Packet::UnsubAck(UnsubAck::new(3)),
            vec![0xB0, 0x02, 0x00, 0x03],
        ),
        (
            Packet::ConnAck(ConnAck {
                properties: Default::default(),
                session_present: true,
                code: 0,
            }),
            vec![0x20, 0x02, 0x01, 0x00],
        ),
        (Packet::PingResp, vec![0xD0, 0x00]),
        (Packet::Disconnect(Disconnect::normal()), vec![0xE0, 0x00]),
    ]
}

#[test]
fn back_to_back_packets_decode_one_at_a_time() {
    let packets = stream();
    let all: Vec<u8> = packets.iter().flat_map(|(_, b)| b.clone()).collect();
    let mut at = 0;
    for (p, bytes) in &packets {
        assert_eq!(encoded(p), *bytes);
        let (decoded, used) = decode(&all[at..], &v311()).unwrap().unwrap();
        assert_eq!((&decoded, used), (p, bytes.len()));
        at += used;
    }
    assert_eq!(at, all.len());
    assert_eq!(decode(&all[at..], &v311()), Ok(None));
}

#[test]
fn stream_fed_one_byte_at_a_time() {
    let packets = stream();
    let all: Vec<u8> = packets.iter().flat_map(|(_, b)| b.clone()).collect();
    let mut buf = Vec::new();
    let mut got = Vec::new();
    for &b in &all {
        buf.push(b);
        while let Some((p, used)) = decode(&buf, &v311()).unwrap() {
            got.push(p);
            buf.drain(..used);
        }
    }
    assert!(buf.is_empty());
    let want: Vec<Packet> = packets.into_iter().map(|(p, _)| p).collect();
    assert_eq!(got, want);
}

#[test]
fn encode_appends_to_what_is_already_there() {
    let mut out = vec![0x01, 0x02];
    encode(&Packet::PingReq, ProtocolVersion::V311, &mut out).unwrap();
    encode(
        &Packet::PubAck(Ack::new(0x1234)),
        ProtocolVersion::V311,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [0x01, 0x02, 0xC0, 0x00, 0x40, 0x02, 0x12, 0x34]);
}

#[test]
fn encode_reserves_the_exact_size() {
    for (p, bytes) in stream().into_iter().filter(|(_, b)| b.len() >= 8) {
        let mut out = Vec::new();
        encode(&p, ProtocolVersion::V311, &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(out.capacity(), out.len(), "{p:?}");
    }
}
