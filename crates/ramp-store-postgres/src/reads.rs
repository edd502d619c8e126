//! Reads: a snapshot of every feature and group at one version, one feature. History reads
//! are in `history.rs`, stored groups with their versions in `groups.rs`.
//!
//! A snapshot is one `REPEATABLE READ` transaction, so its version, features and groups are
//! read from one view of the database even while writers commit; its three queries are sent
//! together (pipelined) rather than one after another.

use deadpool_postgres::Object;
use ramp_core::{Feature, FeatureName, Snapshot};
use ramp_store::StoreError;
use tokio_postgres::IsolationLevel;

use crate::connection::store_version;
use crate::error::sql;
use crate::rows::{decode_features, decode_group, decode_optional_feature, FEATURE_COLUMNS};

const ALL_GROUPS: &str = "SELECT name, body FROM groups ORDER BY name";

/// Every feature (sorted by name: the column's "C" collation sorts as Rust does) and group.
pub(crate) async fn snapshot(
    client: &mut Object,
    randomize_percentage: bool,
) -> Result<Snapshot, StoreError> {
    let transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(sql("beginning a snapshot"))?;
    let features_statement = transaction
        .prepare_cached(&format!(
            "SELECT {FEATURE_COLUMNS} FROM features ORDER BY name"
        ))
        .await
        .map_err(sql("reading features"))?;
    let groups_statement = transaction
        .prepare_cached(ALL_GROUPS)
        .await
        .map_err(sql("reading groups"))?;
    let (version, features, groups) = futures::try_join!(
        store_version(&*transaction),
        async {
            transaction
                .query(&features_statement, &[])
                .await
                .map_err(sql("reading features"))
        },
        async {
            transaction
                .query(&groups_statement, &[])
                .await
                .map_err(sql("reading groups"))
        },
    )?;
    // Reading committed nothing, but ending the transaction now frees the connection at once.
    transaction
        .commit()
        .await
        .map_err(sql("ending a snapshot"))?;
    Ok(Snapshot {
        version,
        randomize_percentage,
        features: decode_features(features).await?,
        groups: groups.iter().map(decode_group).collect::<Result<_, _>>()?,
    })
}

/// One feature by name, or `None`.
pub(crate) async fn feature(
    client: &Object,
    name: &FeatureName,
) -> Result<Option<Feature>, StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT {FEATURE_COLUMNS} FROM features WHERE name = $1"
        ))
        .await
        .map_err(sql("reading a feature"))?;
    let row = client
        .query_opt(&statement, &[&name.as_str()])
        .await
        .map_err(sql("reading a feature"))?;
    decode_optional_feature(row).await
}
