//! Rule changes in the audit trail (docs/audit.md): an apply in the editor is `rules_applied`
//! (site, file, version, message, "anyway" when ticked), a confirmed restore `rules_restored`
//! (and the version it restores), a deletion names its version as deleted; a reload applied
//! anyway records who and which tests failed. (`chorus rules push` is in rules_push_pull.rs.)

mod admin_support;
mod common;
mod rules_common;

use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::{AuditEntry, Role};
use chorus::store::AuditQuery;
use rules_common::{call, config_for, demo_copy, rules_in_store, PARKING_TITLE};

const EDITOR: &str = "/admin/sites/demo-clinic/rules/files/parking.rhai";

async fn last(state: &chorus::AppState, action: &str) -> AuditEntry {
    let q = AuditQuery {
        oldest_first: true,
        limit: 1000,
        ..AuditQuery::default()
    };
    let all = state.store.list_audit(&q).await.unwrap().items;
    let actions: Vec<String> = all.iter().map(|e| e.action.clone()).collect();
    all.into_iter()
        .rev()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no {action} entry among {actions:?}"))
}

/// Confirms a change (303).
async fn confirm<S, B>(app: &S, who: &Cookie<'static>, url: &str, form: &[(&str, &str)])
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut form = form.to_vec();
    form.push(("confirm", "yes"));
    let (status, _, page) = post_page(app, who, url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
}

#[actix_web::test]
async fn applies_restores_deletions_and_anyway_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let original =
        std::fs::read_to_string(root.join("sites/demo-clinic/rules/parking.rhai")).unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let token = common::add_user(&t.state, "robot", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (_, _, page) = get_page(&app, &ada, EDITOR).await;
    let csrf = csrf_of(&page);
    let apply = format!("{EDITOR}/apply");

    let better = original.replace(PARKING_TITLE, "Call back");
    let form = [
        ("csrf", csrf.as_str()),
        ("text", better.as_str()),
        ("message", "shorter title"),
    ];
    confirm(&app, &ada, &apply, &form).await;
    let e = last(&t.state, "rules_applied").await;
    assert_eq!(e.actor, "ada");
    assert_eq!(e.site.as_deref(), Some("demo-clinic"));
    assert_eq!(e.target.as_deref(), Some("parking.rhai"));
    assert_eq!(e.details["version:parking.rhai"], "2");
    assert_eq!(e.details["message"], "shorter title");
    assert!(!e.details.contains_key("applied_anyway"));
    let reloaded = last(&t.state, "site_reloaded").await;
    assert!(!reloaded.details.contains_key("applied_anyway_by"));

    // Applied anyway: the entry says so, and so does the reload's.
    let untagged = original.replace("[\"parking\"] } else", "[] } else");
    let form = [
        ("csrf", csrf.as_str()),
        ("text", untagged.as_str()),
        ("message", "no parking tag"),
        ("apply_anyway", "yes"),
    ];
    confirm(&app, &ada, &apply, &form).await;
    let e = last(&t.state, "rules_applied").await;
    assert_eq!(e.details["version:parking.rhai"], "3");
    assert!(
        e.details["applied_anyway"].ends_with("failing test(s)"),
        "{e:?}"
    );
    let reloaded = last(&t.state, "site_reloaded").await;
    assert_eq!(reloaded.details["applied_anyway_by"], "ada");
    assert!(reloaded.details["failing_tests"].contains("parking.toml:"));

    // A restore of version 1.
    let form = [
        ("csrf", csrf.as_str()),
        ("text", original.as_str()),
        ("message", "Restore version 1"),
        ("restore", "1"),
    ];
    confirm(&app, &ada, &apply, &form).await;
    let e = last(&t.state, "rules_restored").await;
    assert_eq!(
        (
            e.details["restores"].as_str(),
            e.details["version:parking.rhai"].as_str()
        ),
        ("1", "4")
    );

    // A deletion names its version as one.
    let tests = "/admin/sites/demo-clinic/rules/tests/barrier_keywords.toml/delete";
    confirm(
        &app,
        &ada,
        tests,
        &[("csrf", csrf.as_str()), ("message", "x")],
    )
    .await;
    let e = last(&t.state, "rules_applied").await;
    assert_eq!(
        e.details["version:tests/barrier_keywords.toml"],
        "2 (deleted)"
    );

    // A plain reload applied anyway through the API: who, and the failing tests.
    std::fs::write(root.join("sites/demo-clinic/rules/parking.rhai"), &untagged).unwrap();
    // Rules in the store: a reload brings back the stored version; the tests pass again.
    let url = "/api/v1/sites/demo-clinic/reload?apply_anyway=true";
    let (status, body) = call(&app, "POST", url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reloaded = last(&t.state, "site_reloaded").await;
    assert_eq!(reloaded.actor, "robot");
    assert!(
        !reloaded.details.contains_key("applied_anyway_by"),
        "nothing failed"
    );
}

#[actix_web::test]
async fn a_reload_applied_anyway_records_who_and_the_failing_tests() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    let original = std::fs::read_to_string(&rule).unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "robot", "demo-clinic", Role::Admin).await;
    std::fs::write(&rule, original.replace("[\"parking\"] } else", "[] } else")).unwrap();
    let url = "/api/v1/sites/demo-clinic/reload?apply_anyway=true";
    let (status, body) = call(&app, "POST", url, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reloaded = last(&t.state, "site_reloaded").await;
    assert_eq!(reloaded.details["applied_anyway_by"], "robot");
    let failing = reloaded.details["failing_tests"].split("; ").count();
    assert_eq!(
        failing,
        body["applied_anyway"]["failing_tests"]
            .as_array()
            .unwrap()
            .len()
    );
    assert!(reloaded.details["failing_tests"].contains("rules/tests/parking.toml:"));
}
