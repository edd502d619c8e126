//! `group define|list|show|delete`: stored groups, defined here rather than in application code
//! as explicit members and/or attribute rules ("plan in [pro]", "age >= 18").
//!
//! Adding a group to a feature is `groups add`, in `groups.rs`.

use std::collections::HashSet;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use ramp_core::{GroupName, Rule, StoredGroup, UserId};
use serde::Serialize;

use super::Session;
use crate::output::joined;

/// `ramp group ...`
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create or replace a stored group
    Define(DefineArgs),
    /// List stored groups
    List,
    /// Show a stored group and the features that use it
    Show {
        /// The group
        name: String,
    },
    /// Delete a stored group (features that name it keep the name, and it matches nobody)
    Delete {
        /// The group
        name: String,
    },
}

/// `ramp group define NAME ...`
#[derive(Debug, Args)]
pub struct DefineArgs {
    /// The group
    name: String,
    /// What the group is for
    #[arg(long, value_name = "TEXT", default_value = "")]
    description: String,
    /// A user who belongs whatever their attributes (repeatable)
    #[arg(long = "member", value_name = "ID")]
    members: Vec<String>,
    /// A rule every matching user satisfies: "ATTR in [a, b]", "ATTR not_in [a]",
    /// "ATTR ends_with SUFFIX", "ATTR >= N", "ATTR < N" (repeatable; all must hold)
    #[arg(long = "rule", value_name = "RULE")]
    rules: Vec<String>,
}

/// `group show --json`: the group's fields and the features that list it.
#[derive(Debug, Serialize)]
struct GroupView<'a> {
    #[serde(flatten)]
    group: &'a StoredGroup,
    features: Vec<&'a str>,
}

/// Runs `ramp group ...`.
pub async fn run(session: &Session, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Define(arguments) => define(session, arguments).await,
        GroupCommand::List => list_groups(session).await,
        GroupCommand::Show { name } => show(session, &name).await,
        GroupCommand::Delete { name } => delete(session, &name).await,
    }
}

async fn define(session: &Session, arguments: DefineArgs) -> anyhow::Result<()> {
    let name = GroupName::new(arguments.name)?;
    let mut seen = HashSet::new();
    let mut members = Vec::new();
    for member in arguments.members {
        // A repeated --member is harmless; keep the first.
        if seen.insert(member.clone()) {
            members.push(UserId::new(member)?);
        }
    }
    let rules = arguments
        .rules
        .iter()
        .map(|rule| rule.parse::<Rule>())
        .collect::<Result<Vec<_>, _>>()?;
    let group = StoredGroup {
        name,
        description: arguments.description,
        members,
        rules,
    };
    session.rollout.save_stored_group(&group).await?;
    Ok(session.output.result(&group, || {
        format!("group {}: {}", group.name, summary(&group))
    })?)
}

/// `2 members, 1 rule`.
fn summary(group: &StoredGroup) -> String {
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(group.members.len(), "member"),
        plural(group.rules.len(), "rule")
    )
}

async fn list_groups(session: &Session) -> anyhow::Result<()> {
    let groups = session.rollout.stored_groups().await?;
    let output = session.output;
    if output.is_json() {
        return Ok(output.json(&groups)?);
    }
    if groups.is_empty() {
        return Ok(output.text("no stored groups")?);
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|group| {
            vec![
                group.name.to_string(),
                summary(group),
                group.description.clone(),
            ]
        })
        .collect();
    Ok(output.table(&rows)?)
}

async fn show(session: &Session, name: &str) -> anyhow::Result<()> {
    let name = GroupName::new(name)?;
    // One snapshot: the group and the features using it are read at the same moment.
    let snapshot = session.rollout.store().snapshot().await?;
    let group = snapshot
        .groups
        .iter()
        .find(|group| group.name == name)
        .ok_or_else(|| anyhow!("group {:?} not found", name.as_str()))?;
    let features: Vec<&str> = snapshot
        .features
        .iter()
        .filter(|feature| feature.groups.contains(&name))
        .map(|feature| feature.name.as_str())
        .collect();
    let view = GroupView { group, features };
    Ok(session.output.result(&view, || {
        let rules: Vec<String> = group.rules.iter().map(Rule::to_string).collect();
        [
            format!("name:        {}", group.name),
            format!("description: {}", group.description),
            format!("members:     {}", joined(&group.members)),
            format!("rules:       {}", joined(&rules)),
            format!("features:    {}", joined(&view.features)),
        ]
        .join("\n")
    })?)
}

async fn delete(session: &Session, name: &str) -> anyhow::Result<()> {
    session.rollout.delete_stored_group(name).await?;
    #[derive(Serialize)]
    struct Deleted<'a> {
        group: &'a str,
        deleted: bool,
    }
    let deleted = Deleted {
        group: name,
        deleted: true,
    };
    Ok(session
        .output
        .result(&deleted, || format!("group {name}: deleted"))?)
}
