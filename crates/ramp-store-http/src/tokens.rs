//! API tokens through the server (`/api/v1/tokens`, admins only). The server makes each
//! token's secret and shows it once, so creating goes through [`HttpStore::create_token`]
//! rather than `Store::create_credential`, which would need the secret's hash.

use chrono::{DateTime, Utc};
use ramp_store::{Credential, CredentialKind, Role, StoreError};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::api::Api;
use crate::error::Subject;
use crate::HttpStore;

/// A token the server created: the only time its secret is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Its name, recorded as the actor of its changes.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The secret, to present as `Authorization: Bearer TOKEN`.
    pub token: String,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Debug output ends up in logs; the secret must not.
        formatter
            .debug_struct("CreatedToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct NewToken<'a> {
    name: &'a str,
    role: Role,
}

/// A token as the server lists it (never its secret).
#[derive(Deserialize)]
struct TokenInfo {
    name: String,
    role: Role,
    created_at: DateTime<Utc>,
    created_by: String,
}

#[derive(Deserialize)]
struct TokenList {
    tokens: Vec<TokenInfo>,
}

impl HttpStore {
    /// Asks the server to create a token; `Conflict` (as [`StoreError::credential_exists`])
    /// if one of that name exists. The caller's token must be an admin's.
    pub async fn create_token(&self, name: &str, role: Role) -> Result<CreatedToken, StoreError> {
        let request = self
            .api
            .request(Method::POST, self.api.url(&["tokens"]))
            .json(&NewToken { name, role });
        match self.api.send(request).await {
            Ok(response) => Api::json(response).await,
            Err(failure) if failure.status() == Some(StatusCode::CONFLICT) => {
                Err(StoreError::credential_exists(CredentialKind::Token, name))
            }
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "credential",
                name,
            })),
        }
    }

    /// Every token, as credentials whose `secret_hash` is empty: the server never gives it.
    pub(crate) async fn list_tokens(&self) -> Result<Vec<Credential>, StoreError> {
        let subject = Subject {
            kind: "credential",
            name: "",
        };
        let list: TokenList = self
            .api
            .call(
                self.api.request(Method::GET, self.api.url(&["tokens"])),
                subject,
            )
            .await?;
        Ok(list
            .tokens
            .into_iter()
            .map(|token| Credential {
                name: token.name,
                kind: CredentialKind::Token,
                role: token.role,
                secret_hash: String::new(),
                created_at: token.created_at,
                created_by: token.created_by,
            })
            .collect())
    }
}
