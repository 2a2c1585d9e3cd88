//! Framing of the input stream: packets split anywhere, several per read, garbage.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Packet, ProtoError, QoS, SubAck};
use crate::session::SessionConfig;

/// What a broker might send in answer to: CONNECT, then a QoS 1 publish (mid 1) and a
/// SUBSCRIBE (mid 2) made while connecting.
fn server_stream() -> Vec<u8> {
    let long = vec![0xAB; 300]; // a two-byte remaining length
    [
        connack(0),
        puback(1),
        Packet::SubAck(SubAck {
            properties: Default::default(),
            pkid: 2,
            return_codes: vec![1],
        }),
        publish_pkt("in", &long, QoS::AtLeastOnce, 10, false),
        publish_pkt("in", b"q2", QoS::ExactlyOnce, 11, false),
        publish_pkt("in", b"q2", QoS::ExactlyOnce, 11, true),
        pubrel(11),
        Packet::PingResp,
        publish_pkt("in", b"", QoS::AtMostOnce, 0, false),
    ]
    .iter()
    .flat_map(encode)
    .collect()
}

fn expected_events() -> Vec<Event> {
    vec![
        Event::Connected {
            session_present: false,
            code: 0,
        },
        Event::Published { mid: 1 },
        Event::Subscribed {
            mid: 2,
            granted: vec![1],
        },
        Event::Message(publish("in", &[0xAB; 300], QoS::AtLeastOnce, 10, false)),
        Event::Message(publish("in", b"q2", QoS::ExactlyOnce, 11, false)),
        Event::Message(publish("in", b"", QoS::AtMostOnce, 0, false)),
    ]
}

fn connecting_peer() -> Peer {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    assert_eq!(p.publish("out", b"x", QoS::AtLeastOnce), 1);
    assert_eq!(
        p.s.subscribe(p.now, &[("in", QoS::AtLeastOnce)]).unwrap(),
        2
    );
    p.sent();
    p
}

fn expected_sent() -> Vec<Packet> {
    vec![
        publish_pkt("out", b"x", QoS::AtLeastOnce, 1, false),
        pubrec(11),
        pubcomp(11),
    ]
}

#[test]
fn whole_stream_in_one_read() {
    let mut p = connecting_peer();
    p.s.handle_bytes(p.now, &server_stream()).unwrap();
    assert_eq!(p.events(), expected_events());
    assert_eq!(p.sent(), expected_sent());
}

#[test]
fn split_at_every_byte_boundary() {
    let stream = server_stream();
    for cut in 0..=stream.len() {
        let mut p = connecting_peer();
        p.s.handle_bytes(p.now, &stream[..cut]).unwrap();
        p.s.handle_bytes(p.now, &stream[cut..]).unwrap();
        assert_eq!(p.events(), expected_events(), "cut at {cut}");
        assert_eq!(p.sent(), expected_sent(), "cut at {cut}");
    }
}

#[test]
fn split_in_three_around_every_byte() {
    let stream = server_stream();
    for cut in 1..stream.len() {
        let mut p = connecting_peer();
        p.s.handle_bytes(p.now, &stream[..cut - 1]).unwrap();
        p.s.handle_bytes(p.now, &stream[cut - 1..cut]).unwrap();
        p.s.handle_bytes(p.now, &stream[cut..]).unwrap();
        assert_eq!(p.events(), expected_events(), "byte {cut}");
    }
}

#[test]
fn one_byte_at_a_time() {
    let stream = server_stream();
    let mut p = connecting_peer();
    for b in &stream {
        p.s.handle_bytes(p.now, std::slice::from_ref(b)).unwrap();
    }
    p.s.handle_bytes(p.now, &[]).unwrap();
    assert_eq!(p.events(), expected_events());
    assert_eq!(p.sent(), expected_sent());
}

