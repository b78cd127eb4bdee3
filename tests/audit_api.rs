//! The audit trail through the API and the admin pages: who sees which entries, filters,
//! cursor paging, and that no route changes or deletes an entry.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use chorus::services::audit::{self, Actor, Event, Verification};
use serde_json::Value;

/// Entries of clinic-a, clinic-b and of no site, from the audit service itself.
async fn seed(state: &chorus::AppState) {
    let store = state.store.as_ref();
    for (who, site) in [("ann", "clinic-a"), ("bo", "clinic-b"), ("ann", "clinic-a")] {
        let event = Event::ResponseRead {
            site,
            id: "0190aaaa-0000-7000-8000-000000000000",
        };
        audit::record(store, Actor::User(who), event).await.unwrap();
    }
    let event = Event::Started { version: "test" };
    audit::record(store, Actor::System, event).await.unwrap();
}

macro_rules! get_json {
    ($app:expr, $token:expr, $uri:expr) => {{
        let req = test::TestRequest::get()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .to_request();
        let res = test::call_service(&$app, req).await;
        let status = res.status();
        let body: Value = test::read_body_json(res).await;
        (status, body)
    }};
}

fn sites_of(body: &Value) -> Vec<String> {
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["site"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[actix_web::test]
async fn a_site_admin_sees_only_its_site_and_an_all_sites_admin_sees_every_entry() {
    let t = admin_state().await;
    let site_admin = common::add_user(&t.state, "amy", "clinic-a", Role::Admin).await;
    let viewer = common::add_user(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    seed(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = get_json!(app, site_admin, "/api/v1/sites/clinic-a/audit");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sites_of(&body), ["clinic-a", "clinic-a"]);
    let seqs: Vec<u64> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs[0] > seqs[1], "newest first: {seqs:?}");
    for (token, uri) in [
        (&site_admin, "/api/v1/sites/clinic-b/audit"),
        (&site_admin, "/api/v1/audit"),
        (&viewer, "/api/v1/sites/clinic-a/audit"),
        (&viewer, "/api/v1/audit"),
    ] {
        let (status, body) = get_json!(app, token, uri);
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
    }
    let (status, body) = get_json!(app, root, "/api/v1/audit");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sites_of(&body), ["-", "clinic-a", "clinic-b", "clinic-a"]);
    let (_, body) = get_json!(app, root, "/api/v1/sites/clinic-b/audit");
    assert_eq!(sites_of(&body), ["clinic-b"]);
}

#[actix_web::test]
async fn filters_and_cursor_paging_walk_the_entries_once_and_bad_filters_are_refused() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    seed(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (_, body) = get_json!(app, root, "/api/v1/audit?actor=ann");
    assert_eq!(body["entries"].as_array().unwrap().len(), 2);
    let (_, body) = get_json!(app, root, "/api/v1/audit?action=start");
    assert_eq!(sites_of(&body), ["-"]);
    let (_, body) = get_json!(app, root, "/api/v1/audit?since=2999-01-01");
    assert_eq!(body["entries"].as_array().unwrap().len(), 0);
    let (_, body) = get_json!(
        app,
        root,
        "/api/v1/audit?until=2999-01-01&action=response_read"
    );
    assert_eq!(body["entries"].as_array().unwrap().len(), 3);

    let mut seen = Vec::new();
    let mut uri = "/api/v1/audit?limit=1".to_string();
    loop {
        let (status, body) = get_json!(app, root, uri);
        assert_eq!(status, StatusCode::OK);
        let page = body["entries"].as_array().unwrap();
        assert!(page.len() <= 1);
        seen.extend(page.iter().map(|e| e["seq"].as_u64().unwrap()));
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/audit?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [4, 3, 2, 1]);

    for (uri, field) in [
        ("/api/v1/audit?action=delete_everything", "action"),
        ("/api/v1/audit?since=yesterday", "since"),
        ("/api/v1/audit?cursor=abc", "cursor"),
        ("/api/v1/audit?limit=0", "limit"),
    ] {
        let (status, body) = get_json!(app, root, uri);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body.to_string().contains(field), "{uri}: {body}");
    }
}

#[actix_web::test]
async fn no_route_changes_or_deletes_an_entry() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    seed(&t.state).await;
    let before = audit::verify(t.state.store.as_ref()).await.unwrap();
    let app = test::init_service(create_app(t.state.clone())).await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for uri in [
            "/api/v1/audit",
            "/api/v1/audit/1",
            "/api/v1/sites/clinic-a/audit",
            "/api/v1/sites/clinic-a/audit/1",
            "/admin/audit",
            "/admin/sites/clinic-a/audit",
        ] {
            let req = test::TestRequest::default()
                .method(method.parse().unwrap())
                .uri(uri)
                .insert_header(("Authorization", format!("Bearer {root}")))
                .set_json(serde_json::json!({ "actor": "nobody" }))
                .to_request();
            let status = test::call_service(&app, req).await.status();
            assert!(status.is_client_error(), "{method} {uri}: {status}");
        }
    }
    assert_eq!(audit::verify(t.state.store.as_ref()).await.unwrap(), before);
    assert!(matches!(before, Verification::Intact { count: 4, .. }));
}

#[actix_web::test]
async fn the_audit_pages_show_a_site_admin_its_site_and_every_site_only_to_all_sites_admins() {
    let t = admin_state().await;
    add_person(&t.state, "amy", "clinic-a", Role::Admin).await;
    add_person(&t.state, "root", "*", Role::Admin).await;
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    seed(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let amy = sign_in(&app, "amy", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &amy, "/admin/sites/clinic-a/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("response_read") && page.contains("ann"));
    assert!(
        !page.contains(">bo<"),
        "clinic-b's reader is not on clinic-a's page"
    );
    assert!(
        page.contains(r#"href="/admin/sites/clinic-a/audit""#),
        "in the site's menu"
    );
    let (status, _, page) = get_page(&app, &amy, "/admin/sites/clinic-a/audit?action=start").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No entries match."));
    let (status, _, _) = get_page(&app, &amy, "/admin/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = get_page(&app, &amy, "/admin/sites/clinic-b/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let sam = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &sam, "/admin/sites/clinic-a/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, dashboard) = get_page(&app, &sam, "/admin/sites/clinic-a").await;
    assert!(
        !dashboard.contains("/audit\""),
        "no Audit link for staff: {page}"
    );

    let root = sign_in(&app, "root", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &root, "/admin/audit?actor=bo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("clinic-b") && page.contains("bo"));
    assert!(!page.contains(">ann<"), "filtered by who");
}
