//! Web-UI accounts through the server (`/api/v1/accounts`, admins only). The server hashes
//! each password itself, so creating goes through [`HttpStore::create_account`] with the
//! password (sent once, over the connection the token already travels on) rather than
//! `Store::create_credential`, which would need the hash.

use chrono::{DateTime, Utc};
use ramp_store::{Credential, CredentialKind, Role, StoreError};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::{unexpected, Subject};
use crate::HttpStore;

#[derive(Serialize)]
struct NewAccount<'a> {
    name: &'a str,
    password: &'a str,
    role: &'a str,
}

/// An account as the server lists it (never its password hash). The role is `admin` or
/// `viewer`, which [`Role`] parses.
#[derive(Deserialize)]
struct AccountInfo {
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    created_by: String,
}

#[derive(Deserialize)]
struct AccountList {
    accounts: Vec<AccountInfo>,
}

impl HttpStore {
    /// Asks the server to create a web-UI account; `Conflict` (as
    /// [`StoreError::credential_exists`]) if one of that name exists, `Invalid` with the
    /// server's words for a refused name or password. The caller's token must be an admin's.
    pub async fn create_account(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<(), StoreError> {
        let request = self
            .api
            .request(Method::POST, self.api.url(&["accounts"]))
            .json(&NewAccount {
                name,
                password,
                role: role.as_str(),
            });
        match self.api.send(request).await {
            Ok(_) => Ok(()),
            Err(failure) if failure.status() == Some(StatusCode::CONFLICT) => Err(
                StoreError::credential_exists(CredentialKind::Password, name),
            ),
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "credential",
                name,
            })),
        }
    }

    /// Every account, as credentials whose `secret_hash` is empty: the server never gives it.
    pub(crate) async fn list_accounts(&self) -> Result<Vec<Credential>, StoreError> {
        let url = self.api.url(&["accounts"]);
        let list: AccountList = self
            .api
            .call(
                self.api.request(Method::GET, url.clone()),
                Subject {
                    kind: "credential",
                    name: "",
                },
            )
            .await?;
        list.accounts
            .into_iter()
            .map(|account| {
                let role = account
                    .role
                    .parse::<Role>()
                    .map_err(|_| unexpected(&url, format!("unknown role {:?}", account.role)))?;
                Ok(Credential {
                    name: account.name,
                    kind: CredentialKind::Password,
                    role,
                    secret_hash: String::new(),
                    created_at: account.created_at,
                    created_by: account.created_by,
                })
            })
            .collect()
    }

    /// Deletes an account by name; `NotFound` if there is none.
    pub(crate) async fn delete_account(&self, name: &str) -> Result<(), StoreError> {
        let url = self.api.url(&["accounts", name]);
        match self.api.send(self.api.request(Method::DELETE, url)).await {
            Ok(_) => Ok(()),
            Err(failure) if failure.is_not_found() => Err(StoreError::credential_not_found(
                CredentialKind::Password,
                name,
            )),
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "credential",
                name,
            })),
        }
    }
}
