//! Running a parsed command: open the store (or a server, with `--server`) once, then hand
//! over to the file of the command's group. Commands validate every argument before their one
//! call to the library, so a rejected command never writes anything.

pub mod accounts;
pub mod check;
pub mod cleanup;
pub mod copy;
pub mod data;
pub mod delete_check;
pub mod features;
pub mod graduate;
pub mod groups;
pub mod history;
pub mod lifecycle;
pub mod migrate;
pub mod partition;
pub mod scan;
pub mod scan_upload;
pub mod serve;
pub mod stored_groups;
pub mod tokens;
pub mod transfer;
pub mod users;
pub mod wip;

use anyhow::{anyhow, bail};
use ramp_rollout::{open_server, open_store, Rollout, DEFAULT_STORE_URL};
use ramp_store::{redact_url, StoreError};
use ramp_store_http::HttpError;

use crate::cli::{Cli, Command};
use crate::output::Output;

/// What every command needs: the library handle over the store, and where to print.
pub struct Session {
    /// Writes are attributed to the `--actor`.
    pub rollout: Rollout,
    /// Text or JSON.
    pub output: Output,
    /// The server, when commands act through one (`ramp token create` asks it directly).
    pub server: Option<ServerLogin>,
}

/// A server's address and the token to present to it.
#[derive(Debug, Clone)]
pub struct ServerLogin {
    /// As `ramp serve` prints it: `http://HOST:PORT`.
    pub url: String,
    /// The API token.
    pub token: String,
}

/// Where commands act.
enum Target {
    /// A store URL.
    Store(String),
    /// A server, as a store.
    Server(ServerLogin),
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.typed.server {
        match &cli.command {
            Command::Serve(_) => bail!(
                "`ramp serve` runs a server over a store (--store); it cannot act through \
                 another server: leave out --server"
            ),
            Command::Copy { .. } => bail!(
                "`ramp copy` moves data between stores (--from URL --to URL); it cannot act \
                 through a server: leave out --server"
            ),
            _ => {}
        }
    }
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
    if let Command::Serve(arguments) = cli.command {
        return serve::serve(cli.store, arguments).await;
    }
    if let Command::Scan(arguments) = cli.command {
        if arguments.offline {
            // Only the code: no store to open, so it runs anywhere (a CI job without access).
            return scan::scan(None, Output::new(cli.json), arguments).await;
        }
        let cli = Cli {
            command: Command::Scan(arguments),
            ..cli
        };
        return run_in_session(cli).await;
    }
    run_in_session(cli).await
}

/// Opens the store (or server) and runs a command that needs one.
async fn run_in_session(cli: Cli) -> anyhow::Result<()> {
    let output = Output::new(cli.json);
    let actor = actor(cli.actor.clone());
    match target(&cli)? {
        Target::Store(url) => {
            let session = Session {
                rollout: Rollout::new(open(&url).await?, actor),
                output,
                server: None,
            };
            execute(&session, cli.command).await
        }
        Target::Server(login) => {
            let result = async {
                let store = open_server(&login.url, &login.token).await?;
                let session = Session {
                    rollout: Rollout::new(store, actor),
                    output,
                    server: Some(login),
                };
                execute(&session, cli.command).await
            };
            result.await.map_err(server_message)
        }
    }
}

/// Chooses between `--store` and `--server`: a typed flag beats a `RAMP_*` variable; two
/// typed flags, or two variables, naming both are an error rather than a guess.
fn target(cli: &Cli) -> anyhow::Result<Target> {
    let typed = cli.typed;
    let use_server = match (&cli.server, &cli.store) {
        (Some(_), Some(_)) if typed.server == typed.store => {
            if typed.server {
                bail!("--store and --server name two places to act on; give only one");
            }
            bail!(
                "RAMP_STORE and RAMP_SERVER are both set; unset one, or give --store or --server"
            );
        }
        (Some(_), Some(_)) => typed.server,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !use_server {
        if typed.token {
            bail!("--token is for acting through a server: give --server URL too");
        }
        let url = cli.store.as_deref().unwrap_or(DEFAULT_STORE_URL);
        return Ok(Target::Store(url.to_owned()));
    }
    let url = cli.server.clone().unwrap_or_default();
    let token = cli
        .token
        .clone()
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| {
            anyhow!(
                "--server needs a token: give --token TOKEN or set RAMP_TOKEN (`ramp serve` \
                 prints the first admin token when it starts; `ramp token create` makes others)"
            )
        })?;
    Ok(Target::Server(ServerLogin { url, token }))
}

