//! Lost acknowledgements and what a new connection resends, in which order.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Packet, QoS};
use crate::session::SessionConfig;

/// Messages 2 (QoS 2, PUBREC'd), 3 (QoS 2), 5 and 6 (QoS 1) in flight when the
/// connection drops, 7 (published while disconnected) and 8 queued behind them.
fn lose_connection_mid_flight(clean_session: bool) -> Peer {
    let mut p = Peer::connected(SessionConfig {
        clean_session,
        max_inflight: 4,
        ..cfg()
    });
    let qos = [
        QoS::AtLeastOnce,
        QoS::ExactlyOnce,
        QoS::ExactlyOnce,
        QoS::AtLeastOnce,
        QoS::AtLeastOnce,
        QoS::AtLeastOnce,
    ];
    for (i, q) in qos.into_iter().enumerate() {
        assert_eq!(p.publish("t", &[i as u8 + 1], q), i as u16 + 1);
    }
    assert_eq!(publish_ids(&p.sent()), [1, 2, 3, 4].map(|m| (m, false)));
    p.feed_ok(puback(1));
    p.feed_ok(pubrec(2));
    p.feed_ok(puback(4));
    assert_eq!(
        p.sent(),
        [
            publish_pkt("t", &[5], QoS::AtLeastOnce, 5, false),
            pubrel(2),
            publish_pkt("t", &[6], QoS::AtLeastOnce, 6, false),
        ]
    );
    // A QoS 0 message half written when the connection goes: never published.
    p.publish("t", b"lost", QoS::AtMostOnce);
    p.s.consume_transmit(p.now, 3);
    p.s.connection_closed(p.now, 7);
    assert_eq!(
        p.events(),
        [
            Event::Published { mid: 1 },
            Event::Published { mid: 4 },
            Event::Disconnected { rc: 7 }
        ]
    );
    let r = p.s.publish(p.now, "t", &[8], QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((8, Error::NoConn))), "{r:?}");
    let r = p.s.publish(p.now, "t", &[9], QoS::AtLeastOnce, false);
    assert!(matches!(r, Err((9, Error::NoConn))), "{r:?}");
    p.s.config_mut().max_inflight = 5;
    p
}

#[test]
fn resume_session_resends_in_original_order_before_new_messages() {
    let mut p = lose_connection_mid_flight(false);
    p.s.connect(p.now);
    // A message published before CONNACK waits behind the resends.
    assert_eq!(p.publish("t", b"new", QoS::AtLeastOnce), 10);
    assert!(matches!(p.sent()[..], [Packet::Connect(_)]));
    p.feed_ok(connack(0));
    // MQTT-4.4.0-1: PUBLISH with DUP (MQTT-3.3.1-1) and PUBREL, in their original order,
    // then the window (5) fills with messages never sent, without DUP.
    assert_eq!(
        p.sent(),
        [
            pubrel(2),
            publish_pkt("t", &[3], QoS::ExactlyOnce, 3, true),
            publish_pkt("t", &[5], QoS::AtLeastOnce, 5, true),
            publish_pkt("t", &[6], QoS::AtLeastOnce, 6, true),
            publish_pkt("t", &[8], QoS::AtLeastOnce, 8, false),
        ]
    );
    // The flows continue where they were.
    p.feed_ok(pubcomp(2));
    assert_eq!(publish_ids(&p.sent()), [(9, false)]);
    p.feed_ok(pubrec(3));
    assert_eq!(p.sent(), [pubrel(3)]);
    for mid in [5, 6, 8] {
        p.feed_ok(puback(mid));
    }
    assert_eq!(
        p.sent(),
        [publish_pkt("t", b"new", QoS::AtLeastOnce, 10, false)]
    );
    p.feed_ok(pubcomp(3));
    p.feed_ok(puback(9));
    p.feed_ok(puback(10));
    let events = p.events();
    assert_eq!(
        events[1..],
        [2, 5, 6, 8, 3, 9, 10].map(|mid| Event::Published { mid })
    );
    assert!((1..=10).all(|mid| p.s.is_published(mid)));
}

#[test]
fn clean_session_resends_everything_as_publish_with_dup() {
    let mut p = lose_connection_mid_flight(true);
    let resent = p.connect_accepted();
    // The broker forgot the session: as paho 1.6, the PUBREC'd QoS 2 message starts
    // over as PUBLISH (DUP) too (API.md: it may be delivered twice).
    assert_eq!(
        resent,
        [
            publish_pkt("t", &[2], QoS::ExactlyOnce, 2, true),
            publish_pkt("t", &[3], QoS::ExactlyOnce, 3, true),
            publish_pkt("t", &[5], QoS::AtLeastOnce, 5, true),
            publish_pkt("t", &[6], QoS::AtLeastOnce, 6, true),
            publish_pkt("t", &[8], QoS::AtLeastOnce, 8, false),
        ]
    );
    p.feed_ok(pubrec(2));
    assert_eq!(p.sent(), [pubrel(2)]);
    p.feed_ok(pubcomp(2));
    assert_eq!(p.events(), [Event::Published { mid: 2 }]);
    assert_eq!(publish_ids(&p.sent()), [(9, false)]);
}

#[test]
fn each_reconnect_resends_again() {
    let mut p = Peer::connected(SessionConfig {
        clean_session: false,
        ..cfg()
    });
    p.publish("t", b"x", QoS::AtLeastOnce);
    p.sent();
    for _ in 0..3 {
        p.s.connection_closed(p.now, 7);
        p.events();
        assert_eq!(
            p.connect_accepted(),
            [publish_pkt("t", b"x", QoS::AtLeastOnce, 1, true)]
        );
    }
    p.feed_ok(puback(1));
    assert_eq!(p.events(), [Event::Published { mid: 1 }]);
    p.s.connection_closed(p.now, 7);
    p.events();
    assert_eq!(p.connect_accepted(), []);
}

#[test]
fn connect_discards_unsent_bytes_but_keeps_messages() {
    let mut p = Peer::connected(cfg());
    p.publish("t", b"x", QoS::AtLeastOnce);
    // Never written: the transport is replaced without connection_closed.
    p.s.connect(p.now);
    assert!(matches!(p.sent()[..], [Packet::Connect(_)]));
    p.feed_ok(connack(0));
    // It had been handed to the old connection, so it counts as sent: DUP.
    assert_eq!(
        p.sent(),
        [publish_pkt("t", b"x", QoS::AtLeastOnce, 1, true)]
    );
}
