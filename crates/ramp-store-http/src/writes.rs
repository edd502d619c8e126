//! Feature writes through the server: changes (with `If-Match` when a version is expected),
//! deletes, and finding the history event a change recorded.
//!
//! The server answers a change with the feature, and names the history event it recorded in
//! the `X-Ramp-Event` header (absent when the change changed nothing); `Applied::event` is that
//! event, read back by id, since `revert` and library callers report it.

use ramp_core::{Attribution, Change, Feature, FeatureName, FeatureState, HistoryEvent, UserId};
use ramp_store::{Applied, Store, StoreError};
use reqwest::header::{HeaderValue, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;

use crate::api::Api;
use crate::error::{Failure, Subject};
use crate::HttpStore;

/// A change whose JSON is larger than this goes to the user-list endpoint when it can: the
/// server's JSON body limit (1 MiB by default) would refuse it, the line-per-id one will not.
const LARGE_BODY: usize = 256 * 1024;
/// The server's header naming the event a write recorded.
const EVENT_HEADER: &str = "x-ramp-event";

/// `POST /api/v1/features`: a new feature with its state.
#[derive(Serialize)]
struct NewFeature<'a> {
    name: &'a str,
    #[serde(flatten)]
    state: &'a FeatureState,
}

impl HttpStore {
    pub(crate) async fn apply_change(
        &self,
        name: &FeatureName,
        change: &Change,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        let request = self.change_request(name, change, expected)?;
        let request = with_attribution(request, expected, attribution);
        let response = match self.api.send(request).await {
            Ok(response) => response,
            Err(failure) => return Err(self.write_error(name, failure, expected).await),
        };
        let event_id = response
            .headers()
            .get(EVENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|id| id.parse::<u64>().ok());
        let feature: Feature = Api::json(response).await?;
        let event = match event_id {
            Some(id) => self.history_event(id).await?,
            None => None,
        };
        Ok(Applied { feature, event })
    }

    pub(crate) async fn delete_feature(
        &self,
        name: &FeatureName,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        let mut url = self.api.url(&["features", name.as_str()]);
        // The Store trait's delete deletes: whoever calls it (`ramp delete`) asked people
        // first, so the server's own "code still names it" question is answered yes here.
        url.query_pairs_mut().append_pair("confirm", "true");
        let request = self.api.request(Method::DELETE, url);
        let request = with_attribution(request, expected, attribution);
        match self.api.send(request).await {
            Ok(response) => Api::json(response).await,
            Err(failure) => Err(self.write_error(name, failure, expected).await),
        }
    }

    /// The request that makes `change`: a creation, a user list, or the general change.
    fn change_request(
        &self,
        name: &FeatureName,
        change: &Change,
        expected: Option<u64>,
    ) -> Result<RequestBuilder, StoreError> {
        if let (Change::Replace { state }, Some(0)) = (change, expected) {
            let body = NewFeature {
                name: name.as_str(),
                state,
            };
            return Ok(self
                .api
                .request(Method::POST, self.api.url(&["features"]))
                .json(&body));
        }
        let body = serde_json::to_vec(change).map_err(|error| {
            StoreError::Invalid(ramp_core::CoreError::InvalidChange {
                reason: error.to_string(),
            })
        })?;
        if body.len() > LARGE_BODY {
            if let Some((mode, lines)) = user_lines(change) {
                let mut url = self
                    .api
                    .url(&["features", name.as_str(), "users", "stream"]);
                url.query_pairs_mut().append_pair("mode", mode);
                return Ok(self
                    .api
                    .request(Method::POST, url)
                    .header(CONTENT_TYPE, HeaderValue::from_static("text/plain"))
                    .body(lines));
            }
        }
        Ok(self
            .api
            .request(
                Method::POST,
                self.api.url(&["features", name.as_str(), "changes"]),
            )
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body))
    }

    /// A failed write's error; a version conflict gets the version stored now.
    async fn write_error(
        &self,
        name: &FeatureName,
        failure: Failure,
        expected: Option<u64>,
    ) -> StoreError {
        let stale = matches!(
            failure.status(),
            Some(StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT)
        );
        if !stale {
            return failure.into_store_error(Subject::feature(name.as_str()));
        }
        match self.version_of(name).await {
            Ok(actual) => StoreError::Conflict {
                feature: name.to_string(),
                expected: expected.unwrap_or(0),
                actual,
            },
            Err(error) => error,
        }
    }

    /// The feature's version (0 if it does not exist), from the `ETag` of a `HEAD`, which
    /// leaves out the body: a feature's user list can be megabytes.
    pub(crate) async fn version_of(&self, name: &FeatureName) -> Result<u64, StoreError> {
        let url = self.api.url(&["features", name.as_str()]);
        match self
            .api
            .send(self.api.request(Method::HEAD, url.clone()))
            .await
        {
            Ok(response) => response
                .headers()
                .get(ETAG)
                .and_then(|value| value.to_str().ok())
                .and_then(|tag| tag.trim_start_matches("W/").trim_matches('"').parse().ok())
                .ok_or_else(|| crate::error::unexpected(&url, "no version in the ETag")),
            // A HEAD answer has no body to tell Ramp's 404 from another's; `check` made sure
            // this is a Ramp server.
            Err(failure) if failure.status() == Some(StatusCode::NOT_FOUND) => Ok(0),
            Err(failure) => Err(failure.into_store_error(Subject::feature(name.as_str()))),
        }
    }
}

