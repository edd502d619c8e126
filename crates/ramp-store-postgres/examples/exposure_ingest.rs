//! Times exposure ingest on this machine, for the target load of 100 application instances each
//! reporting 10,000 features every 10 seconds (10 batches/s): 100 batches of 10,000 features
//! recorded one per call, then ten per call, then one per call from 8 concurrent tasks (as a
//! server handling several clients at once), each round in a minute of its own.
//!
//! Run with: `cargo run --release -p ramp-store-postgres --example exposure_ingest`
//! It uses the schema `ramp_exposure_bench` of `postgres://postgres@127.0.0.1:5432/test` (or the
//! URL in `RAMP_BENCH_URL`), which it drops before and after.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{time_from_seconds, ExposureBatch};
use ramp_store::Store;
use ramp_store_postgres::{PostgresStore, PostgresUrl};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test?schema=ramp_exposure_bench";
const BATCHES: usize = 100;
const FEATURES: usize = 10_000;
const TASKS: usize = 8;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::var("RAMP_BENCH_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let parsed = PostgresUrl::parse(&url)?;
    drop_schema(&parsed).await?;
    let store = Arc::new(PostgresStore::open(&parsed).await?);
    let outcome = run(&store).await;
    drop(store);
    drop_schema(&parsed).await?;
    outcome
}

async fn run(store: &Arc<PostgresStore>) -> Result<()> {
    let features: Arc<Vec<String>> = Arc::new(
        (0..FEATURES)
            .map(|index| format!("feature-{index:05}"))
            .collect(),
    );
    for (round, per_call) in [(0, 1), (1, 10), (2, 1), (3, 10)] {
        let batches = batches(round, &features);
        let started = Instant::now();
        for call in batches.chunks(per_call) {
            store.record_exposures(call).await?;
        }
        report(
            &format!("{per_call:>2} per call, one caller"),
            started.elapsed(),
        );
    }

    let batches = Arc::new(batches(4, &features));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, batches) = (Arc::clone(store), Arc::clone(&batches));
        tasks.push(tokio::spawn(async move {
            for batch in batches.iter().skip(task).step_by(TASKS) {
                store.record_exposures(std::slice::from_ref(batch)).await?;
            }
            Ok::<_, ramp_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    report(&format!(" 1 per call, {TASKS} callers"), started.elapsed());

    let started = Instant::now();
    let activity = store
        .exposure_activity(
            minute(0),
            minute(10),
            ramp_store::exposure::Resolution::Hour,
        )
        .await?;
    println!(
        "activity of {} features over 5 minutes: {:?}",
        activity.len(),
        started.elapsed()
    );
    Ok(())
}

/// One batch per instance, all in minute `round`, every feature checked a few times.
fn batches(round: usize, features: &[String]) -> Vec<ExposureBatch> {
    (0..BATCHES)
        .map(|instance| {
            let counts = features
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
                    counts[ReasonKind::Percentage.index()] = (index % 7) as u64 + 1;
                    counts[ReasonKind::Off.index()] = (instance % 3) as u64;
                    (name.clone(), counts)
                })
                .collect();
            ExposureBatch {
                batch_id: format!("web-{instance}:{round}"),
                application: "shop".to_owned(),
                instance: format!("web-{instance}"),
                minute: minute(round as i64),
                received: minute(round as i64) + chrono::Duration::seconds(instance as i64 % 60),
                counts,
                unnamed: 1,
                dropped: 0,
            }
        })
        .collect()
}

fn minute(index: i64) -> DateTime<Utc> {
    time_from_seconds(20_000 * 86_400 + index * 60)
}

fn report(label: &str, elapsed: Duration) {
    println!(
        "{label}: {BATCHES} batches of {FEATURES} features in {elapsed:.2?}: {:.1} batches/s",
        BATCHES as f64 / elapsed.as_secs_f64()
    );
}

async fn drop_schema(url: &PostgresUrl) -> Result<()> {
    let (client, connection) = url.config().connect(tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", url.schema()))
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(())
}
