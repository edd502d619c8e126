//! `groups add|remove`: which groups have a feature. The groups themselves (stored groups) are
//! managed by `group`, in `stored_groups.rs`; a group named here may also be one an application
//! defines in code, which the CLI cannot see, so unknown names are accepted.

use clap::Subcommand;
use ramp_core::{Change, GroupName};

use super::Session;
use crate::output::joined;

/// `ramp groups ...`
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Turn the feature on for these groups' members
    Add {
        /// The feature
        name: String,
        /// Group names (`all` is every user)
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Take these groups off the feature
    Remove {
        /// The feature
        name: String,
        /// Group names
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

/// Runs `ramp groups ...`.
pub async fn run(session: &Session, command: GroupsCommand) -> anyhow::Result<()> {
    let (name, change) = match command {
        GroupsCommand::Add { name, groups } => (
            name,
            Change::AddGroups {
                groups: group_names(groups)?,
            },
        ),
        GroupsCommand::Remove { name, groups } => (
            name,
            Change::RemoveGroups {
                groups: group_names(groups)?,
            },
        ),
    };
    // One change for all the names, so history records one event.
    let feature = session.rollout.change(&name, change).await?.feature;
    let line = format!("groups {}", joined(&feature.groups));
    Ok(session.output.feature(&feature, line)?)
}

fn group_names(names: Vec<String>) -> anyhow::Result<Vec<GroupName>> {
    Ok(names
        .into_iter()
        .map(GroupName::new)
        .collect::<Result<_, _>>()?)
}
