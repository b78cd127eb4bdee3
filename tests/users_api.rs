//! User management through the JSON API (`/api/v1/users…`, `/api/v1/me/password`): what an
//! admin token may do to which users, what is stored, what is audited (never a secret), and
//! that refused input changes nothing.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::{AuditEntry, Role};
use chorus::store::AuditQuery;
use serde_json::{json, Value};

async fn entries(state: &chorus::AppState) -> Vec<AuditEntry> {
    let q = AuditQuery {
        oldest_first: true,
        limit: 1000,
        ..AuditQuery::default()
    };
    state.store.list_audit(&q).await.unwrap().items
}

/// (action, actor, target, site) of every entry about users.
async fn user_entries(state: &chorus::AppState) -> Vec<(String, String, String, String)> {
    entries(state)
        .await
        .into_iter()
        .filter(|e| {
            [
                "user_created",
                "role_changed",
                "user_disabled",
                "user_enabled",
                "token_created",
                "token_revoked",
                "invite_created",
                "password_set",
            ]
            .contains(&e.action.as_str())
        })
        .map(|e| {
            (
                e.action,
                e.actor,
                e.target.unwrap_or_default(),
                e.site.unwrap_or_default(),
            )
        })
        .collect()
}

fn entry(action: &str, actor: &str, target: &str, site: &str) -> (String, String, String, String) {
    (action.into(), actor.into(), target.into(), site.into())
}

macro_rules! call {
    (@send $app:expr, $req:expr) => {{
        let res = test::call_service(&$app, $req.to_request()).await;
        let status = res.status();
        let bytes = test::read_body(res).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }};
    ($app:expr, $method:ident, $token:expr, $uri:expr) => {
        call!(@send $app, test::TestRequest::$method()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token))))
    };
    ($app:expr, $method:ident, $token:expr, $uri:expr, $body:expr) => {
        call!(@send $app, test::TestRequest::$method()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .set_json($body))
    };
}

