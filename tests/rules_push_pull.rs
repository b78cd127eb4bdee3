//! `chorus rules pull|push` on the real binary: push checks the files (compile and every rule
//! test) and refuses with the failing tests listed unless `--anyway`, stores each changed file
//! as a new version and a missing one as a deletion; pull writes exactly the current versions;
//! a server started afterwards runs the pushed rules; a site whose rules are files refuses.

mod common;
mod rules_common;

use common::server::{run_with_sites, Server};
use rules_common::{copy_dir, demo_copy, rules_in_store, PARKING_TITLE, SHORTER_TITLE};
use std::path::Path;
use std::process::Output;

const LOBBY: &str = "fn tag(response) {\n    if has_word(response.answers.comments, \"lobby\") { [\"access_technology\"] } else { [] }\n}\n";
const LOBBY_TEST: &str = "[[case]]\nname = \"the lobby kiosk\"\nsurvey = \"patient-enrollment\"\nanswers = { aware = \"yes\", tried = \"no\", contact_ok = \"no\", comments = \"the lobby kiosk\" }\nexpect_tags_include = [\"access_technology\"]\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn rules(args: &[&str], data: &Path, sites: &Path) -> Output {
    let mut all = vec!["rules"];
    all.extend_from_slice(args);
    run_with_sites(&all, data, sites)
}

fn refused(out: &Output) -> (String, String) {
    assert!(!out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn push_checks_and_uploads_the_rules_and_pull_writes_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let (sites, data) = (root.join("sites"), dir.path().join("data"));
    let site_rules = sites.join("demo-clinic/rules");
    let original = std::fs::read_to_string(site_rules.join("parking.rhai")).unwrap();
    let (work, pulled) = (dir.path().join("work"), dir.path().join("pulled"));
    let work_s = work.to_str().unwrap();
    let pulled_s = pulled.to_str().unwrap();

    // An installation that has run (its first start made the initial admin).
    Server::start_opts(&data, &sites, &[], &[]).terminate();

    // Nothing is stored yet: pull says where the rules are.
    let (_, why) = refused(&rules(
        &["pull", "--site", "demo-clinic", pulled_s],
        &data,
        &sites,
    ));
    assert!(why.contains("holds no version"), "{why}");

    // A working copy, as a git checkout holds it. A draft that breaks the parking tests is
    // refused with each failing test, and nothing is stored.
    copy_dir(&site_rules, &work);
    let untagged = original.replace("[\"parking\"] } else", "[] } else");
    std::fs::write(work.join("parking.rhai"), &untagged).unwrap();
    let (listed, why) = refused(&rules(
        &["push", "--site", "demo-clinic", work_s],
        &data,
        &sites,
    ));
    assert!(listed.contains("rules/tests/parking.toml:"), "{listed}");
    assert!(why.contains("rule test(s) fail (--anyway"), "{why}");
    assert!(why.contains("nothing was pushed"), "{why}");
    let (_, why) = refused(&rules(
        &["pull", "--site", "demo-clinic", pulled_s],
        &data,
        &sites,
    ));
    assert!(
        why.contains("holds no version"),
        "still nothing stored: {why}"
    );

    // A syntax error is refused even with --anyway, at its line.
    std::fs::write(
        work.join("parking.rhai"),
        "fn tag(response) {\n    [\"parking\"\n}\n",
    )
    .unwrap();
    let args = ["push", "--site", "demo-clinic", work_s, "--anyway"];
    let (listed, _) = refused(&rules(&args, &data, &sites));
    assert!(listed.contains("parking.rhai:3:1:"), "{listed}");

    // Fixed, with a new rule and its test: each changed file is a new version.
    std::fs::write(
        work.join("parking.rhai"),
        original.replace(PARKING_TITLE, SHORTER_TITLE),
    )
    .unwrap();
    std::fs::write(work.join("lobby.rhai"), LOBBY).unwrap();
    std::fs::write(work.join("tests/lobby.toml"), LOBBY_TEST).unwrap();
    let args = [
        "push",
        "--site",
        "demo-clinic",
        work_s,
        "--message",
        "lobby kiosk",
    ];
    let pushed = ok(&rules(&args, &data, &sites));
    for line in [
        "lobby.rhai: version 1",
        "parking.rhai: version 2",
        "tests/lobby.toml: version 1",
    ] {
        assert!(pushed.contains(line), "{line}: {pushed}");
    }
    assert!(!pushed.contains("enrollment_review"), "unchanged: {pushed}");
    let again = rules(&args, &data, &sites);
    assert!(ok(&again).is_empty());
    assert!(text(&again.stderr).contains("nothing changed"));
    // Audited once, with the actor cli.
    let trail = ok(&run_with_sites(&["audit", "export"], &data, &sites));
    let pushes: Vec<serde_json::Value> = trail
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["action"] == "rules_applied")
        .collect();
    assert_eq!(pushes.len(), 1, "{trail}");
    assert_eq!(pushes[0]["actor"], "cli");
    assert_eq!(pushes[0]["details"]["message"], "lobby kiosk");
    assert_eq!(pushes[0]["details"]["version:parking.rhai"], "2");

    // A rule and its test deleted together: a deletion is a version.
    std::fs::remove_file(work.join("enrollment_review.rhai")).unwrap();
    std::fs::remove_file(work.join("tests/enrollment_review.toml")).unwrap();
    let deleted = ok(&rules(
        &["push", "--site", "demo-clinic", work_s],
        &data,
        &sites,
    ));
    assert!(
        deleted.contains("enrollment_review.rhai: deleted (version 2)"),
        "{deleted}"
    );
    assert!(deleted.contains("tests/enrollment_review.toml: deleted (version 2)"));

    // Pull writes exactly the current versions (a stray file goes).
    std::fs::create_dir_all(&pulled).unwrap();
    std::fs::write(pulled.join("stray.rhai"), "fn tag(r) { [] }").unwrap();
    let listed = ok(&rules(
        &["pull", "--site", "demo-clinic", pulled_s],
        &data,
        &sites,
    ));
    assert!(listed.contains("parking.rhai: version 2"), "{listed}");
    assert!(!pulled.join("stray.rhai").exists());
    assert!(!pulled.join("enrollment_review.rhai").exists());
    for file in [
        "parking.rhai",
        "lobby.rhai",
        "tests/lobby.toml",
        "tests/parking.toml",
    ] {
        assert_eq!(
            std::fs::read_to_string(pulled.join(file)).unwrap(),
            std::fs::read_to_string(work.join(file)).unwrap(),
            "{file}"
        );
    }

    // The push left the site folder alone; a server started on the store runs the pushed
    // rules (and writes them into its folder first).
    assert_eq!(
        std::fs::read_to_string(site_rules.join("parking.rhai")).unwrap(),
        original
    );
    let server = Server::start_opts(&data, &sites, &[], &[]);
    assert!(!site_rules.join("enrollment_review.rhai").exists());
    assert_eq!(
        std::fs::read_to_string(site_rules.join("lobby.rhai")).unwrap(),
        LOBBY
    );
    let answers = serde_json::json!({ "answers": { "aware": "yes", "tried": "no",
        "contact_ok": "yes", "contact_phone": "555-0100", "comments": "no parking by the lobby" } });
    let body: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses",
            server.base
        ))
        .json(&answers)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["follow_ups"][0]["title"], SHORTER_TITLE, "{body}");
    let tags: Vec<&str> = body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"access_technology") && tags.contains(&"parking"),
        "{body}"
    );
    server.terminate();
}

