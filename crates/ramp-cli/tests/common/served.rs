//! A running `ramp serve` (the real binary, on a free loopback port over a SQLite file in a
//! temporary directory), and the real binary acting through it with `--server URL --token T`.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A running `ramp serve` and what it printed.
pub struct Served {
    child: Child,
    /// As `ramp serve` printed it.
    pub url: String,
    /// The first admin token it printed.
    pub admin: String,
    /// Where its store and log are.
    pub directory: TempDir,
    /// Kept open: the server may still write to it.
    _stdout: BufReader<ChildStdout>,
}

impl Served {
    pub fn start() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = format!("sqlite://{}", directory.path().join("ramp.db").display());
        let log = std::fs::File::create(directory.path().join("serve.log")).expect("a log file");
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("ramp"))
            .args(["--store", &store, "serve", "--bind", "127.0.0.1:0"])
            .env_remove("RAMP_SERVER")
            .env_remove("RAMP_TOKEN")
            .env_remove("RAMP_BIND")
            .env_remove("RAMP_CONFIG")
            .env("RAMP_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("ramp serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (mut url, mut admin) = (None, None);
        let mut line = String::new();
        while url.is_none() || admin.is_none() {
            line.clear();
            let read = stdout.read_line(&mut line).expect("stdout is readable");
            assert!(
                read > 0,
                "ramp serve stopped early: {}",
                std::fs::read_to_string(directory.path().join("serve.log")).unwrap_or_default()
            );
            if let Some(rest) = line.strip_prefix("Ramp listening on ") {
                url = rest.split_whitespace().next().map(str::to_owned);
            } else if line.trim_start().starts_with("ramp_") {
                admin = Some(line.trim().to_owned());
            }
        }
        Self {
            child,
            url: url.expect("the address"),
            admin: admin.expect("the first admin token"),
            directory,
            _stdout: stdout,
        }
    }

    /// `ramp --server URL --token TOKEN`, with no `RAMP_*` variable leaking in.
    pub fn command(&self, token: &str) -> Command {
        let mut command = Command::cargo_bin("ramp").expect("the ramp binary");
        for variable in ["RAMP_STORE", "RAMP_SERVER", "RAMP_TOKEN", "RAMP_ACTOR"] {
            command.env_remove(variable);
        }
        command
            .current_dir(self.directory.path())
            .args(["--server", &self.url, "--token", token]);
        command
    }

    /// Runs a command as the admin; it must succeed. Returns stdout.
    pub fn run(&self, arguments: &[&str]) -> String {
        let output = self
            .command(&self.admin)
            .args(arguments)
            .output()
            .expect("ramp runs");
        assert!(
            output.status.success(),
            "ramp {arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    /// Runs a command as the admin with `--json`.
    pub fn json(&self, arguments: &[&str]) -> Value {
        let stdout = self.run(&[arguments, &["--json"]].concat());
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    /// Runs a command that must fail with exit code 1 and one `error: ` line; returns it.
    pub fn fails(&self, mut command: Command, arguments: &[&str]) -> String {
        let output = command.args(arguments).output().expect("ramp runs");
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
        stderr.trim_end().to_owned()
    }

    /// Sends SIGTERM and waits for the server to finish its requests and exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let status = Process::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("the server's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ramp serve did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
