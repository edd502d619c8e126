//! `redact_url`: a store or server URL as it may be shown in an error message or a log line,
//! with every secret it may hold replaced by `***`.
//!
//! Store URLs carry passwords (`postgres://ana:s3cret@db/flags`, `redis://:s3cret@cache`,
//! `?password=s3cret`), and error messages end up in terminals, CI logs and bug reports. This
//! works on the text itself rather than on a parsed URL, because the URLs that most need
//! redacting are the ones that fail to parse: whatever the input, what looks like a secret is
//! hidden, and when in doubt more is hidden rather than less.

/// What replaces each secret.
const HIDDEN: &str = "***";

/// Query or connection-string parameters whose value is a secret, matched case-insensitively
/// as parts of the key (`password`, `sslpassword`, `auth_token`, `client_secret`, `pwd`, ...).
const SECRET_KEY_PARTS: [&str; 5] = ["pass", "pwd", "secret", "token", "auth"];

/// `url` with the password of its `user:password@` part and the value of every secret-looking
/// parameter (`password=`, `token=`, ...) replaced by `***`. The user name, host, path and
/// other parameters stay, so the message still says which store was meant. Idempotent.
///
/// ```
/// use ramp_store::redact_url;
///
/// assert_eq!(
///     redact_url("postgres://ana:s3cret@db:5432/flags?schema=x&password=s3cret"),
///     "postgres://ana:***@db:5432/flags?schema=x&password=***"
/// );
/// assert_eq!(redact_url("redis://:s3cret@cache/0"), "redis://:***@cache/0");
/// assert_eq!(redact_url("sqlite://ramp.db"), "sqlite://ramp.db");
/// ```
pub fn redact_url(url: &str) -> String {
    redact_parameters(&redact_userinfo(url))
}

/// Hides the password of `user:password@`. The userinfo ends at the last `@`, so a password
/// holding an unencoded `@`, `/` or `?` (a malformed URL) is hidden whole; at worst this hides
/// more than the password, never less.
fn redact_userinfo(url: &str) -> String {
    let (prefix, rest) = split_scheme(url);
    let Some(at) = rest.rfind('@') else {
        if prefix.ends_with("://") {
            return redact_odd_port(prefix, rest);
        }
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!("{prefix}{}:{HIDDEN}{}", &userinfo[..colon], &rest[at..]),
        None => url.to_owned(),
    }
}

/// `SCHEME://` (or `SCHEME:` before a `/`, a URL missing a slash) and the rest. Anything else
/// has no scheme: `ana:s3cret@db` is a user and password, not the scheme `ana`.
fn split_scheme(url: &str) -> (&str, &str) {
    if let Some(end) = url.find("://") {
        return url.split_at(end + 3);
    }
    let scheme_end = url.find(':').filter(|&colon| {
        let scheme = &url[..colon];
        scheme.starts_with(|first: char| first.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character))
            && url[colon + 1..].starts_with('/')
    });
    match scheme_end {
        Some(colon) => url.split_at(colon + 1),
        None => ("", url),
    }
}

/// Without an `@`, `HOST:PORT` with a port that is not a number is most likely
/// `user:password` with the `@host` forgotten: hidden too.
fn redact_odd_port(prefix: &str, rest: &str) -> String {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.ends_with(']') {
        // An IPv6 address without a port.
        return format!("{prefix}{rest}");
    }
    match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty() && !port.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            format!("{prefix}{host}:{HIDDEN}{}", &rest[authority_end..])
        }
        _ => format!("{prefix}{rest}"),
    }
}

/// Hides the value of every `KEY=VALUE` whose key looks like a secret's, in a query string
/// (`?a=1&password=x`) or a libpq-style connection string (`host=db password=x`).
fn redact_parameters(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(equals) = rest.find('=') {
        let key_start = rest[..equals]
            .rfind(is_parameter_separator)
            .map_or(0, |separator| separator + 1);
        let value_end = rest[equals + 1..]
            .find(is_value_end)
            .map_or(rest.len(), |end| equals + 1 + end);
        redacted.push_str(&rest[..=equals]);
        if is_secret_key(&rest[key_start..equals]) {
            redacted.push_str(HIDDEN);
        } else {
            redacted.push_str(&rest[equals + 1..value_end]);
        }
        rest = &rest[value_end..];
    }
    redacted.push_str(rest);
    redacted
}

