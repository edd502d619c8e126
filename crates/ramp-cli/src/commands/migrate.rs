//! `ramp migrate status NAME`: the latest progress each data migration of a feature reported
//! (`ramp_client::Client::report_migration`, or any program through the API), as a table or,
//! with `--json`, as `GET /api/v1/features/NAME/migrations` answers. Over a store it reads the
//! store; through `--server`, the server (the HTTP store).

use chrono::{DateTime, Utc};
use clap::Subcommand;
use ramp_core::{FeatureName, MigrationPhase, MigrationProgress};
use serde::Serialize;

use super::Session;
use crate::output::percent;

/// `ramp migrate ...`: data migrations that follow a feature.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// The latest progress each migration of a feature reported
    Status {
        /// The feature
        name: String,
    },
}

/// What `--json` prints.
#[derive(Serialize)]
struct Listed<'a> {
    feature: &'a str,
    migrations: &'a [MigrationProgress],
}

pub async fn run(session: &Session, command: MigrateCommand) -> anyhow::Result<()> {
    let MigrateCommand::Status { name } = command;
    let name = FeatureName::new(&name)?;
    let reports = session
        .rollout
        .store()
        .migration_progress(name.as_str())
        .await?;
    let output = session.output;
    if output.is_json() {
        return Ok(output.json(&Listed {
            feature: name.as_str(),
            migrations: &reports,
        })?);
    }
    if reports.is_empty() {
        return Ok(output.text(format!("no migration has reported for {}", name.as_str()))?);
    }
    let header = [
        "MIGRATION",
        "PHASE",
        "MIGRATED/COVERED",
        "PENDING FORWARD",
        "PENDING BACK",
        "FAILURES",
        "TARGET",
        "REPORTED",
        "INSTANCE",
    ];
    let now = Utc::now();
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for report in &reports {
        rows.push(vec![
            report.migration.clone(),
            phase(report.phase).to_owned(),
            format!(
                "{}/{}",
                thousands(report.migrated),
                thousands(report.covered)
            ),
            thousands(report.pending_forward),
            thousands(report.pending_back),
            thousands(report.failures),
            report
                .target_percentage
                .map_or_else(|| "-".to_owned(), percent),
            ago(report.reported_at, now),
            report.instance.clone(),
        ]);
    }
    output.table(&rows)?;
    for report in &reports {
        if let Some(error) = &report.last_error {
            output.text(format!("{}: last error: {error}", report.migration))?;
        }
    }
    Ok(())
}

fn phase(phase: MigrationPhase) -> &'static str {
    match phase {
        MigrationPhase::Running => "running",
        MigrationPhase::Done => "done",
        MigrationPhase::Failed => "failed",
    }
}

/// `8230` -> `8,230`.
fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// How long before `now` a report came, in the largest whole unit: `just now`, `3 min ago`,
/// `2 h ago`, `5 days ago`. A time after `now` (another machine's clock) is `just now`.
fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    match seconds {
        ..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        _ => match seconds / 86_400 {
            1 => "1 day ago".to_owned(),
            days => format!("{days} days ago"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (number, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (8_230, "8,230"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(number), text);
        }
    }

    #[test]
    fn report_times_read_in_their_largest_unit() {
        let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        for (seconds_before, text) in [
            (-30, "just now"),
            (59, "just now"),
            (180, "3 min ago"),
            (7_200, "2 h ago"),
            (86_400, "1 day ago"),
            (5 * 86_400 + 10, "5 days ago"),
        ] {
            let then = now - chrono::Duration::seconds(seconds_before);
            assert_eq!(ago(then, now), text, "{seconds_before}");
        }
    }
}
