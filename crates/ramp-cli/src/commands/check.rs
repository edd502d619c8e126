//! `check` and `states`: evaluating features for a user and attributes, with the reason.
//!
//! The answer is information, not a test: both exit 0 whether the feature is on or off.
//! With `--at TIME`, both answer as of that time, from the store's history (an event made
//! exactly then counts as made).

use chrono::{DateTime, Utc};
use clap::Args;
use ramp_core::{Context, Decision, Reason};
use serde::Serialize;

use super::Session;
use crate::{key_value, time_input};

/// Who is asking: a user id and attributes for stored groups' rules.
#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The user's id (without it, only features at 100 % are active)
    #[arg(long, value_name = "ID")]
    user: Option<String>,
    /// An attribute for group rules: KEY=VALUE, VALUE is JSON if it parses else text (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attributes: Vec<String>,
    /// Answer as of this time, from the history: RFC 3339, YYYY-MM-DD HH:MM[:SS] (UTC) or YYYY-MM-DD
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

/// `ramp check NAME [--user ID] [--attr KEY=VALUE]... [--at TIME]`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The feature
    name: String,
    #[command(flatten)]
    context: ContextArgs,
}

impl ContextArgs {
    fn context(&self) -> anyhow::Result<Context> {
        let mut context = Context {
            user_id: self.user.clone(),
            ..Context::default()
        };
        for attribute in &self.attributes {
            let (key, value) = key_value::parse(attribute, "attribute")?;
            context.attributes.insert(key, value);
        }
        Ok(context)
    }

    fn at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        self.at.as_deref().map(time_input::parse).transpose()
    }
}

/// One decision as `--json` prints it: `{"feature", "active", "reason"}`, plus `group` when a
/// group let the user in (the reason itself stays a fixed word that scripts can match).
#[derive(Debug, Serialize)]
struct DecisionView<'a> {
    feature: &'a str,
    active: bool,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    /// With `--at`: the time answered for, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<DateTime<Utc>>,
}

impl<'a> DecisionView<'a> {
    fn new(feature: &'a str, decision: &'a Decision) -> Self {
        Self {
            feature,
            active: decision.active,
            reason: decision.reason.as_str(),
            group: decision.reason.group(),
            at: None,
        }
    }
}

fn activity(decision: &Decision) -> &'static str {
    if decision.active {
        "active"
    } else {
        "inactive"
    }
}

/// Runs `ramp check`: `chat: active (percentage)`, `chat: inactive (outside_percentage: not
/// in the 25 %)`; with `--at`, a sentence saying when.
pub async fn check(session: &Session, arguments: CheckArgs) -> anyhow::Result<()> {
    let context = arguments.context.context()?;
    let Some(at) = arguments.context.at()? else {
        let decision = session.rollout.explain(&arguments.name, &context).await?;
        let view = DecisionView::new(&arguments.name, &decision);
        // The share the user is outside of, read after the decision: only text output shows
        // it, and a change in between at worst names the newer percentage.
        let share = if decision.reason == Reason::OutsidePercentage && !session.output.is_json() {
            session
                .rollout
                .get(&arguments.name)
                .await?
                .map(|feature| format!(": not in the {} %", feature.percentage))
        } else {
            None
        };
        return Ok(session.output.result(&view, || {
            format!(
                "{}: {} ({}{})",
                arguments.name,
                activity(&decision),
                decision.reason,
                share.unwrap_or_default()
            )
        })?);
    };
    let decision = session
        .rollout
        .check_at(&arguments.name, &context, at)
        .await?;
    let view = DecisionView {
        at: Some(at),
        ..DecisionView::new(&arguments.name, &decision)
    };
    Ok(session.output.result(&view, || {
        past_sentence(&arguments.name, &context, &decision, at)
    })?)
}

/// `new-form was on for user 42 at 2026-11-03 10:00:00 UTC (listed in users)`.
fn past_sentence(
    feature: &str,
    context: &Context,
    decision: &Decision,
    at: DateTime<Utc>,
) -> String {
    let when = time_input::show(at);
    if decision.reason == Reason::NotFound {
        return format!("{feature} did not exist at {when}");
    }
    let who = match context.user_id() {
        Some(user) => format!("user {user}"),
        None => "a visitor without a user id".to_owned(),
    };
    let why = match &decision.reason {
        Reason::Excluded => "excluded".to_owned(),
        Reason::User => "listed in users".to_owned(),
        Reason::Group(group) => format!("in group {group}"),
        Reason::Percentage => "within the percentage".to_owned(),
        Reason::OutsidePercentage => "not within the percentage".to_owned(),
        Reason::Everyone => "on for everyone".to_owned(),
        Reason::Off | Reason::NotFound => "no rule let them in".to_owned(),
    };
    let state = if decision.active { "on" } else { "off" };
    format!("{feature} was {state} for {who} at {when} ({why})")
}

/// Runs `ramp states`: every feature's decision, as a table or a JSON array.
pub async fn states(session: &Session, arguments: ContextArgs) -> anyhow::Result<()> {
    let context = arguments.context()?;
    let states = match arguments.at()? {
        Some(at) => session.rollout.feature_states_at(&context, at).await?,
        None => session.rollout.feature_states(&context).await?,
    };
    let output = session.output;
    if output.is_json() {
        let views: Vec<DecisionView> = states
            .iter()
            .map(|(name, decision)| DecisionView::new(name.as_str(), decision))
            .collect();
        return Ok(output.json(&views)?);
    }
    if states.is_empty() {
        return Ok(output.text("no features")?);
    }
    let rows: Vec<Vec<String>> = states
        .iter()
        .map(|(name, decision)| {
            vec![
                name.to_string(),
                activity(decision).to_owned(),
                decision.reason.to_string(),
            ]
        })
        .collect();
    Ok(output.table(&rows)?)
}
