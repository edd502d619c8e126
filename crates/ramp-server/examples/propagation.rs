//! Propagation benchmark: how long a change takes to reach SDKs on `/api/v1/stream`.
//!
//! Connects `SUBSCRIBERS` Server-Sent Events subscribers to a running server, waits until
//! each has its first `reload` event, then `CHANGES` times: notes `t0`, sets the percentage of
//! the feature `prop` (alternating 10 and 20 %), notes `t_ack` when the answer arrives, and
//! waits until every subscriber has received the `changed` event carrying that version of
//! `prop` (each subscriber notes the moment the chunk holding it arrived), then pauses 20 ms so
//! that changes do not overlap. It prints percentiles of `receive - t_ack` and `receive - t0`
//! over every subscriber × change sample.
//!
//! ```sh
//! cargo run --release -p ramp-server --example propagation -- \
//!     http://127.0.0.1:4343 "$RAMP_TOKEN" 1000 100
//! ```
//!
//! Each subscriber holds one connection, so the process needs `SUBSCRIBERS` + a few file
//! descriptors (`ulimit -n`), and so does the server. Client and server share the machine: the
//! client's work to read 1,000 copies of each event is part of the figures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::{watch, Notify, Semaphore};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The feature changed by the benchmark.
const FEATURE: &str = "prop";

/// How many subscribers connect at once (the server's accept backlog is finite).
const CONNECTING: usize = 64;

/// A `changed` event, reduced to what is measured.
#[derive(Deserialize)]
struct Changed {
    features: Vec<FeatureVersion>,
}

#[derive(Deserialize)]
struct FeatureVersion {
    name: String,
    version: u64,
}

/// What every subscriber shares with the driver.
struct Shared {
    /// Subscribers that got their first `reload`.
    ready: AtomicUsize,
    /// `changed` events for `prop` received, over all subscribers.
    received: AtomicUsize,
    /// Woken at each of the above.
    progress: Notify,
}

/// One subscriber: (version of `prop`, when it arrived) for each `changed` event, until `stop`.
async fn subscribe(
    client: reqwest::Client,
    url: String,
    token: String,
    shared: Arc<Shared>,
    connecting: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Result<Vec<(u64, Instant)>, Error> {
    let permit = connecting.acquire_owned().await?;
    let response = client.get(url).bearer_auth(token).send().await?;
    if !response.status().is_success() {
        return Err(format!("stream answered {}", response.status()).into());
    }
    let mut stream = response.bytes_stream();
    let mut permit = Some(permit);
    let mut buffer = String::new();
    let mut samples = Vec::new();
    loop {
        let chunk = tokio::select! {
            _ = stop.changed() => return Ok(samples),
            chunk = stream.next() => chunk,
        };
        let Some(chunk) = chunk else {
            return Err("the stream ended".into());
        };
        let arrived = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk?));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim();
                } else if let Some(text) = line.strip_prefix("data:") {
                    data.push_str(text.trim_start());
                }
            }
            match event {
                "reload" if permit.take().is_some() => {
                    shared.ready.fetch_add(1, Ordering::SeqCst);
                    shared.progress.notify_waiters();
                }
                "changed" => {
                    let changed: Changed = serde_json::from_str(&data)?;
                    for feature in changed.features.iter().filter(|f| f.name == FEATURE) {
                        samples.push((feature.version, arrived));
                        shared.received.fetch_add(1, Ordering::SeqCst);
                        shared.progress.notify_waiters();
                    }
                }
                _ => {}
            }
        }
    }
}

/// Waits until `counter` reaches `target`, or `limit` passes; whether it did.
async fn wait_for(shared: &Shared, counter: &AtomicUsize, target: usize, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = shared.progress.notified();
        if counter.load(Ordering::SeqCst) >= target {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return counter.load(Ordering::SeqCst) >= target;
        }
    }
}

