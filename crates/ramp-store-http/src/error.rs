//! Turning what went wrong with a request into a `StoreError`, keeping the server's own message
//! so that the command line prints what the server said.
//!
//! `StoreError` has no variant for "the server refused the token", so a refusal, like an
//! unreachable or failing server, is `Unavailable` with an [`HttpError`] source that says which;
//! callers that care (the command line) look at that source.

use ramp_core::CoreError;
use ramp_store::StoreError;
use reqwest::StatusCode;
use serde::Deserialize;

/// The backend name in messages.
pub(crate) const BACKEND: &str = "http";

/// Why a server could not be used: the source of a `StoreError::Unavailable` from this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No answer: the connection failed or timed out.
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The innermost cause (`Connection refused`, `no answer within 120 s`).
        reason: String,
    },
    /// 401 (unknown token) or 403 (its role does not allow this).
    #[error("the server refused the token: {message}")]
    Refused {
        /// 401 or 403.
        status: u16,
        /// The server's message (it names the token and its role on 403).
        message: String,
    },
    /// Any other error answer that is not about the request's content (5xx, a proxy's page).
    #[error("the server answered {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
}

impl From<HttpError> for StoreError {
    fn from(error: HttpError) -> Self {
        StoreError::Unavailable {
            backend: BACKEND,
            source: Box::new(error),
        }
    }
}

/// What a request is about, for `NotFound` and `Conflict`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    /// `feature`, `group`, `credential`, `history event`, `server`.
    pub kind: &'static str,
    /// Its name or id.
    pub name: &'a str,
}

impl<'a> Subject<'a> {
    pub fn feature(name: &'a str) -> Self {
        Self {
            kind: "feature",
            name,
        }
    }
}

/// A request that did not succeed, before it meets the context that decides its meaning.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No answer at all.
    Unreachable(HttpError),
    /// An error answer.
    Answer {
        /// The status.
        status: StatusCode,
        /// The body's `message` (or the start of a body that is not Ramp's JSON).
        message: String,
        /// Whether the body was Ramp's `{"error", "message"}` (a 404 from something else, such
        /// as a proxy or a wrong path prefix, is not "the feature does not exist").
        from_ramp: bool,
        /// Ramp said `outcome_unknown`: the store did not confirm a write.
        outcome_unknown: bool,
    },
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl Failure {
    /// An error answer from its status and body.
    pub fn answer(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(parsed) => Failure::Answer {
                status,
                // The fallback route answers 404 `no_route` for paths that are not Ramp's.
                from_ramp: parsed.error != "no_route",
                outcome_unknown: parsed.error == "outcome_unknown",
                message: parsed.message,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text: String = text.trim().chars().take(200).collect();
                Failure::Answer {
                    status,
                    message: if text.is_empty() {
                        status.canonical_reason().unwrap_or("error").to_owned()
                    } else {
                        text
                    },
                    from_ramp: false,
                    outcome_unknown: false,
                }
            }
        }
    }

    /// The status of an error answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Failure::Answer { status, .. } => Some(*status),
            Failure::Unreachable(_) => None,
        }
    }

    /// Whether this is Ramp saying that the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Failure::Answer {
                status: StatusCode::NOT_FOUND,
                from_ramp: true,
                ..
            }
        )
    }

    /// The `StoreError` this failure means for a request about `subject`. A version conflict
    /// gets versions 0 here; writes, which know better, build their own.
    pub fn into_store_error(self, subject: Subject<'_>) -> StoreError {
        let (status, message, from_ramp) = match self {
            Failure::Unreachable(error) => return error.into(),
            Failure::Answer {
                status,
                message,
                outcome_unknown: true,
                ..
            } => {
                return StoreError::OutcomeUnknown {
                    backend: BACKEND,
                    source: Box::new(HttpError::Server {
                        status: status.as_u16(),
                        message,
                    }),
                }
            }
            Failure::Answer {
                status,
                message,
                from_ramp,
                ..
            } => (status, message, from_ramp),
        };
        match status.as_u16() {
            404 if from_ramp => StoreError::NotFound {
                kind: subject.kind,
                name: subject.name.to_owned(),
            },
            409 | 412 => StoreError::Conflict {
                feature: subject.name.to_owned(),
                expected: 0,
                actual: 0,
            },
            // Bad input. The core has no variant for "the server refused this input";
            // `InvalidChange` is the generic one, and it keeps the server's words.
            400 | 413 | 415 | 422 => {
                StoreError::Invalid(CoreError::InvalidChange { reason: message })
            }
            401 | 403 => HttpError::Refused {
                status: status.as_u16(),
                message,
            }
            .into(),
            code => HttpError::Server {
                status: code,
                message,
            }
            .into(),
        }
    }
}

/// The `Unreachable` failure for a transport error, naming its innermost cause (reqwest's own
/// message only says "error sending request").
pub(crate) fn unreachable(url: &url::Url, error: &reqwest::Error) -> Failure {
    let reason = if error.is_timeout() {
        "no answer in time".to_owned()
    } else {
        let mut innermost: &dyn std::error::Error = error;
        while let Some(source) = innermost.source() {
            innermost = source;
        }
        innermost.to_string()
    };
    // The origin: what could not be reached is the server, whatever the path.
    Failure::Unreachable(HttpError::Unreachable {
        url: url.origin().ascii_serialization(),
        reason,
    })
}

/// An answer that is not what the API documents (a proxy's page, another program).
pub(crate) fn unexpected(url: &url::Url, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        backend: BACKEND,
        detail: format!("unexpected answer from {}: {detail}", without_query(url)),
    }
}

/// The URL without its query or `user:password@`, for messages.
fn without_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, body: &str) -> StoreError {
        Failure::answer(StatusCode::from_u16(status).unwrap(), body.as_bytes())
            .into_store_error(Subject::feature("chat"))
    }

    #[test]
    fn statuses_map_to_store_errors_with_the_server_message() {
        let ramp = |message: &str| format!(r#"{{"error":"x","message":"{message}"}}"#);
        assert!(matches!(
            error(404, &ramp("feature chat not found")),
            StoreError::NotFound { kind: "feature", ref name } if name == "chat"
        ));
        assert!(matches!(
            error(404, r#"{"error":"no_route","message":"no such route"}"#),
            StoreError::Unavailable { .. }
        ));
        assert!(matches!(
            error(404, "<html>"),
            StoreError::Unavailable { .. }
        ));
        assert!(matches!(
            error(412, &ramp("stale")),
            StoreError::Conflict { .. }
        ));
        assert_eq!(
            error(422, &ramp("invalid percentage 150")).to_string(),
            "invalid change: invalid percentage 150"
        );
        let refused = error(403, &ramp("token ci has role reader; this needs admin"));
        assert_eq!(
            refused.to_string(),
            "http store unavailable: the server refused the token: token ci has role reader; this needs admin"
        );
        assert_eq!(
            error(502, "").to_string(),
            "http store unavailable: the server answered 502: Bad Gateway"
        );
    }
}
