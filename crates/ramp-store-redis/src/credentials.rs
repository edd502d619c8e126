//! API credentials in the hash `{prefix}ramp:credentials`: field `KIND:NAME` (unambiguous, since
//! names hold no `:`), value the credential's JSON.
//!
//! The key is Ramp's alone: the gem touches only `feature:*` keys, and a snapshot lists only
//! the features its registry names, so a credential is never seen as a feature. Credential
//! writes never touch the store version, never publish on the changes channel and never take
//! the writers' gate: they are no feature change. Each write is one command, atomic in Redis:
//! `HSETNX` answers 0 to all but the first of concurrent creates of one field.

use ramp_store::{Credential, CredentialKind, StoreError};
use redis::Value;

use crate::error::BACKEND;
use crate::pool::{Connection, Request};
use crate::reply::{array, bytes, integer};
use crate::store::Shared;

/// The hash field of one credential.
fn field(kind: CredentialKind, name: &str) -> String {
    format!("{kind}:{name}")
}

/// Every credential, sorted by kind then name (`Credential::sort_key`). An entry that does not
/// parse, or whose JSON names another field than its own, is skipped with a warning, like a
/// tampered stored group: it must not hide the others, and could never be deleted by name.
pub(crate) async fn credentials(shared: &Shared) -> Result<Vec<Credential>, StoreError> {
    const CONTEXT: &str = "reading credentials";
    let command = redis::Cmd::hgetall(shared.keys.credentials());
    let mut connection = shared.pool.get().await?;
    // A read: safe to send as the (retried) first request.
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    let mut items = match reply {
        // RESP3 servers answer HGETALL with a map.
        Value::Map(pairs) => pairs
            .into_iter()
            .flat_map(|(key, value)| [key, value])
            .collect(),
        other => array(other, CONTEXT)?,
    }
    .into_iter();
    let mut credentials = Vec::new();
    while let (Some(key), Some(json)) = (items.next(), items.next()) {
        let key = String::from_utf8_lossy(&bytes(key, CONTEXT)?).into_owned();
        match serde_json::from_slice::<Credential>(&bytes(json, CONTEXT)?) {
            Ok(credential) if field(credential.kind, &credential.name) == key => {
                credentials.push(credential)
            }
            Ok(_) => {
                tracing::warn!(field = %ramp_store::log_text(&key), "skipped a credential stored under another field")
            }
            Err(error) => {
                tracing::warn!(field = %ramp_store::log_text(&key), %error, "skipped an unreadable credential")
            }
        }
    }
    credentials.sort_by(|left, right| left.sort_key().cmp(&right.sort_key()));
    Ok(credentials)
}

/// Adds the credential unless its field exists (then `Conflict`).
pub(crate) async fn create(shared: &Shared, credential: &Credential) -> Result<(), StoreError> {
    const CONTEXT: &str = "creating a credential";
    credential.validate()?;
    let json = serde_json::to_string(credential).map_err(|error| StoreError::Corrupt {
        backend: BACKEND,
        detail: format!("the credential cannot be written as JSON: {error}"),
    })?;
    let mut command = redis::cmd("HSETNX");
    command
        .arg(shared.keys.credentials())
        .arg(field(credential.kind, &credential.name))
        .arg(json);
    let mut connection = checked_connection(shared, CONTEXT).await?;
    let reply = connection
        .commit(CONTEXT, Request::Command(&command))
        .await?;
    match integer(&reply, CONTEXT)? {
        0 => Err(StoreError::credential_exists(
            credential.kind,
            &credential.name,
        )),
        _ => Ok(()),
    }
}

/// Deletes a credential; `NotFound` if there is none of that kind and name.
pub(crate) async fn delete(
    shared: &Shared,
    kind: CredentialKind,
    name: &str,
) -> Result<(), StoreError> {
    const CONTEXT: &str = "deleting a credential";
    let command = redis::Cmd::hdel(shared.keys.credentials(), field(kind, name));
    let mut connection = checked_connection(shared, CONTEXT).await?;
    let reply = connection
        .commit(CONTEXT, Request::Command(&command))
        .await?;
    match integer(&reply, CONTEXT)? {
        0 => Err(StoreError::credential_not_found(kind, name)),
        _ => Ok(()),
    }
}

/// A connection known to work. A write must not be the retried first request: had the first
/// attempt run, the retry of an `HSETNX` would report a false `Conflict` (and of an `HDEL`, a
/// false `NotFound`). So a `PING` goes first, as for stored groups.
async fn checked_connection<'a>(
    shared: &'a Shared,
    context: &'static str,
) -> Result<Connection<'a>, StoreError> {
    let mut connection = shared.pool.get().await?;
    let ping = redis::cmd("PING");
    connection.first(context, Request::Command(&ping)).await?;
    Ok(connection)
}
