//! Adding and deleting rule files and rule test files in the admin app (rules in the store):
//! a new rule test file is checked (a failing case at its line) and applied with a diff like
//! an edit; a deletion is checked against the rest of the site, confirmed after its diff and
//! kept as a version; a deleted file is restored from its versions, and so is a deletion.

mod admin_support;
mod common;
mod rules_common;

use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::{config_for, demo_copy, rules_in_store, submit};
use serde_json::json;

const RULES: &str = "/admin/sites/demo-clinic/rules";
const LOBBY_TESTS: &str = "/admin/sites/demo-clinic/rules/tests/lobby.toml";
const FAILING_CASE: &str = "[[case]]\nname = \"the lobby is not parking\"\nsurvey = \"patient-enrollment\"\nanswers = { aware = \"yes\", tried = \"no\", contact_ok = \"no\", comments = \"the lobby\" }\nexpect_tags_include = [\"parking\"]\n";
const PASSING_CASE: &str = "[[case]]\nname = \"no parking is parking\"\nsurvey = \"patient-enrollment\"\nanswers = { aware = \"yes\", tried = \"no\", contact_ok = \"no\", comments = \"there is no parking\" }\nexpect_tags_include = [\"parking\"]\n";

fn parking() -> serde_json::Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": "there is no parking" })
}

