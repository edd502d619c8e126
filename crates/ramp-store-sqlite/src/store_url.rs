//! `SqliteUrl`: the `sqlite://PATH?randomize=BOOL` form in which people name a SQLite store on
//! the command line and in configuration.
//!
//! Parsing is strict on purpose: an unknown parameter or a malformed escape is an error rather
//! than ignored, because a typo in `randomize` would otherwise silently change which users get a
//! feature. This module only parses; it never touches the file system.

use std::path::PathBuf;

use ramp_store::StoreError;

/// Where a SQLite store lives and how it buckets, as parsed from a URL.
///
/// - `sqlite://ramp.db` and `sqlite://data/ramp.db`: a path relative to the working directory;
/// - `sqlite:///var/lib/ramp/ramp.db`: an absolute path;
/// - `?randomize=true` (or `false`, the default): the gem's `randomize_percentage` setting;
/// - `%XX` escapes in the path decode to bytes (`%20` is a space).
///
/// ```
/// use ramp_store_sqlite::SqliteUrl;
///
/// let url = SqliteUrl::parse("sqlite:///var/lib/ramp.db?randomize=true")?;
/// assert_eq!(url.path, std::path::Path::new("/var/lib/ramp.db"));
/// assert!(url.randomize_percentage);
/// # Ok::<(), ramp_store::StoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteUrl {
    /// The database file.
    pub path: PathBuf,
    /// Bucket by user id plus feature name (the gem's `randomize_percentage`).
    pub randomize_percentage: bool,
}

/// The scheme every SQLite store URL begins with.
pub const SCHEME: &str = "sqlite://";

impl SqliteUrl {
    /// Parses a `sqlite://` URL; anything malformed is `StoreError::InvalidUrl`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::invalid_url(url, reason);
        let rest = url
            .get(..SCHEME.len())
            .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
            .map(|_| &url[SCHEME.len()..])
            .ok_or_else(|| {
                invalid("expected sqlite://PATH (sqlite:///absolute/path.db for an absolute path)")
            })?;
        if rest.contains('#') {
            return Err(invalid("a SQLite URL has no #fragment"));
        }
        let (encoded_path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        // `sqlite://user:password@...` would otherwise be a relative path, quoted (password and
        // all) in the message saying it cannot be opened.
        let first_segment = encoded_path.split('/').next().unwrap_or_default();
        if first_segment.contains('@') && first_segment.contains(':') {
            return Err(invalid(
                "a SQLite URL has no user or password: sqlite://PATH or sqlite:///absolute/path.db",
            ));
        }
        let path = percent_decode(encoded_path).map_err(invalid)?;
        if path.is_empty() {
            return Err(invalid("the database path is empty"));
        }
        if path == ":memory:" {
            // Every connection would get its own empty database, and the store uses several.
            return Err(invalid(
                "in-memory SQLite is not supported: use the memory store instead",
            ));
        }
        let mut randomize_percentage = false;
        for pair in query
            .into_iter()
            .flat_map(|query| query.split('&'))
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value) {
                ("randomize", "true") => randomize_percentage = true,
                ("randomize", "false") => randomize_percentage = false,
                ("randomize", _) => return Err(invalid("randomize must be true or false")),
                _ => {
                    return Err(invalid(&format!(
                        "unknown parameter {key:?}: the only one is randomize"
                    )))
                }
            }
        }
        Ok(Self {
            path: PathBuf::from(path),
            randomize_percentage,
        })
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8 so that it prints back in messages.
fn percent_decode(text: &str) -> Result<String, &'static str> {
    const BAD_ESCAPE: &str = "a % in the path must be followed by two hexadecimal digits";
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3).ok_or(BAD_ESCAPE)?;
            decoded.push(u8::from_str_radix(hex, 16).map_err(|_| BAD_ESCAPE)?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| "the decoded path is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_bad_ones_are_refused() {
        assert_eq!(percent_decode("my%20flags.db").unwrap(), "my flags.db");
        assert_eq!(percent_decode("%C3%A9.db").unwrap(), "é.db");
        for bad in ["%", "%2", "%zz", "%FF"] {
            assert!(percent_decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(
            SqliteUrl::parse("SQLite://ramp.db").unwrap().path,
            PathBuf::from("ramp.db")
        );
    }

    #[test]
    fn a_user_and_password_are_refused_without_being_quoted() {
        let error = SqliteUrl::parse("sqlite://ana:s3cret@/var/lib/ramp.db")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no user or password"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        // An `@` in a file name is still a file name.
        assert!(SqliteUrl::parse("sqlite://backups/ana@host.db").is_ok());
        assert!(SqliteUrl::parse("sqlite:///srv/ana@host:1/ramp.db").is_ok());
    }
}
