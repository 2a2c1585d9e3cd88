//! Outgoing PUBLISH flows: QoS 0, 1 and 2, validation, and odd acknowledgements.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Disconnect, Packet, QoS, MAX_REMAINING_LENGTH};

#[test]
fn qos0_bytes_and_published_once_fully_written() {
    let mut p = Peer::connected(cfg());
    let mid = p.publish("a/b", b"hi", QoS::AtMostOnce);
    assert_eq!(mid, 1);
    let expected = [0x30, 7, 0, 3, b'a', b'/', b'b', b'h', b'i'];
    assert_eq!(p.s.transmit_buf(), expected);
    assert!(!p.s.is_published(mid));
    // Written in two pieces: published only with its last byte.
    p.s.consume_transmit(p.now, 8);
    assert_eq!(p.events(), []);
    assert!(!p.s.is_published(mid));
    assert_eq!(p.s.transmit_buf(), [b'i']);
    p.s.consume_transmit(p.now, 1);
    assert_eq!(p.events(), [Event::Published { mid: 1 }]);
    assert!(p.s.is_published(mid));
}

#[test]
fn qos0_messages_in_one_write_publish_in_order() {
    let mut p = Peer::connected(cfg());
    let mids: Vec<u16> = (0..3)
        .map(|_| p.publish("t", b"x", QoS::AtMostOnce))
        .collect();
    assert_eq!(mids, [1, 2, 3]);
    // Retain flag set on the wire.
    p.s.publish(p.now, "t", b"", QoS::AtMostOnce, true).unwrap();
    let sent = p.sent();
    assert_eq!(sent.len(), 4);
    assert!(matches!(&sent[3], Packet::Publish(m) if m.retain && m.payload.is_empty()));
    assert_eq!(
        p.events(),
        (1..=4)
            .map(|mid| Event::Published { mid })
            .collect::<Vec<_>>()
    );
}

#[test]
fn qos0_unwritten_at_disconnect_is_never_published() {
    let mut p = Peer::connected(cfg());
    p.publish("t", b"x", QoS::AtMostOnce);
    p.s.consume_transmit(p.now, 2);
    p.s.connection_closed(p.now, 7);
    assert_eq!(p.events(), [Event::Disconnected { rc: 7 }]);
    assert!(!p.s.wants_write());
}

#[test]
fn qos1_flow() {
    let mut p = Peer::connected(cfg());
    let mid = p.publish("a", b"1", QoS::AtLeastOnce);
    assert_eq!(mid, 1);
    // PUBLISH QoS 1: flags 0x32, topic "a", packet id 1, payload "1".
    assert_eq!(p.sent_bytes(), [0x32, 6, 0, 1, b'a', 0, 1, b'1']);
    assert!(!p.s.is_published(mid));
    assert_eq!(p.events(), []);
    p.feed_ok(puback(1));
    assert_eq!(p.events(), [Event::Published { mid: 1 }]);
    assert!(p.s.is_published(mid));
    assert!(!p.s.wants_write());
}

#[test]
fn qos2_flow() {
    let mut p = Peer::connected(cfg());
    let mid = p.publish("a", b"2", QoS::ExactlyOnce);
    assert_eq!(p.sent_bytes(), [0x34, 6, 0, 1, b'a', 0, 1, b'2']);
    p.feed_ok(pubrec(mid));
    // PUBREL has the reserved flags 0010 (MQTT-3.6.1-1).
    assert_eq!(p.sent_bytes(), [0x62, 2, 0, 1]);
    assert_eq!(p.events(), []);
    assert!(!p.s.is_published(mid));
    p.feed_ok(pubcomp(mid));
    assert_eq!(p.events(), [Event::Published { mid }]);
    assert!(p.s.is_published(mid));
    assert!(!p.s.wants_write());
}

