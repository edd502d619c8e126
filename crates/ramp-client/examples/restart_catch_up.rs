//! How quickly clients catch up after their server restarts, and what their retries cost it.
//!
//! Starts a real server (the server library on a loopback port, in-memory store), connects
//! `CLIENTS` clients with the default `RefreshPolicy`, then `RESTARTS` times: stops the server
//! (every stream ends), waits until every client has noticed, waits `OUTAGE_MS`, starts it again
//! on the same port over the same store, and notes for each client how long after the server
//! was listening again its stream was open again (`sync_status().connected`, polled every
//! millisecond). It prints percentiles of those catch-up times over all restarts, the attempts
//! the waiting clients made per second while nothing listened (their own failure counts), and
//! the busiest 100 ms of returning clients.
//!
//! Then it measures what waiting clients cost a server that answers but fails: the server is
//! stopped and a stub on the same port answers every request with 503 and `Retry-After: 1`
//! (as Ramp's server answers every 503), counting them, for
//! `STUB_SECONDS`; the requests it saw per second are printed.
//!
//! ```sh
//! cargo run --release -p ramp-client --example restart_catch_up -- 1000 20 3000 30
//! cargo run --release -p ramp-client --example restart_catch_up -- 1000 20 3000 30 slow
//! ```
//! `slow` switches the quick retries off (`quick_retry_for` zero): the behaviour before them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_client::{Client, RefreshPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../tests/common/mod.rs"]
mod common;

use common::TestServer;

fn argument(position: usize, default: u64) -> u64 {
    std::env::args()
        .nth(position)
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn failed_attempts(clients: &[Client]) -> u64 {
    clients
        .iter()
        .map(|client| client.sync_status().failed_attempts)
        .sum()
}

/// Waits until `condition` holds for every client, at most `seconds`.
async fn all(clients: &[Client], seconds: u64, condition: impl Fn(&Client) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !clients.iter().all(&condition) {
        assert!(Instant::now() < deadline, "clients did not settle");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let clients_wanted = argument(1, 1_000) as usize;
    let restarts = argument(2, 20);
    let outage = Duration::from_millis(argument(3, 3_000));
    let stub_seconds = argument(4, 30);
    let mut policy = RefreshPolicy::default();
    if std::env::args().nth(5).as_deref() == Some("slow") {
        let quick_retry_max = policy.quick_retry_max;
        policy = policy.with_quick_retry(quick_retry_max, Duration::ZERO);
    }

    let mut server = TestServer::memory().await;
    let (address, store, admin) = (
        server.address,
        server.store.clone(),
        server.admin_token.clone(),
    );
    server.set_percentage("catch-up", 10.0).await;
    let token = server.reader_token("catch-up").await;
    let mut clients = Vec::with_capacity(clients_wanted);
    for _ in 0..clients_wanted {
        let client = Client::builder(server.base.clone(), token.clone())
            .count_checks(false)
            .refresh_policy(policy.clone())
            .connect()
            .await
            .expect("client");
        clients.push(client);
    }
    all(&clients, 60, |client| client.sync_status().connected).await;
    println!(
        "{clients_wanted} clients, {restarts} restarts, outage {} ms",
        outage.as_millis()
    );

    let mut catch_up = Vec::new();
    let mut busiest_tenth = 0usize;
    let mut attempts_per_second = Vec::new();
    for _ in 0..restarts {
        server.stop().await;
        all(&clients, 60, |client| !client.sync_status().connected).await;
        let before = failed_attempts(&clients);
        let waited = Instant::now();
        tokio::time::sleep(outage).await;
        attempts_per_second
            .push((failed_attempts(&clients) - before) as f64 / waited.elapsed().as_secs_f64());
        server = TestServer::restart(address, store.clone(), admin.clone()).await;
        let back = Instant::now();
        let mut pending: Vec<usize> = (0..clients.len()).collect();
        let mut per_tenth = vec![0usize; 600];
        while !pending.is_empty() {
            assert!(
                back.elapsed() < Duration::from_secs(60),
                "clients did not return"
            );
            pending.retain(|&index| {
                if !clients[index].sync_status().connected {
                    return true;
                }
                let elapsed = back.elapsed();
                catch_up.push(elapsed);
                per_tenth[(elapsed.as_millis() / 100).min(599) as usize] += 1;
                false
            });
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        busiest_tenth = busiest_tenth.max(per_tenth.into_iter().max().unwrap_or(0));
    }
    catch_up.sort();
    println!(
        "catch-up after the server is back: p50 {:?}, p90 {:?}, p99 {:?}, max {:?} ({} samples)",
        percentile(&catch_up, 0.5),
        percentile(&catch_up, 0.9),
        percentile(&catch_up, 0.99),
        catch_up.last().expect("samples"),
        catch_up.len()
    );
    attempts_per_second.sort_by(f64::total_cmp);
    println!(
        "attempts per second while nothing listened: median {:.0}, max {:.0} ({clients_wanted} clients)",
        attempts_per_second[attempts_per_second.len() / 2],
        attempts_per_second.last().expect("restarts"),
    );
    println!("busiest 100 ms of returning clients: {busiest_tenth} clients");

    server.stop().await;
    all(&clients, 60, |client| !client.sync_status().connected).await;
    let requests = Arc::new(AtomicU64::new(0));
    let listener = tokio::net::TcpListener::bind(address).await.expect("stub");
    let counted = requests.clone();
    let stub = tokio::spawn(async move {
        loop {
            let Ok((mut connection, _)) = listener.accept().await else {
                continue;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let mut read = 0;
                // One request head, then 503 and close.
                while !buffer[..read]
                    .windows(4)
                    .any(|window| window == b"\r\n\r\n")
                {
                    match connection.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(count) => read += count,
                    }
                    if read == buffer.len() {
                        return;
                    }
                }
                counted.fetch_add(1, Ordering::Relaxed);
                let _ = connection
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    let mut previous = 0;
    let mut line = Vec::new();
    for _ in 0..stub_seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = requests.load(Ordering::Relaxed);
        line.push((now - previous).to_string());
        previous = now;
    }
    println!(
        "requests per second a failing (503) server saw from {clients_wanted} waiting clients: {}",
        line.join(" ")
    );
    stub.abort();
    for client in &clients {
        client.close().await;
    }
}
