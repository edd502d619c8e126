//! `graduate NAME [--reason TEXT]`: moves a feature to `graduated` (100 % and no exclusions,
//! or a reason, as `ramp stage` requires), then prints the removal checklist built from the
//! stored code references (`ramp scan --upload`): routing code first, then the rest, grouped
//! by file. Run it again later to see what the latest scans still find.

use ramp_core::{removal_checklist, ChecklistFile, Stage};
use serde::Serialize;

use super::features::{apply_stage, StageReasons};
use super::Session;

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Graduated {
    feature: String,
    stage: String,
    /// References the latest scans still find.
    remaining: usize,
    files: Vec<ChecklistFile>,
}

/// Graduates the feature and prints what code to remove.
pub async fn graduate(session: &Session, name: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let reasons = StageReasons {
        reason,
        override_reason: None,
    };
    let feature = apply_stage(session, name, Stage::Graduated, reasons).await?;
    let references = session
        .rollout
        .store()
        .code_references(feature.name.as_str())
        .await?;
    let report = Graduated {
        feature: feature.name.to_string(),
        stage: feature.stage.as_str().to_owned(),
        remaining: references.len(),
        files: removal_checklist(&references),
    };
    Ok(session.output.result(&report, || text(&report))?)
}

fn text(report: &Graduated) -> String {
    let mut lines = vec![format!("{}: stage {}", report.feature, report.stage)];
    if report.files.is_empty() {
        lines.push(
            "no code references stored (upload scans with `ramp scan --upload`): nothing to remove"
                .to_owned(),
        );
        return lines.join("\n");
    }
    lines.push(format!(
        "remove its code: {} references in {} files, routes first",
        report.remaining,
        report.files.len()
    ));
    for file in &report.files {
        let marker = if file.routes { " (routes)" } else { "" };
        lines.push(format!("[ ] {}: {}{marker}", file.repository, file.file));
        for line in &file.lines {
            lines.push(format!("      {}: {}", line.line, line.context));
        }
    }
    lines.join("\n")
}
