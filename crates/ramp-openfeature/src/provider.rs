//! `RampProvider`: the `FeatureProvider` that answers OpenFeature's clients from a Ramp
//! client's local snapshot. It never makes a request per evaluation, and never blocks.

use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    async_trait, EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason,
    EvaluationResult, FlagMetadata, StructValue,
};
use ramp_client::{Client, Decision, Reason, Source};

use crate::context::to_ramp_context;

/// OpenFeature's name for this provider.
const PROVIDER_NAME: &str = "ramp";

/// An OpenFeature provider over a [`ramp_client::Client`].
#[derive(Debug, Clone)]
pub struct RampProvider {
    client: Client,
    metadata: ProviderMetadata,
}

impl RampProvider {
    /// A provider answering from `client` (which keeps following the server on its own).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
        }
    }

    /// The Ramp client, for checks outside OpenFeature or its status.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Fails while the client has no snapshot at all, as OpenFeature expects of a provider
    /// that is not ready (the application then gets its default value).
    fn ready(&self) -> EvaluationResult<()> {
        if self.client.is_ready() {
            Ok(())
        } else {
            Err(error(
                EvaluationErrorCode::ProviderNotReady,
                "Ramp has no snapshot yet: the server is unreachable and there is no backup file",
            ))
        }
    }

    /// Answers a request for a non-boolean value: not found, or the wrong type.
    fn not_boolean<T>(&self, flag_key: &str, wanted: &str) -> EvaluationResult<T> {
        self.ready()?;
        if !self.client.contains(flag_key) {
            return Err(not_found(flag_key));
        }
        Err(error(
            EvaluationErrorCode::TypeMismatch,
            format!("Ramp's features are booleans; {flag_key:?} cannot be resolved as {wanted}"),
        ))
    }

    fn resolve(&self, flag_key: &str, context: &EvaluationContext) -> EvaluationResult<Decision> {
        self.ready()?;
        let decision = self.client.explain(flag_key, &to_ramp_context(context));
        if decision.reason == Reason::NotFound {
            return Err(not_found(flag_key));
        }
        Ok(decision)
    }

    fn metadata_of(&self, decision: &Decision) -> FlagMetadata {
        let version = i64::try_from(self.client.version()).unwrap_or(i64::MAX);
        let mut metadata = FlagMetadata::default()
            .with_value("rampReason", decision.reason.as_str())
            .with_value("version", version);
        if let Some(group) = decision.reason.group() {
            metadata.add_value("group", group);
        }
        metadata
    }
}

/// OpenFeature's reason for Ramp's, as the server's OFREP endpoint maps them.
///
/// OpenFeature's specification defines SPLIT as "the resolved value was the result of
/// pseudorandom assignment" and DISABLED as "the result of the flag being disabled in the
/// management system". A user outside a percentage was assigned `false` by the same
/// pseudorandom bucketing that gives others `true`, and the flag is not disabled (it is rolling
/// out), so `outside_percentage` is SPLIT like `percentage`; `off` (a flag that reaches nobody)
/// stays DISABLED.
pub(crate) fn reason(reason: &Reason) -> EvaluationReason {
    match reason {
        Reason::Everyone => EvaluationReason::Static,
        Reason::User | Reason::Group(_) => EvaluationReason::TargetingMatch,
        Reason::Percentage | Reason::OutsidePercentage => EvaluationReason::Split,
        Reason::Off | Reason::Excluded => EvaluationReason::Disabled,
        Reason::NotFound => EvaluationReason::Error,
    }
}

fn error(code: EvaluationErrorCode, message: impl Into<String>) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message.into()),
    }
}

fn not_found(flag_key: &str) -> EvaluationError {
    error(
        EvaluationErrorCode::FlagNotFound,
        format!("no feature named {flag_key:?}"),
    )
}

#[async_trait]
impl FeatureProvider for RampProvider {
    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    fn status(&self) -> ProviderStatus {
        match self.client.source() {
            Source::Server | Source::Store => ProviderStatus::Ready,
            // Answers, but from a snapshot that may be old.
            Source::Backup => ProviderStatus::STALE,
            Source::None => ProviderStatus::NotReady,
        }
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        let decision = self.resolve(flag_key, evaluation_context)?;
        Ok(ResolutionDetails {
            value: decision.active,
            variant: Some(if decision.active { "on" } else { "off" }.to_owned()),
            reason: Some(reason(&decision.reason)),
            flag_metadata: Some(self.metadata_of(&decision)),
        })
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.not_boolean(flag_key, "an integer")
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.not_boolean(flag_key, "a float")
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.not_boolean(flag_key, "a string")
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.not_boolean(flag_key, "a structure")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map_as_in_ofrep() {
        assert_eq!(reason(&Reason::Everyone), EvaluationReason::Static);
        assert_eq!(reason(&Reason::User), EvaluationReason::TargetingMatch);
        assert_eq!(
            reason(&Reason::Group("staff".into())),
            EvaluationReason::TargetingMatch
        );
        assert_eq!(reason(&Reason::Percentage), EvaluationReason::Split);
        assert_eq!(reason(&Reason::OutsidePercentage), EvaluationReason::Split);
        assert_eq!(reason(&Reason::Off), EvaluationReason::Disabled);
        assert_eq!(reason(&Reason::Excluded), EvaluationReason::Disabled);
    }
}
