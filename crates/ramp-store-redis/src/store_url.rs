//! `RedisUrl`: the `redis://HOST:PORT/DB?prefix=P&randomize=BOOL&history_limit=N` form in which
//! people name a Redis store.
//!
//! Parsing is strict on purpose, as for SQLite: an unknown parameter is an error rather than
//! ignored, because a typo in `prefix` would silently point Ramp at an empty set of flags. This
//! module only parses; it never connects.

use std::fmt;

use ramp_store::StoreError;
use url::Url;

/// How many history events the gem keeps per feature (and globally) unless told otherwise.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;

/// Where a Redis store lives and how it reads the gem's keys, as parsed from a URL.
///
/// - `redis://127.0.0.1:6379/0` (port 6379 and database 0 by default; `redis://:PASSWORD@HOST`
///   and `redis://USER:PASSWORD@HOST` for servers that need them);
/// - `prefix=P` (default empty): prepended verbatim to every key, so the gem's `feature:chat`
///   is `{P}feature:chat`. An application that wraps its Redis client in
///   `Redis::Namespace.new("development", ...)` stores `development:feature:chat`: use
///   `prefix=development:` (the namespace plus the `:` that redis-namespace adds). The value is
///   form-decoded: write `%2B` for a `+`, which would otherwise be a space;
/// - `randomize=true|false` (default false): the gem's `randomize_percentage` option, which must
///   match the Ruby applications' (it is not stored in Redis);
/// - `history_limit=N` (default 50): events kept per feature and globally, like the gem's
///   `logging: { history_length: N }`.
///
/// ```
/// use ramp_store_redis::RedisUrl;
///
/// let url = RedisUrl::parse("redis://127.0.0.1:6379/2?prefix=development:&randomize=true")?;
/// assert_eq!((url.database, url.prefix.as_str()), (2, "development:"));
/// assert!(url.randomize_percentage);
/// assert_eq!(url.history_limit, 50);
/// # Ok::<(), ramp_store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// The database number.
    pub database: u32,
    /// Prepended to every key (see above).
    pub prefix: String,
    /// Bucket by user id plus feature name (the gem's `randomize_percentage`).
    pub randomize_percentage: bool,
    /// History events kept per feature and globally.
    pub history_limit: usize,
    /// What the driver connects to: the URL without Ramp's parameters. Private because it may
    /// hold a password; `Debug` leaves it out.
    driver_url: String,
    /// `host:port/database`, for messages.
    address: String,
}

impl RedisUrl {
    /// Parses a `redis://` URL; anything malformed is `StoreError::InvalidUrl`.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::invalid_url(text, reason);
        let mut url = Url::parse(text).map_err(|error| invalid(&error.to_string()))?;
        match url.scheme() {
            "redis" => {}
            "rediss" => return Err(invalid("TLS (rediss://) is not supported by this build")),
            _ => return Err(invalid("expected redis://HOST:PORT/DB")),
        }
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("the host is missing"))?
            .to_owned();
        if url.fragment().is_some() {
            return Err(invalid("a Redis URL has no #fragment"));
        }
        let path = url.path().trim_start_matches('/');
        let database = if path.is_empty() {
            0
        } else {
            path.parse::<u32>()
                .map_err(|_| invalid("the path must be a database number, as in /0"))?
        };
        let mut parsed = Self {
            database,
            prefix: String::new(),
            randomize_percentage: false,
            history_limit: DEFAULT_HISTORY_LIMIT,
            driver_url: String::new(),
            address: format!("{host}:{}/{database}", url.port().unwrap_or(6379)),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("prefix", prefix) => {
                    if prefix.chars().any(char::is_control) {
                        return Err(invalid("the prefix must not contain control characters"));
                    }
                    parsed.prefix = prefix.to_owned();
                }
                ("randomize", "true") => parsed.randomize_percentage = true,
                ("randomize", "false") => parsed.randomize_percentage = false,
                ("randomize", _) => return Err(invalid("randomize must be true or false")),
                ("history_limit", limit) => {
                    parsed.history_limit = limit
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=1_000_000).contains(limit))
                        .ok_or_else(|| {
                            invalid("history_limit must be a number from 1 to 1000000")
                        })?;
                }
                (other, _) => {
                    return Err(invalid(&format!(
                        "unknown parameter {other:?}: expected prefix, randomize or history_limit"
                    )))
                }
            }
        }
        url.set_query(None);
        url.set_path(&format!("/{database}"));
        parsed.driver_url = url.into();
        Ok(parsed)
    }

    /// The URL handed to the Redis driver (it may hold a password).
    pub(crate) fn driver_url(&self) -> &str {
        &self.driver_url
    }

    /// `host:port/database`, without credentials.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedisUrl")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .field("randomize_percentage", &self.randomize_percentage)
            .field("history_limit", &self.history_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parameters() {
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert_eq!(url.address(), "localhost:6379/0");
        assert_eq!(url.prefix, "");
        assert_eq!(url.history_limit, DEFAULT_HISTORY_LIMIT);
        let url = RedisUrl::parse("redis://h:1/3?prefix=a%2Bb:&history_limit=7").unwrap();
        assert_eq!(
            (url.database, url.prefix.as_str(), url.history_limit),
            (3, "a+b:", 7)
        );
        assert_eq!(url.driver_url(), "redis://h:1/3");
    }

    #[test]
    fn mistakes_are_refused_and_passwords_hidden() {
        for bad in [
            "http://h",
            "rediss://h",
            "redis://h/x",
            "redis://h?prefx=a",
            "redis://h?randomize=yes",
            "redis://h?history_limit=0",
            "redis://h#x",
            "redis://h?prefix=%0A",
            "not a url",
        ] {
            assert!(RedisUrl::parse(bad).is_err(), "{bad}");
        }
        let error = RedisUrl::parse("redis://:secret@h/x")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
        let url = RedisUrl::parse("redis://:secret@h/1").unwrap();
        assert!(!format!("{url:?}").contains("secret"));
        assert!(url.driver_url().contains("secret"));
    }
}