/// Sets `prop`'s percentage; the new version of `prop`.
async fn set_percentage(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    percentage: u32,
) -> Result<u64, Error> {
    let response = client
        .put(format!("{base}/api/v1/features/{FEATURE}/percentage"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "percentage": percentage }))
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("setting the percentage answered {}", response.status()).into());
    }
    let feature: FeatureVersion = response.json().await?;
    Ok(feature.version)
}

/// The `q` quantile (0 to 1) of sorted milliseconds.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(label: &str, mut millis: Vec<f64>) {
    if millis.is_empty() {
        println!("{label}: no samples");
        return;
    }
    millis.sort_by(f64::total_cmp);
    println!(
        "{label}: n={} min={:.2} p50={:.2} p90={:.2} p99={:.2} max={:.2} ms",
        millis.len(),
        millis[0],
        quantile(&millis, 0.5),
        quantile(&millis, 0.9),
        quantile(&millis, 0.99),
        millis[millis.len() - 1],
    );
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, rest @ ..] = arguments.as_slice() else {
        return Err("usage: propagation BASE_URL TOKEN [SUBSCRIBERS=1000] [CHANGES=100]".into());
    };
    let base = base.trim_end_matches('/').to_owned();
    let subscribers: usize = rest.first().map_or(Ok(1000), |text| text.parse())?;
    let changes: usize = rest.get(1).map_or(Ok(100), |text| text.parse())?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(subscribers + 16)
        .build()?;

    // `prop` exists, at a percentage the first change moves away from.
    set_percentage(&client, &base, token, 0).await?;
    // Let the server's live snapshot take that in, so subscribers start after it.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let shared = Arc::new(Shared {
        ready: AtomicUsize::new(0),
        received: AtomicUsize::new(0),
        progress: Notify::new(),
    });
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let tasks: Vec<_> = (0..subscribers)
        .map(|_| {
            tokio::spawn(subscribe(
                client.clone(),
                format!("{base}/api/v1/stream"),
                token.clone(),
                shared.clone(),
                connecting.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    if !wait_for(&shared, &shared.ready, subscribers, Duration::from_secs(60)).await {
        return Err(format!(
            "only {} of {subscribers} subscribers connected in 60 s",
            shared.ready.load(Ordering::SeqCst)
        )
        .into());
    }
    println!(
        "{subscribers} subscribers connected in {:.2?}",
        started.elapsed()
    );

    // Feature version -> (t0, t_ack).
    let mut sent = Vec::with_capacity(changes);
    let mut late = 0;
    for change in 0..changes {
        let percentage = if change % 2 == 0 { 10 } else { 20 };
        let t0 = Instant::now();
        let version = set_percentage(&client, &base, token, percentage).await?;
        let t_ack = Instant::now();
        sent.push((version, t0, t_ack));
        let target = subscribers * (change + 1);
        if !wait_for(&shared, &shared.received, target, Duration::from_secs(5)).await {
            late += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);

    let (mut after_ack, mut after_t0, mut missing) = (Vec::new(), Vec::new(), 0);
    for task in tasks {
        let samples = task.await??;
        for &(version, t0, t_ack) in &sent {
            let Some(&(_, arrived)) = samples.iter().find(|(seen, _)| *seen == version) else {
                missing += 1;
                continue;
            };
            let signed = |from: Instant| match arrived.checked_duration_since(from) {
                Some(after) => after.as_secs_f64() * 1e3,
                None => -(from.duration_since(arrived).as_secs_f64() * 1e3),
            };
            after_ack.push(signed(t_ack));
            after_t0.push(signed(t0));
        }
    }
    let acks: Vec<f64> = sent
        .iter()
        .map(|(_, t0, t_ack)| t_ack.duration_since(*t0).as_secs_f64() * 1e3)
        .collect();
    println!("{subscribers} subscribers x {changes} changes; missing samples: {missing}; changes not everywhere within 5 s: {late}");
    report("receive - t_ack", after_ack);
    report("receive - t0   ", after_t0);
    report("write (t_ack - t0)", acks);
    Ok(())
}
