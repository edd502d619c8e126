//! chromedriver as a child process: a free loopback port, its own process group (so that the
//! Chromium it starts dies with it), a wait until it reports ready, and a kill on drop. The
//! WebDriver commands themselves go through fantoccini (see `harness`).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::harness::{ensure, poll, Context, Outcome, CHROMEDRIVER};

/// A chromedriver child process, killed (with the Chromium it started) on drop.
pub struct Driver {
    child: Child,
    /// Where its WebDriver endpoint listens, e.g. `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Driver {
    /// Starts chromedriver and waits until its `/status` says it is ready.
    pub async fn start() -> Outcome<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .context("finding a free port for chromedriver")?
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping it can end the browsers it started too.
            .process_group(0)
            .spawn()
            .context("starting chromedriver")?;
        // From here on, an early return drops (and so kills) the child.
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_ready().await?;
        Ok(driver)
    }

    async fn wait_ready(&self) -> Outcome {
        let status = format!("{}/status", self.url);
        let client = reqwest::Client::new();
        poll("chromedriver to answer /status", || async {
            let body: Value = client
                .get(&status)
                .send()
                .await
                .context("GET /status")?
                .json()
                .await
                .context("/status body")?;
            ensure!(body["value"]["ready"] == true, "not ready: {body}");
            Ok(())
        })
        .await
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A panic can skip the session's close; killing the group ends the orphaned Chromium.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
