//! `ramp serve`: runs the HTTP server until SIGINT or SIGTERM. Settings come from flags, then
//! `RAMP_*` variables, then a TOML file (`--config`), then defaults.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ramp_server::{shutdown_signal, Server, ServerConfig};
use ramp_store::redact_url;

use super::open;

/// `ramp serve`'s own flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4242]
    #[arg(long, env = "RAMP_BIND", value_name = "ADDR")]
    pub bind: Option<SocketAddr>,

    /// A TOML file of settings: bind, store, body_limit, user_list_limit, heartbeat_seconds
    #[arg(long, env = "RAMP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Largest JSON body accepted, in bytes [default: 1048576]
    #[arg(long, env = "RAMP_BODY_LIMIT", value_name = "BYTES")]
    pub body_limit: Option<usize>,

    /// Log as JSON lines instead of text (the level comes from RAMP_LOG, default info)
    #[arg(long, env = "RAMP_LOG_JSON")]
    pub log_json: bool,
}

/// Runs the server.
pub async fn serve(store_flag: Option<String>, arguments: ServeArgs) -> anyhow::Result<()> {
    init_logging(arguments.log_json);
    let mut config = match &arguments.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            ServerConfig::from_toml(&text)
                .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?
        }
        None => ServerConfig::default(),
    };
    if let Some(store) = store_flag {
        config.store = store;
    }
    if let Some(bind) = arguments.bind {
        config.bind = bind;
    }
    if let Some(limit) = arguments.body_limit {
        config.body_limit = limit;
    }
    // Before anything slow, so that a SIGTERM during start-up is a clean stop, not a kill.
    let stop = shutdown_signal()?;
    let store_url = config.store.clone();
    let store = open(&store_url).await?;
    let server = Server::bind(config, store).await?;
    let address = server.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "Ramp listening on http://{address} (store: {}); the web UI is at http://{address}/",
        redact_url(&store_url)
    )?;
    if let Some(token) = server.first_admin_token() {
        writeln!(
            stdout,
            "Created the first admin token; it is shown only this once, so keep it:\n  {token}\n\
             Use it as `Authorization: Bearer TOKEN`, or `ramp --server http://{address} --token TOKEN ...`,\n\
             or log in to the web UI as `admin` with it as the password \
             (`ramp account create NAME --role admin|viewer` makes web-UI logins)"
        )?;
    }
    stdout.flush()?;
    drop(stdout);
    server.run(stop).await?;
    Ok(())
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAMP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests running commands in one process) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
