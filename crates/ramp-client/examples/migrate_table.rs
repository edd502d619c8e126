//! A migrator process, as the kill -9 test runs it: follows a feature at a given percentage
//! over the table `records` of one schema, with the PostgreSQL ledger; `forward` sets
//! `layout = 2`, `back` sets `layout = 1`, and each writes a row to `effects` in the same
//! transaction, so the test can count how many times each record moved.
//!
//! ```text
//! migrate_table DATABASE_URL SCHEMA FEATURE PERCENTAGE [MOVES_PER_SECOND]
//! ```
//! Prints `forwarded=N moved_back=M failures=F` after one pass.

use std::error::Error;

use deadpool_postgres::{Manager, Pool};
use ramp_client::migration::{Migration, PostgresLedger, PostgresRecords};
use ramp_client::Client;
use ramp_rollout::Rollout;
use tokio_postgres::NoTls;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [database, schema, feature, percentage, rest @ ..] = arguments.as_slice() else {
        return Err(
            "usage: migrate_table DATABASE_URL SCHEMA FEATURE PERCENTAGE [MOVES_PER_SECOND]".into(),
        );
    };
    let percentage: f64 = percentage.parse()?;

    // The feature, in a store of this process's own: the test gives every run the same
    // percentage, and bucketing depends on nothing else.
    let store = ramp_rollout::open_store("memory://").await?;
    Rollout::new(store.clone(), "migrate_table")
        .activate_percentage(feature, percentage)
        .await?;
    let client = Client::with_store(store)
        .count_checks(false)
        .connect()
        .await?;

    let mut config: tokio_postgres::Config = database.parse()?;
    config.options(format!("-c search_path={schema}"));
    // The test waits for this process's server sessions to end after killing it.
    config.application_name(format!("migrate_table-{schema}"));
    let pool = Pool::builder(Manager::new(config, NoTls))
        .max_size(4)
        .build()?;
    let ledger = PostgresLedger::open(
        pool.clone(),
        |transaction, id| {
            Box::pin(async move {
                transaction
                    .execute(
                        "UPDATE records SET layout = 2 WHERE id = $1::text::bigint",
                        &[&id],
                    )
                    .await?;
                transaction
                    .execute(
                        "INSERT INTO effects VALUES ($1::text::bigint, 'forward')",
                        &[&id],
                    )
                    .await?;
                Ok(())
            })
        },
        |transaction, id| {
            Box::pin(async move {
                transaction
                    .execute(
                        "UPDATE records SET layout = 1 WHERE id = $1::text::bigint",
                        &[&id],
                    )
                    .await?;
                transaction
                    .execute(
                        "INSERT INTO effects VALUES ($1::text::bigint, 'back')",
                        &[&id],
                    )
                    .await?;
                Ok(())
            })
        },
    )
    .await?;
    let records = PostgresRecords::integer_ids(pool, "records", "id")?;
    let mut migration = Migration::new(client, feature.as_str(), records, ledger)
        .batch_size(500)
        .concurrency(2);
    if let Some(rate) = rest.first() {
        migration = migration.rate_limit(rate.parse()?);
    }
    let report = migration.run_pass().await?;
    println!(
        "forwarded={} moved_back={} failures={}",
        report.forwarded, report.moved_back, report.failures
    );
    Ok(())
}
