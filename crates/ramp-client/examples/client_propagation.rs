//! Propagation: how long after an API write a client sees the change, over 100 changes.
//!
//! It starts nothing itself: run a server by hand, then point this at it with the admin token
//! the server printed. It creates a reader token, connects a `Client` (which follows
//! `/api/v1/stream`), then 100 times sets the percentage of the feature `propagation-probe`
//! (a new value each time) and waits for the client's `on_change` callback naming it.
//! Reported: from sending the write to the client seeing it ("write -> seen") and from the
//! write's acknowledgement to the client seeing it ("ack -> seen"; 0 when the change reached
//! the client before the HTTP answer reached the writer).
//!
//! ```sh
//! cargo build --release -p ramp-cli -p ramp-client --example client_propagation
//! target/release/ramp --store sqlite:///tmp/p.db serve --bind 127.0.0.1:4344   # prints a token
//! target/release/examples/client_propagation http://127.0.0.1:4344 ADMIN_TOKEN
//! ```

use std::time::{Duration, Instant};

use ramp_client::Client;
use tokio::sync::mpsc;

const CHANGES: usize = 100;
const PROBE: &str = "propagation-probe";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().collect();
    let (Some(base), Some(admin)) = (arguments.get(1), arguments.get(2)) else {
        eprintln!("usage: client_propagation SERVER_URL ADMIN_TOKEN");
        std::process::exit(2);
    };
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::new();
    let name = format!("propagation-{}", std::process::id());
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(admin)
        .json(&serde_json::json!({ "name": name, "role": "reader" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let reader = token["token"].as_str().ok_or("no token in the answer")?;

    let client = Client::connect(base, reader).await?;
    println!(
        "client: source {:?}, version {}",
        client.source(),
        client.version()
    );
    let (seen, mut changes) = mpsc::unbounded_channel::<Instant>();
    client.on_change(move |change| {
        if change.features.iter().any(|feature| feature == PROBE) {
            let _ = seen.send(Instant::now());
        }
    });

    let url = format!("{base}/api/v1/features/{PROBE}/percentage");
    let mut write_to_seen = Vec::with_capacity(CHANGES);
    let mut ack_to_seen = Vec::with_capacity(CHANGES);
    for index in 0..CHANGES {
        while changes.try_recv().is_ok() {}
        // A value different from the last, so every write is a change.
        let percentage = (index % 50) as f64 + 1.0 + if index % 2 == 0 { 0.5 } else { 0.0 };
        let sent = Instant::now();
        http.put(&url)
            .bearer_auth(admin)
            .json(&serde_json::json!({ "percentage": percentage }))
            .send()
            .await?
            .error_for_status()?;
        let acknowledged = Instant::now();
        let arrived = tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await?
            .ok_or("the client stopped")?;
        write_to_seen.push(arrived.duration_since(sent));
        ack_to_seen.push(arrived.saturating_duration_since(acknowledged));
        // Apart, so each change is measured alone rather than queued behind the last.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report("write -> seen", &mut write_to_seen);
    report("ack -> seen", &mut ack_to_seen);
    client.close().await;
    Ok(())
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |quantile: f64| {
        let index = ((samples.len() as f64 * quantile).ceil() as usize).clamp(1, samples.len());
        samples[index - 1].as_secs_f64() * 1000.0
    };
    println!(
        "{label}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}
