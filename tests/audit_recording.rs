//! Each audited action, done through the real app, leaves its entry (docs/audit.md): who,
//! which site, what, the filters and counts — and never an answer or free text.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::{Action, AnswerValue, AuditEntry, Role};
use chorus::store::AuditQuery;
use common::TestStore;
use serde_json::json;

async fn entries(state: &chorus::AppState) -> Vec<AuditEntry> {
    let q = AuditQuery {
        oldest_first: true,
        limit: 1000,
        ..AuditQuery::default()
    };
    state.store.list_audit(&q).await.unwrap().items
}

/// The last entry of an action; fails naming the actions there are.
async fn last(state: &chorus::AppState, action: &str) -> AuditEntry {
    let all = entries(state).await;
    let actions: Vec<String> = all.iter().map(|e| e.action.clone()).collect();
    all.into_iter()
        .rev()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no {action} entry among {actions:?}"))
}

#[actix_web::test]
async fn sign_in_failure_refusal_success_sign_out_and_expiry_are_recorded() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    assert_eq!(
        sign_in(&app, "ann", "wrong password!").await.status,
        StatusCode::UNAUTHORIZED
    );
    let e = last(&t.state, "sign_in_failed").await;
    assert_eq!(
        (e.actor.as_str(), e.target.as_deref()),
        ("system", Some("ann"))
    );
    // A name that is no account (it could be a password typed in the wrong field) is not kept.
    sign_in(&app, "hunter2-typed-here", "x").await;
    let e = last(&t.state, "sign_in_failed").await;
    assert_eq!(e.target, None);
    assert_eq!(e.details["account"], "unknown");

    let ok = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let e = last(&t.state, "sign_in").await;
    assert_eq!(e.actor, "ann");
    let session = ok.session.unwrap();
    let (_, _, page) = get_page(&app, &session, "/admin/sites/clinic-a").await;
    let req = test::TestRequest::post()
        .uri("/admin/logout")
        .cookie(session.clone())
        .set_form([("csrf", csrf_of(&page))])
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(last(&t.state, "sign_out").await.actor, "ann");

    // An idle session presented after its timeout.
    let again = sign_in(&app, "ann", PASSWORD).await.session.unwrap();
    t.state
        .sessions
        .set_idle_timeout(std::time::Duration::from_millis(0));
    let (status, _, _) = get_page(&app, &again, "/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "to the sign-in form");
    let e = last(&t.state, "session_expired").await;
    assert_eq!(
        (e.actor.as_str(), e.target.as_deref()),
        ("system", Some("ann"))
    );

    // Failures until the limiter refuses; the refusal is recorded with its wait.
    t.state
        .sessions
        .set_idle_timeout(std::time::Duration::from_secs(600));
    for _ in 0..5 {
        sign_in(&app, "ann", "wrong password!").await;
    }
    let refused = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let e = last(&t.state, "sign_in_refused").await;
    assert_eq!(e.target.as_deref(), Some("ann"));
    assert!(e.details["retry_after_s"].parse::<u64>().unwrap() > 0);
}

