//! The dashboard's banner: shown when any rule failed on a response in the last 24 hours, with
//! a link to the errors for admins; not for older errors, not when there are none.

mod admin_support;
mod common;
mod rules_common;

use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::{Role, RuleError};
use common::TestStore;
use rules_common::{config_for, demo_copy, submit};
use serde_json::json;

const BANNER: &str = "id=\"rule-errors-banner\"";

#[actix_web::test]
async fn a_rule_error_of_the_last_day_shows_a_banner_linking_to_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    std::fs::write(
        root.join("sites/demo-clinic/rules/boom.rhai"),
        "fn tag(response) {\n    if has_word(response.answers.comments, \"boom\") { throw \"boom\"; }\n    []\n}\n",
    )
    .unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    add_person(&t.state, "vic", "demo-clinic", Role::Viewer).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let vic = sign_in(&app, "vic", PASSWORD).await.session.unwrap();
    let dashboard = "/admin/sites/demo-clinic";

    // An error two days old is history, not a banner.
    let mut old = common::followups::response("demo-clinic", "patient-enrollment", "");
    let two_days_ago = chorus::domain::time::now_ms() as u64 - 48 * 3_600_000;
    old.id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        two_days_ago / 1000,
        0,
    ));
    old.submitted_at = chorus::domain::time::rfc3339_of_ms(two_days_ago as i64);
    old.rule_errors = vec![RuleError {
        source: "rules/boom.rhai".into(),
        hook: "tag".into(),
        line: Some(2),
        col: Some(5),
        message: "threw: boom".into(),
        superseded_at: None,
    }];
    t.state.store.insert(&old).await.unwrap();
    let (_, _, page) = get_page(&app, &ada, dashboard).await;
    assert!(!page.contains(BANNER), "{page}");

    // A fresh response the rule fails on: the banner, with the count and a link for admins.
    let answers = json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": "boom" });
    let (status, body) = submit(&app, "demo-clinic", "patient-enrollment", answers).await;
    assert_eq!(status, actix_web::http::StatusCode::CREATED, "{body}");
    let (_, _, page) = get_page(&app, &ada, dashboard).await;
    assert!(page.contains(BANNER), "{page}");
    assert!(
        page.contains(
            "The site's rules failed on 1 response(s) or review run(s) in the last 24 hours"
        ),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/admin/sites/demo-clinic/rules#scripts\">See the rule errors</a>"),
        "{page}"
    );
    // The link leads to the error, at its rule.
    let (_, _, rules) = get_page(&app, &ada, "/admin/sites/demo-clinic/rules").await;
    assert!(rules.contains("threw: boom"), "{rules}");
    // A viewer sees the banner without the admin-only link.
    let (_, _, page) = get_page(&app, &vic, dashboard).await;
    assert!(page.contains(BANNER));
    assert!(!page.contains("/rules#scripts"), "{page}");
    assert!(page.contains("A site admin can see the errors"));
}
