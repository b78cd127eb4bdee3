//! The respondent pages (tests/browser/run.mjs), the admin pages (tests/browser/admin.mjs), user
//! management (tests/browser/users.mjs), the rule editor (tests/browser/rule_editor.mjs) and
//! the waiting-room kiosk (tests/browser/kiosk.mjs) in a real browser: headless Chromium driven by playwright-core, accessibility checked with
//! axe-core, against the real binary on a free port with a fresh data directory.
//!
//! Needs `/usr/bin/chromium` (Debian package `chromium`) and `npm ci` in tests/browser; .ci/run
//! installs both. Without them this test fails and says how to install them, unless
//! CHORUS_SKIP_BROWSER=1 is set.

mod common;
mod rules_common;

use common::server::{run, Server};
use common::signin::set_password;
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// What is missing to run the browser tests, if anything.
fn missing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        out.push(format!(
            "{CHROMIUM} is missing: run `apt-get update && apt-get install -y chromium`"
        ));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok {
        out.push("node is missing: run `apt-get install -y nodejs npm`".into());
    }
    for module in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(module).is_dir() {
            out.push(format!(
                "tests/browser/node_modules/{module} is missing: run `npm ci` in tests/browser"
            ));
        }
    }
    out
}

fn skipped() -> bool {
    let skip = std::env::var("CHORUS_SKIP_BROWSER").as_deref() == Ok("1");
    if skip {
        eprintln!("CHORUS_SKIP_BROWSER=1: browser tests skipped");
    }
    skip
}

/// Runs one script of tests/browser with node: it must pass every test it runs.
fn run_script(script: &str, args: &[&std::ffi::OsStr], envs: &[(&str, &str)]) {
    let dir = common::repo().join("tests/browser");
    let missing = missing(&dir);
    assert!(
        missing.is_empty(),
        "cannot run the browser tests (set CHORUS_SKIP_BROWSER=1 to skip them):\n  {}",
        missing.join("\n  ")
    );
    let out = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(&dir)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

/// An all-sites admin "admin" with a password, on a stopped server's data: (token, password).
fn admin_with_password(data: &Path) -> (String, &'static str) {
    let add = [
        "user", "add", "--site", "*", "--name", "admin", "--role", "admin",
    ];
    let out = run(&add, data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let password = "a browser test passphrase";
    set_password(data, "admin", password);
    (token, password)
}

#[test]
fn respondent_pages_work_in_a_real_browser() {
    if skipped() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data);
    run_script("run.mjs", &[server.base.as_ref(), data.as_os_str()], &[]);
    drop(server);
}

/// The admin pages, signed in as an all-sites admin, after a realistic day of the demo site.
/// With CHORUS_SCREENSHOTS=DIR the dashboard is saved on a phone and a desktop.
#[test]
fn admin_pages_work_in_a_real_browser() {
    if skipped() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (token, password) = admin_with_password(&data);
    let server = Server::start(&data);
    run_script(
        "admin.mjs",
        &[server.base.as_ref()],
        &[
            ("CHORUS_ADMIN_TOKEN", &token),
            ("CHORUS_ADMIN_PASSWORD", password),
        ],
    );
    drop(server);
}

/// The waiting-room kiosk: each test registers a kiosk with the initial admin token in the data
/// directory and enrols a fresh browser context. With CHORUS_SCREENSHOTS=DIR the start screen
/// and the idle warning are saved on a tablet.
#[test]
fn the_kiosk_works_in_a_real_browser() {
    if skipped() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data);
    run_script("kiosk.mjs", &[server.base.as_ref(), data.as_os_str()], &[]);
    drop(server);
}

/// Users: an admin invites a user who sets a password through the link and signs in; the admin
/// changes the role and disables them; the same forms without JavaScript (tests/browser/users.mjs).
#[test]
fn user_management_works_in_a_real_browser() {
    if skipped() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_, password) = admin_with_password(&data);
    let server = Server::start(&data);
    run_script(
        "users.mjs",
        &[server.base.as_ref()],
        &[("CHORUS_ADMIN_PASSWORD", password)],
    );
    drop(server);
}

/// The rule editor on a copy of the demo site whose rules live in the store: edit, check (a
/// failing test at its line), apply (refused while a test fails; the diff, then confirm), a
/// submission tagged by the new version, restore; with and without JavaScript, and axe-core
/// on the editor, the diff and the version page (tests/browser/rule_editor.mjs). With
/// CHORUS_SCREENSHOTS=DIR it saves docs/rules.md's screenshots there.
#[test]
fn the_rule_editor_works_in_a_real_browser() {
    if skipped() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = rules_common::demo_copy(tmp.path());
    rules_common::rules_in_store(&root);
    let data = tmp.path().join("data");
    let (_, password) = admin_with_password(&data);
    let server = Server::start_opts(&data, &root.join("sites"), &[], &[]);
    run_script(
        "rule_editor.mjs",
        &[server.base.as_ref()],
        &[("CHORUS_ADMIN_PASSWORD", password)],
    );
    drop(server);
}
