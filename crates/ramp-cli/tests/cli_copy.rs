//! `ramp copy`: every feature, group and history event reaches the destination, the check
//! passes, and running it twice changes nothing.

mod common;

use common::Ramp;
use serde_json::Value;

/// Features without the fields a copy cannot keep (times and versions belong to each store).
fn states(ramp: &Ramp) -> Value {
    let mut features = ramp.json(&["features"]);
    for feature in features.as_array_mut().unwrap() {
        let object = feature.as_object_mut().unwrap();
        for field in ["created_at", "updated_at", "version"] {
            object.remove(field);
        }
    }
    features
}

#[test]
fn copy_moves_everything_and_is_safe_to_run_twice() {
    let source = Ramp::new();
    source.run(&["percentage", "chat", "12.5"]);
    source.run(&["users", "add", "chat", "1", "user-72"]);
    source.run(&["exclude", "add", "chat", "3"]);
    source.run(&["stage", "chat", "beta"]);
    source.run(&[
        "group",
        "define",
        "staff",
        "--rule",
        "email ends_with @corp.com",
    ]);
    source.run(&["groups", "add", "beta-ui", "staff"]);
    source.run(&["data", "set", "beta-ui", "owner=ana"]);
    let destination = Ramp::new();
    let destination_url = format!("sqlite://{}", destination.path("ramp.db").display());
    let source_url = format!("sqlite://{}", source.path("ramp.db").display());

    let first = source.json(&[
        "copy",
        "--from",
        &source_url,
        "--to",
        &destination_url,
        "--with-history",
    ]);
    assert_eq!(first["features"]["created"], 2);
    assert_eq!(first["features"]["groups"], 1);
    assert_eq!(first["history_read"], 6);
    assert_eq!(first["history_copied"], 6);
    assert!(first["answers_checked"].as_u64().unwrap() > 2_000);
    assert_eq!(states(&destination), states(&source));
    assert_eq!(
        destination.json(&["group", "list"]),
        source.json(&["group", "list"])
    );
    let copied_history = destination.json(&["history", "chat"]);
    assert!(copied_history
        .as_array()
        .unwrap()
        .iter()
        .any(|event| event["changes"][0]["field"] == "excluded_users"));

    let second = source.json(&[
        "copy",
        "--from",
        &source_url,
        "--to",
        &destination_url,
        "--with-history",
    ]);
    assert_eq!(second["features"]["unchanged"], 2);
    assert_eq!(second["features"]["created"], 0);
    assert_eq!(second["history_copied"], 0, "history is not copied twice");
    assert_eq!(states(&destination), states(&source));

    let human = source.run(&["copy", "--from", &source_url, "--to", &destination_url]);
    assert!(human.contains("copied 2 features"), "{human}");
    assert!(human.contains("same answer"), "{human}");
}

#[test]
fn copy_refuses_bad_urls_and_the_same_store() {
    let ramp = Ramp::new();
    let url = format!("sqlite://{}", ramp.path("ramp.db").display());
    let error = ramp.fails(&["copy", "--from", &url, "--to", &url], None);
    assert!(error.contains("same store"), "{error}");
    let error = ramp.fails(&["copy", "--from", &url, "--to", "nosuch://x"], None);
    assert!(error.contains("nosuch://x"), "{error}");
}
