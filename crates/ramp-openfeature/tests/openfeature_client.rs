//! The provider through OpenFeature's own API (the global `OpenFeature` and its clients), as
//! an application uses it: reasons, errors, and context attributes reaching stored groups.
//!
//! The OpenFeature API is one global per process and tests run in parallel, so each test
//! binds its provider to its own client name; one test uses the default provider.

use std::sync::Arc;

use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{
    EvaluationContext, EvaluationErrorCode, EvaluationReason, FlagMetadataValue, OpenFeature,
};
use ramp_client::Client;
use ramp_core::{GroupName, StoredGroup};
use ramp_openfeature::RampProvider;
use ramp_rollout::Rollout;
use ramp_store::Store;

/// A client over an in-memory store holding the test's features.
async fn client_with_features() -> (Client, Arc<dyn Store>) {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    rollout.activate("everyone").await.unwrap();
    rollout.activate_user("listed", "42").await.unwrap();
    // The gem's bucketing: user 2 is within the first 20 %, user 1 is not.
    rollout.activate_percentage("split", 20.0).await.unwrap();
    rollout.deactivate("off").await.unwrap();
    rollout.exclude_user("everyone", "banned").await.unwrap();
    let client = Client::with_store(store.clone()).connect().await.unwrap();
    (client, store)
}

fn user(id: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(id)
}

#[tokio::test]
async fn reasons_map_as_in_ofrep_through_the_default_provider() {
    let (client, _store) = client_with_features().await;
    let flags = {
        let mut api = OpenFeature::singleton_mut().await;
        api.set_provider(RampProvider::new(client)).await;
        api.create_client()
    };
    let cases = [
        ("everyone", "1", true, EvaluationReason::Static, "everyone"),
        (
            "everyone",
            "banned",
            false,
            EvaluationReason::Disabled,
            "excluded",
        ),
        (
            "listed",
            "42",
            true,
            EvaluationReason::TargetingMatch,
            "user",
        ),
        ("split", "2", true, EvaluationReason::Split, "percentage"),
        // Outside the 20 %: the other side of the split, not a disabled flag.
        (
            "split",
            "1",
            false,
            EvaluationReason::Split,
            "outside_percentage",
        ),
        ("off", "1", false, EvaluationReason::Disabled, "off"),
    ];
    for (flag, id, value, reason, ramp_reason) in cases {
        let details = flags
            .get_bool_details(flag, Some(&user(id)), None)
            .await
            .unwrap();
        assert_eq!(details.value, value, "{flag} for {id}");
        assert_eq!(details.reason, Some(reason), "{flag} for {id}");
        assert_eq!(
            details.variant.as_deref(),
            Some(if value { "on" } else { "off" })
        );
        assert_eq!(
            details.flag_metadata.values["rampReason"],
            FlagMetadataValue::String(ramp_reason.into())
        );
    }
    // No context at all: anonymous, so only 100 % counts.
    assert!(flags.get_bool_value("everyone", None, None).await.unwrap());
    assert!(!flags.get_bool_value("split", None, None).await.unwrap());
}

#[tokio::test]
async fn an_unknown_flag_is_flag_not_found_and_other_types_mismatch() {
    let (client, _store) = client_with_features().await;
    let flags = {
        let mut api = OpenFeature::singleton_mut().await;
        api.set_named_provider("errors", RampProvider::new(client))
            .await;
        api.create_named_client("errors")
    };
    let error = flags
        .get_bool_details("missing", Some(&user("1")), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::FlagNotFound);

    let error = flags
        .get_string_details("everyone", Some(&user("1")), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::TypeMismatch);
    let error = flags
        .get_int_value("everyone", Some(&user("1")), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::TypeMismatch);
    let error = flags
        .get_float_value("missing", Some(&user("1")), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::FlagNotFound);
}

#[tokio::test]
async fn context_attributes_reach_stored_group_rules() {
    let (client, store) = client_with_features().await;
    store
        .put_group(
            &StoredGroup {
                name: GroupName::new("paying").unwrap(),
                description: String::new(),
                members: vec![],
                rules: vec![
                    "plan in [pro, team]".parse().unwrap(),
                    "age >= 18".parse().unwrap(),
                ],
            },
            None,
            &ramp_core::Attribution::new("test"),
        )
        .await
        .unwrap();
    Rollout::new(store.clone(), "test")
        .activate_group("reports", "paying")
        .await
        .unwrap();
    let version = store.snapshot().await.unwrap().version;
    for _ in 0..500 {
        if client.version() == version {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let flags = {
        let mut api = OpenFeature::singleton_mut().await;
        api.set_named_provider("groups", RampProvider::new(client))
            .await;
        api.create_named_client("groups")
    };
    let pro = user("7")
        .with_custom_field("plan", "pro")
        .with_custom_field("age", 30);
    let details = flags
        .get_bool_details("reports", Some(&pro), None)
        .await
        .unwrap();
    assert!(details.value);
    assert_eq!(details.reason, Some(EvaluationReason::TargetingMatch));
    assert_eq!(
        details.flag_metadata.values["group"],
        FlagMetadataValue::String("paying".into())
    );
    let free = user("7")
        .with_custom_field("plan", "free")
        .with_custom_field("age", 30);
    let details = flags
        .get_bool_details("reports", Some(&free), None)
        .await
        .unwrap();
    assert!(!details.value);
    assert_eq!(details.reason, Some(EvaluationReason::Disabled));
    let minor = user("7")
        .with_custom_field("plan", "pro")
        .with_custom_field("age", 12);
    assert!(!flags
        .get_bool_value("reports", Some(&minor), None)
        .await
        .unwrap());
}

#[tokio::test]
async fn without_any_snapshot_the_provider_is_not_ready() {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::connect(format!("http://{address}"), "token")
        .await
        .unwrap();
    let provider = RampProvider::new(client);
    assert_eq!(provider.status(), ProviderStatus::NotReady);
    let flags = {
        let mut api = OpenFeature::singleton_mut().await;
        api.set_named_provider("not-ready", provider).await;
        api.create_named_client("not-ready")
    };
    let error = flags
        .get_bool_details("everyone", Some(&user("1")), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);
}
