//! Whole-binary tests of `export` and `import`: a round trip into a fresh store, and broken
//! files that must leave the store exactly as it was.

mod common;

use common::{settings, Ramp};
use serde_json::{json, Value};

/// A store with a little of everything.
fn populated() -> Ramp {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "20"]);
    ramp.run(&["users", "add", "chat", "1", "2"]);
    ramp.run(&["exclude", "add", "chat", "3"]);
    ramp.run(&["data", "set", "chat", "description=Chat", "owner=ana"]);
    ramp.run(&["stage", "chat", "beta"]);
    ramp.run(&["group", "define", "staff", "--rule", "plan in [pro, team]"]);
    ramp.run(&["groups", "add", "search", "staff"]);
    ramp.run(&["activate", "dark-mode"]);
    ramp
}

/// The export document without the time it was written.
fn exported(ramp: &Ramp) -> Value {
    let mut document: Value = serde_json::from_str(&ramp.run(&["export"])).expect("JSON");
    document
        .as_object_mut()
        .expect("an object")
        .remove("exported_at");
    document
}

fn features_settings(ramp: &Ramp) -> Vec<Value> {
    let features = ramp.json(&["features"]);
    features
        .as_array()
        .expect("an array")
        .iter()
        .map(settings)
        .collect()
}

#[test]
fn export_then_import_into_a_fresh_store_gives_the_same_features() {
    let source = populated();
    let file = source.path("export.json");
    let file = file.to_str().expect("a UTF-8 path");
    let written = source.json(&["export", file]);
    assert_eq!(written["features"], 3);
    assert_eq!(written["groups"], 1);

    let target = Ramp::new();
    let summary = target.json(&["import", file]);
    assert_eq!(
        summary,
        json!({"created": 3, "updated": 0, "unchanged": 0, "groups": 1})
    );
    // Everything but creation times and version counters, which a fresh store starts anew.
    assert_eq!(features_settings(&target), features_settings(&source));
    assert_eq!(exported(&target), exported(&source));
    assert_eq!(
        target.json(&["group", "list"]),
        source.json(&["group", "list"])
    );

    // Importing the same document again changes nothing.
    let again = target.run(&["import", file]);
    assert_eq!(
        again,
        "imported 3 features and 1 group: 0 created, 0 updated, 3 unchanged\n"
    );
}

#[test]
fn import_reads_stdin() {
    let source = populated();
    let document = source.run(&["export"]);
    let target = Ramp::new();
    let output = target
        .command()
        .args(["import", "-"])
        .write_stdin(document)
        .output()
        .expect("ramp runs");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(exported(&target), exported(&source));
}

#[test]
fn a_broken_file_imports_nothing() {
    let ramp = populated();
    let before = exported(&ramp);

    let bad_json = ramp.path("bad.json");
    std::fs::write(&bad_json, "{\"format\": \"ramp-export\", \"features\": [").expect("a file");
    let error = ramp.fails(&["import", bad_json.to_str().expect("UTF-8")], None);
    assert!(error.contains("invalid import file"), "{error}");

    // Valid JSON whose third feature lists a user twice: the first two must not be written.
    let mut document = before.clone();
    document["exported_at"] = json!("2026-01-01T00:00:00Z");
    document["features"] = json!([
        {"name": "new-one", "percentage": 5.0},
        {"name": "chat", "percentage": 99.0},
        {"name": "third", "users": ["1", "2", "1"]},
    ]);
    let duplicate = ramp.path("duplicate.json");
    std::fs::write(&duplicate, document.to_string()).expect("a file");
    let error = ramp.fails(&["import", duplicate.to_str().expect("UTF-8")], None);
    assert!(error.contains("\"third\""), "{error}");
    assert!(error.contains("twice"), "{error}");

    let error = ramp.fails(&["import", "-"], Some("not json at all"));
    assert!(error.contains("line 1"), "{error}");
    assert_eq!(exported(&ramp), before);
}
