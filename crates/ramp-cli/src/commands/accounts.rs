//! `ramp account create|list|delete`: web-UI logins (a name, a password stored as an argon2
//! hash, a role), kept in the store beside the API tokens. Through `--server`, the server
//! hashes the password (`POST /api/v1/accounts`, with an admin token); listing and deleting go
//! through the store interface, which the server implements.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Subcommand;
use ramp_server::auth::role_name;
use ramp_server::credentials::{account_credential, MIN_PASSWORD_LENGTH};
use ramp_store::{CredentialKind, Role, StoreError};
use ramp_store_http::HttpStore;
use serde::Serialize;

use super::Session;
use crate::output::time;

/// `ramp account ...`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create a web-UI login; the password is read from standard input (asked for, hidden, on
    /// a terminal) or from RAMP_PASSWORD
    Create {
        /// The login name (recorded as the actor of its changes)
        name: String,
        /// admin (edits) or viewer (reads only)
        #[arg(long)]
        role: String,
    },
    /// List web-UI logins
    List,
    /// Delete a web-UI login; its sessions end at once
    Delete {
        /// The login name
        name: String,
    },
}

#[derive(Serialize)]
struct Listed {
    name: String,
    role: &'static str,
    created_at: String,
    created_by: String,
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("RAMP_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("could not read the password");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs an account command against the store, or the server with `--server`.
pub async fn run(session: &Session, command: AccountCommand) -> anyhow::Result<()> {
    let store = session.rollout.store();
    match command {
        AccountCommand::Create { name, role } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role {role:?}: expected admin or viewer"))?;
            let password = read_password()?;
            let exists = |error| match error {
                StoreError::Conflict { .. } => {
                    anyhow::anyhow!("an account named {name:?} already exists")
                }
                other => anyhow::Error::from(other),
            };
            match &session.server {
                // The server checks and hashes the password itself.
                Some(login) => HttpStore::new(&login.url, &login.token)?
                    .create_account(&name, role, &password)
                    .await
                    .map_err(exists)?,
                None => {
                    let actor = session.rollout.attribution().actor.clone();
                    let credential = account_credential(&name, role, &password, &actor)
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "the password must have at least {MIN_PASSWORD_LENGTH} characters"
                            )
                        })?;
                    store.create_credential(&credential).await.map_err(exists)?;
                }
            }
            Ok(session.output.result(
                &serde_json::json!({ "name": name, "role": role_name(role) }),
                || format!("created {} account {name:?}", role_name(role)),
            )?)
        }
        AccountCommand::List => {
            let accounts: Vec<Listed> = store
                .credentials()
                .await?
                .into_iter()
                .filter(|credential| credential.kind == CredentialKind::Password)
                .map(|credential| Listed {
                    name: credential.name,
                    role: role_name(credential.role),
                    created_at: time(credential.created_at),
                    created_by: credential.created_by,
                })
                .collect();
            if session.output.is_json() {
                return Ok(session.output.json(&accounts)?);
            }
            if accounts.is_empty() {
                return Ok(session.output.text("no accounts")?);
            }
            let mut rows = vec![vec![
                "NAME".into(),
                "ROLE".into(),
                "CREATED".into(),
                "BY".into(),
            ]];
            rows.extend(accounts.into_iter().map(|account| {
                vec![
                    account.name,
                    account.role.to_owned(),
                    account.created_at,
                    account.created_by,
                ]
            }));
            Ok(session.output.table(&rows)?)
        }
        AccountCommand::Delete { name } => {
            store
                .delete_credential(CredentialKind::Password, &name)
                .await
                .map_err(|error| match error {
                    StoreError::NotFound { .. } => anyhow::anyhow!("no account named {name:?}"),
                    other => other.into(),
                })?;
            Ok(session.output.result(
                &serde_json::json!({ "name": name, "deleted": true }),
                || format!("deleted account {name:?}"),
            )?)
        }
    }
}
