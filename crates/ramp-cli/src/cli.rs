//! The command line's shape: the global flags and the list of commands. Each command's own
//! arguments are declared next to the code that runs it, in `commands/`.

use clap::{Parser, Subcommand};
use ramp_rollout::DEFAULT_STORE_URL;

use crate::commands::check::{CheckArgs, ContextArgs};
use crate::commands::data::DataCommand;
use crate::commands::groups::GroupsCommand;
use crate::commands::history::HistoryArgs;
use crate::commands::stored_groups::GroupCommand;
use crate::commands::users::{ExcludeCommand, UsersCommand};

/// Gradual feature rollout: turn features on for users, groups and percentages.
#[derive(Debug, Parser)]
#[command(name = "ramp", version, propagate_version = true)]
pub struct Cli {
    /// Where features are kept: sqlite://PATH (sqlite:///ABSOLUTE/PATH) or memory://
    #[arg(
        long,
        global = true,
        env = "RAMP_STORE",
        default_value = DEFAULT_STORE_URL,
        value_name = "URL"
    )]
    pub store: String,

    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Who changes are recorded as made by [default: $RAMP_ACTOR, else the OS user]
    #[arg(long, global = true, env = "RAMP_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// Every command, in the order `ramp --help` lists them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every feature
    Features,
    /// Show every field of one feature
    Show {
        /// The feature
        name: String,
    },
    /// Turn a feature on for everyone (100 %)
    Activate {
        /// The feature
        name: String,
    },
    /// Turn a feature off: percentage 0, no users, exclusions or groups
    Deactivate {
        /// The feature
        name: String,
    },
    /// Delete a feature (its history is kept)
    Delete {
        /// The feature
        name: String,
    },
    /// Set the share of users who get a feature: 12.5, 12.5%, 100
    Percentage {
        /// The feature
        name: String,
        /// From 0 to 100, decimals allowed
        // Hyphen values are let through so that "-5" gets Ramp's own clear message, not a
        // usage error about an unknown flag.
        #[arg(allow_hyphen_values = true)]
        percentage: String,
    },
    /// Move a feature to a stage: development, beta, rolling_out, everyone, graduated
    Stage {
        /// The feature
        name: String,
        /// The stage
        stage: String,
    },
    /// Edit a feature's allow list
    #[command(subcommand)]
    Users(UsersCommand),
    /// Edit a feature's deny list (it beats every other rule)
    #[command(subcommand)]
    Exclude(ExcludeCommand),
    /// Edit which groups have a feature
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Edit a feature's free-form data (description, owner, links)
    #[command(subcommand)]
    Data(DataCommand),
    /// Whether a feature is active for a user, and why
    Check(CheckArgs),
    /// Every feature's state for a user
    States(ContextArgs),
    /// Manage stored groups (members and attribute rules)
    #[command(subcommand)]
    Group(GroupCommand),
    /// Recorded changes, newest first
    History(HistoryArgs),
    /// Put a feature back as it was just before a history event
    Revert {
        /// The feature
        name: String,
        /// The event's id, as `history` prints it (#12 or 12)
        event: String,
    },
    /// Write every feature and stored group as one JSON document
    Export {
        /// Write here instead of to standard output
        file: Option<std::path::PathBuf>,
    },
    /// Load an export document: all of it, or nothing if any part is invalid
    Import {
        /// The document ('-' reads standard input)
        file: String,
    },
    /// Copy every feature and stored group (and the history) from one store to another, then
    /// check that the destination answers every feature identically; safe to run twice
    Copy {
        /// The store to copy from (redis://, postgres://, sqlite://, memory://)
        #[arg(long)]
        from: String,
        /// The store to copy into
        #[arg(long)]
        to: String,
        /// Copy the history too (events already in the destination are skipped)
        #[arg(long)]
        with_history: bool,
    },
}
