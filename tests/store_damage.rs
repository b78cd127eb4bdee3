//! A damaged store is refused, black-box: the real binary on data directories whose database
//! files were deleted, truncated, rolled back or corrupted after acknowledged submissions.
//! `serve` and `check-store` explain in one paragraph, exit 1 and write nothing; a healthy
//! store (even after kill -9) is never refused.

mod common;

use common::server::{free_port, run, serve_command, Server};
use serde_json::json;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// These tests damage a sled data directory's files; tests/store_check_postgres.rs checks a
/// PostgreSQL store.
fn sled_only(test: &str) -> bool {
    common::pg::skip_on_postgres(test, "it damages the files of a sled data directory")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `n` acknowledged provider responses (each with a task), from 4 concurrent clients.
fn submit(server: &Server, n: usize) -> Vec<String> {
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses",
        server.base
    );
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    (0..n / 4)
                        .map(|_| {
                            let body = json!({ "answers": {
                                "role": "physician", "offer_to": "some", "when_best": "check_out",
                                "who_should": "nurse_ma", "help_available": "no"
                            }});
                            let res = client.post(&url).json(&body).send().unwrap();
                            assert_eq!(res.status().as_u16(), 201);
                            res.json::<serde_json::Value>().unwrap()["id"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// A data directory with `n` responses, stopped in order.
fn store_with(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    assert_eq!(submit(&server, n).len(), n);
    assert!(server.terminate().success());
    (dir, data)
}

/// Waits until the store record names this response (it is rewritten about once a second).
fn wait_until_recorded(data: &Path, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record = std::fs::read_to_string(data.join("store-record.json")).unwrap_or_default();
        if record.contains(id) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the record never named {id}: {record}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `serve` on `data`; a refused store makes it exit, a served one is stopped and fails
/// the test.
fn serve_refused(data: &Path) -> Output {
    let mut child = serve_command(data, &common::repo().join("sites"), free_port())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("serve started on a damaged store");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// What every refusal says, for `serve` and `check-store` alike.
fn assert_refused(out: &Output, what: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("is damaged and Chorus will not use it"),
        "{text}"
    );
    assert!(text.contains(what), "expected \"{what}\" in: {text}");
    assert!(
        text.contains("chorus restore BACKUP --data NEW_DIR"),
        "{text}"
    );
    assert!(text.contains("Chorus has written nothing to it"), "{text}");
    assert!(!text.contains("panicked"), "a panic was printed: {text}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("Created the all-sites admin"),
        "a new admin was created"
    );
}

/// Serve and check-store both refuse, and neither changes the token file or the record.
fn assert_both_refuse(data: &Path, what: &str) {
    let token = std::fs::read(data.join("initial-admin-token")).ok();
    let record = std::fs::read(data.join("store-record.json")).unwrap();
    assert_refused(&run(&["check-store"], data), what);
    assert_refused(&serve_refused(data), what);
    assert_refused(&run(&["export", "--site", "demo-clinic"], data), what);
    assert_eq!(std::fs::read(data.join("initial-admin-token")).ok(), token);
    assert_eq!(
        std::fs::read(data.join("store-record.json")).unwrap(),
        record
    );
}

#[test]
fn a_deleted_database_is_refused_and_not_recreated() {
    if sled_only("a_deleted_database_is_refused_and_not_recreated") {
        return;
    }
    let (_dir, data) = store_with(20);
    std::fs::remove_file(data.join("db")).unwrap();
    assert_both_refuse(&data, "is missing");
    assert!(!data.join("db").exists(), "the database was created anew");
}

#[test]
fn a_truncated_database_is_refused() {
    if sled_only("a_truncated_database_is_refused") {
        return;
    }
    let (_dir, data) = store_with(40);
    std::fs::OpenOptions::new()
        .write(true)
        .open(data.join("db"))
        .unwrap()
        .set_len(0)
        .unwrap();
    assert_both_refuse(&data, "the database opened empty");
}

/// Keeps a copy of sled's files, serves `n` more responses, then puts the old files back.
fn roll_back_after(data: &Path, n: usize) {
    let old = data.with_file_name("old");
    std::fs::create_dir(&old).unwrap();
    for name in ["db", "conf"] {
        std::fs::copy(data.join(name), old.join(name)).unwrap();
    }
    let server = Server::start(data);
    submit(&server, n);
    assert!(server.terminate().success());
    for name in ["db", "conf"] {
        std::fs::copy(old.join(name), data.join(name)).unwrap();
    }
}

#[test]
fn a_rolled_back_database_is_refused() {
    if sled_only("a_rolled_back_database_is_refused") {
        return;
    }
    let (_dir, data) = store_with(20);
    roll_back_after(&data, 20);
    // The older database is whole, only behind: it opens, at an older commit.
    assert_both_refuse(&data, "the database opened at commit");
}

/// A store of `n` responses written in one go (a restore), so that its log layout, and what
/// sled makes of a damaged copy, is the same on every run.
fn restored_store(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, data) = store_with(4);
    let backup = dir.path().join("backup.jsonl");
    assert!(run(&["backup", backup.to_str().unwrap()], &data)
        .status
        .success());
    let text = std::fs::read_to_string(&backup).unwrap();
    let mut template: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "response")
        .unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("\"type\":\"response\""))
        .map(String::from)
        .collect();
    for _ in 0..n {
        template["id"] = json!(uuid::Uuid::now_v7().to_string());
        lines.push(template.to_string());
    }
    std::fs::write(&backup, lines.join("\n") + "\n").unwrap();
    let restored = dir.path().join("restored");
    let out = run(&["restore", backup.to_str().unwrap()], &restored);
    assert!(out.status.success(), "{}", stderr(&out));
    (dir, restored)
}

fn zero_segment(data: &Path, segment: u64) {
    use std::io::{Seek, SeekFrom, Write};
    const SEGMENT: u64 = 512 * 1024;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(data.join("db"))
        .unwrap();
    f.seek(SeekFrom::Start(segment * SEGMENT)).unwrap();
    f.write_all(&vec![0u8; SEGMENT as usize]).unwrap();
}

/// How many records a store holds, from a `chorus backup` of a copy of it.
fn records_in(dir: &Path, data: &Path) -> usize {
    let copy = dir.join("count");
    let _ = std::fs::remove_dir_all(&copy);
    copy_store(data, &copy);
    let file = dir.join("count.jsonl");
    let out = run(&["backup", file.to_str().unwrap()], &copy);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(&copy).unwrap();
    std::fs::read_to_string(&file).unwrap().lines().count()
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for name in ["db", "conf", "store-record.json"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

/// Zeroes each 512 KiB log segment in turn (on a fresh copy): the store must then be refused
/// or hold every record. Some of these make sled's recovery panic ("tried to serialize
/// Uninitialized", as after the power cuts of issue 18): that panic becomes the refusal too.
#[test]
fn whichever_log_segment_is_lost_the_store_is_refused_or_whole() {
    if sled_only("whichever_log_segment_is_lost_the_store_is_refused_or_whole") {
        return;
    }
    let (dir, pristine) = restored_store(3000);
    let all = records_in(dir.path(), &pristine);
    let segments = std::fs::metadata(pristine.join("db")).unwrap().len() / (512 * 1024);
    let (mut whole, mut refused, mut panicked) = (0, 0, Vec::new());
    for segment in 0..segments {
        let data = dir.path().join(format!("seg{segment}"));
        copy_store(&pristine, &data);
        zero_segment(&data, segment);
        let out = run(&["check-store"], &data);
        if out.status.success() {
            // Only a segment sled no longer used.
            assert_eq!(
                records_in(dir.path(), &data),
                all,
                "segment {segment} lost silently"
            );
            whole += 1;
        } else {
            assert_refused(&out, "");
            refused += 1;
            if stderr(&out).contains("opening the database failed inside sled") {
                panicked.push(segment);
            }
        }
        std::fs::remove_dir_all(&data).unwrap();
    }
    assert!(refused > 0, "no lost segment was noticed ({whole} whole)");
    // serve and export refuse a store that sled panics on just as check-store does.
    let segment = *panicked.first().expect("no lost segment made sled panic");
    let data = dir.path().join("panics");
    copy_store(&pristine, &data);
    zero_segment(&data, segment);
    assert_both_refuse(&data, "opening the database failed inside sled");
}

#[test]
fn after_an_unclean_stop_the_files_before_recovery_are_kept() {
    if sled_only("after_an_unclean_stop_the_files_before_recovery_are_kept") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let ids = submit(&server, 20);
    wait_until_recorded(&data, ids.iter().max().unwrap());
    server.kill9();
    let len = std::fs::metadata(data.join("db")).unwrap().len();
    let head = len / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(data.join("db"))
        .unwrap()
        .set_len(head)
        .unwrap();
    let out = run(&["check-store"], &data);
    let copy = data.join("before-recovery");
    assert_refused(&out, &format!("are kept in {}", copy.display()));
    assert_eq!(std::fs::metadata(copy.join("db")).unwrap().len(), head);
    assert!(copy.join("conf").is_file());
    // A second attempt keeps that first copy.
    assert_refused(&serve_refused(&data), "before this start are kept");
    assert_eq!(std::fs::metadata(copy.join("db")).unwrap().len(), head);
}

#[test]
fn a_kill_9_then_a_restart_is_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let ids = submit(&server, 40);
    server.kill9();
    let out = run(&["check-store"], &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("is sound"), "{said}");
    assert!(said.contains("40 responses"), "{said}");
    assert!(
        !data.join("before-recovery").exists(),
        "the copy is removed"
    );
    let server = Server::start(&data);
    submit(&server, 4);
    server.kill9();
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        &data,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stored.lines().count(), 44);
    assert!(ids.iter().all(|id| stored.contains(id.as_str())));
}

#[test]
fn an_unreadable_record_is_refused() {
    if sled_only("an_unreadable_record_is_refused") {
        return;
    }
    let (_dir, data) = store_with(4);
    std::fs::write(data.join("store-record.json"), "{ half").unwrap();
    assert_both_refuse(&data, "is unreadable");
}

#[test]
fn deleting_the_record_accepts_the_store_as_it_is() {
    if sled_only("deleting_the_record_accepts_the_store_as_it_is") {
        return;
    }
    let (_dir, data) = store_with(20);
    roll_back_after(&data, 4);
    assert_eq!(run(&["check-store"], &data).status.code(), Some(1));
    std::fs::remove_file(data.join("store-record.json")).unwrap();
    let out = run(&["check-store"], &data);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("20 responses"));
}

#[test]
fn check_store_on_a_directory_without_a_store_creates_nothing() {
    if sled_only("check_store_on_a_directory_without_a_store_creates_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nothing");
    let out = run(&["check-store"], &data);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("there is no store in"),
        "{}",
        stderr(&out)
    );
    assert!(!data.exists());
}

