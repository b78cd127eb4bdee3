//! A site whose files are broken does not stop the others: `serve` starts with the valid sites
//! and logs the broken one's problems, `/healthz` names it, its API answers 503
//! `site_unavailable`, its survey links show a "not available" page, the admin pages list its
//! problems with a reload button, and `chorus check` still exits 1. Fixed and reloaded, it runs.

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::{add_person, body_text, csrf_of, get_page, sign_in, PASSWORD};
use chorus::create_app;
use chorus::domain::Role;
use chorus::Config;
use common::server::bin;
use rules_common::copy_dir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SURVEY: &str = "surveys/patient-pulse.toml";

/// clinic-a and clinic-b copied to `dir/sites`, clinic-b's patient survey with a TOML syntax
/// error on line 3 (a string that never ends). The survey file, to fix it later.
fn sites_with_broken_clinic_b(dir: &Path) -> (PathBuf, PathBuf, String) {
    let sites = dir.join("sites");
    copy_dir(&common::repo().join("tests/fixtures/admin-sites"), &sites);
    let survey = sites.join("clinic-b").join(SURVEY);
    let good = std::fs::read_to_string(&survey).unwrap();
    let broken = good.replacen("title = \"Patient pulse\"", "title = \"Patient pulse", 1);
    assert_ne!(good, broken);
    std::fs::write(&survey, broken).unwrap();
    (sites, survey, good)
}

fn config_for(sites: &Path, data: &Path) -> Config {
    Config {
        sites: sites.to_path_buf(),
        plugins: common::repo().join("tests/fixtures/plugins"),
        ..common::demo_config(data)
    }
}

fn answers() -> Value {
    json!({ "answers": { "tried": "no" } })
}

