//! Task follow-ups: listing with filters, lifecycle with history, 409 on anything else, roles.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use chorus::domain::{Action, Priority};
use common::followups::{now_rfc3339, store_with_actions};
use common::TestStore;
use serde_json::{json, Value};

fn task(queue: &str, due_hours: Option<i64>) -> Action {
    Action::Task {
        queue: queue.into(),
        title: "Call back to finish portal enrollment".into(),
        due_hours,
        priority: Priority::High,
        note: None,
    }
}

#[actix_web::test]
async fn task_lifecycle_history_and_conflicts() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", "test-clinic", Role::Staff).await;
    let r = store_with_actions(
        &t.state,
        "test-clinic",
        "every-kind",
        &now_rfc3339(),
        vec![task("enrollment-help", Some(48))],
    )
    .await;
    let id = r.follow_ups[0].id;
    let url = format!("/api/v1/sites/test-clinic/follow-ups/{id}");
    let post = |body: Value| {
        test::TestRequest::post()
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {staff}")))
            .set_json(body)
            .to_request()
    };

    let list: Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/sites/test-clinic/follow-ups?status=open")
            .insert_header(("Authorization", format!("Bearer {staff}")))
            .to_request(),
    )
    .await;
    let tasks = list["follow_ups"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["id"], id.to_string());
    assert_eq!(tasks[0]["response_id"], r.id.to_string());
    assert_eq!(tasks[0]["queue"], "enrollment-help");
    assert_eq!(tasks[0]["priority"], "high");
    assert_eq!(tasks[0]["overdue"], false);
    assert!(tasks[0]["due_at"].is_string());

    // Done straight from open is not a step of the lifecycle.
    let res = test::call_service(&app, post(json!({ "status": "done" }))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = test::read_body_json(res).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("open task can be claimed or dismissed"));

    let claimed: Value =
        test::call_and_read_body_json(&app, post(json!({ "status": "claimed" }))).await;
    assert_eq!(claimed["status"], "claimed");
    let done: Value = test::call_and_read_body_json(&app, post(json!({ "status": "done" }))).await;
    assert_eq!(done["status"], "done");
    let history: Vec<(&str, &str)> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["status"].as_str().unwrap(), h["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        history,
        [("open", "test_rule"), ("claimed", "sam"), ("done", "sam")]
    );

    for body in [
        json!({ "status": "claimed" }),
        json!({ "status": "dismissed", "reason": "x" }),
        json!({ "status": "open" }),
    ] {
        let res = test::call_service(&app, post(body)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "a done task is closed");
    }
    let res = test::call_service(&app, post(json!({ "status": "finished" }))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The stored task kept its last valid state.
    let stored = t.state.store.all_tasks("test-clinic").await.unwrap();
    assert_eq!(stored[0].status, chorus::domain::TaskStatus::Done);
    assert_eq!(stored[0].history.len(), 3);
}

#[actix_web::test]
async fn dismiss_needs_a_reason() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", "test-clinic", Role::Staff).await;
    let r = store_with_actions(
        &t.state,
        "test-clinic",
        "every-kind",
        &now_rfc3339(),
        vec![task("q", None)],
    )
    .await;
    let url = format!(
        "/api/v1/sites/test-clinic/follow-ups/{}",
        r.follow_ups[0].id
    );
    let call = |body: Value| {
        test::TestRequest::post()
            .uri(&url)
            .insert_header(("Authorization", format!("Bearer {staff}")))
            .set_json(body)
            .to_request()
    };
    let res = test::call_service(&app, call(json!({ "status": "dismissed" }))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = test::call_and_read_body_json(
        &app,
        call(json!({ "status": "dismissed", "reason": "patient enrolled at the desk" })),
    )
    .await;
    assert_eq!(body["status"], "dismissed");
    assert_eq!(body["history"][1]["reason"], "patient enrolled at the desk");
}

#[actix_web::test]
async fn overdue_filter_queue_filter_and_roles() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", "test-clinic", Role::Staff).await;
    let viewer = common::add_user(&t.state, "val", "test-clinic", Role::Viewer).await;
    let other = common::add_user(&t.state, "bo", "other-clinic", Role::Staff).await;
    store_with_actions(
        &t.state,
        "test-clinic",
        "every-kind",
        "2020-01-01T00:00:00.000Z",
        vec![task("enrollment-help", Some(48))],
    )
    .await;
    store_with_actions(
        &t.state,
        "test-clinic",
        "every-kind",
        &now_rfc3339(),
        vec![task("practice-manager", Some(48))],
    )
    .await;
    let get = |q: &str, token: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/sites/test-clinic/follow-ups{q}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };
    let overdue: Value = test::call_and_read_body_json(&app, get("?overdue=true", &staff)).await;
    let list = overdue["follow_ups"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["queue"], "enrollment-help");
    assert_eq!(list[0]["overdue"], true);
    let by_queue: Value =
        test::call_and_read_body_json(&app, get("?queue=practice-manager", &staff)).await;
    assert_eq!(by_queue["follow_ups"].as_array().unwrap().len(), 1);

    assert_eq!(
        test::call_service(&app, get("", &viewer)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        test::call_service(&app, get("", &other)).await.status(),
        StatusCode::FORBIDDEN
    );
    let missing = test::TestRequest::post()
        .uri(&format!(
            "/api/v1/sites/test-clinic/follow-ups/{}",
            uuid::Uuid::now_v7()
        ))
        .insert_header(("Authorization", format!("Bearer {staff}")))
        .set_json(json!({ "status": "claimed" }))
        .to_request();
    assert_eq!(
        test::call_service(&app, missing).await.status(),
        StatusCode::NOT_FOUND
    );
}
