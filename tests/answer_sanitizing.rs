//! What a respondent sends is cleaned on input: a `language` must be one the site serves
//! (else 422 `invalid_language`, nothing stored), and text answers lose their control
//! characters (NUL, ESC, U+009B …; tab and newline stay, CR LF becomes LF) whether they come
//! from the JSON API or the form — so neither the store nor any export holds them.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::response::StoredResponse;
use chorus::survey::AnswerValue;
use common::server::{run, Server};
use serde_json::{json, Value};

const API: &str = "/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses";
const HOSTILE: &str = "a\u{0}b\u{1b}[2J\u{1b}]0;pwned\u{7}c\u{9b}31md\u{7f}e\r\nnext\rline\tend";
const CLEANED: &str = "ab[2J]0;pwnedc31mde\nnext\nline\tend";

fn stored(state: &chorus::AppState) -> Vec<StoredResponse> {
    common::stored_responses(state, "demo-clinic")
}

fn answers(comments: &str) -> Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": comments })
}

fn has_controls(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[actix_web::test]
async fn a_language_the_site_does_not_serve_is_refused_and_nothing_is_stored() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    for bad in [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "fr",
        "",
        "e\u{0}s",
    ] {
        let req = test::TestRequest::post()
            .uri(API)
            .set_json(json!({ "answers": answers("hi"), "language": bad }))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["code"], "invalid_language", "{body}");
        assert_eq!(body["error"]["field"], "language");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("en, es"), "{message}");
        assert!(!message.contains("HYPERLINK"), "{message}");
    }
    assert!(
        stored(&t.state).is_empty(),
        "a refused submission stores nothing"
    );

    // A served language in any case or region is stored as the site spells it.
    for (given, kept) in [("ES-mx", "es"), ("en", "en"), ("EN-GB", "en")] {
        let req = test::TestRequest::post()
            .uri(API)
            .set_json(json!({ "answers": answers("hi"), "language": given }))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{given}");
        let body: Value = test::read_body_json(res).await;
        let id = body["id"].as_str().unwrap();
        let r = stored(&t.state)
            .into_iter()
            .find(|r| r.id.to_string() == id)
            .unwrap();
        assert_eq!(r.language.as_deref(), Some(kept), "{given}");
    }
}

#[actix_web::test]
async fn control_characters_in_text_answers_are_not_stored() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::post()
        .uri(API)
        .set_json(json!({ "answers": answers(HOSTILE) }))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // The form: a browser sends line breaks as CR LF.
    let fields = [
        ("_submission_id", "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0042"),
        ("aware", "yes"),
        ("tried", "no"),
        ("contact_ok", "no"),
        ("comments", HOSTILE),
    ];
    let req = test::TestRequest::post()
        .uri("/s/demo-clinic/patient-enrollment")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap())
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Only control characters: no answer at all (the question is optional).
    let req = test::TestRequest::post()
        .uri(API)
        .set_json(json!({ "answers": answers("\u{0}\u{1b}\u{9b}") }))
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::CREATED
    );

    let all = stored(&t.state);
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[0].answers["comments"],
        AnswerValue::Text(CLEANED.into())
    );
    assert_eq!(
        all[1].answers["comments"],
        AnswerValue::Text(CLEANED.into())
    );
    assert!(!all[2].answers.contains_key("comments"));
}

#[::core::prelude::v1::test]
fn exports_of_the_real_server_hold_no_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let res = reqwest::blocking::Client::new()
        .post(format!("{}{API}", server.base))
        .json(&json!({ "answers": answers(HOSTILE) }))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    server.terminate();

    let csv = run(
        &["export", "--site", "demo-clinic", "--format", "csv"],
        &data,
    );
    assert!(csv.status.success());
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let comments = headers.iter().position(|h| h == "comments").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][comments], CLEANED);
    assert!(rows[0].iter().all(|cell| !has_controls(cell)));

    let jsonl = run(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        &data,
    );
    assert!(jsonl.status.success());
    let text = String::from_utf8(jsonl.stdout).unwrap();
    let record: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(record["answers"]["comments"], CLEANED);
    for escaped in ["\\u0000", "\\u001b", "\\u0007", "\\r"] {
        assert!(!text.contains(escaped), "{escaped} in {text}");
    }
    assert!(!text.contains(['\u{9b}', '\u{7f}']));
}
