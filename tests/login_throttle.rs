//! Failed sign-ins: limited per account with a growing delay (in the store, so every node and
//! a restart see it), under a much higher per-address ceiling; the client address is the TCP
//! peer unless the peer is a trusted proxy.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use chorus::services::login_throttle::Backoff;
use chorus::Config;
use std::time::Duration;

const WRONG: &str = "not the password at all";

/// The case: five wrong passwords for one account must not lock out another account
/// signing in from the same address (one office, or everyone behind one proxy).
#[actix_web::test]
async fn one_account_failing_does_not_lock_out_another_from_the_same_address() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    add_person(&t.state, "bob", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, "ann", WRONG).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let bob = sign_in(&app, "bob", PASSWORD).await;
    assert_eq!(bob.status, StatusCode::SEE_OTHER, "{}", bob.body);
    assert!(bob.session.is_some(), "bob is signed in");

    // ann herself now waits, even with the right password, and is told for how long.
    let ann = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(ann.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(ann.session.is_none());
    assert_eq!(ann.retry_after, Some(30));
    assert!(
        ann.body
            .contains("Too many failed sign-ins for this name. Try again in 30 seconds"),
        "{}",
        ann.body
    );
    // A name that does not exist is limited the same way (a 429 tells nothing about which
    // names are real).
    for _ in 0..5 {
        sign_in(&app, "nobody", WRONG).await;
    }
    assert_eq!(
        sign_in(&app, "nobody", WRONG).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Signs in with a wrong password until the lock ends (attempts while locked are refused
/// without being counted), then once more: the answer to that one.
async fn fail_after_the_lock<S, B>(app: &S, name: &str) -> SignIn
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    loop {
        let attempt = sign_in(app, name, WRONG).await;
        if attempt.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(attempt.status, StatusCode::TOO_MANY_REQUESTS);
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    sign_in(app, name, WRONG).await
}

#[actix_web::test]
async fn each_further_failure_doubles_the_delay_and_success_clears_it() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    t.state.login_throttle.set_backoff(Backoff {
        base: Duration::from_secs(1),
        ..Backoff::default()
    });
    let app = test::init_service(create_app(t.state.clone())).await;
    for _ in 0..5 {
        sign_in(&app, "ann", WRONG).await;
    }
    let after_five = sign_in(&app, "ann", WRONG).await;
    assert_eq!(after_five.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(after_five.retry_after, Some(1));
    let sixth = fail_after_the_lock(&app, "ann").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        sixth.retry_after,
        Some(2),
        "the sixth failure: twice as long"
    );
    let seventh = fail_after_the_lock(&app, "ann").await;
    assert_eq!(seventh.retry_after, Some(4), "the seventh: twice again");

    // Once the lock is over, the right password signs in and clears the count.
    loop {
        let ok = sign_in(&app, "ann", PASSWORD).await;
        if ok.status == StatusCode::SEE_OTHER {
            break;
        }
        assert_eq!(ok.status, StatusCode::TOO_MANY_REQUESTS);
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..4 {
        assert_eq!(
            sign_in(&app, "ann", WRONG).await.status,
            StatusCode::UNAUTHORIZED,
            "four free failures again"
        );
    }
}

/// The count is in the store: a restart (or another node on the same store) sees it.
#[actix_web::test]
async fn the_lock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = || Config {
        sites: common::repo().join("tests/fixtures/admin-sites"),
        plugins: common::repo().join("tests/fixtures/plugins"),
        ..common::demo_config(&data)
    };
    {
        let state = actix_web::web::Data::new(chorus::AppState::open(config()).await.unwrap());
        add_person(&state, "ann", "clinic-a", Role::Admin).await;
        let app = test::init_service(create_app(state.clone())).await;
        for _ in 0..5 {
            sign_in(&app, "ann", WRONG).await;
        }
        state.store.close().await.unwrap();
    }
    let state = actix_web::web::Data::new(chorus::AppState::open(config()).await.unwrap());
    let app = test::init_service(create_app(state.clone())).await;
    let ann = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(ann.status, StatusCode::TOO_MANY_REQUESTS);
    // Only a hash of the name is the key: the store holds no name typed into the form.
    let backup = common::TestStore::backup_text(&state.store).await.unwrap();
    assert!(!backup.contains(WRONG));
}

async fn proxied_state() -> common::TestState {
    let t = common::state_with(|data| Config {
        sites: common::repo().join("tests/fixtures/admin-sites"),
        plugins: common::repo().join("tests/fixtures/plugins"),
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..common::demo_config(data)
    })
    .await;
    t.state.login_throttle.set_address_ceiling(3);
    for name in ["ann", "bob", "cy", "dee", "eve"] {
        add_person(&t.state, name, "clinic-a", Role::Admin).await;
    }
    t
}

/// A client that is not a trusted proxy cannot escape the address ceiling by writing its own
/// `X-Forwarded-For` or `Forwarded`.
#[actix_web::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let t = proxied_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let peer = "203.0.113.5:4000";
    for (name, spoof) in [
        ("ann", ("X-Forwarded-For", "198.51.100.1")),
        ("bob", ("X-Forwarded-For", "198.51.100.2")),
        ("cy", ("Forwarded", "for=198.51.100.3")),
    ] {
        let attempt = sign_in_from(&app, name, WRONG, peer, &[spoof]).await;
        assert_eq!(attempt.status, StatusCode::UNAUTHORIZED);
    }
    let next = sign_in_from(
        &app,
        "dee",
        PASSWORD,
        peer,
        &[("X-Forwarded-For", "198.51.100.4")],
    )
    .await;
    assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS, "{}", next.body);
    assert!(next.body.contains("from your network"), "{}", next.body);
    assert!(next.retry_after.is_some_and(|s| s > 0));
}

/// Behind a trusted proxy each client has its own ceiling: the right-most address the proxy
/// did not add itself.
#[actix_web::test]
async fn forwarded_headers_from_a_trusted_proxy_name_the_client() {
    let t = proxied_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let proxy = "10.0.0.2:4000";
    // The client wrote "192.0.2.99" itself; the proxy appended the address it saw.
    let client = [("X-Forwarded-For", "192.0.2.99, 198.51.100.7")];
    for name in ["ann", "bob", "cy"] {
        let attempt = sign_in_from(&app, name, WRONG, proxy, &client).await;
        assert_eq!(attempt.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = sign_in_from(&app, "dee", PASSWORD, proxy, &client).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same proxy signs in.
    let other = [("X-Forwarded-For", "192.0.2.99, 198.51.100.8")];
    let ok = sign_in_from(&app, "eve", PASSWORD, proxy, &other).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let rfc = [("Forwarded", "for=198.51.100.9;proto=https")];
    let ok = sign_in_from(&app, "dee", PASSWORD, proxy, &rfc).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}
