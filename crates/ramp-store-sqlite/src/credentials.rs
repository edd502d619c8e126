//! API credentials in table `credentials` (migration 0002): listing, creating and deleting
//! them, as blocking functions over the shared connection that `store.rs` runs off the runtime.
//!
//! Credentials are not features: these functions never touch `meta.version` and never send a
//! notice. Each write is one statement, which SQLite runs atomically whichever process sends it,
//! so the primary key alone decides which of two concurrent creates wins.

use ramp_store::{Credential, CredentialKind, StoreError};
use rusqlite::{params, Row};

use crate::error::{corrupt, sql};
use crate::rows::{format_time, parse_time, text};
use crate::store::Shared;

/// Every credential, sorted by kind then name: SQLite's binary collation compares text as Rust
/// compares strings, so this is `Credential::sort_key`'s order.
pub(crate) fn credentials(shared: &Shared) -> Result<Vec<Credential>, StoreError> {
    const CONTEXT: &str = "reading credentials";
    let connection = shared.connection();
    let mut statement = connection
        .prepare_cached(
            "SELECT kind, name, role, secret_hash, created_at, created_by
             FROM credentials ORDER BY kind, name",
        )
        .map_err(sql(CONTEXT))?;
    let mut rows = statement.query([]).map_err(sql(CONTEXT))?;
    let mut credentials = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        credentials.push(decode(row)?);
    }
    Ok(credentials)
}

/// Inserts the credential unless one of its kind and name exists (then `Conflict`).
pub(crate) fn create(shared: &Shared, credential: &Credential) -> Result<(), StoreError> {
    credential.validate()?;
    let inserted = shared
        .connection()
        .prepare_cached(
            "INSERT INTO credentials (kind, name, role, secret_hash, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (kind, name) DO NOTHING",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                credential.kind.as_str(),
                credential.name,
                credential.role.as_str(),
                credential.secret_hash,
                format_time(&credential.created_at),
                credential.created_by,
            ])
        })
        .map_err(sql("creating a credential"))?;
    if inserted == 0 {
        return Err(StoreError::credential_exists(
            credential.kind,
            &credential.name,
        ));
    }
    Ok(())
}

/// Deletes a credential; `NotFound` if there is none of that kind and name.
pub(crate) fn delete(shared: &Shared, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
    let deleted = shared
        .connection()
        .prepare_cached("DELETE FROM credentials WHERE kind = ?1 AND name = ?2")
        .and_then(|mut statement| statement.execute(params![kind.as_str(), name]))
        .map_err(sql("deleting a credential"))?;
    if deleted == 0 {
        return Err(StoreError::credential_not_found(kind, name));
    }
    Ok(())
}

/// Ramp writes every row itself, so one it cannot read is `Corrupt`, naming the credential.
fn decode(row: &Row<'_>) -> Result<Credential, StoreError> {
    let name = text(row, 1, "name").map_err(|what| corrupt(format!("a credential row: {what}")))?;
    parse(row, name).map_err(|what| corrupt(format!("credential {name:?}: {what}")))
}

fn parse(row: &Row<'_>, name: &str) -> Result<Credential, String> {
    Ok(Credential {
        name: name.to_owned(),
        kind: text(row, 0, "kind")?
            .parse()
            .map_err(|error: StoreError| error.to_string())?,
        role: text(row, 2, "role")?
            .parse()
            .map_err(|error: StoreError| error.to_string())?,
        secret_hash: text(row, 3, "secret_hash")?.to_owned(),
        created_at: parse_time(text(row, 4, "created_at")?)?,
        created_by: text(row, 5, "created_by")?.to_owned(),
    })
}
