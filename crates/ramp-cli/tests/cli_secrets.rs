//! Secrets in store and server URLs never reach the terminal: every way a URL with a password
//! can fail (unreachable, malformed, unknown scheme, copied, served) is run through the real
//! binary, and the password must appear in neither stdout nor stderr. Nothing listens on
//! port 1, so the unreachable cases fail fast.

use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// What no output may contain. Distinctive, so a partial echo is caught too.
const SECRET: &str = "Pa55wordXYZ";

fn ramp(directory: &tempfile::TempDir) -> Command {
    let mut command = Command::cargo_bin("ramp").expect("the ramp binary");
    for variable in [
        "RAMP_STORE",
        "RAMP_SERVER",
        "RAMP_TOKEN",
        "RAMP_ACTOR",
        "RAMP_BIND",
    ] {
        command.env_remove(variable);
    }
    command
        .current_dir(directory.path())
        .timeout(Duration::from_secs(60));
    command
}

/// Fails unless the run failed with one `error:` line and the secret appears nowhere.
fn assert_failed_without_secret(what: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains(SECRET) && !text.contains("XYZ"),
            "{what}: the password is in {name}: {text}"
        );
    }
    stderr.into_owned()
}

#[test]
fn store_urls_with_passwords_fail_without_showing_them() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let stores = [
        // Unreachable.
        format!("postgres://ana:{SECRET}@127.0.0.1:1/flags"),
        format!("postgresql://ana@127.0.0.1:1/flags?password={SECRET}"),
        format!("redis://:{SECRET}@127.0.0.1:1/0"),
        format!("redis://default:{SECRET}@127.0.0.1:1/0"),
        // Malformed or refused while parsing.
        format!("postgres://ana:{SECRET}@127.0.0.1/flags?randomize=maybe"),
        format!("postgres://ana:{SECRET}@127.0.0.1:notaport/flags"),
        format!("postgres://ana:{SECRET}@127.0.0.1/flags?sslmode=require"),
        format!("redis://:{SECRET}@127.0.0.1/notadatabase"),
        format!("redis://:{SECRET}@[::1/0"),
        format!("sqlite://ana:{SECRET}@/no/such/dir/ramp.db"),
        format!("sqlite://ramp.db?password={SECRET}"),
        format!("http://admin:{SECRET}@127.0.0.1:1"),
        format!("https://127.0.0.1:1/?token={SECRET}"),
        format!("nosuchscheme://ana:{SECRET}@somewhere/x"),
        format!("postgres://ana:{SECRET}"),
        format!("ana:{SECRET}@127.0.0.1/flags"),
    ];
    for store in &stores {
        let output = ramp(&directory)
            .args(["--store", store, "features"])
            .output()
            .expect("ramp runs");
        let stderr = assert_failed_without_secret(store, &output);
        assert_eq!(stderr.lines().count(), 1, "{store}: {stderr}");
    }
    // The message still says which store was meant.
    let output = ramp(&directory)
        .args(["--store", &stores[0], "features"])
        .output()
        .expect("ramp runs");
    let stderr = assert_failed_without_secret(&stores[0], &output);
    assert!(
        stderr.contains("postgres://ana:***@127.0.0.1:1/flags"),
        "{stderr}"
    );
}

#[test]
fn copy_and_serve_never_show_the_password() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let unreachable = format!("postgres://ana:{SECRET}@127.0.0.1:1/flags");
    let local = format!("sqlite://{}", directory.path().join("ramp.db").display());
    for (from, to) in [
        (unreachable.as_str(), local.as_str()),
        (local.as_str(), unreachable.as_str()),
        (unreachable.as_str(), unreachable.as_str()),
    ] {
        let output = ramp(&directory)
            .args(["copy", "--from", from, "--to", to])
            .output()
            .expect("ramp runs");
        assert_failed_without_secret(&format!("copy {from} -> {to}"), &output);
    }
    let output = ramp(&directory)
        .args(["--store", &unreachable, "serve", "--bind", "127.0.0.1:0"])
        .env("RAMP_LOG", "debug")
        .output()
        .expect("ramp runs");
    assert_failed_without_secret("serve", &output);
    let output = ramp(&directory)
        .args(["--server", &format!("http://admin:{SECRET}@127.0.0.1:1")])
        .args(["--token", "a-token", "features"])
        .output()
        .expect("ramp runs");
    assert_failed_without_secret("--server", &output);
}

/// `ramp serve` prints its store when it starts: with the password hidden. The memory store
/// takes any URL, so the server starts without a real password-protected backend.
#[test]
fn serve_prints_its_store_without_the_password() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Process, Stdio};

    let directory = tempfile::tempdir().expect("a temporary directory");
    let store = format!("memory://ana:{SECRET}@nowhere/?token={SECRET}");
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("ramp"))
        .current_dir(directory.path())
        .args(["--store", &store, "serve", "--bind", "127.0.0.1:0"])
        .env_remove("RAMP_BIND")
        .env_remove("RAMP_CONFIG")
        .env("RAMP_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ramp serve starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the first line");
    let _ = child.kill();
    let output = child.wait_with_output().expect("ramp serve stops");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(line.starts_with("Ramp listening on "), "{line}{stderr}");
    assert!(
        line.contains("memory://ana:***@nowhere/?token=***"),
        "{line}"
    );
    assert!(
        !line.contains(SECRET) && !stderr.contains(SECRET),
        "{line}{stderr}"
    );
}
