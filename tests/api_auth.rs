//! Bearer tokens: scoped to a site and a role; no token 401, wrong site 403, right site 200.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use serde_json::Value;

#[actix_web::test]
async fn token_scoping() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let url = "/api/v1/sites/test-clinic/responses";
    let site_viewer = common::add_user(&t.state, "viewer-a", "test-clinic", Role::Viewer).await;
    let other_site = common::add_user(&t.state, "admin-b", "other-clinic", Role::Admin).await;
    let everywhere = common::add_user(&t.state, "root", "*", Role::Admin).await;

    let res = test::call_service(&app, test::TestRequest::get().uri(url).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["error"]["code"], "missing_token");

    let cases = [
        ("chorus_not-a-real-token", StatusCode::UNAUTHORIZED),
        (other_site.as_str(), StatusCode::FORBIDDEN),
        (site_viewer.as_str(), StatusCode::OK),
        (everywhere.as_str(), StatusCode::OK),
    ];
    for (token, status) in cases {
        let req = test::TestRequest::get()
            .uri(url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), status, "token {token}");
    }
}

#[actix_web::test]
async fn tokens_are_stored_only_as_hashes() {
    let t = common::fixture_state().await;
    let token = common::add_user(&t.state, "viewer", "test-clinic", Role::Viewer).await;
    let user = t.state.store.user("viewer").await.unwrap().unwrap();
    assert_ne!(user.token_sha256, token);
    assert_eq!(
        user.token_sha256,
        chorus::domain::user::token_sha256(&token)
    );
    assert_eq!(user.token_sha256.len(), 64);
}
