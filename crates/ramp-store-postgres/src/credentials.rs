//! API credentials in table `credentials` (migration V2): listing, creating and deleting them,
//! one statement each, which PostgreSQL runs in a transaction of its own.
//!
//! Credentials are not features: nothing here touches `meta`, sends a notification or announces
//! a notice. Of two concurrent creates of one kind and name, the second waits on the first's
//! index entry and then inserts nothing (`ON CONFLICT DO NOTHING`): that is its `Conflict`.

use chrono::SubsecRound;
use ramp_store::{Credential, CredentialKind, StoreError};
use tokio_postgres::Row;

use crate::error::{corrupt, sql};
use crate::shared::Shared;

/// Every credential, sorted by kind then name (the "C" collation sorts as Rust does, so this is
/// `Credential::sort_key`'s order).
pub(crate) async fn credentials(shared: &Shared) -> Result<Vec<Credential>, StoreError> {
    const CONTEXT: &str = "reading credentials";
    let client = shared.client().await?;
    let statement = client
        .prepare_cached(
            "SELECT kind, name, role, secret_hash, created_at, created_by
             FROM credentials ORDER BY kind, name",
        )
        .await
        .map_err(sql(CONTEXT))?;
    let rows = client.query(&statement, &[]).await.map_err(sql(CONTEXT))?;
    rows.iter().map(decode).collect()
}

/// Inserts the credential unless one of its kind and name exists (then `Conflict`).
pub(crate) async fn create(shared: &Shared, credential: &Credential) -> Result<(), StoreError> {
    credential.validate()?;
    let client = shared.client().await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO credentials (kind, name, role, secret_hash, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (kind, name) DO NOTHING",
        )
        .await
        .map_err(sql("preparing a credential write"))?;
    // `timestamptz` keeps microseconds and would round the rest: truncate, so that what is
    // stored is what `Credential::created_at`'s documentation promises.
    let created_at = credential.created_at.trunc_subsecs(6);
    let inserted = client
        .execute(
            &statement,
            &[
                &credential.kind.as_str(),
                &credential.name,
                &credential.role.as_str(),
                &credential.secret_hash,
                &created_at,
                &credential.created_by,
            ],
        )
        .await
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
pub(crate) async fn delete(
    shared: &Shared,
    kind: CredentialKind,
    name: &str,
) -> Result<(), StoreError> {
    let client = shared.client().await?;
    let statement = client
        .prepare_cached("DELETE FROM credentials WHERE kind = $1 AND name = $2")
        .await
        .map_err(sql("preparing a credential delete"))?;
    let deleted = client
        .execute(&statement, &[&kind.as_str(), &name])
        .await
        .map_err(sql("deleting a credential"))?;
    if deleted == 0 {
        return Err(StoreError::credential_not_found(kind, name));
    }
    Ok(())
}

/// Ramp writes every row itself, so one it cannot read is `Corrupt`, naming the credential.
fn decode(row: &Row) -> Result<Credential, StoreError> {
    let name: &str = row.try_get(1).unwrap_or("?");
    parse(row).map_err(|what| corrupt(format!("credential {name:?}: {what}")))
}

fn parse(row: &Row) -> Result<Credential, String> {
    let text = |index: usize| {
        row.try_get::<_, String>(index)
            .map_err(|error| format!("column {}: {error}", row.columns()[index].name()))
    };
    let parsed = |error: StoreError| error.to_string();
    Ok(Credential {
        kind: text(0)?.parse().map_err(parsed)?,
        name: text(1)?,
        role: text(2)?.parse().map_err(parsed)?,
        secret_hash: text(3)?,
        created_at: row
            .try_get(4)
            .map_err(|error| format!("column created_at: {error}"))?,
        created_by: text(5)?,
    })
}
