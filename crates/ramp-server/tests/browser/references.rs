//! Code references in the browser: the feature page lists where the latest uploaded scans name
//! the feature; the Graduate button graduates it and shows the removal checklist, route table
//! first; and deleting it shows why the server asks first, then deletes on the second click.

use reqwest::Method;
use serde_json::json;

use super::harness::{ensure, poll, Outcome, Scene};

/// A feature at 100 % and a scan of one repository that names it twice.
pub async fn seed(scene: &Scene) -> Outcome {
    let name = &scene.feature;
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": name, "percentage": 100}),
        )
        .await;
    ensure!(status == 201, "creating {name} answered {status}: {body}");
    let (status, body) = scene
        .server
        .send_json(
            Method::PUT,
            "/api/v1/code-references/org%2Fweb",
            json!({"commit": "0123456789abcdef", "references": [
                {"feature": name, "file": "app/models/cart.rb", "line": 12, "context": format!("if active?(:{name})")},
                {"feature": name, "file": "config/routes.rb", "line": 4, "context": format!("constraints(Feature.new(:{name}))")},
            ]}),
        )
        .await;
    ensure!(status == 200, "uploading answered {status}: {body}");
    Ok(())
}

/// The feature page lists both references, with repository, place, context and commit.
pub async fn feature_page_lists_references(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser
        .open(&format!("#/features/{}", scene.feature))
        .await?;
    browser
        .wait_text("#references-summary", "2 references in 1 repository")
        .await?;
    let list = browser
        .wait_text("#references-list", "config/routes.rb:4")
        .await?;
    for expected in ["org/web", "app/models/cart.rb:12", "commit 0123456789ab"] {
        ensure!(list.contains(expected), "no {expected:?} in {list:?}");
    }
    Ok(())
}

/// Graduate: the stage moves, and the checklist puts the route table first.
pub async fn graduate_shows_the_checklist(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.click("#graduate-feature").await?;
    scene
        .wait_api("the stage to be graduated", |feature| {
            ensure!(
                feature["stage"] == "graduated",
                "stage {}",
                feature["stage"]
            );
            Ok(())
        })
        .await?;
    browser
        .wait_text("#checklist-progress", "2 references left in 2 files")
        .await?;
    let first = browser.text("#checklist-files > li:first-child").await?;
    ensure!(
        first.contains("config/routes.rb") && first.contains("routes"),
        "the first file to clean is {first:?}"
    );
    Ok(())
}

/// Delete: the dialog says code still names it; the second click deletes.
pub async fn delete_says_why_it_asks(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.click("#delete-feature").await?;
    browser.fill("#delete-confirm-name", &scene.feature).await?;
    browser.click("#delete-confirm").await?;
    browser
        .wait_text("#delete-reasons", "code still names it 2 times")
        .await?;
    ensure!(
        scene.api_feature().await.is_ok(),
        "the feature was deleted before the second click"
    );
    browser.click("#delete-confirm").await?;
    poll("the feature to be deleted", || async {
        let (status, _) = scene
            .server
            .get_json(&format!("/api/v1/features/{}", scene.feature))
            .await;
        ensure!(status == 404, "GET answered {status}");
        Ok(())
    })
    .await
}
