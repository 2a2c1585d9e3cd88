//! The in-flight window, `max_queued`, and messages published without a connection.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Packet, QoS};
use crate::session::{SessionConfig, State};

#[test]
fn inflight_window_queues_in_order_and_releases_one_per_ack() {
    let mut p = Peer::connected(SessionConfig {
        max_inflight: 2,
        ..cfg()
    });
    let mids: Vec<u16> = (0..5)
        .map(|i| p.publish("t", &[i], QoS::AtLeastOnce))
        .collect();
    assert_eq!(mids, [1, 2, 3, 4, 5]);
    assert_eq!(publish_ids(&p.sent()), [(1, false), (2, false)]);
    // QoS 0 is not held back by the window.
    let q0 = p.publish("t", b"q0", QoS::AtMostOnce);
    assert_eq!(
        p.sent(),
        [publish_pkt("t", b"q0", QoS::AtMostOnce, 0, false)]
    );
    assert_eq!(p.events(), [Event::Published { mid: q0 }]);
    // Acks out of order still release the queue oldest first, one per ack.
    p.feed_ok(puback(2));
    assert_eq!(
        p.sent(),
        [publish_pkt("t", &[2], QoS::AtLeastOnce, 3, false)]
    );
    p.feed_ok(puback(1));
    assert_eq!(
        p.sent(),
        [publish_pkt("t", &[3], QoS::AtLeastOnce, 4, false)]
    );
    // A QoS 2 message holds its slot until PUBCOMP.
    let q2 = p.publish("t", b"2", QoS::ExactlyOnce);
    assert!(!p.s.wants_write());
    p.feed_ok(puback(3));
    assert_eq!(publish_ids(&p.sent()), [(5, false)]);
    p.feed_ok(puback(4));
    assert_eq!(publish_ids(&p.sent()), [(q2, false)]);
    p.feed_ok(pubrec(q2));
    assert_eq!(p.sent(), [pubrel(q2)]);
    assert!(!p.s.wants_write());
    p.feed_ok(puback(5));
    p.feed_ok(pubcomp(q2));
    assert_eq!(
        p.events(),
        [2, 1, 3, 4, 5, q2].map(|mid| Event::Published { mid })
    );
}

#[test]
fn unlimited_inflight_with_zero() {
    let mut p = Peer::connected(SessionConfig {
        max_inflight: 0,
        ..cfg()
    });
    for _ in 0..100 {
        p.publish("t", b"", QoS::AtLeastOnce);
    }
    assert_eq!(p.sent().len(), 100);
}

#[test]
fn raising_max_inflight_releases_queued_messages() {
    let mut p = Peer::connected(SessionConfig {
        max_inflight: 1,
        ..cfg()
    });
    p.publish("t", b"", QoS::AtLeastOnce);
    p.publish("t", b"", QoS::AtLeastOnce);
    p.publish("t", b"", QoS::AtLeastOnce);
    assert_eq!(publish_ids(&p.sent()), [(1, false)]);
    p.s.config_mut().max_inflight = 3;
    p.tick().unwrap();
    assert_eq!(publish_ids(&p.sent()), [(2, false), (3, false)]);
}

#[test]
fn max_queued_refuses_with_queue_size() {
    let mut p = Peer::connected(SessionConfig {
        max_inflight: 1,
        max_queued: 2,
        ..cfg()
    });
    assert_eq!(p.publish("t", b"a", QoS::AtLeastOnce), 1);
    assert_eq!(p.publish("t", b"b", QoS::ExactlyOnce), 2);
    // In flight (1) plus queued (1) reach the limit: dropped, but the mid is used.
    let r = p.s.publish(p.now, "t", b"c", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((3, Error::QueueSize))), "{r:?}");
    assert_eq!(Error::QueueSize.code(), 15);
    // QoS 0 is not limited.
    assert_eq!(p.publish("t", b"d", QoS::AtMostOnce), 4);
    assert_eq!(
        publish_ids(&p.sent()),
        [(1, false), (0, false)],
        "only message 1 and the QoS 0 one go out"
    );
    p.feed_ok(puback(1));
    assert_eq!(publish_ids(&p.sent()), [(2, false)]);
    assert_eq!(p.publish("t", b"e", QoS::AtLeastOnce), 5);
    // The dropped message never appears.
    p.feed_ok(pubrec(2));
    p.feed_ok(pubcomp(2));
    assert_eq!(
        p.sent(),
        [
            pubrel(2),
            publish_pkt("t", b"e", QoS::AtLeastOnce, 5, false)
        ]
    );
    assert!(!p.s.is_published(5));
}

#[test]
fn publish_while_disconnected() {
    let mut p = Peer::new(cfg());
    let r = p.s.publish(p.now, "t", b"zero", QoS::AtMostOnce, false);
    assert!(matches!(r, Err((1, Error::NoConn))), "{r:?}");
    let r = p.s.publish(p.now, "t", b"one", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((2, Error::NoConn))), "{r:?}");
    assert!(!p.s.wants_write());
    assert!(!p.s.is_published(2));
    // The QoS 1 message goes out after CONNACK, not with CONNECT; QoS 0 is gone.
    p.s.connect(p.now);
    assert!(matches!(p.sent()[..], [Packet::Connect(_)]));
    p.feed_ok(connack(0));
    assert_eq!(
        p.sent(),
        [publish_pkt("t", b"one", QoS::AtLeastOnce, 2, false)]
    );
    p.feed_ok(puback(2));
    assert_eq!(
        p.events(),
        [
            Event::Connected {
                session_present: false,
                code: 0
            },
            Event::Published { mid: 2 }
        ]
    );
}

