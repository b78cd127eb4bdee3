//! The backup format (docs/backup-format.md): a header line with the format and its version,
//! then one typed record per line. Everything the store holds goes out and comes back: a backup
//! restored into a fresh store backs up to the same text, and the restored store answers as the
//! first did.

mod common;

use actix_web::test;
use chorus::create_app;
use chorus::domain::{Role, TaskStatus};
use chorus::store::{read_backup, BackupRecord};
use common::TestStore;
use serde_json::{json, Value};

async fn report(s: &chorus::AppState) -> chorus::report::Report {
    let site = s.sites.get("demo-clinic").unwrap();
    chorus::services::reports::site_report(s, &site.site, &Default::default())
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_backup_restores_into_a_fresh_store_record_for_record() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "ada", "demo-clinic", Role::Admin).await;
    // Responses with tags, tasks, deliveries and an idempotency key; links; a review run.
    let failed = json!({ "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"],
                         "contact_ok": "yes", "contact_phone": "555-0100" });
    for (i, answers) in [failed.clone(), failed].into_iter().enumerate() {
        let req = test::TestRequest::post()
            .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
            .insert_header(("Idempotency-Key", format!("key-{i}")))
            .set_json(json!({ "answers": answers }))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 201);
    }
    let req = test::TestRequest::post()
        .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/invitations")
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .set_json(json!({ "count": 2 }))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 201);
    let tasks = t.state.store.all_tasks("demo-clinic").await.unwrap();
    chorus::services::follow_ups::change_task_status(
        &t.state,
        "demo-clinic",
        tasks[0].id,
        TaskStatus::Claimed,
        "ada",
        None,
        None,
    )
    .await
    .unwrap();
    chorus::services::review::run_site(&t.state, "demo-clinic")
        .await
        .unwrap();

    let text = t.state.store.backup_text().await.unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header, json!({ "format": "chorus-backup", "version": 2 }));
    let records = read_backup(&mut text.as_bytes()).unwrap();
    let kinds: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| match r {
            BackupRecord::User(_) => "user",
            BackupRecord::Session(_) => "session",
            BackupRecord::Invitation { .. } => "invitation",
            BackupRecord::Response(_) => "response",
            BackupRecord::IdempotencyKey(_) => "idempotency_key",
            BackupRecord::Task(_) => "task",
            BackupRecord::Delivery(_) => "delivery",
            BackupRecord::RuleError { .. } => "rule_error",
            BackupRecord::Retag { .. } => "retag",
            BackupRecord::Review { .. } => "review",
        })
        .collect();
    for kind in [
        "user",
        "invitation",
        "response",
        "idempotency_key",
        "task",
        "delivery",
        "review",
    ] {
        assert!(kinds.contains(kind), "{kind} records in {kinds:?}");
    }
    for line in text.lines().skip(1) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["type"].is_string(), "every record says its type: {line}");
    }

    // Into a fresh store, in batches: the same records come out again.
    let fresh = common::demo_state().await;
    assert!(fresh.state.store.is_empty().await.unwrap());
    for batch in records.chunks(3) {
        fresh.state.store.import_records(batch).await.unwrap();
    }
    assert_eq!(fresh.state.store.backup_text().await.unwrap(), text);
    // And it answers as the first store did: the report, the tasks, a replayed key.
    assert_eq!(report(&fresh.state).await, report(&t.state).await);
    assert_eq!(
        fresh.state.store.all_tasks("demo-clinic").await.unwrap(),
        t.state.store.all_tasks("demo-clinic").await.unwrap()
    );
    let app = test::init_service(create_app(fresh.state.clone())).await;
    let req = test::TestRequest::post()
        .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
        .insert_header(("Idempotency-Key", "key-0"))
        .set_json(json!({ "answers": { "aware": "no", "tried": "no", "contact_ok": "no" } }))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(
        res.status(),
        422,
        "the key came along, bound to its request"
    );
}

#[actix_web::test]
async fn a_file_that_is_not_a_backup_is_refused_with_its_line() {
    for (text, says) in [
        ("", "line 1"),
        ("{\"format\":\"other\",\"version\":2}\n", "format \"other\""),
        (
            "{\"format\":\"chorus-backup\",\"version\":9}\n",
            "version 9",
        ),
        (
            "{\"format\":\"chorus-backup\",\"version\":2}\n{\"type\":\"user\"}\n",
            "line 2",
        ),
    ] {
        let err = read_backup(&mut text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("not valid") && err.contains(says), "{err}");
    }
}
