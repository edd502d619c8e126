//! `ramp copy`: every feature, group and history event reaches the destination, the check
//! passes, and running it twice changes nothing.

mod common;

use common::Ramp;
use serde_json::Value;

/// Features without the fields a copy cannot keep (times, time in stage and versions belong
/// to each store).
fn states(ramp: &Ramp) -> Value {
    let mut features = ramp.json(&["features"]);
    for feature in features.as_array_mut().unwrap() {
        let object = feature.as_object_mut().unwrap();
        for field in ["created_at", "updated_at", "version", "stage_since"] {
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
    // Five feature changes and the stored group's creation.
    assert_eq!(first["history_read"], 7);
    assert_eq!(first["history_copied"], 7);
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
    // The group's own history came along, and reads apart from the features'.
    let group_history = destination.json(&["history", "--group", "staff"]);
    let group_events = group_history.as_array().unwrap();
    assert!(
        group_events.iter().all(|event| event["group"] == "staff")
            && group_events
                .iter()
                .any(|event| event["action"] == "created"),
        "{group_history}"
    );

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

/// Whether a local server answers on `port`; in CI a missing one fails the test instead.
fn service_available(name: &str, port: u16) -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    if std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(1)).is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{name} is not reachable on 127.0.0.1:{port} and CI=true"
    );
    eprintln!("SKIPPED: {name} not reachable at 127.0.0.1:{port}");
    false
}

/// The case that matters: a team leaves Redis (the gem's data) for PostgreSQL.
#[test]
fn copy_from_redis_to_postgres() {
    if !service_available("Redis", 6379) || !service_available("PostgreSQL", 5432) {
        return;
    }
    let unique = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let redis_url = format!("redis://127.0.0.1:6379/11?prefix=ramp-copy-{unique}:");
    let schema = format!("ramp_copy_{unique}");
    let postgres_url = format!("postgres://postgres@127.0.0.1:5432/test?schema={schema}");
    let on = |url: &str, arguments: &[&str]| {
        let output = assert_cmd::Command::cargo_bin("ramp")
            .unwrap()
            .env_remove("RAMP_STORE")
            .env_remove("RAMP_ACTOR")
            .arg("--store")
            .arg(url)
            .args(arguments)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "ramp {arguments:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    on(&redis_url, &["percentage", "chat", "12.5"]);
    on(&redis_url, &["users", "add", "chat", "1", "user-72"]);
    on(&redis_url, &["exclude", "add", "chat", "2"]);
    on(&redis_url, &["data", "set", "chat", "note=a|b"]);
    on(&redis_url, &["groups", "add", "search", "beta"]);

    let report: Value = serde_json::from_str(&on(
        &redis_url,
        &[
            "copy",
            "--from",
            &redis_url,
            "--to",
            &postgres_url,
            "--with-history",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(report["features"]["created"], 2, "{report}");
    assert!(report["history_copied"].as_u64().unwrap() >= 5, "{report}");
    let again: Value = serde_json::from_str(&on(
        &redis_url,
        &[
            "copy",
            "--from",
            &redis_url,
            "--to",
            &postgres_url,
            "--with-history",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(again["features"]["unchanged"], 2, "{again}");
    assert_eq!(again["history_copied"], 0, "{again}");

    let strip = |text: String| {
        let mut features: Value = serde_json::from_str(&text).unwrap();
        for feature in features.as_array_mut().unwrap() {
            for field in ["created_at", "updated_at", "version", "stage_since"] {
                feature.as_object_mut().unwrap().remove(field);
            }
        }
        features
    };
    assert_eq!(
        strip(on(&postgres_url, &["features", "--json"])),
        strip(on(&redis_url, &["features", "--json"]))
    );
    let check = on(&postgres_url, &["check", "chat", "--user", "2", "--json"]);
    assert!(check.contains("\"excluded\""), "{check}");

    // Clean up only what this test made: its key prefix and its schema.
    let keys = std::process::Command::new("redis-cli")
        .args([
            "-n",
            "11",
            "--scan",
            "--pattern",
            &format!("ramp-copy-{unique}:*"),
        ])
        .output()
        .unwrap();
    for key in String::from_utf8_lossy(&keys.stdout).lines() {
        let _ = std::process::Command::new("redis-cli")
            .args(["-n", "11", "del", key])
            .output();
    }
    let _ = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-qc",
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        ])
        .status();
}

/// The Ruby gem stores whatever it is given; a NUL in a feature's data (which PostgreSQL
/// cannot store, and Ramp refuses) is read without harm, and `ramp copy` stops before writing
/// anything, naming the feature, so it can be fixed in place and the copy run again.
#[test]
fn copy_names_the_feature_whose_gem_data_holds_nul() {
    if !service_available("Redis", 6379) {
        return;
    }
    let unique = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let prefix = format!("ramp-nul-{unique}:");
    let redis_url = format!("redis://127.0.0.1:6379/11?prefix={prefix}");
    let redis = |arguments: &[&str]| {
        let output = std::process::Command::new("redis-cli")
            .args(["-n", "11"])
            .args(arguments)
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success(), "{output:?}");
    };
    // What the gem writes for `rollout.set_feature_data(:notes, note: "a\0b")`.
    redis(&[
        "set",
        &format!("{prefix}feature:__features__"),
        "chat,notes",
    ]);
    redis(&["set", &format!("{prefix}feature:chat"), "100|||{}"]);
    redis(&[
        "set",
        &format!("{prefix}feature:notes"),
        r#"0|||{"note":"a\u0000b"}"#,
    ]);
    let on_redis = |arguments: &[&str]| {
        assert_cmd::Command::cargo_bin("ramp")
            .unwrap()
            .env_remove("RAMP_STORE")
            .env_remove("RAMP_ACTOR")
            .args(["--store", &redis_url])
            .args(arguments)
            .output()
            .expect("ramp runs")
    };
    let shown = on_redis(&["show", "notes", "--json"]);
    assert!(shown.status.success(), "{shown:?}");
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["data"]["note"], "a\u{0}b");

    let destination = Ramp::new();
    let destination_url = format!("sqlite://{}", destination.path("ramp.db").display());
    let copy = || on_redis(&["copy", "--from", &redis_url, "--to", &destination_url]);
    let refused = copy();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("feature \"notes\" cannot be copied")
            && stderr.contains("NUL")
            && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert_eq!(destination.json(&["features"]), serde_json::json!([]));

    // Fixed in place, the copy goes through.
    assert!(on_redis(&["data", "set", "notes", "note=ab"])
        .status
        .success());
    let copied = copy();
    assert!(copied.status.success(), "{copied:?}");
    assert_eq!(destination.json(&["show", "notes"])["data"]["note"], "ab");

    let keys = std::process::Command::new("redis-cli")
        .args(["-n", "11", "--scan", "--pattern", &format!("{prefix}*")])
        .output()
        .unwrap();
    for key in String::from_utf8_lossy(&keys.stdout).lines() {
        redis(&["del", key]);
    }
}
