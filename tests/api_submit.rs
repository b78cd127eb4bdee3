//! JSON submission API: every question kind and show_if path, accepted and rejected; bad
//! requests get clear 4xx errors and never a partial write; idempotent submission ids.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::store::ResponseQuery;
use serde_json::{json, Value};

const URL: &str = "/api/v1/sites/test-clinic/surveys/every-kind/responses";

async fn post<S, B>(app: &S, body: Value) -> (StatusCode, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::post()
        .uri(URL)
        .set_json(body)
        .to_request();
    let res = test::call_service(app, req).await;
    let status = res.status();
    let body: Value = test::read_body_json(res).await;
    (status, body)
}

async fn stored(state: &chorus::AppState) -> Vec<chorus::domain::StoredResponse> {
    state
        .store
        .list_responses(&ResponseQuery {
            site: "test-clinic".into(),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

fn valid() -> Value {
    json!({
        "aware": "yes", "channel": "doctor", "problems": ["locked", "error"],
        "which_error": "code expired", "ease": 2, "visits": 4,
        "why_hard": "too many steps", "comments": "thanks"
    })
}

#[actix_web::test]
async fn every_kind_is_accepted_and_stored_with_its_version() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, body) = post(&app, json!({ "answers": valid() })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["id"].is_string());
    assert_eq!(body["tags"], json!([]));
    let all = stored(&t.state).await;
    assert_eq!(all.len(), 1);
    let r = &all[0];
    assert_eq!(r.id.to_string(), body["id"].as_str().unwrap());
    assert_eq!(r.survey_version, 3);
    assert_eq!(r.group, "patient");
    let answers = serde_json::to_value(&r.answers).unwrap();
    // Multi-choice values are kept in the survey's option order.
    assert_eq!(answers["problems"], json!(["error", "locked"]));
    assert_eq!(answers["ease"], json!(2));
    assert_eq!(answers["visits"], json!(4));
    assert_eq!(answers["which_error"], json!("code expired"));
}

#[actix_web::test]
async fn show_if_drops_answers_to_hidden_questions() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    // aware = no hides `channel` (so its required answer is not needed and is dropped);
    // problems without error/locked hides which_error (any_of); ease = 5 hides why_hard.
    let answers = json!({
        "aware": "no", "channel": "mail", "problems": ["none"], "which_error": "x",
        "ease": 5, "why_hard": "hidden"
    });
    let (status, body) = post(&app, json!({ "answers": answers })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let r = &stored(&t.state).await[0];
    let keys: Vec<&String> = r.answers.keys().collect();
    assert_eq!(keys, ["aware", "ease", "problems"]);
}

#[actix_web::test]
async fn required_answer_of_a_shown_question_is_enforced() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, body) = post(&app, json!({ "answers": { "aware": "yes" } })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_answer");
    assert_eq!(body["error"]["field"], "channel");
    assert!(stored(&t.state).await.is_empty());
}

#[actix_web::test]
async fn each_kind_rejects_wrong_values_naming_the_question() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cases = [
        ("aware", json!("maybe")),
        ("aware", json!(true)),
        ("channel", json!("pigeon")),
        ("problems", json!("error")),
        ("problems", json!(["error", "unknown"])),
        ("ease", json!(6)),
        ("ease", json!(0)),
        ("ease", json!("3")),
        ("visits", json!(-1)),
        ("visits", json!(400)),
        ("visits", json!(1.5)),
        ("which_error", json!("x".repeat(41))),
        ("comments", json!(42)),
        ("no_such_question", json!("x")),
    ];
    for (field, value) in cases {
        let mut answers = valid();
        answers[field] = value.clone();
        let (status, body) = post(&app, json!({ "answers": answers })).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {body}"
        );
        assert_eq!(body["error"]["field"], field, "{field}={value}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 5);
    }
    assert!(
        stored(&t.state).await.is_empty(),
        "rejected submissions store nothing"
    );
}

#[actix_web::test]
async fn bad_requests_get_clear_4xx_and_store_nothing() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cases: Vec<(test::TestRequest, StatusCode, &str)> = vec![
        (
            test::TestRequest::post()
                .uri(URL)
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"answers\": {"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            test::TestRequest::post()
                .uri(URL)
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            test::TestRequest::post()
                .uri(URL)
                .set_json(json!({ "answers": [] })),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            test::TestRequest::post()
                .uri(URL)
                .set_json(json!({ "answers": {}, "extra": 1 })),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            test::TestRequest::post()
                .uri(URL)
                .set_json(json!({ "answers": {"comments": "x".repeat(70_000)} })),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            test::TestRequest::post()
                .uri("/api/v1/sites/nowhere/surveys/every-kind/responses")
                .set_json(json!({ "answers": {} })),
            StatusCode::NOT_FOUND,
            "site_not_found",
        ),
        (
            test::TestRequest::post()
                .uri("/api/v1/sites/test-clinic/surveys/nothing/responses")
                .set_json(json!({ "answers": {} })),
            StatusCode::NOT_FOUND,
            "survey_not_found",
        ),
    ];
    for (req, status, code) in cases {
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status, "{code}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].is_string());
    }
    assert!(stored(&t.state).await.is_empty());
}

#[actix_web::test]
async fn same_submission_id_or_idempotency_key_stores_one_response() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let sid = uuid::Uuid::new_v4();
    let (s1, first) = post(&app, json!({ "answers": valid(), "submission_id": sid })).await;
    let (s2, second) = post(&app, json!({ "answers": valid(), "submission_id": sid })).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, second, "the repeat returns the first result");

    for _ in 0..2 {
        let req = test::TestRequest::post()
            .uri(URL)
            .insert_header(("Idempotency-Key", "kiosk-7-visit-1234"))
            .set_json(json!({ "answers": valid() }))
            .to_request();
        assert_eq!(
            test::call_service(&app, req).await.status(),
            StatusCode::CREATED
        );
    }
    assert_eq!(stored(&t.state).await.len(), 2);
}

#[actix_web::test]
async fn racing_copies_of_one_submission_store_one_response() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let sid = uuid::Uuid::new_v4();
    let reqs = (0..16).map(|_| {
        let req = test::TestRequest::post()
            .uri(URL)
            .set_json(json!({ "answers": valid(), "submission_id": sid }))
            .to_request();
        test::call_service(&app, req)
    });
    let results = futures_util::future::join_all(reqs).await;
    let mut ids = std::collections::BTreeSet::new();
    for res in results {
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = test::read_body_json(res).await;
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "every copy sees the same response id");
    assert_eq!(stored(&t.state).await.len(), 1);
}

#[actix_web::test]
async fn survey_list_and_definition_are_public() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/surveys")
        .to_request();
    let list: Value = test::call_and_read_body_json(&app, req).await;
    let groups: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["group"].as_str().unwrap())
        .collect();
    assert!(
        groups.contains(&"patient")
            && groups.contains(&"provider")
            && groups.contains(&"leadership")
    );
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment")
        .to_request();
    let def: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(def["id"], "patient-enrollment");
    assert_eq!(
        def["questions"][2]["show_if"],
        json!({ "question": "tried", "equals": "yes" })
    );
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/surveys/nope")
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::NOT_FOUND
    );
}
