//! `ramp check --at` and `ramp states --at`: answers as of a past time, at the times the
//! history recorded (no sleeps), in a sentence and as JSON.

mod common;

use chrono::{DateTime, Utc};
use common::Ramp;
use serde_json::json;

/// The times of the events of `chat`, oldest first.
fn event_times(ramp: &Ramp) -> Vec<DateTime<Utc>> {
    let history = ramp.json(&["history", "new-form"]);
    let mut times: Vec<DateTime<Utc>> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["time"].as_str().unwrap().parse().unwrap())
        .collect();
    times.reverse();
    times
}

fn shown(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.f UTC").to_string()
}

#[test]
fn check_at_says_what_a_user_got_then_and_why() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "new-form", "42"]);
    ramp.run(&["exclude", "add", "new-form", "42"]);
    let times = event_times(&ramp);
    assert_eq!(times.len(), 2);
    let listed = times[0].to_rfc3339();
    assert_eq!(
        ramp.run(&["check", "new-form", "--user", "42", "--at", &listed]),
        format!(
            "new-form was on for user 42 at {} (listed in users)\n",
            shown(times[0])
        )
    );
    assert_eq!(
        ramp.run(&[
            "check",
            "new-form",
            "--user",
            "42",
            "--at",
            &times[1].to_rfc3339()
        ]),
        format!(
            "new-form was off for user 42 at {} (excluded)\n",
            shown(times[1])
        )
    );
    assert_eq!(
        ramp.json(&["check", "new-form", "--user", "42", "--at", &listed]),
        json!({"feature": "new-form", "active": true, "reason": "user", "at": times[0]})
    );
    // Before any history the feature did not exist; in the future it is as it is now.
    assert_eq!(
        ramp.run(&[
            "check",
            "new-form",
            "--user",
            "42",
            "--at",
            "2001-01-01 10:00"
        ]),
        "new-form did not exist at 2001-01-01 10:00:00 UTC\n"
    );
    assert_eq!(
        ramp.run(&["check", "new-form", "--at", "2999-01-01"]),
        "new-form was off for a visitor without a user id at 2999-01-01 00:00:00 UTC (no rule let them in)\n"
    );
    let states = ramp.json(&["states", "--user", "42", "--at", &listed]);
    assert_eq!(
        states,
        json!([{"feature": "new-form", "active": true, "reason": "user"}])
    );
    assert_eq!(ramp.json(&["states", "--at", "2001-01-01"]), json!([]));
}

#[test]
fn a_time_that_is_no_time_is_refused() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "new-form", "42"]);
    let error = ramp.fails(
        &["check", "new-form", "--user", "42", "--at", "3 Nov"],
        None,
    );
    assert!(
        error.contains("invalid time") && error.contains("RFC 3339"),
        "{error}"
    );
}
