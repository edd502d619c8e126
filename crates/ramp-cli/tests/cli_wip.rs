//! Whole-binary tests of WIP limits: `ramp wip set/clear` change the stored limits (bad
//! stages and limits are refused and change nothing), `ramp wip` lists them, and `ramp stage`
//! into a full stage is refused unless `--override-reason` is given, which history records,
//! with a store and through a server alike. `ramp lifecycle` shows the same settings with each
//! kind's expected life and the health windows, and `ramp lifecycle set` changes those (bad
//! values change nothing); `ramp kind` sets a feature's kind, which `ramp show` shows. Through
//! a server, both go through its API.

mod common;

use common::served::Served;
use common::Ramp;
use serde_json::json;

#[test]
fn limits_are_set_listed_and_cleared() {
    let ramp = Ramp::new();
    assert_eq!(
        ramp.run(&["wip", "set", "beta", "2"]),
        "WIP limit of beta: 2\n"
    );
    ramp.fails(&["wip", "set", "beta", "-1"], None);
    ramp.fails(&["wip", "set", "beta", "10001"], None);
    let unknown = ramp.fails(&["wip", "set", "done", "3"], None);
    assert!(unknown.contains("unknown stage"), "{unknown}");
    let listed = ramp.json(&["wip"]);
    assert_eq!(listed["wip_limits"], json!({"beta": 2}), "{listed}");
    assert_eq!(listed["version"], 1, "bad input wrote nothing");
    assert!(ramp.run(&["wip"]).contains("beta"));
    assert_eq!(
        ramp.run(&["wip", "clear", "beta"]),
        "WIP limit of beta: none\n"
    );
    assert_eq!(ramp.json(&["wip"])["wip_limits"], json!({}));
}

#[test]
fn a_full_stage_needs_an_override_reason() {
    let ramp = Ramp::new();
    ramp.run(&["stage", "one", "beta"]);
    ramp.run(&["stage", "two", "development"]);
    ramp.run(&["wip", "set", "beta", "1"]);
    let refusal = ramp.fails(&["stage", "two", "beta"], None);
    assert!(
        refusal.contains("beta stage is full") && refusal.contains("--override-reason"),
        "{refusal}"
    );
    assert_eq!(ramp.json(&["show", "two"])["stage"], "development");
    assert_eq!(
        ramp.run(&["stage", "two", "beta", "--override-reason", "demo day"]),
        "two: stage beta\n"
    );
    let history = ramp.json(&["history", "two", "--limit", "1"]);
    assert_eq!(
        history[0]["comment"], "WIP limit override (beta had 1 of 1): demo day",
        "{history}"
    );
}

#[test]
fn an_override_reason_reaches_the_server() {
    let served = Served::start();
    served.run(&["stage", "one", "beta"]);
    served.run(&["stage", "two", "development"]);
    served.run(&["wip", "set", "beta", "1"]);
    let refusal = served.fails(served.command(&served.admin), &["stage", "two", "beta"]);
    assert!(
        refusal.contains("beta stage is full") && refusal.contains("--override-reason"),
        "{refusal}"
    );
    assert_eq!(served.json(&["show", "two"])["stage"], "development");
    assert_eq!(
        served.run(&["stage", "two", "beta", "--override-reason", "demo day"]),
        "two: stage beta\n"
    );
    let history = served.json(&["history", "two", "--limit", "1"]);
    assert_eq!(
        history[0]["comment"], "WIP limit override (beta had 1 of 1): demo day",
        "{history}"
    );
    let graduation = served.fails(
        served.command(&served.admin),
        &["stage", "two", "graduated"],
    );
    assert!(graduation.contains("reason"), "{graduation}");
    served.run(&[
        "stage",
        "two",
        "graduated",
        "--reason",
        "kept for one customer",
    ]);
    let history = served.json(&["history", "two", "--limit", "1"]);
    assert_eq!(history[0]["comment"], "kept for one customer", "{history}");
    served.stop();
}

