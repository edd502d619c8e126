//! `check` and `states`: evaluating features for a user and attributes, with the reason.
//!
//! The answer is information, not a test: both exit 0 whether the feature is on or off.

use clap::Args;
use ramp_core::{Context, Decision};
use serde::Serialize;

use super::Session;
use crate::key_value;

/// Who is asking: a user id and attributes for stored groups' rules.
#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The user's id (without it, only features at 100 % are active)
    #[arg(long, value_name = "ID")]
    user: Option<String>,
    /// An attribute for group rules: KEY=VALUE, VALUE is JSON if it parses else text (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attributes: Vec<String>,
}

/// `ramp check NAME [--user ID] [--attr KEY=VALUE]...`
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
}

impl<'a> DecisionView<'a> {
    fn new(feature: &'a str, decision: &'a Decision) -> Self {
        Self {
            feature,
            active: decision.active,
            reason: decision.reason.as_str(),
            group: decision.reason.group(),
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

/// Runs `ramp check`: `chat: active (percentage)`.
pub async fn check(session: &Session, arguments: CheckArgs) -> anyhow::Result<()> {
    let context = arguments.context.context()?;
    let decision = session.rollout.explain(&arguments.name, &context).await?;
    let view = DecisionView::new(&arguments.name, &decision);
    Ok(session.output.result(&view, || {
        format!(
            "{}: {} ({})",
            arguments.name,
            activity(&decision),
            decision.reason
        )
    })?)
}

/// Runs `ramp states`: every feature's decision, as a table or a JSON array.
pub async fn states(session: &Session, arguments: ContextArgs) -> anyhow::Result<()> {
    let context = arguments.context()?;
    let states = session.rollout.feature_states(&context).await?;
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