#[test]
fn a_site_whose_rules_are_files_refuses_a_push() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let (sites, data) = (root.join("sites"), dir.path().join("data"));
    let rules_dir = sites.join("demo-clinic/rules");
    let folder = rules_dir.to_str().unwrap();
    let (_, why) = refused(&rules(
        &["push", "--site", "demo-clinic", folder],
        &data,
        &sites,
    ));
    assert!(why.contains("keeps its rules in files"), "{why}");
    assert!(
        why.contains("rules_source = \"store\""),
        "how to switch: {why}"
    );
    let (_, why) = refused(&rules(
        &["push", "--site", "nowhere", folder],
        &data,
        &sites,
    ));
    assert!(why.contains("no site \"nowhere\""), "{why}");
    rules_in_store(&root);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let args = ["push", "--site", "demo-clinic", empty.to_str().unwrap()];
    let (_, why) = refused(&rules(&args, &data, &sites));
    assert!(why.contains("holds no *.rhai"), "{why}");
    std::fs::write(empty.join("Bad Name.rhai"), "fn tag(r) { [] }").unwrap();
    let (listed, _) = refused(&rules(&args, &data, &sites));
    assert!(
        listed.contains("Bad Name.rhai: a file name may use only"),
        "{listed}"
    );
}

#[test]
fn a_push_before_the_first_start_leaves_the_first_admin_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    rules_in_store(&root);
    let (sites, data) = (root.join("sites"), dir.path().join("data"));
    let work = dir.path().join("work");
    copy_dir(&sites.join("demo-clinic/rules"), &work);
    ok(&rules(
        &["push", "--site", "demo-clinic", work.to_str().unwrap()],
        &data,
        &sites,
    ));

    // The store holds rule versions only: the first start still creates the admin.
    let server = Server::start_opts(&data, &sites, &[], &[]);
    let token = std::fs::read_to_string(data.join("initial-admin-token")).unwrap();
    let report = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/sites/demo-clinic/report", server.base))
        .bearer_auth(token.trim())
        .send()
        .unwrap();
    assert_eq!(report.status(), 200);
    server.terminate();
}
