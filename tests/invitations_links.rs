//! Invitation links: created by an admin through the API or offline with `chorus invite`; each
//! opens the survey once, is consumed with the response it admits, and a used, expired or
//! unknown link gets a friendly page saying what to do instead. Responses never hold the token.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::invitations::{token_sha256, Invitation};
use chorus::response::StoredResponse;
use chorus::store::Role;
use serde_json::{json, Value};

const PATIENT: &str = "/s/demo-clinic/patient-enrollment";
const CREATE: &str = "/api/v1/sites/demo-clinic/surveys/patient-enrollment/invitations";

fn stored(state: &chorus::AppState) -> Vec<StoredResponse> {
    common::stored_responses(state, "demo-clinic")
}

fn create(token: Option<&str>, body: Value) -> actix_http::Request {
    let mut req = test::TestRequest::post().uri(CREATE).set_json(body);
    if let Some(t) = token {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    req.to_request()
}

fn answers(submission: &str) -> Vec<(&'static str, String)> {
    vec![
        ("_submission_id", submission.to_string()),
        ("aware", "yes".into()),
        ("tried", "no".into()),
        ("contact_ok", "no".into()),
    ]
}

fn post(uri: &str, fields: &[(&str, String)]) -> actix_http::Request {
    test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap())
        .to_request()
}

async fn body_of(
    res: actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
) -> String {
    String::from_utf8(test::read_body(res).await.to_vec())
        .unwrap()
        .replace("&#x2F;", "/")
}

fn token_of(url: &str) -> String {
    url.split("?t=")
        .nth(1)
        .expect("a token in the link")
        .to_string()
}

