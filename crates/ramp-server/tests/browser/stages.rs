//! Stages that match what users get, in the browser: the list's Everyone button sets 100 % and
//! moves the card to Everyone in one history event; moving a card to Everyone on the board
//! offers to set 100 % (accepted here); graduating a feature below 100 % asks for a reason,
//! which history records; and "check a user" says a user outside the percentage is "not in the
//! 20 %". Each checks what the page did against the API.

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene};

/// User "1" is outside 20 % with the gem's bucketing.
const OUTSIDE_TWENTY: &str = "1";

async fn create(scene: &Scene, body: Value) -> Outcome {
    let (status, answer) = scene
        .server
        .send_json(Method::POST, "/api/v1/features", body)
        .await;
    ensure!(
        status == 201,
        "creating a feature answered {status}: {answer}"
    );
    Ok(())
}

async fn feature(scene: &Scene, name: &str) -> Outcome<Value> {
    let (status, body) = scene
        .server
        .get_json(&format!("/api/v1/features/{name}"))
        .await;
    ensure!(status == 200, "GET {name} answered {status}: {body}");
    Ok(body)
}

async fn events(scene: &Scene, name: &str) -> Outcome<Vec<Value>> {
    let path = format!("/api/v1/features/{name}/history?limit=100");
    let (status, body) = scene.server.get_json(&path).await;
    ensure!(status == 200, "GET {path} answered {status}: {body}");
    Ok(body["events"].as_array().cloned().unwrap_or_default())
}

/// Waits until the API shows `name` at `percentage` and `stage`.
async fn wait_state(scene: &Scene, name: &str, percentage: f64, stage: &str) -> Outcome<Value> {
    poll(&format!("{name} at {percentage} % and {stage}"), || async {
        let feature = feature(scene, name).await?;
        ensure!(
            feature["percentage"] == json!(percentage) && feature["stage"] == stage,
            "percentage {}, stage {}",
            feature["percentage"],
            feature["stage"]
        );
        Ok(feature)
    })
    .await
}

/// The list's Everyone button: 100 % and the Everyone stage, as one history event.
pub async fn everyone_button_moves_the_stage(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "to-everyone";
    create(
        scene,
        json!({"name": name, "percentage": 30, "stage": "beta"}),
    )
    .await?;
    let before = events(scene, name).await?.len();
    browser.open("#/features").await?;
    let button = format!("tr[data-feature=\"{name}\"] button[data-action=everyone]");
    browser.find(&button).await?;
    browser.click(&button).await?;
    poll("the confirmation to be accepted", || async {
        browser.accept_confirmation().await?;
        let feature = feature(scene, name).await?;
        ensure!(
            feature["percentage"] == json!(100.0),
            "{}",
            feature["percentage"]
        );
        Ok(())
    })
    .await?;
    wait_state(scene, name, 100.0, "everyone").await?;
    let events = events(scene, name).await?;
    ensure!(
        events.len() == before + 1,
        "{} events after one click",
        events.len() - before
    );
    let fields: Vec<&str> = events[0]["changes"]
        .as_array()
        .map(|changes| changes.iter().filter_map(|c| c["field"].as_str()).collect())
        .unwrap_or_default();
    ensure!(
        fields == ["percentage", "stage"],
        "the event changed {fields:?}"
    );
    Ok(())
}

/// The board's stage menu to Everyone asks whether to set 100 % as well; yes does both.
pub async fn board_move_to_everyone_offers_full(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "board-everyone";
    create(
        scene,
        json!({"name": name, "percentage": 40, "stage": "rolling_out"}),
    )
    .await?;
    browser.open("#/board").await?;
    let card = format!("section[data-stage] [data-feature=\"{name}\"]");
    browser.find(&card).await?;
    browser
        .select(&format!("{card} select.move-stage"), "everyone")
        .await?;
    browser
        .wait_text("#confirm-message", "set it to 100 %")
        .await?;
    browser.click("#confirm-ok").await?;
    wait_state(scene, name, 100.0, "everyone").await?;
    browser
        .find(&format!(
            "section[data-stage=\"everyone\"] [data-feature=\"{name}\"]"
        ))
        .await?;
    Ok(())
}

/// Graduating a feature below 100 % from the board asks for a reason; history records it.
pub async fn graduation_asks_for_a_reason(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "half-graduated";
    create(
        scene,
        json!({"name": name, "percentage": 50, "stage": "everyone"}),
    )
    .await?;
    browser.open("#/board").await?;
    let card = format!("section[data-stage] [data-feature=\"{name}\"]");
    browser.find(&card).await?;
    browser
        .select(&format!("{card} select.move-stage"), "graduated")
        .await?;
    browser.wait_text("#reason-message", "not 100 %").await?;
    let reason = "the rest of the traffic is retired";
    browser.fill("#reason-input", reason).await?;
    browser.click("#reason-ok").await?;
    wait_state(scene, name, 50.0, "graduated").await?;
    let events = events(scene, name).await?;
    ensure!(
        events[0]["comment"] == reason,
        "the graduation was recorded as {}",
        events[0]
    );
    Ok(())
}

/// "Check a user" on a 20 % feature names the reason and the share the user is not in.
pub async fn outside_percentage_is_explained(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "twenty-check";
    create(scene, json!({"name": name, "percentage": 20})).await?;
    browser.open(&format!("#/features/{name}")).await?;
    browser.find("#check-user").await?;
    // The page must have loaded the feature (its percentage) before the check answers.
    poll("the percentage to show 20", || async {
        let value = browser.value("#percentage-input").await?;
        ensure!(value == "20", "{value:?}");
        Ok(())
    })
    .await?;
    browser.fill("#check-user", OUTSIDE_TWENTY).await?;
    browser.click("#check-submit").await?;
    browser
        .wait_text("#check-result", "outside_percentage")
        .await?;
    browser
        .wait_text(".check-explanation", "not in the 20 %")
        .await?;
    Ok(())
}
