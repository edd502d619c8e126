//! Stored groups through the server: listing them with their versions, and writes with the
//! version expected as `If-Match: "N"` (or `If-None-Match: *` for "must not exist"), which the
//! server hands to its own store, so the check is that store's, atomic across servers. The
//! server records each write in history under the token's name, with the comment sent as
//! `X-Ramp-Comment`, and answers with the event.

use ramp_core::{Attribution, GroupName, HistoryEvent, Rule, StoredGroup, UserId};
use ramp_store::{AppliedGroup, StoreError, VersionedGroup};
use reqwest::header::{HeaderValue, IF_MATCH, IF_NONE_MATCH};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::{Failure, Subject};
use crate::HttpStore;

/// `GET /api/v1/groups`: each group's fields and version, plus some this store does not need.
#[derive(Deserialize)]
struct GroupList {
    groups: Vec<VersionedGroup>,
}

/// `PUT /api/v1/groups/{name}`.
#[derive(Serialize)]
struct GroupBody<'a> {
    description: &'a str,
    members: &'a [UserId],
    rules: &'a [Rule],
}

/// What the server answers a group write with (the version is also its `ETag`), and the
/// event it recorded (none when nothing changed).
#[derive(Deserialize)]
struct Written {
    version: u64,
    #[serde(default)]
    event: Option<HistoryEvent>,
}

fn group_subject(name: &str) -> Subject<'_> {
    Subject {
        kind: "group",
        name,
    }
}

/// Adds the conditional header for `expected` and the comment; the actor is the token's.
fn expecting(
    mut request: RequestBuilder,
    expected: Option<u64>,
    attribution: &Attribution,
) -> RequestBuilder {
    if let Some(comment) = attribution
        .comment
        .as_deref()
        .and_then(crate::writes::comment_header)
    {
        request = request.header("X-Ramp-Comment", comment);
    }
    match expected {
        None => request,
        Some(0) => request.header(IF_NONE_MATCH, HeaderValue::from_static("*")),
        Some(version) => request.header(IF_MATCH, format!("\"{version}\"")),
    }
}

impl HttpStore {
    pub(crate) async fn list_groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        let url = self.api.url(&["groups"]);
        let list: GroupList = self
            .api
            .call(self.api.request(Method::GET, url), group_subject(""))
            .await?;
        Ok(list.groups)
    }

    pub(crate) async fn write_group(
        &self,
        group: &StoredGroup,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        let url = self.api.url(&["groups", group.name.as_str()]);
        let body = GroupBody {
            description: &group.description,
            members: &group.members,
            // As structured rules, not text, so values round-trip exactly.
            rules: &group.rules,
        };
        let request = expecting(
            self.api.request(Method::PUT, url).json(&body),
            expected,
            attribution,
        );
        match self.api.send(request).await {
            Ok(response) => {
                let written: Written = crate::api::Api::json(response).await?;
                Ok(AppliedGroup {
                    version: written.version,
                    event: written.event,
                })
            }
            Err(failure) => Err(self.group_error(&group.name, failure, expected).await),
        }
    }

    pub(crate) async fn remove_group(
        &self,
        name: &GroupName,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        let url = self.api.url(&["groups", name.as_str()]);
        let request = expecting(self.api.request(Method::DELETE, url), expected, attribution);
        match self.api.send(request).await {
            Ok(response) => crate::api::Api::json(response).await,
            Err(failure) => Err(self.group_error(name, failure, expected).await),
        }
    }

    /// A failed group write's error; a refused condition is a `Conflict` with the group's
    /// version now (0 if it is gone).
    async fn group_error(
        &self,
        name: &GroupName,
        failure: Failure,
        expected: Option<u64>,
    ) -> StoreError {
        let stale = matches!(
            failure.status(),
            Some(StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT)
        );
        if !stale {
            return failure.into_store_error(group_subject(name.as_str()));
        }
        match self.list_groups().await {
            Ok(groups) => {
                let actual = groups
                    .iter()
                    .find(|stored| &stored.group.name == name)
                    .map_or(0, |stored| stored.version);
                StoreError::group_conflict(name.as_str(), expected.unwrap_or(0), actual)
            }
            Err(error) => error,
        }
    }
}
