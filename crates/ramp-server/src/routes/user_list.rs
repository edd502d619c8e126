//! Large user lists: newline-separated ids streamed in the request body, so a million ids need
//! not fit in one JSON document (or under the JSON body limit). The whole list is read and
//! checked first, then written as one change: a bad line changes nothing.

use crate::json_errors::{ApiPath, ApiQuery};
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use futures::StreamExt;
use ramp_core::{Change, UserId};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::body_deadline::{timed, BodyTimeouts};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{body_read_error, too_large};
use crate::routes::features::apply_change;
use crate::state::AppState;

/// What to do with the streamed ids.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListMode {
    /// `add` (the default) adds them to the allow list; `set` replaces it; `exclude` adds them
    /// to the deny list.
    pub mode: Option<String>,
}

/// Adds (or sets, or excludes) users given one id per line (`text/plain`).
#[utoipa::path(post, path = "/api/v1/features/{name}/users/stream", tag = "features",
    params(("name" = String, Path, description = "The feature"), UserListMode),
    request_body(content = String, content_type = "text/plain", description = "One user id per line"),
    responses((status = 200, body = serde_json::Value), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn stream_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(mode): ApiQuery<UserListMode>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let make_change: fn(Vec<UserId>) -> Change = match mode.mode.as_deref().unwrap_or("add") {
        "add" => |users| Change::AddUsers { users },
        "set" => |users| Change::SetUsers { users },
        "exclude" => |users| Change::ExcludeUsers { users },
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown mode {other:?}: expected add, set or exclude"
            ))
            .with_field("mode"))
        }
    };
    let body = timed(body, BodyTimeouts::from_ref(&state));
    let users = read_lines(body, state.config.user_list_limit).await?;
    apply_change(&state, &caller, &headers, &name, make_change(users)).await
}

/// Reads and checks every line; empty lines and a trailing `\r` are ignored.
async fn read_lines(body: Body, limit: usize) -> ApiResult<Vec<UserId>> {
    let mut stream = body.into_data_stream();
    let mut users = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut received = 0usize;
    let mut line_number = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            body_read_error(&error, || {
                ApiError::bad_request(format!("could not read the body: {error}"))
            })
        })?;
        received += chunk.len();
        if received > limit {
            return Err(too_large());
        }
        pending.extend_from_slice(&chunk);
        let Some(last_newline) = pending.iter().rposition(|&byte| byte == b'\n') else {
            continue;
        };
        let rest = pending.split_off(last_newline + 1);
        for line in pending[..last_newline].split(|&byte| byte == b'\n') {
            push_line(&mut users, line, &mut line_number)?;
        }
        pending = rest;
    }
    if !pending.is_empty() {
        push_line(&mut users, &pending, &mut line_number)?;
    }
    Ok(users)
}

fn push_line(users: &mut Vec<UserId>, line: &[u8], line_number: &mut usize) -> ApiResult<()> {
    *line_number += 1;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line).map_err(|_| {
        ApiError::invalid(format!("line {line_number}: not UTF-8")).with_field("users")
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(());
    }
    let user = UserId::new(text).map_err(|error| {
        ApiError::invalid(format!("line {line_number}: {error}")).with_field("users")
    })?;
    users.push(user);
    Ok(())
}
