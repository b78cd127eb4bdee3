//! The follow-ups page: the queue (overdue, open, claimed), claim / done / dismiss from the
//! page with CSRF, webhook deliveries with retry for site admins, and site scoping of changes.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Action;
use chorus::domain::Role;
use chorus::domain::TaskStatus;
use common::TestStore;

async fn task_status(state: &chorus::AppState, site: &str, id: uuid::Uuid) -> TaskStatus {
    state
        .store
        .all_tasks(site)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == id)
        .unwrap()
        .status
}

macro_rules! post_form {
    ($app:expr, $cookie:expr, $uri:expr, $form:expr) => {{
        let req = test::TestRequest::post()
            .uri(&$uri)
            .cookie($cookie.clone())
            .set_form($form)
            .to_request();
        let res = test::call_service(&$app, req).await;
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (status, location, body_text(res).await)
    }};
}

#[actix_web::test]
async fn staff_work_the_queue_from_the_page() {
    let t = admin_state().await;
    // Due one hour after a March submission: long overdue now.
    let late = store_with_follow_ups(
        &t.state,
        "clinic-a",
        "2026-03-02T10:00:00Z",
        vec![task("Call back <Mrs. O'Hara>", Some(1))],
    )
    .await;
    let calm = store_with_follow_ups(
        &t.state,
        "clinic-a",
        "2026-03-02T11:00:00Z",
        vec![task("Mail the portal leaflet", None)],
    )
    .await;
    let late_id = late.follow_ups[0].id;
    let calm_id = calm.follow_ups[0].id;
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "sam", PASSWORD).await.session.unwrap();

    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a/follow-ups").await;
    assert_eq!(status, StatusCode::OK);
    let overdue = page.find("id=\"overdue\"").unwrap();
    let open = page.find("id=\"open\"").unwrap();
    let late_at = page
        .find("Call back &lt;Mrs. O&#x27;Hara&gt;")
        .expect("escaped title");
    let calm_at = page.find("Mail the portal leaflet").unwrap();
    assert!(overdue < late_at && late_at < open && open < calm_at);
    assert!(
        !page.contains("Webhook deliveries"),
        "deliveries are for site admins"
    );
    let csrf = csrf_of(&page);
    let uri = format!("/admin/sites/clinic-a/follow-ups/{late_id}");

    // Without the token nothing changes.
    let (status, _, _) = post_form!(app, cookie, uri, [("status", "claimed")]);
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form!(app, cookie, uri, [("csrf", "nope"), ("status", "claimed")]);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        task_status(&t.state, "clinic-a", late_id).await,
        TaskStatus::Open
    );

    // Claim, then done; back to the same view.
    let (status, location, _) = post_form!(
        app,
        cookie,
        uri,
        [
            ("csrf", csrf.as_str()),
            ("status", "claimed"),
            ("back_status", "active"),
            ("back_queue", "")
        ]
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some("/admin/sites/clinic-a/follow-ups?status=active&queue=")
    );
    let task = t
        .state
        .store
        .all_tasks("clinic-a")
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == late_id)
        .unwrap();
    assert_eq!(task.status, TaskStatus::Claimed);
    assert_eq!(task.history.last().unwrap().by, "sam");
    let (status, _, _) = post_form!(
        app,
        cookie,
        uri,
        [("csrf", csrf.as_str()), ("status", "done")]
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        task_status(&t.state, "clinic-a", late_id).await,
        TaskStatus::Done
    );
    // A closed task cannot be reopened: the page says why.
    let (status, _, page) = post_form!(
        app,
        cookie,
        uri,
        [("csrf", csrf.as_str()), ("status", "claimed")]
    );
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("the task is closed"));

    // Dismissing needs a reason.
    let uri = format!("/admin/sites/clinic-a/follow-ups/{calm_id}");
    let (status, _, page) = post_form!(
        app,
        cookie,
        uri,
        [
            ("csrf", csrf.as_str()),
            ("status", "dismissed"),
            ("reason", " ")
        ]
    );
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("needs a reason"));
    let (status, _, _) = post_form!(
        app,
        cookie,
        uri,
        [
            ("csrf", csrf.as_str()),
            ("status", "dismissed"),
            ("reason", "already enrolled")
        ]
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        task_status(&t.state, "clinic-a", calm_id).await,
        TaskStatus::Dismissed
    );
    let (_, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a/follow-ups?status=all").await;
    assert!(page.contains("id=\"closed\""));
    // The response page shows where its follow-up stands.
    let (_, _, page) = get_page(
        &app,
        &cookie,
        &format!("/admin/sites/clinic-a/responses/{}", late.id),
    )
    .await;
    assert!(page.contains("<td>done</td>"), "{page}");
}