#[test]
fn lifecycle_shows_and_sets_expected_lives_and_windows() {
    let ramp = Ramp::new();
    ramp.run(&["wip", "set", "beta", "2"]);
    let shown = ramp.run(&["lifecycle"]);
    for line in [
        "  beta         2",
        "  release      40 days (default)",
        "  operational  7 days (default)",
        "  kill_switch  permanent (default)",
        "  unused_after_days             30 days",
    ] {
        assert!(shown.contains(line), "{line:?} in\n{shown}");
    }
    let written = ramp.json(&[
        "lifecycle",
        "set",
        "--expected-life",
        "release=20",
        "--expected-life",
        "operational=permanent",
        "--expected-life",
        "permission=365",
        "--unused-after-days",
        "60",
    ]);
    assert_eq!(
        written["effective_expected_life_days"],
        json!({"release": 20, "experiment": 40, "operational": null,
               "kill_switch": null, "permission": 365}),
        "{written}"
    );
    assert_eq!(written["unused_after_days"], 60);
    assert_eq!(
        written["wip_limits"],
        json!({"beta": 2}),
        "WIP limits are kept"
    );
    assert_eq!(written["version"], 2);
    let shown = ramp.run(&["lifecycle"]);
    assert!(shown.contains("  release      20 days\n"), "{shown}");
    assert!(shown.contains("  operational  permanent\n"), "{shown}");

    for arguments in [
        &["lifecycle", "set", "--expected-life", "release=0"][..],
        &["lifecycle", "set", "--expected-life", "release=3651"],
        &["lifecycle", "set", "--expected-life", "flag=10"],
        &["lifecycle", "set", "--expected-life", "release"],
        &["lifecycle", "set", "--unused-after-days", "-1"],
        &[
            "lifecycle",
            "set",
            "--expected-life",
            "release=5",
            "--safe-to-delete-after-days",
            "x",
        ],
        &["lifecycle", "set"],
    ] {
        ramp.fails(arguments, None);
    }
    let unknown = ramp.fails(&["lifecycle", "set", "--expected-life", "flag=10"], None);
    assert!(unknown.contains("unknown kind \"flag\""), "{unknown}");
    let unchanged = ramp.json(&["lifecycle"]);
    assert_eq!(unchanged["version"], 2, "bad input wrote nothing");
    assert_eq!(unchanged["effective_expected_life_days"]["release"], 20);

    ramp.run(&["lifecycle", "set", "--expected-life", "release=default"]);
    let reset = ramp.json(&["lifecycle"]);
    assert_eq!(reset["effective_expected_life_days"]["release"], 40);
    assert_eq!(
        reset["expected_life_days"],
        json!({"operational": null, "permission": 365})
    );
    let history = ramp.json(&["history", "--limit", "1"]);
    assert_eq!(
        history[0]["changes"],
        json!([{"kind": "value", "field": "expected_life_days.release", "before": 20, "after": 40}]),
        "{history}"
    );
}

#[test]
fn kind_is_set_shown_and_refused_when_unknown() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "10"]);
    assert!(ramp
        .run(&["show", "chat"])
        .contains("kind:        release\n"));
    assert_eq!(
        ramp.run(&["kind", "chat", "kill_switch"]),
        "chat: kind kill_switch\n"
    );
    assert!(ramp
        .run(&["show", "chat"])
        .contains("kind:        kill_switch\n"));
    assert_eq!(ramp.json(&["show", "chat"])["kind"], "kill_switch");
    let unknown = ramp.fails(&["kind", "chat", "flag"], None);
    assert!(
        unknown.contains("unknown kind \"flag\"") && unknown.contains("permission"),
        "{unknown}"
    );
    assert_eq!(ramp.json(&["show", "chat"])["kind"], "kill_switch");
    let history = ramp.json(&["history", "chat", "--limit", "1"]);
    assert_eq!(
        history[0]["changes"],
        json!([{"kind": "value", "field": "kind", "before": "release", "after": "kill_switch"}])
    );
}

#[test]
fn through_a_server_kinds_and_lifecycle_settings_use_its_api() {
    let served = common::served::Served::start();
    served.run(&["percentage", "chat", "10"]);
    served.run(&["kind", "chat", "experiment"]);
    assert_eq!(served.json(&["show", "chat"])["kind"], "experiment");
    let history = served.json(&["history", "chat", "--limit", "1"]);
    assert_eq!(history[0]["actor"], "admin", "{history}");
    let written = served.json(&["lifecycle", "set", "--expected-life", "experiment=10"]);
    assert_eq!(
        written["effective_expected_life_days"]["experiment"], 10,
        "{written}"
    );
    assert_eq!(
        served.json(&["lifecycle"])["effective_expected_life_days"]["experiment"],
        10
    );
    let reader = served.json(&["token", "create", "--name", "ci", "--role", "reader"]);
    let reader = reader["token"].as_str().unwrap().to_owned();
    let refused = served.fails(
        served.command(&reader),
        &["lifecycle", "set", "--unused-after-days", "9"],
    );
    assert!(refused.contains("admin"), "{refused}");
    assert_eq!(served.json(&["lifecycle"])["unused_after_days"], 30);
    served.stop();
}