#[actix_web::test]
async fn an_admin_creates_links_that_store_only_a_hash() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin);
    let res = test::call_service(
        &app,
        create(Some(&admin), json!({"count": 3, "expires_in_days": 7})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = test::read_body_json(res).await;
    let links = body["invitations"].as_array().unwrap();
    assert_eq!(links.len(), 3);
    let mut tokens = Vec::new();
    for link in links {
        let url = link["url"].as_str().unwrap();
        assert!(
            url.starts_with("http://localhost:8080/s/demo-clinic/patient-enrollment?t="),
            "{url}"
        );
        let token = token_of(url);
        assert_eq!(token.len(), 43);
        let stored: Invitation = t
            .state
            .store
            .invitation(&token_sha256(&token).unwrap())
            .unwrap()
            .expect("stored under its hash");
        assert!(!stored.used);
        assert_eq!(link["expires_at"], stored.expires_at);
        let days = (stored.expires_at_ms - chorus::invitations::now_ms()) as f64 / 86_400_000.0;
        assert!((6.9..=7.0).contains(&days), "{days}");
        tokens.push(token);
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 3);
    // The token itself is nowhere in the store.
    let mut backup = Vec::new();
    t.state.store.backup(&mut backup).unwrap();
    let backup = String::from_utf8(backup).unwrap();
    for token in &tokens {
        assert!(!backup.contains(token.as_str()));
    }
}

#[actix_web::test]
async fn creating_links_needs_an_admin_and_sane_numbers() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin);
    let staff = common::add_user(&t.state, "desk", "demo-clinic", Role::Staff);
    let other = common::add_user(&t.state, "elsewhere", "other-clinic", Role::Admin);
    let ok = json!({"count": 1});
    let cases = [
        (None, ok.clone(), StatusCode::UNAUTHORIZED, "missing_token"),
        (Some(&staff), ok.clone(), StatusCode::FORBIDDEN, "forbidden"),
        (Some(&other), ok.clone(), StatusCode::FORBIDDEN, "forbidden"),
        (
            Some(&admin),
            json!({"count": 0}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            Some(&admin),
            json!({"count": 1001}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            Some(&admin),
            json!({"count": 1, "expires_in_days": 0}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            Some(&admin),
            json!({"count": 1, "expires_in_days": 366}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            Some(&admin),
            json!({"count": 1, "to": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (token, body, status, code) in cases {
        let res = test::call_service(&app, create(token.map(String::as_str), body.clone())).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = test::read_body_json(res).await;
        assert_eq!(err["error"]["code"], code, "{body}");
    }
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/sites/demo-clinic/surveys/nope/invitations")
            .insert_header((header::AUTHORIZATION, format!("Bearer {admin}")))
            .set_json(json!({"count": 1}))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let mut backup = Vec::new();
    t.state.store.backup(&mut backup).unwrap();
    assert!(!String::from_utf8(backup)
        .unwrap()
        .contains("\"invitations\""));
}

#[actix_web::test]
async fn a_link_admits_one_response_then_explains_what_to_do() {
    let t = common::state_with(|data| chorus::Config {
        public_url: Some("https://survey.example.org".into()),
        ..common::demo_config(data)
    });
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin);
    let res = test::call_service(&app, create(Some(&admin), json!({"count": 1}))).await;
    let body: Value = test::read_body_json(res).await;
    let url = body["invitations"][0]["url"].as_str().unwrap();
    assert!(url.starts_with("https://survey.example.org/s/demo-clinic/patient-enrollment?t="));
    let token = token_of(url);
    let link = format!("{PATIENT}?t={token}");

    // The form carries the token; the language switch keeps it.
    let res = test::call_service(&app, test::TestRequest::get().uri(&link).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_of(res).await;
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"_t\" value=\"{token}\">"
    )));
    assert!(html.contains(&format!(
        "href=\"/s/demo-clinic/patient-enrollment?t={token}&amp;lang=es\""
    )));

    // Invalid answers do not use the link up.
    let fields = vec![("_t", token.clone()), ("aware", "yes".to_string())];
    let res = test::call_service(&app, post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_of(res)
        .await
        .contains(&format!("name=\"_t\" value=\"{token}\"")));

    let sub = "0191c3a2-7b7e-4c39-9a55-6f0f3b7a1001";
    let mut fields = answers(sub);
    fields.push(("_t", token.clone()));
    let res = test::call_service(&app, post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state);
    assert_eq!(all.len(), 1);
    let record = serde_json::to_string(&all[0]).unwrap();
    assert!(!record.contains(&token));
    assert!(!record.contains(&token_sha256(&token).unwrap()));
    let invitation = t
        .state
        .store
        .invitation(&token_sha256(&token).unwrap())
        .unwrap()
        .unwrap();
    assert!(invitation.used);

    // The same submission again (a double click) is the same response.
    let res = test::call_service(&app, post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&t.state).len(), 1);

    // A new submission with the used link is refused, kindly.
    let mut again = answers("0191c3a2-7b7e-4c39-9a55-6f0f3b7a1002");
    again.push(("_t", token.clone()));
    let res = test::call_service(&app, post(PATIENT, &again)).await;
    assert_eq!(res.status(), StatusCode::GONE);
    let html = body_of(res).await;
    assert!(html.contains("<h1>This link has already been used</h1>"));
    assert!(html.contains("ask the front desk for a new link"));
    assert!(html.contains("<a class=\"button-link\" href=\"/s/demo-clinic/patient-enrollment\">"));
    assert_eq!(stored(&t.state).len(), 1);

    // Opening it again says so before any question is answered, in Spanish too.
    let req = test::TestRequest::get()
        .uri(&format!("{link}&lang=es"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::GONE);
    let html = body_of(res).await;
    assert!(html.contains("<h1>Este enlace ya se usó</h1>"));
    assert!(html.contains("href=\"/s/demo-clinic/patient-enrollment?lang=es\""));

    // The public link still works.
    let res = test::call_service(
        &app,
        post(PATIENT, &answers("0191c3a2-7b7e-4c39-9a55-6f0f3b7a1003")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&t.state).len(), 2);
}

#[actix_web::test]
async fn expired_unknown_and_foreign_links_get_friendly_pages_and_store_nothing() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let expired = chorus::invitations::new_token();
    let foreign = chorus::invitations::new_token();
    let record = |survey: &str, expires_at_ms: i64| Invitation {
        site: "demo-clinic".into(),
        survey: survey.into(),
        expires_at: "2026-01-01T00:00:00.000Z".into(),
        expires_at_ms,
        used: false,
    };
    t.state
        .store
        .put_invitations(&[
            (
                token_sha256(&expired).unwrap(),
                record("patient-enrollment", 1_000),
            ),
            (
                token_sha256(&foreign).unwrap(),
                record("provider-enrollment", i64::MAX),
            ),
        ])
        .unwrap();
    let cases = [
        (expired.clone(), StatusCode::GONE, "This link has expired"),
        (
            foreign.clone(),
            StatusCode::NOT_FOUND,
            "We do not recognise this link",
        ),
        (
            chorus::invitations::new_token(),
            StatusCode::NOT_FOUND,
            "We do not recognise this link",
        ),
        (
            "x'<script>".to_string(),
            StatusCode::NOT_FOUND,
            "We do not recognise this link",
        ),
    ];
    for (token, status, heading) in cases {
        let uri = format!(
            "{PATIENT}?{}",
            serde_urlencoded::to_string([("t", &token)]).unwrap()
        );
        let res = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status(), status, "{token}");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        let html = body_of(res).await;
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{html}");
        assert!(!html.contains("<script>"));
        let mut fields = answers("0191c3a2-7b7e-4c39-9a55-6f0f3b7a2001");
        fields.push(("_t", token.clone()));
        let res = test::call_service(&app, post(PATIENT, &fields)).await;
        assert_eq!(res.status(), status, "{token}");
        assert!(body_of(res).await.contains(heading));
    }
    assert!(stored(&t.state).is_empty());
    let still = t
        .state
        .store
        .invitation(&token_sha256(&foreign).unwrap())
        .unwrap()
        .unwrap();
    assert!(!still.used);
}

#[actix_web::test]
async fn two_different_submissions_racing_on_one_link_store_one_response() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = chorus::invitations::new_token();
    t.state
        .store
        .put_invitations(&[(
            token_sha256(&token).unwrap(),
            Invitation {
                site: "demo-clinic".into(),
                survey: "patient-enrollment".into(),
                expires_at: String::new(),
                expires_at_ms: i64::MAX,
                used: false,
            },
        )])
        .unwrap();
    let requests: Vec<_> = (0..8)
        .map(|i| {
            let mut fields = answers(&format!("0191c3a2-7b7e-4c39-9a55-6f0f3b7a30{i:02}"));
            fields.push(("_t", token.clone()));
            test::call_service(&app, post(PATIENT, &fields))
        })
        .collect();
    let statuses: Vec<StatusCode> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::GONE));
    assert_eq!(stored(&t.state).len(), 1);
}

