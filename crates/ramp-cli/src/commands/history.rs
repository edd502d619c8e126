//! `history` (what changed, who changed it, newest first) and `revert` (put a feature back as
//! it was just before one of those changes).

use anyhow::anyhow;
use clap::Args;
use ramp_core::{Action, FeatureName, HistoryEvent};
use ramp_rollout::{RevertScope, Reverted};

use super::{Deleted, Session};
use crate::output::time;

/// `ramp history [NAME] [--limit N] [--before ID]`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this feature's changes
    name: Option<String>,
    /// At most this many events
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    limit: u64,
    /// Only events older than this id (the last id of the previous page)
    #[arg(long, value_name = "ID")]
    before: Option<u64>,
}

/// Runs `ramp history`.
pub async fn history(session: &Session, arguments: HistoryArgs) -> anyhow::Result<()> {
    let limit = usize::try_from(arguments.limit).unwrap_or(usize::MAX);
    let events = session
        .rollout
        .history(arguments.name.as_deref(), arguments.before, limit)
        .await?;
    let output = session.output;
    if output.is_json() {
        return Ok(output.json(&events)?);
    }
    if events.is_empty() {
        return Ok(output.text("no history")?);
    }
    let lines: Vec<String> = events.iter().map(event_line).collect();
    Ok(output.text(lines.join("\n"))?)
}

/// `#12 2026-11-28 10:00:00 UTC ana updated chat: percentage from 10.0 to 25.0 (comment)`.
fn event_line(event: &HistoryEvent) -> String {
    let action = match event.action {
        Action::Created => "created",
        Action::Updated => "updated",
        Action::Deleted => "deleted",
    };
    let mut line = format!(
        "#{} {} {} {action} {}",
        event.id,
        time(event.time),
        event.actor,
        event.feature
    );
    if !event.changes.is_empty() {
        let changes: Vec<String> = event.changes.iter().map(ToString::to_string).collect();
        line.push_str(": ");
        line.push_str(&changes.join("; "));
    }
    if let Some(comment) = &event.comment {
        line.push_str(&format!(" ({comment})"));
    }
    line
}

/// Runs `ramp revert NAME EVENT_ID [--only]`.
pub async fn revert(session: &Session, name: &str, event: &str, only: bool) -> anyhow::Result<()> {
    FeatureName::new(name)?;
    // `#12` is how `history` prints ids, so people paste it.
    let event_id: u64 = event
        .strip_prefix('#')
        .unwrap_or(event)
        .parse()
        .map_err(|_| anyhow!("invalid event id {event:?}: expected a number such as 12"))?;
    let scope = if only {
        RevertScope::OnlyThisEvent
    } else {
        RevertScope::ToBefore
    };
    let reverted = session
        .rollout
        .revert_with(name, event_id, scope, None)
        .await?;
    let line = match &reverted {
        Reverted::Restored(Some(recorded)) if only => format!(
            "{name}: undid event #{event_id}, keeping later changes (recorded as #{})",
            recorded.id
        ),
        Reverted::Restored(None) if only => {
            format!("{name}: event #{event_id} is already undone; nothing changed")
        }
        Reverted::Restored(Some(recorded)) => format!(
            "{name}: restored to its state before event #{event_id} (recorded as #{})",
            recorded.id
        ),
        Reverted::Restored(None) => {
            format!("{name}: already as it was before event #{event_id}; nothing changed")
        }
        Reverted::Deleted(recorded) => format!(
            "{name}: deleted, as it did not exist before event #{event_id} (recorded as #{})",
            recorded.id
        ),
    };
    let output = session.output;
    if !output.is_json() {
        return Ok(output.text(line)?);
    }
    match session.rollout.get(name).await? {
        Some(feature) => Ok(output.json(&feature)?),
        None => Ok(output.json(&Deleted {
            feature: name,
            deleted: true,
        })?),
    }
}
