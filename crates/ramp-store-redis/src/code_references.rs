//! Code references in the hash `{prefix}ramp:code-references`: field the repository's name,
//! value its latest scan's JSON (`ramp_core::CodeScan`).
//!
//! One field per repository makes replacing a scan a single `HSET`, atomic in Redis: a reader
//! sees the old scan or the new one whole, never a mix, and the latest upload wins. A feature's
//! references are found by reading every repository's scan (a handful of repositories, each
//! bounded by `MAX_REFERENCES`). The key is Ramp's alone (see `keys.rs`); writes never touch
//! the store version or publish on the changes channel: references are not feature changes.

use ramp_core::{CodeScan, FeatureReference};
use ramp_store::{CodeReferenceSummary, StoreError};
use redis::Value;

use crate::error::BACKEND;
use crate::pool::Request;
use crate::reply::{array, bytes};
use crate::store::Shared;

/// Replaces `scan.repository`'s references (validated first: nothing is written otherwise).
pub(crate) async fn put(shared: &Shared, scan: &CodeScan) -> Result<(), StoreError> {
    const CONTEXT: &str = "storing code references";
    scan.validate()?;
    let json = serde_json::to_string(scan).map_err(|error| StoreError::Corrupt {
        backend: BACKEND,
        detail: format!("the code scan cannot be written as JSON: {error}"),
    })?;
    let command = redis::Cmd::hset(shared.keys.code_references(), &scan.repository, json);
    let mut connection = shared.pool.get().await?;
    // Setting a field to a value is idempotent: a retry after a lost answer writes the same
    // scan again, so it may go as the (retried) first request.
    connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    Ok(())
}

/// Every repository's latest scan, from one `HVALS` (one reply, so one moment); a scan that
/// does not parse is skipped with a warning.
async fn scans(shared: &Shared, context: &'static str) -> Result<Vec<CodeScan>, StoreError> {
    let command = redis::Cmd::hvals(shared.keys.code_references());
    let mut connection = shared.pool.get().await?;
    let reply = connection
        .first(context, Request::Command(&command))
        .await?;
    let values = match reply {
        Value::Nil => Vec::new(),
        other => array(other, context)?,
    };
    let mut scans = Vec::with_capacity(values.len());
    for value in values {
        match serde_json::from_slice::<CodeScan>(&bytes(value, context)?) {
            Ok(scan) => scans.push(scan),
            Err(error) => tracing::warn!(%error, "skipped an unreadable code scan"),
        }
    }
    Ok(scans)
}

/// Every feature's reference count and the number of scanned repositories.
pub(crate) async fn summary(shared: &Shared) -> Result<CodeReferenceSummary, StoreError> {
    let scans = scans(shared, "counting code references").await?;
    let mut summary = CodeReferenceSummary {
        repositories: scans.len(),
        ..CodeReferenceSummary::default()
    };
    for reference in scans.iter().flat_map(|scan| &scan.references) {
        *summary.counts.entry(reference.feature.clone()).or_default() += 1;
    }
    Ok(summary)
}

/// Every reference to `feature`, by repository, file and line. A scan that does not parse is
/// skipped with a warning: it must not hide the other repositories' references.
pub(crate) async fn read(
    shared: &Shared,
    feature: &str,
) -> Result<Vec<FeatureReference>, StoreError> {
    let mut found: Vec<FeatureReference> = scans(shared, "reading code references")
        .await?
        .iter()
        .flat_map(|scan| scan.references_to(feature))
        .collect();
    ramp_core::sort_feature_references(&mut found);
    Ok(found)
}
