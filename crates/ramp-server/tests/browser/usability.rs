//! What the issue asks of every screen beyond its function: a label on every control, no
//! sideways scrolling at a phone's width, a 100,000-user list that stays usable (paged,
//! searchable) on the feature page, and a delete that asks for the feature's name.

use reqwest::Method;

use super::harness::{ensure, poll, Outcome, Scene, DESKTOP, PHONE};

/// The screens an admin sees, each with an element that shows it has rendered.
fn screens(scene: &Scene) -> Vec<(String, String)> {
    vec![
        ("#/features".into(), "#features-table".into()),
        ("#/board".into(), "section[data-stage=development]".into()),
        (
            format!("#/features/{}", scene.feature),
            "#history-list li[data-event]".into(),
        ),
        ("#/groups".into(), "#groups-table".into()),
        ("#/lookup".into(), "#lookup-user".into()),
        ("#/history".into(), "#global-history li[data-event]".into()),
    ]
}

/// Controls (inputs, selects, text areas, buttons) that a screen reader could not name: no
/// `<label for>`, no wrapping label, no aria-label(ledby), and (for buttons) no text.
const UNLABELLED: &str = r#"
const named = (control) =>
  (control.labels && control.labels.length > 0) ||
  control.getAttribute('aria-label') ||
  control.getAttribute('aria-labelledby') ||
  (control.tagName === 'BUTTON' && control.textContent.trim());
return [...document.querySelectorAll('main input, main select, main textarea, main button')]
  .filter((control) => control.type !== 'hidden' && !named(control))
  .map((control) => control.outerHTML.slice(0, 120));
"#;

/// Every control of every screen has a name people and screen readers can use.
pub async fn every_control_is_labelled(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    for (route, ready) in screens(scene) {
        browser.open(&route).await?;
        browser.find(&ready).await?;
        let unlabelled = browser.js(UNLABELLED, vec![]).await?;
        ensure!(
            unlabelled.as_array().is_some_and(Vec::is_empty),
            "{route} has controls without a label: {unlabelled}"
        );
    }
    Ok(())
}

/// At 375 px wide no screen scrolls sideways (tables scroll inside their own box).
pub async fn phone_width_fits(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.resize(PHONE).await?;
    let mut problems = Vec::new();
    for (route, ready) in screens(scene) {
        browser.open(&route).await?;
        browser.find(&ready).await?;
        let widths = browser
            .js(
                "return [document.documentElement.scrollWidth, innerWidth]",
                vec![],
            )
            .await?;
        let (page, viewport) = (widths[0].as_u64(), widths[1].as_u64());
        if page > viewport {
            problems.push(format!(
                "{route}: page {page:?} px wide in a {viewport:?} px viewport"
            ));
        }
    }
    browser.resize(DESKTOP).await?;
    ensure!(problems.is_empty(), "{}", problems.join("; "));
    Ok(())
}

/// Creates an empty feature with the admin token.
async fn create_through_the_api(scene: &Scene, name: &str) -> Outcome {
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            serde_json::json!({ "name": name }),
        )
        .await;
    ensure!(status == 201, "creating {name}: {status} {body}");
    Ok(())
}

/// A feature with 100,000 users: the page shows the total, 100 at a time, pages on, and a
/// search finds one id among them.
pub async fn a_hundred_thousand_users(scene: &Scene) -> Outcome {
    let server = &scene.server;
    let name = "big-list";
    create_through_the_api(scene, name).await?;
    let ids: String = (1..=100_000).map(|n| format!("member-{n}\n")).collect();
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/features/{name}/users/stream?mode=add"),
        )
        .header("content-type", "text/plain")
        .body(ids)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    ensure!(
        response.status() == 200,
        "streaming the ids: {}",
        response.status()
    );

    let browser = &scene.browser;
    browser.open(&format!("#/features/{name}")).await?;
    browser.wait_text("#users-total", "100,000").await?;
    let shown = browser.count("#users-list li[data-user]").await?;
    ensure!(
        shown > 0 && shown <= 100,
        "{shown} users listed on one page"
    );
    let first = browser
        .attribute("#users-list li[data-user]", "data-user")
        .await?;
    ensure!(
        first.as_deref() == Some("member-1"),
        "first listed: {first:?}"
    );
    browser.click("#users-next").await?;
    poll("the second page", || async {
        let first = browser
            .attribute("#users-list li[data-user]", "data-user")
            .await?;
        ensure!(
            first.as_deref() == Some("member-101"),
            "first listed: {first:?}"
        );
        Ok(())
    })
    .await?;
    browser.fill("#users-search", "member-99999").await?;
    poll("the search to find member-99999", || async {
        let items = browser
            .items("#users-list li[data-user]", "data-user")
            .await?;
        let ids: Vec<_> = items.into_iter().filter_map(|(_, id)| id).collect();
        ensure!(ids == ["member-99999"], "listed: {ids:?}");
        Ok(())
    })
    .await
}

/// Deleting asks for the feature's name: the button stays disabled until it is typed exactly,
/// and then the feature is gone from the API and the list.
pub async fn delete_asks_for_the_name(scene: &Scene) -> Outcome {
    let server = &scene.server;
    let name = "short-lived";
    create_through_the_api(scene, name).await?;
    let browser = &scene.browser;
    browser.open(&format!("#/features/{name}")).await?;
    browser.click("#delete-feature").await?;
    browser.find("#delete-dialog[open]").await?;
    let disabled = || async {
        let value = browser
            .js(
                "return document.getElementById('delete-confirm').disabled",
                vec![],
            )
            .await?;
        Ok::<_, String>(value == true)
    };
    ensure!(
        disabled().await?,
        "the delete button is enabled before the name is typed"
    );
    browser.fill("#delete-confirm-name", "short-live").await?;
    ensure!(
        disabled().await?,
        "a partial name enabled the delete button"
    );
    browser.fill("#delete-confirm-name", name).await?;
    poll("the delete button to be enabled", || async {
        ensure!(!disabled().await?, "still disabled with the full name");
        Ok(())
    })
    .await?;
    browser.click("#delete-confirm").await?;
    poll("the API to no longer have the feature", || async {
        let (status, _) = server.get_json(&format!("/api/v1/features/{name}")).await;
        ensure!(status == 404, "GET answered {status}");
        Ok(())
    })
    .await?;
    // The page goes back to the list once it has the answer, which can be after the API
    // already says 404: wait for it, or its navigation could land after the next step's.
    poll("the page to return to the feature list", || async {
        let hash = browser.js("return location.hash", vec![]).await?;
        ensure!(hash == "#/features", "the page is at {hash}");
        Ok(())
    })
    .await
}
