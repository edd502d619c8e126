//! Printing results: a short human line or table by default, JSON with `--json`.
//!
//! Every command writes its result through here, so the two modes stay consistent. Errors never
//! go through here: `main` prints them on stderr. JSON is compact (one document per line) so that
//! a feature with a million users is not a million lines.

use std::fmt::Display;
use std::io::{self, BufWriter, Write};

use chrono::{DateTime, Utc};
use ramp_core::{Feature, Percentage};
use serde::Serialize;

/// Where results go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// JSON output when `json`, text otherwise.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(self) -> bool {
        self.json
    }

    /// Prints `value` as one line of JSON.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> io::Result<()> {
        let mut stdout = BufWriter::new(io::stdout().lock());
        serde_json::to_writer(&mut stdout, value)?;
        writeln!(stdout)?;
        stdout.flush()
    }

    /// Prints `value` as indented JSON (documents people read or keep, such as exports).
    pub fn pretty_json<T: Serialize + ?Sized>(self, value: &T) -> io::Result<()> {
        let mut stdout = BufWriter::new(io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, value)?;
        writeln!(stdout)?;
        stdout.flush()
    }

    /// Prints text as it is, followed by a newline.
    pub fn text(self, text: impl Display) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{text}")
    }

    /// `value` as JSON in JSON mode, else the human text `human` builds.
    pub fn result<T: Serialize + ?Sized, D: Display>(
        self,
        value: &T,
        human: impl FnOnce() -> D,
    ) -> io::Result<()> {
        if self.json {
            self.json(value)
        } else {
            self.text(human())
        }
    }

    /// What every write prints: the feature as JSON, or a one-line confirmation.
    pub fn feature(self, feature: &Feature, confirmation: impl Display) -> io::Result<()> {
        self.result(feature, || {
            format!("{}: {confirmation}", feature.name.as_str())
        })
    }

    /// Prints rows as columns padded to their widest cell; the last column is not padded, so
    /// long descriptions do not leave trailing spaces.
    pub fn table(self, rows: &[Vec<String>]) -> io::Result<()> {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in rows {
            for (index, cell) in row.iter().enumerate() {
                widths[index] = widths[index].max(cell.chars().count());
            }
        }
        let mut stdout = BufWriter::new(io::stdout().lock());
        for row in rows {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate() {
                if index + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let padding = widths[index] - cell.chars().count();
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', padding + 2));
                }
            }
            writeln!(stdout, "{}", line.trim_end())?;
        }
        stdout.flush()
    }
}

/// A percentage as people read it: `12.5 %`.
pub fn percent(percentage: Percentage) -> String {
    format!("{percentage} %")
}

/// A time as history and `show` print it: `2026-11-28 10:00:00 UTC`.
pub fn time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Names joined with ", ", or "none".
pub fn joined<T: AsRef<str>>(items: &[T]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
