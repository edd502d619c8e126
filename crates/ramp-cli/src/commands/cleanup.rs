//! `ramp cleanup`: the features in a health state (stale, ready to graduate, unused, safe to
//! delete) with the evidence for each, as the Cleanup screen shows them; and the health and
//! time-in-stage columns of `ramp features`.
//!
//! Over a store, health is computed here (`ramp_server::health_report`, the server's own
//! code) at `--at` or now; through `--server`, the server computes it with its clock and its
//! exposure analytics, which a store opened over HTTP cannot read.

use anyhow::bail;
use chrono::{DateTime, Utc};
use ramp_core::{Feature, Health, HealthState};
use ramp_server::health_report::{cleanup_report, health_of, CleanupReport, HealthFacts};
use ramp_server::stage_time::stage_since;
use ramp_store_http::HttpStore;
use serde_json::Value;

use super::Session;
use crate::time_input;

/// `ramp cleanup [--state S] [--at TIME]`.
pub async fn cleanup(
    session: &Session,
    state: Option<&str>,
    at: Option<&str>,
) -> anyhow::Result<()> {
    let only = state.map(str::parse::<HealthState>).transpose()?;
    let at = at.map(time_input::parse).transpose()?;
    let report: CleanupReport = match &session.server {
        Some(_) if at.is_some() => bail!(
            "--at measures health over a store; a server measures it at its own time: leave out --at"
        ),
        Some(login) => {
            let server = HttpStore::new(&login.url, &login.token)?;
            serde_json::from_value(server.cleanup(only.map(HealthState::as_str)).await?)?
        }
        None => {
            let now = at.unwrap_or_else(Utc::now);
            cleanup_report(session.rollout.store().as_ref(), now, only).await?
        }
    };
    let output = session.output;
    if output.is_json() {
        return Ok(output.json(&report)?);
    }
    let counts: Vec<String> = HealthState::ALL
        .into_iter()
        .map(|state| {
            let count = report.counts.get(&state).copied().unwrap_or(0);
            format!("{}: {count}", state.label())
        })
        .collect();
    let mut lines = vec![counts.join(", ")];
    if report.features.is_empty() {
        lines.push("nothing to clean up".into());
    }
    for feature in &report.features {
        lines.push(String::new());
        lines.push(format!(
            "{} ({}, {}, {}%)",
            feature.name, feature.kind, feature.stage, feature.percentage
        ));
        for finding in &feature.health.states {
            lines.push(format!("  {}: {}", finding.state.label(), finding.message));
        }
        for note in &feature.health.notes {
            lines.push(format!("  note: {note}"));
        }
    }
    Ok(output.text(lines.join("\n"))?)
}

/// The time they were measured at, and per feature since when it is in its stage and its
/// health, in the order of the features given.
pub type MeasuredHealth = (DateTime<Utc>, Vec<(DateTime<Utc>, Health)>);

/// Each feature's time in its stage and health, for `ramp features`, in the order given.
pub async fn feature_health(
    session: &Session,
    features: &[Feature],
) -> anyhow::Result<MeasuredHealth> {
    if features.is_empty() {
        // Nothing to measure: no reads (the time is never shown).
        return Ok((Utc::now(), Vec::new()));
    }
    if let Some(login) = &session.server {
        let server = HttpStore::new(&login.url, &login.token)?;
        return from_server(&server.features_with_health().await?, features);
    }
    let store = session.rollout.store().as_ref();
    let now = Utc::now();
    let listed: Vec<&Feature> = features.iter().collect();
    let since = stage_since(store, &listed).await?;
    let facts = HealthFacts::read(store).await?;
    let healths = health_of(store, &facts, &listed, now, Some(&since)).await?;
    Ok((now, since.into_iter().zip(healths).collect()))
}

/// Reads the server's `with=stage_since,health` list, matched to `features` by name (the
/// list may have changed between the two reads: a feature it lacks shows no health).
fn from_server(answer: &Value, features: &[Feature]) -> anyhow::Result<MeasuredHealth> {
    let now: DateTime<Utc> = serde_json::from_value(answer["server_time"].clone())?;
    let mut by_name = std::collections::HashMap::new();
    for row in answer["features"].as_array().into_iter().flatten() {
        let name = row["name"].as_str().unwrap_or_default().to_owned();
        let since: Option<DateTime<Utc>> = serde_json::from_value(row["stage_since"].clone()).ok();
        let health: Health = serde_json::from_value(row["health"].clone()).unwrap_or_default();
        by_name.insert(name, (since, health));
    }
    Ok((
        now,
        features
            .iter()
            .map(|feature| match by_name.remove(feature.name.as_str()) {
                Some((since, health)) => (since.unwrap_or(feature.created_at), health),
                None => (feature.created_at, Health::default()),
            })
            .collect(),
    ))
}

/// `12d`: whole days in the stage.
pub fn days_in_stage(now: DateTime<Utc>, since: DateTime<Utc>) -> String {
    format!("{}d", (now - since).num_days().max(0))
}

/// `stale,unused`, or `-`.
pub fn states(health: &Health) -> String {
    if health.states.is_empty() {
        return "-".into();
    }
    health
        .states
        .iter()
        .map(|finding| finding.state.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
