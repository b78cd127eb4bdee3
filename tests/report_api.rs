//! The report API on a fixture with known counts: shares, gap, sorting (ties in codebook
//! order), small-cell suppression, survey and date filters, live updates, re-tagging, the
//! startup rebuild, and access control.

mod common;
mod report_support;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use chorus::domain::{StoredResponse, Tag};
use common::TestStore;
use report_support::barrier;
use serde_json::{json, Value};

fn response_at(
    site: &str,
    survey: &str,
    group: &str,
    rfc3339: &str,
    tags: &[&str],
) -> StoredResponse {
    common::response_at(site, (survey, 1), group, rfc3339, tags)
}

/// test-clinic (min_cell 2): 10 patients, 4 providers, 1 leader, over 2026-03-02..04.
fn fixture() -> Vec<StoredResponse> {
    let p = |t: &str, tags: &[&str]| response_at("test-clinic", "every-kind", "patient", t, tags);
    let v =
        |t: &str, tags: &[&str]| response_at("test-clinic", "provider-short", "provider", t, tags);
    let mut all = vec![p(
        "2026-03-02T10:00:00Z",
        // A repeated code counts once per respondent.
        &["enrollment_technical", "awareness", "enrollment_technical"],
    )];
    for i in 0..5 {
        all.push(p(
            &format!("2026-03-02T10:0{}:00Z", i + 1),
            &["enrollment_technical"],
        ));
    }
    all.push(p("2026-03-04T15:00:00Z", &["enrollment_technical"]));
    for i in 0..3 {
        all.push(p(
            &format!("2026-03-04T15:0{}:00Z", i + 1),
            &["enrollment_assistance"],
        ));
    }
    all.push(v(
        "2026-03-02T09:00:00Z",
        &["enrollment_assistance", "selective_promotion"],
    ));
    all.push(v(
        "2026-03-02T09:01:00Z",
        &["enrollment_assistance", "enrollment_technical"],
    ));
    all.push(v(
        "2026-03-03T12:00:00Z",
        &["enrollment_assistance", "selective_promotion"],
    ));
    all.push(v("2026-03-03T12:01:00Z", &[]));
    all.push(response_at(
        "test-clinic",
        "leadership-pulse",
        "leadership",
        "2026-03-03T08:00:00Z",
        &["awareness"],
    ));
    all
}

async fn store_all(state: &chorus::AppState, responses: &[StoredResponse]) {
    for r in responses {
        state.store.insert(r).await.unwrap();
    }
}

/// A counted cell of everyone asked: its count and share, no unprompted mention, and a 95%
/// interval around the share (its exact figures are checked against statsmodels in
/// tests/report_stats.rs).
fn assert_counted(cell: &Value, count: u64, share: f64) {
    assert_eq!(cell["count"], count, "{cell}");
    assert_eq!(cell["share"], share, "{cell}");
    assert_eq!(cell["unprompted"], 0, "{cell}");
    let asked = cell["asked"].as_u64().expect("asked");
    assert!(asked >= count && (count as f64 / asked as f64 - share).abs() < 1e-4);
    let (lo, hi) = (
        cell["ci"][0].as_f64().unwrap(),
        cell["ci"][1].as_f64().unwrap(),
    );
    assert!(
        0.0 <= lo && lo <= share && share <= hi && hi <= 1.0,
        "{cell}"
    );
}

macro_rules! get_report {
    ($app:expr, $token:expr, $query:expr) => {{
        let req = test::TestRequest::get()
            .uri(&format!("/api/v1/sites/test-clinic/report{}", $query))
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .to_request();
        let res = test::call_service(&$app, req).await;
        let status = res.status();
        let body: Value = test::read_body_json(res).await;
        (status, body)
    }};
}

