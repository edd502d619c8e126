//! Whole-binary tests of the everyday commands: percentages and bucketing, exclusions, groups,
//! data, stages, states, history and revert, and `scan` against the defined flags.

mod common;

use common::Ramp;
use serde_json::json;

#[test]
fn percentage_uses_the_gems_bucketing() {
    let ramp = Ramp::new();
    assert_eq!(
        ramp.run(&["percentage", "chat", "20"]),
        "chat: percentage 20 %\n"
    );
    // The rollout gem puts user 2 in the first 20 % and user 1 outside it.
    assert_eq!(
        ramp.check("chat", "2"),
        json!({"feature": "chat", "active": true, "reason": "percentage"})
    );
    assert_eq!(
        ramp.check("chat", "1"),
        json!({"feature": "chat", "active": false, "reason": "outside_percentage"})
    );
    assert_eq!(
        ramp.run(&["check", "chat", "--user", "1"]),
        "chat: inactive (outside_percentage: not in the 20 %)\n"
    );
    assert_eq!(
        ramp.run(&["check", "chat", "--user", "2"]),
        "chat: active (percentage)\n"
    );
    let feature = ramp.json(&["percentage", "chat", "12.5%"]);
    assert_eq!(feature["percentage"], json!(12.5));
}

#[test]
fn activate_deactivate_and_delete() {
    let ramp = Ramp::new();
    let feature = ramp.json(&["activate", "chat"]);
    assert_eq!(feature["percentage"], json!(100.0));
    assert_eq!(ramp.check("chat", "anyone")["reason"], "everyone");
    ramp.run(&["users", "add", "chat", "7"]);
    let feature = ramp.json(&["deactivate", "chat"]);
    assert_eq!(feature["percentage"], json!(0.0));
    assert_eq!(feature["users"], json!([]));
    assert_eq!(ramp.run(&["delete", "chat"]), "chat: deleted\n");
    assert_eq!(ramp.json(&["features"]), json!([]));
    assert_eq!(ramp.check("chat", "7")["reason"], "not_found");
}

#[test]
fn an_exclusion_beats_the_allow_list_and_everyone() {
    let ramp = Ramp::new();
    ramp.run(&["users", "add", "chat", "5", "6"]);
    assert_eq!(ramp.check("chat", "5")["reason"], "user");
    let feature = ramp.json(&["exclude", "add", "chat", "5"]);
    assert_eq!(feature["excluded_users"], json!(["5"]));
    assert_eq!(
        ramp.check("chat", "5"),
        json!({"feature": "chat", "active": false, "reason": "excluded"})
    );
    ramp.run(&["activate", "chat"]);
    assert_eq!(ramp.check("chat", "5")["reason"], "excluded");
    ramp.run(&["exclude", "remove", "chat", "5"]);
    assert_eq!(ramp.check("chat", "5")["active"], true);
}

#[test]
fn a_stored_group_with_a_rule_turns_a_feature_on() {
    let ramp = Ramp::new();
    let group = ramp.json(&[
        "group",
        "define",
        "staff",
        "--description",
        "Our people",
        "--member",
        "42",
        "--rule",
        "email ends_with @corp.com",
    ]);
    assert_eq!(group["rules"][0]["operator"], "ends_with");
    ramp.run(&["groups", "add", "chat", "staff"]);
    let check = |arguments: &[&str]| {
        let mut all = vec!["check", "chat"];
        all.extend_from_slice(arguments);
        ramp.json(&all)
    };
    assert_eq!(
        check(&["--user", "9", "--attr", "email=ana@corp.com"]),
        json!({"feature": "chat", "active": true, "reason": "group", "group": "staff"})
    );
    assert_eq!(check(&["--user", "42"])["reason"], "group");
    assert_eq!(
        check(&["--user", "9", "--attr", "email=ana@else.com"])["active"],
        false
    );
    let shown = ramp.json(&["group", "show", "staff"]);
    assert_eq!(shown["features"], json!(["chat"]));
    assert_eq!(shown["members"], json!(["42"]));
    assert!(ramp.run(&["group", "list"]).contains("staff"));
    ramp.run(&["groups", "remove", "chat", "staff"]);
    ramp.run(&["group", "delete", "staff"]);
    assert_eq!(ramp.json(&["group", "list"]), json!([]));
}

