//! `ramp serve` as a user runs it: settings from a TOML file and the environment, the address
//! and first token printed, a clean exit on SIGTERM, and clear refusals.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Ramp;

/// Starts `ramp serve` with extra arguments and environment; returns the child and the first
/// two lines it printed.
fn start(
    ramp: &Ramp,
    arguments: &[&str],
    environment: &[(&str, &str)],
) -> (std::process::Child, Vec<String>) {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("ramp"));
    command
        .env_remove("RAMP_STORE")
        .env_remove("RAMP_BIND")
        .env_remove("RAMP_CONFIG")
        .env("RAMP_LOG", "warn")
        .current_dir(ramp.path(""))
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in environment {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("ramp serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let printed = (0..2)
        .map(|_| lines.next().expect("a line").expect("UTF-8"))
        .collect();
    (child, printed)
}

fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    child.wait().expect("ramp serve exits")
}

#[test]
fn a_config_file_sets_the_store_and_the_environment_the_address() {
    let ramp = Ramp::new();
    let store = ramp.path("from-config.db");
    let config = ramp.path("ramp.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:1\"\nstore = \"sqlite://{}\"\nheartbeat_seconds = 5\n",
            store.display()
        ),
    )
    .unwrap();
    let (child, printed) = start(
        &ramp,
        &["serve", "--config", config.to_str().unwrap()],
        &[("RAMP_BIND", "127.0.0.1:0")],
    );
    assert!(
        printed[0].starts_with("Ramp listening on http://127.0.0.1:"),
        "{printed:?}"
    );
    let port: u16 = printed[0]["Ramp listening on http://127.0.0.1:".len()..]
        .split(' ')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port");
    assert_ne!(port, 1, "the environment beats the file");
    assert!(printed[0].contains("from-config.db"), "{printed:?}");
    assert!(
        printed[0].contains("the web UI is at http://"),
        "{printed:?}"
    );
    assert!(
        printed[1].starts_with("Created the first admin token"),
        "{printed:?}"
    );
    let status = terminate(child);
    assert!(status.success(), "SIGTERM is a clean shutdown: {status:?}");
    assert!(store.exists(), "the store named in the file was used");
}

#[test]
fn a_public_address_without_a_token_is_refused() {
    let ramp = Ramp::new();
    let output = ramp
        .command()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .env_remove("RAMP_CONFIG")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("ramp token create"), "{stderr}");
}

#[test]
fn a_misspelt_setting_is_an_error_naming_it() {
    let ramp = Ramp::new();
    let config = ramp.path("ramp.toml");
    std::fs::write(&config, "bnid = \"127.0.0.1:0\"\n").unwrap();
    let output = ramp
        .command()
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bnid"), "{stderr}");
}

#[test]
fn tokens_are_created_listed_and_revoked_on_the_store() {
    let ramp = Ramp::new();
    let created = ramp.json(&["token", "create", "--name", "ci", "--role", "reader"]);
    assert!(created["token"].as_str().unwrap().starts_with("ramp_"));
    let listed = ramp.json(&["token", "list"]);
    assert_eq!(listed[0]["name"], "ci");
    assert_eq!(listed[0]["role"], "reader");
    assert!(!listed
        .to_string()
        .contains(created["token"].as_str().unwrap()));
    let error = ramp.fails(
        &["token", "create", "--name", "ci", "--role", "admin"],
        None,
    );
    assert!(error.contains("already exists"), "{error}");
    let error = ramp.fails(&["token", "create", "--name", "x", "--role", "owner"], None);
    assert!(error.contains("unknown role"), "{error}");
    ramp.run(&["token", "revoke", "ci"]);
    assert_eq!(ramp.json(&["token", "list"]), serde_json::json!([]));
    let error = ramp.fails(&["token", "revoke", "ci"], None);
    assert!(error.contains("no token named"), "{error}");
}
