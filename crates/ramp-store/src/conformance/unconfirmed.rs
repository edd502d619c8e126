//! Writes whose answer is lost: a store must say `OutcomeUnknown`, never a plain failure, when
//! its server may have committed. The test puts a [`CuttingProxy`] between a store and its
//! server; once armed, the proxy passes the commit (the client's bytes up to a marker such as
//! Redis's `EXEC` or PostgreSQL's `COMMIT`) to the server, then closes the client's connection,
//! so the server commits and the client never hears of it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ramp_core::{Attribution, Change, FeatureName, Percentage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Store, StoreError};

/// A TCP proxy to one server that cuts the first connection which sends the marker once armed.
#[derive(Debug, Clone)]
pub struct CuttingProxy {
    /// Where stores connect instead of the server.
    pub address: SocketAddr,
    armed: Arc<AtomicBool>,
}

impl CuttingProxy {
    /// Listens on a free loopback port and forwards to `server` until the test ends.
    pub async fn start(server: SocketAddr, marker: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let armed = Arc::new(AtomicBool::new(false));
        let proxy_armed = Arc::clone(&armed);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(server).await else {
                    continue;
                };
                tokio::spawn(forward(client, upstream, marker, Arc::clone(&proxy_armed)));
            }
        });
        Self { address, armed }
    }

    /// The next commit that passes is cut after it reaches the server.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Whether an armed cut has happened.
    pub fn has_cut(&self) -> bool {
        !self.armed.load(Ordering::SeqCst)
    }
}

async fn forward(client: TcpStream, upstream: TcpStream, marker: &[u8], armed: Arc<AtomicBool>) {
    let (mut client_reader, client_writer) = client.into_split();
    let (mut upstream_reader, mut upstream_writer) = upstream.into_split();
    // Taken (and so closed) at the cut; the server's answers after it go nowhere.
    let client_writer = Arc::new(tokio::sync::Mutex::new(Some(client_writer)));
    let answers_to = Arc::clone(&client_writer);
    let answers = tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = match upstream_reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => read,
            };
            if let Some(writer) = answers_to.lock().await.as_mut() {
                if writer.write_all(&buffer[..read]).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut buffer = vec![0u8; 64 * 1024];
    // The end of the previous read, so a marker split across two reads is still seen.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let read = match client_reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let chunk = &buffer[..read];
        tail.extend_from_slice(chunk);
        let seen = tail.windows(marker.len()).any(|window| window == marker);
        if seen
            && armed
                .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            // The client hears nothing more: its connection closes before the commit leaves.
            // The server gets the commit and then only learns that no more requests come (its
            // answers are still read, so it finishes the commit undisturbed).
            drop(client_writer.lock().await.take());
            drop(client_reader);
            let _ = upstream_writer.write_all(chunk).await;
            let _ = upstream_writer.shutdown().await;
            let _ = answers.await;
            return;
        }
        if upstream_writer.write_all(chunk).await.is_err() {
            break;
        }
        let keep = tail.len().saturating_sub(marker.len());
        tail.drain(..keep);
    }
    answers.abort();
}

/// A write whose commit reached the server but whose answer was lost is `OutcomeUnknown`, and
/// it was indeed stored. `through_proxy` reaches the server through `proxy`; `direct` does not.
pub async fn a_lost_commit_answer_is_outcome_unknown(
    through_proxy: Arc<dyn Store>,
    direct: Arc<dyn Store>,
    proxy: &CuttingProxy,
) {
    let name = FeatureName::new("unconfirmed").unwrap();
    let ana = Attribution::new("ana");
    let percentage = |value| Change::SetPercentage {
        percentage: Percentage::new(value).unwrap(),
    };
    through_proxy
        .apply(&name, &percentage(10.0), None, &ana)
        .await
        .unwrap();
    proxy.arm();
    let result = through_proxy
        .apply(&name, &percentage(25.0), None, &ana)
        .await;
    assert!(proxy.has_cut(), "the commit never passed the proxy");
    assert!(
        matches!(result, Err(StoreError::OutcomeUnknown { .. })),
        "a commit the server may have made must not be reported as failed: {result:?}"
    );
    // The server finishes the commit on its own time: wait for it, with a deadline.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stored = direct.feature(&name).await.unwrap().unwrap();
        if stored.percentage == Percentage::new(25.0).unwrap() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the unconfirmed write was not stored: {:?}",
            stored.percentage
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The store recovers: the next write through the proxy is confirmed.
    through_proxy
        .apply(&name, &percentage(30.0), None, &ana)
        .await
        .unwrap();
}