fn is_parameter_separator(character: char) -> bool {
    matches!(character, '?' | '&' | ';' | '/' | '@') || character.is_whitespace()
}

fn is_value_end(character: char) -> bool {
    matches!(character, '&' | ';' | '#') || character.is_whitespace()
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    !key.is_empty() && SECRET_KEY_PARTS.iter().any(|part| key.contains(part))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_userinfo_are_hidden_and_the_rest_kept() {
        for (given, expected) in [
            (
                "postgres://ana:s3cret@db:5432/flags?schema=x",
                "postgres://ana:***@db:5432/flags?schema=x",
            ),
            ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
            (
                "redis://default:s3cret@cache/0?prefix=dev:",
                "redis://default:***@cache/0?prefix=dev:",
            ),
            (
                "http://admin:s3cret@127.0.0.1:4242",
                "http://admin:***@127.0.0.1:4242",
            ),
            ("postgres://ana@db/flags", "postgres://ana@db/flags"),
            ("sqlite:///var/lib/ramp.db", "sqlite:///var/lib/ramp.db"),
            ("memory://", "memory://"),
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("redis://[::1]:6379/0", "redis://[::1]:6379/0"),
            ("http://[::1]/", "http://[::1]/"),
            ("sqlite:ramp.db", "sqlite:ramp.db"),
            ("localhost:5432", "localhost:5432"),
            (
                "postgres:/ramp@localhost/test",
                "postgres:/ramp@localhost/test",
            ),
            ("", ""),
        ] {
            assert_eq!(redact_url(given), expected, "{given}");
        }
    }

    #[test]
    fn secret_parameters_are_hidden_in_queries_and_connection_strings() {
        for (given, expected) in [
            (
                "postgres://ana@db/flags?password=s3cret&schema=x",
                "postgres://ana@db/flags?password=***&schema=x",
            ),
            (
                "postgres://ana@db/flags?schema=x&PASSWORD=s3cret",
                "postgres://ana@db/flags?schema=x&PASSWORD=***",
            ),
            (
                "postgres://ana@db/x?sslpassword=s3cret#frag",
                "postgres://ana@db/x?sslpassword=***#frag",
            ),
            (
                "http://h/?token=s3cret&auth_key=s3cret",
                "http://h/?token=***&auth_key=***",
            ),
            (
                "host=db user=ana password=s3cret dbname=flags",
                "host=db user=ana password=*** dbname=flags",
            ),
            (
                "redis://h/0?prefix=a=b&randomize=true",
                "redis://h/0?prefix=a=b&randomize=true",
            ),
        ] {
            assert_eq!(redact_url(given), expected, "{given}");
        }
    }

    #[test]
    fn malformed_urls_never_show_the_secret() {
        for given in [
            "postgres://ana:s3cret@",
            "postgres://ana:s3cret",
            "postgres://ana:s3cret/flags",
            "postgres://ana:s3c/ret@db/flags",
            "postgres://ana:s3c?ret@db/flags",
            "postgres://ana:s3c@ret@db/flags",
            "postgres://ana:s3cret@db:notaport/flags",
            "ana:s3cret@db/flags",
            "postgres:/ana:s3cret@db/flags",
            "nosuchscheme://u:s3cret@h",
            "redis://:s3cret@[::1/0",
            "http://h/?password=s3cret",
            "   postgres://ana:s3cret@db",
            "postgres://ana:s3cret@db/x?password=s3cret",
        ] {
            let redacted = redact_url(given);
            assert!(!redacted.contains("s3c"), "{given} -> {redacted}");
        }
    }

    #[test]
    fn invalid_url_errors_never_show_the_secret() {
        let url = "postgres://ana:s3cret@db/flags?password=s3cret";
        let built = crate::StoreError::invalid_url(url, "no");
        let raw = crate::StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: "no".into(),
        };
        assert!(!format!("{built:?}").contains("s3cret"), "{built:?}");
        for error in [built, raw] {
            let message = error.to_string();
            assert!(
                !message.contains("s3cret") && message.contains("ana:***@db"),
                "{message}"
            );
        }
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let once = redact_url("postgres://ana:s3cret@db/flags?password=s3cret");
        assert_eq!(redact_url(&once), once);
    }
}
