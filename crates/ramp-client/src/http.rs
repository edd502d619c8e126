//! The server's SDK endpoints, as the client calls them: the snapshot (with its version as
//! ETag), the event stream, the report of code-group names and the counts of checks.
//!
//! Two HTTP clients: one with a whole-request timeout for snapshots and reports, and one for
//! the stream, which must stay open indefinitely; its follower (`ramp_stream::Follower`) takes a
//! connection silent for `stream_idle_timeout` (no heartbeat) for a broken one instead.

use std::time::Duration;

use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use serde::Serialize;

use ramp_core::Snapshot;
use ramp_stream::Follower;

use crate::{ClientError, ExposureBatch, RefreshPolicy};

/// What a snapshot request brought.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// The server has exactly the version we sent in `If-None-Match`.
    NotModified,
    /// A snapshot (a different version).
    Snapshot(Snapshot),
}

/// A connection to one server with one token.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    base: String,
    token: String,
    requests: reqwest::Client,
    streams: reqwest::Client,
}

impl Http {
    pub fn new(url: &str, token: &str, policy: &RefreshPolicy) -> Result<Self, ClientError> {
        let parsed = reqwest::Url::parse(url).map_err(|error| ClientError::InvalidUrl {
            url: url.to_owned(),
            reason: error.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl {
                url: url.to_owned(),
                reason: "expected http:// or https://".into(),
            });
        }
        let build_error = |source| ClientError::Http {
            url: url.to_owned(),
            source,
        };
        let requests = reqwest::Client::builder()
            .timeout(policy.request_timeout)
            .connect_timeout(policy.request_timeout)
            .build()
            .map_err(build_error)?;
        let streams = reqwest::Client::builder()
            .connect_timeout(policy.request_timeout)
            .build()
            .map_err(build_error)?;
        Ok(Self {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            requests,
            streams,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The snapshot, or `NotModified` when the server is at `have`.
    pub async fn snapshot(&self, have: Option<u64>) -> Result<Fetched, ClientError> {
        let url = self.url("/api/v1/snapshot");
        let mut request = self.requests.get(&url).bearer_auth(&self.token);
        if let Some(version) = have {
            request = request.header(IF_NONE_MATCH, format!("\"{version}\""));
        }
        let response = send(request, &url).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let response = expect_success(response, &url)?;
        let body = response
            .bytes()
            .await
            .map_err(|source| http_error(&url, source))?;
        serde_json::from_slice(&body)
            .map(Fetched::Snapshot)
            .map_err(|source| ClientError::Decode { url, source })
    }

    /// The server's snapshot version, from the `ETag` of a `HEAD` (no body is sent).
    pub async fn version(&self) -> Result<u64, ClientError> {
        let url = self.url("/api/v1/snapshot");
        let response = send(self.requests.head(&url).bearer_auth(&self.token), &url).await?;
        let response = expect_success(response, &url)?;
        response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_etag)
            .ok_or(ClientError::StreamEnded {
                url,
                reason: "the snapshot has no version ETag".into(),
            })
    }

    /// A follower of the event stream (not connected yet).
    pub fn follower(&self, idle_timeout: Duration) -> Follower {
        let streams = self.streams.clone();
        let url = self.url("/api/v1/stream");
        let token = self.token.clone();
        Follower::new(move || streams.get(&url).bearer_auth(&token), idle_timeout)
    }

    /// Tells the server the names of the application's code groups (for the web UI).
    pub async fn report_code_groups(&self, names: Vec<String>) -> Result<(), ClientError> {
        #[derive(Serialize)]
        struct Names {
            names: Vec<String>,
        }
        let url = self.url("/api/v1/code-groups");
        let request = self
            .requests
            .post(&url)
            .bearer_auth(&self.token)
            .json(&Names { names });
        expect_success(send(request, &url).await?, &url).map(|_| ())
    }

    /// `BASE/api/v1/SEGMENT/...`, each segment percent-encoded (names may hold `/` or spaces).
    pub fn api_url(&self, segments: &[&str]) -> Result<reqwest::Url, ClientError> {
        let mut url = reqwest::Url::parse(&self.base).map_err(|error| ClientError::InvalidUrl {
            url: self.base.clone(),
            reason: error.to_string(),
        })?;
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        Ok(url)
    }

    /// PUTs `body` as JSON, within the request timeout; a refusal carries the server's words
    /// (which field of a report broke which bound).
    pub async fn put_json<T: Serialize>(
        &self,
        url: reqwest::Url,
        body: &T,
    ) -> Result<(), ClientError> {
        let text = url.to_string();
        let request = self.requests.put(url).bearer_auth(&self.token).json(body);
        let response = send(request, &text).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // At most a few KiB are read: an error body is one sentence.
        let body = response.bytes().await.unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| value["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(500).collect());
        Err(ClientError::Refused {
            url: text,
            status: status.as_u16(),
            message,
        })
    }

    /// Sends counts of checks (`POST /api/v1/exposures`).
    pub async fn post_exposures(&self, batch: &ExposureBatch) -> Result<(), ClientError> {
        let url = self.url("/api/v1/exposures");
        let request = self
            .requests
            .post(&url)
            .bearer_auth(&self.token)
            .json(batch);
        expect_success(send(request, &url).await?, &url).map(|_| ())
    }
}

async fn send(
    request: reqwest::RequestBuilder,
    url: &str,
) -> Result<reqwest::Response, ClientError> {
    request
        .send()
        .await
        .map_err(|source| http_error(url, source))
}

fn expect_success(
    response: reqwest::Response,
    url: &str,
) -> Result<reqwest::Response, ClientError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(ClientError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
        })
    }
}

/// `Retry-After` in seconds (the form Ramp's server sends; an HTTP date is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

pub(crate) fn http_error(url: &str, source: reqwest::Error) -> ClientError {
    ClientError::Http {
        url: url.to_owned(),
        source,
    }
}

/// `"12"` (or `W/"12"`) -> 12.
fn parse_etag(value: &str) -> Option<u64> {
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_versions() {
        assert_eq!(parse_etag("\"12\""), Some(12));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("\"x\""), None);
    }

    #[test]
    fn only_http_urls_are_accepted() {
        let policy = RefreshPolicy::default();
        assert!(Http::new("http://127.0.0.1:4242/", "t", &policy).is_ok());
        assert!(matches!(
            Http::new("sqlite://ramp.db", "t", &policy),
            Err(ClientError::InvalidUrl { .. })
        ));
        assert!(matches!(
            Http::new("not a url", "t", &policy),
            Err(ClientError::InvalidUrl { .. })
        ));
        let http = Http::new("http://127.0.0.1:4242/", "t", &policy).unwrap();
        assert_eq!(http.url("/x"), "http://127.0.0.1:4242/x");
    }
}
