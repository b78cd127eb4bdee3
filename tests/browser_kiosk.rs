//! The waiting-room kiosk in a real browser (tests/browser/kiosk.mjs: headless Chromium driven
//! by playwright-core, axe-core for accessibility), against the real binary on a free port with
//! a fresh data directory. Needs what tests/browser.rs needs (tests/setup.sh installs it);
//! CHORUS_SKIP_BROWSER=1 skips it.

mod common;

use common::server::Server;
use std::process::Command;

#[test]
fn the_kiosk_works_in_a_real_browser() {
    if std::env::var("CHORUS_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("CHORUS_SKIP_BROWSER=1: browser tests skipped");
        return;
    }
    let dir = common::repo().join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && dir.join("node_modules/axe-core").is_dir(),
        "run `npm ci` in tests/browser (tests/setup.sh does), or set CHORUS_SKIP_BROWSER=1"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data);
    let out = Command::new("node")
        .arg(dir.join("kiosk.mjs"))
        .arg(&server.base)
        .arg(&data)
        .current_dir(&dir)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "kiosk browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    drop(server);
}
