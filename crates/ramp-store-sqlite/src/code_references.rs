//! Code references in the tables of migration 0009: replacing one repository's scan and reading
//! one feature's references, as blocking functions over the shared connection that `store.rs`
//! runs off the runtime. `ramp_store`'s memory store is the reference they follow.
//!
//! A scan is replaced inside one `BEGIN IMMEDIATE` transaction (delete, then insert), so a
//! reader, in this process or another, sees the old scan or the new one, never a mix. Nothing
//! here touches the store version: references are not feature changes.

use chrono::DateTime;
use ramp_core::{CodeScan, FeatureReference};
use ramp_store::{CodeReferenceSummary, StoreError};
use rusqlite::{params, TransactionBehavior};

use crate::error::{corrupt, sql};
use crate::store::Shared;

const DELETE_SCAN: &str = "DELETE FROM code_scans WHERE repository = ?1";
const INSERT_SCAN: &str =
    "INSERT INTO code_scans (repository, commit_id, scanned_at) VALUES (?1, ?2, ?3)";
const INSERT_REFERENCE: &str =
    "INSERT INTO code_references (repository, feature, file, line, context)
     VALUES (?1, ?2, ?3, ?4, ?5)";
const READ: &str = "SELECT r.repository, s.commit_id, s.scanned_at, r.file, r.line, r.context
     FROM code_references r JOIN code_scans s ON s.repository = r.repository
     WHERE r.feature = ?1
     ORDER BY r.repository, r.file, r.line";

/// Replaces `scan.repository`'s references (validated first: nothing is written otherwise).
pub(crate) fn put(shared: &Shared, scan: &CodeScan) -> Result<(), StoreError> {
    const CONTEXT: &str = "storing code references";
    scan.validate()?;
    let mut connection = shared.connection();
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(CONTEXT))?;
    // Deleting the scan's row deletes its references (ON DELETE CASCADE needs foreign keys
    // on, which the connection sets; the explicit delete keeps this right even without).
    transaction
        .execute(
            "DELETE FROM code_references WHERE repository = ?1",
            params![scan.repository],
        )
        .map_err(sql(CONTEXT))?;
    transaction
        .execute(DELETE_SCAN, params![scan.repository])
        .map_err(sql(CONTEXT))?;
    transaction
        .execute(
            INSERT_SCAN,
            params![
                scan.repository,
                scan.commit,
                scan.scanned_at.timestamp_millis()
            ],
        )
        .map_err(sql(CONTEXT))?;
    {
        let mut insert = transaction
            .prepare_cached(INSERT_REFERENCE)
            .map_err(sql(CONTEXT))?;
        for reference in &scan.references {
            insert
                .execute(params![
                    scan.repository,
                    reference.feature,
                    reference.file,
                    reference.line,
                    reference.context
                ])
                .map_err(sql(CONTEXT))?;
        }
    }
    transaction.commit().map_err(sql(CONTEXT))
}

/// One statement, so the counts and the number of repositories are from the same moment: the
/// row with no feature is the number of scans.
const SUMMARY: &str = "SELECT feature, COUNT(*) FROM code_references GROUP BY feature
     UNION ALL SELECT NULL, COUNT(*) FROM code_scans";

/// Every feature's reference count and the number of scanned repositories.
pub(crate) fn summary(shared: &Shared) -> Result<CodeReferenceSummary, StoreError> {
    const CONTEXT: &str = "counting code references";
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(SUMMARY).map_err(sql(CONTEXT))?;
    let mut rows = statement.query([]).map_err(sql(CONTEXT))?;
    let mut summary = CodeReferenceSummary::default();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let feature: Option<String> = row.get(0).map_err(sql(CONTEXT))?;
        let count: i64 = row.get(1).map_err(sql(CONTEXT))?;
        let count = usize::try_from(count).unwrap_or(0);
        match feature {
            Some(feature) => {
                summary.counts.insert(feature, count);
            }
            None => summary.repositories = count,
        }
    }
    Ok(summary)
}

/// Every reference to `feature`, by repository, file and line.
pub(crate) fn read(shared: &Shared, feature: &str) -> Result<Vec<FeatureReference>, StoreError> {
    const CONTEXT: &str = "reading code references";
    let connection = shared.connection();
    let mut statement = connection.prepare_cached(READ).map_err(sql(CONTEXT))?;
    let mut rows = statement.query(params![feature]).map_err(sql(CONTEXT))?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(sql(CONTEXT))? {
        let millis: i64 = row.get(2).map_err(sql(CONTEXT))?;
        let scanned_at = DateTime::from_timestamp_millis(millis)
            .ok_or_else(|| corrupt(format!("a code scan's time {millis} is no time")))?;
        found.push(FeatureReference {
            repository: row.get(0).map_err(sql(CONTEXT))?,
            commit: row.get(1).map_err(sql(CONTEXT))?,
            scanned_at,
            file: row.get(3).map_err(sql(CONTEXT))?,
            line: row.get(4).map_err(sql(CONTEXT))?,
            context: row.get(5).map_err(sql(CONTEXT))?,
        });
    }
    Ok(found)
}
