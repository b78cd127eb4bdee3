//! `chorus audit verify` and `chorus audit export`, black-box: the real binary on real data
//! directories, and a trail tampered with through a backup file restored into a fresh store.

mod common;

use common::server::run;
use serde_json::Value;
use std::path::Path;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(args: &[&str], data: &Path) -> std::process::Output {
    let out = run(args, data);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn add(data: &Path, name: &str, site: &str) {
    ok(
        &[
            "user", "add", "--site", site, "--name", name, "--role", "viewer",
        ],
        data,
    );
}

/// A store with users added by the command line, and its backup (lines of the file).
fn backed_up(dir: &Path) -> Vec<String> {
    let data = dir.join("data");
    add(&data, "ann", "demo-clinic");
    add(&data, "bob", "*");
    let file = dir.join("backup.jsonl");
    ok(&["backup", file.to_str().unwrap()], &data);
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn audit_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "audit")
        .collect()
}

fn restore_into(dir: &Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.jsonl"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let data = dir.join(name);
    ok(&["restore", file.to_str().unwrap()], &data);
    data
}

#[test]
fn an_intact_trail_verifies_with_its_count_and_head_hash() {
    let dir = tempfile::tempdir().unwrap();
    let lines = backed_up(dir.path());
    let data = dir.path().join("data");
    let entries = audit_lines(&lines);
    // user_created and token_created for each user; the backup's own entry comes after the
    // backup was read, so it is in the store, not in the file.
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user_created",
            "token_created",
            "user_created",
            "token_created"
        ]
    );
    assert!(entries.iter().all(|e| e["actor"] == "cli"));
    let out = run(&["audit", "verify"], &data);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("intact: 5 entries"), "{text}");
    let exported = stdout(&ok(&["audit", "export"], &data));
    let last: Value = serde_json::from_str(exported.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "backup");
    assert!(
        text.contains(last["hash"].as_str().unwrap()),
        "the head hash: {text}"
    );
    // The restored copy verifies too, with the restore's own entry chained on.
    let restored = restore_into(dir.path(), "copy", &lines);
    let text = stdout(&run(&["audit", "verify"], &restored));
    assert!(text.contains("intact: 5 entries"), "{text}");
}

#[test]
fn a_changed_entry_in_a_restored_backup_is_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = backed_up(dir.path());
    // Entry 3 said the CLI created "bob"; make it say someone else did.
    let at = lines
        .iter()
        .position(|l| l.contains(r#""type":"audit""#) && l.contains(r#""seq":3,"#))
        .expect("entry 3 in the backup");
    let mut entry: Value = serde_json::from_str(&lines[at]).unwrap();
    entry["actor"] = "admin".into();
    lines[at] = entry.to_string();
    let data = restore_into(dir.path(), "tampered", &lines);
    let out = run(&["audit", "verify"], &data);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("broken at entry 3"), "{text}");
    assert!(text.contains("changed"), "{text}");
}

#[test]
fn a_removed_entry_in_a_restored_backup_is_named_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = backed_up(dir.path());
    lines.retain(|l| !(l.contains(r#""type":"audit""#) && l.contains(r#""seq":2,"#)));
    let data = restore_into(dir.path(), "gap", &lines);
    let out = run(&["audit", "verify"], &data);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("broken at entry 3: entry 2 is missing"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn export_filters_by_site_and_time_and_refuses_a_bad_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add(&data, "ann", "demo-clinic");
    add(&data, "bob", "*");
    let site = stdout(&ok(&["audit", "export", "--site", "demo-clinic"], &data));
    let site: Vec<Value> = site
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(site.len(), 1, "only ann's user_created names the site");
    assert_eq!(site[0]["target"], "ann");
    assert_eq!(site[0]["details"]["role"], "viewer");
    let all = stdout(&ok(&["audit", "export", "--since", "2000-01-01"], &data));
    assert_eq!(all.lines().count(), 4);
    let later = stdout(&ok(&["audit", "export", "--since", "2999-01-01"], &data));
    assert_eq!(later.lines().count(), 0);
    let bad = run(&["audit", "export", "--since", "yesterday"], &data);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
}

/// Every start logs the head of the trail before its own entry; a clean stop leaves one.
#[test]
fn each_start_logs_the_head_hash_and_start_and_stop_are_recorded() {
    use common::server::Server;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sites = common::repo().join("sites");
    let start = |n: u32| {
        let log = dir.path().join(format!("serve-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let server =
            Server::start_logging(&data, &sites, &[], &[("CHORUS_LOG", "info")], file.into());
        assert!(server.terminate().success());
        std::fs::read_to_string(&log).unwrap()
    };
    let first = start(1);
    assert!(first.contains("audit trail head"), "{first}");
    let exported = stdout(&ok(&["audit", "export"], &data));
    let entries: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // The initial admin is created by the system before the start's entry.
    assert_eq!(actions, ["user_created", "token_created", "start", "stop"]);
    let head = entries.last().unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let second = start(2);
    assert!(
        second.contains(&head),
        "the second start logs the head the first left: {second}"
    );
}
