//! MQTT 5 topic aliases (MQTT-3.3.2.3.4), one table per direction and connection.
//!
//! Incoming: the server sets an alias with a PUBLISH carrying topic and alias, and uses
//! it with an empty topic; the table is resolved so that the application always sees
//! the full topic. Outgoing: the application may set the alias itself, or, in automatic
//! mode, the client assigns aliases up to the server's Topic Alias Maximum, reusing the
//! least recently used one when all are taken. Both tables start empty on every
//! connection (MQTT-3.3.2-7).

use std::collections::{BTreeMap, HashMap};

/// Server-to-client aliases.
#[derive(Debug, Default)]
pub(super) struct InAliases {
    topics: HashMap<u16, Box<str>>,
}

impl InAliases {
    pub(super) fn clear(&mut self) {
        self.topics = HashMap::new();
    }

    pub(super) fn set(&mut self, alias: u16, topic: &str) {
        match self.topics.get_mut(&alias) {
            Some(t) if **t == *topic => {}
            Some(t) => *t = topic.into(),
            None => {
                self.topics.insert(alias, topic.into());
            }
        }
    }

    pub(super) fn get(&self, alias: u16) -> Option<&str> {
        self.topics.get(&alias).map(|t| &**t)
    }
}

/// How a PUBLISH goes out: the topic to write (empty when the alias says it) and the
/// alias to add, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AliasUse {
    pub(super) alias: Option<u16>,
    pub(super) send_topic: bool,
}

impl AliasUse {
    pub(super) const NONE: AliasUse = AliasUse {
        alias: None,
        send_topic: true,
    };
}

/// Client-to-server aliases of the current connection.
#[derive(Debug, Default)]
pub(super) struct OutAliases {
    /// The server's Topic Alias Maximum on this connection.
    max: u16,
    /// Assign aliases automatically.
    auto: bool,
    /// alias -> (topic, last use)
    by_alias: HashMap<u16, (Box<str>, u64)>,
    /// topic -> alias
    by_topic: HashMap<Box<str>, u16>,
    /// last use -> alias, oldest first.
    lru: BTreeMap<u64, u16>,
    clock: u64,
}

impl OutAliases {
    /// A new connection: nothing is known, at most `max` aliases may be used.
    pub(super) fn reset(&mut self, max: u16, auto: bool) {
        *self = OutAliases {
            max,
            auto,
            ..OutAliases::default()
        };
    }

    pub(super) fn max(&self) -> u16 {
        self.max
    }

    pub(super) fn set_auto(&mut self, auto: bool) {
        self.auto = auto;
    }

    /// The topic alias `alias` stands for on this connection.
    pub(super) fn topic(&self, alias: u16) -> Option<&str> {
        self.by_alias.get(&alias).map(|(t, _)| &**t)
    }

    /// Decide how a PUBLISH to `topic` goes out, `app` being the alias the application
    /// set (if any), and record what the server will know once it is written.
    pub(super) fn choose(&mut self, topic: &str, app: Option<u16>) -> AliasUse {
        if self.max == 0 {
            return AliasUse::NONE;
        }
        if let Some(alias) = app {
            if alias == 0 || alias > self.max {
                // Checked at publish time against the maximum then; the server of a
                // later connection may allow fewer: the full topic says it all.
                return AliasUse::NONE;
            }
            let known = self.topic(alias) == Some(topic);
            self.touch(alias, topic);
            return AliasUse {
                alias: Some(alias),
                send_topic: !known,
            };
        }
        if !self.auto || topic.is_empty() {
            return AliasUse::NONE;
        }
        if let Some(&alias) = self.by_topic.get(topic) {
            self.touch(alias, topic);
            return AliasUse {
                alias: Some(alias),
                send_topic: false,
            };
        }
        let alias = if self.by_alias.len() < usize::from(self.max) {
            // The lowest alias not in use.
            (1..=self.max)
                .find(|a| !self.by_alias.contains_key(a))
                .unwrap_or(1)
        } else {
            match self.lru.first_key_value() {
                Some((_, &a)) => a,
                None => return AliasUse::NONE,
            }
        };
        self.touch(alias, topic);
        AliasUse {
            alias: Some(alias),
            send_topic: true,
        }
    }

    /// `alias` now stands for `topic`, used now.
    fn touch(&mut self, alias: u16, topic: &str) {
        self.clock += 1;
        let now = self.clock;
        if let Some((t, used)) = self.by_alias.get_mut(&alias) {
            if **t == *topic {
                self.lru.remove(used);
                *used = now;
                self.lru.insert(now, alias);
                return;
            }
        }
        if let Some((t, used)) = self.by_alias.remove(&alias) {
            self.lru.remove(&used);
            if self.by_topic.get(&t) == Some(&alias) {
                self.by_topic.remove(&t);
            }
        }
        if let Some(old) = self.by_topic.insert(topic.into(), alias) {
            // The topic had another alias (the application chose a new one): that one
            // still stands for it on the server, but is no longer ours to pick for it.
            if let Some((_, used)) = self.by_alias.remove(&old) {
                self.lru.remove(&used);
            }
        }
        self.by_alias.insert(alias, (topic.into(), now));
        self.lru.insert(now, alias);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(a: &mut OutAliases, topic: &str) -> (Option<u16>, bool) {
        let u = a.choose(topic, None);
        (u.alias, u.send_topic)
    }

    #[test]
    fn auto_assigns_lowest_free_then_reuses_least_recently_used() {
        let mut a = OutAliases::default();
        a.reset(2, true);
        assert_eq!(uses(&mut a, "t/1"), (Some(1), true));
        assert_eq!(uses(&mut a, "t/2"), (Some(2), true));
        assert_eq!(uses(&mut a, "t/1"), (Some(1), false));
        // t/2 is the least recently used: its alias goes to t/3.
        assert_eq!(uses(&mut a, "t/3"), (Some(2), true));
        assert_eq!(uses(&mut a, "t/3"), (Some(2), false));
        assert_eq!(uses(&mut a, "t/2"), (Some(1), true));
        assert_eq!(a.topic(1), Some("t/2"));
        assert_eq!(a.topic(2), Some("t/3"));
    }

    #[test]
    fn nothing_without_a_server_maximum_or_auto_mode() {
        let mut a = OutAliases::default();
        a.reset(0, true);
        assert_eq!(uses(&mut a, "t"), (None, true));
        assert_eq!(a.choose("t", Some(1)), AliasUse::NONE);
        a.reset(5, false);
        assert_eq!(uses(&mut a, "t"), (None, true));
    }

    #[test]
    fn application_aliases_are_remembered_and_replaced() {
        let mut a = OutAliases::default();
        a.reset(10, false);
        assert_eq!(
            a.choose("a", Some(3)),
            AliasUse {
                alias: Some(3),
                send_topic: true
            }
        );
        assert_eq!(
            a.choose("a", Some(3)),
            AliasUse {
                alias: Some(3),
                send_topic: false
            }
        );
        assert_eq!(
            a.choose("b", Some(3)),
            AliasUse {
                alias: Some(3),
                send_topic: true
            }
        );
        assert_eq!(a.topic(3), Some("b"));
        // Above the maximum: the full topic, no alias.
        assert_eq!(a.choose("c", Some(11)), AliasUse::NONE);
    }

    #[test]
    fn reset_forgets_everything() {
        let mut a = OutAliases::default();
        a.reset(3, true);
        uses(&mut a, "x");
        a.reset(3, true);
        assert_eq!(a.topic(1), None);
        assert_eq!(uses(&mut a, "x"), (Some(1), true));
    }
}