fn protocol_error(r: Result<(), Error>) -> ProtoError {
    match r {
        Err(Error::Protocol(e)) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn garbage_bytes_are_a_protocol_error() {
    let mut p = Peer::connected(cfg());
    let e = protocol_error(p.s.handle_bytes(p.now, &[0x00, 0x00]));
    assert_eq!(e, ProtoError::InvalidPacketType(0));
    let mut p = Peer::connected(cfg());
    let e = protocol_error(p.s.handle_bytes(p.now, &[0x30, 0xFF, 0xFF, 0xFF, 0xFF]));
    assert_eq!(e, ProtoError::MalformedRemainingLength);
    // PUBACK with a wrong length.
    let mut p = Peer::connected(cfg());
    let e = protocol_error(p.s.handle_bytes(p.now, &[0x40, 0x03, 0, 1, 0]));
    assert_eq!(e, ProtoError::TrailingBytes);
    assert_eq!(Error::Protocol(e).code(), crate::error::code::PROTOCOL);
}

#[test]
fn garbage_after_a_good_packet() {
    let mut p = Peer::connected(cfg());
    let mut bytes = encode(&publish_pkt("t", b"ok", QoS::AtMostOnce, 0, false));
    bytes.extend_from_slice(&[0xF0, 0x00]);
    let e = protocol_error(p.s.handle_bytes(p.now, &bytes));
    assert_eq!(e, ProtoError::InvalidPacketType(15));
    // The good packet before it was still handled.
    assert_eq!(
        p.events(),
        [Event::Message(publish(
            "t",
            b"ok",
            QoS::AtMostOnce,
            0,
            false
        ))]
    );
}

#[test]
fn garbage_completing_a_buffered_packet() {
    let mut p = Peer::connected(cfg());
    p.s.handle_bytes(p.now, &[0x30]).unwrap();
    let e = protocol_error(p.s.handle_bytes(p.now, &[0x80, 0x80, 0x80, 0x80]));
    assert_eq!(e, ProtoError::MalformedRemainingLength);
}

#[test]
fn oversized_packet_is_refused_from_its_header() {
    let config = SessionConfig {
        max_packet_size: 100,
        ..cfg()
    };
    let big = encode(&publish_pkt("t", &[0; 200], QoS::AtMostOnce, 0, false));
    // Directly from the caller's bytes: only the fixed header is needed.
    let mut p = Peer::connected(config.clone());
    let e = protocol_error(p.s.handle_bytes(p.now, &big[..3]));
    assert_eq!(
        e,
        ProtoError::PacketTooLarge {
            size: 206,
            max: 100
        }
    );
    // And when the header itself arrives in pieces.
    let mut p = Peer::connected(config);
    p.s.handle_bytes(p.now, &big[..2]).unwrap();
    let e = protocol_error(p.s.handle_bytes(p.now, &big[2..3]));
    assert_eq!(
        e,
        ProtoError::PacketTooLarge {
            size: 206,
            max: 100
        }
    );
    // A packet of exactly the limit is fine.
    let mut p = Peer::connected(SessionConfig {
        max_packet_size: 206,
        ..cfg()
    });
    p.s.handle_bytes(p.now, &big).unwrap();
    assert_eq!(p.events().len(), 1);
}

#[test]
fn a_new_connection_forgets_a_partial_packet() {
    let mut p = Peer::connected(cfg());
    p.s.handle_bytes(p.now, &[0x30, 0x05, 0x00]).unwrap();
    p.s.connection_closed(p.now, 7);
    p.events();
    p.s.connect(p.now);
    p.sent();
    p.s.handle_bytes(p.now, &encode(&connack(0))).unwrap();
    assert_eq!(
        p.events(),
        [Event::Connected {
            session_present: false,
            code: 0
        }]
    );
}

#[test]
fn a_big_buffered_message_does_not_stay_allocated() {
    let mut p = Peer::connected(cfg());
    let big = encode(&publish_pkt(
        "t",
        &vec![7; 1 << 20],
        QoS::AtMostOnce,
        0,
        false,
    ));
    for chunk in big.chunks(100_000) {
        p.s.handle_bytes(p.now, chunk).unwrap();
    }
    assert_eq!(p.events().len(), 1);
    assert!(p.s.inbuf.capacity() <= crate::session::output::KEEP_CAPACITY);
}
