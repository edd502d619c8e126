//! Health through a server, for `ramp cleanup` and `ramp features` with `--server`: health
//! needs the exposure analytics, which a store opened over HTTP does not read (see
//! `exposures_refused`), so the server computes it: `GET /api/v1/cleanup` and
//! `GET /api/v1/features?with=stage_since,health`. The answers are returned as JSON for the
//! caller to read; this crate does not know the server's types.

use reqwest::Method;
use serde_json::Value;

use crate::error::Subject;
use crate::HttpStore;

impl HttpStore {
    /// The server's Cleanup report, only the features in `state` if given.
    pub async fn cleanup(&self, state: Option<&str>) -> Result<Value, ramp_store::StoreError> {
        let mut url = self.api.url(&["cleanup"]);
        if let Some(state) = state {
            url.query_pairs_mut().append_pair("state", state);
        }
        self.api
            .call(self.api.request(Method::GET, url), server())
            .await
    }

    /// The server's feature list with each feature's stage time and health.
    pub async fn features_with_health(&self) -> Result<Value, ramp_store::StoreError> {
        let mut url = self.api.url(&["features"]);
        url.query_pairs_mut()
            .append_pair("with", "stage_since,health");
        self.api
            .call(self.api.request(Method::GET, url), server())
            .await
    }
}

fn server() -> Subject<'static> {
    Subject {
        kind: "server",
        name: "",
    }
}
