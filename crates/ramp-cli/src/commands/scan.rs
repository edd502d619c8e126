//! `scan [PATH...] [--check] [--graduated-days N] [--offline] [--upload]`: the references to flags in
//! source code (see `ramp-scan`), set against the flags the store defines: flags code names
//! but nobody defined (typos, or deleted while code still asks), flags defined but never named
//! (cleanup candidates), and, with `--check` (for CI), a failure when either code names an
//! undefined flag or still names one that graduated more than N days ago.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use ramp_core::{FeatureName, FieldChange, Stage, ValueField};
use ramp_scan::{Comparison, Config, ScanResult, Scanner};
use ramp_store::HistoryQuery;
use serde::Serialize;

use super::{scan_upload, Session};
use crate::output::Output;

/// `ramp scan ...`
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan [default: the current directory]
    paths: Vec<PathBuf>,
    /// Exit 1 when code names a flag that is not defined, or one that graduated more than
    /// --graduated-days ago (its code is due for removal)
    #[arg(long)]
    check: bool,
    /// With --check: how long code may keep naming a graduated flag
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    graduated_days: u32,
    /// Only list the references, without reading the store
    #[arg(long, conflicts_with = "upload")]
    pub offline: bool,
    /// Send the references to the store (or the --server) as this repository's latest scan
    #[arg(long)]
    upload: bool,
    /// With --upload: the repository's name [default: from git's origin remote]
    #[arg(long, value_name = "NAME", requires = "upload")]
    repository: Option<String>,
    /// With --upload: the commit scanned [default: git's HEAD]
    #[arg(long, value_name = "SHA", requires = "upload")]
    commit: Option<String>,
}

/// A graduated flag that code still names, and since when it is graduated.
#[derive(Debug, Serialize)]
struct StillNamed {
    feature: String,
    graduated_at: Option<DateTime<Utc>>,
    references: usize,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    scan: &'a ScanResult,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    comparison: Option<&'a Comparison>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    graduated_still_named: Vec<StillNamed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uploaded: Option<Uploaded>,
}

/// What `--upload` sent.
#[derive(Debug, Serialize)]
struct Uploaded {
    repository: String,
    commit: String,
    references: usize,
}

/// Scans; `session` is `None` with `--offline`.
pub async fn scan(
    session: Option<&Session>,
    output: Output,
    arguments: ScanArgs,
) -> anyhow::Result<()> {
    let paths = if arguments.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        arguments.paths.clone()
    };
    // The project's `.ramp/scan.toml` sits at the root of the first tree given.
    let root = if paths[0].is_dir() {
        paths[0].clone()
    } else {
        paths[0]
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_owned)
    };
    let scanner = Scanner::new(Config::load(&root)?)?;
    let found = tokio::task::spawn_blocking(move || scanner.scan(&paths)).await??;
    // Uploaded before --check can fail the command: CI wants the references stored either way.
    let uploaded = match (session, arguments.upload) {
        (Some(session), true) => {
            let origin = scan_upload::origin(
                &root,
                arguments.repository.clone(),
                arguments.commit.clone(),
            )?;
            let scan = scan_upload::code_scan(&found, &origin)?;
            scan_upload::upload(session, &scan).await?;
            Some(Uploaded {
                repository: scan.repository,
                commit: scan.commit,
                references: scan.references.len(),
            })
        }
        _ => None,
    };
    let (comparison, graduated) = match session {
        Some(session) => {
            let snapshot = session.rollout.store().snapshot().await?;
            let names = snapshot
                .features
                .iter()
                .map(|feature| feature.name.as_str());
            let comparison = Comparison::new(&found.references, names);
            let mut graduated = Vec::new();
            for feature in &snapshot.features {
                let references = comparison.referenced.get(feature.name.as_str());
                if let (Stage::Graduated, Some(references)) = (feature.stage, references) {
                    graduated.push(StillNamed {
                        feature: feature.name.to_string(),
                        graduated_at: graduated_at(session, &feature.name).await?,
                        references: *references,
                    });
                }
            }
            (Some(comparison), graduated)
        }
        None => (None, Vec::new()),
    };
    let allowed = Duration::days(i64::from(arguments.graduated_days));
    let overdue: Vec<String> = graduated
        .iter()
        .filter(|still| {
            still
                .graduated_at
                .is_none_or(|since| Utc::now() - since > allowed)
        })
        .map(|still| still.feature.clone())
        .collect();
    if output.is_json() {
        output.json(&Report {
            scan: &found,
            comparison: comparison.as_ref(),
            graduated_still_named: graduated,
            uploaded,
        })?;
    } else {
        let mut text = text_report(&found, comparison.as_ref(), &graduated);
        if let Some(uploaded) = &uploaded {
            text.push_str(&format!(
                "\nuploaded {} references of {} at {}",
                uploaded.references, uploaded.repository, uploaded.commit
            ));
        }
        output.text(text)?;
    }
    if arguments.check {
        let undefined = comparison
            .as_ref()
            .map(|comparison| comparison.undefined.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        if !undefined.is_empty() || !overdue.is_empty() {
            let mut reasons = Vec::new();
            if !undefined.is_empty() {
                reasons.push(format!(
                    "code names flags that are not defined: {}",
                    undefined.join(", ")
                ));
            }
            if !overdue.is_empty() {
                reasons.push(format!(
                    "code still names flags graduated more than {} days ago (remove the code, routes first): {}",
                    arguments.graduated_days,
                    overdue.join(", ")
                ));
            }
            bail!("scan --check failed: {}", reasons.join("; "));
        }
    }
    Ok(())
}

