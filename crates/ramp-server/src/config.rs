//! `ServerConfig`: every setting of `ramp serve`, with its default. The command line fills it
//! from flags, `RAMP_*` environment variables and an optional TOML file (in that order of
//! precedence).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// The address `ramp serve` listens on unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:4242";

/// How `ramp serve` runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// The store's URL (see `ramp_rollout::open_store`).
    pub store: String,
    /// The largest JSON body accepted, in bytes (413 above it).
    pub body_limit: usize,
    /// The largest newline-separated user list accepted by the streaming endpoint, in bytes.
    pub user_list_limit: usize,
    /// Seconds between stream heartbeats.
    pub heartbeat_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().unwrap_or_else(|_| unreachable_bind()),
            store: ramp_rollout::DEFAULT_STORE_URL.to_owned(),
            body_limit: 1024 * 1024,
            user_list_limit: 512 * 1024 * 1024,
            heartbeat_seconds: 15,
        }
    }
}

fn unreachable_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4242))
}

impl ServerConfig {
    /// Reads a TOML file's settings over the defaults; unknown keys are an error, so a typo
    /// does not silently fall back to a default.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_seconds.max(1))
    }
}
