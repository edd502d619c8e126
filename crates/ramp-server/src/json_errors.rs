//! Every error answer is JSON: path and query values are read by [`ApiPath`] and [`ApiQuery`],
//! whose rejections name the field (the framework's own extractors answer in plain text).
//! Bodies are read by `ApiJson` (`extract.rs`); unknown routes and methods a route lacks have
//! JSON fallbacks in the route table (`routes/mod.rs`).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

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
