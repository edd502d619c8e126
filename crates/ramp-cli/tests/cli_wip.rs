//! Whole-binary tests of WIP limits: `ramp wip set/clear` change the stored limits (bad
//! stages and limits are refused and change nothing), `ramp wip` lists them, and `ramp stage`
//! into a full stage is refused unless `--override-reason` is given, which history records,
//! with a store and through a server alike.

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
