//! SUBSCRIBE / UNSUBSCRIBE flows and their validation.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Packet, QoS, SubAck, Subscribe, UnsubAck, Unsubscribe};

#[test]
fn subscribe_flow() {
    let mut p = Peer::connected(cfg());
    let mid =
        p.s.subscribe(
            p.now,
            &[("a/+", QoS::AtLeastOnce), ("b/#", QoS::ExactlyOnce)],
        )
        .unwrap();
    assert_eq!(mid, 1);
    // SUBSCRIBE has the reserved flags 0010 (MQTT-3.8.1-1).
    assert_eq!(
        p.sent_bytes(),
        [0x82, 14, 0, 1, 0, 3, b'a', b'/', b'+', 1, 0, 3, b'b', b'/', b'#', 2]
    );
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: mid,
        return_codes: vec![1, 0x80],
    }));
    assert_eq!(
        p.events(),
        [Event::Subscribed {
            mid,
            granted: vec![1, 0x80]
        }]
    );
    // A duplicate SUBACK is ignored.
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: mid,
        return_codes: vec![1, 0x80],
    }));
    assert_eq!(p.events(), []);
}

#[test]
fn unsubscribe_flow() {
    let mut p = Peer::connected(cfg());
    let mid = p.s.unsubscribe(p.now, &["a/+", "b"]).unwrap();
    assert_eq!(
        p.sent(),
        [Packet::Unsubscribe(Unsubscribe {
            properties: Default::default(),
            pkid: mid,
            filters: vec!["a/+".into(), "b".into()],
        })]
    );
    assert_eq!(p.sent_bytes(), []);
    p.feed_ok(Packet::UnsubAck(UnsubAck::new(mid)));
    assert_eq!(p.events(), [Event::Unsubscribed { mid }]);
}

#[test]
fn unknown_and_mismatched_acks_are_ignored() {
    let mut p = Peer::connected(cfg());
    let sub = p.s.subscribe(p.now, &[("a", QoS::AtMostOnce)]).unwrap();
    let unsub = p.s.unsubscribe(p.now, &["a"]).unwrap();
    p.sent();
    p.feed_ok(Packet::UnsubAck(UnsubAck::new(sub)));
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: unsub,
        return_codes: vec![0],
    }));
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: 99,
        return_codes: vec![0],
    }));
    p.feed_ok(Packet::UnsubAck(UnsubAck::new(99)));
    assert_eq!(p.events(), []);
    p.feed_ok(Packet::UnsubAck(UnsubAck::new(unsub)));
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: sub,
        return_codes: vec![0],
    }));
    assert_eq!(
        p.events(),
        [
            Event::Unsubscribed { mid: unsub },
            Event::Subscribed {
                mid: sub,
                granted: vec![0]
            }
        ]
    );
}

#[test]
fn validation() {
    let mut p = Peer::connected(cfg());
    for filters in [
        &[][..],
        &[("a/#/b", QoS::AtMostOnce)],
        &[("ok", QoS::AtMostOnce), ("a+", QoS::AtMostOnce)],
        &[("", QoS::AtMostOnce)],
    ] {
        assert!(
            matches!(p.s.subscribe(p.now, filters), Err(Error::Inval)),
            "{filters:?}"
        );
    }
    for filters in [&[][..], &["a#"], &["ok", ""]] {
        assert!(
            matches!(p.s.unsubscribe(p.now, filters), Err(Error::Inval)),
            "{filters:?}"
        );
    }
    assert!(!p.s.wants_write());
    // No id was used by the refusals.
    assert_eq!(p.s.subscribe(p.now, &[("#", QoS::AtMostOnce)]).unwrap(), 1);
}

#[test]
fn subscribe_without_connection_is_no_conn() {
    let mut p = Peer::new(cfg());
    assert!(matches!(
        p.s.subscribe(p.now, &[("a", QoS::AtMostOnce)]),
        Err(Error::NoConn)
    ));
    assert!(matches!(p.s.unsubscribe(p.now, &["a"]), Err(Error::NoConn)));
    // Invalid arguments are reported first, as paho validates before looking at the
    // connection.
    assert!(matches!(p.s.subscribe(p.now, &[]), Err(Error::Inval)));
}

#[test]
fn subscribe_while_connecting_goes_after_connect() {
    let mut p = Peer::new(cfg());
    p.s.connect(p.now);
    let mid = p.s.subscribe(p.now, &[("a", QoS::AtLeastOnce)]).unwrap();
    let sent = p.sent();
    assert!(matches!(sent[0], Packet::Connect(_)));
    assert_eq!(
        sent[1..],
        [Packet::Subscribe(Subscribe {
            properties: Default::default(),
            pkid: mid,
            filters: vec![("a".into(), QoS::AtLeastOnce.into())],
        })]
    );
    p.feed_ok(connack(0));
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: mid,
        return_codes: vec![1],
    }));
    assert_eq!(
        p.events()[1..],
        [Event::Subscribed {
            mid,
            granted: vec![1]
        }]
    );
}

#[test]
fn pending_requests_are_dropped_with_the_connection() {
    let mut p = Peer::connected(cfg());
    let sub = p.s.subscribe(p.now, &[("a", QoS::AtMostOnce)]).unwrap();
    let unsub = p.s.unsubscribe(p.now, &["a"]).unwrap();
    p.sent();
    p.s.connection_closed(p.now, 7);
    p.events();
    // Not resent (paho does not), and their late acks mean nothing.
    assert_eq!(p.connect_accepted(), []);
    p.feed_ok(Packet::SubAck(SubAck {
        properties: Default::default(),
        pkid: sub,
        return_codes: vec![0],
    }));
    p.feed_ok(Packet::UnsubAck(UnsubAck::new(unsub)));
    assert_eq!(p.events(), []);
}
