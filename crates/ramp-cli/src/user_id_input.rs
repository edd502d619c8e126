//! Collecting user ids from arguments and from a file or stdin (one id per line).
//!
//! Every id is checked before anything is stored, so a bad line 900,000 of a file leaves the
//! store untouched; the error names the line. Reading is one pass with one allocation per id,
//! which keeps a million ids well under a second. A progress bar is drawn only when stderr is a
//! terminal, so scripts and tests see nothing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal};
use std::time::Duration;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use ramp_core::{check_user_id, UserId};

/// How many lines pass between progress updates: often enough to look alive, rare enough that
/// drawing costs nothing next to reading.
const LINES_PER_UPDATE: usize = 16_384;

/// The ids given as arguments, then those of `file` (`-` is stdin), all checked.
pub fn collect(arguments: Vec<String>, file: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(arguments.len());
    for id in arguments {
        check(&id)?;
        ids.push(id);
    }
    match file {
        None => {}
        Some("-") => read(io::stdin().lock(), "standard input", None, &mut ids)?,
        Some(path) => {
            let opened =
                File::open(path).map_err(|error| anyhow!("cannot read {path}: {error}"))?;
            let length = opened.metadata().ok().map(|metadata| metadata.len());
            // A large buffer: the file is read once, front to back.
            let reader = BufReader::with_capacity(1 << 16, opened);
            read(reader, path, length, &mut ids)?;
        }
    }
    Ok(ids)
}

/// Checks one id, with the core's message (which shortens very long ids).
fn check(id: &str) -> anyhow::Result<()> {
    UserId::new(id).map(drop).map_err(anyhow::Error::from)
}

/// Appends the ids of `reader`: whitespace trimmed, blank lines skipped.
fn read(
    mut reader: impl BufRead,
    source: &str,
    length: Option<u64>,
    ids: &mut Vec<String>,
) -> anyhow::Result<()> {
    let progress = progress_bar(length);
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut bytes = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| anyhow!("cannot read {source}: {error}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        bytes += read as u64;
        let text = std::str::from_utf8(&line)
            .map_err(|_| anyhow!("{source}, line {number}: not valid UTF-8"))?;
        let id = text.trim();
        if id.is_empty() {
            continue;
        }
        // The cheap check first; the error path builds the core's full message.
        if check_user_id(id).is_err() {
            progress.finish_and_clear();
            let error = check(id)
                .err()
                .unwrap_or_else(|| anyhow!("invalid user id"));
            return Err(anyhow!("{source}, line {number}: {error}"));
        }
        ids.push(id.to_owned());
        if number % LINES_PER_UPDATE == 0 {
            progress.set_position(bytes);
            progress.set_message(format!("{} ids", ids.len()));
        }
    }
    progress.finish_and_clear();
    Ok(())
}

/// A bar over the file's bytes, a spinner for stdin, or nothing when stderr is not a terminal.
fn progress_bar(length: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match length {
        Some(length) => ProgressBar::new(length).with_style(style(
            "reading ids {wide_bar} {bytes}/{total_bytes} {msg} {eta}",
        )),
        None => ProgressBar::new_spinner().with_style(style("{spinner} reading ids: {msg}")),
    };
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A spinner shown on a terminal while the store saves a long list (a second or two for a
/// million ids), so the command does not look stuck.
pub fn saving_spinner(count: usize) -> ProgressBar {
    const WORTH_SHOWING: usize = 100_000;
    if count < WORTH_SHOWING || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_style(style("{spinner} saving {msg} ids"));
    spinner.set_message(count.to_string());
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// The template, or indicatif's default if it were ever rejected (a cosmetic failure must not
/// stop a command).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let mut ids = Vec::new();
        read(&b" 1 \n\n2\r\n  \nuser three\n"[..], "test", None, &mut ids).unwrap();
        assert_eq!(ids, ["1", "2", "user three"]);
    }

    #[test]
    fn the_first_bad_line_is_named() {
        let mut ids = Vec::new();
        let error = read(&b"1\n2\na,b\nc|d\n"[..], "ids.txt", None, &mut ids)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("ids.txt, line 3: "), "{error}");
        assert!(error.contains("','"), "{error}");
    }

    #[test]
    fn a_bad_argument_is_refused() {
        assert!(collect(vec!["ok".into(), "no,pe".into()], None).is_err());
    }
}
