//! What each group was asked (survey `asks`, by version), through the real report endpoint:
//! `asked`, `count`, `share`, `ci` and `unprompted` per barrier and group; `{"asked": 0}` for a
//! group whose survey does not ask, which takes no part in the gap; suppression that shows no
//! number at all (not even unprompted mentions); `null` gaps sorting last; the survey API
//! showing `asks`; `chorus check` refusing codes outside the codebook.

mod common;
mod report_support;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use report_support::{barrier, cell, fixture, SITE};
use rules_common::copy_dir;
use serde_json::{json, Value};

#[actix_web::test]
async fn cells_count_only_the_respondents_who_were_asked() {
    let t = common::state_with(common::report_config).await;
    fixture(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    // Now, through the API and the site's rule (the ticked barriers are the tags).
    for barriers in [
        json!(["awareness", "enrollment_technical"]),
        json!(["enrollment_technical"]),
        json!(["enrollment_technical", "wrong_messenger"]),
        json!(["enrollment_technical"]),
    ] {
        submit!(app, "patient", json!({ "barriers": barriers }));
    }
    for barriers in [
        json!(["wrong_messenger"]),
        json!(["wrong_messenger", "awareness"]),
        json!([]),
    ] {
        submit!(app, "provider", json!({ "barriers": barriers }));
    }
    for comments in ["", "", "", "sign-up showed an error"] {
        let mut answers = json!({ "barriers": ["awareness"] });
        if !comments.is_empty() {
            answers["comments"] = json!(comments);
        }
        submit!(app, "leadership", answers);
    }
    let token = common::add_user(&t.state, "v", SITE, Role::Viewer).await;
    let (status, r) = get!(app, Some(&token), format!("/api/v1/sites/{SITE}/report"));
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r["groups"],
        json!([
            {"group": "patient", "respondents": 10},
            {"group": "provider", "respondents": 6},
            {"group": "leadership", "respondents": 4}
        ])
    );
    // Awareness: every version asked it.
    let a = cell(&r, "awareness", "patient");
    assert_eq!(
        (a["asked"].as_u64(), a["count"].as_u64()),
        (Some(10), Some(3))
    );
    // Errors: only version 2 asked (6 patients, 6 named it); version 1's one mention is apart.
    assert_eq!(
        cell(&r, "enrollment_technical", "patient"),
        &json!({"asked": 6, "count": 6, "share": 1.0, "ci": [0.6097, 1.0], "unprompted": 1})
    );
    // Leaders are not asked about errors: one mentioned it in a comment.
    assert_eq!(
        cell(&r, "enrollment_technical", "leadership"),
        &json!({"asked": 0, "unprompted": 1})
    );
    // Patients are not asked who should promote the portal; one ticked it anyway.
    assert_eq!(
        cell(&r, "wrong_messenger", "patient"),
        &json!({"asked": 0, "unprompted": 1})
    );
    // The gap of "errors" is between the groups asked: patients 6/6 and providers 0/6.
    let tech = barrier(&r, "enrollment_technical");
    assert_eq!(tech["gap"], 1.0);
    assert_eq!(tech["gap_groups"], json!(["patient", "provider"]));
    assert_eq!(tech["evident"], true);
    let ci = tech["gap_ci"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() > 0.0 && ci[1] == 1.0, "{tech}");
    // "Who should promote it": providers 2/6 against leaders 0/4; patients take no part.
    let who = barrier(&r, "wrong_messenger");
    assert_eq!(who["gap_groups"], json!(["provider", "leadership"]));
    assert_eq!(who["gap"], 0.3333);
    assert_eq!(who["evident"], false);
    // Asked of one group only (providers' survey asks every barrier): no gap, sorted last.
    let overload = barrier(&r, "information_overload");
    assert_eq!(overload["gap"], Value::Null);
    assert_eq!(overload["gap_ci"], Value::Null);
    assert_eq!(overload["gap_groups"], Value::Null);
    assert_eq!(overload["evident"], false);
    assert_eq!(
        overload["by_group"],
        json!({
            "patient": {"asked": 0, "unprompted": 0},
            "provider": {"asked": 6, "count": 0, "share": 0.0, "ci": [0.0, 0.3903], "unprompted": 0},
            "leadership": {"asked": 0, "unprompted": 0}
        })
    );
    let gaps: Vec<&Value> = r["barriers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["gap"])
        .collect();
    let first_null = gaps.iter().position(|g| g.is_null()).unwrap();
    assert!(gaps[first_null..].iter().all(|g| g.is_null()), "{gaps:?}");
    assert!(gaps[..first_null]
        .windows(2)
        .all(|w| w[0].as_f64() >= w[1].as_f64()));
    assert_eq!(r["barriers"][0]["code"], "enrollment_technical");
}

#[actix_web::test]
async fn a_suppressed_cell_shows_no_number_at_all() {
    let t = common::state_with(common::report_config).await;
    fixture(&t.state).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "v", SITE, Role::Viewer).await;
    // 2 to 4 March: 6 patients, of whom 2 (version 2) were asked about errors: fewer than
    // min_cell 3, so no count, share or unprompted mention shows, though version 1 had one.
    let uri = format!("/api/v1/sites/{SITE}/report?since=2026-03-02&until=2026-03-05");
    let (_, r) = get!(app, Some(&token), uri);
    assert_eq!(
        r["groups"][0],
        json!({"group": "patient", "respondents": 6})
    );
    assert_eq!(
        cell(&r, "enrollment_technical", "patient"),
        &json!({"suppressed": true})
    );
    // Providers have no respondent in the window: suppressed everywhere, asked or not.
    assert_eq!(
        r["groups"][1],
        json!({"group": "provider", "suppressed": true})
    );
    assert_eq!(
        cell(&r, "awareness", "provider"),
        &json!({"suppressed": true})
    );
    // A group not asked is shown as such only when it has min_cell respondents.
    assert_eq!(
        cell(&r, "wrong_messenger", "patient"),
        &json!({"asked": 0, "unprompted": 0})
    );
    assert_eq!(
        cell(&r, "wrong_messenger", "leadership"),
        &json!({"suppressed": true})
    );
    // The one unprompted mention of the window is in the suppressed cell: it shows nowhere.
    assert!(!r.to_string().contains("\"unprompted\":1"), "{r}");
    // Version 1 alone (2 March): errors were not asked of anyone; the mention stays apart.
    let uri = format!("/api/v1/sites/{SITE}/report?since=2026-03-02&until=2026-03-03");
    let (_, r) = get!(app, Some(&token), uri);
    assert_eq!(
        cell(&r, "enrollment_technical", "patient"),
        &json!({"asked": 0, "unprompted": 1})
    );
    let a = cell(&r, "awareness", "patient");
    assert_eq!(
        (a["asked"].as_u64(), a["count"].as_u64()),
        (Some(4), Some(2))
    );
}

