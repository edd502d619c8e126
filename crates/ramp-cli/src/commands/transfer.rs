//! `export` and `import`: every feature and stored group as one JSON document, for backups and
//! for moving flags between environments.
//!
//! Import reads and validates the whole document before writing, and the store writes it in one
//! all-or-nothing step: a broken file changes nothing.

use std::io::Read;
use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;
use ramp_rollout::Export;
use serde::Serialize;

use super::Session;

/// What `export FILE --json` prints (the document itself went to the file).
#[derive(Debug, Serialize)]
struct Exported<'a> {
    file: &'a Path,
    features: usize,
    groups: usize,
}

/// Runs `ramp export [FILE]`.
pub async fn export(session: &Session, file: Option<&Path>) -> anyhow::Result<()> {
    let export = session.rollout.export(Utc::now()).await?;
    let Some(file) = file else {
        return Ok(session.output.pretty_json(&export)?);
    };
    let mut text = serde_json::to_string_pretty(&export)?;
    text.push('\n');
    std::fs::write(file, text)
        .map_err(|error| anyhow!("cannot write {}: {error}", file.display()))?;
    let summary = Exported {
        file,
        features: export.features.len(),
        groups: export.groups.len(),
    };
    Ok(session.output.result(&summary, || {
        format!(
            "exported {} to {}",
            counts(summary.features, summary.groups),
            file.display()
        )
    })?)
}

/// Runs `ramp import FILE` (`-` reads stdin).
pub async fn import(session: &Session, file: &str) -> anyhow::Result<()> {
    let text = if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| anyhow!("cannot read standard input: {error}"))?;
        text
    } else {
        std::fs::read_to_string(file).map_err(|error| anyhow!("cannot read {file}: {error}"))?
    };
    let export = Export::parse(&text)?;
    let summary = session.rollout.import(&export).await?;
    Ok(session.output.result(&summary, || {
        format!(
            "imported {}: {} created, {} updated, {} unchanged",
            counts(
                summary.created + summary.updated + summary.unchanged,
                summary.groups
            ),
            summary.created,
            summary.updated,
            summary.unchanged
        )
    })?)
}

/// `3 features and 1 group`.
fn counts(features: usize, groups: usize) -> String {
    let plural = |count: usize| if count == 1 { "" } else { "s" };
    format!(
        "{features} feature{} and {groups} group{}",
        plural(features),
        plural(groups)
    )
}
