//! Topic names, topic filters and matching (MQTT-4.7).
//!
//! `&str` is already valid UTF-8, so only the MQTT rules are checked here: length,
//! U+0000 (MQTT-1.5.3-2) and where the wildcards '+' and '#' may stand.

use super::codec::MAX_FIELD_LEN;

/// A topic name as PUBLISH carries it: non-empty (MQTT-4.7.3-1), no wildcard
/// (MQTT-4.7.1-1), no U+0000 (MQTT-4.7.3-2), at most 65535 bytes (MQTT-4.7.3-3).
pub fn valid_topic_name(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= MAX_FIELD_LEN
        && !topic.bytes().any(|b| matches!(b, 0 | b'+' | b'#'))
}

/// A topic filter as SUBSCRIBE carries it: non-empty (MQTT-4.7.3-1), at most 65535
/// bytes, no U+0000, '#' only as the whole last level (MQTT-4.7.1-2) and '+' only as a
/// whole level (MQTT-4.7.1-3).
pub fn valid_topic_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > MAX_FIELD_LEN {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let ok = match level.as_bytes() {
            b"+" => true,
            b"#" => last,
            l => !l.iter().any(|&b| matches!(b, 0 | b'+' | b'#')),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a message published to `topic` is delivered to a subscription to `filter`
/// (MQTT-4.7). An invalid filter or topic name matches nothing.
///
/// One pass over both strings, no allocation: each filter level is scanned once (which
/// also validates it) and compared with the topic in place; the topic is validated as it
/// is consumed.
pub fn matches(filter: &str, topic: &str) -> bool {
    let f = filter.as_bytes();
    let t = topic.as_bytes();
    if f.is_empty() || t.is_empty() || f.len() > MAX_FIELD_LEN || t.len() > MAX_FIELD_LEN {
        return false;
    }
    // MQTT-4.7.2-1: a filter starting with a wildcard does not match a topic name
    // starting with '$' (a filter that merely starts with the character is invalid).
    if t[0] == b'$' && matches!(f[0], b'+' | b'#') {
        return false;
    }
    let mut fi = 0;
    let mut ti = 0;
    loop {
        // The filter level f[fi..fend]; `special` when it holds a wildcard or U+0000.
        let mut fend = fi;
        let mut special = false;
        while fend < f.len() && f[fend] != b'/' {
            special |= matches!(f[fend], 0 | b'+' | b'#');
            fend += 1;
        }
        let filter_done = fend == f.len();
        let tend;
        if !special {
            // A literal level equals the topic level byte for byte, so the topic level
            // is valid because the filter level is.
            let level = &f[fi..fend];
            tend = ti + level.len();
            if t.len() < tend || &t[ti..tend] != level || (tend < t.len() && t[tend] != b'/') {
                return false;
            }
        } else {
            match &f[fi..fend] {
                // MQTT-4.7.1-3: '+' matches exactly one level, which may be empty.
                b"+" => {
                    tend = match topic_level_end(t, ti) {
                        Some(end) => end,
                        None => return false,
                    }
                }
                // MQTT-4.7.1-2: '#' is last and matches the rest, however many levels.
                b"#" => return filter_done && valid_name_bytes(&t[ti..]),
                _ => return false,
            }
        }
        let topic_done = tend == t.len();
        match (filter_done, topic_done) {
            (true, true) => return true,
            (true, false) => return false,
            // MQTT-4.7.1-2: "sport/#" also matches "sport", the parent level.
            (false, true) => return &f[fend + 1..] == b"#",
            (false, false) => {
                fi = fend + 1;
                ti = tend + 1;
            }
        }
    }
}

/// End of the topic level starting at `start`, or `None` if it holds a byte no topic
/// name may contain.
fn topic_level_end(t: &[u8], start: usize) -> Option<usize> {
    let mut end = start;
    while end < t.len() {
        match t[end] {
            b'/' => break,
            0 | b'+' | b'#' => return None,
            _ => end += 1,
        }
    }
    Some(end)
}

fn valid_name_bytes(t: &[u8]) -> bool {
    !t.iter().any(|&b| matches!(b, 0 | b'+' | b'#'))
}
