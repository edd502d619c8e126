//! Exposure ingest benchmark: how many batches per second one server stores when many
//! applications report at once.
//!
//! Starts a server in this process over the store at `STORE_URL` with `FEATURES` features,
//! then `CLIENTS` applications each post, `ROUNDS` times, one batch counting every feature
//! (`POST /api/v1/exposures`, about 70 bytes of JSON per feature). All clients of a round post
//! together, as after a shared 10-second tick; a round ends when every answer is in. It prints
//! batches/s over all rounds after the first (which also creates the applications' rows).
//!
//! ```sh
//! cargo run --release -p ramp-server --example exposure_ingest -- sqlite:///tmp/ingest.db 100 10000 5
//! cargo run --release -p ramp-server --example exposure_ingest -- postgres://127.0.0.1/test?schema=ingest 100 10000 5
//! cargo run --release -p ramp-server --example exposure_ingest -- redis://127.0.0.1:6379/?prefix=ingest: 100 10000 5
//! ```
//!
//! The load generator shares the process and the machine with the server: building and
//! sending the JSON is part of the figures. Use an empty store: the features are imported.

use std::sync::Arc;
use std::time::Instant;

use ramp_core::{Attribution, FeatureState, Percentage};
use ramp_server::{Server, ServerConfig};
use ramp_store::ImportedFeature;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [store_url, clients, features, rounds] = arguments.as_slice() else {
        return Err("arguments: STORE_URL CLIENTS FEATURES ROUNDS".into());
    };
    let (clients, features, rounds): (usize, usize, usize) =
        (clients.parse()?, features.parse()?, rounds.parse()?);
    let store = ramp_rollout::open_store(store_url).await?;
    let names: Vec<String> = (0..features)
        .map(|index| format!("feature-{index}"))
        .collect();
    let imported: Vec<ImportedFeature> = names
        .iter()
        .map(|name| {
            Ok(ImportedFeature {
                name: ramp_core::FeatureName::new(name)?,
                state: FeatureState {
                    percentage: Percentage::new(50.0)?,
                    ..FeatureState::default()
                },
            })
        })
        .collect::<Result<_, Error>>()?;
    store
        .import(&imported, &[], &Attribution::new("bench"))
        .await?;
    let config = ServerConfig {
        bind: "127.0.0.1:0".parse()?,
        body_limit: 4 * 1024 * 1024,
        ..ServerConfig::default()
    };
    let server = Server::bind(config, store).await?;
    let base = format!("http://{}", server.local_addr()?);
    let token = server
        .first_admin_token()
        .ok_or("use an empty store: its first admin token is needed")?
        .to_owned();
    tokio::spawn(server.run(std::future::pending()));

    // Every batch's counts are the same; only the ids differ.
    let counts: Vec<String> = names
        .iter()
        .map(|name| {
            format!(r#"{{"feature":"{name}","active":true,"reason":"percentage","count":3}}"#)
        })
        .collect();
    let counts = Arc::new(counts.join(","));
    let http = reqwest::Client::new();
    let mut timed = std::time::Duration::ZERO;
    for round in 0..rounds {
        let started = Instant::now();
        let posts: Vec<_> = (0..clients)
            .map(|client| {
                let now = chrono::Utc::now().to_rfc3339();
                let body = format!(
                    r#"{{"application":"bench","instance":"web-{client}","batch_id":"web-{client}:{round}","from":"{now}","to":"{now}","counts":[{counts}]}}"#
                );
                let request = http
                    .post(format!("{base}/api/v1/exposures"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body);
                tokio::spawn(async move {
                    let response = request.send().await?;
                    if !response.status().is_success() {
                        let status = response.status();
                        let text = response.text().await.unwrap_or_default();
                        return Err::<(), Error>(format!("{status}: {text}").into());
                    }
                    Ok(())
                })
            })
            .collect();
        for post in posts {
            post.await??;
        }
        let elapsed = started.elapsed();
        println!(
            "round {round}: {clients} batches in {:.2} s ({:.1} batches/s)",
            elapsed.as_secs_f64(),
            clients as f64 / elapsed.as_secs_f64()
        );
        if round > 0 {
            timed += elapsed;
        }
    }
    if rounds > 1 {
        let batches = (clients * (rounds - 1)) as f64;
        println!(
            "{store_url}: {:.1} batches/s of {features} features ({} rounds of {clients} after the first)",
            batches / timed.as_secs_f64(),
            rounds - 1
        );
    }
    Ok(())
}