#[test]
fn data_is_set_as_json_or_text_and_cleared() {
    let ramp = Ramp::new();
    let feature = ramp.json(&[
        "data",
        "set",
        "chat",
        "description=Chat window",
        "limit=3",
        "beta=true",
    ]);
    assert_eq!(
        feature["data"],
        json!({"description": "Chat window", "limit": 3, "beta": true})
    );
    assert!(ramp.run(&["features"]).contains("Chat window"));
    let feature = ramp.json(&["data", "set", "chat", "beta=null"]);
    assert_eq!(feature["data"].get("beta"), None);
    let feature = ramp.json(&["data", "clear", "chat"]);
    assert_eq!(feature["data"], json!({}));
}

#[test]
fn stage_and_states() {
    let ramp = Ramp::new();
    assert_eq!(ramp.run(&["stage", "chat", "beta"]), "chat: stage beta\n");
    assert_eq!(ramp.json(&["show", "chat"])["stage"], "beta");
    ramp.run(&["activate", "search"]);
    assert_eq!(
        ramp.json(&["states", "--user", "1"]),
        json!([
            {"feature": "chat", "active": false, "reason": "off"},
            {"feature": "search", "active": true, "reason": "everyone"},
        ])
    );
    let table = ramp.run(&["states"]);
    assert!(table.contains("search  active"), "{table}");
}

#[test]
fn show_cuts_long_user_lists_in_text_only() {
    let ramp = Ramp::new();
    let ids: Vec<String> = (1..=25).map(|id| id.to_string()).collect();
    let mut arguments = vec!["users", "add", "chat"];
    arguments.extend(ids.iter().map(String::as_str));
    ramp.run(&arguments);
    let text = ramp.run(&["show", "chat"]);
    // Only the users line: the rest of the output holds the creation time, whose hour may
    // well be 21.
    let users = text
        .lines()
        .find(|line| line.starts_with("users:"))
        .unwrap_or_else(|| panic!("no users line: {text}"));
    assert!(
        users.starts_with("users:       25 (first 20: 1, 2,"),
        "{text}"
    );
    assert!(users.contains(" 20"), "{text}");
    assert!(!users.contains(" 21"), "{text}");
    assert_eq!(
        ramp.json(&["show", "chat"])["users"]
            .as_array()
            .map(Vec::len),
        Some(25)
    );
}

#[test]
fn history_names_the_actor_from_the_flag_or_the_environment() {
    let ramp = Ramp::new();
    ramp.run(&["--actor", "ana", "percentage", "chat", "10"]);
    let output = ramp
        .command()
        .env("RAMP_ACTOR", "bob")
        .args(["percentage", "chat", "25"])
        .output()
        .expect("ramp runs");
    assert!(output.status.success());
    let history = ramp.run(&["history", "chat"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(lines[0].starts_with("#2 "), "{history}");
    assert!(
        lines[0].ends_with(" UTC bob updated chat: percentage from 10.0 to 25.0"),
        "{history}"
    );
    assert!(
        lines[1].ends_with(" UTC ana created chat: percentage from 0.0 to 10.0"),
        "{history}"
    );
    assert_eq!(ramp.run(&["history", "--limit", "1"]).lines().count(), 1);
    let older = ramp.json(&["history", "--before", "2"]);
    assert_eq!(older.as_array().map(Vec::len), Some(1));
    assert_eq!(older[0]["actor"], "ana");
}

/// Cron jobs, containers and systemd units often run without `$USER`: history then names the
/// account the process runs as (what `id -un` says), not "unknown".
#[test]
fn history_names_the_os_account_when_no_login_variable_is_set() {
    let ramp = Ramp::new();
    let output = ramp
        .command()
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["activate", "chat"])
        .output()
        .expect("ramp runs");
    assert!(output.status.success(), "{output:?}");
    let account = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id runs");
    let account = String::from_utf8(account.stdout).expect("a UTF-8 name");
    let account = account.trim();
    assert!(!account.is_empty());
    assert_eq!(ramp.json(&["history", "chat"])[0]["actor"], account);
    // A login variable, when set, still names the person (as under `sudo -u`).
    let output = ramp
        .command()
        .env_remove("USER")
        .env("LOGNAME", "lena")
        .args(["deactivate", "chat"])
        .output()
        .expect("ramp runs");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(ramp.json(&["history", "chat"])[0]["actor"], "lena");
}

#[test]
fn revert_restores_an_earlier_percentage() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "10"]);
    ramp.run(&["percentage", "chat", "25"]);
    ramp.run(&["percentage", "chat", "50"]);
    let history = ramp.json(&["history", "chat"]);
    // Newest first: [50, 25, 10]; reverting the change to 25 goes back to 10.
    let to_25 = history[1]["id"].as_u64().expect("an event id").to_string();
    let feature = ramp.json(&["revert", "chat", &format!("#{to_25}")]);
    assert_eq!(feature["percentage"], json!(10.0));
    let newest = ramp.run(&["history", "chat", "--limit", "1"]);
    assert!(
        newest.contains(&format!(
            "percentage from 50.0 to 10.0 (revert of event {to_25})"
        )),
        "{newest}"
    );
}

