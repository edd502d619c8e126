//! Code references through a server: an upload is `PUT /api/v1/code-references/{repository}`
//! (the server stamps the scan with its own clock, so the scan's `scanned_at` is not sent), a
//! feature's references are `GET /api/v1/features/{name}/references`, every feature's count
//! `GET /api/v1/code-references`.

use ramp_core::{CodeReference, CodeScan, FeatureReference};
use ramp_store::StoreError;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::Subject;
use crate::HttpStore;

/// The upload's body.
#[derive(Serialize)]
struct Upload<'a> {
    commit: &'a str,
    references: &'a [CodeReference],
}

/// The server's list of a feature's references.
#[derive(Deserialize)]
struct FeatureReferences {
    references: Vec<FeatureReference>,
}

impl HttpStore {
    pub(crate) async fn upload_code_references(&self, scan: &CodeScan) -> Result<(), StoreError> {
        // Checked here too, so an upload over a bound fails with the field named before any
        // bytes are sent.
        scan.validate()?;
        let url = self.api.url(&["code-references", scan.repository.as_str()]);
        let body = Upload {
            commit: &scan.commit,
            references: &scan.references,
        };
        self.api
            .send(self.api.request(Method::PUT, url).json(&body))
            .await
            .map_err(|failure| {
                failure.into_store_error(Subject {
                    kind: "repository",
                    name: &scan.repository,
                })
            })?;
        Ok(())
    }

    pub(crate) async fn code_reference_counts(
        &self,
    ) -> Result<ramp_store::CodeReferenceSummary, StoreError> {
        let url = self.api.url(&["code-references"]);
        self.api
            .call(
                self.api.request(Method::GET, url),
                Subject {
                    kind: "server",
                    name: "",
                },
            )
            .await
    }

    pub(crate) async fn feature_code_references(
        &self,
        feature: &str,
    ) -> Result<Vec<FeatureReference>, StoreError> {
        let url = self.api.url(&["features", feature, "references"]);
        let list: FeatureReferences = self
            .api
            .call(
                self.api.request(Method::GET, url),
                Subject::feature(feature),
            )
            .await?;
        Ok(list.references)
    }
}
