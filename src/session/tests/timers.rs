//! Keepalive (PINGREQ / PINGRESP) and message retry, on the virtual clock.

use super::harness::*;
use crate::error::Error;
use crate::proto::{Packet, QoS};
use crate::session::SessionConfig;
use std::time::Duration;

fn keepalive(secs: u16) -> SessionConfig {
    SessionConfig {
        keep_alive: secs,
        ..cfg()
    }
}

#[test]
fn pingreq_after_keepalive_without_sending() {
    let mut p = Peer::connected(keepalive(10));
    assert_eq!(p.s.next_timeout(), Some(p.at(10)));
    // The broker keeps talking; the client says nothing.
    for t in [3, 6, 9] {
        p.now = p.at(t);
        p.feed_ok(publish_pkt("t", b"", QoS::AtMostOnce, 0, false));
        p.tick().unwrap();
        assert!(!p.s.wants_write(), "at {t}s");
    }
    assert_eq!(p.s.next_timeout(), Some(p.at(10)));
    p.now = p.at(10);
    p.tick().unwrap();
    assert_eq!(p.sent_bytes(), [0xC0, 0x00]);
    // Waiting for PINGRESP: the deadline is its timeout.
    assert_eq!(p.s.next_timeout(), Some(p.at(20)));
    p.now = p.at(11);
    p.feed_ok(Packet::PingResp);
    // Last write at 10, last read at 11: the next PINGREQ is due at 20.
    assert_eq!(p.s.next_timeout(), Some(p.at(20)));
    p.now = p.at(20);
    p.tick().unwrap();
    assert_eq!(p.sent(), [Packet::PingReq]);
}

#[test]
fn pingreq_after_keepalive_without_receiving_while_publishing() {
    let mut p = Peer::connected(keepalive(10));
    for t in 1..10 {
        p.now = p.at(t);
        p.publish("t", b"x", QoS::AtMostOnce);
        p.sent();
        p.tick().unwrap();
        assert!(!p.s.wants_write(), "at {t}s");
    }
    // Nothing was read since the CONNACK at 0, so a dead broker is noticed anyway.
    assert_eq!(p.s.next_timeout(), Some(p.at(10)));
    p.now = p.at(10);
    p.tick().unwrap();
    assert_eq!(p.sent(), [Packet::PingReq]);
}

#[test]
fn missing_pingresp_is_a_keepalive_error() {
    let mut p = Peer::connected(keepalive(10));
    p.now = p.at(10);
    p.tick().unwrap();
    assert_eq!(p.sent(), [Packet::PingReq]);
    // Only one PINGREQ outstanding, however long the wait.
    p.now = p.at(15);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
    p.now = p.at(20) - Duration::from_millis(1);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
    p.now = p.at(20);
    let err = p.tick().unwrap_err();
    assert!(matches!(err, Error::Keepalive), "{err:?}");
    assert_eq!(err.code(), crate::error::code::KEEPALIVE);
    p.s.connection_closed(p.now, err.code());
    assert_eq!(p.events(), [Event::Disconnected { rc: 16 }]);
}

#[test]
fn other_traffic_does_not_answer_a_pingreq() {
    let mut p = Peer::connected(keepalive(10));
    p.now = p.at(10);
    p.tick().unwrap();
    p.sent();
    p.now = p.at(15);
    p.feed_ok(publish_pkt("t", b"", QoS::AtMostOnce, 0, false));
    p.now = p.at(20);
    assert!(matches!(p.tick(), Err(Error::Keepalive)));
}

#[test]
fn no_ping_with_keepalive_zero() {
    let mut p = Peer::connected(keepalive(0));
    assert_eq!(p.s.next_timeout(), None);
    p.advance_secs(100_000);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
    assert_eq!(p.s.next_timeout(), None);
}

#[test]
fn no_timers_while_disconnected() {
    let mut p = Peer::connected(keepalive(10));
    p.s.connection_closed(p.now, 7);
    assert_eq!(p.s.next_timeout(), None);
    p.advance_secs(100);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
}

fn retry(secs: u32) -> SessionConfig {
    SessionConfig {
        keep_alive: 0,
        retry_interval: secs,
        ..cfg()
    }
}

#[test]
fn retry_interval_resends_with_dup() {
    let mut p = Peer::connected(retry(5));
    assert_eq!(p.s.next_timeout(), None);
    let q1 = p.publish("a", b"1", QoS::AtLeastOnce);
    p.advance_secs(2);
    let q2 = p.publish("b", b"2", QoS::ExactlyOnce);
    p.sent();
    assert_eq!(p.s.next_timeout(), Some(p.at(5)));
    p.now = p.at(5) - Duration::from_millis(1);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
    p.now = p.at(5);
    p.tick().unwrap();
    assert_eq!(
        p.sent(),
        [publish_pkt("a", b"1", QoS::AtLeastOnce, q1, true)]
    );
    assert_eq!(p.s.next_timeout(), Some(p.at(7)));
    p.now = p.at(7);
    p.tick().unwrap();
    assert_eq!(
        p.sent(),
        [publish_pkt("b", b"2", QoS::ExactlyOnce, q2, true)]
    );
    // PUBREC at 8: now PUBREL is what waits, and is what gets resent.
    p.now = p.at(8);
    p.feed_ok(pubrec(q2));
    assert_eq!(p.sent(), [pubrel(q2)]);
    p.feed_ok(puback(q1));
    assert_eq!(p.s.next_timeout(), Some(p.at(13)));
    p.now = p.at(13);
    p.tick().unwrap();
    assert_eq!(p.sent(), [pubrel(q2)]);
    p.feed_ok(pubcomp(q2));
    assert_eq!(p.s.next_timeout(), None);
}

#[test]
fn retry_and_keepalive_share_next_timeout() {
    let mut p = Peer::connected(SessionConfig {
        keep_alive: 4,
        ..retry(6)
    });
    p.publish("a", b"1", QoS::AtLeastOnce);
    p.sent();
    assert_eq!(p.s.next_timeout(), Some(p.at(4)));
    p.now = p.at(4);
    p.tick().unwrap();
    assert_eq!(p.sent(), [Packet::PingReq]);
    p.feed_ok(Packet::PingResp);
    assert_eq!(p.s.next_timeout(), Some(p.at(6)));
}

#[test]
fn no_resend_within_a_connection_with_retry_zero() {
    let mut p = Peer::connected(retry(0));
    p.publish("a", b"1", QoS::AtLeastOnce);
    p.sent();
    assert_eq!(p.s.next_timeout(), None);
    p.advance_secs(10_000);
    p.tick().unwrap();
    assert!(!p.s.wants_write());
}

#[test]
fn retry_interval_can_change_while_connected() {
    let mut p = Peer::connected(retry(0));
    p.publish("a", b"1", QoS::AtLeastOnce);
    p.sent();
    p.s.config_mut().retry_interval = 3;
    assert_eq!(p.s.next_timeout(), Some(p.at(3)));
    p.now = p.at(3);
    p.tick().unwrap();
    assert_eq!(publish_ids(&p.sent()), [(1, true)]);
}
