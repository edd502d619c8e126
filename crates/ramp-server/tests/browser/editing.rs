//! Scenarios 1–5: logging in, creating a feature on the Features screen, and the feature
//! page's percentage, user list (pasting 300 ids, paging) and exclusions. Each checks the
//! server's state through the API, so a page that only looks right does not pass.

use super::harness::{ensure, holds, poll, Context, Outcome, Scene};

/// The 300 user ids pasted in scenario 4.
pub fn user_ids() -> Vec<String> {
    (1..=300).map(|n| format!("user-{n:03}")).collect()
}

/// The user excluded in scenario 5 (one of the listed ones).
pub const EXCLUDED: &str = "user-007";

/// Scenario 1: a wrong password shows #login-error; the right one shows #current-user, and
/// the page then holds a cookie session that the server knows.
pub async fn log_in(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("").await?;
    browser.find("#login-username").await?;
    browser.screenshot("login").await?;

    browser.fill("#login-username", "admin").await?;
    browser.fill("#login-password", "not-the-token").await?;
    browser.click("#login-submit").await?;
    poll("#login-error to say the login failed", || async {
        let text = browser.text("#login-error").await?;
        ensure!(!text.trim().is_empty(), "an empty #login-error");
        Ok(())
    })
    .await?;
    ensure!(
        browser.count("#current-user").await? == 0
            || browser.text("#current-user").await?.trim().is_empty(),
        "#current-user is shown after a wrong password"
    );

    browser
        .fill("#login-password", &scene.server.admin_token)
        .await?;
    browser.click("#login-submit").await?;
    browser.wait_text("#current-user", "admin").await?;

    // The page is now logged in by cookie: the server knows the session.
    let session = browser
        .js(
            "return fetch('/api/v1/session').then(async r => ({status: r.status, body: await r.json()}))",
            vec![],
        )
        .await?;
    ensure!(
        session["status"] == 200 && session["body"]["username"] == "admin",
        "GET /api/v1/session from the page answered {session}"
    );
    ensure!(
        session["body"]["csrf_token"]
            .as_str()
            .is_some_and(|token| !token.is_empty()),
        "the session has no csrf_token: {session}"
    );
    Ok(())
}

/// Scenario 2: the Features screen creates a feature, which then appears in the table.
pub async fn create_feature(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/features").await?;
    browser.fill("#new-feature-name", &scene.feature).await?;
    browser
        .fill("#new-feature-description", "Redesigned checkout")
        .await?;
    browser
        .fill("#new-feature-owner", "Priya (payments)")
        .await?;
    browser.click("#create-feature").await?;
    let row = format!("#features-table tr[data-feature=\"{}\"]", scene.feature);
    browser.find(&row).await?;
    let link = format!("{row} a[href=\"#/features/{}\"]", scene.feature);
    ensure!(
        browser.count(&link).await? == 1,
        "the row has no link `{link}`"
    );

    let feature = scene.api_feature().await?;
    ensure!(
        feature["data"]["description"] == "Redesigned checkout"
            && feature["data"]["owner"] == "Priya (payments)",
        "the API's feature lacks the description or owner typed in: {feature}"
    );

    // A second feature with the same name is refused with a message on the form.
    browser.fill("#new-feature-name", &scene.feature).await?;
    browser.click("#create-feature").await?;
    poll("#create-error to refuse the duplicate name", || async {
        let text = browser.text("#create-error").await?;
        ensure!(!text.trim().is_empty(), "an empty #create-error");
        Ok(())
    })
    .await?;
    Ok(())
}

/// Opens the feature page and waits until it shows the feature.
pub async fn open_feature(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser
        .open(&format!("#/features/{}", scene.feature))
        .await?;
    browser.wait_text("#feature-title", &scene.feature).await?;
    Ok(())
}

/// Scenario 3: typing 12.5 and saving sets the percentage the API reports.
pub async fn set_percentage(scene: &Scene) -> Outcome {
    open_feature(scene).await?;
    let browser = &scene.browser;
    browser.fill("#percentage-input", "12.5").await?;
    browser.click("#save-percentage").await?;
    scene
        .wait_api("the API's percentage to be 12.5", |feature| {
            ensure!(feature["percentage"] == 12.5, "{}", feature["percentage"]);
            Ok(())
        })
        .await?;
    ensure!(
        browser
            .text("#percentage-error")
            .await
            .unwrap_or_default()
            .trim()
            .is_empty(),
        "#percentage-error shows {:?} after a successful save",
        browser.text("#percentage-error").await?
    );
    Ok(())
}

/// Scenario 4: 300 pasted ids are all added; the list shows one page of at most 100.
pub async fn add_users(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let ids = user_ids();
    browser.paste("#users-paste", &ids.join("\n")).await?;
    browser.click("#add-users").await?;
    browser.wait_text("#users-total", "300").await?;
    let feature = scene
        .wait_api("the API to list 300 users", |feature| {
            let count = feature["users"].as_array().map_or(0, Vec::len);
            ensure!(count == 300, "{count} users");
            Ok(())
        })
        .await?;
    ensure!(
        holds(&feature["users"], "user-300"),
        "user-300 is not listed"
    );

    let shown = poll("#users-list to show a page of users", || async {
        let shown = browser.count("#users-list li[data-user]").await?;
        ensure!(shown > 0, "no li[data-user]");
        Ok(shown)
    })
    .await?;
    ensure!(
        shown <= 100,
        "#users-list shows {shown} users; a page holds at most 100"
    );

    // The next page starts with another user.
    let first = first_listed(scene).await?;
    browser.click("#users-next").await?;
    poll("#users-next to show another page", || async {
        let now = first_listed(scene).await?;
        ensure!(now != first, "still starts with {now}");
        Ok(())
    })
    .await?;
    if browser.count("#users-prev").await? > 0 {
        browser.click("#users-prev").await?;
    }
    Ok(())
}

async fn first_listed(scene: &Scene) -> Outcome<String> {
    let id = scene
        .browser
        .attribute("#users-list li[data-user]", "data-user")
        .await?;
    id.context("the first li's data-user")
}

/// Scenario 5: excluding a listed user puts it in the API's excluded_users.
pub async fn exclude_user(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.fill("#exclude-paste", EXCLUDED).await?;
    browser.click("#exclude-users").await?;
    browser
        .find(&format!("#excluded-list li[data-user=\"{EXCLUDED}\"]"))
        .await?;
    scene
        .wait_api("the API's excluded_users to hold user-007", |feature| {
            ensure!(
                holds(&feature["excluded_users"], EXCLUDED),
                "excluded_users = {}",
                feature["excluded_users"]
            );
            Ok(())
        })
        .await?;
    Ok(())
}
