//! Putting text that someone else chose (a login name, a name read from Redis) into a log line
//! safely: control characters are escaped, so a newline cannot forge a second line, and long
//! text is cut, so one request cannot write megabytes of log.

use std::fmt;

/// Characters of a value written to a log at most.
pub const MAX_LOGGED_CHARS: usize = 200;

/// `value`, displayed escaped and cut to [`MAX_LOGGED_CHARS`] (with the full length said).
pub fn log_text(value: &str) -> LogText<'_> {
    LogText(value)
}

/// See [`log_text`]; formatting does not allocate.
#[derive(Debug, Clone, Copy)]
pub struct LogText<'a>(&'a str);

impl fmt::Display for LogText<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for character in chars.by_ref().take(MAX_LOGGED_CHARS) {
            if character.is_control() || character == '\\' {
                write!(formatter, "{}", character.escape_default())?;
            } else {
                fmt::Write::write_char(formatter, character)?;
            }
        }
        if chars.next().is_some() {
            write!(formatter, "...({} bytes in all)", self.0.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_so_no_line_can_be_forged() {
        let forged = "alice\n2026-01-01T00:00:00Z INFO logged in user=admin\r\u{1b}[31m";
        let logged = log_text(forged).to_string();
        assert!(!logged.contains('\n') && !logged.contains('\r') && !logged.contains('\u{1b}'));
        assert!(logged.starts_with("alice\\n2026"), "{logged}");
        assert_eq!(log_text("plain name").to_string(), "plain name");
        // A backslash is escaped too, so an escaped newline cannot be told from a typed one.
        assert_eq!(log_text("a\\nb").to_string(), "a\\\\nb");
    }

    #[test]
    fn long_values_are_cut_and_their_length_said() {
        let huge = "x".repeat(900_000);
        let logged = log_text(&huge).to_string();
        assert!(logged.len() < MAX_LOGGED_CHARS + 40, "{}", logged.len());
        assert!(logged.ends_with("...(900000 bytes in all)"), "{logged}");
        let exact = "y".repeat(MAX_LOGGED_CHARS);
        assert_eq!(log_text(&exact).to_string(), exact);
    }
}
