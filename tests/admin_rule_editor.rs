//! The rule editor of the admin app: a rule file in a textarea with line numbers, "Check"
//! (compile and every rule test against the draft, nothing applied, problems at their line),
//! "Apply" (only when the check passes, after the diff), versions kept in the store (view,
//! compare, restore); roles and CSRF.

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::{
    config_for, demo_copy, rules_in_store, submit, wants_a_call, PARKING_TITLE, SHORTER_TITLE,
};
use serde_json::json;

const EDITOR: &str = "/admin/sites/demo-clinic/rules/files/parking.rhai";

#[actix_web::test]
async fn check_apply_and_restore_a_rule_from_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    let original = std::fs::read_to_string(&rule).unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();

    // The rules page links to the editor; the editor shows the running text with line numbers.
    let (_, _, rules) = get_page(&app, &ada, "/admin/sites/demo-clinic/rules").await;
    assert!(rules.contains(&format!("href=\"{EDITOR}\"")), "{rules}");
    let (status, _, page) = get_page(&app, &ada, EDITOR).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("<textarea id=\"text\" name=\"text\""),
        "{page}"
    );
    assert!(page.contains("const DESK_KEYWORDS = keyword_set(["));
    assert!(page.contains("<li>1</li>"));
    assert!(page.contains("No version kept yet"));
    let csrf = csrf_of(&page);
    let check_url = format!("{EDITOR}/check");
    let apply_url = format!("{EDITOR}/apply");

    // A syntax error: shown at its line, nothing applied.
    let broken = "fn tag(response) {\n    let x = 1;\n    [\"parking\"\n}\n";
    let (status, _, page) = post_page(
        &app,
        &ada,
        &check_url,
        &[("csrf", csrf.as_str()), ("text", broken)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("Problems in this file:"), "{page}");
    assert!(page.contains("<li>line 4, column 1: "), "{page}");
    assert!(page.contains("<li class=\"bad\" title=\"4:1: "), "{page}");
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), original);

    // It compiles but breaks the parking tests: each failing test, and apply refuses it.
    let untagged = original.replace("[\"parking\"] } else", "[] } else");
    assert_ne!(untagged, original);
    let (status, _, page) = post_page(
        &app,
        &ada,
        &check_url,
        &[("csrf", csrf.as_str()), ("text", untagged.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("rule test(s) fail with this draft"), "{page}");
    assert!(page.contains("parking.toml:"), "{page}");
    let (status, _, page) = post_page(
        &app,
        &ada,
        &apply_url,
        &[
            ("csrf", csrf.as_str()),
            ("text", untagged.as_str()),
            ("confirm", "yes"),
            ("message", "oops"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("The draft was not applied"), "{page}");
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), original);
    assert!(t
        .state
        .store
        .rule_versions("demo-clinic", "parking.rhai")
        .await
        .unwrap()
        .is_empty());

    // A good draft: check passes, apply shows the diff first, confirm applies it.
    let better = original.replace(PARKING_TITLE, SHORTER_TITLE);
    let (status, _, page) = post_page(
        &app,
        &ada,
        &check_url,
        &[("csrf", csrf.as_str()), ("text", better.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("every rule test of the site passes. Nothing was applied."));
    let (status, _, page) = post_page(
        &app,
        &ada,
        &apply_url,
        &[
            ("csrf", csrf.as_str()),
            ("text", better.as_str()),
            ("message", "shorter task title"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!(
            "<ins class=\"add\">+             title: &quot;{SHORTER_TITLE}&quot;,</ins>"
        )),
        "{page}"
    );
    assert!(
        page.contains("<del class=\"del\">-             title: &quot;Offer portal"),
        "{page}"
    );
    assert!(page.contains("Confirm: apply these changes"));
    assert_eq!(
        std::fs::read_to_string(&rule).unwrap(),
        original,
        "not applied before confirming"
    );
    let (status, location, _) = post_page(
        &app,
        &ada,
        &apply_url,
        &[
            ("csrf", csrf.as_str()),
            ("text", better.as_str()),
            ("message", "shorter task title"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(&*format!("{EDITOR}?applied=2")));
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), better);
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", wants_a_call()).await;
    assert_eq!(body["follow_ups"][0]["title"], SHORTER_TITLE, "{body}");

    // Both versions are kept: the text found on disk and the applied one.
    let versions = t
        .state
        .store
        .rule_versions("demo-clinic", "parking.rhai")
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (versions[0].number, versions[0].author.as_str()),
        (2, "ada")
    );
    assert_eq!(versions[0].message, "shorter task title");
    assert_eq!(
        (versions[1].number, versions[1].text.as_str()),
        (1, original.as_str())
    );
    let (_, _, page) = get_page(&app, &ada, &format!("{EDITOR}?applied=2")).await;
    assert!(page.contains("Applied: version 2 now runs."));
    assert!(page.contains("shorter task title"));

    // Version 1 compared with the running one, then restored (a new version 3).
    let (status, _, page) = get_page(&app, &ada, &format!("{EDITOR}/versions/1")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!(
            "<del class=\"del\">-             title: &quot;{SHORTER_TITLE}"
        )),
        "{page}"
    );
    assert!(page.contains("Restore this version"));
    let (status, _, page) = post_page(
        &app,
        &ada,
        &apply_url,
        &[
            ("csrf", csrf.as_str()),
            ("text", original.as_str()),
            ("message", "Restore version 1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, location, _) = post_page(
        &app,
        &ada,
        &apply_url,
        &[
            ("csrf", csrf.as_str()),
            ("text", original.as_str()),
            ("message", "Restore version 1"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(&*format!("{EDITOR}?applied=3")));
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", wants_a_call()).await;
    assert_eq!(body["follow_ups"][0]["title"], PARKING_TITLE, "{body}");
    let (status, _, _) = get_page(&app, &ada, &format!("{EDITOR}/versions/9")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn only_site_admins_with_the_form_token_reach_the_editor() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    add_person(&t.state, "sam", "demo-clinic", Role::Staff).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let sam = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (status, _, _) = get_page(&app, &sam, EDITOR).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for file in ["nope.rhai", "..%2Fsite.toml", "barrier_keywords.rhai"] {
        let (status, _, _) = get_page(
            &app,
            &ada,
            &format!("/admin/sites/demo-clinic/rules/files/{file}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{file}");
    }
    let (status, _, _) = post_page(
        &app,
        &ada,
        &format!("{EDITOR}/apply"),
        &[("text", "fn tag(r) { [] }"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(t
        .state
        .store
        .rule_versions("demo-clinic", "parking.rhai")
        .await
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn a_new_rule_file_is_written_checked_and_applied_from_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();

    let (status, location, _) =
        get_page(&app, &ada, "/admin/sites/demo-clinic/rules/new?name=Lobby").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let editor = "/admin/sites/demo-clinic/rules/files/lobby.rhai";
    assert_eq!(location.as_deref(), Some(&*format!("{editor}?new=yes")));
    for taken in ["parking", "..%2Fsite.toml", "a%20b"] {
        let (status, _, _) = get_page(
            &app,
            &ada,
            &format!("/admin/sites/demo-clinic/rules/new?name={taken}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{taken}");
    }
    let (status, _, page) = get_page(&app, &ada, &format!("{editor}?new=yes")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("fn tag(response) {"), "{page}");
    let csrf = csrf_of(&page);
    let rule = "fn tag(response) {\n    if has_word(response.answers.comments, \"lobby\") { [\"access_technology\"] } else { [] }\n}\n";
    let apply = format!("{editor}/apply");
    let (status, _, page) = post_page(
        &app,
        &ada,
        &apply,
        &[
            ("csrf", csrf.as_str()),
            ("text", rule),
            ("message", "lobby kiosk"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("<ins class=\"add\">+ fn tag(response) {</ins>"),
        "{page}"
    );
    let (status, location, _) = post_page(
        &app,
        &ada,
        &apply,
        &[
            ("csrf", csrf.as_str()),
            ("text", rule),
            ("message", "lobby kiosk"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(&*format!("{editor}?applied=1")));
    assert_eq!(
        std::fs::read_to_string(root.join("sites/demo-clinic/rules/lobby.rhai")).unwrap(),
        rule
    );
    let answers =
        json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": "the lobby kiosk" });
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", answers).await;
    assert_eq!(body["tags"], json!(["access_technology"]), "{body}");
    let versions = t
        .state
        .store
        .rule_versions("demo-clinic", "lobby.rhai")
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "no version from disk for a new file");
    assert_eq!(
        (versions[0].number, versions[0].author.as_str()),
        (1, "ada")
    );
    // Without ?new=yes the name of a file that did not exist is still unknown to the editor.
    let (status, _, _) = get_page(
        &app,
        &ada,
        "/admin/sites/demo-clinic/rules/files/other.rhai",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
