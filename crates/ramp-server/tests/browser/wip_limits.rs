//! WIP limits and time in stage, in the browser: the board's Beta column shows `n / limit`
//! and looks full; moving a card into it is refused with the server's message, cancelling
//! leaves the feature where it was, and an override reason moves it and is what history
//! records; cards and the feature page say how long a feature has been in its stage, measured
//! by the server's manual clock (12 days ahead of the store's times); the board sorts by it.

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene};

async fn create(scene: &Scene, name: &str, stage: &str) -> Outcome {
    let (status, answer) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": name, "stage": stage}),
        )
        .await;
    ensure!(status == 201, "creating {name} answered {status}: {answer}");
    Ok(())
}

async fn stage_of(scene: &Scene, name: &str) -> Outcome<String> {
    let (status, body) = scene
        .server
        .get_json(&format!("/api/v1/features/{name}"))
        .await;
    ensure!(status == 200, "GET {name} answered {status}: {body}");
    Ok(body["stage"].as_str().unwrap_or_default().to_owned())
}

/// The board's Beta cards, top to bottom.
async fn beta_cards(scene: &Scene) -> Outcome<Vec<String>> {
    let names: Value = scene
        .browser
        .js(
            "return [...document.querySelectorAll('section[data-stage=beta] [data-feature]')].map((card) => card.dataset.feature)",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(names).unwrap_or_default())
}

/// Seeds two Beta features (oldest first) and one in Development, and a Beta limit of 2.
pub async fn seed(scene: &Scene) -> Outcome {
    create(scene, "wip-oldest", "beta").await?;
    create(scene, "wip-newer", "beta").await?;
    create(scene, "wip-waiting", "development").await?;
    let (status, answer) = scene
        .server
        .send_json(
            Method::PUT,
            "/api/v1/settings/lifecycle",
            json!({"wip_limits": {"beta": 2}}),
        )
        .await;
    ensure!(
        status == 200,
        "setting the limit answered {status}: {answer}"
    );
    Ok(())
}

/// A full column refuses a move until an override reason is given; history records it.
pub async fn full_column_refuses_then_overrides(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/board").await?;
    browser
        .wait_text("section[data-stage=beta] .count", "2 / 2")
        .await?;
    let class = browser
        .attribute("section[data-stage=beta]", "class")
        .await?
        .unwrap_or_default();
    ensure!(
        class.contains("full"),
        "the Beta column's class is {class:?}"
    );

    let card = "section[data-stage] [data-feature=\"wip-waiting\"]";
    browser
        .select(&format!("{card} select.move-stage"), "beta")
        .await?;
    browser
        .wait_text("#reason-message", "beta stage is full")
        .await?;
    browser.click("#reason-cancel").await?;
    poll("the card back in Development", || async {
        let cards = beta_cards(scene).await?;
        ensure!(
            !cards.contains(&"wip-waiting".to_owned()),
            "Beta shows {cards:?}"
        );
        let development = browser
            .count("section[data-stage=development] [data-feature=\"wip-waiting\"]")
            .await?;
        ensure!(development == 1, "not in Development");
        Ok(())
    })
    .await?;
    ensure!(
        stage_of(scene, "wip-waiting").await? == "development",
        "a cancelled move changed the stage"
    );

    browser
        .select(&format!("{card} select.move-stage"), "beta")
        .await?;
    browser
        .wait_text("#reason-message", "beta stage is full")
        .await?;
    let reason = "the sales demo needs it on Friday";
    browser.fill("#reason-input", reason).await?;
    browser.click("#reason-ok").await?;
    poll("the override to be stored", || async {
        ensure!(
            stage_of(scene, "wip-waiting").await? == "beta",
            "still not in Beta"
        );
        Ok(())
    })
    .await?;
    let (_, history) = scene
        .server
        .get_json("/api/v1/features/wip-waiting/history")
        .await;
    let comment = history["events"][0]["comment"].as_str().unwrap_or_default();
    ensure!(
        comment == format!("WIP limit override (beta had 2 of 2): {reason}"),
        "history recorded {comment:?}"
    );
    browser
        .wait_text("section[data-stage=beta] .count", "3 / 2")
        .await?;
    Ok(())
}

/// Cards and the feature page say "in Beta for 12 days"; the board sorts by time in stage.
pub async fn time_in_stage_shows_and_sorts(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/board").await?;
    browser
        .wait_text(
            "[data-feature=\"wip-oldest\"] .stage-age",
            "in Beta for 12 days",
        )
        .await?;
    poll("Beta sorted by name", || async {
        let cards = beta_cards(scene).await?;
        ensure!(
            cards == ["wip-newer", "wip-oldest", "wip-waiting"],
            "{cards:?}"
        );
        Ok(())
    })
    .await?;
    browser.select("#board-sort", "time").await?;
    poll("Beta sorted by time in stage", || async {
        let cards = beta_cards(scene).await?;
        ensure!(
            cards == ["wip-oldest", "wip-newer", "wip-waiting"],
            "{cards:?}"
        );
        Ok(())
    })
    .await?;
    browser.open("#/features/wip-oldest").await?;
    browser
        .wait_text("#stage-age", "in Beta for 12 days")
        .await?;
    Ok(())
}
