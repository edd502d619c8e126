//! The API the web UI leans on beyond the CLI's: user lists a page at a time, coverage of a
//! percentage, the last change per feature, history filters and the "changed by" 412.

mod common;

use std::time::Duration;

use common::TestServer;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn user_lists_come_a_page_at_a_time_and_coverage_counts_known_users() {
    let server = TestServer::memory().await;
    let users: Vec<String> = (1..=250).map(|n| format!("user-{n}")).collect();
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({ "name": "paged", "users": users, "excluded_users": ["blocked"] }),
        )
        .await;
    assert_eq!(status, 201);

    let (status, page) = server
        .get_json("/api/v1/features/paged/users?offset=100&limit=100")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (page["total"].as_u64(), page["matching"].as_u64()),
        (Some(250), Some(250))
    );
    assert_eq!(page["users"].as_array().unwrap().len(), 100);
    assert_eq!(
        page["users"][0], "user-101",
        "in the order users were added"
    );
    let (_, found) = server
        .get_json("/api/v1/features/paged/users?search=user-12")
        .await;
    // user-12 and user-120..=user-129
    assert_eq!(found["matching"], 11);
    let (_, excluded) = server
        .get_json("/api/v1/features/paged/users?list=excluded_users")
        .await;
    assert_eq!(excluded["users"], json!(["blocked"]));
    let (status, body) = server
        .get_json("/api/v1/features/paged/users?list=everyone")
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("list")));
    let (status, _) = server.get_json("/api/v1/features/absent/users").await;
    assert_eq!(status, 404);

    server
        .send_json(
            Method::PUT,
            "/api/v1/groups/staff",
            json!({ "members": ["staff-1", "user-1"] }),
        )
        .await;
    // 250 listed + 1 excluded + 1 new group member; the live snapshot trails writes slightly.
    let mut known = 0;
    for _ in 0..100 {
        let (_, coverage) = server
            .get_json("/api/v1/features/paged/coverage?percentage=100")
            .await;
        known = coverage["known_users"].as_u64().unwrap();
        if known == 252 {
            assert_eq!(coverage["covered"], 252);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(known, 252);
    let (_, none) = server
        .get_json("/api/v1/features/paged/coverage?percentage=0")
        .await;
    assert_eq!(none["covered"], 0);
    let (_, some) = server
        .get_json("/api/v1/features/paged/coverage?percentage=37.5")
        .await;
    let mut ids: Vec<String> = (1..=250).map(|n| format!("user-{n}")).collect();
    ids.extend(["blocked".to_owned(), "staff-1".to_owned()]);
    let expected = ids
        .iter()
        .filter(|id| ramp_core::bucket::in_percentage(id, "paged", 37.5, false))
        .count();
    assert_eq!(some["covered"].as_u64(), Some(expected as u64));
    assert!(
        expected > 40 && expected < 150,
        "a plausible share: {expected}"
    );
    let (status, body) = server
        .get_json("/api/v1/features/paged/coverage?percentage=101")
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("percentage")));
    server.stop().await;
}

