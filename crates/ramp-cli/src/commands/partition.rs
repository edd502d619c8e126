//! `ramp partition NAME [--file IDS|-] [--on FILE] [--off FILE]`: splits a list of ids into
//! those the feature covers and those it does not, for data migrations written in any
//! language or in SQL (load `--on` into a table, `UPDATE ... WHERE id IN (SELECT ...)`).
//!
//! Coverage is the evaluation every check uses (the gem's bucketing, lists, stored groups) for
//! a user whose id is the line, from one snapshot read once: a change during the run cannot
//! split the list by two different settings. Ids are streamed: each is checked, evaluated and
//! written before the next is read, so memory stays flat whatever the list's length. Code
//! groups exist only in applications, so here they cover no one.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use ramp_core::{check_user_id, CodeGroups, CompiledSnapshot, Context, UserId, MAX_USER_ID_BYTES};
use serde::Serialize;

use super::Session;

/// The most ids one run reads: past it the list is refused (split it).
pub const MAX_IDS: u64 = 10_000_000;

/// `ramp partition NAME [--file IDS|-] [--on FILE] [--off FILE]`
#[derive(Debug, Args)]
pub struct PartitionArgs {
    /// The feature
    name: String,
    /// The ids, one per line (`-` or absent: standard input); blank lines are skipped
    #[arg(long, value_name = "IDS")]
    file: Option<String>,
    /// Write the covered ids here, one per line, in input order
    #[arg(long, value_name = "FILE")]
    on: Option<String>,
    /// Write the ids not covered here, one per line, in input order
    #[arg(long, value_name = "FILE")]
    off: Option<String>,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Partition<'a> {
    feature: &'a str,
    covered: u64,
    not_covered: u64,
    total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    on: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    off: Option<&'a str>,
}

/// Runs `ramp partition`.
pub async fn partition(session: &Session, arguments: PartitionArgs) -> anyhow::Result<()> {
    let snapshot = session.rollout.compiled_snapshot().await?;
    if !snapshot.contains(&arguments.name) {
        bail!("no feature named {:?}", arguments.name);
    }
    let (input, source): (Box<dyn BufRead>, &str) = match arguments.file.as_deref() {
        None | Some("-") => (
            Box::new(BufReader::new(io::stdin().lock())),
            "standard input",
        ),
        Some(path) => {
            let file = File::open(path).with_context(|| format!("cannot read {path}"))?;
            (Box::new(BufReader::with_capacity(1 << 16, file)), path)
        }
    };
    let mut on = arguments.on.as_deref().map(create).transpose()?;
    let mut off = arguments.off.as_deref().map(create).transpose()?;
    let mut writers = Writers {
        on: on.as_mut().map(|(writer, path)| (writer, *path)),
        off: off.as_mut().map(|(writer, path)| (writer, *path)),
    };
    let (covered, not_covered) = split(&snapshot, &arguments.name, input, source, &mut writers)?;
    writers.finish()?;
    let view = Partition {
        feature: &arguments.name,
        covered,
        not_covered,
        total: covered + not_covered,
        on: arguments.on.as_deref(),
        off: arguments.off.as_deref(),
    };
    Ok(session.output.result(&view, || {
        format!(
            "{}: {covered} covered, {not_covered} not covered",
            arguments.name
        )
    })?)
}

/// Where the two lists go, when asked for.
struct Writers<'a> {
    on: Option<(&'a mut BufWriter<File>, &'a str)>,
    off: Option<(&'a mut BufWriter<File>, &'a str)>,
}

impl Writers<'_> {
    fn write(&mut self, covered: bool, id: &str) -> anyhow::Result<()> {
        let target = if covered { &mut self.on } else { &mut self.off };
        if let Some((writer, path)) = target {
            writeln!(writer, "{id}").with_context(|| format!("cannot write {path}"))?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        for (writer, path) in self.on.into_iter().chain(self.off) {
            writer
                .flush()
                .with_context(|| format!("cannot write {path}"))?;
        }
        Ok(())
    }
}

fn create(path: &str) -> anyhow::Result<(BufWriter<File>, &str)> {
    let file = File::create(path).with_context(|| format!("cannot create {path}"))?;
    Ok((BufWriter::with_capacity(1 << 16, file), path))
}

/// Reads, checks and evaluates every id; returns (covered, not covered).
fn split(
    snapshot: &CompiledSnapshot,
    feature: &str,
    mut input: impl BufRead,
    source: &str,
    writers: &mut Writers<'_>,
) -> anyhow::Result<(u64, u64)> {
    let code_groups = CodeGroups::new();
    let (mut covered, mut not_covered) = (0u64, 0u64);
    let mut line = Vec::new();
    let mut number = 0u64;
    // A line longer than any id (plus spaces around it) is refused without reading it all.
    let longest_line = (MAX_USER_ID_BYTES + 1024) as u64;
    loop {
        line.clear();
        let read = (&mut input)
            .take(longest_line + 1)
            .read_until(b'\n', &mut line)
            .map_err(|error| anyhow!("cannot read {source}: {error}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        if read as u64 > longest_line {
            bail!("{source}, line {number}: longer than {longest_line} bytes");
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| anyhow!("{source}, line {number}: not valid UTF-8"))?;
        let id = text.trim();
        if id.is_empty() {
            continue;
        }
        if check_user_id(id).is_err() {
            let error = UserId::new(id).err().map(|error| error.to_string());
            bail!(
                "{source}, line {number}: {}",
                error.unwrap_or_else(|| "invalid user id".to_owned())
            );
        }
        if covered + not_covered == MAX_IDS {
            bail!("{source}: more than {MAX_IDS} ids; split the list");
        }
        let active = snapshot.is_active(feature, &Context::user(id), &code_groups);
        if active {
            covered += 1;
        } else {
            not_covered += 1;
        }
        writers.write(active, id)?;
    }
    Ok((covered, not_covered))
}
