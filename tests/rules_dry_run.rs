//! POST /api/v1/sites/{site}/rules/dry-run: the site's hooks on posted answers, storing nothing.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::call;
use serde_json::json;

const URL: &str = "/api/v1/sites/demo-clinic/rules/dry-run";

#[actix_web::test]
async fn dry_run_returns_tags_actions_and_errors_and_stores_nothing() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "demo-clinic", Role::Admin).await;
    let body = json!({
        "survey": "patient-enrollment",
        "answers": { "aware": "no", "tried": "no", "why_not": ["no_device"], "contact_ok": "no",
                     "what_happened": ["error"], "comments": "no parking" }
    });
    let (status, out) = call(&app, "POST", URL, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out["tags"],
        json!([
            { "code": "awareness", "source": "barrier_keywords" },
            { "code": "access_technology", "source": "barrier_keywords" },
            { "code": "parking", "source": "rules/parking.rhai" },
        ])
    );
    // what_happened was hidden by show_if (tried = no): the hooks never saw it.
    assert!(out["answers"].get("what_happened").is_none(), "{out}");
    assert_eq!(out["actions"], json!([]));
    assert_eq!(out["errors"], json!([]));

    let body = json!({
        "survey": "patient-enrollment",
        "answers": { "aware": "yes", "tried": "yes", "enrolled": "no", "contact_ok": "yes",
                     "contact_phone": "555-0100" }
    });
    let (status, out) = call(&app, "POST", URL, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["actions"][0]["queue"], "enrollment-help");
    assert_eq!(out["actions"][0]["source"], "enrollment_followup");
    assert_eq!(out["actions"][1]["target"], "helpdesk");

    assert_eq!(
        t.state.store.count_responses("demo-clinic").await.unwrap(),
        0
    );
    assert!(t
        .state
        .store
        .list_rule_errors("demo-clinic", None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[actix_web::test]
async fn dry_run_reports_rule_errors_without_recording_them() {
    let t = common::state_with(rules_common::hostile_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "*", Role::Admin).await;
    let body = json!({ "survey": "attack", "answers": { "attack": "throw" } });
    let (status, out) = call(
        &app,
        "POST",
        "/api/v1/sites/hostile-clinic/rules/dry-run",
        Some(&admin),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out["tags"],
        json!([{ "code": "awareness", "source": "benign" }])
    );
    assert_eq!(out["errors"][0]["source"], "rules/throw.rhai");
    assert_eq!(out["errors"][0]["message"], "threw: boom");
    assert_eq!(out["errors"][0]["line"], 3);
    assert_eq!(
        t.state
            .store
            .count_responses("hostile-clinic")
            .await
            .unwrap(),
        0
    );
    assert!(t
        .state
        .store
        .list_rule_errors("hostile-clinic", None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[actix_web::test]
async fn invalid_dry_runs_get_the_submit_endpoints_errors() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "demo-clinic", Role::Admin).await;

    let body = json!({ "survey": "patient-enrollment", "answers": { "aware": "maybe" } });
    let (status, out) = call(&app, "POST", URL, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["code"], "invalid_answer");
    assert_eq!(out["error"]["field"], "aware");

    let body = json!({ "survey": "nope", "answers": {} });
    let (status, out) = call(&app, "POST", URL, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(out["error"]["code"], "survey_not_found");

    let body = json!({ "answers": {} });
    let (status, _) = call(&app, "POST", URL, Some(&admin), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let staff = common::add_user(&t.state, "staff", "demo-clinic", Role::Staff).await;
    let body = json!({ "survey": "patient-enrollment", "answers": {} });
    let (status, _) = call(&app, "POST", URL, Some(&staff), Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, "POST", URL, None, Some(body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.state.store.count_responses("demo-clinic").await.unwrap(),
        0
    );
}
