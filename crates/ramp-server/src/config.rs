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
    /// Connections served at once; more wait until one closes. Default: three quarters of the
    /// open-files limit.
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers (and an idle keep-alive connection
    /// stays open).
    pub header_timeout_seconds: u64,
    /// Seconds a request body may pause between two pieces before the request is refused.
    pub body_timeout_seconds: u64,
    /// Seconds a whole request body may take to arrive.
    pub body_deadline_seconds: u64,
    /// Password checks (argon2) running at once; logins past that wait in line.
    pub login_concurrency: usize,
    /// Bytes of recent change events kept for stream subscribers that reconnect; one that
    /// missed more than that fetches the snapshot again.
    pub resume_buffer_bytes: usize,
    /// Code-group names kept in total (those reported by applications for the web UI).
    pub code_group_limit: usize,
    /// Hours exposure counts are kept per minute before they are rolled into hours.
    pub exposure_minute_hours: u32,
    /// Days exposure counts are kept per hour before they are rolled into days.
    pub exposure_hour_days: u32,
    /// Days exposure counts are kept at all (and applications remembered).
    pub exposure_retention_days: u32,
    /// UTC days of distinct users per feature kept (HyperLogLog sketches, today included).
    pub exposure_user_days: u32,
    /// Seconds between writes of the server's own evaluation counts.
    pub exposure_flush_seconds: u64,
    /// Export exposure totals per feature to Prometheus too (one series per feature and
    /// answer: keep it off with many features).
    pub exposure_metrics_per_feature: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().unwrap_or_else(|_| unreachable_bind()),
            store: ramp_rollout::DEFAULT_STORE_URL.to_owned(),
            body_limit: 1024 * 1024,
            user_list_limit: 512 * 1024 * 1024,
            heartbeat_seconds: 15,
            max_connections: None,
            header_timeout_seconds: 10,
            body_timeout_seconds: 10,
            body_deadline_seconds: 120,
            login_concurrency: 2,
            resume_buffer_bytes: 16 * 1024 * 1024,
            code_group_limit: 10_000,
            exposure_minute_hours: 48,
            exposure_hour_days: 30,
            exposure_retention_days: 400,
            exposure_user_days: 90,
            exposure_flush_seconds: 10,
            exposure_metrics_per_feature: false,
        }
    }
}

fn unreachable_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4242))
}

impl ServerConfig {
    /// The exposure settings these choose.
    pub fn exposure_settings(&self) -> crate::exposures::ExposureSettings {
        let defaults = crate::exposures::ExposureSettings::default();
        crate::exposures::ExposureSettings {
            retention: ramp_store::exposure::ExposureRetention {
                minutes_for: chrono::Duration::hours(i64::from(self.exposure_minute_hours)),
                hours_for: chrono::Duration::days(i64::from(self.exposure_hour_days)),
                days_for: chrono::Duration::days(i64::from(self.exposure_retention_days)),
                ..defaults.retention
            },
            flush_seconds: self.exposure_flush_seconds,
            user_sketch_days: u64::from(self.exposure_user_days.max(1)),
            ..defaults
        }
    }

    /// Reads a TOML file's settings over the defaults; unknown keys are an error, so a typo
    /// does not silently fall back to a default.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    /// The connection limit in force.
    pub fn max_connections(&self) -> usize {
        self.max_connections
            .unwrap_or_else(crate::connections::default_max_connections)
    }

    /// How long a client has to send request headers.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_seconds.max(1))
    }

    /// How long a request body may pause.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_seconds.max(1))
    }

    /// How long a whole request body may take.
    pub fn body_deadline(&self) -> Duration {
        Duration::from_secs(self.body_deadline_seconds.max(1))
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_seconds.max(1))
    }
}
