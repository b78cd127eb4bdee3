//! Web login: sign in, wrong password, sign out, inactivity expiry, CSRF on every form, and
//! the session cookie's flags (the failed-sign-in limits: tests/login_throttle.rs).

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use std::time::Duration;

#[actix_web::test]
async fn sign_in_use_and_sign_out() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    // Not signed in: every admin page sends the browser to the form.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/admin/sites/clinic-a")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get("location").unwrap(), "/admin/login");

    let login = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let cookie = login.session.expect("a session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_ne!(cookie.secure(), Some(true), "plain http: not Secure");
    assert_eq!(cookie.path(), Some("/admin"));

    // A single-site user goes straight to the site.
    let (status, location, _) = get_page(&app, &cookie, "/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/admin/sites/clinic-a"));
    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Clinic A"));
    assert!(page.contains("Signed in as ann"));

    // Signing out needs the page's CSRF token and ends the session for good.
    let token = csrf_of(&page);
    let req = test::TestRequest::post()
        .uri("/admin/logout")
        .cookie(cookie.clone())
        .set_form([("csrf", token.as_str())])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers().get("location").unwrap(), "/admin/login");
    let removal = set_cookie(&res, "chorus_session").expect("cookie removed");
    assert_eq!(removal.value(), "");
    let (status, location, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
    assert_eq!(location.as_deref(), Some("/admin/login"));
    assert_eq!(common::session_count(&t.state).await, 0);
}

#[actix_web::test]
async fn wrong_password_and_unknown_name_are_refused_alike() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    // A token-only user (no password) cannot sign in either.
    common::add_user(&t.state, "robot", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for (name, password) in [
        ("ann", "not the password"),
        ("nobody", PASSWORD),
        ("robot", ""),
    ] {
        let login = sign_in(&app, name, password).await;
        assert_eq!(login.status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(login.session.is_none());
        assert!(login.body.contains("The name or the password is wrong."));
    }
    assert_eq!(common::session_count(&t.state).await, 0);
}

#[actix_web::test]
async fn sessions_expire_after_inactivity() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        t.state.sessions.idle_timeout(),
        Duration::from_secs(30 * 60)
    );
    // Any inactivity is now too long.
    t.state.sessions.set_idle_timeout(Duration::ZERO);
    let (status, location, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/admin/login"));
    t.state.sessions.set_idle_timeout(Duration::from_secs(60));
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "an expired session stays ended"
    );
}

#[actix_web::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "ann", PASSWORD).await.session.unwrap();

    for form in [vec![], vec![("csrf", "0000")], vec![("csrf", "")]] {
        let req = test::TestRequest::post()
            .uri("/admin/logout")
            .cookie(cookie.clone())
            .set_form(form.clone())
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{form:?}");
        let page = body_text(res).await;
        assert!(page.contains("reload the page"), "an HTML page: {page}");
    }
    // Another session's token is wrong for this one.
    let other = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let (_, _, other_page) = get_page(&app, &other, "/admin/sites/clinic-a").await;
    let req = test::TestRequest::post()
        .uri("/admin/logout")
        .cookie(cookie.clone())
        .set_form([("csrf", csrf_of(&other_page))])
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK, "still signed in");

    // The sign-in form: without its cookie, or with a token that does not match it.
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/admin/login").to_request(),
    )
    .await;
    let login_cookie = set_cookie(&res, "chorus_login").unwrap();
    let token = csrf_of(&body_text(res).await);
    let posts = [
        (None, token.clone()),
        (Some(login_cookie.clone()), String::new()),
        (Some(login_cookie.clone()), "f".repeat(64)),
    ];
    for (c, tok) in posts {
        let mut req = test::TestRequest::post().uri("/admin/login").set_form([
            ("csrf", tok.as_str()),
            ("name", "ann"),
            ("password", PASSWORD),
        ]);
        if let Some(c) = c {
            req = req.cookie(c);
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(set_cookie(&res, "chorus_session").is_none());
    }
}

#[actix_web::test]
async fn cookie_is_secure_over_tls() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/admin/login")
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_request(),
    )
    .await;
    let login_cookie = set_cookie(&res, "chorus_login").unwrap();
    assert_eq!(login_cookie.secure(), Some(true));
    let token = csrf_of(&body_text(res).await);
    let req = test::TestRequest::post()
        .uri("/admin/login")
        .insert_header(("X-Forwarded-Proto", "https"))
        .cookie(login_cookie)
        .set_form([
            ("csrf", token.as_str()),
            ("name", "ann"),
            ("password", PASSWORD),
        ])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&res, "chorus_session").unwrap();
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
}

/// Sessions live in the store: a restart keeps people signed in, the store holds only a hash
/// of the cookie, and a page view does not write the session every time.
#[actix_web::test]
async fn a_restart_keeps_people_signed_in() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let key = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(cookie.value().as_bytes()))
    };
    let stored = t
        .state
        .store
        .session(&key)
        .await
        .unwrap()
        .expect("stored by its hash");
    let backup = {
        use common::TestStore;
        t.state.store.backup_text().await.unwrap()
    };
    assert!(
        !backup.contains(cookie.value()),
        "the cookie value is never stored"
    );
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);
    let after = t.state.store.session(&key).await.unwrap().unwrap();
    assert_eq!(
        after.last_seen_ms, stored.last_seen_ms,
        "seen again within a minute: not written again"
    );

    let config = t.state.config.clone();
    let common::TestState { dir, state } = t;
    drop(app);
    drop(state);
    let state = actix_web::web::Data::new(chorus::AppState::open(config).await.unwrap());
    let app = test::init_service(create_app(state.clone())).await;
    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK, "still signed in after the restart");
    assert!(page.contains("Signed in as ann"));
    drop(dir);
}
