//! `history` (what changed, who changed it, newest first) and `revert` (put a feature or a
//! stored group back as it was just before one of those changes).

use anyhow::anyhow;
use clap::Args;
use ramp_core::{Action, FeatureName, GroupName, HistoryEvent};
use ramp_rollout::{RevertScope, Reverted};

use super::{Deleted, Session};
use crate::output::time;

/// `ramp history [NAME | --group GROUP] [--limit N] [--before ID]`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this feature's changes
    name: Option<String>,
    /// Only this stored group's changes
    #[arg(long, value_name = "GROUP", conflicts_with = "name")]
    group: Option<String>,
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
    let events = match &arguments.group {
        Some(group) => {
            session
                .rollout
                .group_history(group, arguments.before, limit)
                .await?
        }
        None => {
            session
                .rollout
                .history(arguments.name.as_deref(), arguments.before, limit)
                .await?
        }
    };
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

/// `#12 2026-11-28 10:00:00 UTC ana updated chat: percentage from 10.0 to 25.0 (comment)`; a
/// group's event says so: `... ana updated group beta: members +1 (7)`.
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
        match &event.subject {
            ramp_core::Subject::Feature(name) => name.to_string(),
            ramp_core::Subject::Group(name) => format!("group {name}"),
            ramp_core::Subject::Settings(name) => format!("settings {}", name.as_str()),
        }
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

/// Runs `ramp revert NAME EVENT_ID [--only] [--group]`.
pub async fn revert(
    session: &Session,
    name: &str,
    event: &str,
    only: bool,
    group: bool,
) -> anyhow::Result<()> {
    if group {
        GroupName::new(name)?;
    } else {
        FeatureName::new(name)?;
    }
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
    let reverted = if group {
        session
            .rollout
            .revert_group_with(name, event_id, scope, None)
            .await?
    } else {
        session
            .rollout
            .revert_with(name, event_id, scope, None)
            .await?
    };
    let label = if group {
        format!("group {name}")
    } else {
        name.to_owned()
    };
    let line = match &reverted {
        Reverted::Restored(Some(recorded)) if only => format!(
            "{label}: undid event #{event_id}, keeping later changes (recorded as #{})",
            recorded.id
        ),
        Reverted::Restored(None) if only => {
            format!("{label}: event #{event_id} is already undone; nothing changed")
        }
        Reverted::Restored(Some(recorded)) => format!(
            "{label}: restored to its state before event #{event_id} (recorded as #{})",
            recorded.id
        ),
        Reverted::Restored(None) => {
            format!("{label}: already as it was before event #{event_id}; nothing changed")
        }
        Reverted::Deleted(recorded) => format!(
            "{label}: deleted, as it did not exist before event #{event_id} (recorded as #{})",
            recorded.id
        ),
    };
    let output = session.output;
    if !output.is_json() {
        return Ok(output.text(line)?);
    }
    if group {
        let groups = session.rollout.stored_groups().await?;
        return match groups.iter().find(|stored| stored.name.as_str() == name) {
            Some(stored) => Ok(output.json(stored)?),
            None => Ok(output.json(&serde_json::json!({"group": name, "deleted": true}))?),
        };
    }
    match session.rollout.get(name).await? {
        Some(feature) => Ok(output.json(&feature)?),
        None => Ok(output.json(&Deleted {
            feature: name,
            deleted: true,
        })?),
    }
}
