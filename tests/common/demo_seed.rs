//! The demo site's realistic seed (tests/fixtures/demo-seed/seed.json), sent through the real
//! app: every response through the public API, then the follow-up tasks worked through the
//! staff API with the outcomes the file lists. tests/browser/admin.mjs sends the same file to
//! the real binary.

use super::TestStore;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use serde_json::{json, Value};

pub fn seed() -> Value {
    let text = std::fs::read_to_string(super::repo().join("tests/fixtures/demo-seed/seed.json"))
        .expect("seed file");
    serde_json::from_str(&text).expect("seed JSON")
}

async fn post<S, B>(app: &S, uri: &str, token: Option<&str>, body: Value) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::post().uri(uri).set_json(body);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    (status, test::read_body_json(res).await)
}

/// Sends each entry's answers `count` times to its survey of the demo site, through the public
/// API (`[{"survey", "count", "answers"}]`, as in the seed).
pub async fn send_responses<S, B>(app: &S, groups: &Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for group in groups.as_array().unwrap() {
        let uri = format!(
            "/api/v1/sites/demo-clinic/surveys/{}/responses",
            group["survey"].as_str().unwrap()
        );
        for _ in 0..group["count"].as_u64().unwrap() {
            let (status, body) = post(app, &uri, None, json!({"answers": group["answers"]})).await;
            assert_eq!(status, 201, "{body}");
        }
    }
}

/// Sends the seed to the demo site; `staff` is a staff token of demo-clinic.
pub async fn send<S, B>(app: &S, state: &chorus::AppState, staff: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let seed = seed();
    send_responses(app, &seed["responses"]).await;
    let tasks = state.store.all_tasks("demo-clinic").await.unwrap();
    for queue in seed["follow_ups"].as_array().unwrap() {
        let name = queue["queue"].as_str().unwrap();
        let mut ids = tasks.iter().filter(|t| t.queue == name).map(|t| t.id);
        let uri = |id: uuid::Uuid| format!("/api/v1/sites/demo-clinic/follow-ups/{id}");
        for done in queue["done"].as_array().unwrap() {
            for _ in 0..done[1].as_u64().unwrap() {
                let id = ids.next().expect("enough tasks in the queue");
                let (s, b) = post(app, &uri(id), Some(staff), json!({"status": "claimed"})).await;
                assert_eq!(s, 200, "{b}");
                let body = json!({"status": "done", "outcome": done[0]});
                let (s, b) = post(app, &uri(id), Some(staff), body).await;
                assert_eq!(s, 200, "{b}");
            }
        }
        for reason in queue["dismissed"].as_array().unwrap() {
            let id = ids.next().expect("enough tasks in the queue");
            let body = json!({"status": "dismissed", "reason": reason});
            let (s, b) = post(app, &uri(id), Some(staff), body).await;
            assert_eq!(s, 200, "{b}");
        }
    }
}