/// Through a server, what went wrong is best said by the server's own words ("the server
/// refused the token: token \"ci\" has role reader; this needs admin", "cannot reach the
/// server at ..."), without the `http store unavailable:` that a store error puts first.
fn server_message(error: anyhow::Error) -> anyhow::Error {
    let http = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<HttpError>())
        .map(ToString::to_string);
    match http {
        Some(message) => anyhow!(message),
        None => error,
    }
}

/// Runs a command other than `copy` and `serve` in a session.
async fn execute(session: &Session, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Features => features::list(session).await,
        Command::Cleanup { state, at } => {
            cleanup::cleanup(session, state.as_deref(), at.as_deref()).await
        }
        Command::Show { name } => features::show(session, &name).await,
        Command::Activate { name } => features::activate(session, &name).await,
        Command::Deactivate { name } => features::deactivate(session, &name).await,
        Command::Delete { name, force } => features::delete(session, &name, force).await,
        Command::Percentage { name, percentage } => {
            features::percentage(session, &name, &percentage).await
        }
        Command::Stage {
            name,
            stage,
            reason,
            override_reason,
        } => {
            let reasons = features::StageReasons {
                reason: reason.as_deref(),
                override_reason: override_reason.as_deref(),
            };
            features::stage(session, &name, &stage, reasons).await
        }
        Command::Graduate { name, reason } => {
            graduate::graduate(session, &name, reason.as_deref()).await
        }
        Command::Kind { name, kind } => features::kind(session, &name, &kind).await,
        Command::Wip { command } => wip::run(session, command).await,
        Command::Lifecycle { command } => lifecycle::run(session, command).await,
        Command::Migrate(command) => migrate::run(session, command).await,
        Command::Users(command) => users::run(session, command).await,
        Command::Exclude(command) => users::exclude(session, command).await,
        Command::Groups(command) => groups::run(session, command).await,
        Command::Data(command) => data::run(session, command).await,
        Command::Check(arguments) => check::check(session, arguments).await,
        Command::States(context) => check::states(session, context).await,
        Command::Partition(arguments) => partition::partition(session, arguments).await,
        Command::Group(command) => stored_groups::run(session, command).await,
        Command::History(arguments) => history::history(session, arguments).await,
        Command::Revert {
            name,
            event,
            only,
            group,
        } => history::revert(session, &name, &event, only, group).await,
        Command::Export { file } => transfer::export(session, file.as_deref()).await,
        Command::Import { file } => transfer::import(session, &file).await,
        Command::Token(command) => tokens::run(session, command).await,
        Command::Account(command) => accounts::run(session, command).await,
        Command::Scan(arguments) => scan::scan(Some(session), session.output, arguments).await,
        Command::Copy { .. } | Command::Serve(_) => {
            unreachable!("handled before the store is opened")
        }
    }
}

/// Opens the store a URL names, saying which one failed.
pub async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn ramp_store::Store>> {
    open_store(url).await.map_err(|error| match error {
        // Already says which URL and why.
        StoreError::InvalidUrl { .. } => anyhow::Error::from(error),
        other => anyhow!("cannot open the store at {}: {other}", redact_url(url)),
    })
}

/// `--actor`/`RAMP_ACTOR` if given, else the OS user, so history always names someone: the
/// login variables first (what a person expects under `sudo -u` or `su`), then the account
/// the process runs as, which cron jobs, containers and systemd units have even when they set
/// no `$USER`.
fn actor(given: Option<String>) -> String {
    let variables = ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok());
    given
        .into_iter()
        .chain(variables)
        .chain(whoami::username().ok())
        .find(|name| !name.trim().is_empty())
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
