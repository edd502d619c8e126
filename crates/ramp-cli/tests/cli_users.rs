//! Whole-binary tests of `users`: ids from arguments, files and stdin, applied as one change.

mod common;

use common::Ramp;
use serde_json::json;

#[test]
fn ten_thousand_ids_from_a_file_are_one_change() {
    let ramp = Ramp::new();
    let file = ramp.path("ids.txt");
    let ids: String = (1..=10_000).map(|id| format!("{id}\n")).collect();
    std::fs::write(&file, ids).expect("the id file");
    let file = file.to_str().expect("a UTF-8 path");
    let confirmation = ramp.run(&["users", "add", "big", "--file", file]);
    assert_eq!(confirmation, "big: users added (10000 users listed)\n");
    let feature = ramp.json(&["show", "big"]);
    let users = feature["users"].as_array().expect("a user list");
    assert_eq!(users.len(), 10_000);
    assert_eq!(users[0], "1");
    assert_eq!(users[9_999], "10000");
    assert_eq!(ramp.check("big", "5000")["reason"], "user");
    assert_eq!(ramp.json(&["history"]).as_array().map(Vec::len), Some(1));
    // Adding them again changes nothing and records nothing.
    ramp.run(&["users", "add", "big", "--file", file]);
    assert_eq!(ramp.json(&["history"]).as_array().map(Vec::len), Some(1));
}

#[test]
fn ids_from_stdin_are_trimmed_and_combined_with_arguments() {
    let ramp = Ramp::new();
    let output = ramp
        .command()
        .args(["users", "add", "chat", "7", "--file", "-", "--json"])
        .write_stdin(" 1 \n\n2\r\nuser three\n   \n")
        .output()
        .expect("ramp runs");
    assert!(output.status.success(), "{output:?}");
    let feature: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(feature["users"], json!(["7", "1", "2", "user three"]));
}

#[test]
fn remove_and_set_take_files_too() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "chat", "1", "2", "3", "4"]);
    let file = ramp.path("remove.txt");
    std::fs::write(&file, "2\n4\n").expect("the id file");
    let file = file.to_str().expect("a UTF-8 path");
    let feature = ramp.json(&["users", "remove", "chat", "--file", file]);
    assert_eq!(feature["users"], json!(["1", "3"]));
    let feature = ramp.json(&["users", "set", "chat", "9", "8", "9"]);
    assert_eq!(feature["users"], json!(["9", "8"]));
}

#[test]
fn one_bad_line_stores_nothing_and_is_named() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "chat", "1"]);
    let file = ramp.path("ids.txt");
    std::fs::write(&file, "10\n11\nbad,id\n12\nworse|id\n").expect("the id file");
    let file = file.to_str().expect("a UTF-8 path");
    let error = ramp.fails(&["users", "add", "chat", "--file", file], None);
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("bad,id"), "{error}");
    let error = ramp.fails(
        &["users", "set", "chat", "--file", "-"],
        Some("ok\n\n\u{1}\n"),
    );
    assert!(error.contains("standard input, line 3"), "{error}");
    let error = ramp.fails(&["users", "add", "chat", "--file", "missing.txt"], None);
    assert!(error.contains("missing.txt"), "{error}");
    let error = ramp.fails(&["users", "add", "chat"], None);
    assert!(error.contains("no user ids"), "{error}");
}
