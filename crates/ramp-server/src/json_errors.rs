//! Every error answer is JSON. Path and query values are read by [`ApiPath`] and [`ApiQuery`],
//! whose rejections name the field; whatever else the framework answers on its own (a method
//! a route lacks, a body that stopped arriving, a timeout) passes through [`json_errors`], which
//! turns a plain-text error into the same `{error, message}` body.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest plain-text error body rewritten; a larger one is replaced by a generic message.
const REWRITTEN_BODY_LIMIT: usize = 4096;

/// A path parameter; a value of the wrong type gets 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                // A route with one parameter reads it without its name: find the name.
                let only_name = RawPathParams::from_request_parts(parts, state)
                    .await
                    .ok()
                    .and_then(|params| {
                        let mut names = params.iter().map(|(name, _)| name.to_owned());
                        names.next().filter(|_| names.next().is_none())
                    });
                Err(path_error(rejection, only_name))
            }
        }
    }
}

fn path_error(rejection: PathRejection, only_name: Option<String>) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(error) = &rejection else {
        return ApiError::internal(rejection.body_text());
    };
    let field = match error.kind() {
        ErrorKind::ParseErrorAtKey { key, .. }
        | ErrorKind::InvalidUtf8InPathParam { key }
        | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
        _ => only_name,
    };
    let message = error.body_text();
    let message = message.strip_prefix("Invalid URL: ").unwrap_or(&message);
    let answer = ApiError::bad_request(format!("invalid path: {message}"));
    match field {
        Some(field) => answer.with_field(field),
        None => answer,
    }
}

/// Query-string parameters; a value of the wrong type gets 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_error(rejection)),
        }
    }
}

fn query_error(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    // serde_path_to_error puts the parameter first: `limit: invalid digit found in string`.
    let field = detail
        .split_once(": ")
        .map(|(path, _)| path)
        .filter(|path| !path.contains(' ') && *path != ".");
    let answer = ApiError::bad_request(format!("invalid query string: {detail}"));
    match field {
        Some(field) => answer.with_field(field),
        None => answer,
    }
}

/// The error code for a status the framework answered by itself.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        status if status.is_server_error() => "internal",
        _ => "error",
    }
}

/// Middleware: an error answer that is not JSON gets a JSON body instead (but for an empty 401
/// or 403, which OFREP specifies so).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, REWRITTEN_BODY_LIMIT).await {
        // OFREP specifies 401 and 403 without a body.
        Ok(bytes)
            if bytes.is_empty()
                && matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) =>
        {
            return Response::from_parts(parts, Body::empty())
        }
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned()
    } else {
        text
    };
    let mut answer = ApiError::new(status, code_for(status), message).into_response();
    // Keep what the framework said besides the body (`Allow` on a 405, `Retry-After`).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
