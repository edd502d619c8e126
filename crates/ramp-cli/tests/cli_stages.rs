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

/// `ramp features` shows each feature's kind, time in stage and health; `ramp cleanup` lists
/// the features in a health state with the evidence, measured `--at` a time (60 days on, a
/// release flag is stale), and `--state` keeps one state or names the choices.
#[test]
fn features_show_health_and_cleanup_lists_the_evidence() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "10"]);
    let table = ramp.run(&["features"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    assert!(
        header.contains(&"KIND") && header.contains(&"IN STAGE") && header.contains(&"HEALTH"),
        "{table}"
    );
    let cells: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert!(
        cells.contains(&"release") && cells.contains(&"0d"),
        "{table}"
    );
    assert_eq!(
        cells.last(),
        Some(&"-"),
        "no health state, no description: {table}"
    );
    let listed = ramp.json(&["features"]);
    assert_eq!(listed[0]["health"]["states"], json!([]), "{listed}");
    assert!(listed[0]["stage_since"].is_string(), "{listed}");

    assert_eq!(
        ramp.run(&["cleanup"]),
        "safe to delete: 0, ready to graduate: 0, stale: 0, unused: 0\nnothing to clean up\n"
    );
    let later = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    let report = ramp.run(&["cleanup", "--at", &later]);
    assert!(
        report.contains("chat (release, development, 10%)")
            && report.contains(
                "  stale: created 60 days ago; release flags are expected to live 40 days"
            ),
        "{report}"
    );
    let stale = ramp.json(&["cleanup", "--at", &later, "--state", "stale"]);
    assert_eq!(stale["features"][0]["name"], "chat", "{stale}");
    assert_eq!(stale["counts"]["stale"], 1, "{stale}");
    let evidence = &stale["features"][0]["health"]["states"][0]["evidence"];
    assert_eq!(evidence["expected_life_days"], 40, "{stale}");
    let unused = ramp.json(&["cleanup", "--at", &later, "--state", "unused"]);
    assert_eq!(
        unused["features"],
        json!([]),
        "no checks reported: unused cannot be told"
    );
    let refusal = ramp.fails(&["cleanup", "--state", "old"], None);
    assert!(
        refusal.contains("unknown health state \"old\""),
        "{refusal}"
    );
}

#[test]
fn through_a_server_cleanup_and_features_show_health() {
    let served = common::served::Served::start();
    served.run(&["percentage", "chat", "10"]);
    let table = served.run(&["features"]);
    assert!(
        table.contains("IN STAGE") && table.contains("HEALTH"),
        "{table}"
    );
    let row = table.lines().nth(1).unwrap();
    assert!(row.split_whitespace().any(|cell| cell == "0d"), "{table}");
    assert!(served.run(&["cleanup"]).contains("nothing to clean up"));
    let report = served.json(&["cleanup", "--state", "stale"]);
    assert_eq!(report["features"], json!([]), "{report}");
    let refusal = served.fails(
        served.command(&served.admin),
        &["cleanup", "--at", "2030-01-01"],
    );
    assert!(refusal.contains("leave out --at"), "{refusal}");
    served.stop();
}
