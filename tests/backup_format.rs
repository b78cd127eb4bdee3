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

/// Claims a task for "ada", as staff would.
async fn claim(s: &chorus::AppState, task: uuid::Uuid) {
    chorus::services::follow_ups::change_task_status(
        s,
        "demo-clinic",
        task,
        TaskStatus::Claimed,
        "ada",
        None,
        None,
    )
    .await
    .unwrap();
}

/// A demo patient who tried to enrol, failed and asked for a call: tags, a task and a webhook.
fn failed_patient(phone: &str) -> Value {
    json!({ "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"],
            "contact_ok": "yes", "contact_phone": phone })
}

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
    let failed = failed_patient("555-0100");
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
    let req = test::TestRequest::post()
        .uri("/api/v1/sites/demo-clinic/kiosks")
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .set_json(json!({ "name": "Front desk", "survey": "patient-enrollment" }))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 201);
    let tasks = t.state.store.all_tasks("demo-clinic").await.unwrap();
    claim(&t.state, tasks[0].id).await;
    chorus::services::review::run_site(&t.state, "demo-clinic")
        .await
        .unwrap();
    // A rule version, as the admin editor stores it.
    t.state
        .store
        .add_rule_version(&chorus::domain::RuleVersion {
            site: "demo-clinic".into(),
            file: "parking.rhai".into(),
            number: 0,
            text: "fn tag(response) { [] }\n".into(),
            author: "ada".into(),
            at: "2026-12-01T16:00:00.000Z".into(),
            message: "a test version".into(),
            applied_anyway: vec![],
            deleted: false,
        })
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
            BackupRecord::Kiosk(_) => "kiosk",
            BackupRecord::RuleVersion(_) => "rule_version",
            BackupRecord::Audit(_) => "audit",
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
        "kiosk",
        "rule_version",
        "audit",
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