/// When the feature last moved to `graduated`, from its history (`None`: history does not
/// say, as after an import of a graduated feature).
async fn graduated_at(
    session: &Session,
    name: &FeatureName,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let query = HistoryQuery {
        feature: Some(name.clone()),
        limit: 200,
        ..HistoryQuery::default()
    };
    let events = session.rollout.store().history(&query).await?;
    Ok(events
        .iter()
        .find(|event| {
            event.changes.iter().any(|change| {
                matches!(change, FieldChange::Value { field: ValueField::Stage, after, .. }
                    if after == Stage::Graduated.as_str())
            })
        })
        .map(|event| event.time))
}

fn text_report(
    found: &ScanResult,
    comparison: Option<&Comparison>,
    graduated: &[StillNamed],
) -> String {
    let mut flags: BTreeMap<&str, usize> = BTreeMap::new();
    for reference in &found.references {
        *flags.entry(reference.feature.as_str()).or_default() += 1;
    }
    let mut lines = vec![format!(
        "{} references to {} flags in {} files{}",
        found.references.len(),
        flags.len(),
        found.files_scanned,
        if found.files_skipped > 0 {
            format!(" ({} skipped: binary or over 4 MiB)", found.files_skipped)
        } else {
            String::new()
        }
    )];
    for reference in &found.references {
        lines.push(format!(
            "{}:{}  {}  {}",
            reference.file.display(),
            reference.line,
            reference.feature,
            reference.context
        ));
    }
    if let Some(comparison) = comparison {
        if !comparison.undefined.is_empty() {
            let names: Vec<String> = comparison
                .undefined
                .iter()
                .map(|(name, count)| format!("{name} ({count})"))
                .collect();
            lines.push(format!(
                "not defined (a typo, or deleted while code still asks): {}",
                names.join(", ")
            ));
        }
        if !comparison.unreferenced.is_empty() {
            lines.push(format!(
                "defined, never named in this code: {}",
                comparison.unreferenced.join(", ")
            ));
        }
    }
    for still in graduated {
        let since = still.graduated_at.map_or_else(
            || "a time history does not record".to_owned(),
            |time| time.format("%Y-%m-%d").to_string(),
        );
        lines.push(format!(
            "graduated since {since} but still named {} times: {}",
            still.references, still.feature
        ));
    }
    lines.join("\n")
}
