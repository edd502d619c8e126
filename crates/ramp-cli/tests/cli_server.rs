//! `ramp --server URL --token T ...`: the real binary serving (`ramp serve` on a free loopback
//! port over a SQLite file) and the real binary acting through it, from the first admin token
//! it prints to a graceful SIGTERM.

mod common;

use assert_cmd::Command;
use common::served::Served;
use serde_json::json;

#[test]
fn every_everyday_command_works_through_the_server() {
    let served = Served::start();
    served.run(&["activate", "chat"]);
    assert_eq!(
        served.run(&["percentage", "chat", "12.5"]),
        "chat: percentage 12.5 %\n"
    );
    let ids: String = (0..10_000).map(|id| format!("user-{id:05}\n")).collect();
    std::fs::write(served.directory.path().join("ids.txt"), ids).expect("the id file");
    served.run(&["users", "add", "chat", "--file", "ids.txt"]);
    served.run(&["exclude", "add", "chat", "user-00001"]);
    served.run(&[
        "group",
        "define",
        "beta",
        "--member",
        "7",
        "--rule",
        "plan in [pro, team]",
    ]);
    served.run(&["groups", "add", "chat", "beta"]);
    served.run(&["data", "set", "chat", "owner=ana"]);
    served.run(&["stage", "chat", "beta"]);

    let feature = served.json(&["show", "chat"]);
    assert_eq!(feature["percentage"], json!(12.5));
    assert_eq!(feature["users"].as_array().map(Vec::len), Some(10_000));
    assert_eq!(feature["excluded_users"], json!(["user-00001"]));
    assert_eq!(feature["groups"], json!(["beta"]));
    assert_eq!(feature["data"]["owner"], json!("ana"));
    assert_eq!(feature["stage"], json!("beta"));
    assert_eq!(served.json(&["features"])[0]["name"], json!("chat"));
    let check = |user: &str| served.json(&["check", "chat", "--user", user])["reason"].clone();
    assert_eq!(check("user-00005"), json!("user"));
    assert_eq!(check("user-00001"), json!("excluded"));
    assert_eq!(check("7"), json!("group"));
    let group = served.json(&["group", "show", "beta"]);
    assert_eq!(group["features"], json!(["chat"]));

    // Every change is recorded as made by the token, not by an --actor or the OS user.
    let history = served.json(&["history", "chat", "--actor", "someone-else"]);
    let events = history.as_array().expect("events");
    assert_eq!(events.len(), 7, "{history}");
    assert!(
        events.iter().all(|event| event["actor"] == "admin"),
        "{history}"
    );
    // Newest first: stage, data, groups, exclusion, users, percentage, creation.
    let stage_event = events[0]["id"].as_u64().expect("an id").to_string();
    let reverted = served.run(&["revert", "chat", &stage_event]);
    assert!(
        reverted.contains("restored to its state before event"),
        "{reverted}"
    );
    assert!(reverted.contains("(recorded as #"), "{reverted}");
    // `activate` moved the new feature to Everyone in its first event.
    assert_eq!(served.json(&["show", "chat"])["stage"], json!("everyone"));

    let export = served.directory.path().join("export.json");
    let export = export.to_str().expect("a UTF-8 path");
    served.run(&["export", export]);
    served.run(&["delete", "chat"]);
    served.run(&["group", "delete", "beta"]);
    let summary = served.json(&["import", export]);
    assert_eq!(
        (summary["created"].clone(), summary["groups"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        served.json(&["show", "chat"])["users"]
            .as_array()
            .map(Vec::len),
        Some(10_000)
    );

    assert!(served.stop().success(), "ramp serve exits 0 on SIGTERM");
}

#[test]
fn tokens_roles_and_failures_are_clear() {
    let served = Served::start();
    let created = served.json(&["token", "create", "--name", "ci", "--role", "reader"]);
    assert_eq!(
        (created["name"].clone(), created["role"].clone()),
        (json!("ci"), json!("reader"))
    );
    let reader = created["token"].as_str().expect("the new token").to_owned();
    let tokens = served.json(&["token", "list"]);
    let names: Vec<&str> = tokens
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|token| token["name"].as_str())
        .collect();
    assert_eq!(names, vec!["admin", "ci"]);
    served.run(&["activate", "chat"]);

    // A reader reads, and a write names the role it lacks.
    let output = served
        .command(&reader)
        .args(["show", "chat"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let error = served.fails(served.command(&reader), &["percentage", "chat", "50"]);
    assert!(
        error.contains("has role reader; this needs admin"),
        "{error}"
    );
    let error = served.fails(served.command("ramp_not_a_token"), &["features"]);
    assert!(error.contains("the server refused the token"), "{error}");
    served.run(&["token", "revoke", "ci"]);
    let error = served.fails(served.command(&reader), &["show", "chat"]);
    assert!(error.contains("the server refused the token"), "{error}");

    // Contradictory or missing flags.
    let mut both = served.command(&served.admin);
    both.args(["--store", "memory://"]);
    let error = served.fails(both, &["features"]);
    assert!(error.contains("--store and --server"), "{error}");
    let mut tokenless = Command::cargo_bin("ramp").expect("the ramp binary");
    tokenless
        .env_remove("RAMP_TOKEN")
        .args(["--server", &served.url]);
    let error = served.fails(tokenless, &["features"]);
    assert!(error.contains("--server needs a token"), "{error}");
    let error = served.fails(served.command(&served.admin), &["serve"]);
    assert!(
        error.contains("cannot act through another server"),
        "{error}"
    );
    let error = served.fails(
        served.command(&served.admin),
        &["copy", "--from", "memory://", "--to", "memory://"],
    );
    assert!(error.contains("leave out --server"), "{error}");
    // The variables work like the flags, and a typed --store beats RAMP_SERVER.
    let mut from_environment = Command::cargo_bin("ramp").expect("the ramp binary");
    from_environment
        .env("RAMP_SERVER", &served.url)
        .env("RAMP_TOKEN", &served.admin)
        .env_remove("RAMP_STORE")
        .args(["features", "--json"]);
    let output = from_environment.output().expect("runs");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"chat\""));
    let mut typed_store = Command::cargo_bin("ramp").expect("the ramp binary");
    typed_store
        .env("RAMP_SERVER", &served.url)
        .env_remove("RAMP_TOKEN")
        .args(["--store", "memory://", "features", "--json"]);
    assert_eq!(typed_store.output().expect("runs").stdout, b"[]\n");

    let url = served.url.clone();
    let admin = served.admin.clone();
    assert!(served.stop().success(), "ramp serve exits 0 on SIGTERM");
    let mut down = Command::cargo_bin("ramp").expect("the ramp binary");
    down.env_remove("RAMP_STORE")
        .args(["--server", &url, "--token", &admin]);
    let output = down.args(["features"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot reach the server at http://127.0.0.1:"),
        "{stderr}"
    );
}
