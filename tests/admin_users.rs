//! The Users and Your account pages of the admin app: forms without JavaScript, what they
//! store, what they show once (a token, a link), and refusals shown on the page with nothing
//! changed.

mod admin_support;
mod common;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;

/// POSTs a form with the session and its CSRF token: (status, body).
macro_rules! post_form {
    ($app:expr, $session:expr, $csrf:expr, $uri:expr, $fields:expr) => {{
        let mut fields: Vec<(&str, &str)> = vec![("csrf", $csrf)];
        fields.extend_from_slice(&$fields);
        let req = test::TestRequest::post()
            .uri($uri)
            .cookie($session.clone())
            .set_form(fields)
            .to_request();
        let res = test::call_service(&$app, req).await;
        (res.status(), body_text(res).await)
    }};
}

async fn signed_in<S, B>(app: &S, name: &str) -> (Cookie<'static>, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let session = sign_in(app, name, PASSWORD)
        .await
        .session
        .expect("signed in");
    let (status, _, html) = get_page(app, &session, "/admin/users").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    (session, csrf_of(&html))
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"))
        + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

#[actix_web::test]
async fn an_admin_adds_a_user_and_sees_the_token_and_link_once() {
    let t = admin_state().await;
    add_person(&t.state, "root", "*", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (session, csrf) = signed_in(&app, "root").await;

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/users",
        [("name", "nia"), ("site", "clinic-a"), ("role", "staff")]
    );
    assert_eq!(status, StatusCode::CREATED, "{html}");
    assert!(html.contains("role=\"status\""));
    let token = between(&html, "<code class=\"secret\" id=\"new-token\">", "<");
    let link = between(&html, "<code class=\"secret\" id=\"new-link\">", "<");
    assert!(token.starts_with("chorus_"));
    assert!(link.contains("&#x2F;admin&#x2F;password&#x2F;"), "{link}");
    let user = t.state.store.user("nia").await.unwrap().unwrap();
    assert_eq!((user.site.as_str(), user.role), ("clinic-a", Role::Staff));

    // The listing shows the user and neither secret again.
    let (_, _, page) = get_page(&app, &session, "/admin/users").await;
    assert!(page.contains("<th scope=\"row\">nia"));
    assert!(!page.contains(token) && !page.contains(link));
}

#[actix_web::test]
async fn the_page_changes_a_role_disables_and_handles_tokens() {
    let t = admin_state().await;
    add_person(&t.state, "amy", "clinic-a", Role::Admin).await;
    add_person(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (session, csrf) = signed_in(&app, "amy").await;

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/users/vic/role",
        [("role", "staff")]
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("vic is now staff."));
    let vic = t.state.store.user("vic").await.unwrap().unwrap();
    assert_eq!(vic.role, Role::Staff);

    let (status, html) = post_form!(app, session, &csrf, "/admin/users/vic/token", []);
    assert_eq!(status, StatusCode::OK);
    let token = between(&html, "id=\"new-token\">", "<").to_string();
    let vic = t.state.store.user("vic").await.unwrap().unwrap();
    assert_eq!(vic.token_sha256, chorus::domain::user::token_sha256(&token));
    let (status, _) = post_form!(app, session, &csrf, "/admin/users/vic/revoke-token", []);
    assert_eq!(status, StatusCode::OK);
    assert!(
        t.state
            .store
            .user("vic")
            .await
            .unwrap()
            .unwrap()
            .token_revoked
    );

    let (status, html) = post_form!(app, session, &csrf, "/admin/users/vic/disable", []);
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("vic is disabled"));
    assert!(t.state.store.user("vic").await.unwrap().unwrap().disabled);
    assert_eq!(
        sign_in(&app, "vic", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = post_form!(app, session, &csrf, "/admin/users/vic/enable", []);
    assert_eq!(status, StatusCode::OK);
    assert!(!t.state.store.user("vic").await.unwrap().unwrap().disabled);

    // Their own row offers no role change or disabling, and the server refuses both too.
    let (_, _, page) = get_page(&app, &session, "/admin/users").await;
    assert!(!page.contains("/admin/users/amy/disable"));
    let (status, html) = post_form!(app, session, &csrf, "/admin/users/amy/disable", []);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("You may not disable your own account"));
    assert!(!t.state.store.user("amy").await.unwrap().unwrap().disabled);
}

#[actix_web::test]
async fn refused_forms_say_why_keep_what_was_typed_and_change_nothing() {
    let t = admin_state().await;
    add_person(&t.state, "amy", "clinic-a", Role::Admin).await;
    add_person(&t.state, "bo", "clinic-b", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (session, csrf) = signed_in(&app, "amy").await;
    let users_before = t.state.store.list_users().await.unwrap();

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/users",
        [
            ("name", "bad name!"),
            ("site", "clinic-a"),
            ("role", "viewer")
        ]
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("The name may use letters, digits"), "{html}");
    assert!(html.contains("value=\"bad name!\""));
    assert!(html.contains("aria-invalid=\"true\""));

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/users",
        [("name", "eve"), ("site", "clinic-b"), ("role", "admin")]
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("You may not add users to site"), "{html}");
    let (status, _) = post_form!(app, session, &csrf, "/admin/users/bo/disable", []);
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post_form!(
        app,
        session,
        &csrf,
        "/admin/users/amy/role",
        [("role", "chief")]
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A wrong CSRF token changes nothing either.
    let req = test::TestRequest::post()
        .uri("/admin/users/bo/disable")
        .cookie(session.clone())
        .set_form([("csrf", "forged")])
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.state.store.list_users().await.unwrap(), users_before);

    // A site admin's page lists only the site's users.
    let (_, _, page) = get_page(&app, &session, "/admin/users").await;
    assert!(page.contains("<th scope=\"row\">amy"));
    assert!(!page.contains("<th scope=\"row\">bo"));
}

#[actix_web::test]
async fn only_admins_see_the_users_page() {
    let t = admin_state().await;
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let session = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (status, _, html) = get_page(&app, &session, "/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    let (status, _, html) = get_page(&app, &session, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("href=\"/admin/users\""));
    assert!(html.contains("href=\"/admin/account\""));
}

#[actix_web::test]
async fn a_user_changes_their_own_password_on_the_account_page() {
    let t = admin_state().await;
    add_person(&t.state, "sam", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let session = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (status, _, html) = get_page(&app, &session, "/admin/account").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    let new = "the new and longer password";

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/account/password",
        [
            ("current_password", "not my password"),
            ("new_password", new),
            ("confirm_password", new)
        ]
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("The current password is wrong"), "{html}");
    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/account/password",
        [
            ("current_password", PASSWORD),
            ("new_password", new),
            ("confirm_password", "a different confirmation")
        ]
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("differ"));
    assert_eq!(
        sign_in(&app, "sam", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let (status, html) = post_form!(
        app,
        session,
        &csrf,
        "/admin/account/password",
        [
            ("current_password", PASSWORD),
            ("new_password", new),
            ("confirm_password", new)
        ]
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your password is changed."));
    assert_eq!(
        sign_in(&app, "sam", new).await.status,
        StatusCode::SEE_OTHER
    );
}