#[test]
fn qos2_answered_with_puback_completes() {
    // RabbitMQ's MQTT plugin grants at most QoS 1 and answers a QoS 2 PUBLISH with
    // PUBACK: the flow completes there, as in paho, with no PUBREL.
    let mut p = Peer::connected(cfg());
    let q2 = p.publish("a", b"2", QoS::ExactlyOnce);
    let next = p.publish("b", b"1", QoS::AtLeastOnce);
    p.sent();
    p.feed_ok(puback(q2));
    assert_eq!(
        p.events(),
        [Event::Downgraded { mid: q2 }, Event::Published { mid: q2 }]
    );
    assert!(p.s.is_published(q2));
    assert!(!p.s.wants_write());
    // Nothing of it is left: a late PUBREC or PUBCOMP for the id is ignored, and the
    // QoS 1 message behind it completes as usual.
    p.feed_ok(pubrec(q2));
    p.feed_ok(pubcomp(q2));
    assert!(!p.s.wants_write());
    p.feed_ok(puback(next));
    assert_eq!(p.events(), [Event::Published { mid: next }]);
}

#[test]
fn every_publish_consumes_a_mid() {
    let mut p = Peer::connected(cfg());
    assert_eq!(p.publish("t", b"", QoS::AtMostOnce), 1);
    assert_eq!(p.publish("t", b"", QoS::AtLeastOnce), 2);
    assert_eq!(p.s.subscribe(p.now, &[("t", QoS::AtMostOnce)]).unwrap(), 3);
    assert_eq!(p.s.unsubscribe(p.now, &["t"]).unwrap(), 4);
    assert_eq!(p.publish("t", b"", QoS::ExactlyOnce), 5);
}

#[test]
fn invalid_topic_is_inval_without_a_mid() {
    let mut p = Peer::connected(cfg());
    for topic in ["", "a/+", "a/#", "a\0b"] {
        let r = p.s.publish(p.now, topic, b"x", QoS::AtLeastOnce, false);
        assert!(matches!(r, Err((0, Error::Inval))), "{topic:?}: {r:?}");
    }
    let long = "t".repeat(65_536);
    let r = p.s.publish(p.now, &long, b"x", QoS::AtMostOnce, false);
    assert!(matches!(r, Err((0, Error::Inval))), "{r:?}");
    assert!(!p.s.wants_write());
    // No id was consumed.
    assert_eq!(p.publish("ok", b"", QoS::AtMostOnce), 1);
}

#[test]
fn payload_size_limit() {
    // Remaining length = 2 + topic + 2 (packet id, QoS>0 only) + payload (MQTT-2.2.3).
    // Zeroed memory from the allocator is never touched here, so it costs nothing.
    let big = vec![0u8; MAX_REMAINING_LENGTH];
    let mut p = Peer::new(cfg());
    // Disconnected, so a payload that passes the check is not copied: it gets a mid and
    // NoConn instead of PayloadSize with mid 0.
    let qos1_over = &big[..MAX_REMAINING_LENGTH - 4];
    let r = p.s.publish(p.now, "t", qos1_over, QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((0, Error::PayloadSize))), "{r:?}");
    let qos0_over = &big[..MAX_REMAINING_LENGTH - 2];
    let r = p.s.publish(p.now, "t", qos0_over, QoS::AtMostOnce, false);
    assert!(matches!(r, Err((0, Error::PayloadSize))), "{r:?}");
    let qos0_fits = &big[..MAX_REMAINING_LENGTH - 3];
    let r = p.s.publish(p.now, "t", qos0_fits, QoS::AtMostOnce, false);
    assert!(matches!(r, Err((1, Error::NoConn))), "{r:?}");
}

#[test]
fn unknown_duplicate_and_wrong_kind_acks_are_ignored() {
    let mut p = Peer::connected(cfg());
    let q1 = p.publish("a", b"", QoS::AtLeastOnce);
    let q2 = p.publish("b", b"", QoS::ExactlyOnce);
    p.sent();
    // Unknown ids.
    p.feed_ok(puback(77));
    p.feed_ok(pubrec(77));
    p.feed_ok(pubcomp(77));
    // Wrong kind for the state: PUBREC/PUBCOMP for QoS 1, PUBCOMP for QoS 2 before
    // PUBREC (PUBACK then is a downgrade: see `qos2_answered_with_puback_completes`).
    p.feed_ok(pubrec(q1));
    p.feed_ok(pubcomp(q1));
    p.feed_ok(pubcomp(q2));
    assert_eq!(p.events(), []);
    assert!(!p.s.wants_write());
    // The real flows still complete, each exactly once.
    p.feed_ok(puback(q1));
    p.feed_ok(puback(q1));
    p.feed_ok(pubrec(q2));
    assert_eq!(p.sent(), [pubrel(q2)]);
    // A duplicate PUBREC while waiting for PUBCOMP sends nothing more, and a PUBACK
    // then is ignored too.
    p.feed_ok(pubrec(q2));
    p.feed_ok(puback(q2));
    assert!(!p.s.wants_write());
    p.feed_ok(pubcomp(q2));
    p.feed_ok(pubcomp(q2));
    assert_eq!(
        p.events(),
        [Event::Published { mid: q1 }, Event::Published { mid: q2 }]
    );
}