fn names(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn an_admin_adds_a_user_whose_token_works_and_the_addition_is_audited() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = call!(
        app,
        post,
        root,
        "/api/v1/users",
        json!({"name": "nia", "site": "clinic-a", "role": "viewer"})
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["name"], "nia");
    assert_eq!(body["user"]["site"], "clinic-a");
    assert_eq!(body["user"]["role"], "viewer");
    assert_eq!(body["user"]["has_password"], false);
    assert!(body["user"].get("token_sha256").is_none(), "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("chorus_"));

    let stored = t.state.store.user("nia").await.unwrap().unwrap();
    assert_eq!(stored.role, Role::Viewer);
    assert_eq!(
        stored.token_sha256,
        chorus::domain::user::token_sha256(&token)
    );
    // The new token reads its site and nothing more.
    let (status, _) = call!(app, get, token, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call!(app, get, token, "/api/v1/sites/clinic-b/responses");
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = call!(app, get, root, "/api/v1/users/nia");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_token"], true);

    assert_eq!(
        user_entries(&t.state).await,
        [
            entry("user_created", "root", "nia", "clinic-a"),
            entry("token_created", "root", "nia", "clinic-a"),
        ]
    );
    let all = serde_json::to_string(&entries(&t.state).await).unwrap();
    assert!(!all.contains(&token), "a token in the audit trail");
}

#[actix_web::test]
async fn a_site_admin_manages_only_the_users_of_its_site() {
    let t = admin_state().await;
    let amy = common::add_user(&t.state, "amy", "clinic-a", Role::Admin).await;
    common::add_user(&t.state, "vic", "clinic-a", Role::Viewer).await;
    common::add_user(&t.state, "bo", "clinic-b", Role::Viewer).await;
    common::add_user(&t.state, "root", "*", Role::Admin).await;
    let viewer = common::add_user(&t.state, "val", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = call!(app, get, amy, "/api/v1/users");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), ["amy", "val", "vic"]);

    for (uri, body) in [
        ("/api/v1/users/bo/role", json!({"role": "admin"})),
        ("/api/v1/users/root/role", json!({"role": "viewer"})),
    ] {
        let (status, body) = call!(app, post, amy, uri, body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    for uri in [
        "/api/v1/users/bo/disable",
        "/api/v1/users/bo/token",
        "/api/v1/users/bo/invite",
    ] {
        let (status, _) = call!(app, post, amy, uri);
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
    }
    for site in ["clinic-b", "*"] {
        let (status, body) = call!(
            app,
            post,
            amy,
            "/api/v1/users",
            json!({"name": "eve", "site": site, "role": "admin"})
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{site}: {body}");
    }
    assert!(t.state.store.user("eve").await.unwrap().is_none());
    let bo = t.state.store.user("bo").await.unwrap().unwrap();
    assert_eq!((bo.role, bo.disabled), (Role::Viewer, false));

    // A viewer's token manages nobody.
    let (status, _) = call!(app, get, viewer, "/api/v1/users");
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(user_entries(&t.state).await.is_empty());
}

#[actix_web::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    common::add_user(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let before = t.state.store.user("vic").await.unwrap().unwrap();
    let app = test::init_service(create_app(t.state.clone())).await;

    for (body, code, field) in [
        (
            json!({"name": "no spaces", "site": "clinic-a", "role": "viewer"}),
            "invalid_body",
            Some("name"),
        ),
        (
            json!({"name": "ok", "site": "clinic-a", "role": "boss"}),
            "invalid_body",
            Some("role"),
        ),
        (
            json!({"name": "ok", "site": "nowhere", "role": "viewer"}),
            "invalid_body",
            Some("site"),
        ),
        (
            json!({"name": "ok", "site": "clinic-a"}),
            "invalid_body",
            None,
        ),
        (
            json!({"name": "vic", "site": "clinic-b", "role": "admin"}),
            "user_exists",
            None,
        ),
    ] {
        let (status, answer) = call!(app, post, root, "/api/v1/users", body.clone());
        assert!(status.is_client_error(), "{body}: {status}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
        if let Some(f) = field {
            assert_eq!(answer["error"]["field"], f, "{answer}");
        }
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, answer) = call!(
        app,
        post,
        root,
        "/api/v1/users/vic/role",
        json!({"role": "owner"})
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["field"], "role");
    let (status, answer) = call!(app, post, root, "/api/v1/users/ghost/disable");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"]["code"], "user_not_found");

    assert_eq!(t.state.store.user("vic").await.unwrap().unwrap(), before);
    assert!(t.state.store.user("ok").await.unwrap().is_none());
    assert_eq!(t.state.store.list_users().await.unwrap().len(), 2);
    assert!(user_entries(&t.state).await.is_empty());
}

#[actix_web::test]
async fn a_role_change_applies_at_once_is_audited_and_an_admin_cannot_demote_themselves() {
    let t = admin_state().await;
    let amy = common::add_user(&t.state, "amy", "clinic-a", Role::Admin).await;
    let vic = common::add_user(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, _) = call!(app, get, vic, "/api/v1/sites/clinic-a/follow-ups");
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = call!(
        app,
        post,
        amy,
        "/api/v1/users/vic/role",
        json!({"role": "staff"})
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "staff");
    let (status, _) = call!(app, get, vic, "/api/v1/sites/clinic-a/follow-ups");
    assert_eq!(status, StatusCode::OK);

    let (status, body) = call!(
        app,
        post,
        amy,
        "/api/v1/users/amy/role",
        json!({"role": "viewer"})
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        t.state.store.user("amy").await.unwrap().unwrap().role,
        Role::Admin
    );

    let all = entries(&t.state).await;
    let changed: Vec<&AuditEntry> = all.iter().filter(|e| e.action == "role_changed").collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].actor, "amy");
    assert_eq!(changed[0].target.as_deref(), Some("vic"));
    assert_eq!(changed[0].site.as_deref(), Some("clinic-a"));
    assert_eq!(changed[0].details["role"], "viewer → staff");
}

#[actix_web::test]
async fn a_disabled_user_loses_token_session_and_sign_in_until_enabled() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    add_person(&t.state, "ann", "clinic-a", Role::Staff).await;
    let ann_token = call_token(&t.state, "ann").await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let session = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let (status, _, _) = get_page(&app, &session, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = call!(app, post, root, "/api/v1/users/ann/disable");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], true);
    assert!(t.state.store.user("ann").await.unwrap().unwrap().disabled);

    let (status, body) = call!(app, get, ann_token, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, location, _) = get_page(&app, &session, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/admin/login"));
    let refused = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.session.is_none());

    let (status, _) = call!(app, post, root, "/api/v1/users/ann/enable");
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call!(app, get, ann_token, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sign_in(&app, "ann", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let users = user_entries(&t.state).await;
    assert!(users.contains(&entry("user_disabled", "root", "ann", "clinic-a")));
    assert!(users.contains(&entry("user_enabled", "root", "ann", "clinic-a")));
}

/// A fresh token for a user made by `add_person` (which keeps none).
async fn call_token(state: &chorus::AppState, name: &str) -> String {
    let by = chorus::services::users::By::Cli;
    chorus::services::users::new_api_token(state.store.as_ref(), by, name)
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_new_token_replaces_the_old_one_and_a_revoked_token_stops_working() {
    let t = admin_state().await;
    let root = common::add_user(&t.state, "root", "*", Role::Admin).await;
    let old = common::add_user(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = call!(app, post, root, "/api/v1/users/vic/token");
    assert_eq!(status, StatusCode::CREATED);
    let new = body["token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let (status, _) = call!(app, get, old, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call!(app, get, new, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::OK);

    let (status, body) = call!(app, post, root, "/api/v1/users/vic/token/revoke");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_token"], false);
    let (status, _) = call!(app, get, new, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        t.state
            .store
            .user("vic")
            .await
            .unwrap()
            .unwrap()
            .token_revoked
    );

    assert_eq!(
        user_entries(&t.state).await,
        [
            entry("token_created", "root", "vic", "clinic-a"),
            entry("token_revoked", "root", "vic", "clinic-a"),
        ]
    );
    let all = serde_json::to_string(&entries(&t.state).await).unwrap();
    assert!(!all.contains(&new) && !all.contains(&old));
}

#[actix_web::test]
async fn an_invitation_link_sets_a_password_once_and_the_user_signs_in() {
    let t = admin_state().await;
    let amy = common::add_user(&t.state, "amy", "clinic-a", Role::Admin).await;
    common::add_user(&t.state, "nia", "clinic-a", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = call!(app, post, amy, "/api/v1/users/nia/invite");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"], "nia");
    let url = body["url"].as_str().unwrap().to_string();
    let path = &url[url.find("/admin/password/").expect(&url)..];
    let secret = path.trim_start_matches("/admin/password/");
    assert_eq!(secret.len(), 64);
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    // Only the hash is stored.
    let hash = chorus::domain::user::token_sha256(secret);
    let link = t.state.store.password_link(&hash).await.unwrap().unwrap();
    assert_eq!((link.user.as_str(), link.used_ms), ("nia", None));
    assert!(t.state.store.password_link(secret).await.unwrap().is_none());

    let page = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = body_text(page).await;
    assert!(html.contains("nia"), "{html}");

    // A short password is refused and leaves the link usable.
    let post = |pw: &'static str, again: &'static str| {
        test::TestRequest::post()
            .uri(path)
            .set_form([("password", pw), ("confirm_password", again)])
            .to_request()
    };
    let res = test::call_service(&app, post("short", "short")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(res).await.contains("too short"));
    let res = test::call_service(&app, post(PASSWORD, "something else entirely")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(t
        .state
        .store
        .user("nia")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .is_none());

    let res = test::call_service(&app, post(PASSWORD, PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body_text(res).await.contains("Your password is set"));
    assert_eq!(
        sign_in(&app, "nia", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // Used once: a second use is refused, and the password stays.
    let res =
        test::call_service(&app, post("another long password", "another long password")).await;
    assert_eq!(res.status(), StatusCode::GONE);
    let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(
        sign_in(&app, "nia", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let users = user_entries(&t.state).await;
    assert_eq!(
        users,
        [
            entry("invite_created", "amy", "nia", "clinic-a"),
            entry("password_set", "nia", "nia", "clinic-a"),
        ]
    );
    let all = serde_json::to_string(&entries(&t.state).await).unwrap();
    assert!(!all.contains(secret), "the link in the audit trail");
    assert!(!all.contains(PASSWORD));
}

#[actix_web::test]
async fn an_expired_or_unknown_link_is_refused() {
    let t = admin_state().await;
    common::add_user(&t.state, "nia", "clinic-a", Role::Staff).await;
    let secret = chorus::domain::user::random_hex();
    let now = chorus::domain::time::now_ms();
    let link = chorus::domain::PasswordLink {
        user: "nia".into(),
        created_ms: now - 100_000,
        expires_ms: now - 1,
        used_ms: None,
    };
    let hash = chorus::domain::user::token_sha256(&secret);
    t.state.store.put_password_link(&hash, &link).await.unwrap();
    let app = test::init_service(create_app(t.state.clone())).await;
    for s in [secret.as_str(), "0123"] {
        let uri = format!("/admin/password/{s}");
        let req = test::TestRequest::post()
            .uri(&uri)
            .set_form([("password", PASSWORD), ("confirm_password", PASSWORD)])
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::GONE);
        assert!(body_text(res).await.contains("ask an admin for a new one"));
    }
    assert!(t
        .state
        .store
        .user("nia")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .is_none());
}

#[actix_web::test]
async fn a_user_changes_their_own_password_with_the_current_one() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Viewer).await;
    let token = call_token(&t.state, "ann").await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let new = "a brand new long password";

    let (status, body) = call!(
        app,
        post,
        token,
        "/api/v1/me/password",
        json!({"current_password": "wrong password here", "new_password": new})
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "current_password");
    let (status, body) = call!(
        app,
        post,
        token,
        "/api/v1/me/password",
        json!({"current_password": PASSWORD, "new_password": "short"})
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "password");
    assert_eq!(
        sign_in(&app, "ann", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let (status, _) = call!(
        app,
        post,
        token,
        "/api/v1/me/password",
        json!({"current_password": PASSWORD, "new_password": new})
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sign_in(&app, "ann", new).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(&app, "ann", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let set: Vec<AuditEntry> = entries(&t.state)
        .await
        .into_iter()
        .filter(|e| e.action == "password_set")
        .collect();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].actor, "ann");
    assert_eq!(set[0].details["via"], "own");
}

#[actix_web::test]
async fn two_uses_of_one_link_at_once_set_one_password() {
    let t = admin_state().await;
    common::add_user(&t.state, "nia", "clinic-a", Role::Staff).await;
    let link = chorus::services::password_links::invite(
        t.state.store.as_ref(),
        chorus::services::users::By::Cli,
        "nia",
    )
    .await
    .unwrap();
    let hash = chorus::domain::user::token_sha256(&link.secret);
    let now = chorus::domain::time::now_ms();
    let uses = (0..8).map(|_| {
        let store = t.state.store.clone();
        let hash = hash.clone();
        tokio::spawn(async move { store.use_password_link(&hash, now).await.unwrap() })
    });
    let mut won = 0;
    for u in uses {
        won += u.await.unwrap().is_some() as usize;
    }
    assert_eq!(won, 1);
    let stored = t.state.store.password_link(&hash).await.unwrap().unwrap();
    assert_eq!(stored.used_ms, Some(now));
}
