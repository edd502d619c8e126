//! How fast the Redis store takes exposure batches: the scenario to carry is 100 instances each
//! reporting 10,000 features every 10 s (10 batches/s) to one server. Records 100 batches of
//! 10,000 features one call each, then 100 more ten to a call, then compacts, and prints
//! batches/s and features/s.
//!
//! ```text
//! cargo run --release -p ramp-store-redis --example exposure_ingest [-- redis://127.0.0.1:6379/0]
//! ```
//!
//! Everything is written under a fresh `ramp-bench-…:` prefix, deleted at the end.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ramp_store::exposure::{time_from_seconds, ExposureBatch, ExposureRetention};
use ramp_store::Store;
use ramp_store_redis::RedisStore;

const FEATURES: usize = 10_000;
const BATCHES: usize = 100;
const PER_CALL: usize = 10;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into());
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let prefix = format!("ramp-bench-{}:", stamp.as_nanos());
    let separator = if server.contains('?') { '&' } else { '?' };
    let store = RedisStore::open_url(&format!("{server}{separator}prefix={prefix}")).await?;
    // Cleans up even when measuring fails or panics (a closed stdout panics `println!`).
    let _cleanup = Cleanup { server, prefix };
    measure(&store).await
}

/// Deletes the prefix's keys when dropped.
struct Cleanup {
    server: String,
    prefix: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(error) = clean(&self.server, &self.prefix) {
            eprintln!("could not delete the keys {}*: {error}", self.prefix);
        }
    }
}

/// A batch as one instance reports it: every feature checked, one or two reasons each.
fn batch(id: usize, minute: DateTime<Utc>, names: &[String]) -> ExposureBatch {
    ExposureBatch {
        batch_id: format!("bench:{id}"),
        application: "shop".into(),
        instance: format!("web-{}", id % 100),
        minute,
        received: minute + chrono::Duration::seconds(30),
        counts: names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let mut counts = [0; ramp_core::ReasonKind::ALL.len()];
                counts[index % 7] = 1 + (id + index) as u64 % 50;
                if index % 3 == 0 {
                    counts[(index + 1) % 7] = 7;
                }
                (name.clone(), counts)
            })
            .collect(),
        unnamed: 3,
        dropped: 0,
    }
}

async fn measure(store: &RedisStore) -> Result<(), Box<dyn std::error::Error>> {
    let names: Vec<String> = (0..FEATURES)
        .map(|index| format!("feature-{index:05}"))
        .collect();
    let minute = time_from_seconds(20_000 * 86_400);
    let batches: Vec<ExposureBatch> = (0..2 * BATCHES)
        .map(|id| {
            batch(
                id,
                minute + chrono::Duration::minutes((id / 10) as i64),
                &names,
            )
        })
        .collect();

    let started = Instant::now();
    for batch in &batches[..BATCHES] {
        let counted = store.record_exposures(std::slice::from_ref(batch)).await?;
        assert_eq!(counted, [true]);
    }
    report("one batch per call", started.elapsed());

    let started = Instant::now();
    for call in batches[BATCHES..].chunks(PER_CALL) {
        let counted = store.record_exposures(call).await?;
        assert!(counted.iter().all(|counted| *counted));
    }
    report(&format!("{PER_CALL} batches per call"), started.elapsed());

    let started = Instant::now();
    let counted = store.record_exposures(&batches[..PER_CALL]).await?;
    assert!(counted.iter().all(|counted| !*counted));
    println!(
        "{PER_CALL} retried batches (nothing counted):  {:>8.1} ms",
        ms(started.elapsed())
    );

    let started = Instant::now();
    let activity = store
        .exposure_activity(
            minute,
            minute + chrono::Duration::days(1),
            ramp_store::exposure::Resolution::Hour,
        )
        .await?;
    assert_eq!(activity.len(), FEATURES);
    println!(
        "activity of {FEATURES} features:           {:>8.1} ms",
        ms(started.elapsed())
    );

    let started = Instant::now();
    let compacted = store
        .compact_exposures(
            &ExposureRetention::default(),
            minute + chrono::Duration::days(3),
        )
        .await?;
    println!(
        "compaction ({} minute buckets rolled):  {:>8.1} ms",
        compacted.minutes_rolled,
        ms(started.elapsed())
    );
    Ok(())
}

fn report(what: &str, elapsed: Duration) {
    let per_second = BATCHES as f64 / elapsed.as_secs_f64();
    println!(
        "{BATCHES} batches of {FEATURES} features, {what}: {:>8.1} ms, {per_second:.1} batches/s ({:.0} features/s)",
        ms(elapsed),
        per_second * FEATURES as f64
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn clean(server: &str, prefix: &str) -> redis::RedisResult<()> {
    let server = server.split('?').next().unwrap_or(server);
    let mut connection = redis::Client::open(server)?.get_connection()?;
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut connection, format!("{prefix}*"))?
            .collect::<Result<_, _>>()?;
    for chunk in keys.chunks(1000) {
        redis::cmd("DEL").arg(chunk).query::<()>(&mut connection)?;
    }
    Ok(())
}
