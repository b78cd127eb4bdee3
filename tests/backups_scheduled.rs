//! Scheduled backups, black-box: the real server with `backup_every` in chorus.toml writes
//! backups that restore, keeps the newest `backup_keep`, and the admin dashboard shows the last
//! good one (or a warning when an attempt failed).

mod common;

use common::server::{run, Server};
use common::signin::{set_password, sign_in};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSWORD: &str = "backups are a promise";

/// A data dir with an all-sites admin who can sign in, and a chorus.toml with `settings`.
fn setup(dir: &Path, settings: &str) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    let out = run(
        &[
            "user", "add", "--site", "*", "--name", "boss", "--role", "admin",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    set_password(&data, "boss", PASSWORD);
    let config = dir.join("chorus.toml");
    // As the repository's chorus.toml: the demo help desk is a loopback address.
    let allow = "webhook_allow_private = [\"127.0.0.1/32\"]\n";
    std::fs::write(&config, format!("{allow}{settings}")).unwrap();
    (data, config)
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    files
}

/// The ids of the responses a backup file holds (one `"type":"response"` record per line).
fn response_ids_in(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "response")
        .filter_map(|v| Some(v["id"].as_str()?.to_string()))
        .collect()
}

fn poll<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One acknowledged provider response; its id.
fn submit(server: &Server) -> String {
    let res = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses",
            server.base
        ))
        .json(
            &json!({ "answers": { "role": "physician", "offer_to": "some",
            "when_best": "check_out", "who_should": "nurse_ma", "help_available": "no" }}),
        )
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn dashboard(server: &Server, session: &str) -> String {
    let res = reqwest::blocking::Client::new()
        .get(format!("{}/admin/sites/demo-clinic", server.base))
        .header("Cookie", session)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().unwrap()
}

#[test]
fn backups_are_written_while_serving_restore_whole_and_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let settings = format!(
        "backup_every = \"1s\"\nbackup_dir = \"{}\"\nbackup_keep = 2\n",
        backups.display()
    );
    let (data, config) = setup(dir.path(), &settings);
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let ids: Vec<String> = (0..10).map(|_| submit(&server)).collect();

    // A backup taken after the submissions holds all of them.
    let newest = poll("a backup with every response", || {
        backups_in(&backups).into_iter().rev().find(|f| {
            let held = response_ids_in(f);
            ids.iter().all(|id| held.contains(id))
        })
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&newest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "backups hold answers: owner only");
    }

    // It restores into an empty data directory with every response.
    let kept = dir.path().join("kept.jsonl");
    std::fs::copy(&newest, &kept).unwrap();
    let restored = dir.path().join("restored");
    let out = run(&["restore", kept.to_str().unwrap()], &restored);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        &restored,
    );
    let exported = String::from_utf8_lossy(&out.stdout);
    for id in &ids {
        assert!(
            exported.contains(id.as_str()),
            "{id} missing from the restored backup"
        );
    }

    // Rotation: after three more backups, only the newest two are left.
    let mut seen = BTreeSet::new();
    poll("three more backups, two kept", || {
        seen.extend(backups_in(&backups));
        (seen.len() >= 4 && backups_in(&backups).len() == 2).then_some(())
    });

    // The dashboard names the last good backup.
    let session = sign_in(&server.base, "boss", PASSWORD);
    let page = dashboard(&server, &session);
    assert!(
        page.contains("Backups every 1 s: last good backup 20"),
        "{page}"
    );
    assert!(page.contains("chorus-backup-"), "{page}");
    assert!(!page.contains("The last backup attempt"), "{page}");
    assert!(server.terminate().success());
}

#[test]
fn a_failed_backup_is_a_warning_on_the_dashboard_and_serving_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the backup directory should be: every attempt fails.
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, "x").unwrap();
    let settings = format!(
        "backup_every = \"1s\"\nbackup_dir = \"{}\"\n",
        blocked.join("backups").display()
    );
    let (data, config) = setup(dir.path(), &settings);
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let session = sign_in(&server.base, "boss", PASSWORD);
    let page = poll("the failure on the dashboard", || {
        let page = dashboard(&server, &session);
        page.contains("The last backup attempt").then_some(page)
    });
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("There is no good backup yet"), "{page}");
    assert!(page.contains("none written yet"), "{page}");
    submit(&server);
    assert!(server.terminate().success());
}

#[test]
fn without_a_schedule_the_dashboard_says_backups_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path(), "");
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let session = sign_in(&server.base, "boss", PASSWORD);
    let page = dashboard(&server, &session);
    assert!(page.contains("Scheduled backups are off"), "{page}");
}

#[test]
fn a_bad_interval_stops_the_start_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = setup(dir.path(), "backup_keep = 3\nbackup_every = \"soon\"\n");
    let out = run(&["serve", "--config", config.to_str().unwrap()], &data);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chorus.toml:3:"), "{err}");
    assert!(err.contains("\"soon\" is not an interval"), "{err}");
    std::fs::write(&config, "backup_keep = 0\n").unwrap();
    let out = run(&["serve", "--config", config.to_str().unwrap()], &data);
    assert!(String::from_utf8_lossy(&out.stderr).contains("backup_keep must be at least 1"));
}
