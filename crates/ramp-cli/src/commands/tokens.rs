//! `ramp token create|list|revoke`: API tokens for `ramp serve`, kept in the store (hashed), so
//! every server on that store accepts them. Through `--server`, the server makes the token
//! (it never accepts a secret from outside) and this prints the one it returns; listing and
//! revoking go through the store interface, which the server implements.

use clap::Subcommand;
use ramp_server::auth::{generate_token, token_credential};
use ramp_store::{CredentialKind, Role, StoreError};
use ramp_store_http::HttpStore;
use serde::Serialize;

use super::Session;
use crate::output::time;

/// `ramp token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and only its hash is kept
    Create {
        /// A name for it (recorded as the actor of its changes)
        #[arg(long)]
        name: String,
        /// admin (everything) or reader (read API, snapshot, stream, OFREP)
        #[arg(long)]
        role: String,
    },
    /// List tokens (names and roles, never secrets)
    List,
    /// Revoke a token
    Revoke {
        /// The token's name
        name: String,
    },
}

#[derive(Serialize)]
struct Created<'a> {
    name: &'a str,
    role: &'a str,
    token: &'a str,
}

#[derive(Serialize)]
struct Listed {
    name: String,
    role: String,
    created_at: String,
    created_by: String,
}

/// Runs a token command against the store.
pub async fn run(session: &Session, command: TokenCommand) -> anyhow::Result<()> {
    let store = session.rollout.store();
    match command {
        TokenCommand::Create { name, role } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role {role:?}: expected admin or reader"))?;
            let exists = |error| match error {
                StoreError::Conflict { .. } => {
                    anyhow::anyhow!("a token named {name:?} already exists")
                }
                other => anyhow::Error::from(other),
            };
            let token = match &session.server {
                Some(login) => {
                    HttpStore::new(&login.url, &login.token)?
                        .create_token(&name, role)
                        .await
                        .map_err(exists)?
                        .token
                }
                None => {
                    let token = generate_token();
                    let credential =
                        token_credential(&name, role, &token, &session.rollout.attribution().actor);
                    store.create_credential(&credential).await.map_err(exists)?;
                    token
                }
            };
            let created = Created {
                name: &name,
                role: role.as_str(),
                token: &token,
            };
            Ok(session.output.result(&created, || {
                format!(
                    "created {} token {name:?}; it is shown only this once:\n{token}",
                    role
                )
            })?)
        }
        TokenCommand::List => {
            let tokens: Vec<Listed> = store
                .credentials()
                .await?
                .into_iter()
                .filter(|credential| credential.kind == CredentialKind::Token)
                .map(|credential| Listed {
                    name: credential.name,
                    role: credential.role.to_string(),
                    created_at: time(credential.created_at),
                    created_by: credential.created_by,
                })
                .collect();
            if session.output.is_json() {
                return Ok(session.output.json(&tokens)?);
            }
            if tokens.is_empty() {
                return Ok(session.output.text("no tokens")?);
            }
            let mut rows = vec![vec![
                "NAME".into(),
                "ROLE".into(),
                "CREATED".into(),
                "BY".into(),
            ]];
            rows.extend(
                tokens
                    .into_iter()
                    .map(|token| vec![token.name, token.role, token.created_at, token.created_by]),
            );
            Ok(session.output.table(&rows)?)
        }
        TokenCommand::Revoke { name } => {
            store
                .delete_credential(CredentialKind::Token, &name)
                .await
                .map_err(|error| match error {
                    StoreError::NotFound { .. } => anyhow::anyhow!("no token named {name:?}"),
                    other => other.into(),
                })?;
            Ok(session.output.result(
                &serde_json::json!({ "name": name, "revoked": true }),
                || format!("revoked token {name:?}"),
            )?)
        }
    }
}
