//! The command line's shape: the global flags and the list of commands. Each command's own
//! arguments are declared next to the code that runs it, in `commands/`.

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::accounts::AccountCommand;
use crate::commands::check::{CheckArgs, ContextArgs};
use crate::commands::data::DataCommand;
use crate::commands::groups::GroupsCommand;
use crate::commands::history::HistoryArgs;
use crate::commands::migrate::MigrateCommand;
use crate::commands::partition::PartitionArgs;
use crate::commands::scan::ScanArgs;
use crate::commands::serve::ServeArgs;
use crate::commands::stored_groups::GroupCommand;
use crate::commands::tokens::TokenCommand;
use crate::commands::users::{ExcludeCommand, UsersCommand};

/// Gradual feature rollout: turn features on for users, groups and percentages.
#[derive(Debug, Parser)]
#[command(name = "ramp", version, propagate_version = true)]
pub struct Cli {
    /// Where features are kept: sqlite://PATH (sqlite:///ABSOLUTE/PATH), redis://,
    /// postgres:// or memory:// [default: sqlite://ramp.db]
    #[arg(long, global = true, env = "RAMP_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Who changes are recorded as made by [default: $RAMP_ACTOR, else the OS user]; through
    /// --server, the token's name is recorded instead
    #[arg(long, global = true, env = "RAMP_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,

    /// Act through a Ramp server instead of a store: its address as `ramp serve` prints it
    /// (http://HOST:PORT)
    #[arg(long, global = true, env = "RAMP_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// The API token for --server (`ramp serve` prints the first admin token)
    #[arg(
        long,
        global = true,
        env = "RAMP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Which of the flags above were typed rather than taken from the environment.
    #[arg(skip)]
    pub typed: Typed,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// Whether `--store`, `--server` and `--token` were given on the command line (rather than
/// by `RAMP_*` variables): a typed flag beats a variable, and two typed flags that contradict
/// each other are an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Typed {
    /// `--store` was typed.
    pub store: bool,
    /// `--server` was typed.
    pub server: bool,
    /// `--token` was typed.
    pub token: bool,
}

impl Cli {
    /// Parses the process's arguments like `Cli::parse`, noting which flags were typed.
    pub fn parse_arguments() -> Self {
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        cli.typed = Typed {
            store: typed("store"),
            server: typed("server"),
            token: typed("token"),
        };
        cli
    }
}

/// Every command, in the order `ramp --help` lists them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every feature, with its kind, time in stage and health
    Features,
    /// List the features to clean up (stale, ready to graduate, unused, safe to delete) with the evidence
    Cleanup {
        /// Only this state: stale, ready_to_graduate, unused or safe_to_delete
        #[arg(long)]
        state: Option<String>,
        /// Measure at this time instead of now (RFC 3339 or `2026-11-03 10:00`, UTC); not with --server
        #[arg(long)]
        at: Option<String>,
    },
    /// Show every field of one feature
    Show {
        /// The feature
        name: String,
    },
    /// Turn a feature on for everyone (100 %) and move it to the stage everyone
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
        /// Delete even though code still names it or applications checked it in the last 7 days
        #[arg(long)]
        force: bool,
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
        /// Why, recorded in history; needed to graduate a feature below 100 % or with excluded users
        #[arg(long)]
        reason: Option<String>,
        /// Move into a stage at its WIP limit anyway; recorded in history with the limit broken
        #[arg(long)]
        override_reason: Option<String>,
    },
    /// Say what a feature is for: release, experiment, operational, kill_switch, permission
    Kind {
        /// The feature
        name: String,
        /// The kind
        kind: String,
    },
    /// Show the stages' WIP limits, or set or clear one
    Wip {
        #[command(subcommand)]
        command: Option<WipCommand>,
    },
    /// Show the lifecycle settings (WIP limits, each kind's expected life, the health windows),
    /// or change them
    Lifecycle {
        #[command(subcommand)]
        command: Option<LifecycleCommand>,
    },
    /// Graduate a feature (stage graduated) and list the code to remove, routes first
    Graduate {
        /// The feature
        name: String,
        /// Why, recorded in history; needed below 100 % or with excluded users
        #[arg(long)]
        reason: Option<String>,
    },
    /// Data migrations that follow a feature: the progress they reported
    #[command(subcommand)]
    Migrate(MigrateCommand),
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
    /// Split a list of ids (one per line) into those a feature covers and the rest
    Partition(PartitionArgs),
    /// Manage stored groups (members and attribute rules)
    #[command(subcommand)]
    Group(GroupCommand),
    /// Recorded changes, newest first
    History(HistoryArgs),
    /// Put a feature (or, with --group, a stored group) back as it was just before a history
    /// event (or, with --only, undo just that event's own changes and keep later ones)
    Revert {
        /// The feature (or stored group, with --group)
        name: String,
        /// The event's id, as `history` prints it (#12 or 12)
        event: String,
        /// Undo only this event's changes; changes made after it stay
        #[arg(long)]
        only: bool,
        /// NAME is a stored group
        #[arg(long)]
        group: bool,
    },
    /// Find references to flags in source code (Rust, Ruby, OpenFeature SDKs), and which
    /// flags code names but nobody defined, or nobody names any more
    Scan(ScanArgs),
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
    /// Run the HTTP server: admin API, OFREP, snapshot stream, health and metrics
    Serve(ServeArgs),
    /// Manage API tokens for the server
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage web-UI logins (name, password, role admin or viewer)
    #[command(subcommand)]
    Account(AccountCommand),
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

/// `ramp wip ...`: the stages' WIP limits.
#[derive(Debug, Subcommand)]
pub enum WipCommand {
    /// Limit how many features a stage may hold at once (moves into a full stage need an override reason)
    Set {
        /// The stage
        stage: String,
        /// The limit, from 0 to 10000
        // "-1" gets Ramp's own message rather than clap's "unexpected argument".
        #[arg(allow_hyphen_values = true)]
        limit: String,
    },
    /// Remove a stage's limit
    Clear {
        /// The stage
        stage: String,
    },
}

/// `ramp lifecycle ...`: the lifecycle settings.
#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// Change kinds' expected lives and the health windows (admins; recorded in history)
    Set {
        /// A kind's expected life: KIND=DAYS (1 to 3650), KIND=permanent or KIND=default;
        /// repeat for several kinds
        #[arg(long = "expected-life", value_name = "KIND=DAYS")]
        expected_life: Vec<String>,
        /// Days on for everyone and unchanged before a feature is ready to graduate
        #[arg(long, value_name = "DAYS", allow_hyphen_values = true)]
        ready_to_graduate_after_days: Option<String>,
        /// Days without checks before a feature is unused
        #[arg(long, value_name = "DAYS", allow_hyphen_values = true)]
        unused_after_days: Option<String>,
        /// Days a graduated feature goes unchecked and unreferenced before it is safe to delete
        #[arg(long, value_name = "DAYS", allow_hyphen_values = true)]
        safe_to_delete_after_days: Option<String>,
    },
}