#[actix_web::test]
async fn reading_listing_and_exporting_responses_is_recorded_without_any_answer() {
    let t = admin_state().await;
    add_person(&t.state, "ann", "clinic-a", Role::Viewer).await;
    let token = common::add_user(&t.state, "api-reader", "clinic-a", Role::Viewer).await;
    let secret = "call me at 555-0100 about my diabetes";
    let r = store_response(
        &t.state,
        "clinic-a",
        "patient-pulse",
        "patient",
        "2026-03-02T10:00:00Z",
        &["parking"],
        &[("comments", AnswerValue::Text(secret.into()))],
    )
    .await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let session = sign_in(&app, "ann", PASSWORD).await.session.unwrap();

    let (status, _, body) = get_page(
        &app,
        &session,
        &format!("/admin/sites/clinic-a/responses/{}", r.id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(secret), "the reader sees the answer");
    let e = last(&t.state, "response_read").await;
    assert_eq!(e.actor, "ann");
    assert_eq!(e.site.as_deref(), Some("clinic-a"));
    assert_eq!(e.target, Some(r.id.to_string()));

    let (status, _, _) = get_page(
        &app,
        &session,
        "/admin/sites/clinic-a/responses?group=patient",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let e = last(&t.state, "responses_listed").await;
    assert_eq!((e.actor.as_str(), e.details["rows"].as_str()), ("ann", "1"));
    assert_eq!(e.details["group"], "patient");

    let (status, _, _) = get_page(
        &app,
        &session,
        "/admin/sites/clinic-a/responses.csv?survey=patient-pulse",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let e = last(&t.state, "responses_exported").await;
    assert_eq!(e.details["format"], "csv");
    assert_eq!(e.details["survey"], "patient-pulse");
    assert_eq!(e.details["rows"], "1");

    let req = test::TestRequest::get()
        .uri("/api/v1/sites/clinic-a/responses?tag=parking")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let e = last(&t.state, "responses_listed").await;
    assert_eq!(e.actor, "api-reader");
    assert_eq!(
        (e.details["tag"].as_str(), e.details["rows"].as_str()),
        ("parking", "1")
    );

    // The FHIR endpoint's read and search are recorded the same way.
    let req = test::TestRequest::get()
        .uri(&format!("/fhir/r4/QuestionnaireResponse/{}", r.id))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let e = last(&t.state, "response_read").await;
    assert_eq!(e.actor, "api-reader");
    assert_eq!(e.target, Some(r.id.to_string()));
    let req = test::TestRequest::get()
        .uri("/fhir/r4/QuestionnaireResponse?questionnaire=clinic-a.patient-pulse")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let e = last(&t.state, "responses_listed").await;
    assert_eq!(e.actor, "api-reader");
    assert_eq!(
        (e.details["survey"].as_str(), e.details["rows"].as_str()),
        ("patient-pulse", "1")
    );

    let text = t.state.store.backup_text().await.unwrap();
    let trail: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""type":"audit""#))
        .collect();
    assert!(trail.len() >= 5);
    for line in trail {
        // The hashes are hex and may hold any digits; every other field is checked.
        let mut entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let fields = entry.as_object_mut().unwrap();
        fields.remove("hash");
        fields.remove("prev_hash");
        let text = entry.to_string();
        assert!(
            !text.contains("555") && !text.contains("diabetes"),
            "{text}"
        );
    }
}

#[actix_web::test]
async fn follow_ups_retries_reloads_retags_and_invitations_are_recorded() {
    // A copy of the fixture sites, so that a file can change before a reload.
    let sites = tempfile::tempdir().unwrap();
    let src = common::repo().join("tests/fixtures/admin-sites");
    for sub in [
        "clinic-a",
        "clinic-a/surveys",
        "clinic-b",
        "clinic-b/surveys",
    ] {
        std::fs::create_dir_all(sites.path().join(sub)).unwrap();
        for f in std::fs::read_dir(src.join(sub)).unwrap().flatten() {
            if f.path().is_file() {
                std::fs::copy(f.path(), sites.path().join(sub).join(f.file_name())).unwrap();
            }
        }
    }
    let dir = sites.path().to_path_buf();
    let t = common::state_with(move |data| chorus::Config {
        sites: dir,
        plugins: common::repo().join("tests/fixtures/plugins"),
        ..common::demo_config(data)
    })
    .await;
    let admin = common::add_user(&t.state, "boss", "clinic-a", Role::Admin).await;
    let r = store_with_follow_ups(
        &t.state,
        "clinic-a",
        "2026-03-02T10:00:00Z",
        vec![
            task("Call back", Some(1)),
            Action::Webhook {
                target: "helpdesk".into(),
                payload: None,
            },
        ],
    )
    .await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let post = |uri: &str, body: serde_json::Value| {
        test::TestRequest::post()
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .set_json(body)
            .to_request()
    };

    let task_id = r.follow_ups[0].id;
    let req = post(
        &format!("/api/v1/sites/clinic-a/follow-ups/{task_id}"),
        json!({ "status": "dismissed", "reason": "patient said 555-0100 is wrong" }),
    );
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let e = last(&t.state, "task_changed").await;
    assert_eq!(e.actor, "boss");
    assert_eq!(e.target, Some(task_id.to_string()));
    assert_eq!(e.details["status"], "open → dismissed");
    assert!(
        !format!("{:?} {:?}", e.details, e.target).contains("555"),
        "a reason is free text: {e:?}"
    );

    let delivery = r.follow_ups[1].id;
    let req = post(
        &format!("/api/v1/sites/clinic-a/deliveries/{delivery}/retry"),
        json!({}),
    );
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::ACCEPTED
    );
    let e = last(&t.state, "delivery_retried").await;
    assert_eq!(
        (e.actor.as_str(), e.target),
        ("boss", Some(delivery.to_string()))
    );

    let site_file = sites.path().join("clinic-a/site.toml");
    let old = std::fs::read_to_string(&site_file).unwrap();
    std::fs::write(&site_file, old.replace("Clinic A", "Clinic A (north)")).unwrap();
    let req = post("/api/v1/sites/clinic-a/reload", json!({}));
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let e = last(&t.state, "site_reloaded").await;
    assert_eq!(e.details["changed"], "site.toml");
    let (before, after) = e.details["sha256:site.toml"].split_once(" → ").unwrap();
    assert_ne!(before, after);
    assert_eq!(after.len(), 64);
    let unchanged = &e.details["sha256:surveys/patient-pulse.toml"];
    let (b, a) = unchanged.split_once(" → ").unwrap();
    assert_eq!(b, a, "an unchanged file has the same hash before and after");

    let req = post("/api/v1/sites/clinic-a/retag", json!({}));
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::ACCEPTED
    );
    let e = last(&t.state, "retag_run").await;
    assert_eq!(
        (e.actor.as_str(), e.details["status"].as_str()),
        ("boss", "started")
    );
    // The run's end, recorded by the server itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let done = entries(&t.state).await.into_iter().any(|e| {
            e.action == "retag_run" && e.details.get("status").map(String::as_str) == Some("done")
        });
        if done {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the re-tag finished");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let req = post(
        "/api/v1/sites/clinic-a/surveys/patient-pulse/invitations",
        json!({ "count": 3 }),
    );
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::CREATED
    );
    let e = last(&t.state, "invitations_created").await;
    assert_eq!(e.target.as_deref(), Some("patient-pulse"));
    assert_eq!(e.details["count"], "3");
    assert_eq!(
        chorus::services::audit::verify(t.state.store.as_ref())
            .await
            .unwrap(),
        chorus::services::audit::Verification::Intact {
            count: entries(&t.state).await.len() as u64,
            head: t.state.store.audit_head().await.unwrap().unwrap().hash,
        }
    );
}