#[::core::prelude::v1::test]
fn serve_starts_the_valid_sites_and_reports_the_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, survey, good) = sites_with_broken_clinic_b(dir.path());
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let port = common::server::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(bin())
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data")
        .arg(&data)
        .arg("--sites")
        .arg(&sites)
        .arg("--plugins")
        .arg(common::repo().join("tests/fixtures/plugins"))
        .arg("--templates")
        .arg(common::repo().join("templates"))
        .env("CHORUS_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health: Value = loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send() {
            assert_eq!(r.status(), 200);
            break r.json().unwrap();
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        health,
        json!({ "status": "degraded", "sites": 1, "broken_sites": ["clinic-b"] })
    );

    // The log names the problem with its place, and that the site did not start.
    let logged = std::fs::read_to_string(&log).unwrap();
    let place = format!("{}:3:", survey.display());
    assert!(logged.contains(&place), "{logged}");
    assert!(logged.contains("site not started"), "{logged}");
    assert!(!logged.contains("tried"), "no answers in the log: {logged}");

    // clinic-a takes responses; clinic-b answers 503 site_unavailable, and its survey link a page.
    let submit = |site: &str| {
        client
            .post(format!(
                "{base}/api/v1/sites/{site}/surveys/patient-pulse/responses"
            ))
            .json(&answers())
            .send()
            .unwrap()
    };
    assert_eq!(submit("clinic-a").status(), 201);
    let refused = submit("clinic-b");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["error"]["code"], "site_unavailable");
    assert!(!body.to_string().contains("toml"), "no file detail: {body}");
    let page = client
        .get(format!("{base}/s/clinic-b/patient-pulse"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().unwrap().contains("not available right now"));
    let unknown = client.get(format!("{base}/s/nowhere")).send().unwrap();
    assert_eq!(unknown.status(), 404);

    // `chorus check` on the same folder: the problem, exit 1.
    let check = common::server::check(&sites, &common::repo().join("tests/fixtures/plugins"));
    assert_eq!(check.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains(&place),
        "{check:?}"
    );

    // Fixed on disk and reloaded by the admin: it runs, and /healthz says ok.
    let token = std::fs::read_to_string(data.join("initial-admin-token")).unwrap();
    std::fs::write(&survey, good).unwrap();
    let reloaded = client
        .post(format!("{base}/api/v1/sites/clinic-b/reload"))
        .bearer_auth(token.trim())
        .send()
        .unwrap();
    assert_eq!(reloaded.status(), 200);
    assert_eq!(submit("clinic-b").status(), 201);
    let health: Value = client
        .get(format!("{base}/healthz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        health,
        json!({ "status": "ok", "sites": 2, "broken_sites": [] })
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[actix_web::test]
async fn a_broken_reload_keeps_the_problems_and_the_api_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, survey, _) = sites_with_broken_clinic_b(dir.path());
    let t = common::state_with(|data| config_for(&sites, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "clinic-b", Role::Admin).await;
    let (status, out) = rules_common::call(
        &app,
        "POST",
        "/api/v1/sites/clinic-b/reload",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["code"], "site_invalid");
    let line = out["error"]["errors"][0].as_str().unwrap();
    assert!(
        line.starts_with(&format!("{}:3:", survey.display())),
        "{line}"
    );
    assert!(t.state.sites.get("clinic-b").is_none());
    assert!(t.state.sites.problems("clinic-b").is_some());

    // A token of the other site learns nothing about it; a viewer may not reload it.
    let other = common::add_user(&t.state, "other", "clinic-a", Role::Admin).await;
    let (status, _) = rules_common::call(
        &app,
        "POST",
        "/api/v1/sites/clinic-b/reload",
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let viewer = common::add_user(&t.state, "viewer", "clinic-b", Role::Viewer).await;
    let (status, out) = rules_common::call(
        &app,
        "GET",
        "/api/v1/sites/clinic-b/responses",
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{out}");
    assert_eq!(out["error"]["code"], "site_unavailable");
}

#[actix_web::test]
async fn the_admin_pages_list_a_broken_site_and_reload_it_once_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, survey, good) = sites_with_broken_clinic_b(dir.path());
    let t = common::state_with(|data| config_for(&sites, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ana", "*", Role::Admin).await;
    let session = sign_in(&app, "ana", PASSWORD).await.session.unwrap();

    let (status, _, picker) = get_page(&app, &session, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(picker.contains("Not running"), "{picker}");
    assert!(
        picker.contains("href=\"/admin/sites/clinic-b\""),
        "{picker}"
    );

    let (status, _, page) = get_page(&app, &session, "/admin/sites/clinic-b").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("clinic-b is not running"), "{page}");
    assert!(page.contains("patient-pulse.toml:3:"), "{page}");
    assert!(page.contains("Reload from disk"), "{page}");

    // Reload while still broken: 422, the page again with the problems.
    let reload = |csrf: String| {
        test::TestRequest::post()
            .uri("/admin/sites/clinic-b/rules/reload")
            .cookie(session.clone())
            .set_form([("csrf", csrf)])
            .to_request()
    };
    let res = test::call_service(&app, reload(csrf_of(&page))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = body_text(res).await;
    assert!(again.contains("patient-pulse.toml:3:"), "{again}");

    // Fixed: the reload starts it and leads to its dashboard.
    std::fs::write(&survey, good).unwrap();
    let res = test::call_service(&app, reload(csrf_of(&again))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/admin/sites/clinic-b"
    );
    let (status, _, dashboard) = get_page(&app, &session, "/admin/sites/clinic-b").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!dashboard.contains("is not running"));
    let (_, _, picker) = get_page(&app, &session, "/admin").await;
    assert!(!picker.contains("Not running"), "{picker}");
}

#[actix_web::test]
async fn a_viewer_sees_the_problems_without_the_reload_button() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, _, _) = sites_with_broken_clinic_b(dir.path());
    let t = common::state_with(|data| config_for(&sites, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "vic", "clinic-b", Role::Viewer).await;
    let session = sign_in(&app, "vic", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &session, "/admin/sites/clinic-b").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.contains("clinic-b is not running"), "{page}");
    assert!(!page.contains("Reload from disk"), "{page}");
}