#[actix_web::test]
async fn known_counts_shares_gap_order_and_suppression() {
    let t = common::fixture_state().await;
    store_all(&t.state, &fixture()).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", "test-clinic", Role::Viewer).await;
    let (status, r) = get_report!(app, token, "");
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["site"], "test-clinic");
    assert_eq!(
        r["groups"],
        json!([
            {"group": "patient", "respondents": 10},
            {"group": "provider", "respondents": 4},
            {"group": "leadership", "suppressed": true}
        ])
    );
    assert_eq!(
        barrier(&r, "enrollment_technical"),
        &json!({
            "code": "enrollment_technical",
            "label": "Glitches, errors or lock-outs while enrolling",
            "by_group": {
                "patient": {"asked": 10, "count": 7, "share": 0.7, "ci": [0.3968, 0.8922], "unprompted": 0},
                "provider": {"asked": 4, "count": 1, "share": 0.25, "ci": [0.0456, 0.6994], "unprompted": 0},
                "leadership": {"suppressed": true}
            },
            "gap": 0.45,
            "gap_ci": [-0.0921, 0.7306],
            "gap_groups": ["patient", "provider"],
            "evident": false
        })
    );
    let awareness = barrier(&r, "awareness");
    assert_counted(&awareness["by_group"]["patient"], 1, 0.1);
    assert_counted(&awareness["by_group"]["provider"], 0, 0.0);
    assert_eq!(
        awareness["by_group"]["leadership"],
        json!({"suppressed": true}),
        "the one leader's tag is not shown"
    );
    assert_eq!(awareness["gap"], 0.1);
    let order: Vec<&str> = r["barriers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "selective_promotion",   // 0.5
            "enrollment_technical",  // 0.45, earlier in the codebook than
            "enrollment_assistance", // 0.45 (0.75 - 0.3)
            "awareness",             // 0.1
            "information_overload",  // 0 from here on, codebook order
            "wrong_setting",
            "wrong_messenger",
            "provider_ambivalence",
            "privacy_concern",
            "access_technology",
            "value_unclear",
        ]
    );
    assert_eq!(barrier(&r, "enrollment_assistance")["gap"], 0.45);
    assert_eq!(barrier(&r, "selective_promotion")["gap"], 0.5);
}

