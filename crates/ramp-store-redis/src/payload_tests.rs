//! Unit tests of the payload codec: the gem's leniency, round trips, and what is skipped or
//! marked damaged. Redis-level behaviour is in `tests/gem_format.rs`.

use super::*;
use ramp_core::FeatureState;
use serde_json::json;

fn name() -> FeatureName {
    FeatureName::new("chat").unwrap()
}

fn read(payload: &str) -> Feature {
    decode(&name(), payload.as_bytes())
}

fn ids(feature: &Feature) -> Vec<&str> {
    feature.users.iter().map(UserId::as_str).collect()
}

#[test]
fn reads_what_the_gem_writes() {
    let feature = read("100|||{}");
    assert_eq!(feature.percentage, Percentage::ALL);
    assert_eq!((feature.version, feature.damaged.as_deref()), (1, None));
    let feature = read(r#"12.5|1,user-72|beta,all|{"description":"a|b","x":1}"#);
    assert_eq!(feature.percentage.value(), 12.5);
    assert_eq!(ids(&feature), vec!["1", "user-72"]);
    assert_eq!(feature.groups.len(), 2);
    assert_eq!(feature.data.get("description"), Some(&json!("a|b")));
    assert_eq!(read("0|||{}").percentage, Percentage::ZERO);
}

#[test]
fn is_as_lenient_as_the_gem() {
    // Old 3-field payloads, blank or absent data, a missing everything.
    let feature = read("20|1,2|beta");
    assert_eq!((feature.percentage.value(), feature.data.len()), (20.0, 0));
    assert!(read("20|||  ").data.is_empty());
    assert!(read("").damaged.is_none());
    assert_eq!(read("1_0|||").percentage.value(), 10.0);
    assert_eq!(read(".5|||").percentage.value(), 0.5);
    assert_eq!(read("1e1|||").percentage.value(), 10.0);
    assert_eq!(read("12abc|||").percentage.value(), 12.0);
    assert_eq!(read("abc|||").percentage.value(), 0.0);
    // Duplicate keys: the last wins, as in Ruby.
    assert_eq!(read(r#"0|||{"a":1,"a":2}"#).data.get("a"), Some(&json!(2)));
    // JSON that is not an object: the gem drops it on its next save.
    assert!(read("0|||[1,2]").data.is_empty());
    assert!(read("0|||null").data.is_empty());
}

#[test]
fn lists_split_like_ruby_and_skip_what_ramp_cannot_hold() {
    // ",1,,2," is "", "1", "", "2" in Ruby; the empty ids cannot be Ramp users.
    assert_eq!(ids(&read("0|,1,,2,||")), vec!["1", "2"]);
    assert_eq!(ids(&read("0|1,\u{1}bad,2,1||")), vec!["1", "2"]);
    let feature = read("0||beta,has space,,beta|");
    let groups: Vec<&str> = feature.groups.iter().map(GroupName::as_str).collect();
    assert_eq!(groups, vec!["beta"]);
}

#[test]
fn percentages_beyond_the_range_read_as_the_gem_evaluates_them() {
    let above = read("150|||").percentage;
    assert!(above.value() < 100.0 && !above.is_everyone(), "{above}");
    assert!(ramp_core::bucket::in_percentage(
        "1",
        "chat",
        above.value(),
        false
    ));
    assert_eq!(read("1e400|||").percentage, above);
    assert_eq!(read("-5|||").percentage, Percentage::ZERO);
    assert_eq!(read("-0|||").percentage.to_string(), "0");
}

#[test]
fn unreadable_payloads_are_damaged_not_errors() {
    let feature = read(r#"100|1|beta|{"a":"#);
    let reason = feature.damaged.as_deref().unwrap();
    assert!(reason.contains("JSON"), "{reason}");
    assert_eq!(feature.percentage, Percentage::ZERO);
    assert!(feature.users.is_empty());
    let invalid = decode(&name(), b"100|\xff\xfe||{}");
    assert!(invalid.damaged.unwrap().contains("UTF-8"));
}

fn sample() -> Feature {
    let mut data = Map::new();
    data.insert("owner".into(), json!("ana"));
    data.insert("ratio".into(), json!(0.1 + 0.2));
    data.insert("note".into(), json!("a|b,c"));
    let state = FeatureState {
        percentage: Percentage::new(12.5).unwrap(),
        users: vec![UserId::new("1").unwrap(), UserId::new("user-72").unwrap()],
        excluded_users: vec![UserId::new("9").unwrap()],
        groups: vec![GroupName::new("beta").unwrap()],
        data,
        stage: Stage::Beta,
        kind: FeatureKind::Experiment,
    };
    let time = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
    let mut feature = Feature::from_state(name(), state, time);
    feature.version = 7;
    feature
}

#[test]
fn round_trips_exactly() {
    let feature = sample();
    let payload = encode(&feature);
    assert!(payload.starts_with("12.5|1,user-72|beta|{"), "{payload}");
    assert_eq!(decode(&name(), payload.as_bytes()), feature);
    let plain = Feature::new(name(), DateTime::UNIX_EPOCH);
    assert_eq!(decode(&name(), encode(&plain).as_bytes()).version, 1);
}

#[test]
fn percentages_are_written_as_ruby_floats() {
    let mut feature = sample();
    for (value, text) in [
        (100.0, "100.0|"),
        (0.0, "0.0|"),
        (20.0, "20.0|"),
        (0.1, "0.1|"),
    ] {
        feature.percentage = Percentage::new(value).unwrap();
        assert!(encode(&feature).starts_with(text), "{value}");
    }
}

#[test]
fn an_outside_edit_counts_as_a_new_version() {
    let feature = sample();
    let payload = encode(&feature);
    // A gem re-save that changes nothing keeps the version, even with its own key order.
    let fields: Vec<&str> = payload.splitn(4, '|').collect();
    let mut reordered: Vec<(String, Value)> = serde_json::from_str::<Map<String, Value>>(fields[3])
        .unwrap()
        .into_iter()
        .collect();
    reordered.reverse();
    let data: Vec<String> = reordered
        .iter()
        .map(|(key, value)| format!("{}:{value}", Value::from(key.as_str())))
        .collect();
    let resaved = format!(
        "{}|{}|{}|{{{}}}",
        fields[0],
        fields[1],
        fields[2],
        data.join(",")
    );
    assert_ne!(resaved, payload);
    assert_eq!(decode(&name(), resaved.as_bytes()).version, 7);
    // The gem adding a user does not touch `__ramp`, but the checksum tells.
    let edited = payload.replacen("1,user-72|", "1,user-72,5|", 1);
    let read_back = decode(&name(), edited.as_bytes());
    assert_eq!(read_back.version, 8);
    assert_eq!(read_back.users.len(), 3);
    assert_eq!(
        read_back.stage,
        Stage::Beta,
        "Ramp's fields survive the gem's edit"
    );
    assert_eq!(read_back.kind, FeatureKind::Experiment);
}

#[test]
fn the_kind_is_kept_only_when_not_the_default_and_an_unknown_one_reads_as_release() {
    let mut feature = sample();
    feature.kind = FeatureKind::KillSwitch;
    let payload = encode(&feature);
    assert!(payload.contains(r#""kind":"kill_switch""#), "{payload}");
    assert_eq!(
        decode(&name(), payload.as_bytes()).kind,
        FeatureKind::KillSwitch
    );
    feature.kind = FeatureKind::Release;
    let payload = encode(&feature);
    assert!(!payload.contains(r#""kind""#), "{payload}");
    assert_eq!(decode(&name(), payload.as_bytes()), feature);
    // A kind from a newer Ramp: the flag still reads, as a release flag.
    let newer = read(r#"25.0|1||{"__ramp":{"version":3,"kind":"sunset"},"a":1}"#);
    assert_eq!(newer.kind, FeatureKind::Release);
    assert_eq!(newer.percentage.value(), 25.0);
    assert!(newer.damaged.is_none());
}

#[test]
fn the_reserved_key_never_reaches_callers() {
    let feature = decode(&name(), encode(&sample()).as_bytes());
    assert!(!feature.data.contains_key(RESERVED_DATA_KEY));
    // A `__ramp` that is not Ramp's record is dropped too, without harm.
    let odd = read(r#"0|||{"__ramp":"x","a":1}"#);
    assert_eq!(odd.data.len(), 1);
    assert_eq!(odd.version, 1);
}
