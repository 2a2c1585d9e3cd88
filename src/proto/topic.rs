//! Topic names, topic filters and matching (MQTT-4.7).
//!
//! `&str` is already valid UTF-8, so only the MQTT rules are checked here: length,
//! U+0000 (MQTT-1.5.3-2) and where the wildcards '+' and '#' may stand.

use super::codec::MAX_FIELD_LEN;

/// A topic name as PUBLISH carries it: non-empty (MQTT-4.7.3-1), no wildcard
/// (MQTT-4.7.1-1), no U+0000 (MQTT-4.7.3-2), at most 65535 bytes (MQTT-4.7.3-3).
pub fn valid_topic_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= MAX_FIELD_LEN && !has_nul_or_wildcard(topic.as_bytes())
}

/// Whether `bytes` holds a 0, `+` or `#`, eight bytes per step.
pub(crate) fn has_nul_or_wildcard(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    // Exact (no false positive or negative): some byte of `v` is zero.
    let any_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if any_zero(v)
            || any_zero(v ^ (ONES * u64::from(b'+')))
            || any_zero(v ^ (ONES * u64::from(b'#')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b == 0 || b == b'+' || b == b'#')
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
            l => !l.iter().any(|&b| forbidden_in_name(b)),
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
/// One pass over both strings, no allocation: a literal filter level is compared with
/// the topic byte by byte as it is scanned (which also validates both), a '+' skips one
/// topic level, a '#' validates the rest of the topic.
///
/// A shared subscription's filter, `$share/{ShareName}/{filter}` (MQTT-4.8.2), matches
/// what `{filter}` matches, as the broker delivers to it; with an empty share name or
/// one holding a wildcard (MQTT-4.8.2-1, -2) it matches nothing.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = match filter.strip_prefix("$share/") {
        Some(rest) => match rest.split_once('/') {
            Some((group, f)) if !group.is_empty() && !group.bytes().any(forbidden_in_name) => f,
            _ => return false,
        },
        None => filter,
    };
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
    // f[fi] and t[ti] start a level on each side.
    let (mut fi, mut ti) = (0, 0);
    loop {
        match f.get(fi) {
            // MQTT-4.7.1-3: '+' is a whole level and matches exactly one level, which
            // may be empty.
            Some(b'+') if matches!(f.get(fi + 1), None | Some(b'/')) => {
                fi += 1;
                while let Some(&c) = t.get(ti) {
                    if c == b'/' {
                        break;
                    }
                    if forbidden_in_name(c) {
                        return false;
                    }
                    ti += 1;
                }
            }
            // MQTT-4.7.1-2: '#' is the whole last level and matches the rest.
            Some(b'#') if fi + 1 == f.len() => {
                return !t[ti..].iter().any(|&c| forbidden_in_name(c))
            }
            // A literal level (a misplaced wildcard makes the filter invalid). The topic
            // bytes it matches are valid because they equal valid filter bytes.
            _ => {
                while let Some(&c) = f.get(fi) {
                    if c == b'/' {
                        break;
                    }
                    if forbidden_in_name(c) || t.get(ti) != Some(&c) {
                        return false;
                    }
                    fi += 1;
                    ti += 1;
                }
                if matches!(t.get(ti), Some(&c) if c != b'/') {
                    return false;
                }
            }
        }
        match (fi == f.len(), ti == t.len()) {
            (true, true) => return true,
            (true, false) => return false,
            // MQTT-4.7.1-2: "sport/#" also matches "sport", the parent level.
            (false, true) => return &f[fi + 1..] == b"#",
            (false, false) => {
                fi += 1;
                ti += 1;
            }
        }
    }
}

/// U+0000 (MQTT-4.7.3-2) and the wildcards (MQTT-4.7.1-1).
fn forbidden_in_name(b: u8) -> bool {
    matches!(b, 0 | b'+' | b'#')
}

#[cfg(test)]
mod tests {
    use super::has_nul_or_wildcard;

    #[test]
    fn finds_nul_and_wildcards_at_every_position() {
        let clean: Vec<u8> = (1..=255u8).filter(|&b| b != b'+' && b != b'#').collect();
        for len in 0..40 {
            let topic: Vec<u8> = clean
                .iter()
                .cycle()
                .skip(len * 7)
                .take(len)
                .copied()
                .collect();
            assert!(!has_nul_or_wildcard(&topic), "{topic:?}");
            for at in 0..len {
                for bad in [0, b'+', b'#'] {
                    let mut t = topic.clone();
                    t[at] = bad;
                    assert!(has_nul_or_wildcard(&t), "{bad} at {at} of {len}");
                }
            }
        }
        // Bytes next to the forbidden ones (borrows and carries in the word test).
        for near in [1u8, 0x80, 0xff, b'*', b',', b'"', b'$'] {
            assert!(!has_nul_or_wildcard(&[near; 23]), "{near}");
        }
    }
}
