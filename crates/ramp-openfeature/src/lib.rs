//! An OpenFeature provider for Rust applications: [`RampProvider`] implements the
//! `open-feature` crate's `FeatureProvider` over a [`ramp_client::Client`], so applications
//! written against OpenFeature's API evaluate Ramp's features locally (no request per check)
//! and keep answering when the Ramp server is down.
//!
//! - Boolean flags resolve with Ramp's decision. Reasons map as in the server's OFREP:
//!   `everyone` -> STATIC, `user`/`group` -> TARGETING_MATCH, `percentage` and
//!   `outside_percentage` -> SPLIT, `off`/`excluded` -> DISABLED. The variant is `on` or `off`; the flag metadata carries
//!   `rampReason`, `group` (when a group decided) and the snapshot `version`.
//! - An unknown flag is a FLAG_NOT_FOUND error; Ramp's features are booleans, so asking for a
//!   string, number or structure is a TYPE_MISMATCH error (OpenFeature then answers the
//!   application's default value).
//! - The evaluation context's targeting key is the user id; every other field is an attribute
//!   that stored groups' rules look at (see [`context`]).
//!
//! ```no_run
//! use open_feature::{EvaluationContext, OpenFeature};
//! use ramp_openfeature::RampProvider;
//!
//! # async fn run() -> Result<(), ramp_client::ClientError> {
//! let client = ramp_client::Client::connect("http://127.0.0.1:4242", "READER-TOKEN").await?;
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(RampProvider::new(client)).await;
//! let flags = api.create_client();
//! drop(api);
//! let context = EvaluationContext::default()
//!     .with_targeting_key("user-42")
//!     .with_custom_field("plan", "pro");
//! let on = flags.get_bool_value("new-checkout", Some(&context), None).await.unwrap_or(false);
//! # let _ = on;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod context;
mod provider;

pub use provider::RampProvider;
