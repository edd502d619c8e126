//! `HttpStore::move_stage`: a stage move through the server's `PUT /features/{name}/stage`,
//! the one route that takes a stage move's own reasons: `reason` (graduating a feature below
//! 100 % or with exclusions) and `override_reason` (moving into a stage at its WIP limit).
//! `Store::apply` has no place for an override, so the command line moves stages with this
//! when it acts through a server; the server checks both rules and records the reasons in
//! history, as it does for the web UI.

use ramp_core::{CoreError, Feature, FeatureName, Stage};
use ramp_store::StoreError;
use reqwest::{Method, StatusCode};
use serde::Serialize;

use crate::api::Api;
use crate::error::{Failure, Subject};
use crate::HttpStore;

/// The route's body.
#[derive(Serialize)]
struct StageMove<'a> {
    stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    override_reason: Option<&'a str>,
}

impl HttpStore {
    /// Moves `name` to `stage`, creating it if it does not exist (as every write does). A
    /// refusal by the server's lifecycle rules (a full stage, a graduation without 100 %) is
    /// `Invalid` with the server's words, which say what to add.
    pub async fn move_stage(
        &self,
        name: &FeatureName,
        stage: Stage,
        reason: Option<&str>,
        override_reason: Option<&str>,
    ) -> Result<Feature, StoreError> {
        let url = self.api.url(&["features", name.as_str(), "stage"]);
        let request = self.api.request(Method::PUT, url).json(&StageMove {
            stage,
            reason,
            override_reason,
        });
        match self.api.send(request).await {
            Ok(response) => Api::json(response).await,
            // 409 here is `wip_limit_reached` (no `If-Match` is sent, so never a version).
            Err(Failure::Answer {
                status: StatusCode::CONFLICT,
                message,
                ..
            }) => Err(StoreError::Invalid(CoreError::InvalidChange {
                reason: message,
            })),
            Err(failure) => Err(failure.into_store_error(Subject::feature(name.as_str()))),
        }
    }
}
