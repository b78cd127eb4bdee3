//! The report tests' fixture on ask-clinic (tests/fixtures/report-sites): stored responses at
//! known times and versions, and requests to the real app.
#![allow(dead_code)]

use crate::common::{self, TestStore};
use serde_json::Value;

pub const SITE: &str = "ask-clinic";

#[macro_export]
macro_rules! get {
    ($app:expr, $token:expr, $uri:expr) => {{
        let mut req = test::TestRequest::get().uri(&$uri);
        if let Some(token) = $token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let res = test::call_service(&$app, req.to_request()).await;
        let status = res.status();
        let body: Value = test::read_body_json(res).await;
        (status, body)
    }};
}

#[macro_export]
macro_rules! submit {
    ($app:expr, $survey:expr, $answers:expr) => {{
        let req = test::TestRequest::post()
            .uri(&format!("/api/v1/sites/{}/surveys/{}/responses", $crate::report_support::SITE, $survey))
            .set_json(json!({ "answers": $answers }))
            .to_request();
        let res = test::call_service(&$app, req).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }};
}

pub fn cell<'a>(report: &'a Value, code: &str, group: &str) -> &'a Value {
    &barrier(report, code)["by_group"][group]
}

pub fn barrier<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["barriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == code)
        .unwrap_or_else(|| panic!("no barrier {code}"))
}

/// Version 1 patients (2 March, before the survey asked about errors), two version 2 patients
/// and three providers in March; the rest is sent through the API now.
pub async fn fixture(state: &chorus::AppState) {
    let at = |survey: (&str, u32), group: &str, t: &str, tags: &[&str]| {
        common::response_at(SITE, survey, group, t, tags)
    };
    let stored = [
        at(
            ("patient", 1),
            "patient",
            "2026-03-02T10:00:00Z",
            &["awareness"],
        ),
        at(
            ("patient", 1),
            "patient",
            "2026-03-02T10:01:00Z",
            &["awareness"],
        ),
        // Named in version 1, which did not ask: an unprompted mention.
        at(
            ("patient", 1),
            "patient",
            "2026-03-02T10:02:00Z",
            &["enrollment_technical"],
        ),
        at(("patient", 1), "patient", "2026-03-02T10:03:00Z", &[]),
        at(
            ("patient", 2),
            "patient",
            "2026-03-03T10:00:00Z",
            &["enrollment_technical"],
        ),
        at(
            ("patient", 2),
            "patient",
            "2026-03-03T10:01:00Z",
            &["enrollment_technical"],
        ),
        at(
            ("provider", 1),
            "provider",
            "2026-03-10T09:00:00Z",
            &["awareness"],
        ),
        at(
            ("provider", 1),
            "provider",
            "2026-03-10T09:01:00Z",
            &["awareness"],
        ),
        at(
            ("provider", 1),
            "provider",
            "2026-03-10T09:02:00Z",
            &["awareness"],
        ),
    ];
    for r in &stored {
        state.store.insert(r).await.unwrap();
    }
}