/// A scheduled backup (what `backup_every` runs while serving) is recorded by the server.
#[actix_web::test]
async fn a_scheduled_backup_is_recorded() {
    let t = admin_state().await;
    let dir = t.dir.path().join("backups");
    let written = chorus::services::backups::backup_now(t.state.store.as_ref(), &dir, 2)
        .await
        .unwrap();
    let e = last(&t.state, "backup").await;
    assert_eq!(e.actor, "system");
    assert_eq!(e.target, Some(written.file.path.display().to_string()));
    assert_eq!(e.details["records"], written.records.to_string());
}

#[actix_web::test]
async fn a_kiosk_registered_enrolled_and_revoked_is_recorded_without_its_secrets() {
    let t = common::demo_state().await;
    let admin = common::add_user(&t.state, "desk", "demo-clinic", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let kiosks = "/api/v1/sites/demo-clinic/kiosks";
    let req = test::TestRequest::post()
        .uri(kiosks)
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .set_json(json!({"name": "Front desk", "survey": "patient-enrollment"}))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: serde_json::Value = test::read_body_json(res).await;
    let id = created["id"].as_str().unwrap().to_string();
    let url = created["enrolment_url"].as_str().unwrap();
    let token = url.split("?t=").nth(1).unwrap().to_string();

    let registered = last(&t.state, "kiosk_registered").await;
    assert_eq!(registered.actor, "desk");
    assert_eq!(registered.site.as_deref(), Some("demo-clinic"));
    assert_eq!(registered.target.as_deref(), Some(id.as_str()));
    assert_eq!(registered.details["survey"], "patient-enrollment");

    let req = test::TestRequest::post()
        .uri("/s/demo-clinic/kiosk/enrol")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!("t={token}"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == "chorus_kiosk")
        .unwrap()
        .value()
        .to_string();
    let enrolled = last(&t.state, "kiosk_enrolled").await;
    assert_eq!(enrolled.actor, "system");
    assert_eq!(enrolled.target.as_deref(), Some(id.as_str()));

    let req = test::TestRequest::post()
        .uri(&format!("{kiosks}/{id}/revoke"))
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), StatusCode::OK);
    let revoked = last(&t.state, "kiosk_revoked").await;
    assert_eq!(revoked.actor, "desk");
    assert_eq!(revoked.target.as_deref(), Some(id.as_str()));

    // Neither the link's token nor the cookie is in any entry.
    let all = serde_json::to_string(&entries(&t.state).await).unwrap();
    assert!(!all.contains(&token) && !all.contains(&cookie));
}
