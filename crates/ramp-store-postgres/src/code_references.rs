//! Code references in PostgreSQL (the tables of `migrations/V9__code_references.sql`):
//! replacing one repository's scan and reading one feature's references, as `ramp_store`'s
//! memory store does.
//!
//! A replacement is one transaction that first upserts the repository's scan row, which locks
//! it: a concurrent upload of the same repository waits there until this one commits, and its
//! delete then sees (and removes) every reference this one inserted. So the stored references
//! are always one upload's, never a mix, and uploads of different repositories never wait for
//! each other.

use chrono::DateTime;
use ramp_core::{CodeScan, FeatureReference};
use ramp_store::{CodeReferenceSummary, StoreError};
use tokio_postgres::types::ToSql;

use crate::error::{commit_error, corrupt, sql};
use crate::shared::Shared;

const UPSERT_SCAN: &str = "INSERT INTO code_scans (repository, commit_id, scanned_at)
    VALUES ($1, $2, $3)
    ON CONFLICT (repository) DO UPDATE SET commit_id = excluded.commit_id,
        scanned_at = excluded.scanned_at";
const DELETE_REFERENCES: &str = "DELETE FROM code_references WHERE repository = $1";
/// Every reference in one statement, whatever the count (at most `MAX_REFERENCES`).
const INSERT_REFERENCES: &str =
    "INSERT INTO code_references (repository, feature, file, line, context)
    SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::int4[], $5::text[])";
const READ: &str = "SELECT r.repository, s.commit_id, s.scanned_at, r.file, r.line, r.context
    FROM code_references r JOIN code_scans s ON s.repository = r.repository
    WHERE r.feature = $1
    ORDER BY r.repository, r.file, r.line";

/// Replaces `scan.repository`'s references (validated first: nothing is written otherwise).
pub(crate) async fn put(shared: &Shared, scan: &CodeScan) -> Result<(), StoreError> {
    scan.validate()?;
    let features: Vec<&str> = scan
        .references
        .iter()
        .map(|reference| reference.feature.as_str())
        .collect();
    let files: Vec<&str> = scan
        .references
        .iter()
        .map(|reference| reference.file.as_str())
        .collect();
    // `validate` keeps lines to u32; PostgreSQL's integer is signed, so a line past i32::MAX
    // (no real file has one) is stored as the largest it can hold.
    let lines: Vec<i32> = scan
        .references
        .iter()
        .map(|reference| i32::try_from(reference.line).unwrap_or(i32::MAX))
        .collect();
    let contexts: Vec<&str> = scan
        .references
        .iter()
        .map(|reference| reference.context.as_str())
        .collect();
    let mut client = shared.client().await?;
    let transaction = client
        .transaction()
        .await
        .map_err(sql("beginning to store code references"))?;
    transaction
        .execute(
            UPSERT_SCAN,
            &[
                &scan.repository,
                &scan.commit,
                &scan.scanned_at.timestamp_millis(),
            ],
        )
        .await
        .map_err(sql("storing a code scan"))?;
    transaction
        .execute(DELETE_REFERENCES, &[&scan.repository])
        .await
        .map_err(sql("deleting a repository's previous code references"))?;
    if !scan.references.is_empty() {
        let columns: [&(dyn ToSql + Sync); 5] =
            [&scan.repository, &features, &files, &lines, &contexts];
        transaction
            .execute(INSERT_REFERENCES, &columns)
            .await
            .map_err(sql("storing code references"))?;
    }
    transaction
        .commit()
        .await
        .map_err(commit_error("committing code references"))
}

/// One statement, so the counts and the number of repositories are from the same snapshot:
/// the row with no feature is the number of scans.
const SUMMARY: &str = "SELECT feature, COUNT(*) FROM code_references GROUP BY feature
    UNION ALL SELECT NULL, COUNT(*) FROM code_scans";

/// Every feature's reference count and the number of scanned repositories.
pub(crate) async fn summary(shared: &Shared) -> Result<CodeReferenceSummary, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(SUMMARY, &[])
        .await
        .map_err(sql("counting code references"))?;
    let damaged =
        |error: tokio_postgres::Error| corrupt(format!("a code reference count: {error}"));
    let mut summary = CodeReferenceSummary::default();
    for row in rows {
        let feature: Option<String> = row.try_get(0).map_err(damaged)?;
        let count: i64 = row.try_get(1).map_err(damaged)?;
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
pub(crate) async fn read(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<FeatureReference>, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(READ, &[&feature])
        .await
        .map_err(sql("reading code references"))?;
    let damaged = |error: tokio_postgres::Error| corrupt(format!("a code reference: {error}"));
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let millis: i64 = row.try_get(2).map_err(damaged)?;
        let line: i32 = row.try_get(4).map_err(damaged)?;
        found.push(FeatureReference {
            repository: row.try_get(0).map_err(damaged)?,
            commit: row.try_get(1).map_err(damaged)?,
            scanned_at: DateTime::from_timestamp_millis(millis)
                .ok_or_else(|| corrupt(format!("a code scan's time {millis} is no time")))?,
            file: row.try_get(3).map_err(damaged)?,
            line: u32::try_from(line)
                .map_err(|_| corrupt(format!("a code reference's line {line} is below 1")))?,
            context: row.try_get(5).map_err(damaged)?,
        });
    }
    Ok(found)
}