/// Which response each derived record of a backup names, and the responses it holds.
struct Held {
    responses: std::collections::HashSet<uuid::Uuid>,
    keyed_responses: Vec<uuid::Uuid>,
    /// (what, response id) of every task, delivery, rule-error entry and key of a response.
    derived: Vec<(&'static str, uuid::Uuid)>,
    keys: std::collections::HashSet<uuid::Uuid>,
}

fn held(text: &str) -> Held {
    use chorus::domain::rule_error::ErrorSource;
    let mut h = Held {
        responses: Default::default(),
        keyed_responses: Vec::new(),
        derived: Vec::new(),
        keys: Default::default(),
    };
    for record in read_backup(&mut text.as_bytes()).unwrap() {
        match record {
            BackupRecord::Response(r) => {
                h.responses.insert(r.id);
                if r.submission_id.is_some() {
                    h.keyed_responses.push(r.id);
                }
            }
            BackupRecord::Task(t) => h
                .derived
                .extend(t.origin.response_id().map(|id| ("task", id))),
            BackupRecord::Delivery(d) => h
                .derived
                .extend(d.origin.response_id().map(|id| ("delivery", id))),
            BackupRecord::RuleError { entry, .. } => {
                if let ErrorSource::Response { .. } = entry.source {
                    h.derived.push(("rule error", entry.id));
                }
            }
            BackupRecord::IdempotencyKey(k) => {
                h.keys.insert(k.response_id);
                h.derived.push(("idempotency key", k.response_id));
            }
            _ => {}
        }
    }
    h
}

/// Backups taken while responses arrive (on other store threads): every task, delivery,
/// rule-error entry and idempotency key in each has its response, and every response sent with
/// a key has that key.
#[actix_web::test]
async fn a_backup_taken_while_responses_arrive_holds_the_response_of_each_derived_record() {
    let t = common::state_with(|d| chorus::Config {
        workers: 4,
        ..common::demo_config(d)
    })
    .await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let stop = std::rc::Rc::new(std::cell::Cell::new(false));
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let (stopped, counted) = (stop.clone(), count.clone());
    let submitter = actix_web::rt::spawn(async move {
        while !stopped.get() {
            let n = counted.get();
            let req = test::TestRequest::post()
                .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
                .insert_header(("Idempotency-Key", format!("while-backing-up-{n}")))
                .set_json(json!({ "answers": failed_patient("555-0100") }))
                .to_request();
            assert_eq!(test::call_service(&app, req).await.status(), 201);
            counted.set(n + 1);
        }
    });
    // Backups until 200 responses were submitted during them.
    let mut backups = Vec::new();
    while count.get() < 200 {
        backups.push(t.state.store.backup_text().await.unwrap());
        actix_web::rt::task::yield_now().await;
    }
    stop.set(true);
    submitter.await.unwrap();
    let mut seen = 0;
    for text in &backups {
        let h = held(text);
        for (what, id) in &h.derived {
            assert!(
                h.responses.contains(id),
                "a {what} without its response {id}"
            );
        }
        for id in &h.keyed_responses {
            assert!(
                h.keys.contains(id),
                "response {id} without its idempotency key"
            );
        }
        seen = seen.max(h.responses.len());
    }
    assert!(seen > 0, "{} backups, none with a response", backups.len());
}

/// A response whose task and delivery came too late for the backup gets them back on restore
/// (a claimed task in the backup stays as it was).
#[actix_web::test]
async fn a_restore_writes_the_derived_records_a_backup_lacks() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for contact in ["555-0100", "555-0101"] {
        let req = test::TestRequest::post()
            .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
            .set_json(json!({ "answers": failed_patient(contact) }))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 201);
    }
    let tasks = t.state.store.all_tasks("demo-clinic").await.unwrap();
    let deliveries = t
        .state
        .store
        .all_deliveries("demo-clinic", None)
        .await
        .unwrap();
    assert_eq!((tasks.len(), deliveries.len()), (2, 2));
    claim(&t.state, tasks[0].id).await;
    let tasks = t.state.store.all_tasks("demo-clinic").await.unwrap();
    let text = t.state.store.backup_text().await.unwrap();
    // As if the second response's task and delivery were written after their scans.
    let late = tasks[1].origin.response_id();
    let cut: Vec<BackupRecord> = read_backup(&mut text.as_bytes())
        .unwrap()
        .into_iter()
        .filter(|r| match r {
            BackupRecord::Task(t) => t.origin.response_id() != late,
            BackupRecord::Delivery(d) => d.origin.response_id() != late,
            _ => true,
        })
        .collect();
    let fresh = common::demo_state().await;
    fresh.state.store.import_records(&cut).await.unwrap();
    let restored = fresh.state.store.all_tasks("demo-clinic").await.unwrap();
    assert_eq!(restored.len(), 2, "the late response's task is back");
    assert_eq!(
        restored[0], tasks[0],
        "the claimed task is as it was backed up"
    );
    assert_eq!(restored[1].origin.response_id(), late);
    assert_eq!(restored[1].status, TaskStatus::Open);
    let restored = fresh
        .state
        .store
        .all_deliveries("demo-clinic", None)
        .await
        .unwrap();
    assert_eq!(restored.len(), 2, "the late response's delivery is back");
    assert!(restored.iter().any(|d| d.origin.response_id() == late));
    // Nothing was missing from the whole backup: restoring it writes nothing more.
    let whole = common::demo_state().await;
    let records = read_backup(&mut text.as_bytes()).unwrap();
    whole.state.store.import_records(&records).await.unwrap();
    assert_eq!(whole.state.store.backup_text().await.unwrap(), text);
}

/// A backup written in the earlier order (responses before their tasks), restored in two
/// batches: the task the file holds, claimed, replaces the open one derived from its response.
#[actix_web::test]
async fn a_backup_in_the_earlier_order_restores_the_tasks_it_holds() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::post()
        .uri("/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses")
        .set_json(json!({ "answers": failed_patient("555-0100") }))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 201);
    let task = t.state.store.all_tasks("demo-clinic").await.unwrap()[0].id;
    claim(&t.state, task).await;
    let claimed = t.state.store.all_tasks("demo-clinic").await.unwrap();
    let text = t.state.store.backup_text().await.unwrap();
    let (responses, rest): (Vec<BackupRecord>, Vec<BackupRecord>) =
        read_backup(&mut text.as_bytes())
            .unwrap()
            .into_iter()
            .partition(|r| matches!(r, BackupRecord::Response(_)));
    let fresh = common::demo_state().await;
    fresh.state.store.import_records(&responses).await.unwrap();
    fresh.state.store.import_records(&rest).await.unwrap();
    assert_eq!(
        fresh.state.store.all_tasks("demo-clinic").await.unwrap(),
        claimed,
        "the claimed task of the file, not a new open one"
    );
    assert_eq!(fresh.state.store.backup_text().await.unwrap(), text);
}
