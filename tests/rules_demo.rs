//! The shipped plugins and the demo site's own rule, end to end: their rule tests pass, and a
//! real submission gets its tags (with the plugin that produced each) and follow-ups in the 201
//! body and on disk.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use serde_json::json;

#[actix_web::test]
async fn the_demo_rule_tests_pass() {
    let t = common::demo_state().await;
    let rt = t.state.sites.get("demo-clinic").expect("demo site");
    let report = chorus::services::rule_tests::run_rule_tests(&rt.site, &rt.rules);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert!(report.cases >= 20, "only {} cases", report.cases);
    assert_eq!(
        rt.rules.sources(),
        [
            "barrier_keywords",
            "enrollment_followup",
            "rules/enrollment_review.rhai",
            "rules/parking.rhai"
        ]
    );
}

#[actix_web::test]
async fn a_failed_enrollment_gets_tags_with_sources_and_follow_ups() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let answers = json!({
        "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["locked_out"],
        "contact_ok": "yes", "contact_phone": "555-0100",
        "comments": "No parking near the desk, and I worry about privacy."
    });
    let (status, body) =
        rules_common::submit(&app, "demo-clinic", "patient-enrollment", answers).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["tags"],
        json!(["enrollment_technical", "privacy_concern", "parking"])
    );
    let follow_ups = body["follow_ups"].as_array().unwrap();
    let kinds: Vec<(String, String)> = follow_ups
        .iter()
        .map(|f| {
            (
                f["source"].as_str().unwrap().to_string(),
                f["queue"]
                    .as_str()
                    .or(f["target"].as_str())
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "enrollment_followup".to_string(),
                "enrollment-help".to_string()
            ),
            ("enrollment_followup".to_string(), "helpdesk".to_string()),
            ("rules/parking.rhai".to_string(), "front-desk".to_string()),
        ]
    );
    // The help-desk payload carries ids and codes, never answers.
    let payload = follow_ups[1]["payload"].to_string();
    assert!(
        !payload.contains("555-0100") && !payload.contains("privacy."),
        "{payload}"
    );

    let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let stored = t
        .state
        .store
        .response("demo-clinic", id)
        .await
        .unwrap()
        .unwrap();
    let sources: Vec<(&str, &str)> = stored
        .tags
        .iter()
        .map(|t| (t.code.as_str(), t.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("enrollment_technical", "barrier_keywords"),
            ("privacy_concern", "barrier_keywords"),
            ("parking", "rules/parking.rhai"),
        ]
    );
    assert_eq!(stored.follow_ups.len(), 3);
    assert!(stored.rule_errors.is_empty());
}

#[actix_web::test]
async fn a_provider_without_enrollment_help_alerts_the_practice_manager() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let answers = json!({
        "role": "physician", "offer_to": "some", "when_best": "during_visit",
        "who_should": "nurse_ma", "help_available": "no"
    });
    let (status, body) =
        rules_common::submit(&app, "demo-clinic", "provider-enrollment", answers).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["tags"],
        // The structured-answer table first (question by question), then `who_should`.
        json!([
            "enrollment_assistance",
            "selective_promotion",
            "wrong_messenger"
        ])
    );
    assert_eq!(body["follow_ups"].as_array().unwrap().len(), 1);
    assert_eq!(body["follow_ups"][0]["queue"], "practice-manager");
}
