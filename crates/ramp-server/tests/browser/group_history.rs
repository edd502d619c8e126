//! Stored groups' history in the browser: an edit of a group reads in words in the history,
//! reached from the group's row on the Groups page, and its Undo puts the group back as it was,
//! as the API then shows.

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene};

/// A member added to the scene's group through the API reads "added 1 member" in the group's
/// history; undoing it there removes the member again and the undo reads "undid".
pub async fn group_edits_read_in_history_and_undo(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let group = &scene.group;
    let path = format!("/api/v1/groups/{group}");
    let (status, before) = scene.server.get_json(&path).await;
    ensure!(status == 200, "GET {path} answered {status}: {before}");
    let mut members = before["members"].as_array().cloned().unwrap_or_default();
    members.push(json!("history-42"));
    let body = json!({
        "description": before["description"],
        "members": members,
        "rules": before["rule_texts"],
    });
    let (status, written) = scene.server.send_json(Method::PUT, &path, body).await;
    ensure!(status == 200, "PUT {path} answered {status}: {written}");
    let event_id = written["event"]["id"].clone();
    ensure!(
        event_id.is_u64() && written["event"]["group"] == **group,
        "the write's answer holds no group event: {written}"
    );

    browser.open("#/groups").await?;
    browser
        .click(&format!(
            "#groups-table tr[data-group=\"{group}\"] a.group-history"
        ))
        .await?;
    let entry = format!("#global-history li[data-event=\"{event_id}\"]");
    browser.wait_text(&entry, "added 1 member").await?;
    let filter = browser.value("#history-group").await?;
    ensure!(filter == *group, "the Group filter reads {filter:?}");

    browser.click(&format!("{entry} button.revert")).await?;
    // Undoing asks first: accept the confirmation whenever it shows.
    poll("the API's group to lose the added member", || async {
        browser.accept_confirmation().await?;
        let (status, now) = scene.server.get_json(&path).await;
        ensure!(status == 200, "GET {path} answered {status}");
        ensure!(
            now["members"] == before["members"],
            "members {} (before the edit: {})",
            now["members"],
            before["members"]
        );
        Ok(())
    })
    .await?;
    browser.wait_text("#global-history", "undid").await?;
    let (_, history) = scene
        .server
        .get_json(&format!("{path}/history?limit=5"))
        .await;
    let newest: &Value = &history["events"][0];
    ensure!(
        newest["undoes"]["id"] == event_id && newest["group"] == **group,
        "the group's newest event is not the undo: {history}"
    );
    Ok(())
}