#[test]
fn a_store_with_responses_but_no_users_gets_no_new_admin() {
    let (dir, data) = store_with(8);
    let backup = dir.path().join("backup.jsonl");
    assert!(run(&["backup", backup.to_str().unwrap()], &data)
        .status
        .success());
    let kept: String = std::fs::read_to_string(&backup)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"type\":\"user\""))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&backup, kept).unwrap();
    let fresh = dir.path().join("restored");
    let out = run(&["restore", backup.to_str().unwrap()], &fresh);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = serve_refused(&fresh);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("holds responses, tasks or kiosks but no users"),
        "{}",
        stderr(&out)
    );
    assert!(!fresh.join("initial-admin-token").exists());
}

#[test]
fn offline_commands_beside_a_running_server_copy_and_judge_nothing() {
    if sled_only("offline_commands_beside_a_running_server_copy_and_judge_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    submit(&server, 4);
    // The running server's record says "not closed in order": that is no crash to copy after.
    for args in [
        &["check-store"][..],
        &["export", "--site", "demo-clinic"][..],
    ] {
        let out = run(args, &data);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("in use by another Chorus process"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!data.join("before-recovery").exists(), "files were copied");
    assert!(server.terminate().success());
    let out = run(&["check-store"], &data);
    assert!(out.status.success(), "{}", stderr(&out));
}
