//! Rows per second of one migration pass in PostgreSQL: 100,000 rows, a feature at 100 %,
//! `forward` an UPDATE of the row on the ledger's transaction (one transaction per row, with
//! its ledger row). Runs in a schema of its own, dropped at the end.
//!
//! ```text
//! cargo run --release -p ramp-client --features migration-postgres --example migration_throughput \
//!     [DATABASE_URL] [CONCURRENCY]
//! ```

use std::error::Error;
use std::time::Instant;

use deadpool_postgres::{Manager, Pool};
use ramp_client::migration::{Migration, PostgresLedger, PostgresRecords};
use ramp_client::Client;
use ramp_rollout::Rollout;
use tokio_postgres::NoTls;

const ROWS: i64 = 100_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut arguments = std::env::args().skip(1);
    let database = arguments
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let concurrency: usize = arguments.next().map_or(Ok(4), |text| text.parse())?;
    let schema = format!("ramp_throughput_{}", std::process::id());

    let (admin, connection) = tokio_postgres::connect(&database, NoTls).await?;
    tokio::spawn(connection);
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.records (id bigint PRIMARY KEY, layout int NOT NULL DEFAULT 1);
             INSERT INTO {schema}.records (id) SELECT generate_series(1, {ROWS});"
        ))
        .await?;

    let store = ramp_rollout::open_store("memory://").await?;
    Rollout::new(store.clone(), "throughput")
        .activate_percentage("layout-v2", 100.0)
        .await?;
    let client = Client::with_store(store)
        .count_checks(false)
        .connect()
        .await?;
    let mut config: tokio_postgres::Config = database.parse()?;
    config.options(format!("-c search_path={schema}"));
    let pool = Pool::builder(Manager::new(config, NoTls))
        .max_size(concurrency + 1)
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
                Ok(())
            })
        },
    )
    .await?;
    let records = PostgresRecords::integer_ids(pool, "records", "id")?;
    let mut migration = Migration::new(client, "layout-v2", records, ledger)
        .batch_size(10_000)
        .concurrency(concurrency);

    let start = Instant::now();
    let report = migration.run_pass().await;
    let elapsed = start.elapsed();
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await?;
    let report = report?;
    println!(
        "{} rows forward in {:.2} s: {:.0} rows/s (concurrency {concurrency}, one transaction per row)",
        report.forwarded,
        elapsed.as_secs_f64(),
        report.forwarded as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
