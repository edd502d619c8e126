//! `ramp account`: web-UI logins made from the command line, with the password on standard
//! input, stored as argon2 and usable with the server's login.

mod common;

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
