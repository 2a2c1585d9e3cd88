//! Topic names, filters and matching: MQTT 3.1.1 section 4.7 and its examples.

use super::super::topic::{matches, valid_topic_filter, valid_topic_name};

#[test]
fn spec_filter_examples() {
    // 4.7.1.2 and 4.7.1.3.
    for valid in [
        "#",
        "sport/tennis/#",
        "+",
        "+/tennis/#",
        "sport/+/player1",
        "/+",
        "+/+",
    ] {
        assert!(valid_topic_filter(valid), "{valid}");
    }
    for invalid in ["sport/tennis#", "sport/tennis/#/ranking", "sport+"] {
        assert!(!valid_topic_filter(invalid), "{invalid}");
    }
}

#[test]
fn filter_validity() {
    for valid in [
        "a",
        "/",
        "//",
        "a//b",
        "+/+/+",
        "a/+/#",
        "$SYS/#",
        "\u{FEFF}a",
        " ",
    ] {
        assert!(valid_topic_filter(valid), "{valid}");
    }
    for invalid in [
        "", "#/", "#/a", "a/#/", "++", "a+/b", "a/b+", "##", "a\0b", "+\0",
    ] {
        assert!(!valid_topic_filter(invalid), "{invalid:?}");
    }
    assert!(valid_topic_filter(&"a".repeat(65_535)));
    assert!(!valid_topic_filter(&"a".repeat(65_536)));
}

#[test]
fn name_validity() {
    // 4.7.3: case, spaces, a leading '/' and a lone '/' are all fine.
    for valid in [
        "ACCOUNTS",
        "Accounts payable",
        "/finance",
        "/",
        "$SYS/x",
        "a//b",
    ] {
        assert!(valid_topic_name(valid), "{valid}");
    }
    for invalid in ["", "+", "#", "a/+", "a/#", "a+", "a\0"] {
        assert!(!valid_topic_name(invalid), "{invalid:?}");
    }
    assert!(valid_topic_name(&"a".repeat(65_535)));
    assert!(!valid_topic_name(&"a".repeat(65_536)));
}

#[test]
fn spec_matching_examples() {
    let yes = [
        // 4.7.1.2
        ("sport/tennis/player1/#", "sport/tennis/player1"),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking"),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon",
        ),
        ("sport/#", "sport"),
        // 4.7.1.3
        ("sport/tennis/+", "sport/tennis/player1"),
        ("sport/tennis/+", "sport/tennis/player2"),
        ("sport/+", "sport/"),
        ("+/+", "/finance"),
        ("/+", "/finance"),
        // 4.7.2
        ("$SYS/#", "$SYS/monitor/Clients"),
        ("$SYS/monitor/+", "$SYS/monitor/Clients"),
    ];
    let no = [
        ("sport/tennis/+", "sport/tennis/player1/ranking"),
        ("sport/+", "sport"),
        ("+", "/finance"),
        // 4.7.2: wildcards at the first level never match '$' topics.
        ("#", "$SYS/monitor/Clients"),
        ("+/monitor/Clients", "$SYS/monitor/Clients"),
        ("#", "$SYS"),
        ("+", "$"),
        // 4.7.3: case sensitive, leading '/' is a level.
        ("ACCOUNTS", "Accounts"),
        ("finance", "/finance"),
        ("/finance", "finance"),
    ];
    for (f, t) in yes {
        assert!(matches(f, t), "{f} should match {t}");
    }
    for (f, t) in no {
        assert!(!matches(f, t), "{f} should not match {t}");
    }
}

#[test]
fn more_matching() {
    let yes = [
        ("#", "a"),
        ("#", "/"),
        ("#", "a/b/c"),
        ("a/#", "a/"),
        ("a/#", "a//"),
        ("+", "a"),
        ("+/+", "/"),
        ("+/#", "a"),
        ("a/+/c", "a//c"),
        ("a//b", "a//b"),
        ("/", "/"),
        ("a/b", "a/b"),
        ("$SYS", "$SYS"),
        ("a/$x/+", "a/$x/y"),
        ("a/+", "a/$x"),
        ("é/+", "é/ü"),
    ];
    let no = [
        ("a/b", "a/b/c"),
        ("a/b/c", "a/b"),
        ("a/b", "a/bc"),
        ("a/bc", "a/b"),
        ("a", "a/"),
        ("a/", "a"),
        ("+", "a/b"),
        ("+", "/"),
        ("a/+", "a/b/c"),
        ("a/+/#", "a"),
        ("$SYS/#", "$OTHER/x"),
        // Invalid filters or topic names match nothing.
        ("", ""),
        ("", "a"),
        ("a", ""),
        ("#/a", "x/a"),
        ("a/#/", "a/b/"),
        ("a+", "a+"),
        ("a#", "a#"),
        ("a/+", "a/+"),
        ("a/#", "a/#"),
        ("#", "a/+/b"),
        ("#", "a\0"),
        ("a/+", "a/\0"),
        ("a\0", "a\0"),
        ("sport/tennis/#/ranking", "sport/tennis/x/ranking"),
        ("+/+", "a/#"),
    ];
    for (f, t) in yes {
        assert!(matches(f, t), "{f:?} should match {t:?}");
    }
    for (f, t) in no {
        assert!(!matches(f, t), "{f:?} should not match {t:?}");
    }
    let long = "a".repeat(65_536);
    assert!(!matches("#", &long));
    assert!(!matches(&long, &long));
    assert!(matches(&long[1..], &long[1..]));
}

#[test]
fn shared_subscription_filters_match_their_filter() {
    // MQTT-4.8.2: `$share/{ShareName}/{filter}` receives what `{filter}` matches.
    let yes = [
        ("$share/group/a/b", "a/b"),
        ("$share/g/sport/#", "sport/tennis/player1"),
        ("$share/g/#", "a"),
        ("$share/g/+/x", "y/x"),
        ("$share/g/$SYS/#", "$SYS/broker"),
    ];
    let no = [
        ("$share/group/a/b", "a/c"),
        // Not the topic named like the filter itself.
        ("$share/group/a/b", "$share/group/a/b"),
        // MQTT-4.8.2-1, -2: a share name of one character or more, no wildcard.
        ("$share//a/b", "a/b"),
        ("$share/+/a/b", "a/b"),
        ("$share/#/a", "a"),
        ("$share/g+/a", "a"),
        // A share name and no filter.
        ("$share/group", "group"),
        ("$share/group/", "a"),
        // A filter starting with a wildcard still leaves `$` topics alone.
        ("$share/g/#", "$SYS/broker"),
    ];
    for (f, t) in yes {
        assert!(matches(f, t), "{f:?} should match {t:?}");
    }
    for (f, t) in no {
        assert!(!matches(f, t), "{f:?} should not match {t:?}");
    }
    // Anything else starting with `$share` is an ordinary filter.
    assert!(matches("$shared/a", "$shared/a"));
    assert!(matches("$share", "$share"));
}
