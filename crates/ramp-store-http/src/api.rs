//! The HTTP plumbing every operation shares: URLs built from path segments (so feature and group
//! names are percent-encoded), the bearer token, timeouts, and turning an answer into a value
//! or a [`Failure`].

use std::time::Duration;

use ramp_store::StoreError;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{unexpected, unreachable, Failure, BACKEND};

/// How long one request may take. Generous: an import or a million-user list is one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's address and the token to present; cheap to clone (the client is shared).
#[derive(Clone)]
pub(crate) struct Api {
    base: Url,
    authorization: HeaderValue,
    client: reqwest::Client,
}

impl Api {
    /// Checks the URL and token; does no I/O.
    pub fn new(base_url: &str, token: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::invalid_url(base_url, reason);
        const EXPECTED: &str = "expected a server address such as http://127.0.0.1:4242";
        let mut base =
            Url::parse(base_url).map_err(|error| invalid(&format!("{error}; {EXPECTED}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid(EXPECTED));
        }
        base.set_query(None);
        base.set_fragment(None);
        let token = token.trim();
        if token.is_empty() {
            return Err(invalid("no token was given for the server"));
        }
        // The token itself is never quoted in a message.
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| invalid("the token holds characters an HTTP header cannot carry"))?;
        authorization.set_sensitive(true);
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| StoreError::Unavailable {
                backend: BACKEND,
                source: Box::new(error),
            })?;
        Ok(Self {
            base,
            authorization,
            client,
        })
    }

    /// The server's address as given.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `BASE/api/v1/SEGMENT/...`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    /// A request with the token and the usual timeout.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.streaming_request(method, url).timeout(REQUEST_TIMEOUT)
    }

    /// A request with the token and no overall timeout (the event stream never ends).
    pub fn streaming_request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client
            .request(method, url)
            .header(AUTHORIZATION, self.authorization.clone())
    }

    /// Sends a request: the response when it succeeded (2xx), else why not.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, Failure> {
        let request = request
            .build()
            .map_err(|error| unreachable(&self.base, &error))?;
        let url = request.url().clone();
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|error| unreachable(&url, &error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // An error body that cannot be read still has its status.
        let body = response.bytes().await.unwrap_or_default();
        Err(Failure::answer(status, &body))
    }

    /// Reads a successful response's JSON body.
    pub async fn json<T: DeserializeOwned>(response: Response) -> Result<T, StoreError> {
        let url = response.url().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| unreachable(&url, &error).into_store_error(Self::no_subject()))?;
        serde_json::from_slice(&body).map_err(|error| unexpected(&url, error))
    }

    /// Sends a request and reads its JSON answer; failures are about `subject`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        subject: crate::error::Subject<'_>,
    ) -> Result<T, StoreError> {
        let response = self
            .send(request)
            .await
            .map_err(|failure| failure.into_store_error(subject))?;
        Self::json(response).await
    }

    fn no_subject() -> crate::error::Subject<'static> {
        crate::error::Subject {
            kind: "server",
            name: "",
        }
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        formatter
            .debug_struct("Api")
            .field("base", &self.base.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_as_one_segment_under_any_prefix() {
        let api = Api::new("http://127.0.0.1:4242", "t").unwrap();
        assert_eq!(
            api.url(&["features", "a b/c?d#e", "changes"]).as_str(),
            "http://127.0.0.1:4242/api/v1/features/a%20b%2Fc%3Fd%23e/changes"
        );
        let proxied = Api::new("https://example.com/ramp/?x=1", "t").unwrap();
        assert_eq!(
            proxied.url(&["groups"]).as_str(),
            "https://example.com/ramp/api/v1/groups"
        );
    }

    #[test]
    fn bad_addresses_and_tokens_are_refused_without_quoting_the_token() {
        for url in ["127.0.0.1:4242", "sqlite://ramp.db", "not a url"] {
            assert!(
                matches!(Api::new(url, "t"), Err(StoreError::InvalidUrl { .. })),
                "{url}"
            );
        }
        assert!(Api::new("http://h", " ").is_err());
        let error = Api::new("http://h", "secret\nvalue")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
    }
}