/// `If-Match` and `X-Ramp-Comment`. The actor is not sent: the server records the token's name.
fn with_attribution(
    mut request: RequestBuilder,
    expected: Option<u64>,
    attribution: &Attribution,
) -> RequestBuilder {
    if let Some(version) = expected {
        request = request.header(IF_MATCH, format!("\"{version}\""));
    }
    if let Some(comment) = attribution.comment.as_deref().and_then(comment_header) {
        request = request.header("X-Ramp-Comment", comment);
    }
    request
}

/// A comment as a header value. Headers carry visible ASCII only (the server ignores any other
/// value), so other characters are written `\u{e9}` rather than losing the whole comment.
pub(crate) fn comment_header(comment: &str) -> Option<HeaderValue> {
    let mut text = String::with_capacity(comment.len());
    for character in comment.chars() {
        match character {
            ' '..='~' => text.push(character),
            character if character.is_control() => text.push(' '),
            character => text.push_str(&format!("\\u{{{:x}}}", u32::from(character))),
        }
    }
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    HeaderValue::from_str(text).ok()
}

/// The user-list endpoint's mode and body for a change it can make, if every id survives it
/// (it reads one id a line and trims each line).
fn user_lines(change: &Change) -> Option<(&'static str, String)> {
    let (mode, users): (&str, &[UserId]) = match change {
        Change::AddUsers { users } => ("add", users),
        Change::SetUsers { users } => ("set", users),
        Change::ExcludeUsers { users } => ("exclude", users),
        _ => return None,
    };
    if users
        .iter()
        .any(|user| user.as_str().trim() != user.as_str())
    {
        return None;
    }
    let mut lines = String::with_capacity(users.iter().map(|user| user.as_str().len() + 1).sum());
    for user in users {
        lines.push_str(user.as_str());
        lines.push('\n');
    }
    Some((mode, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_header_values_without_losing_words() {
        let value =
            |text: &str| comment_header(text).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(
            value("revert of event 12").as_deref(),
            Some("revert of event 12")
        );
        assert_eq!(
            value("déploiement\nrapide").as_deref(),
            Some("d\\u{e9}ploiement rapide")
        );
        assert_eq!(value(" \n "), None);
    }

    #[test]
    fn only_trim_stable_ids_go_through_the_user_list_endpoint() {
        let users = |ids: &[&str]| ids.iter().map(|id| UserId::new(*id).unwrap()).collect();
        let (mode, lines) = user_lines(&Change::SetUsers {
            users: users(&["1", "b"]),
        })
        .unwrap();
        assert_eq!((mode, lines.as_str()), ("set", "1\nb\n"));
        assert!(user_lines(&Change::AddUsers {
            users: users(&[" padded"])
        })
        .is_none());
        assert!(user_lines(&Change::RemoveUsers {
            users: users(&["1"])
        })
        .is_none());
    }
}
