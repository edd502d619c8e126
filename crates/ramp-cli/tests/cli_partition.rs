//! `ramp partition` against the real rollout gem: a flag set to 37 % by the gem in Redis
//! (randomize_percentage off, then on), 10,000 ids split by `ramp`, compared with the gem's own
//! `active?` for each id. Also the lists, the JSON, blank lines, and a bad line's number.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

const REDIS: &str = "redis://127.0.0.1:6379/0";

/// Writes the flag with the gem under `prefix`, then prints `active?` of ids 1..=10000 as one
/// line of `1`/`0`; with `cleanup`, deletes the prefix's keys instead.
const GEM: &str = r#"
require "redis"
require "rollout"
redis = Redis.new(url: ENV.fetch("REDIS_URL"))
prefix = ENV.fetch("PREFIX")
if ENV["CLEANUP"] == "true"
  redis.scan_each(match: prefix + "*") { |key| redis.del(key) }
  exit
end
class Namespaced
  def initialize(redis, prefix); @redis = redis; @prefix = prefix; end
  def get(key); @redis.get(@prefix + key); end
  def set(key, value); @redis.set(@prefix + key, value); end
  def del(key); @redis.del(@prefix + key); end
  def mget(*keys); @redis.mget(*keys.map { |key| @prefix + key }); end
  def exists?(key); @redis.exists?(@prefix + key); end
end
rollout = Rollout.new(Namespaced.new(redis, prefix), randomize_percentage: ENV["RANDOMIZE"] == "true")
rollout.activate_percentage(:chat, 37)
rollout.activate_user(:chat, 4)        # in the users list: covered whatever its bucket
puts (1..10_000).map { |id| rollout.active?(:chat, id) ? "1" : "0" }.join
"#;

/// Whether ruby with the gem, and Redis, are usable; loud SKIPPED otherwise, a failure in CI.
fn available() -> bool {
    let gem = Command::new("ruby")
        .args([
            "-e",
            "require 'redis'; require 'rollout'; Redis.new(url: ENV['REDIS_URL']).ping",
        ])
        .env("REDIS_URL", REDIS)
        .output();
    match gem {
        Ok(output) if output.status.success() => true,
        outcome if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("ruby with the rollout gem, or Redis, is not usable ({outcome:?}) and CI=true")
        }
        outcome => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: ruby with the rollout gem, or Redis, is not usable ({outcome:?}): cli_partition"
            );
            false
        }
    }
}

fn gem(prefix: &str, randomize: bool, cleanup: bool) -> String {
    let output = Command::new("ruby")
        .args(["-e", GEM])
        .env("REDIS_URL", REDIS)
        .env("PREFIX", prefix)
        .env("RANDOMIZE", randomize.to_string())
        .env("CLEANUP", cleanup.to_string())
        .output()
        .expect("ruby runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Deletes the test's keys, even when an assertion failed.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        gem(&self.0, false, true);
    }
}

fn ramp(store: &str, arguments: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("ramp"))
        .env_remove("RAMP_STORE")
        .env_remove("RAMP_SERVER")
        .args(["--store", store])
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ramp starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn partition_agrees_with_the_gems_active_for_ten_thousand_ids() {
    if !available() {
        return;
    }
    for randomize in [false, true] {
        let prefix = format!("ramp-partition-{}-{randomize}:", std::process::id());
        let _cleanup = Cleanup(prefix.clone());
        let answers = gem(&prefix, randomize, false);
        assert_eq!(answers.len(), 10_000);
        let store = format!("{REDIS}?prefix={prefix}&randomize={randomize}");
        let directory = tempfile::tempdir().unwrap();
        let ids_file = directory.path().join("ids.txt");
        // Blank lines and surrounding spaces are skipped.
        let ids: String = (1..=10_000).map(|id| format!(" {id}\n\n")).collect();
        std::fs::write(&ids_file, ids).unwrap();
        let (on, off) = (
            directory.path().join("on.txt"),
            directory.path().join("off.txt"),
        );

        let output = ramp(
            &store,
            &[
                "partition",
                "chat",
                "--file",
                ids_file.to_str().unwrap(),
                "--on",
                on.to_str().unwrap(),
                "--off",
                off.to_str().unwrap(),
                "--json",
            ],
            "",
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected_on: Vec<String> = answers
            .chars()
            .enumerate()
            .filter(|(_, answer)| *answer == '1')
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        let expected_off: Vec<String> = answers
            .chars()
            .enumerate()
            .filter(|(_, answer)| *answer == '0')
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        // About 37 %, and id 4 is in through the users list.
        assert!(
            (3_400..4_000).contains(&expected_on.len()),
            "{}",
            expected_on.len()
        );
        assert!(expected_on.contains(&"4".to_owned()));
        let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            summary["covered"],
            json!(expected_on.len()),
            "randomize {randomize}"
        );
        assert_eq!(summary["not_covered"], json!(expected_off.len()));
        assert_eq!(summary["total"], json!(10_000));
        let read = |path: &std::path::Path| -> Vec<String> {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(read(&on), expected_on, "randomize {randomize}");
        assert_eq!(read(&off), expected_off, "randomize {randomize}");

        // From standard input, counts as text.
        let output = ramp(&store, &["partition", "chat"], "1\n2\n3\n4\n");
        let covered = answers[..4].chars().filter(|answer| *answer == '1').count();
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            format!("chat: {covered} covered, {} not covered\n", 4 - covered)
        );
    }
}

#[test]
fn a_bad_line_is_named_and_an_unknown_feature_refused() {
    let ramp = common::Ramp::new();
    ramp.run(&["percentage", "chat", "20"]);
    let error = ramp.fails(
        &["partition", "chat", "--file", "-"],
        Some("1\n\n2\nbad,id\n3\n"),
    );
    assert!(error.contains("standard input, line 4"), "{error}");
    let error = ramp.fails(&["partition", "nosuch"], Some("1\n"));
    assert!(error.contains("no feature named \"nosuch\""), "{error}");
    // At 20 %, of 1..=10 the gem puts 2 and 6 in.
    let ids = ramp.path("ids.txt");
    std::fs::write(
        &ids,
        (1..=10).map(|id| format!("{id}\n")).collect::<String>(),
    )
    .unwrap();
    let on = ramp.path("on.txt");
    let summary = ramp.json(&[
        "partition",
        "chat",
        "--file",
        ids.to_str().unwrap(),
        "--on",
        on.to_str().unwrap(),
    ]);
    assert_eq!(summary["covered"], json!(2));
    assert_eq!(summary["not_covered"], json!(8));
    assert_eq!(std::fs::read_to_string(on).unwrap(), "2\n6\n");
}
