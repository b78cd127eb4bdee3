//! `?interval=week|month` through the real report endpoint: the same cells per period, each
//! suppressed on its own, consecutive periods oldest first, barriers in the whole report's
//! order; and a bad interval refused.

mod common;
mod report_support;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use report_support::{cell, fixture, SITE};
use serde_json::{json, Value};

fn codes(barriers: &Value) -> Vec<&str> {
    barriers
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn each_period_has_its_own_cells() {
    let t = common::state_with(common::report_config).await;
    fixture(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", SITE, Role::Viewer).await;

    // Two weeks of March: patients in the first, providers in the second.
    let window = "since=2026-03-02&until=2026-03-16";
    let (status, r) = get!(
        app,
        Some(&token),
        format!("/api/v1/sites/{SITE}/report?interval=week&{window}")
    );
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["interval"], "week");
    let periods = r["periods"].as_array().unwrap();
    let bounds: Vec<(&str, &str)> = periods
        .iter()
        .map(|p| (p["start"].as_str().unwrap(), p["end"].as_str().unwrap()))
        .collect();
    assert_eq!(
        bounds,
        [("2026-03-02", "2026-03-09"), ("2026-03-09", "2026-03-16")]
    );
    let (first, second) = (&periods[0], &periods[1]);
    assert_eq!(
        first["groups"],
        json!([
            {"group": "patient", "respondents": 6},
            {"group": "provider", "suppressed": true},
            {"group": "leadership", "suppressed": true}
        ])
    );
    assert_eq!(
        cell(first, "awareness", "patient"),
        &json!({"asked": 6, "count": 2, "share": 0.3333, "ci": [0.0968, 0.7], "unprompted": 0})
    );
    // Two of the six were asked about errors: suppressed in this week, with no number.
    assert_eq!(
        cell(first, "enrollment_technical", "patient"),
        &json!({"suppressed": true})
    );
    assert_eq!(
        cell(second, "awareness", "patient"),
        &json!({"suppressed": true})
    );
    let a = cell(second, "awareness", "provider");
    assert_eq!(
        (a["asked"].as_u64(), a["count"].as_u64()),
        (Some(3), Some(3))
    );
    // One group per week: no gap in either, though the whole window has one.
    assert!(first["barriers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["gap"].is_null()));
    let whole = report_support::barrier(&r, "awareness");
    assert_eq!(whole["gap"], 0.6667);
    assert_eq!(whole["gap_groups"], json!(["provider", "patient"]));
    // Every period lists the barriers in the whole report's order.
    for p in periods {
        assert_eq!(codes(&p["barriers"]), codes(&r["barriers"]));
    }

    // The same window by month: one period, March, with both groups.
    let (_, r) = get!(
        app,
        Some(&token),
        format!("/api/v1/sites/{SITE}/report?interval=month&{window}")
    );
    let periods = r["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 1);
    assert_eq!(
        (&periods[0]["start"], &periods[0]["end"]),
        (&json!("2026-03-01"), &json!("2026-04-01"))
    );
    assert_eq!(
        report_support::barrier(&periods[0], "awareness")["gap"],
        0.6667
    );

    // Without a window: consecutive weeks from the first response to the last.
    let (_, r) = get!(
        app,
        Some(&token),
        format!("/api/v1/sites/{SITE}/report?interval=week")
    );
    let periods = r["periods"].as_array().unwrap();
    assert_eq!(periods[0]["start"], "2026-03-02");
    assert_eq!(periods.last().unwrap()["start"], "2026-03-09");
    for w in periods.windows(2) {
        assert_eq!(w[0]["end"], w[1]["start"]);
    }
    // Without an interval there are no periods.
    let (_, r) = get!(app, Some(&token), format!("/api/v1/sites/{SITE}/report"));
    assert!(r.get("periods").is_none() && r.get("interval").is_none());
}

#[actix_web::test]
async fn an_unknown_interval_is_refused() {
    let t = common::state_with(common::report_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", SITE, Role::Viewer).await;
    let (status, r) = get!(
        app,
        Some(&token),
        format!("/api/v1/sites/{SITE}/report?interval=fortnight")
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "invalid_query");
    assert_eq!(r["error"]["field"], "interval");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("week or month"));
}
