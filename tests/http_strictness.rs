//! Small answers that must be exact (issue 11.8): `/responses` checks its survey and time range
//! as `/report` does, an admin page without a session answers a 303 with an HTML body, and
//! `/metrics` is not public unless configured so.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use chorus::Config;
use serde_json::{json, Value};

#[actix_web::test]
async fn listing_responses_checks_the_survey_and_the_range_as_the_report_does() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", "demo-clinic", Role::Viewer).await;
    let req = test::TestRequest::post()
        .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
        .set_json(json!({ "answers": { "aware": "yes", "tried": "no", "contact_ok": "no" } }))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 201);

    let get = |q: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/sites/demo-clinic/responses{q}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };
    for (query, status, code) in [
        ("?survey=nope", StatusCode::NOT_FOUND, "survey_not_found"),
        (
            "?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "?since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        let res = test::call_service(&app, get(query)).await;
        assert_eq!(res.status(), status, "{query}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
        if code == "invalid_query" {
            assert_eq!(body["error"]["field"], "until", "{body}");
        }
    }
    // The same filters, valid: the stored response is there.
    let res = test::call_service(
        &app,
        get("?survey=patient-enrollment&since=2020-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["responses"].as_array().unwrap().len(), 1, "{body}");
}

#[actix_web::test]
async fn an_admin_page_without_a_session_sends_an_html_redirect() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for uri in [
        "/admin",
        "/admin/sites/demo-clinic",
        "/admin/sites/demo-clinic/rules",
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(res.headers().get("location").unwrap(), "/admin/login");
        let kind = res.headers().get("content-type").unwrap().to_str().unwrap();
        assert!(kind.starts_with("text/html"), "{uri}: {kind}");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("<a href=\"/admin/login\">"), "{body}");
    }
}

async fn metrics_status(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    token: Option<&str>,
) -> (StatusCode, String) {
    let mut req = test::TestRequest::get().uri("/metrics");
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    (status, body)
}

#[actix_web::test]
async fn metrics_need_a_token_of_every_site_unless_configured_public() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, body) = metrics_status(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains("demo-clinic"), "{body}");
    let (status, _) = metrics_status(&app, Some("chorus_not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A user of one site may not see the others' counts.
    let one_site = common::add_user(&t.state, "v", "demo-clinic", Role::Admin).await;
    let (status, body) = metrics_status(&app, Some(&one_site)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("\"forbidden\""), "{body}");
    let every_site = common::add_user(&t.state, "ops", "*", Role::Viewer).await;
    let (status, body) = metrics_status(&app, Some(&every_site)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("# TYPE chorus_http_request_duration_seconds histogram"));

    let open = common::state_with(|data| Config {
        metrics_public: true,
        ..common::demo_config(data)
    })
    .await;
    let app = test::init_service(create_app(open.state.clone())).await;
    let (status, _) = metrics_status(&app, None).await;
    assert_eq!(status, StatusCode::OK);
}

/// JSON Schema calls `2.0` an integer, so a client generated from the document may send it
/// (schemathesis did); `2.5` is still refused.
#[actix_web::test]
async fn a_whole_number_written_with_a_zero_fraction_is_a_count() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "a", "demo-clinic", Role::Admin).await;
    let post = |body: Value| {
        test::TestRequest::post()
            .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/invitations")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .set_json(body)
            .to_request()
    };
    let res = test::call_service(&app, post(json!({ "count": 2.0, "expires_in_days": 3.0 }))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["invitations"].as_array().unwrap().len(), 2, "{body}");
    let res = test::call_service(&app, post(json!({ "count": 2.5 }))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["error"]["code"], "invalid_body");
}
