//! Whole-binary tests of stages that match what users get: `activate` (the command line's
//! Everyone action) moves the stage in the same history event; `stage NAME graduated` is
//! refused below 100 % or with excluded users unless `--reason` is given, and history records
//! the reason; a feature that reaches nobody is `off`, a user outside a share is not.

mod common;

use common::Ramp;
use serde_json::json;

#[test]
fn activate_moves_the_stage_to_everyone_in_one_event() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "30"]);
    ramp.run(&["stage", "chat", "beta"]);
    assert_eq!(
        ramp.run(&["activate", "chat"]),
        "chat: active for everyone (100 %), stage everyone\n"
    );
    let history = ramp.json(&["history", "chat"]);
    let events = history.as_array().unwrap();
    assert_eq!(events.len(), 3, "{history}");
    let fields: Vec<&str> = events[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["percentage", "stage"]);
    let feature = ramp.json(&["show", "chat"]);
    assert_eq!(
        (&feature["percentage"], &feature["stage"]),
        (&json!(100.0), &json!("everyone"))
    );
}

#[test]
fn graduating_below_everyone_needs_a_reason() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "25"]);
    let refusal = ramp.fails(&["stage", "chat", "graduated"], None);
    assert_eq!(
        refusal,
        "error: chat cannot graduate without a reason: it is at 25 %, not 100 %; give one with --reason"
    );
    // A blank reason is no reason.
    ramp.fails(&["stage", "chat", "graduated", "--reason", " "], None);
    let reason = "the last quarter is a market we are leaving";
    assert_eq!(
        ramp.run(&["stage", "chat", "graduated", "--reason", reason]),
        "chat: stage graduated\n"
    );
    let history = ramp.json(&["history", "chat", "--limit", "1"]);
    assert_eq!(history[0]["comment"], reason, "{history}");

    ramp.run(&["activate", "dark"]);
    ramp.run(&["exclude", "add", "dark", "9"]);
    let refusal = ramp.fails(&["stage", "dark", "graduated"], None);
    assert!(refusal.contains("1 user is excluded"), "{refusal}");
    ramp.run(&["exclude", "remove", "dark", "9"]);
    assert_eq!(
        ramp.run(&["stage", "dark", "graduated"]),
        "dark: stage graduated\n"
    );
    let history = ramp.json(&["history", "dark", "--limit", "1"]);
    assert_eq!(history[0].get("comment"), None, "{history}");
}

#[test]
fn a_feature_that_reaches_nobody_is_off() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "chat", "7"]);
    assert_eq!(ramp.check("chat", "1")["reason"], "off");
    ramp.run(&["percentage", "chat", "20"]);
    assert_eq!(ramp.check("chat", "1")["reason"], "outside_percentage");
    assert_eq!(ramp.check("chat", "7")["reason"], "user");
    assert_eq!(
        ramp.json(&["states"])[0]["reason"],
        "off",
        "without a user id only 100 % counts"
    );
}

#[test]
fn through_a_server_the_reason_reaches_the_history() {
    let served = common::served::Served::start();
    served.run(&["percentage", "chat", "25"]);
    let refusal = served.fails(
        served.command(&served.admin),
        &["stage", "chat", "graduated"],
    );
    assert!(refusal.contains("it is at 25 %, not 100 %"), "{refusal}");
    let reason = "kept at 25 % on purpose";
    served.run(&["stage", "chat", "graduated", "--reason", reason]);
    let history = served.json(&["history", "chat", "--limit", "1"]);
    assert_eq!(
        (&history[0]["comment"], &history[0]["actor"]),
        (&json!(reason), &json!("admin")),
        "{history}"
    );
    served.run(&["activate", "chat"]);
    assert_eq!(
        served.json(&["show", "chat"])["stage"],
        json!("graduated"),
        "the Everyone action never moves a graduated feature back"
    );
    assert_eq!(
        served.run(&["check", "chat", "--user", "1"]),
        "chat: active (everyone)\n"
    );
    served.stop();
}
