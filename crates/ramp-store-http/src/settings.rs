//! The lifecycle settings through the server: `GET /api/v1/settings/lifecycle` and `PUT` with
//! the version expected as `If-Match: "N"`, which the server hands to its own store (atomic
//! there). The server records the change under the token's name with the comment sent as
//! `X-Ramp-Comment`, and answers with the version and the event.

use ramp_core::{Attribution, HistoryEvent, LifecycleSettings};
use ramp_store::{AppliedSettings, StoreError, VersionedSettings};
use reqwest::header::IF_MATCH;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::error::Subject;
use crate::HttpStore;

/// What the server answers a write with.
#[derive(Deserialize)]
struct Written {
    version: u64,
    #[serde(default)]
    event: Option<HistoryEvent>,
}

fn settings_subject() -> Subject<'static> {
    Subject {
        kind: "settings",
        name: "lifecycle",
    }
}

impl HttpStore {
    pub(crate) async fn read_lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        let url = self.api.url(&["settings", "lifecycle"]);
        self.api
            .call(self.api.request(Method::GET, url), settings_subject())
            .await
    }

    pub(crate) async fn write_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        let url = self.api.url(&["settings", "lifecycle"]);
        let mut request = self.api.request(Method::PUT, url).json(settings);
        if let Some(comment) = attribution
            .comment
            .as_deref()
            .and_then(crate::writes::comment_header)
        {
            request = request.header("X-Ramp-Comment", comment);
        }
        if let Some(version) = expected {
            request = request.header(IF_MATCH, format!("\"{version}\""));
        }
        match self.api.send(request).await {
            Ok(response) => {
                let written: Written = crate::api::Api::json(response).await?;
                Ok(AppliedSettings {
                    version: written.version,
                    event: written.event,
                })
            }
            Err(failure) if failure.status() == Some(StatusCode::PRECONDITION_FAILED) => {
                match self.read_lifecycle_settings().await {
                    Ok(now) => Err(StoreError::settings_conflict(
                        expected.unwrap_or(0),
                        now.version,
                    )),
                    Err(error) => Err(error),
                }
            }
            Err(failure) => Err(failure.into_store_error(settings_subject())),
        }
    }
}
