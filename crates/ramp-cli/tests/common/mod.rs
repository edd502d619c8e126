//! The harness every CLI test uses: a fresh store in its own temporary directory, and the real
//! `ramp` binary run against it with no `RAMP_*` variables leaking in from the environment.
#![allow(dead_code)] // Each test file uses a different part of it.

pub mod served;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// One store, private to one test.
pub struct Ramp {
    directory: TempDir,
    url: String,
}

impl Ramp {
    pub fn new() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
        Self { directory, url }
    }

    /// A path inside the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// `ramp --store URL`, ready for more arguments.
    pub fn command(&self) -> Command {
        let mut command = Command::cargo_bin("ramp").expect("the ramp binary");
        command
            .env_remove("RAMP_STORE")
            .env_remove("RAMP_ACTOR")
            .current_dir(self.directory.path())
            .arg("--store")
            .arg(&self.url);
        command
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn run(&self, arguments: &[&str]) -> String {
        let output = self.command().args(arguments).output().expect("ramp runs");
        assert!(
            output.status.success(),
            "ramp {arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    /// Runs a command with `--json` (after the subcommand, to exercise global flags there).
    pub fn json(&self, arguments: &[&str]) -> Value {
        let mut arguments = arguments.to_vec();
        arguments.push("--json");
        let stdout = self.run(&arguments);
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    /// Runs a command that must fail with exit code 1 and exactly one `error: ` line on stderr
    /// while leaving the store as it was; returns that line.
    pub fn fails(&self, arguments: &[&str], stdin: Option<&str>) -> String {
        let before = self.state();
        let mut command = self.command();
        command.args(arguments);
        if let Some(stdin) = stdin {
            command.write_stdin(stdin);
        }
        let output = command.output().expect("ramp runs");
        let stderr = String::from_utf8(output.stderr).expect("UTF-8 errors");
        assert_eq!(
            output.status.code(),
            Some(1),
            "ramp {arguments:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "ramp {arguments:?}: {stderr}");
        assert!(
            stderr.starts_with("error: "),
            "ramp {arguments:?}: {stderr}"
        );
        assert_eq!(self.state(), before, "ramp {arguments:?} changed the store");
        stderr.trim_end().to_owned()
    }

    /// Everything a failed command must not change: every feature and the whole history.
    pub fn state(&self) -> (Value, Value) {
        (
            self.json(&["features"]),
            self.json(&["history", "--limit", "100000"]),
        )
    }

    /// `check NAME --user ID --json`.
    pub fn check(&self, feature: &str, user: &str) -> Value {
        self.json(&["check", feature, "--user", user])
    }
}

/// A feature's JSON without what an import cannot carry over (times, including since when it
/// is in its stage, and version counters).
pub fn settings(feature: &Value) -> Value {
    let mut feature = feature.clone();
    let object = feature.as_object_mut().expect("a feature object");
    for key in ["created_at", "updated_at", "version", "stage_since"] {
        object.remove(key);
    }
    feature
}
