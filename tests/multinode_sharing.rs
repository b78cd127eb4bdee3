//! Two nodes on one PostgreSQL database see the same data: what is stored through A is in B's
//! report, listings and dashboard within 2 s; a sign-in on A is a sign-in on B and a sign-out
//! on B ends it on A; a reload on A reaches B within 5 s.

mod common;

use common::nodes::{client, provider_answers, submit, within, Nodes};
use std::time::Duration;

fn json(c: &reqwest::blocking::Client, base: &str, path: &str, token: &str) -> serde_json::Value {
    c.get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn what_a_stores_is_in_bs_report_listings_and_dashboard_within_2_s() {
    let Some(nodes) =
        Nodes::demo("what_a_stores_is_in_bs_report_listings_and_dashboard_within_2_s")
    else {
        return;
    };
    let c = client();
    let (a, b, token) = (&nodes.a().base, &nodes.b().base, nodes.token.as_str());
    let mut ids = Vec::new();
    for _ in 0..6 {
        let res = submit(&c, a, &serde_json::json!({ "answers": provider_answers() }));
        assert_eq!(res.status(), 201);
        ids.push(
            res.json::<serde_json::Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let took = within(
        Duration::from_secs(2),
        "B's report counts A's responses",
        || {
            let report = json(&c, b, "/api/v1/sites/demo-clinic/report", token);
            report["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["group"] == "provider" && g["respondents"] == 6)
        },
    );
    eprintln!("B's report had A's responses after {took:?}");
    let listed = json(&c, b, "/api/v1/sites/demo-clinic/responses", token);
    let listed: Vec<&str> = listed["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "B lists A's responses, oldest first");
    let tasks = json(
        &c,
        b,
        "/api/v1/sites/demo-clinic/follow-ups?status=open",
        token,
    );
    assert_eq!(
        tasks["follow_ups"].as_array().unwrap().len(),
        6,
        "and their tasks"
    );
    // The dashboard (a signed-in page) on B counts them too.
    let session = common::nodes_signin::sign_in(&nodes, &nodes.b().base, "dana");
    let page = c
        .get(format!("{b}/admin/sites/demo-clinic"))
        .header("Cookie", &session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    // Respondents per group, in the site's order: patient, provider, leadership.
    assert!(
        page.contains("<td>fewer than 5</td><td>6</td><td>fewer than 5</td>"),
        "the dashboard counts the 6 providers: {page}"
    );
}

#[test]
fn a_sign_in_on_a_holds_on_b_and_a_sign_out_on_b_ends_it_on_a() {
    let Some(nodes) = Nodes::demo("a_sign_in_on_a_holds_on_b_and_a_sign_out_on_b_ends_it_on_a")
    else {
        return;
    };
    let c = client();
    let (a, b) = (&nodes.a().base, &nodes.b().base);
    let session = common::nodes_signin::sign_in(&nodes, a, "erin");
    let page = |base: &str| {
        c.get(format!("{base}/admin/sites/demo-clinic"))
            .header("Cookie", &session)
            .send()
            .unwrap()
    };
    let on_b = page(b);
    assert_eq!(on_b.status(), 200, "signed in on B through A");
    let html = on_b.text().unwrap();
    let csrf = common::nodes_signin::csrf_of(&html);
    let out = c
        .post(format!("{b}/admin/logout"))
        .header("Cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(out.status(), 303);
    let on_a = page(a);
    assert_eq!(on_a.status(), 303, "signed out on A too");
    assert!(on_a.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/admin/login"));
}

#[test]
fn a_reload_on_a_reaches_b_within_5_s() {
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    let src = common::repo().join("sites/demo-clinic");
    copy_dir(&src, &sites.join("demo-clinic"));
    let Some(nodes) = Nodes::start("a_reload_on_a_reaches_b_within_5_s", &sites, "", &[]) else {
        return;
    };
    let c = client();
    let (a, b, token) = (&nodes.a().base, &nodes.b().base, nodes.token.as_str());
    let title = |base: &str| {
        json(
            &c,
            base,
            "/api/v1/sites/demo-clinic/surveys/provider-enrollment",
            token,
        )["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = title(b);
    // Both nodes read the same folder here; a deployment keeps each node's copy the same.
    let file = sites.join("demo-clinic/surveys/provider-enrollment.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replacen(
        &format!("title = \"{before}\""),
        "title = \"Reloaded title\"",
        1,
    );
    std::fs::write(&file, text).unwrap();
    assert_eq!(title(b), before, "nothing reloads by itself");
    let res = c
        .post(format!("{a}/api/v1/sites/demo-clinic/reload"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert!(res.status().is_success(), "{:?}", res.text());
    assert_eq!(title(a), "Reloaded title");
    let took = within(Duration::from_secs(5), "B reloads after A's reload", || {
        title(b) == "Reloaded title"
    });
    eprintln!("B reloaded after {took:?}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
