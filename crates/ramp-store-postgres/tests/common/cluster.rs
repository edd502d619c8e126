//! A private PostgreSQL server for tests that stop and start it: `initdb` into a temporary
//! directory, `pg_ctl` to start and stop it on a free port. It is stopped and deleted when
//! dropped. As root (initdb refuses root) it runs as the `postgres` user through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A server of our own, in a temporary directory.
pub struct Cluster {
    directory: tempfile::TempDir,
    binaries: PathBuf,
    /// `Some("postgres")` when the commands must run as that user.
    run_as: Option<&'static str>,
    port: u16,
}

impl Cluster {
    /// Creates the cluster (not started). `Err` says why that is impossible here.
    pub fn create() -> Result<Self, String> {
        let binaries = find_binaries().ok_or("initdb and pg_ctl not found")?;
        let directory = tempfile::tempdir().map_err(|error| error.to_string())?;
        let run_as = if output("id", &["-u"])?.trim() == "0" {
            let uid: u32 = parse(&output("id", &["-u", "postgres"])?)?;
            let gid: u32 = parse(&output("id", &["-g", "postgres"])?)?;
            std::os::unix::fs::chown(directory.path(), Some(uid), Some(gid))
                .map_err(|error| format!("chown {}: {error}", directory.path().display()))?;
            Some("postgres")
        } else {
            None
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let cluster = Self {
            directory,
            binaries,
            run_as,
            port,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        Ok(cluster)
    }

    /// The URL of `schema` in this cluster's `postgres` database.
    pub fn url(&self, schema: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?schema={schema}",
            self.port
        )
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.directory.path().display()
        );
        let log = self.directory.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log.display().to_string(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server (closing every connection) and waits until it is down.
    pub fn stop(&self) -> Result<(), String> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }

    fn data(&self) -> String {
        self.directory.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, arguments: &[&str]) -> Result<(), String> {
        let program = self.binaries.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        let result = command
            .args(arguments)
            .current_dir(self.directory.path())
            .output()
            .map_err(|error| format!("{}: {error}", program.display()))?;
        if result.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {arguments:?} failed: {}{}",
                program.display(),
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            ))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate: nothing here needs a clean shutdown, and the directory goes next.
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// Where `initdb` and `pg_ctl` are: on the PATH, in /usr/local/bin, or in the newest
/// /usr/lib/postgresql/*/bin (Debian keeps them there).
fn find_binaries() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    candidates.push(PathBuf::from("/usr/local/bin"));
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|path| {
        path.parent()
            .and_then(Path::file_name)
            .and_then(|version| version.to_str())
            .and_then(|version| version.parse::<u32>().ok())
    });
    candidates.extend(versions.into_iter().rev());
    candidates
        .into_iter()
        .find(|directory| directory.join("initdb").is_file() && directory.join("pg_ctl").is_file())
}

fn output(program: &str, arguments: &[&str]) -> Result<String, String> {
    let result = Command::new(program)
        .args(arguments)
        .output()
        .map_err(|error| format!("{program}: {error}"))?;
    if !result.status.success() {
        return Err(format!("{program} {arguments:?} failed"));
    }
    Ok(String::from_utf8_lossy(&result.stdout).into_owned())
}

fn parse(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("not a number: {text:?}"))
}