#[actix_web::test]
async fn survey_and_date_filters() {
    let t = common::fixture_state().await;
    store_all(&t.state, &fixture()).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", "test-clinic", Role::Viewer).await;

    // Whole days only (midnight bounds): no store read needed.
    let (_, r) = get_report!(app, token, "?since=2026-03-03");
    assert_eq!(r["groups"][0]["respondents"], 4);
    assert_eq!(r["groups"][1]["respondents"], 2);
    assert_eq!(r["groups"][2]["suppressed"], true);
    let tech = barrier(&r, "enrollment_technical");
    assert_counted(&tech["by_group"]["patient"], 1, 0.25);
    assert_counted(&tech["by_group"]["provider"], 0, 0.0);

    // Partial edge days: 09:30 on the 2nd drops the two early providers, noon on the 4th drops
    // the afternoon patients.
    let (status, r) = get_report!(
        app,
        token,
        "?since=2026-03-02T09:30:00Z&until=2026-03-04T12:00:00Z"
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["groups"][0]["respondents"], 6);
    assert_eq!(r["groups"][1]["respondents"], 2);
    let tech = barrier(&r, "enrollment_technical");
    assert_counted(&tech["by_group"]["patient"], 6, 1.0);
    let sel = barrier(&r, "selective_promotion");
    assert_counted(&sel["by_group"]["provider"], 1, 0.5);

    // Inside one day.
    let (_, r) = get_report!(
        app,
        token,
        "?since=2026-03-02T09:00:30Z&until=2026-03-02T10:02:30Z"
    );
    assert_eq!(r["groups"][0]["respondents"], 3);
    assert_eq!(
        r["groups"][1]["suppressed"], true,
        "1 provider < min_cell 2"
    );

    // One survey: only its group has respondents, so no gap can be computed.
    let (_, r) = get_report!(app, token, "?survey=every-kind");
    assert_eq!(r["groups"][0]["respondents"], 10);
    assert_eq!(r["groups"][1]["suppressed"], true);
    assert!(r["barriers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["gap"].is_null()));

    // Empty window.
    let (_, r) = get_report!(app, token, "?since=2030-01-01");
    assert!(r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["suppressed"] == true));

    for (q, code, status) in [
        ("?survey=nope", "survey_not_found", StatusCode::NOT_FOUND),
        ("?since=soon", "invalid_query", StatusCode::BAD_REQUEST),
        (
            "?since=2026-03-04&until=2026-03-02",
            "invalid_query",
            StatusCode::BAD_REQUEST,
        ),
        ("?group=patient", "invalid_query", StatusCode::BAD_REQUEST),
    ] {
        let (s, body) = get_report!(app, token, q);
        assert_eq!(s, status, "{q}");
        assert_eq!(body["error"]["code"], code, "{q}");
    }
}

#[actix_web::test]
async fn new_responses_and_retags_keep_the_report_current() {
    let t = common::fixture_state().await;
    let fixture = fixture();
    store_all(&t.state, &fixture).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", "test-clinic", Role::Viewer).await;

    let req = test::TestRequest::post()
        .uri("/api/v1/sites/test-clinic/surveys/provider-short/responses")
        .set_json(json!({ "answers": { "help_available": "no" } }))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::CREATED
    );
    let (_, r) = get_report!(app, token, "");
    assert_eq!(
        r["groups"][1]["respondents"], 5,
        "the new provider is counted"
    );

    // Re-tag the untagged provider as selective_promotion.
    let before = fixture
        .iter()
        .find(|r| r.group == "provider" && r.tags.is_empty())
        .unwrap()
        .clone();
    let mut after = before.clone();
    after.tags.push(Tag {
        code: "selective_promotion".into(),
        source: "rules/retag.rhai".into(),
    });
    let retag = |r: &StoredResponse| chorus::store::TagUpdate {
        site: r.site.clone(),
        survey: r.survey.clone(),
        id: r.id,
        tags: r.tags.clone(),
        rule_errors: r.rule_errors.clone(),
    };
    assert!(t.state.store.update_tags(&retag(&after)).await.unwrap());
    let (_, r) = get_report!(app, token, "");
    assert_counted(
        &barrier(&r, "selective_promotion")["by_group"]["provider"],
        3,
        0.6,
    );
    // And back: the counters never drift.
    assert!(t.state.store.update_tags(&retag(&before)).await.unwrap());
    let (_, r) = get_report!(app, token, "");
    assert_counted(
        &barrier(&r, "selective_promotion")["by_group"]["provider"],
        2,
        0.4,
    );
}

#[actix_web::test]
async fn the_index_is_rebuilt_from_the_store_at_startup() {
    let t = common::fixture_state().await;
    store_all(&t.state, &fixture()).await;
    let config = t.state.config.clone();
    let live = chorus::services::reports::site_report(
        &t.state,
        &t.state.sites.get("test-clinic").unwrap().site,
        &Default::default(),
    )
    .await
    .unwrap();
    t.state.store.close().await.unwrap();
    let common::TestState { dir, state } = t;
    drop(state);
    let reopened = chorus::AppState::open(config).await.expect("reopens");
    let rebuilt = chorus::services::reports::site_report(
        &reopened,
        &reopened.sites.get("test-clinic").unwrap().site,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(live, rebuilt);
    assert_eq!(rebuilt.groups[0].respondents, Some(10));
    drop(dir);
}

#[actix_web::test]
async fn report_needs_a_token_for_the_site() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let other = common::add_user(&t.state, "b", "other-clinic", Role::Admin).await;
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/test-clinic/report")
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = get_report!(app, other, "");
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
}
