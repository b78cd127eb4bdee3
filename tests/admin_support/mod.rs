//! Scaffolding for the admin-page tests: two fixture sites, people with passwords, signing in.
#![allow(dead_code)]

use crate::common::TestStore;
use crate::common::{self, TestState};
use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use chorus::domain::{Role, User};
use chorus::domain::{StoredResponse, Tag};
use chorus::{AppState, Config};

pub const PASSWORD: &str = "correct horse battery staple";

/// clinic-a and clinic-b (tests/fixtures/admin-sites), min_cell 2 each.
pub async fn admin_state() -> TestState {
    common::state_with(|data| Config {
        sites: common::repo().join("tests/fixtures/admin-sites"),
        plugins: common::repo().join("tests/fixtures/plugins"),
        ..common::demo_config(data)
    })
    .await
}

/// A person who can sign in with `PASSWORD`.
pub async fn add_person(state: &AppState, name: &str, site: &str, role: Role) {
    state
        .store
        .put_user(&User {
            name: name.into(),
            site: site.into(),
            role,
            token_sha256: chorus::domain::user::token_sha256(&chorus::domain::user::new_token()),
            password_hash: Some(chorus::services::sessions::hash_password(PASSWORD).unwrap()),
            created_at: "2026-01-01T00:00:00Z".into(),
            disabled: false,
            token_revoked: false,
        })
        .await
        .unwrap();
}

/// A stored response at an exact UTC time, counted in the report index.
pub async fn store_response(
    state: &AppState,
    site: &str,
    survey: &str,
    group: &str,
    rfc3339: &str,
    tags: &[&str],
    answers: &[(&str, chorus::domain::AnswerValue)],
) -> StoredResponse {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, at.unix_timestamp() as u64, 0);
    let id = uuid::Uuid::new_v7(ts);
    let r = StoredResponse {
        id,
        site: site.into(),
        survey: survey.into(),
        survey_version: 1,
        group: group.into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(id),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: answers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        tags: tags
            .iter()
            .map(|c| Tag {
                code: c.to_string(),
                source: "barrier_keywords".into(),
            })
            .collect(),
        rule_errors: vec![],
        follow_ups: vec![],
    };
    state.store.insert(&r).await.unwrap();
    r
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a csrf field") + marker.len();
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

pub fn set_cookie<B>(res: &ServiceResponse<B>, name: &str) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name() == name)
        .map(|c| c.into_owned())
}

pub async fn body_text<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// Outcome of a sign-in attempt.
pub struct SignIn {
    pub status: StatusCode,
    pub session: Option<Cookie<'static>>,
    /// `Retry-After` in seconds, on a 429.
    pub retry_after: Option<u64>,
    pub body: String,
}

/// GET the form, then POST it with its token, as a browser does (from 192.0.2.10).
pub async fn sign_in<S, B>(app: &S, name: &str, password: &str) -> SignIn
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    sign_in_from(app, name, password, "192.0.2.10:5000", &[]).await
}

/// As `sign_in`, from a TCP peer `peer` with extra headers on the POST (`X-Forwarded-For`).
pub async fn sign_in_from<S, B>(
    app: &S,
    name: &str,
    password: &str,
    peer: &str,
    headers: &[(&str, &str)],
) -> SignIn
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        test::TestRequest::get().uri("/admin/login").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let login_cookie = set_cookie(&res, "chorus_login").expect("login cookie");
    let token = csrf_of(&body_text(res).await);
    let mut req = test::TestRequest::post()
        .uri("/admin/login")
        .peer_addr(peer.parse().unwrap())
        .cookie(login_cookie)
        .set_form([
            ("csrf", token.as_str()),
            ("name", name),
            ("password", password),
        ]);
    for header in headers {
        req = req.append_header(*header);
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let session = set_cookie(&res, "chorus_session");
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    SignIn {
        status,
        session,
        retry_after,
        body: body_text(res).await,
    }
}

/// GET a page with a session cookie: (status, Location header, body).
pub async fn get_page<S, B>(
    app: &S,
    session: &Cookie<'static>,
    uri: &str,
) -> (StatusCode, Option<String>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::get()
        .uri(uri)
        .cookie(session.clone())
        .to_request();
    page_answer(test::call_service(app, req).await).await
}

/// POST a form with a session cookie: (status, Location header, body).
pub async fn post_page<S, B>(
    app: &S,
    session: &Cookie<'static>,
    uri: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<String>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::post()
        .uri(uri)
        .cookie(session.clone())
        .set_form(form)
        .to_request();
    page_answer(test::call_service(app, req).await).await
}

async fn page_answer<B: MessageBody>(
    res: ServiceResponse<B>,
) -> (StatusCode, Option<String>, String) {
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, body_text(res).await)
}

/// A stored response with follow-ups (its tasks and deliveries stored with it).
pub async fn store_with_follow_ups(
    state: &AppState,
    site: &str,
    rfc3339: &str,
    actions: Vec<chorus::domain::Action>,
) -> StoredResponse {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(rfc3339, &Rfc3339).unwrap();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, at.unix_timestamp() as u64, 0);
    let id = uuid::Uuid::new_v7(ts);
    let r = StoredResponse {
        id,
        site: site.into(),
        survey: "patient-pulse".into(),
        survey_version: 1,
        group: "patient".into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(id),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: Default::default(),
        tags: vec![],
        rule_errors: vec![],
        follow_ups: actions
            .into_iter()
            .map(|action| chorus::domain::FollowUp {
                id: uuid::Uuid::now_v7(),
                source: "enrollment_followup".into(),
                added_at: None,
                action,
            })
            .collect(),
    };
    state.store.insert(&r).await.unwrap();
    r
}

pub fn task(title: &str, due_hours: Option<i64>) -> chorus::domain::Action {
    chorus::domain::Action::Task {
        queue: "enrollment-help".into(),
        title: title.into(),
        due_hours,
        priority: Default::default(),
        note: None,
    }
}