#[actix_web::test]
async fn staff_of_one_site_cannot_change_another() {
    let t = admin_state().await;
    let b = store_with_follow_ups(
        &t.state,
        "clinic-b",
        "2026-03-02T10:00:00Z",
        vec![
            task("Clinic B task", Some(48)),
            Action::Webhook {
                target: "helpdesk".into(),
                payload: None,
            },
        ],
    )
    .await;
    let b_task = b.follow_ups[0].id;
    let b_delivery = b.follow_ups[1].id;
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    add_person(&t.state, "ada", "clinic-a", Role::Admin).await;
    add_person(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for who in ["sam", "ada"] {
        let cookie = sign_in(&app, who, PASSWORD).await.session.unwrap();
        let (_, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a/follow-ups").await;
        let csrf = csrf_of(&page);
        let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-b/follow-ups").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        // A valid token of the person's own session does not open another site.
        let (status, _, _) = post_form!(
            app,
            cookie,
            format!("/admin/sites/clinic-b/follow-ups/{b_task}"),
            [("csrf", csrf.as_str()), ("status", "claimed")]
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        // Nor does naming B's task under A.
        let (status, _, _) = post_form!(
            app,
            cookie,
            format!("/admin/sites/clinic-a/follow-ups/{b_task}"),
            [("csrf", csrf.as_str()), ("status", "claimed")]
        );
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        let (status, _, _) = post_form!(
            app,
            cookie,
            format!("/admin/sites/clinic-b/deliveries/{b_delivery}/retry"),
            [("csrf", csrf.as_str())]
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(
        task_status(&t.state, "clinic-b", b_task).await,
        TaskStatus::Open
    );
    let d = t
        .state
        .store
        .delivery("clinic-b", b_delivery)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.attempts, 0);
    assert_eq!(
        d.next_attempt_ms,
        chorus::domain::time::ms_of_rfc3339(&b.submitted_at).unwrap()
    );

    // Viewers read reports but do not work follow-ups.
    let cookie = sign_in(&app, "vic", PASSWORD).await.session.unwrap();
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a/follow-ups").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a").await;
    assert!(
        !page.contains("/follow-ups\""),
        "no Follow-ups link for a viewer"
    );
}

#[actix_web::test]
async fn site_admins_see_deliveries_and_retry_them() {
    let t = admin_state().await;
    let r = store_with_follow_ups(
        &t.state,
        "clinic-a",
        "2026-03-02T10:00:00Z",
        vec![Action::Webhook {
            target: "helpdesk".into(),
            payload: Some(serde_json::json!({"note": "<b>hi</b>"})),
        }],
    )
    .await;
    let id = r.follow_ups[0].id;
    add_person(&t.state, "ada", "clinic-a", Role::Admin).await;
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let staff = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (_, _, page) = get_page(&app, &staff, "/admin/sites/clinic-a/follow-ups").await;
    let (status, _, _) = post_form!(
        app,
        staff,
        format!("/admin/sites/clinic-a/deliveries/{id}/retry"),
        [("csrf", csrf_of(&page).as_str())]
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "retrying is for site admins");

    let admin = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (_, _, page) = get_page(&app, &admin, "/admin/sites/clinic-a/follow-ups").await;
    assert!(page.contains("Webhook deliveries"));
    assert!(page.contains("<td>helpdesk</td>"));
    assert!(page.contains("<td>pending</td>"));
    let store = t.state.store.clone();
    let stored = |id| {
        let store = store.clone();
        async move { store.delivery("clinic-a", id).await.unwrap().unwrap() }
    };
    let before = stored(id).await;
    let (status, _, _) = post_form!(
        app,
        admin,
        format!("/admin/sites/clinic-a/deliveries/{id}/retry"),
        [("csrf", csrf_of(&page).as_str())]
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = stored(id).await;
    assert!(
        after.next_attempt_ms > before.next_attempt_ms,
        "scheduled now"
    );
    let (status, _, _) = post_form!(
        app,
        admin,
        format!("/admin/sites/clinic-a/deliveries/{id}/retry"),
        [("csrf", "")]
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
}
