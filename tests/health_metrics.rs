//! /healthz and /metrics.

mod common;

use actix_web::test;
use chorus::create_app;
use serde_json::json;

#[actix_web::test]
async fn healthz_answers_when_the_store_does() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
}

#[actix_web::test]
async fn metrics_count_responses_by_site_and_group_and_latency() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let body = json!({ "answers": { "role": "physician", "offer_to": "all", "when_best": "check_in", "who_should": "physician", "help_available": "yes" }});
    for _ in 0..2 {
        let req = test::TestRequest::post()
            .uri("/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses")
            .set_json(&body)
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 201);
    }
    let ops = common::add_user(&t.state, "ops", "*", chorus::domain::Role::Viewer).await;
    let req = test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("Authorization", format!("Bearer {ops}")))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        text.contains("chorus_responses_stored_total{site=\"demo-clinic\",group=\"provider\"} 2"),
        "{text}"
    );
    assert!(text.contains("# TYPE chorus_http_request_duration_seconds histogram"));
    assert!(
        text.contains("chorus_http_request_duration_seconds_count 2"),
        "{text}"
    );
}
