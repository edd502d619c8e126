//! Feature kinds and the lifecycle settings, in the browser: the feature page's Kind menu
//! changes the kind (the API then shows it, and the timeline reads "changed kind from Release
//! to Kill switch"); the Settings screen shows each kind's default life, and an admin setting
//! one kind's expected life and one window is what the API then returns, while the WIP limits
//! set elsewhere stay as they were.

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene};

async fn lifecycle(scene: &Scene) -> Outcome<Value> {
    let (status, body) = scene.server.get_json("/api/v1/settings/lifecycle").await;
    ensure!(status == 200, "GET the settings answered {status}: {body}");
    Ok(body)
}

/// The Kind menu on the feature page: saved with the details, recorded in words.
pub async fn kind_changes_on_the_feature_page(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "kind-switch";
    let (status, answer) = scene
        .server
        .send_json(Method::POST, "/api/v1/features", json!({"name": name}))
        .await;
    ensure!(status == 201, "creating {name} answered {status}: {answer}");
    browser.open(&format!("#/features/{name}")).await?;
    poll("the Kind menu to show Release", || async {
        let value = browser.value("#kind").await?;
        ensure!(value == "release", "the menu shows {value:?}");
        Ok(())
    })
    .await?;
    browser.select("#kind", "kill_switch").await?;
    browser.click("#save-details").await?;
    poll("the kind to be stored", || async {
        let (status, feature) = scene
            .server
            .get_json(&format!("/api/v1/features/{name}"))
            .await;
        ensure!(status == 200, "GET {name} answered {status}");
        ensure!(
            feature["kind"] == "kill_switch",
            "the API shows kind {}",
            feature["kind"]
        );
        ensure!(feature["stage"] == "development", "the stage moved too");
        Ok(())
    })
    .await?;
    browser
        .wait_text(".event-text", "changed kind from Release to Kill switch")
        .await?;
    Ok(())
}

/// The Settings screen: defaults named, one life and one window saved, WIP limits untouched.
pub async fn expected_life_is_edited_in_the_settings(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let before = lifecycle(scene).await?;
    browser.open("#/settings").await?;
    browser.find("#life-choice-operational").await?;
    let defaults = browser
        .js(
            "return ['operational', 'kill_switch'].map((kind) => document.querySelector(`#life-choice-${kind} option[value=default]`).textContent)",
            vec![],
        )
        .await?;
    ensure!(
        defaults == json!(["Default (7 days)", "Default (permanent)"]),
        "the menus offer {defaults}"
    );
    browser.select("#life-choice-release", "days").await?;
    browser.fill("#life-days-release", "25").await?;
    browser
        .select("#life-choice-permission", "permanent")
        .await?;
    browser.fill("#window-unused_after_days", "45").await?;
    browser.click("#save-lifecycle").await?;
    let after = poll("the settings to be stored", || async {
        let settings = lifecycle(scene).await?;
        ensure!(
            settings["version"] != before["version"],
            "still version {}",
            settings["version"]
        );
        Ok(settings)
    })
    .await?;
    ensure!(
        after["effective_expected_life_days"]
            == json!({"release": 25, "experiment": 40, "operational": 7,
                      "kill_switch": null, "permission": null}),
        "the API shows {}",
        after["effective_expected_life_days"]
    );
    ensure!(
        after["expected_life_days"] == json!({"release": 25, "permission": null}),
        "stored overrides {}",
        after["expected_life_days"]
    );
    ensure!(
        after["unused_after_days"] == 45 && after["ready_to_graduate_after_days"] == 14,
        "windows {} and {}",
        after["unused_after_days"],
        after["ready_to_graduate_after_days"]
    );
    ensure!(
        after["wip_limits"] == before["wip_limits"],
        "the WIP limits changed from {} to {}",
        before["wip_limits"],
        after["wip_limits"]
    );

    // A bad number is refused on the page and writes nothing.
    browser.select("#life-choice-experiment", "days").await?;
    browser.fill("#life-days-experiment", "0").await?;
    browser.click("#save-lifecycle").await?;
    browser.wait_text("#settings-error", "Experiment").await?;
    let unchanged = lifecycle(scene).await?;
    ensure!(
        unchanged["version"] == after["version"],
        "a refused save wrote version {}",
        unchanged["version"]
    );

    // The global history reads the change in words.
    browser.open("#/history").await?;
    browser
        .wait_text(
            ".event-text",
            "changed the expected life of Release from 40 days to 25 days",
        )
        .await?;
    Ok(())
}
