//! The admin pages that apply the rules to past responses (docs/retag.md): "Re-tag stored
//! responses" and "Catch up follow-ups". Forms work without JavaScript (CSRF like every admin
//! form); the progress shown is the one in the store, so a plain reload shows how far it got;
//! a bad range, a missing token or another site's admin changes nothing.

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::{add_person, csrf_of, get_page, post_page, sign_in, PASSWORD};
use chorus::create_app;
use chorus::domain::Role;
use common::TestStore;
use rules_common::{config_for, demo_copy, submit};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "demo-clinic";

fn patient(comments: &str) -> Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": comments })
}

/// GETs `uri` until its page contains `text` (the job ran on in the background).
async fn page_once<S, B>(
    app: &S,
    session: &actix_web::cookie::Cookie<'static>,
    uri: &str,
    text: &str,
) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = get_page(app, session, uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{uri} never showed {text:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[actix_web::test]
async fn the_retag_page_starts_a_run_and_shows_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ann", SITE, Role::Admin).await;
    add_person(&t.state, "bob", "other-clinic", Role::Admin).await;
    add_person(&t.state, "vic", SITE, Role::Viewer).await;
    for c in ["no parking anywhere", "all fine", "the kiosk is slow"] {
        submit(&app, SITE, "patient-enrollment", patient(c)).await;
    }
    let session = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let url = format!("/admin/sites/{SITE}/retag");

    // Linked from the rules page.
    let (_, _, rules) = get_page(&app, &session, &format!("/admin/sites/{SITE}/rules")).await;
    assert!(rules.contains(&format!("href=\"{url}\"")), "{rules}");
    assert!(rules.contains(&format!("href=\"/admin/sites/{SITE}/catch-up\"")));

    let (status, _, page) = get_page(&app, &session, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No re-tag of this site yet"), "{page}");
    let csrf = csrf_of(&page);

    // A range that ends before it starts: the form again with the problem; nothing runs.
    let (status, _, refused) = post_page(
        &app,
        &session,
        &url,
        &[
            ("csrf", &csrf),
            ("since", "2026-02-01"),
            ("until", "2026-01-01"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("Before: must be later than From"),
        "{refused}"
    );
    assert!(
        refused.contains("value=\"2026-02-01\""),
        "the typed values are kept"
    );
    // No token, a wrong one, another site's admin, a viewer: refused.
    let (status, _, _) = post_page(&app, &session, &url, &[("since", "")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_page(&app, &session, &url, &[("csrf", "nope")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for who in ["bob", "vic"] {
        let other = sign_in(&app, who, PASSWORD).await.session.unwrap();
        let (status, _, _) = get_page(&app, &other, &url).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let (_, _, account) = get_page(&app, &other, "/admin/account").await;
        let (status, _, _) = post_page(&app, &other, &url, &[("csrf", &csrf_of(&account))]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
    assert!(t.state.store.retag_progress(SITE).await.unwrap().is_none());

    // A run of the range from 2020: back to the page, which shows it finished.
    let (status, location, _) = post_page(
        &app,
        &session,
        &url,
        &[("csrf", &csrf), ("since", "2020-01-01"), ("until", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(url.as_str()));
    let done = page_once(&app, &session, &url, "<strong>Finished</strong>").await;
    assert!(
        done.contains("3 of 3 response(s) looked at (100%)"),
        "{done}"
    );
    assert!(done.contains(" by ann</dd>"), "{done}");
    assert!(
        done.contains("responses from 2020-01-01T00:00:00"),
        "{done}"
    );
    assert!(done.contains("Responses whose tags changed"));
    let stored = t.state.store.retag_progress(SITE).await.unwrap().unwrap();
    assert_eq!(stored.started_by.as_deref(), Some("ann"));
    assert_eq!(stored.since_ms, Some(1_577_836_800_000));
    assert_eq!((stored.done, stored.total), (3, 3));
}

#[actix_web::test]
async fn the_catch_up_page_previews_then_creates_each_follow_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ann", SITE, Role::Admin).await;
    add_person(&t.state, "bob", "other-clinic", Role::Admin).await;
    let mut ids = Vec::new();
    for c in ["The kiosk ate my card", "all fine", "kiosk frozen"] {
        let (_, body) = submit(&app, SITE, "patient-enrollment", patient(c)).await;
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    std::fs::copy(
        common::repo().join("tests/fixtures/catch-up/kiosk.rhai"),
        root.join("sites/demo-clinic/rules/kiosk.rhai"),
    )
    .unwrap();
    let session = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    let rules = format!("/admin/sites/{SITE}/rules");
    let (_, _, page) = get_page(&app, &session, &rules).await;
    let (status, _, _) = post_page(
        &app,
        &session,
        &format!("{rules}/reload"),
        &[("csrf", &csrf_of(&page))],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let url = format!("/admin/sites/{SITE}/catch-up");

    let (status, _, page) = get_page(&app, &session, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No catch-up of this site yet"), "{page}");
    assert!(!page.contains("id=\"preview\""));

    // A backwards range: a 400 page that says so, and no preview.
    let (status, _, bad) = get_page(
        &app,
        &session,
        &format!("{url}?preview=yes&since=2026-02-01&until=2026-01-01"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("Before: must be later than From"), "{bad}");
    assert!(!bad.contains("id=\"preview\""));

    let (status, _, preview) = get_page(&app, &session, &format!("{url}?preview=yes")).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview.contains("3 stored response(s) looked at; 2 lack follow-ups the current rules ask for: 2 task(s) and 2 webhook(s)."),
        "{preview}"
    );
    assert!(
        preview.contains("<td>task</td><td>kiosk</td><td>2</td>"),
        "{preview}"
    );
    assert!(preview.contains("<td>webhook</td><td>helpdesk</td><td>2</td>"));
    assert!(preview.contains(&format!("/admin/sites/{SITE}/responses/{}", ids[0])));
    assert!(
        !preview.contains(&ids[1]),
        "a response that lacks nothing is not listed"
    );
    assert!(!preview.contains("ate my card"), "no answers on the page");
    assert!(preview.contains("Create 2 task(s) and 2 webhook(s)"));
    assert!(
        t.state.store.all_tasks(SITE).await.unwrap().is_empty(),
        "a preview creates nothing"
    );

    // Another site's admin can neither see nor start it.
    let bob = sign_in(&app, "bob", PASSWORD).await.session.unwrap();
    let (status, _, _) = get_page(&app, &bob, &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, account) = get_page(&app, &bob, "/admin/account").await;
    let (status, _, _) = post_page(&app, &bob, &url, &[("csrf", &csrf_of(&account))]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A bad range posted: the form with the problem, nothing started.
    let csrf = csrf_of(&preview);
    let (status, _, refused) = post_page(
        &app,
        &session,
        &url,
        &[("csrf", &csrf), ("since", "soon"), ("until", "")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("From: &quot;soon&quot; is neither an RFC 3339 time"),
        "{refused}"
    );
    assert!(t
        .state
        .store
        .catch_up_progress(SITE)
        .await
        .unwrap()
        .is_none());

    // Create, twice (two clicks): each response gets one task and one webhook.
    for _ in 0..2 {
        let (status, location, _) = post_page(
            &app,
            &session,
            &url,
            &[("csrf", &csrf), ("since", ""), ("until", "")],
        )
        .await;
        assert!(
            status == StatusCode::SEE_OTHER || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status}"
        );
        if status == StatusCode::SEE_OTHER {
            assert_eq!(location.as_deref(), Some(url.as_str()));
        }
        page_once(&app, &session, &url, "<strong>Finished</strong>").await;
    }
    let done = page_once(&app, &session, &url, "<strong>Finished</strong>").await;
    assert!(done.contains("3 of 3 response(s) looked at"), "{done}");
    assert!(done.contains(" by ann</dd>"));
    let tasks = t.state.store.all_tasks(SITE).await.unwrap();
    let deliveries = t.state.store.all_deliveries(SITE, None).await.unwrap();
    for id in [&ids[0], &ids[2]] {
        let of = |r: Option<uuid::Uuid>| r.map(|u| u.to_string()).as_ref() == Some(id);
        assert_eq!(
            tasks.iter().filter(|t| of(t.origin.response_id())).count(),
            1
        );
        assert_eq!(
            deliveries
                .iter()
                .filter(|d| of(d.origin.response_id()))
                .count(),
            1
        );
    }
    assert_eq!(tasks.len(), 2);
    // The new tasks are on the follow-ups page like any other.
    let (_, _, follow_ups) =
        get_page(&app, &session, &format!("/admin/sites/{SITE}/follow-ups")).await;
    assert!(follow_ups.contains("Check the lobby kiosk"), "{follow_ups}");
    // And a new preview finds nothing left.
    let (_, _, again) = get_page(&app, &session, &format!("{url}?preview=yes")).await;
    assert!(again.contains("Nothing to catch up"), "{again}");
}
