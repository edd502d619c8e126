//! `ramp account`: web-UI logins made from the command line, with the password on standard
//! input, stored as argon2 and usable with the server's login; on a store or through a server.

mod common;

use common::served::Served;
use common::Ramp;
use serde_json::json;

#[test]
fn accounts_are_created_from_standard_input_listed_and_deleted() {
    let ramp = Ramp::new();
    let output = ramp
        .command()
        .args(["account", "create", "vera", "--role", "viewer"])
        .write_stdin("a long password\n")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "created viewer account \"vera\"\n"
    );
    let listed = ramp.json(&["account", "list"]);
    assert_eq!(listed[0]["name"], json!("vera"));
    assert_eq!(listed[0]["role"], json!("viewer"));

    let short = ramp
        .command()
        .args(["account", "create", "sam", "--role", "admin"])
        .write_stdin("short\n")
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
    let twice = ramp
        .command()
        .args(["account", "create", "vera", "--role", "admin"])
        .env("RAMP_PASSWORD", "another password")
        .output()
        .unwrap();
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already exists"));
    let role = ramp
        .command()
        .args(["account", "create", "sam", "--role", "owner"])
        .env("RAMP_PASSWORD", "a long password")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&role.stderr).contains("expected admin or viewer"));

    assert_eq!(
        ramp.run(&["account", "delete", "vera"]),
        "deleted account \"vera\"\n"
    );
    assert_eq!(ramp.run(&["account", "list"]), "no accounts\n");
    let missing = ramp
        .command()
        .args(["account", "delete", "vera"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account named \"vera\""));
}

#[test]
fn accounts_are_managed_through_a_server() {
    let served = Served::start();
    let output = served
        .command(&served.admin)
        .args(["account", "create", "vera", "--role", "viewer"])
        .write_stdin("a long password\n")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "created viewer account \"vera\"\n"
    );
    let listed = served.json(&["account", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["name"], json!("vera"));
    assert_eq!(listed[0]["role"], json!("viewer"));
    // Made by the server, so recorded as made by the token that asked.
    assert_eq!(listed[0]["created_by"], json!("admin"));
    // Tokens are listed apart: the admin token is not an account.
    assert!(served.run(&["token", "list"]).contains("admin"));

    let mut short = served.command(&served.admin);
    short.write_stdin("short\n");
    let short = served.fails(short, &["account", "create", "sam", "--role", "admin"]);
    assert!(short.contains("at least 8 characters"), "{short}");
    let mut twice = served.command(&served.admin);
    twice.env("RAMP_PASSWORD", "another password");
    let twice = served.fails(twice, &["account", "create", "vera", "--role", "admin"]);
    assert!(twice.contains("already exists"), "{twice}");

    assert_eq!(
        served.run(&["account", "delete", "vera"]),
        "deleted account \"vera\"\n"
    );
    assert_eq!(served.run(&["account", "list"]), "no accounts\n");
    let missing = served.fails(
        served.command(&served.admin),
        &["account", "delete", "vera"],
    );
    assert!(missing.contains("no account named \"vera\""), "{missing}");
}
