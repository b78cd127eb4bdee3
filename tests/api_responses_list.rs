//! Listing a site's responses: time order, filters, cursor pages, bad query parameters.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use serde_json::{json, Value};

#[actix_web::test]
async fn filters_and_cursor_pages() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", "test-clinic", Role::Viewer).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let (uri, answers) = if i % 3 == 2 {
            (
                "/api/v1/sites/test-clinic/surveys/provider-short/responses",
                json!({ "help_available": "no" }),
            )
        } else {
            (
                "/api/v1/sites/test-clinic/surveys/every-kind/responses",
                json!({ "aware": "no" }),
            )
        };
        let req = test::TestRequest::post()
            .uri(uri)
            .set_json(json!({ "answers": answers }))
            .to_request();
        let body: Value = test::call_and_read_body_json(&app, req).await;
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let get = |q: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/sites/test-clinic/responses{q}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };
    let all: Value = test::call_and_read_body_json(&app, get("")).await;
    let listed: Vec<&str> = all["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "oldest first, across surveys"
    );
    assert!(all["next_cursor"].is_null());

    let providers: Value = test::call_and_read_body_json(&app, get("?group=provider")).await;
    assert_eq!(providers["responses"].as_array().unwrap().len(), 2);
    let by_survey: Value = test::call_and_read_body_json(&app, get("?survey=every-kind")).await;
    assert_eq!(by_survey["responses"].as_array().unwrap().len(), 5);
    let future: Value = test::call_and_read_body_json(&app, get("?since=2999-01-01")).await;
    assert_eq!(future["responses"].as_array().unwrap().len(), 0);
    let past: Value = test::call_and_read_body_json(&app, get("?until=2000-01-01T00:00:00Z")).await;
    assert_eq!(past["responses"].as_array().unwrap().len(), 0);
    let none_tagged: Value = test::call_and_read_body_json(&app, get("?tag=awareness")).await;
    assert_eq!(none_tagged["responses"].as_array().unwrap().len(), 0);

    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let q = if cursor.is_empty() {
            "?limit=3".to_string()
        } else {
            format!("?limit=3&cursor={cursor}")
        };
        let page: Value = test::call_and_read_body_json(&app, get(&q)).await;
        for r in page["responses"].as_array().unwrap() {
            paged.push(r["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(paged, ids, "pages cover every response once, in order");

    for bad in [
        "?limit=0",
        "?limit=abc",
        "?since=yesterday",
        "?cursor=zzz",
        "?colour=red",
    ] {
        let res = test::call_service(&app, get(bad)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["code"], "invalid_query", "{bad}");
    }
}
