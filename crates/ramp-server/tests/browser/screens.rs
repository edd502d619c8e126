//! Scenario 13 and the read-only screens: visits the features list, the feature page (also at
//! phone width), the Groups screen, the user lookup and the global history, checking that
//! each shows the feature made earlier. With RAMP_SCREENSHOTS=DIR it saves a PNG of each at
//! 1280x900 (the login and board pictures are taken by their own scenarios); without it the
//! checks still run and no picture is taken.

use reqwest::Method;
use serde_json::json;

use super::editing::open_feature;
use super::harness::{ensure, Outcome, Scene, DESKTOP, PHONE};

/// Features in every stage, made through the API by two people, for the screenshots only.
pub async fn seed_showcase(scene: &Scene) -> Outcome {
    let server = &scene.server;
    let priya = server.token("priya", "admin").await;
    let features = [
        (
            "dark-mode",
            "Dark colour scheme for the dashboard",
            "everyone",
            100.0,
            0,
        ),
        ("search-v2", "New search ranking", "rolling_out", 35.5, 12),
        ("invoice-export", "Export invoices as CSV", "beta", 0.0, 48),
        (
            "team-billing",
            "One invoice per team",
            "development",
            0.0,
            3,
        ),
        (
            "legacy-editor-off",
            "Retire the old editor",
            "graduated",
            100.0,
            0,
        ),
        (
            "smart-reminders",
            "Reminders timed by activity",
            "rolling_out",
            10.0,
            0,
        ),
    ];
    for (index, (name, description, stage, percentage, users)) in features.into_iter().enumerate() {
        let users: Vec<String> = (1..=users).map(|n| format!("customer-{n}")).collect();
        let token = if index % 2 == 0 {
            &priya
        } else {
            &server.admin_token
        };
        let response = server
            .request_as(token, Method::POST, "/api/v1/features")
            .json(&json!({
                "name": name,
                "data": { "description": description, "owner": "growth team" },
                "stage": stage,
                "percentage": percentage,
                "users": users,
            }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        ensure!(
            response.status() == 201,
            "creating {name}: {}",
            response.status()
        );
    }
    Ok(())
}

/// Visits every main screen in turn.
pub async fn tour(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let feature = &scene.feature;

    browser.open("#/features").await?;
    browser
        .find(&format!("#features-table tr[data-feature=\"{feature}\"]"))
        .await?;
    browser.screenshot("features").await?;

    open_feature(scene).await?;
    browser.find("#history-list li[data-event]").await?;
    browser.find("#users-list li[data-user]").await?;
    browser.screenshot("feature").await?;
    if browser.screenshots() {
        browser.resize(PHONE).await?;
        let shot = browser.screenshot("feature-phone").await;
        browser.resize(DESKTOP).await?;
        shot?;
    }

    browser.open("#/groups").await?;
    browser
        .find(&format!("#groups-table tr[data-group=\"{}\"]", scene.group))
        .await?;
    browser.screenshot("groups").await?;

    // The lookup answers for every feature: user-001 is listed on ours.
    browser.open("#/lookup").await?;
    browser.fill("#lookup-user", "user-001").await?;
    browser.click("#lookup-submit").await?;
    browser
        .find(&format!("#lookup-results tr[data-feature=\"{feature}\"]"))
        .await?;
    browser.screenshot("lookup").await?;
    // As of a time before any history, no feature existed yet; emptied, the answer is now's.
    let set_at = "document.querySelector('#lookup-at').value = arguments[0];";
    browser.js(set_at, vec!["2001-01-01T10:00".into()]).await?;
    browser.click("#lookup-submit").await?;
    browser
        .wait_text("#lookup-results", "No feature to show")
        .await?;
    browser.js(set_at, vec!["".into()]).await?;
    browser.click("#lookup-submit").await?;
    browser
        .find(&format!("#lookup-results tr[data-feature=\"{feature}\"]"))
        .await?;

    // The global history, filtered by the feature.
    browser.open("#/history").await?;
    browser.find("#global-history li[data-event]").await?;
    browser.fill("#history-feature", feature).await?;
    browser.click("#history-apply").await?;
    browser.wait_text("#global-history", feature).await?;
    browser.screenshot("history").await?;
    Ok(())
}
