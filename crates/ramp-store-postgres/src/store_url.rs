//! `PostgresUrl`: the `postgres://USER@HOST:PORT/DATABASE?schema=NAME&randomize=BOOL` form in
//! which people name a PostgreSQL store on the command line and in configuration.
//!
//! Ramp's own parameters (`schema`, `randomize`) are taken out here; everything else is handed
//! to tokio-postgres unchanged, which rejects parameters it does not know. Parsing is strict on
//! purpose: a typo in `randomize` would otherwise silently change which users get a feature.
//! This module only parses; it never connects.

use std::str::FromStr;

use ramp_store::{redact_url, StoreError};
use tokio_postgres::config::SslMode;
use tokio_postgres::Config;

/// The schema used when the URL names none. Not `public`: Ramp's tables have plain names
/// (`features`, `groups`, `history`), and an application's own database may have tables of
/// those names in `public` already.
pub const DEFAULT_SCHEMA: &str = "ramp";

/// The longest schema name accepted. The change-notification channel is
/// `ramp_changes_<schema>`, and PostgreSQL channel names, like all identifiers, stop at 63
/// bytes.
pub const MAX_SCHEMA_LENGTH: usize = 50;

/// The schemes accepted, as tokio-postgres accepts them.
pub const SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// Where a PostgreSQL store lives and how it buckets, as parsed from a URL.
///
/// - `postgres://ramp@db.internal:5432/flags`: user, host, port and database, as libpq reads
///   them (`postgresql://` too; `?connect_timeout=`, `?application_name=`, ... pass through);
/// - `?schema=NAME`: the schema that holds Ramp's tables (default [`DEFAULT_SCHEMA`]), created
///   if missing. Lower-case letters, digits and `_`, not beginning with a digit or `pg_`, at
///   most [`MAX_SCHEMA_LENGTH`] bytes, so it never needs quoting;
/// - `?randomize=true` (or `false`, the default): the gem's `randomize_percentage` setting.
///
/// TLS is not supported: `sslmode=require` is refused rather than silently downgraded.
///
/// ```
/// use ramp_store_postgres::PostgresUrl;
///
/// let url = PostgresUrl::parse("postgres://ramp@localhost:5432/flags?schema=staging&randomize=true")?;
/// assert_eq!(url.schema(), "staging");
/// assert!(url.randomize_percentage());
/// assert_eq!(url.config().get_dbname(), Some("flags"));
/// # Ok::<(), ramp_store::StoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresUrl {
    /// The connection settings, without Ramp's parameters. Its `Debug` hides the password.
    config: Config,
    schema: String,
    randomize_percentage: bool,
}

impl PostgresUrl {
    /// Parses a `postgres://` URL; anything malformed is `StoreError::InvalidUrl`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        // Errors end up in logs and terminals: never with the password.
        let invalid = |reason: &str| StoreError::invalid_url(url, reason);
        // tokio-postgres knows the schemes in lower case only; people type them either way.
        let scheme = SCHEMES
            .iter()
            .find(|scheme| {
                url.get(..scheme.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
            })
            .ok_or_else(|| invalid("expected postgres://USER@HOST:PORT/DATABASE?schema=NAME"))?;
        if url.contains('#') {
            return Err(invalid("a PostgreSQL URL has no #fragment"));
        }
        let rest = &url[scheme.len()..];
        let (base, query) = match rest.split_once('?') {
            Some((base, query)) => (base, query),
            None => (rest, ""),
        };
        let mut schema = None;
        let mut randomize_percentage = None;
        let mut passed_on = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "schema" => {
                    check_schema(value).map_err(|reason| invalid(&reason))?;
                    if schema.replace(value.to_owned()).is_some() {
                        return Err(invalid("schema is given twice"));
                    }
                }
                "randomize" => {
                    let flag = match value {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid("randomize must be true or false")),
                    };
                    if randomize_percentage.replace(flag).is_some() {
                        return Err(invalid("randomize is given twice"));
                    }
                }
                _ => passed_on.push(pair),
            }
        }
        let connection = if passed_on.is_empty() {
            format!("{scheme}{base}")
        } else {
            format!("{scheme}{base}?{}", passed_on.join("&"))
        };
        // The driver's message may quote a value from the URL.
        let config = Config::from_str(&connection)
            .map_err(|error| invalid(&redact_url(&error.to_string())))?;
        if config.get_user().is_none() {
            return Err(invalid("name a user: postgres://USER@HOST/DATABASE"));
        }
        if config.get_hosts().is_empty() {
            return Err(invalid("name a host: postgres://USER@HOST/DATABASE"));
        }
        if config.get_ssl_mode() == SslMode::Require {
            return Err(invalid(
                "TLS is not supported yet: use sslmode=prefer or sslmode=disable",
            ));
        }
        Ok(Self {
            config,
            schema: schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned()),
            randomize_percentage: randomize_percentage.unwrap_or(false),
        })
    }

    /// The connection settings tokio-postgres reads, without Ramp's own parameters.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The schema that holds Ramp's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Whether snapshots bucket by user id plus feature name (the gem's `randomize_percentage`).
    pub fn randomize_percentage(&self) -> bool {
        self.randomize_percentage
    }
}

/// Schema names that never need quoting in SQL, in `search_path`, or in a channel name.
fn check_schema(schema: &str) -> Result<(), String> {
    let mut characters = schema.chars();
    let starts_well = characters
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_');
    let rest_is_plain = characters.all(|character| {
        character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
    });
    if !starts_well || !rest_is_plain {
        return Err(format!(
            "schema {schema:?} must be lower-case letters, digits and '_', not beginning with a digit"
        ));
    }
    if schema.len() > MAX_SCHEMA_LENGTH {
        return Err(format!(
            "schema {schema:?} is longer than {MAX_SCHEMA_LENGTH} bytes"
        ));
    }
    if schema.starts_with("pg_") {
        // PostgreSQL reserves these for its own schemas and refuses to create them.
        return Err(format!("schema {schema:?} must not begin with pg_"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_that_would_need_quoting_are_refused() {
        for good in [
            "ramp",
            "_x",
            "ramp_test_0af3",
            &"s".repeat(MAX_SCHEMA_LENGTH),
        ] {
            assert!(check_schema(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Ramp",
            "1ramp",
            "ramp-test",
            "ramp;drop",
            "pg_catalog",
            "é",
            &"s".repeat(MAX_SCHEMA_LENGTH + 1),
        ] {
            assert!(check_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_reach_error_messages() {
        let error = PostgresUrl::parse("postgres://ana:s3cret@db/flags?randomize=maybe")
            .unwrap_err()
            .to_string();
        assert!(
            !error.contains("s3cret") && error.contains("ana:***@db"),
            "{error}"
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let url = PostgresUrl::parse("PostgreSQL://ana@localhost/flags").unwrap();
        assert_eq!(url.config().get_user(), Some("ana"));
    }
}