#[test]
fn publish_while_connecting() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    // Allowed right after CONNECT (MQTT-3.1.4): QoS 0 goes straight behind it, QoS>0
    // waits for CONNACK.
    assert_eq!(p.publish("t", b"0", QoS::AtMostOnce), 1);
    assert_eq!(p.publish("t", b"1", QoS::AtLeastOnce), 2);
    let sent = p.sent();
    assert!(matches!(sent[0], Packet::Connect(_)));
    assert_eq!(
        sent[1..],
        [publish_pkt("t", b"0", QoS::AtMostOnce, 0, false)]
    );
    p.feed_ok(connack(0));
    assert_eq!(p.s.state(), State::Connected);
    assert_eq!(
        p.sent(),
        [publish_pkt("t", b"1", QoS::AtLeastOnce, 2, false)]
    );
}

#[test]
fn all_ids_in_use_is_queue_size() {
    let mut p = Peer::new(SessionConfig {
        max_queued: 0,
        ..cfg()
    });
    for mid in 1..=u16::MAX {
        let r = p.s.publish(p.now, "t", b"", QoS::AtLeastOnce, false);
        assert!(matches!(r, Err((m, Error::NoConn)) if m == mid), "{r:?}");
    }
    let r = p.s.publish(p.now, "t", b"", QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((0, Error::QueueSize))), "{r:?}");
}

/// A broker that stops reading: past `max_output` unwritten bytes QoS 0 is refused with
/// `QueueSize` and QoS>0 stays in the queue; both resume as the buffer drains.
#[test]
fn output_buffer_is_bounded() {
    let mut p = Peer::connected(SessionConfig {
        max_output: 1000,
        max_inflight: 0,
        ..cfg()
    });
    // One write of everything waiting; what it lets in stays in the buffer.
    fn write_once(p: &mut Peer) -> Vec<Packet> {
        let bytes = p.s.transmit_buf().to_vec();
        p.s.consume_transmit(p.now, bytes.len());
        decode_all(&bytes)
    }
    let payload = [7u8; 300];
    // An empty buffer takes one packet of any size.
    let big = p.publish("t", &[1u8; 5000], QoS::AtMostOnce);
    assert!(p.s.transmit_buf().len() > 5000);
    let r = p.s.publish(p.now, "t", &payload, QoS::AtMostOnce, false);
    assert!(matches!(r, Err((2, Error::QueueSize))), "{r:?}");
    // QoS 1 is accepted but not encoded: it waits behind the full buffer.
    let before = p.s.transmit_buf().len();
    let q1: Vec<u16> = (0..5)
        .map(|_| p.publish("t", &payload, QoS::AtLeastOnce))
        .collect();
    assert_eq!(p.s.transmit_buf().len(), before);
    // Written out: the held messages follow, as far as the bound allows (308-byte
    // packets: three fit within 1000 bytes, the fourth would pass it).
    let sent = write_once(&mut p);
    assert!(matches!(&sent[..], [Packet::Publish(m)] if m.pkid == 0 && m.payload.len() == 5000));
    assert_eq!(p.events(), [Event::Published { mid: big }]);
    assert_eq!(p.s.transmit_buf().len(), 3 * 308);
    let r = p.s.publish(p.now, "t", &payload, QoS::AtMostOnce, false);
    assert!(matches!(r, Err((_, Error::QueueSize))), "{r:?}");
    // Draining lets the rest out, in order.
    let mut ids = publish_ids(&write_once(&mut p));
    assert_eq!(p.s.transmit_buf().len(), 2 * 308);
    ids.extend(publish_ids(&p.sent()));
    assert_eq!(ids, q1.iter().map(|&m| (m, false)).collect::<Vec<_>>());
    // With room again, QoS 0 is accepted.
    p.publish("t", &payload, QoS::AtMostOnce);
    assert_eq!(p.s.state(), State::Connected);
}

#[test]
fn one_message_never_acknowledged_while_thousands_complete() {
    // The oldest message stays unacknowledged while 5,000 behind it flow through a
    // window of 10: the store keeps its size (the invariant check after each step
    // bounds it), the queue keeps its order, and a new connection resends the old one
    // first.
    let mut p = Peer::connected(SessionConfig {
        max_inflight: 10,
        ..cfg()
    });
    let stuck = p.publish("t", b"stuck", QoS::AtLeastOnce);
    let mids: Vec<u16> = (0..5000u16)
        .map(|i| p.publish("t", &i.to_be_bytes(), QoS::AtLeastOnce))
        .collect();
    let mut sent = publish_ids(&p.sent());
    let mut next = 0;
    while next < mids.len() {
        assert!(!sent.is_empty(), "nothing sent after {next} acks");
        let mut acked = Vec::new();
        for (mid, dup) in std::mem::take(&mut sent) {
            assert!(!dup);
            if mid == stuck {
                continue;
            }
            assert_eq!(mid, mids[next], "out of order");
            next += 1;
            p.feed_ok(puback(mid));
            acked.push(Event::Published { mid });
        }
        assert_eq!(p.events(), acked);
        sent = publish_ids(&p.sent());
    }
    assert!(!p.s.is_published(stuck));
    assert!(mids.iter().all(|&m| p.s.is_published(m)));
    p.s.connection_closed(p.now, 7);
    p.events();
    assert_eq!(
        p.connect_accepted(),
        [publish_pkt("t", b"stuck", QoS::AtLeastOnce, stuck, true)]
    );
    p.feed_ok(puback(stuck));
    assert_eq!(p.events(), [Event::Published { mid: stuck }]);
}
