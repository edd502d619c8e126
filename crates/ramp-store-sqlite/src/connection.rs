//! Opening the database file: the pragmas that let several processes share it, the check that
//! it is Ramp's, and the embedded schema migrations.
//!
//! A file this binary does not fully understand (another program's database, or a schema
//! written by a newer Ramp) is refused with `Corrupt` before anything is written to it.

use std::path::Path;
use std::time::{Duration, Instant};

use ramp_store::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use rusqlite_migration::{Migrations, SchemaVersion, M};

use crate::error::{corrupt, sql, sqlite_error};

/// How long a write waits for another process's write to finish before giving up as
/// `Unavailable`. Writes are short (one feature), so five seconds means something is stuck.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `PRAGMA application_id` of Ramp's files ("RAMP" in ASCII), set by the first migration.
const APPLICATION_ID: i32 = 0x5241_4D50;

/// Every schema migration, oldest first. Append only: the position is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_credentials.sql"),
    include_str!("../migrations/0003_group_versions.sql"),
    include_str!("../migrations/0004_history_filters.sql"),
    include_str!("../migrations/0005_group_history.sql"),
    include_str!("../migrations/0006_exposures.sql"),
    include_str!("../migrations/0007_user_sketches.sql"),
    include_str!("../migrations/0008_outside_percentage.sql"),
    include_str!("../migrations/0009_code_references.sql"),
    include_str!("../migrations/0010_lifecycle_settings.sql"),
    include_str!("../migrations/0011_feature_kinds.sql"),
    include_str!("../migrations/0012_migration_progress.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Opens (creating if needed) and migrates the connection that all of a store's writes use.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let opening = |error| sqlite_error(format!("opening {}", path.display()), error);
    let mut connection = Connection::open(path).map_err(opening)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(opening)?;
    // WAL: readers never wait for a writer and a writer never waits for readers, so a CLI and a
    // server can use one file at once. The mode is stored in the file, so this sticks.
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers "busy" at once
    // rather than calling the busy handler: retry, as the busy timeout would.
    let mode: String = retry_while_busy(|| {
        connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
    })
    .map_err(opening)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode; concurrent processes will wait on each other");
    }
    // FULL: a write reported as committed survives a power cut; flag writes are rare, so the
    // extra sync per commit costs nothing that matters.
    connection
        .pragma_update(None, "synchronous", "FULL")
        .map_err(opening)?;
    connection
        .pragma_update(None, "foreign_keys", true)
        .map_err(opening)?;
    check_identity(&connection, path)?;
    migrate(&mut connection, path)?;
    Ok(connection)
}

/// Opens a connection to an existing, already migrated file, for polling. It never creates the
/// file: if the file is gone, polling should fail rather than watch a new empty database.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opening = |error| sqlite_error(format!("opening {} to watch it", path.display()), error);
    let connection = Connection::open_with_flags(path, flags).map_err(opening)?;
    connection.busy_timeout(busy_timeout).map_err(opening)?;
    connection
        .pragma_update(None, "query_only", true)
        .map_err(opening)?;
    Ok(connection)
}

/// Refuses files that belong to another program: writing Ramp's tables into them would damage
/// them. An empty file, or one with Ramp's application id, is fine.
fn check_identity(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    // One statement, so one snapshot: another process migrating the file at this moment is
    // seen either wholly before or wholly after.
    let (application_id, user_version, tables): (i64, i64, i64) = retry_while_busy(|| {
        connection.query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    })
    .map_err(|error| sqlite_error(format!("reading {}", path.display()), error))?;
    let fresh = application_id == 0 && user_version == 0 && tables == 0;
    if application_id != i64::from(APPLICATION_ID) && !fresh {
        return Err(corrupt(format!(
            "{} is a SQLite database of another program, not Ramp's; refusing to write to it",
            path.display()
        )));
    }
    Ok(())
}

/// Brings the schema up to `SCHEMA_VERSION`, refusing a schema from the future.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let migrations = migrations();
    let newer = |found: usize| {
        corrupt(format!(
            "{} has schema version {found}, newer than version {SCHEMA_VERSION} that this build of Ramp knows: upgrade Ramp to use it",
            path.display()
        ))
    };
    if let SchemaVersion::Outside(found) = migrations
        .current_version(connection)
        .map_err(|error| migration_error(path, error))?
    {
        return Err(newer(found.get()));
    }
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        let Err(error) = migrations.to_latest(connection) else {
            return Ok(());
        };
        // Two processes opening a new file at once both try to migrate; the loser's CREATE
        // TABLE fails (or finds the file busy) after the winner committed, and the file is
        // then as it should be.
        match migrations.current_version(connection) {
            Ok(SchemaVersion::Inside(found)) if found.get() == SCHEMA_VERSION => return Ok(()),
            Ok(SchemaVersion::Outside(found)) => return Err(newer(found.get())),
            _ if is_busy_migration(&error) && Instant::now() < deadline => {
                std::thread::sleep(RETRY_PAUSE)
            }
            _ => return Err(migration_error(path, error)),
        }
    }
}

/// How long to wait before retrying a step that found the file busy.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Runs `step` again while it finds the file busy, for up to `BUSY_TIMEOUT`.
fn retry_while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match step() {
            Err(error) if is_busy(&error) && Instant::now() < deadline => {
                std::thread::sleep(RETRY_PAUSE)
            }
            other => return other,
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn is_busy_migration(error: &rusqlite_migration::Error) -> bool {
    matches!(error, rusqlite_migration::Error::RusqliteError { err, .. } if is_busy(err))
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().copied().map(M::up).collect())
}

/// Brings `connection`'s schema to `version` exactly, not to the latest: a file as an older
/// release wrote it, which the migration tests fill with old rows and then open with
/// [`SqliteStore::open`](crate::SqliteStore::open). A version past [`SCHEMA_VERSION`] is an
/// error.
pub fn migrate_to_version(
    connection: &mut Connection,
    version: usize,
) -> Result<(), rusqlite_migration::Error> {
    migrations().to_version(connection, version)
}

fn migration_error(path: &Path, error: rusqlite_migration::Error) -> StoreError {
    let context = format!("migrating {}", path.display());
    match error {
        rusqlite_migration::Error::RusqliteError { err, .. } => sqlite_error(context, err),
        other => corrupt(format!("{context}: {other}")),
    }
}

/// The store version: how many writes were ever committed to this file.
pub(crate) fn store_version(connection: &Connection) -> Result<u64, StoreError> {
    let version: Option<i64> = connection
        .prepare_cached("SELECT value FROM meta WHERE key = 'version'")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map_err(sql("reading the store version"))?;
    version
        .and_then(|version| u64::try_from(version).ok())
        .ok_or_else(|| corrupt("the store version in table meta is missing or negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }
}
