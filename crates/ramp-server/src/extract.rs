//! Request extractors with Ramp's error answers: JSON bodies whose errors say where the JSON
//! broke, `If-Match` versions, and the attribution (actor, comment) of a change.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use ramp_core::Attribution;
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::body_deadline::{timed, BodyTimeouts};
use crate::error::ApiError;

/// A JSON body; a bad one gets 400 (syntax, naming line and column), 415 (not JSON), 413 (too
/// large) or 422 (valid JSON of the wrong shape, naming the field).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    BodyTimeouts: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let timeouts = BodyTimeouts::from_ref(state);
        let request = request.map(|body| timed(body, timeouts));
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    if crate::body_deadline::is_too_slow(&rejection) {
        return body_too_slow();
    }
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request(format!("malformed JSON: {}", strip_prefix(&text)))
                .with_error("malformed_json")
        }
        JsonRejection::JsonDataError(_) => {
            let detail = strip_prefix(&text).to_owned();
            // serde_path_to_error puts the path first: `users[0]: invalid user id ...`.
            let field = detail
                .split_once(": ")
                .map(|(path, _)| path)
                .filter(|path| !path.contains(' '))
                .map(str::to_owned);
            let error = ApiError::invalid(detail.clone());
            match field {
                Some(field) if field != "." => error.with_field(field),
                _ => error,
            }
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected a JSON body with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => ApiError::bad_request(other.body_text()),
    }
}

/// The answer for a failed body read: 408 when the body came too slowly, else `otherwise`.
pub fn body_read_error(
    error: &(dyn std::error::Error + 'static),
    otherwise: impl FnOnce() -> ApiError,
) -> ApiError {
    if crate::body_deadline::is_too_slow(error) {
        body_too_slow()
    } else {
        otherwise()
    }
}

/// The 408 answer for a body that stopped arriving.
pub fn body_too_slow() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body did not arrive in time",
    )
}

/// The 413 answer.
pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is larger than the server accepts",
    )
}

fn strip_prefix(text: &str) -> &str {
    [
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to parse the request body as JSON: ",
    ]
    .iter()
    .find_map(|prefix| text.strip_prefix(prefix))
    .unwrap_or(text)
}

impl ApiError {
    /// Replaces the error code.
    pub fn with_error(mut self, error: &'static str) -> Self {
        self.body.error = error;
        self
    }
}

/// The version an `If-Match` header names (`"12"`, `W/"12"` or `12`), if the header is there.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request(
            "If-Match must be a feature version as its ETag gives it, like \"12\"",
        )
        .with_field("If-Match")
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text.trim_matches('"');
    text.parse().map(Some).map_err(|_| invalid())
}

/// The ETag of a version.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Whether an `If-None-Match` header already names this ETag.
pub fn none_match(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let Some(value) = headers.get(axum::http::header::IF_NONE_MATCH) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Ok(tag) = tag.to_str() else {
        return false;
    };
    value
        .split(',')
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == tag || candidate == "*")
}

/// Who a change is recorded as made by: the token's name, with an optional comment from the
/// `X-Ramp-Comment` header.
pub fn attribution(caller: &Caller, headers: &HeaderMap) -> Attribution {
    let mut attribution = Attribution::new(caller.name.as_ref());
    attribution.comment = headers
        .get("x-ramp-comment")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|comment| !comment.is_empty())
        .map(str::to_owned);
    attribution
}
