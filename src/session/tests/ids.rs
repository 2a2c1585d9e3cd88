//! Packet id allocation across the 65535 wrap (MQTT-2.3.1-2: ids in use are skipped).

use super::harness::*;
use crate::proto::{Packet, QoS};

#[test]
fn wrap_skips_ids_in_use_by_any_flow() {
    let mut p = Peer::connected(cfg());
    assert_eq!(p.publish("t", b"", QoS::AtLeastOnce), 1);
    assert_eq!(p.publish("t", b"", QoS::AtLeastOnce), 2);
    assert_eq!(p.s.subscribe(p.now, &[("s", QoS::AtMostOnce)]).unwrap(), 3);
    assert_eq!(p.s.unsubscribe(p.now, &["s"]).unwrap(), 4);
    assert_eq!(p.publish("t", b"", QoS::ExactlyOnce), 5);
    p.sent();
    p.feed_ok(puback(1));
    p.feed_ok(pubrec(5));
    assert_eq!(p.sent(), [pubrel(5)]);
    for mid in 6..=u16::MAX {
        assert_eq!(p.publish("t", b"", QoS::AtMostOnce), mid);
        if mid % 1024 == 0 {
            p.sent_bytes();
        }
    }
    p.sent_bytes();
    p.events();
    // 1 is free again; 2 (PUBLISH), 3 (SUBSCRIBE), 4 (UNSUBSCRIBE), 5 (PUBREL) are not.
    assert_eq!(p.publish("t", b"", QoS::AtLeastOnce), 1);
    assert_eq!(p.publish("t", b"", QoS::AtLeastOnce), 6);
    assert_eq!(publish_ids(&p.sent()), [(1, false), (6, false)]);
    // Once their flows end the ids come round again on the next wrap.
    p.feed_ok(puback(2));
    p.feed_ok(Packet::UnsubAck(crate::proto::UnsubAck::new(4)));
    p.feed_ok(pubcomp(5));
    assert_eq!(
        p.events(),
        [
            Event::Published { mid: 2 },
            Event::Unsubscribed { mid: 4 },
            Event::Published { mid: 5 }
        ]
    );
    assert!(p.s.is_published(2));
    assert!(!p.s.is_published(3));
    assert!(!p.s.is_published(1));
    assert!(
        p.s.is_published(40_000),
        "after a wrap every id counts as issued"
    );
}

#[test]
fn is_published_for_ids_never_issued() {
    let mut p = Peer::connected(cfg());
    assert!(!p.s.is_published(0));
    assert!(!p.s.is_published(1));
    p.publish("t", b"", QoS::AtMostOnce);
    p.sent();
    assert!(p.s.is_published(1));
    assert!(!p.s.is_published(2));
}
