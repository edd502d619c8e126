//! Creating the store's schema and bringing its tables up to date with the migrations embedded
//! in this binary (`migrations/V*.sql`, applied by refinery and recorded in
//! `ramp_schema_history` inside the schema).
//!
//! Several processes may open one schema at the same moment (a server's replicas starting
//! together, or parallel tests), and PostgreSQL's `CREATE ... IF NOT EXISTS` is not safe against
//! a concurrent creator. So the whole step runs under an advisory lock keyed by the schema's
//! name: the first opener migrates, the others wait, then find nothing left to do. A schema
//! migrated by a newer Ramp is refused with `Corrupt` before anything is written to it.

use ramp_store::StoreError;
use tokio_postgres::{Client, Config};

use crate::connection::{dedicated, OPERATION_TIMEOUT};
use crate::error::{corrupt, database_error, sql, unavailable, TimedOut};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The table where refinery records applied migrations, inside the store's schema.
pub const MIGRATION_TABLE: &str = "ramp_schema_history";

/// The first key of Ramp's advisory locks ("RAMP" in ASCII); the second is the schema's hash.
const LOCK_CLASS: i32 = 0x5241_4D50;

/// The newest schema version this binary knows.
pub fn schema_version() -> u32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(refinery::Migration::version)
        .max()
        .unwrap_or(0)
}

/// Creates `schema` if needed and applies every migration it lacks, on a connection of its own
/// (the advisory lock belongs to a session, and must not stay behind on a pooled connection).
pub(crate) async fn migrate(config: &Config, schema: &str) -> Result<(), StoreError> {
    let (mut client, driver) = dedicated(config, "connecting to migrate the schema").await?;
    let outcome = tokio::time::timeout(OPERATION_TIMEOUT, locked_migration(&mut client, schema))
        .await
        .unwrap_or_else(|_| {
            Err(unavailable(
                "migrating the schema",
                TimedOut(OPERATION_TIMEOUT),
            ))
        });
    // Closing the session also releases the lock if unlocking failed.
    drop(client);
    driver.abort();
    outcome
}

async fn locked_migration(client: &mut Client, schema: &str) -> Result<(), StoreError> {
    // A session lock, not a transaction lock: refinery commits each migration on its own.
    client
        .execute(
            "SELECT pg_advisory_lock($1, hashtext($2))",
            &[&LOCK_CLASS, &schema],
        )
        .await
        .map_err(sql("waiting for other processes migrating the schema"))?;
    let outcome = create_and_migrate(client, schema).await;
    let unlocked = client
        .execute(
            "SELECT pg_advisory_unlock($1, hashtext($2))",
            &[&LOCK_CLASS, &schema],
        )
        .await;
    if let Err(error) = unlocked {
        tracing::warn!(%error, schema, "could not release the migration lock; closing the session will");
    }
    outcome
}

async fn create_and_migrate(client: &mut Client, schema: &str) -> Result<(), StoreError> {
    // Look first: `CREATE SCHEMA IF NOT EXISTS` needs the CREATE privilege on the database even
    // when the schema exists, and a store's user may only own its schema.
    let exists = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(sql("looking for the schema"))?
        .is_some();
    if !exists {
        // The name needs no quoting: the URL parser allows only [a-z0-9_].
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(|error| database_error(format!("creating schema {schema}"), error))?;
    }
    embedded::migrations::runner()
        .set_migration_table_name(MIGRATION_TABLE)
        .run_async(client)
        .await
        .map(drop)
        .map_err(|error| migration_error(schema, error))
}

fn migration_error(schema: &str, error: refinery::Error) -> StoreError {
    use refinery::error::Kind;
    let context = format!("migrating schema {schema}");
    match error.kind() {
        Kind::MissingVersion(_) | Kind::DivergentVersion(..) => corrupt(format!(
            "{context}: it was migrated by another version of Ramp ({error}); this build knows schema version {}: upgrade Ramp to use it",
            schema_version()
        )),
        Kind::Connection(..) => {
            // The driver's error, when there is one, says whether retrying may help.
            let code = std::error::Error::source(&error)
                .and_then(|source| source.downcast_ref::<tokio_postgres::Error>())
                .map(tokio_postgres::Error::code);
            match code {
                Some(Some(code)) if !crate::error::is_transient(code) => {
                    corrupt(format!("{context}: {error}"))
                }
                _ => unavailable(context, error),
            }
        }
        _ => corrupt(format!("{context}: {error}")),
    }
}