#[test]
fn out_of_order_acks() {
    let mut p = Peer::connected(cfg());
    let mids: Vec<u16> = (0..4)
        .map(|i| p.publish("t", &[i], QoS::AtLeastOnce))
        .collect();
    let q2 = p.publish("t", b"two", QoS::ExactlyOnce);
    assert_eq!(publish_ids(&p.sent()), [1, 2, 3, 4, 5].map(|m| (m, false)));
    p.feed_ok(pubrec(q2));
    assert_eq!(p.sent(), [pubrel(q2)]);
    for mid in [mids[2], mids[0], q2, mids[3], mids[1]] {
        if mid == q2 {
            p.feed_ok(pubcomp(mid));
        } else {
            p.feed_ok(puback(mid));
        }
    }
    assert_eq!(
        p.events(),
        [3, 1, 5, 4, 2].map(|mid| Event::Published { mid })
    );
    assert!((1..=5).all(|m| p.s.is_published(m)));
    assert!(!p.s.is_published(6));
}

#[test]
fn pubrec_while_disconnecting_sends_pubrel_on_the_next_connection() {
    let mut p = Peer::connected(SessionConfig {
        clean_session: false,
        ..cfg()
    });
    let mid = p.publish("t", b"x", QoS::ExactlyOnce);
    p.sent();
    p.s.disconnect(p.now).unwrap();
    p.feed_ok(pubrec(mid));
    assert_eq!(p.sent(), [Packet::Disconnect(Disconnect::normal())]);
    p.s.connection_closed(p.now, 0);
    p.events();
    assert_eq!(p.connect_accepted(), [pubrel(mid)]);
}

use crate::session::SessionConfig;

#[test]
fn qos0_published_exactly_when_written_across_compactions() {
    // Enough data, written in odd chunks, for the output buffer to compact while
    // unwritten bytes remain.
    let mut p = Peer::connected(cfg());
    let mut expected = Vec::new();
    let mut ends = Vec::new();
    for i in 0..300u16 {
        let payload = vec![i as u8; 1000 + usize::from(i)];
        let mid = p.publish("bulk", &payload, QoS::AtMostOnce);
        expected.extend(encode(&publish_pkt(
            "bulk",
            &payload,
            QoS::AtMostOnce,
            0,
            false,
        )));
        ends.push((expected.len(), mid));
    }
    let mut written = Vec::new();
    let mut published = Vec::new();
    while p.s.wants_write() {
        let chunk = p.s.transmit_buf().len().min(7_777);
        written.extend_from_slice(&p.s.transmit_buf()[..chunk]);
        p.s.consume_transmit(p.now, chunk);
        for e in p.events() {
            let Event::Published { mid } = e else {
                panic!("{e:?}")
            };
            published.push((written.len(), mid));
        }
        // Between chunks, more is queued behind: markers must still line up.
        if written.len() < 30_000 {
            let mid = p.publish("late", b"x", QoS::AtMostOnce);
            expected.extend(encode(&publish_pkt(
                "late",
                b"x",
                QoS::AtMostOnce,
                0,
                false,
            )));
            ends.push((expected.len(), mid));
            ends.sort();
        }
    }
    assert_eq!(written, expected);
    // Each message is reported by the first write that completed it.
    let mut report_points = ends.clone();
    for (end, _) in report_points.iter_mut() {
        *end = end.div_ceil(7_777) * 7_777;
        *end = (*end).min(written.len());
    }
    let got: Vec<u16> = published.iter().map(|&(_, m)| m).collect();
    let want: Vec<u16> = ends.iter().map(|&(_, m)| m).collect();
    assert_eq!(got, want);
    assert_eq!(published, report_points);
}
