//! `ramp scan --upload` through a real `ramp serve` with a reader's token (what a CI job has):
//! the repository and commit come from git in the scanned directory (or `--repository` and
//! `--commit`), paths are relative to the repository's root, a new scan replaces the last one;
//! then `ramp graduate` prints the removal checklist routes first, and `ramp delete` of a flag
//! code still names needs `--force`.

mod common;

use std::path::Path;
use std::process::Command as Process;

use common::served::Served;
use serde_json::json;

fn git(directory: &Path, arguments: &[&str]) {
    let status = Process::new("git")
        .arg("-C")
        .arg(directory)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(arguments)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {arguments:?}");
}

#[test]
fn a_readers_upload_feeds_the_checklist_and_the_delete_question() {
    let served = Served::start();
    served.run(&["activate", "chat"]);
    let reader = served.json(&["token", "create", "--name", "ci", "--role", "reader"])["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // A git repository with a route table and a model naming `chat`.
    let repository = tempfile::tempdir().expect("a temporary directory");
    let root = repository.path();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::create_dir_all(root.join("app/models")).unwrap();
    std::fs::write(
        root.join("config/routes.rb"),
        "if $rollout.active?(:chat)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("app/models/chat.rb"),
        "x = 1\nreturn unless $rollout.active?(:chat, user)\n",
    )
    .unwrap();
    git(root, &["init", "-q"]);
    git(
        root,
        &["remote", "add", "origin", "git@github.com:org/web.git"],
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "first"]);
    let head = String::from_utf8(
        Process::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();

    let output = served
        .command(&reader)
        .args(["scan", root.to_str().unwrap(), "--upload", "--json"])
        .output()
        .expect("ramp runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["uploaded"],
        json!({"repository": "org/web", "commit": head, "references": 2})
    );

    // Graduating lists the route table first, with paths from the repository's root.
    let graduated = served.json(&["graduate", "chat"]);
    assert_eq!(graduated["stage"], "graduated");
    assert_eq!(graduated["remaining"], 2);
    assert_eq!(graduated["files"][0]["file"], "config/routes.rb");
    assert_eq!(graduated["files"][0]["routes"], true);
    assert_eq!(graduated["files"][1]["file"], "app/models/chat.rb");
    assert_eq!(graduated["files"][1]["lines"][0]["line"], 2);
    assert_eq!(graduated["files"][0]["repository"], "org/web");

    // Deleting a flag that code names needs --force.
    let refusal = served.fails(served.command(&served.admin), &["delete", "chat"]);
    assert!(
        refusal.contains("code still names it 2 times (in org/web)"),
        "{refusal}"
    );
    assert!(refusal.contains("--force"), "{refusal}");

    // The routes are removed; a new scan, named by hand, replaces the first.
    std::fs::write(root.join("config/routes.rb"), "# gone\n").unwrap();
    let output = served
        .command(&reader)
        .args([
            "scan",
            root.to_str().unwrap(),
            "--upload",
            "--repository",
            "org/web",
            "--commit",
            "abc123",
        ])
        .output()
        .expect("ramp runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("uploaded 1 references of org/web at abc123"));
    let graduated = served.json(&["graduate", "chat"]);
    assert_eq!(graduated["remaining"], 1);
    assert_eq!(graduated["files"][0]["file"], "app/models/chat.rb");
    assert_eq!(graduated["files"][0]["routes"], false);

    served.run(&["delete", "chat", "--force"]);
    assert!(served.run(&["features"]).contains("no features"));
}
