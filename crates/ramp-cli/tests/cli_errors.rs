//! Whole-binary tests of failure: every kind of bad input exits 1 with one `error: ` line and
//! leaves the store unchanged; usage errors exit 2; an unusable store exits 1.

mod common;

use common::Ramp;

#[test]
fn bad_input_exits_1_with_one_line_and_changes_nothing() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "10"]);
    ramp.run(&["group", "define", "staff", "--member", "1"]);
    // (arguments, stdin, a word the message must contain)
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (&["activate", "a,b"], None, "','"),
        (&["activate", ".."], None, "a URL cannot name it"),
        (
            &["groups", "add", "chat", "."],
            None,
            "a URL cannot name it",
        ),
        (
            &["group", "define", "..", "--member", "1"],
            None,
            "group name",
        ),
        (&["percentage", "chat", "101"], None, "101"),
        (&["percentage", "chat", "NaN"], None, "NaN"),
        (&["percentage", "chat", "-5"], None, "-5"),
        (&["percentage", "chat", "ten"], None, "ten"),
        (&["stage", "chat", "done"], None, "rolling_out"),
        (
            &["group", "define", "g", "--rule", "plan like [x]"],
            None,
            "invalid rule",
        ),
        (
            &["group", "define", "g", "--rule", "age >= old"],
            None,
            "invalid rule",
        ),
        (&["group", "define", "g", "--member", "a|b"], None, "'|'"),
        (&["show", "missing"], None, "not found"),
        (&["delete", "missing"], None, "not found"),
        (&["group", "show", "missing"], None, "not found"),
        (&["group", "delete", "missing"], None, "not found"),
        (&["revert", "chat", "999"], None, "not found"),
        (&["revert", "chat", "latest"], None, "event id"),
        (&["users", "add", "chat", "ok", "no,pe"], None, "','"),
        (&["exclude", "add", "chat", "x|y"], None, "'|'"),
        (&["groups", "add", "chat", "a b"], None, "group name"),
        (&["data", "set", "chat", "key="], None, "no value"),
        (&["data", "set", "chat", "novalue"], None, "KEY=VALUE"),
        (&["data", "set", "chat", "__ramp=1"], None, "reserved"),
        (&["check", "chat", "--attr", "plan"], None, "KEY=VALUE"),
        (&["check", "bad|name"], None, "'|'"),
        (&["import", "-"], Some("{}"), "invalid import file"),
        (&["import", "nowhere.json"], None, "nowhere.json"),
    ];
    for (arguments, stdin, expected) in cases {
        let error = ramp.fails(arguments, *stdin);
        assert!(error.contains(expected), "{arguments:?}: {error}");
    }
}

#[test]
fn reverting_another_features_event_is_refused() {
    let ramp = Ramp::new();
    ramp.run(&["activate", "chat"]);
    ramp.run(&["activate", "search"]);
    let error = ramp.fails(&["revert", "chat", "2"], None);
    assert!(error.contains("belongs to feature \"search\""), "{error}");
}

#[test]
fn usage_errors_exit_2() {
    let ramp = Ramp::new();
    for arguments in [
        &["frobnicate"][..],
        &["percentage", "chat"],
        &["exclude", "add", "chat"],
        &["history", "--limit", "0"],
        &[],
    ] {
        ramp.command().args(arguments).assert().code(2);
    }
}

#[test]
fn help_lists_the_commands() {
    let ramp = Ramp::new();
    let help = ramp.command().arg("--help").assert().success();
    let stdout = String::from_utf8_lossy(&help.get_output().stdout).into_owned();
    for command in [
        "features",
        "percentage",
        "users",
        "check",
        "history",
        "import",
    ] {
        assert!(stdout.contains(command), "{stdout}");
    }
    ramp.command()
        .args(["users", "add", "--help"])
        .assert()
        .success();
}

#[test]
fn an_unusable_store_exits_1_with_a_clear_message() {
    let ramp = Ramp::new();
    let garbage = ramp.path("garbage.db");
    std::fs::write(
        &garbage,
        "this is not a database, not even close ".repeat(100),
    )
    .expect("a file");
    let cases = [
        ("nosuch://x".to_owned(), "invalid store URL"),
        ("sqlite://".to_owned(), "invalid store URL"),
        (
            format!("sqlite://{}", ramp.path("no/such/dir/ramp.db").display()),
            "unavailable",
        ),
        (format!("sqlite://{}", garbage.display()), "unreadable"),
    ];
    for (url, expected) in cases {
        let output = assert_cmd::Command::cargo_bin("ramp")
            .expect("the ramp binary")
            .env_remove("RAMP_STORE")
            .args(["features", "--store", &url])
            .output()
            .expect("ramp runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr}");
        assert!(stderr.starts_with("error: "), "{url}: {stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
    }
}

#[test]
fn the_store_comes_from_ramp_store_when_no_flag_is_given() {
    let ramp = Ramp::new();
    let url = format!("sqlite://{}", ramp.path("from-env.db").display());
    assert_cmd::Command::cargo_bin("ramp")
        .expect("the ramp binary")
        .env("RAMP_STORE", &url)
        .args(["activate", "chat"])
        .assert()
        .success();
    assert!(ramp.path("from-env.db").exists());
}

/// A store that cannot be reached fails fast with one clear line and exit code 1, never a hang
/// or a panic. Nothing listens on these ports.
#[test]
fn unreachable_stores_fail_with_a_clear_message() {
    for url in [
        "redis://127.0.0.1:1/0",
        "postgres://postgres@127.0.0.1:1/test",
    ] {
        let output = assert_cmd::Command::cargo_bin("ramp")
            .unwrap()
            .env_remove("RAMP_STORE")
            .args(["--store", url, "features"])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr}");
        assert!(stderr.contains("unavailable"), "{url}: {stderr}");
    }
}