/// Posts a change (apply or delete) twice: without `confirm` (the diff, 200) and with it
/// (303 to the editor); the version number applied.
async fn confirmed<S, B>(app: &S, who: &Cookie<'static>, url: &str, form: &[(&str, &str)]) -> u64
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let (status, _, page) = post_page(app, who, url, form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Confirm: "), "the diff first: {page}");
    let mut form = form.to_vec();
    form.push(("confirm", "yes"));
    let (status, location, page) = post_page(app, who, url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let location = location.unwrap();
    location.split("?applied=").nth(1).unwrap().parse().unwrap()
}

#[actix_web::test]
async fn rule_test_files_and_deletions_go_through_check_diff_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let rules_dir = root.join("sites/demo-clinic/rules");
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();

    // The rules page lists the test files and offers a new one.
    let (_, _, page) = get_page(&app, &ada, RULES).await;
    assert!(
        page.contains(&format!("href=\"{RULES}/tests/parking.toml\"")),
        "{page}"
    );
    assert!(page.contains("Write new rule tests"), "{page}");
    let csrf = csrf_of(&page);
    let (status, location, _) = get_page(&app, &ada, &format!("{RULES}/new-test?name=Lobby")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(&*format!("{LOBBY_TESTS}?new=yes"))
    );
    for bad in ["parking", "..%2Fx", "a%20b"] {
        let (status, _, _) = get_page(&app, &ada, &format!("{RULES}/new-test?name={bad}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    let (status, _, page) = get_page(&app, &ada, &format!("{LOBBY_TESTS}?new=yes")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("[[case]]"), "a starter case: {page}");

    // A failing case: refused, marked at its line in the gutter; nothing written.
    let apply = format!("{LOBBY_TESTS}/apply");
    let form = [("csrf", csrf.as_str()), ("text", FAILING_CASE)];
    let (status, _, page) = post_page(&app, &ada, &apply, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("lobby.toml:5:23: case &quot;the lobby is not parking&quot;"),
        "{page}"
    );
    assert!(
        page.contains("<li class=\"bad\" title=\""),
        "at its line: {page}"
    );
    assert!(!rules_dir.join("tests/lobby.toml").exists());

    // A passing one: the diff, then applied as version 1 of the file.
    let form = [
        ("csrf", csrf.as_str()),
        ("text", PASSING_CASE),
        ("message", "lobby tests"),
    ];
    assert_eq!(confirmed(&app, &ada, &apply, &form).await, 1);
    let written = std::fs::read_to_string(rules_dir.join("tests/lobby.toml")).unwrap();
    assert_eq!(written, PASSING_CASE);

    // Deleting the parking rule alone breaks its tests (and the new one): refused.
    let delete_rule = format!("{RULES}/files/parking.rhai/delete");
    let (status, _, page) = post_page(&app, &ada, &delete_rule, &[("csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("The file was not deleted"), "{page}");
    assert!(rules_dir.join("parking.rhai").exists());

    // Its tests first, then the rule: each a deletion version, confirmed after its diff.
    let form = [("csrf", csrf.as_str()), ("message", "no more lobby tests")];
    let (status, _, page) = post_page(&app, &ada, &format!("{LOBBY_TESTS}/delete"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Lines to delete"), "{page}");
    assert!(
        page.contains("Confirm: delete rules/tests&#x2F;lobby.toml"),
        "{page}"
    );
    assert_eq!(
        confirmed(&app, &ada, &format!("{LOBBY_TESTS}/delete"), &form).await,
        2
    );
    let parking_tests = format!("{RULES}/tests/parking.toml/delete");
    assert_eq!(confirmed(&app, &ada, &parking_tests, &form).await, 2);
    assert_eq!(confirmed(&app, &ada, &delete_rule, &form).await, 2);
    for gone in ["parking.rhai", "tests/parking.toml", "tests/lobby.toml"] {
        assert!(!rules_dir.join(gone).exists(), "{gone}");
    }
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", parking()).await;
    assert!(
        !body["tags"].as_array().unwrap().contains(&json!("parking")),
        "{body}"
    );
    let versions = t
        .state
        .store
        .rule_versions("demo-clinic", "parking.rhai")
        .await;
    let versions = versions.unwrap();
    assert!(versions[0].deleted && versions[0].text.is_empty());
    assert_eq!(versions[1].author, "(disk)");

    // A deleted file's editor says so and lists its versions; the rules page lists it.
    let (status, _, page) = get_page(&app, &ada, &format!("{RULES}/files/parking.rhai")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("This file was deleted (version 2)"), "{page}");
    assert!(page.contains("(deleted the file)"), "{page}");
    let (_, _, page) = get_page(&app, &ada, RULES).await;
    assert!(page.contains(&format!(
        "href=\"{RULES}/files&#x2F;parking.rhai\">rules/parking.rhai"
    )));

    // Restore the rule and its tests from their first versions.
    for (url, file) in [
        (format!("{RULES}/files/parking.rhai"), "parking.rhai"),
        (format!("{RULES}/tests/parking.toml"), "tests/parking.toml"),
    ] {
        let (status, _, page) = get_page(&app, &ada, &format!("{url}/versions/1")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Restore this version"), "{page}");
        let v1 = t.state.store.rule_version("demo-clinic", file, 1).await;
        let v1 = v1.unwrap().unwrap();
        let form = [
            ("csrf", csrf.as_str()),
            ("text", v1.text.as_str()),
            ("message", "Restore version 1"),
            ("restore", "1"),
        ];
        assert_eq!(
            confirmed(&app, &ada, &format!("{url}/apply"), &form).await,
            3
        );
        assert_eq!(
            std::fs::read_to_string(rules_dir.join(file)).unwrap(),
            v1.text
        );
    }
    let (_, body) = submit(&app, "demo-clinic", "patient-enrollment", parking()).await;
    assert!(
        body["tags"].as_array().unwrap().contains(&json!("parking")),
        "{body}"
    );

    // A deletion is restored too: version 1 of the lobby tests back, then its deletion again
    // (while the file is deleted, that version is the running one: nothing to restore).
    let (_, _, page) = get_page(&app, &ada, &format!("{LOBBY_TESTS}/versions/2")).await;
    assert!(page.contains("This version deleted the file."), "{page}");
    assert!(page.contains("This is the running version."), "{page}");
    let form = [
        ("csrf", csrf.as_str()),
        ("text", PASSING_CASE),
        ("restore", "1"),
    ];
    assert_eq!(confirmed(&app, &ada, &apply, &form).await, 3);
    assert!(rules_dir.join("tests/lobby.toml").exists());
    let (_, _, page) = get_page(&app, &ada, &format!("{LOBBY_TESTS}/versions/2")).await;
    let action = format!("action=\"{}/delete\"", LOBBY_TESTS.replace('/', "&#x2F;"));
    assert!(page.contains(&action), "{page}");
    let form = [("csrf", csrf.as_str()), ("restore", "2")];
    assert_eq!(
        confirmed(&app, &ada, &format!("{LOBBY_TESTS}/delete"), &form).await,
        4
    );
    assert!(!rules_dir.join("tests/lobby.toml").exists());
}

#[actix_web::test]
async fn with_files_nothing_is_added_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &ada, &format!("{RULES}/tests/parking.toml")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<strong>Read only.</strong>"), "{page}");
    assert!(!page.contains("Delete this file"), "{page}");
    let csrf = csrf_of(&page);
    let (status, _, _) = get_page(&app, &ada, &format!("{RULES}/new-test?name=lobby")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let form = [("csrf", csrf.as_str()), ("confirm", "yes")];
    for url in ["files/parking.rhai/delete", "tests/parking.toml/delete"] {
        let (status, _, page) = post_page(&app, &ada, &format!("{RULES}/{url}"), &form).await;
        assert_eq!(status, StatusCode::CONFLICT, "{url}: {page}");
    }
    assert!(root.join("sites/demo-clinic/rules/parking.rhai").exists());
    assert!(root
        .join("sites/demo-clinic/rules/tests/parking.toml")
        .exists());
}