#[actix_web::test]
async fn surveys_show_what_they_ask_and_check_refuses_unknown_codes() {
    let t = common::state_with(common::report_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let (status, s) = get!(
        app,
        None::<&str>,
        format!("/api/v1/sites/{SITE}/surveys/patient")
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["asks"], json!(["awareness", "enrollment_technical"]));
    assert_eq!(s["asks_by_version"], json!({"1": ["awareness"]}));
    let (_, s) = get!(
        app,
        None::<&str>,
        format!("/api/v1/sites/{SITE}/surveys/provider")
    );
    assert!(s.get("asks").is_none(), "no asks: every barrier");

    // A copy of the site with a code outside the codebook and a version that is not earlier.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join(SITE);
    copy_dir(
        &common::repo()
            .join("tests/fixtures/report-sites")
            .join(SITE),
        &site,
    );
    let file = site.join("surveys/patient.toml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(
            "asks = [\"awareness\", \"enrollment_technical\"]",
            "asks = [\"awareness\", \"enrolment_technical\"]",
        )
        .replace("1 = [\"awareness\"]", "2 = [\"awareness\"]");
    std::fs::write(&file, text).unwrap();
    let out = common::server::check(dir.path(), &common::repo().join("tests/fixtures/plugins"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let path = file.display().to_string();
    assert!(
        stdout.contains(&format!(
            "{path}:6:22: \"enrolment_technical\" is not a barrier code of the site's codebook"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{path}:9:5: \"2\" is not an earlier version")),
        "{stdout}"
    );
}
