//! `users add|remove|set` (the allow list, from arguments and/or a file of ids) and
//! `exclude add|remove` (the deny list).
//!
//! However many ids are given, they are all checked first and then written as one change, so
//! the store sees either the whole list or nothing, and history records one event.

use anyhow::bail;
use clap::{Args, Subcommand};
use ramp_core::{Feature, FeatureName};

use super::Session;
use crate::user_id_input::{collect, saving_spinner};

/// `ramp users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add users to the allow list (ids already there are skipped)
    Add(UserListArgs),
    /// Remove users from the allow list
    Remove(UserListArgs),
    /// Replace the allow list
    Set(UserListArgs),
}

/// A feature and user ids, from arguments and/or a file.
#[derive(Debug, Args)]
pub struct UserListArgs {
    /// The feature
    name: String,
    /// User ids
    ids: Vec<String>,
    /// Also read ids from this file, one per line ('-' reads standard input)
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
}

/// `ramp exclude ...`
#[derive(Debug, Subcommand)]
pub enum ExcludeCommand {
    /// Exclude users: the feature is off for them whatever else says
    Add {
        /// The feature
        name: String,
        /// User ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Stop excluding users
    Remove {
        /// The feature
        name: String,
        /// User ids
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Runs `ramp users ...`.
pub async fn run(session: &Session, command: UsersCommand) -> anyhow::Result<()> {
    let (command, arguments) = match command {
        UsersCommand::Add(arguments) => (Edit::Add, arguments),
        UsersCommand::Remove(arguments) => (Edit::Remove, arguments),
        UsersCommand::Set(arguments) => (Edit::Set, arguments),
    };
    let UserListArgs { name, ids, file } = arguments;
    // Checked before reading a possibly huge file, so a typo fails at once.
    FeatureName::new(name.as_str())?;
    if ids.is_empty() && file.is_none() {
        bail!("no user ids given: list them after the feature name or use --file PATH");
    }
    let ids = collect(ids, file.as_deref())?;
    let spinner = saving_spinner(ids.len());
    let rollout = &session.rollout;
    let written = match command {
        Edit::Add => rollout.activate_users(&name, ids).await,
        Edit::Remove => rollout.deactivate_users(&name, ids).await,
        Edit::Set => rollout.set_users(&name, ids).await,
    };
    spinner.finish_and_clear();
    let feature = written?;
    let verb = match command {
        Edit::Add => "users added",
        Edit::Remove => "users removed",
        Edit::Set => "users set",
    };
    confirm(session, &feature, verb, feature.users.len(), "listed")
}

/// What `users` does to the allow list.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Add,
    Remove,
    Set,
}

/// Runs `ramp exclude ...`.
pub async fn exclude(session: &Session, command: ExcludeCommand) -> anyhow::Result<()> {
    let rollout = &session.rollout;
    let (feature, verb) = match command {
        ExcludeCommand::Add { name, ids } => {
            let ids = collect(ids, None)?;
            (rollout.exclude_users(&name, ids).await?, "users excluded")
        }
        ExcludeCommand::Remove { name, ids } => {
            let ids = collect(ids, None)?;
            (
                rollout.include_users(&name, ids).await?,
                "users no longer excluded",
            )
        }
    };
    confirm(
        session,
        &feature,
        verb,
        feature.excluded_users.len(),
        "excluded",
    )
}

/// `chat: users added (3 listed)`, or the feature as JSON.
fn confirm(
    session: &Session,
    feature: &Feature,
    verb: &str,
    count: usize,
    state: &str,
) -> anyhow::Result<()> {
    let noun = if count == 1 { "user" } else { "users" };
    let line = format!("{verb} ({count} {noun} {state})");
    Ok(session.output.feature(feature, line)?)
}