#[test]
fn revert_only_undoes_one_event_and_keeps_later_ones() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "chat", "10"]);
    ramp.run(&["stage", "chat", "beta"]);
    ramp.run(&["users", "add", "chat", "7"]);
    let history = ramp.json(&["history", "chat"]);
    let stage_move = history[1]["id"].as_u64().expect("an event id").to_string();
    let line = ramp.run(&["revert", "chat", &stage_move, "--only"]);
    assert!(line.contains("keeping later changes"), "{line}");
    let feature = ramp.json(&["show", "chat"]);
    assert_eq!(feature["stage"], json!("development"));
    assert_eq!(feature["users"], json!(["7"]), "the later change stays");
    assert_eq!(feature["percentage"], json!(10.0));
}

#[test]
fn global_flags_work_before_and_after_the_command() {
    let ramp = Ramp::new();
    ramp.run(&["activate", "chat"]);
    assert_eq!(
        ramp.run(&["--json", "features"]),
        ramp.run(&["features", "--json"])
    );
    let stdout = ramp
        .command()
        .args(["show", "chat", "--actor", "ana", "--json"])
        .output()
        .expect("ramp runs")
        .stdout;
    assert!(String::from_utf8_lossy(&stdout).starts_with("{\"name\":\"chat\""));
}

/// `ramp scan` sets the code's references against the store: a defined flag named in code is
/// found with its line, a typo is "not defined" (and fails `--check`), a defined flag nobody
/// names is listed, a graduated flag still named fails `--check`, and `--offline` only lists.
#[test]
fn scan_sets_code_against_the_defined_flags() {
    let ramp = Ramp::new();
    ramp.run(&["activate", "new-checkout"]);
    ramp.run(&["activate", "retired"]);
    let code = ramp.path("code");
    std::fs::create_dir_all(code.join("app")).unwrap();
    std::fs::write(
        code.join("app/pay.rb"),
        "if $rollout.active?(:new_checkout, user)\nend\nif $rollout.active?(\"new-checkout\", user)\n",
    )
    .unwrap();
    let code = code.to_str().unwrap();
    let report = ramp.json(&["scan", code]);
    assert_eq!(report["files_scanned"], 1);
    assert_eq!(report["referenced"]["new-checkout"], 1);
    assert_eq!(report["undefined"]["new_checkout"], 1, "{report}");
    assert_eq!(report["unreferenced"], serde_json::json!(["retired"]));
    let line = &report["references"][1];
    assert_eq!(
        (line["feature"].as_str(), line["line"].as_u64()),
        (Some("new-checkout"), Some(3))
    );
    let text = ramp.run(&["scan", code]);
    assert!(text.contains("not defined (a typo"), "{text}");
    let error = ramp.fails(&["scan", code, "--check"], None);
    assert!(error.contains("not defined: new_checkout"), "{error}");

    ramp.run(&["activate", "new_checkout"]);
    ramp.run(&["scan", code, "--check"]);
    ramp.run(&["stage", "new-checkout", "graduated"]);
    ramp.run(&["scan", code, "--check"]);
    let error = ramp.fails(&["scan", code, "--check", "--graduated-days", "0"], None);
    assert!(error.contains("graduated more than 0 days ago"), "{error}");
    let offline = ramp.json(&["scan", code, "--offline"]);
    assert!(offline.get("undefined").is_none(), "{offline}");
    assert_eq!(offline["references"].as_array().unwrap().len(), 2);
}

/// `ramp features` and `ramp show` mark a stage the state contradicts, and `--json` says why.
#[test]
fn features_mark_a_stage_that_contradicts_the_state() {
    let ramp = Ramp::new();
    ramp.run(&["percentage", "form", "25"]);
    ramp.run(&["stage", "form", "everyone"]);
    ramp.run(&["activate", "done"]);
    ramp.run(&["stage", "done", "everyone"]);
    let table = ramp.run(&["features"]);
    assert!(table.contains("everyone (!)"), "{table}");
    assert!(
        table.contains("(!) form: at Everyone, but below 100 %"),
        "{table}"
    );
    assert!(!table.contains("(!) done"), "{table}");
    let shown = ramp.run(&["show", "form"]);
    assert!(shown.contains("(!) at Everyone"), "{shown}");
    let listed = ramp.json(&["features"]);
    let form = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "form")
        .unwrap();
    assert_eq!(form["stage_mismatch"]["kind"], "everyone_below_full");
}
