//! Where a site's rules live (`rules_source` in site.toml): with "files" (the default) the
//! editor shows and checks but changes nothing, and says why; with "store" the store's current
//! versions are what the site runs: a reload writes them over a file edited by hand, and a
//! restarted server runs them (`tests/rules_push_pull.rs` has the CLI, `multinode_rules.rs`
//! several nodes).

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::domain::Role;
use chorus::{create_app, AppState};
use rules_common::{
    call, config_for, demo_copy, rules_in_store, submit, wants_a_call, PARKING_TITLE,
};

const EDITOR: &str = "/admin/sites/demo-clinic/rules/files/parking.rhai";

#[actix_web::test]
async fn with_files_the_editor_is_read_only_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    let original = std::fs::read_to_string(&rule).unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();

    let (_, _, rules) = get_page(&app, &ada, "/admin/sites/demo-clinic/rules").await;
    assert!(rules.contains("rules_source = \"files\""), "{rules}");
    assert!(!rules.contains("Write a new rule"), "{rules}");
    let (status, _, page) = get_page(&app, &ada, EDITOR).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<strong>Read only.</strong>"), "{page}");
    assert!(
        page.contains("rules_source = \"store\""),
        "how to switch: {page}"
    );
    assert!(!page.contains("Apply…"), "{page}");
    let csrf = csrf_of(&page);

    // Check still works: it changes nothing.
    let untagged = original.replace("[\"parking\"] } else", "[] } else");
    let (status, _, page) = post_page(
        &app,
        &ada,
        &format!("{EDITOR}/check"),
        &[("csrf", csrf.as_str()), ("text", untagged.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("rule test(s) fail with this draft"), "{page}");

    // Apply, restore and a new file are refused, and say why.
    let better = original.replace(PARKING_TITLE, "Call back");
    let (status, _, page) = post_page(
        &app,
        &ada,
        &format!("{EDITOR}/apply"),
        &[
            ("csrf", csrf.as_str()),
            ("text", better.as_str()),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("keeps its rules in files"), "{page}");
    let (status, _, _) =
        get_page(&app, &ada, "/admin/sites/demo-clinic/rules/new?name=lobby").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), original);
    let kept = t.state.store.current_rule_versions("demo-clinic").await;
    assert!(kept.unwrap().is_empty(), "nothing stored");
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", wants_a_call()).await;
    assert_eq!(body["follow_ups"][0]["title"], PARKING_TITLE, "{body}");
}

/// Applies `text` to parking.rhai through the editor (check, diff, confirm).
async fn apply<S, B>(app: &S, ada: &actix_web::cookie::Cookie<'static>, text: &str)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (_, _, page) = get_page(app, ada, EDITOR).await;
    let csrf = csrf_of(&page);
    let (status, location, page) = post_page(
        app,
        ada,
        &format!("{EDITOR}/apply"),
        &[
            ("csrf", csrf.as_str()),
            ("text", text),
            ("message", "shorter title"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(location.unwrap().contains("?applied="));
}

#[actix_web::test]
async fn with_store_the_stores_versions_run_whatever_the_folder_holds() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    let original = std::fs::read_to_string(&rule).unwrap();
    let data = dir.path().join("data");
    let state = actix_web::web::Data::new(
        AppState::open(config_for(&root, &data))
            .await
            .expect("opens"),
    );
    let app = test::init_service(create_app(state.clone())).await;
    add_person(&state, "ada", "demo-clinic", Role::Admin).await;
    let token = common::add_user(&state, "robot", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (_, _, rules) = get_page(&app, &ada, "/admin/sites/demo-clinic/rules").await;
    assert!(rules.contains("Write a new rule"), "{rules}");

    // Before the first change the folder's files run; the first apply stores all of them.
    let better = original.replace(PARKING_TITLE, "Call to sign up by phone");
    apply(&app, &ada, &better).await;
    let current = state.store.current_rule_versions("demo-clinic").await;
    let current = current.unwrap();
    let names: Vec<&str> = current.iter().map(|v| v.file.as_str()).collect();
    assert!(names.contains(&"parking.rhai"), "{names:?}");
    assert!(
        names.contains(&"tests/parking.toml"),
        "tests are versioned: {names:?}"
    );
    assert!(current
        .iter()
        .filter(|v| v.file != "parking.rhai")
        .all(|v| v.author == "(disk)" && v.number == 1));

    // A file edited by hand is not what runs: a reload writes the store's version over it,
    // and a file the store does not hold is removed.
    std::fs::write(&rule, original.replace(PARKING_TITLE, "edited by hand")).unwrap();
    let stray = root.join("sites/demo-clinic/rules/stray.rhai");
    std::fs::write(&stray, "fn tag(response) { [\"awareness\"] }\n").unwrap();
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/reload",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), better);
    assert!(!stray.exists());
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", wants_a_call()).await;
    assert_eq!(body["follow_ups"][0]["title"], "Call to sign up by phone");

    // A restarted server runs the store's versions too, whatever its folder holds.
    drop(app);
    state.store.close().await.unwrap();
    drop(state);
    std::fs::write(&rule, &original).unwrap();
    let state = actix_web::web::Data::new(
        AppState::open(config_for(&root, &data))
            .await
            .expect("reopens"),
    );
    let app = test::init_service(create_app(state.clone())).await;
    assert_eq!(std::fs::read_to_string(&rule).unwrap(), better);
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", wants_a_call()).await;
    assert_eq!(body["follow_ups"][0]["title"], "Call to sign up by phone");
}
