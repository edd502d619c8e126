//! `ramp lifecycle`: the whole lifecycle settings at a glance (each stage's WIP limit, each
//! kind's expected life as it applies now, the health windows), and `ramp lifecycle set` to
//! change kinds' lives and the windows. A write is made at the version read, so a concurrent
//! change is refused rather than overwritten; history records what changed. Through
//! `--server` the server checks that the token is an admin's.
//!
//! Every argument is checked before anything is written: one bad `--expected-life` writes
//! nothing.

use anyhow::{anyhow, bail};
use ramp_core::{FeatureKind, HealthWindow, LifecycleSettings, Stage, MAX_LIFECYCLE_DAYS};
use ramp_store::VersionedSettings;
use serde_json::{json, Value};

use super::Session;
use crate::cli::LifecycleCommand;

pub async fn run(session: &Session, command: Option<LifecycleCommand>) -> anyhow::Result<()> {
    let store = session.rollout.store();
    let stored = store.lifecycle_settings().await?;
    let Some(LifecycleCommand::Set {
        expected_life,
        ready_to_graduate_after_days,
        unused_after_days,
        safe_to_delete_after_days,
    }) = command
    else {
        return Ok(session
            .output
            .result(&view(&stored), || describe(&stored.settings))?);
    };
    let windows = [
        (HealthWindow::ReadyToGraduate, ready_to_graduate_after_days),
        (HealthWindow::Unused, unused_after_days),
        (HealthWindow::SafeToDelete, safe_to_delete_after_days),
    ];
    if expected_life.is_empty() && windows.iter().all(|(_, days)| days.is_none()) {
        bail!(
            "nothing to set: give --expected-life KIND=DAYS, --ready-to-graduate-after-days, --unused-after-days or --safe-to-delete-after-days"
        );
    }
    let mut settings = stored.settings.clone();
    for assignment in &expected_life {
        let (kind, life) = expected_life_of(assignment)?;
        match life {
            Life::Default => {
                settings.expected_life_days.remove(&kind);
            }
            Life::Permanent => {
                settings.expected_life_days.insert(kind, None);
            }
            Life::Days(days) => {
                settings.expected_life_days.insert(kind, Some(days));
            }
        }
    }
    for (window, days) in windows {
        let Some(days) = days else { continue };
        let days = days_of(&days).ok_or_else(|| {
            anyhow!(
                "invalid --{}: {days:?} is not a whole number of days from 1 to {MAX_LIFECYCLE_DAYS}",
                window.as_str().replace('_', "-")
            )
        })?;
        match window {
            HealthWindow::ReadyToGraduate => settings.ready_to_graduate_after_days = days,
            HealthWindow::Unused => settings.unused_after_days = days,
            HealthWindow::SafeToDelete => settings.safe_to_delete_after_days = days,
        }
    }
    let applied = store
        .put_lifecycle_settings(
            &settings,
            Some(stored.version),
            session.rollout.attribution(),
        )
        .await?;
    let written = VersionedSettings {
        settings,
        version: applied.version,
    };
    Ok(session
        .output
        .result(&view(&written), || describe(&written.settings))?)
}

/// What `--expected-life KIND=...` asks for.
enum Life {
    /// `default`: forget the admins' value.
    Default,
    /// `permanent`: never stale.
    Permanent,
    /// A number of days.
    Days(u32),
}

/// Reads `KIND=DAYS`, `KIND=permanent` or `KIND=default`.
fn expected_life_of(assignment: &str) -> anyhow::Result<(FeatureKind, Life)> {
    let (kind, life) = assignment.split_once('=').ok_or_else(|| {
        anyhow!("invalid --expected-life {assignment:?}: expected KIND=DAYS, KIND=permanent or KIND=default")
    })?;
    let kind: FeatureKind = kind.trim().parse()?;
    let life = match life.trim() {
        "default" => Life::Default,
        "permanent" => Life::Permanent,
        days => Life::Days(days_of(days).ok_or_else(|| {
            anyhow!(
                "invalid --expected-life {assignment:?}: {days:?} is not a whole number of days from 1 to {MAX_LIFECYCLE_DAYS}, permanent or default"
            )
        })?),
    };
    Ok((kind, life))
}

/// A whole number of days from 1 to `MAX_LIFECYCLE_DAYS`.
fn days_of(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|days| (1..=MAX_LIFECYCLE_DAYS).contains(days))
}

/// The JSON form: the stored document, its version, and every kind's effective life (the
/// server's `GET /api/v1/settings/lifecycle` answers the same fields).
fn view(stored: &VersionedSettings) -> Value {
    let settings = &stored.settings;
    let effective: serde_json::Map<String, Value> = FeatureKind::ALL
        .into_iter()
        .map(|kind| (kind.to_string(), json!(settings.expected_life_days(kind))))
        .collect();
    json!({
        "wip_limits": settings.wip_limits,
        "expected_life_days": settings.expected_life_days,
        "effective_expected_life_days": effective,
        "ready_to_graduate_after_days": settings.ready_to_graduate_after_days,
        "unused_after_days": settings.unused_after_days,
        "safe_to_delete_after_days": settings.safe_to_delete_after_days,
        "version": stored.version,
    })
}

/// Three short tables, for people.
fn describe(settings: &LifecycleSettings) -> String {
    let mut lines = vec!["WIP limits:".to_owned()];
    for stage in Stage::ALL {
        let limit = settings
            .wip_limit(stage)
            .map_or_else(|| "none".to_owned(), |limit| limit.to_string());
        lines.push(format!("  {:<13}{limit}", stage.as_str()));
    }
    lines.push("Expected life:".to_owned());
    for kind in FeatureKind::ALL {
        let life = match settings.expected_life_days(kind) {
            Some(days) => format!("{days} days"),
            None => "permanent".to_owned(),
        };
        let note = if settings.expected_life_days.contains_key(&kind) {
            ""
        } else {
            " (default)"
        };
        lines.push(format!("  {:<13}{life}{note}", kind.as_str()));
    }
    lines.push("Health windows:".to_owned());
    for window in HealthWindow::ALL {
        lines.push(format!(
            "  {:<30}{} days",
            window.as_str(),
            settings.window(window)
        ));
    }
    lines.join("\n")
}
