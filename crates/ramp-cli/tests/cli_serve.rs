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
    // Keep reading: closing the pipe while the server still prints its banner would make its
    // write fail with a broken pipe, which `ramp` treats as the reader's choice and exits 0.
    std::thread::spawn(move || lines.for_each(drop));
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

/// Sends one HTTP/1.1 request with a JSON body to `port` and returns the status line.
fn post_json(port: u16, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(stream) => stream,
        Err(error) => return format!("cannot connect: {error}"),
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: ramp\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    if let Err(error) = stream.read_to_end(&mut answer) {
        return format!("no answer: {error}");
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Login names are chosen by whoever sends the request: one with a newline must not forge a
/// log line, and a huge one must not write megabytes of log.
#[test]
fn login_names_cannot_forge_log_lines_or_flood_the_log() {
    let ramp = Ramp::new();
    let (mut child, printed) = start(
        &ramp,
        &["serve", "--bind", "127.0.0.1:0"],
        &[("RAMP_LOG", "info")],
    );
    let port: u16 = printed[0]["Ramp listening on http://127.0.0.1:".len()..]
        .split(' ')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port");
    // Read the log as it is written, so that a flood of it could not block the server.
    let mut stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
        log
    });
    let forged = serde_json::json!({
        "username": "admin\n2026-12-06T21:30:00Z  INFO ramp: FORGED logged in user=root",
        "password": "guess",
    });
    let huge = serde_json::json!({ "username": "x".repeat(900_000), "password": "guess" });
    let wrong = serde_json::json!({ "username": "admin", "password": "guess" });
    let statuses: Vec<String> = [forged, huge, wrong]
        .iter()
        .map(|login| post_json(port, "/api/v1/session", &login.to_string()))
        .collect();
    assert!(terminate(child).success());
    let log = log.join().expect("the log");
    for status in &statuses {
        assert!(status.contains(" 401"), "{statuses:?}\n{log}");
    }
    assert!(
        log.contains("failed login"),
        "the wrong password is logged: {log}"
    );
    assert!(
        !log.lines()
            .any(|line| line.contains("FORGED") && !line.contains("failed login")),
        "a login name forged a log line:\n{log}"
    );
    assert!(log.len() < 64 * 1024, "{} bytes of log", log.len());
}
