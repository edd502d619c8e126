//! Running a parsed command: open the store once, then hand over to the file of the command's
//! group. Commands validate every argument before their one call to the library, so a
//! rejected command never writes anything.

pub mod check;
pub mod copy;
pub mod data;
pub mod features;
pub mod groups;
pub mod history;
pub mod stored_groups;
pub mod transfer;
pub mod users;

use anyhow::anyhow;
use ramp_rollout::{open_store, Rollout};
use ramp_store::StoreError;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// What every command needs: the library handle over the store, and where to print.
pub struct Session {
    /// Writes are attributed to the `--actor`.
    pub rollout: Rollout,
    /// Text or JSON.
    pub output: Output,
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Copy {
        from,
        to,
        with_history,
    } = &cli.command
    {
        // Copy works on two stores of its own, not on `--store`.
        let output = Output::new(cli.json);
        return copy::copy(output, actor(cli.actor), from, to, *with_history).await;
    }
    let store = open(&cli.store).await?;
    let session = Session {
        rollout: Rollout::new(store, actor(cli.actor)),
        output: Output::new(cli.json),
    };
    let session = &session;
    match cli.command {
        Command::Features => features::list(session).await,
        Command::Show { name } => features::show(session, &name).await,
        Command::Activate { name } => features::activate(session, &name).await,
        Command::Deactivate { name } => features::deactivate(session, &name).await,
        Command::Delete { name } => features::delete(session, &name).await,
        Command::Percentage { name, percentage } => {
            features::percentage(session, &name, &percentage).await
        }
        Command::Stage { name, stage } => features::stage(session, &name, &stage).await,
        Command::Users(command) => users::run(session, command).await,
        Command::Exclude(command) => users::exclude(session, command).await,
        Command::Groups(command) => groups::run(session, command).await,
        Command::Data(command) => data::run(session, command).await,
        Command::Check(arguments) => check::check(session, arguments).await,
        Command::States(context) => check::states(session, context).await,
        Command::Group(command) => stored_groups::run(session, command).await,
        Command::History(arguments) => history::history(session, arguments).await,
        Command::Revert { name, event } => history::revert(session, &name, &event).await,
        Command::Export { file } => transfer::export(session, file.as_deref()).await,
        Command::Import { file } => transfer::import(session, &file).await,
        Command::Copy { .. } => unreachable!("handled before the store is opened"),
    }
}

/// Opens the store a URL names, saying which one failed.
pub async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn ramp_store::Store>> {
    open_store(url).await.map_err(|error| match error {
        // Already says which URL and why.
        StoreError::InvalidUrl { .. } => anyhow::Error::from(error),
        other => anyhow!("cannot open the store at {url}: {other}"),
    })
}

/// `--actor`/`RAMP_ACTOR` if given, else the OS user, so history always names someone.
fn actor(given: Option<String>) -> String {
    given
        .filter(|name| !name.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|name| !name.is_empty()))
        .or_else(|| {
            std::env::var("USERNAME")
                .ok()
                .filter(|name| !name.is_empty())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `{"feature": NAME, "deleted": true}`: what `--json` prints when a write leaves no feature.
#[derive(serde::Serialize)]
pub struct Deleted<'a> {
    /// The feature's name.
    pub feature: &'a str,
    /// Always true.
    pub deleted: bool,
}
