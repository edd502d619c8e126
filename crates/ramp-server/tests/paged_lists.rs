//! The API the UI pages with at 10,000 features: the feature list paged (`offset`, `limit`,
//! `total`), filtered by owner and sorted on the server (so a
//! page is the top of the whole order, not of the rows a browser holds), and history pages
//! that summarise long id lists (`lists=summary`) while the event stays whole on demand and
//! for every other reader.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<String> {
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| feature["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_feature_list_sorts_every_match_before_paging() {
    let server = TestServer::memory().await;
    for (name, stage, percentage) in [
        ("b-mid", "beta", 50.0),
        ("a-low", "graduated", 5.0),
        ("d-high", "development", 90.0),
        ("c-tie", "beta", 50.0),
    ] {
        let body = json!({"name": name, "stage": stage, "percentage": percentage});
        let (status, answer) = server
            .send_json(Method::POST, "/api/v1/features", body)
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let page = |query: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server.get_json(&format!("/api/v1/features?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            assert_eq!(body["total"], 4, "{query}: {body}");
            names(&body)
        }
    };
    assert_eq!(page("sort=percentage&limit=2").await, ["a-low", "b-mid"]);
    // Ties fall back to the name, and `descending` reverses that too.
    assert_eq!(
        page("sort=percentage&descending=true&limit=3").await,
        ["d-high", "c-tie", "b-mid"]
    );
    assert_eq!(
        page("sort=stage").await,
        ["d-high", "b-mid", "c-tie", "a-low"]
    );
    assert_eq!(page("sort=name&offset=1&limit=2").await, ["b-mid", "c-tie"]);

    // The latest change first, descending: touch one feature and it leads.
    let (status, body) = server
        .send_json(
            Method::PUT,
            "/api/v1/features/a-low/percentage",
            json!({"percentage": 6}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        page("sort=last_change&descending=true&limit=1").await,
        ["a-low"]
    );
    // Nothing was checked: every feature ties, so the name decides.
    assert_eq!(
        page("sort=last_seen").await,
        ["a-low", "b-mid", "c-tie", "d-high"]
    );

    let (status, body) = server.get_json("/api/v1/features?sort=colour").await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn history_pages_summarise_long_user_lists_on_request() {
    let server = TestServer::memory().await;
    let (status, body) = server
        .send_json(Method::POST, "/api/v1/features", json!({"name": "big"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let users: Vec<String> = (0..5_000).map(|number| format!("u{number}")).collect();
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features/big/users",
            json!({"users": users}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features/big/exclusions",
            json!({"users": ["x1", "x2"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    for path in [
        "/api/v1/features/big/history?lists=summary",
        "/api/v1/history?feature=big&lists=summary",
    ] {
        let (status, page) = server.get_json(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let events = page["events"].as_array().unwrap();
        let added = events
            .iter()
            .find(|event| event["cut_lists"].is_array())
            .unwrap_or_else(|| panic!("{path}: no cut event in {page}"));
        assert_eq!(
            added["cut_lists"],
            json!([{"change": 0, "added_count": 5000, "removed_count": 0}])
        );
        assert_eq!(added["changes"][0]["added"].as_array().unwrap().len(), 10);
        assert_eq!(added["changes"][0]["added"][0], "u0");
        // Short lists are whole and not marked.
        let excluded = &events[0];
        assert!(excluded.get("cut_lists").is_none(), "{excluded}");
        assert_eq!(excluded["changes"][0]["added"], json!(["x1", "x2"]));

        let id = added["id"].as_u64().unwrap();
        let (status, whole) = server.get_json(&format!("/api/v1/history/{id}")).await;
        assert_eq!(status, 200, "{whole}");
        assert_eq!(whole["changes"][0]["added"].as_array().unwrap().len(), 5000);
    }

    // Without the parameter (the CLI, the HTTP store) every id is there.
    let (_, full) = server.get_json("/api/v1/features/big/history").await;
    let lengths: Vec<usize> = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["changes"][0]["added"].as_array().map(Vec::len))
        .collect();
    assert!(lengths.contains(&5000), "{lengths:?}");
    assert!(full["events"][1].get("cut_lists").is_none());

    let (status, body) = server.get_json("/api/v1/history?lists=some").await;
    assert!(status == 400 || status == 422, "{status} {body}");
    assert!(body["error"].is_string(), "{body}");
}

/// Large lists are read a page at a time: `total` counts every match, `offset`/`limit` cut the
/// page in name order, `owner` filters on `data.owner`, and a limit out of range is refused.
#[tokio::test]
async fn the_feature_list_pages_and_filters_by_owner() {
    let server = TestServer::memory().await;
    for index in 0..25 {
        let owner = if index % 5 == 0 { "Ana" } else { "bo" };
        let (status, body) = server
            .send_json(
                Method::POST,
                "/api/v1/features",
                json!({"name": format!("paged-{index:02}"), "data": {"owner": owner}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, page) = server
        .get_json("/api/v1/features?offset=10&limit=4&with=stage_since")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 25);
    assert_eq!(
        names(&page),
        ["paged-10", "paged-11", "paged-12", "paged-13"]
    );
    assert!(page["features"][0]["stage_since"].is_string(), "{page}");

    let (_, last) = server.get_json("/api/v1/features?offset=23&limit=4").await;
    assert_eq!(names(&last), ["paged-23", "paged-24"]);
    let (_, beyond) = server.get_json("/api/v1/features?offset=99&limit=4").await;
    assert_eq!(
        (beyond["total"].as_u64(), names(&beyond).len()),
        (Some(25), 0)
    );

    let (_, owned) = server.get_json("/api/v1/features?owner=ana&limit=2").await;
    assert_eq!(owned["total"], 5);
    assert_eq!(names(&owned), ["paged-00", "paged-05"]);

    let (_, all) = server.get_json("/api/v1/features").await;
    assert_eq!((all["total"].as_u64(), names(&all).len()), (Some(25), 25));

    for bad in ["limit=0", "limit=1001", "limit=-1", "offset=x"] {
        let (status, body) = server.get_json(&format!("/api/v1/features?{bad}")).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
}