#[::core::prelude::v1::test]
fn chorus_invite_writes_a_csv_of_working_links() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv_path = dir.path().join("links.csv");
    let out = common::server::run(
        &[
            "invite",
            "--site",
            "demo-clinic",
            "--survey",
            "patient-enrollment",
            "--count",
            "3",
            "--expires-in-days",
            "14",
            "--base-url",
            "https://clinic.example.org/",
            "--output",
            csv_path.to_str().unwrap(),
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Created 3 single-use link(s)"));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "url,expires_at");
    assert_eq!(lines.len(), 4);
    let first_url = lines[1].split(',').next().unwrap();
    assert!(first_url.starts_with("https://clinic.example.org/s/demo-clinic/patient-enrollment?t="));

    // The links work on the server that uses this data directory.
    let server = common::server::Server::start(&data);
    let path = first_url.trim_start_matches("https://clinic.example.org");
    let client = reqwest::blocking::Client::new();
    let res = client.get(format!("{}{path}", server.base)).send().unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().unwrap().contains("name=\"_t\""));
    drop(server);

    // Bad requests say what is wrong and create nothing.
    for (args, message) in [
        (
            vec!["--survey", "nope", "--count", "1"],
            "has no survey \"nope\"",
        ),
        (
            vec!["--survey", "patient-enrollment", "--count", "0"],
            "--count: count must be from 1 to 1000",
        ),
        (
            vec![
                "--survey",
                "patient-enrollment",
                "--count",
                "1",
                "--base-url",
                "clinic.org",
            ],
            "must start with http:// or https://",
        ),
    ] {
        let mut all = vec!["invite", "--site", "demo-clinic"];
        all.extend(args);
        let out = common::server::run(&all, &data);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[actix_web::test]
async fn an_invited_response_keeps_its_tags_and_follow_ups() {
    let t = common::demo_state();
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = chorus::invitations::new_token();
    t.state
        .store
        .put_invitations(&[(
            token_sha256(&token).unwrap(),
            Invitation {
                site: "demo-clinic".into(),
                survey: "patient-enrollment".into(),
                expires_at: String::new(),
                expires_at_ms: i64::MAX,
                used: false,
            },
        )])
        .unwrap();
    let fields: Vec<(&str, String)> = vec![
        ("_t", token.clone()),
        ("aware", "yes".into()),
        ("tried", "yes".into()),
        ("enrolled", "no".into()),
        ("contact_ok", "yes".into()),
        ("contact_phone", "555-0100".into()),
    ];
    let res = test::call_service(&app, post(PATIENT, &fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state);
    assert_eq!(all.len(), 1);
    assert!(all[0].has_tag("enrollment_technical"), "{:?}", all[0].tags);
    // The call-back task was written in the same transaction as the response and the link.
    let tasks = t.state.store.list_tasks("demo-clinic").unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].response_id, all[0].id);
}