#[tokio::test]
async fn history_filters_by_actor_and_date_and_lists_show_the_last_change() {
    let server = TestServer::memory().await;
    let alice = server.token("alice", "admin").await;
    let bob = server.token("bob", "admin").await;
    for (token, name) in [(&alice, "one"), (&bob, "two"), (&alice, "three")] {
        let response = server
            .request_as(token, Method::POST, "/api/v1/features")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let response = server
        .request_as(&bob, Method::PUT, "/api/v1/features/one/percentage")
        .json(&json!({ "percentage": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let (_, by_alice) = server.get_json("/api/v1/history?actor=alice").await;
    let names: Vec<&str> = by_alice["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["feature"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["three", "one"]);
    let (_, paged) = server.get_json("/api/v1/history?actor=alice&limit=1").await;
    assert_eq!(paged["events"][0]["feature"], "three");
    let before = paged["next_before"].as_u64().expect("a next page");
    let (_, next) = server
        .get_json(&format!(
            "/api/v1/history?actor=alice&limit=1&before={before}"
        ))
        .await;
    assert_eq!(next["events"][0]["feature"], "one");
    let (_, future) = server.get_json("/api/v1/history?since=2999-01-01").await;
    assert_eq!(future["events"], json!([]));
    let (_, past) = server.get_json("/api/v1/history?until=2000-01-01").await;
    assert_eq!(past["events"], json!([]));
    // The days bob's events were recorded on, from the events themselves rather than the
    // clock: the test may run across midnight.
    let (_, by_bob) = server.get_json("/api/v1/history?actor=bob").await;
    let days: Vec<chrono::NaiveDate> = by_bob["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
                .date_naive()
        })
        .collect();
    assert_eq!(days.len(), 2, "{by_bob}");
    let (first, last) = (days.iter().min().unwrap(), days.iter().max().unwrap());
    let bob_between = |since: chrono::NaiveDate, until: chrono::NaiveDate| {
        let server = &server;
        async move {
            let (_, page) = server
                .get_json(&format!(
                    "/api/v1/history?since={since}&until={until}&actor=bob"
                ))
                .await;
            page["events"].as_array().unwrap().len()
        }
    };
    // `until` includes its whole day, `since` starts at its first instant.
    assert_eq!(bob_between(*first, *last).await, 2);
    let day = chrono::Duration::days(1);
    assert_eq!(bob_between(*first - day, *first - day).await, 0);
    assert_eq!(bob_between(*last + day, *last + day).await, 0);
    let (status, body) = server.get_json("/api/v1/history?since=yesterday").await;
    assert_eq!((status, body["field"].as_str()), (422, Some("since")));

    let (_, list) = server.get_json("/api/v1/features?with=last_change").await;
    let one = list["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|feature| feature["name"] == "one")
        .unwrap();
    assert_eq!(one["last_change"]["actor"], "bob");
    let (_, plain) = server.get_json("/api/v1/features").await;
    assert!(
        plain["features"][0].get("last_change").is_none(),
        "only when asked"
    );
    let (status, _) = server.get_json("/api/v1/features?with=everything").await;
    assert_eq!(status, 422);
    server.stop().await;
}

#[tokio::test]
async fn a_stale_write_is_refused_naming_who_changed_the_feature_and_when() {
    let server = TestServer::memory().await;
    let bob = server.token("bob", "admin").await;
    let created = server
        .request(Method::POST, "/api/v1/features")
        .json(&json!({ "name": "contested" }))
        .send()
        .await
        .unwrap();
    let read_version = created.headers()["etag"].to_str().unwrap().to_owned();
    let response = server
        .request_as(&bob, Method::PUT, "/api/v1/features/contested/percentage")
        .header("if-match", &read_version)
        .json(&json!({ "percentage": 25 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let stale = server
        .request(Method::PUT, "/api/v1/features/contested/percentage")
        .header("if-match", &read_version)
        .json(&json!({ "percentage": 10 }))
        .send()
        .await
        .unwrap();
    let (status, body) = common::json_of(stale).await;
    assert_eq!(status, 412);
    assert_eq!(body["error"], "version_mismatch");
    assert_eq!(body["changed_by"], "bob");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("changed by bob at "),
        "{body}"
    );
    assert!(body["changed_at"].as_str().is_some());
    let (_, feature) = server.get_json("/api/v1/features/contested").await;
    assert_eq!(
        feature["percentage"], 25.0,
        "the stale write changed nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn group_writes_honour_their_store_version() {
    let server = TestServer::memory().await;
    let put = |version: Option<u64>, absent: bool, members: &[&str]| {
        let mut request = server
            .request(Method::PUT, "/api/v1/groups/beta")
            .json(&json!({ "members": members }));
        if let Some(version) = version {
            request = request.header("if-match", format!("\"{version}\""));
        }
        if absent {
            request = request.header("if-none-match", "*");
        }
        request.send()
    };
    let response = put(None, true, &["1"]).await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, created) = common::json_of(response).await;
    assert_eq!(status, 200, "{created}");
    let first = created["version"].as_u64().unwrap();
    assert_eq!(etag, format!("\"{first}\""), "the ETag is the version");
    let (status, body) = common::json_of(put(None, true, &["2"]).await.unwrap()).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (412, Some("name")),
        "a new group must not replace one"
    );

    // Two editors read version `first`; the second save is refused.
    let (status, saved) =
        common::json_of(put(Some(first), false, &["1", "2"]).await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        saved["version"].as_u64().unwrap() > first,
        "every write gives a greater version: {saved}"
    );
    let (status, body) = common::json_of(put(Some(first), false, &["1", "3"]).await.unwrap()).await;
    assert_eq!(status, 412, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("changed by someone else"));
    let shown = server
        .request(Method::GET, "/api/v1/groups/beta")
        .send()
        .await
        .unwrap();
    let shown_etag = shown.headers()["etag"].to_str().unwrap().to_owned();
    let (_, group) = common::json_of(shown).await;
    assert_eq!(
        group["members"],
        json!(["1", "2"]),
        "the refused write changed nothing"
    );
    assert_eq!(group["version"], saved["version"]);
    assert_eq!(shown_etag, format!("\"{}\"", group["version"]));
    // A content hash from an older server names no version the group can be at.
    let old_style = server
        .request(Method::PUT, "/api/v1/groups/beta")
        .header("if-match", "\"5f1d3c0a9b\"")
        .json(&json!({ "members": ["4"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(old_style.status(), 412);

    let stale_delete = server
        .request(Method::DELETE, "/api/v1/groups/beta")
        .header("if-match", format!("\"{first}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(stale_delete.status(), 412);
    let delete = server
        .request(Method::DELETE, "/api/v1/groups/beta")
        .header("if-match", format!("\"{}\"", group["version"]))
        .send()
        .await
        .unwrap();
    // The answer is the deletion's history event, so it can be undone.
    let (status, deleted) = common::json_of(delete).await;
    assert_eq!(
        (status, &deleted["action"]),
        (200, &json!("deleted")),
        "{deleted}"
    );
    let (status, body) = common::json_of(put(Some(first), false, &["5"]).await.unwrap()).await;
    assert_eq!(status, 412, "{body}");
    assert!(body["message"].as_str().unwrap().contains("was deleted"));
    // Without conditions a PUT still creates or replaces, as before.
    assert_eq!(put(None, false, &["9"]).await.unwrap().status(), 200);
    server.stop().await;
}

/// The coverage answer says who would get the feature at a percentage: its listed users less
/// the excluded ones, its stored groups' listed members, and the percentage's share of the
/// other known users (bucketed as ramp_core does); groups with rules or defined in code are
/// named, since their members cannot be counted.
#[tokio::test]
async fn coverage_counts_listed_users_group_members_and_the_percentage_of_the_rest() {
    let server = TestServer::memory().await;
    let ids = |prefix: &str, count: usize| -> Vec<String> {
        (1..=count).map(|n| format!("{prefix}-{n}")).collect()
    };
    for (path, body) in [
        (
            "/api/v1/groups/vip",
            json!({ "members": ["vip-1", "vip-2", "vip-3", "listed-1", "blocked-1"] }),
        ),
        (
            "/api/v1/groups/pro",
            json!({ "members": ["pro-1"], "rules": ["plan in [pro]"] }),
        ),
    ] {
        let (status, answer) = server.send_json(Method::PUT, path, body).await;
        assert!(status == 200 || status == 201, "{path}: {status} {answer}");
    }
    let mut excluded = ids("blocked", 2);
    excluded.push("listed-2".to_owned());
    let (status, answer) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({ "name": "reach", "users": ids("listed", 40), "excluded_users": excluded,
                    "groups": ["vip", "pro", "app_staff"] }),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    // Another feature's users are known too: only the percentage can reach them.
    let (status, _) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({ "name": "elsewhere", "users": ids("other", 400) }),
        )
        .await;
    assert_eq!(status, 201);

    // The other ids: neither listed, excluded nor a member of an attached stored group (a
    // listed member of a group with rules belongs whatever the rules say).
    let others = ids("other", 400);
    let known = 40 + 2 + 3 + 401;
    let path = "/api/v1/features/reach/coverage?percentage=30";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let coverage = loop {
        let (status, coverage) = server.get_json(path).await;
        assert_eq!(status, 200, "{coverage}");
        // The live snapshot trails writes slightly.
        if coverage["known_users"] == known {
            break coverage;
        }
        assert!(std::time::Instant::now() < deadline, "{coverage}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let by_percentage = others
        .iter()
        .filter(|id| ramp_core::bucket::in_percentage(id, "reach", 30.0, false))
        .count();
    assert!(
        by_percentage > 60 && by_percentage < 200,
        "a plausible share: {by_percentage}"
    );
    assert_eq!(coverage["listed"], 39, "listed-2 is excluded: {coverage}");
    assert_eq!(
        coverage["group_members"], 4,
        "vip-1..3 and pro-1: {coverage}"
    );
    assert_eq!(coverage["excluded"], 3, "{coverage}");
    assert_eq!(coverage["others"], others.len(), "{coverage}");
    assert_eq!(coverage["by_percentage"], by_percentage, "{coverage}");
    assert_eq!(coverage["reached"], 39 + 4 + by_percentage, "{coverage}");
    let mut by_rule: Vec<&str> = coverage["groups_by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|name| name.as_str())
        .collect();
    by_rule.sort_unstable();
    assert_eq!(
        by_rule,
        ["app_staff", "pro"],
        "vip has no rules: {coverage}"
    );

    // At 0 % only the lists and groups reach anyone; at 100 % everyone but the excluded.
    let (_, none) = server
        .get_json("/api/v1/features/reach/coverage?percentage=0")
        .await;
    assert_eq!(
        (none["reached"].as_u64(), none["covered"].as_u64()),
        (Some(43), Some(0))
    );
    let (_, all) = server
        .get_json("/api/v1/features/reach/coverage?percentage=100")
        .await;
    assert_eq!(all["reached"], known - 3, "{all}");
    server.stop().await;
}
