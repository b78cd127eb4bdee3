//! The admin pages: site scoping, the dashboard's numbers and words, the SVG chart, the
//! response list (filters, pages, CSV) and one response, escaping of respondent text.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::AnswerValue;
use chorus::domain::Role;

fn text(s: &str) -> AnswerValue {
    AnswerValue::Text(s.into())
}

/// clinic-a: 10 patients, 4 providers, 1 leader (min_cell 2), as in tests/report_api.rs;
/// clinic-b: 3 patients.
async fn fixture(state: &chorus::AppState) {
    let patients = (0..7)
        .map(|i| {
            (
                format!("2026-03-02T10:0{i}:00Z"),
                &["enrollment_technical"][..],
            )
        })
        .chain((0..3).map(|i| {
            let tags = &["enrollment_assistance", "parking"][..];
            (format!("2026-03-09T10:0{i}:00Z"), tags)
        }));
    for (t, tags) in patients {
        let tried = [("tried", text("yes"))];
        store_response(
            state,
            "clinic-a",
            "patient-pulse",
            "patient",
            &t,
            tags,
            &tried,
        )
        .await;
    }
    let providers: [(&str, &[&str]); 4] = [
        (
            "2026-03-02T09:00:00Z",
            &["enrollment_assistance", "selective_promotion"],
        ),
        (
            "2026-03-02T09:01:00Z",
            &["enrollment_assistance", "enrollment_technical"],
        ),
        (
            "2026-03-03T12:00:00Z",
            &["enrollment_assistance", "selective_promotion"],
        ),
        ("2026-03-03T12:01:00Z", &[]),
    ];
    for (t, tags) in providers {
        let help = [("help_available", text("no"))];
        store_response(
            state,
            "clinic-a",
            "provider-pulse",
            "provider",
            t,
            tags,
            &help,
        )
        .await;
    }
    store_response(
        state,
        "clinic-a",
        "leader-pulse",
        "leadership",
        "2026-03-03T08:00:00Z",
        &["awareness"],
        &[],
    )
    .await;
    for i in 0..3 {
        store_response(
            state,
            "clinic-b",
            "patient-pulse",
            "patient",
            &format!("2026-03-04T10:0{i}:00Z"),
            &["awareness"],
            &[("tried", text("no"))],
        )
        .await;
    }
}

#[actix_web::test]
async fn staff_of_one_site_cannot_see_another() {
    let t = admin_state().await;
    fixture(&t.state).await;
    let b_response = t
        .state
        .store
        .list_responses(&chorus::store::ResponseQuery {
            site: "clinic-b".into(),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .unwrap();
    add_person(&t.state, "sam", "clinic-a", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    for uri in [
        "/admin/sites/clinic-a".to_string(),
        "/admin/sites/clinic-a/responses".to_string(),
        "/admin/sites/clinic-a/responses.csv".to_string(),
    ] {
        let (status, _, _) = get_page(&app, &cookie, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    for uri in [
        "/admin/sites/clinic-b".to_string(),
        "/admin/sites/clinic-b/responses".to_string(),
        "/admin/sites/clinic-b/responses.csv".to_string(),
        format!("/admin/sites/clinic-b/responses/{}", b_response.id),
        // A site that does not exist looks the same: no probing for site names.
        "/admin/sites/clinic-z".to_string(),
    ] {
        let (status, _, page) = get_page(&app, &cookie, &uri).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert!(page.contains("Not allowed"), "{uri}: an HTML page");
        assert!(!page.contains("Clinic B"), "{uri}");
    }
    // Nor through its own site's URL.
    let (status, _, _) = get_page(
        &app,
        &cookie,
        &format!("/admin/sites/clinic-a/responses/{}", b_response.id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The API says the same for the same person's token (see tests/api_auth.rs).
}

#[actix_web::test]
async fn all_sites_admins_pick_a_site() {
    let t = admin_state().await;
    add_person(&t.state, "root", "*", Role::Admin).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "root", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &cookie, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/admin/sites/clinic-a\""));
    assert!(page.contains("href=\"/admin/sites/clinic-b\""));
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-b").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-z").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn dashboard_shows_the_comparison() {
    let t = admin_state().await;
    fixture(&t.state).await;
    add_person(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "vic", PASSWORD).await.session.unwrap();
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/admin/sites/clinic-a")
            .cookie(cookie.clone())
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(res.headers().get("x-frame-options").unwrap(), "DENY");
    let page = body_text(res).await;
    assert!(
        !page.contains("style="),
        "no inline styles (the CSP forbids them)"
    );
    assert!(!page.contains("<script"), "no scripts");
    assert!(
        page.contains("href=\"&#x2F;static&#x2F;admin.css?v="),
        "the admin stylesheet, versioned"
    );

    // Respondents, the suppression rule, the table.
    assert!(
        page.contains("<td>10</td><td>4</td><td>fewer than 2</td>"),
        "{page}"
    );
    assert!(page.contains("cells with fewer than 2 of them are not shown"));
    assert!(page.contains("7 of 10 (70%)"), "{page}");
    assert!(page.contains("1 of 4 (25%)"));
    assert!(page.contains("40–89%"), "Wilson interval of 7 of 10");
    // Largest gap first: selective promotion (50 points) before the 45-point ties.
    let sel = page.find("Portal offered only to some patients").unwrap();
    let tech = page
        .find("Glitches, errors or lock-outs while enrolling")
        .unwrap();
    assert!(sel < tech);
    // In plain words, from the evidence only: 2 of 4 providers against none of 10 patients
    // is more than chance; 7 of 10 patients against 1 of 4 providers could be chance.
    assert!(page.contains(
        "50% of provider respondents name “Portal offered only to some patients”, against 0% of patient respondents: a gap of 50 points (95% interval 5 to 85 points)."
    ), "{page}");
    assert!(page.contains(
        "70% of patient respondents name “Glitches, errors or lock-outs while enrolling”, against 25% of provider respondents, but with 4 provider respondents asked that could be chance: about 5 more provider respondents would tell, if the shares held."
    ), "{page}");
    // The one rule of the words is on the page.
    assert!(page.contains("listed here only when it is more than chance would make"));
    // Respondents per week (Monday-based, newest first).
    let w9 = page
        .find("<th scope=\"row\">2026-03-09</th><td>3</td><td>0</td><td>0</td><td>3</td>")
        .expect("week of 9 March");
    let w2 = page
        .find("<th scope=\"row\">2026-03-02</th><td>7</td><td>4</td><td>1</td><td>12</td>")
        .expect("week of 2 March");
    assert!(w9 < w2);

    // The chart is well-formed XML with a title, a description and one bar per group.
    let start = page.find("<svg").unwrap();
    let end = page.find("</svg>").unwrap() + "</svg>".len();
    let svg = &page[start..end];
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(
        title.text(),
        Some("How each group sees each barrier at Clinic A")
    );
    assert!(root.children().any(|n| n.has_tag_name("desc")));
    let texts: Vec<&str> = root
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    // The site's own label with XML-special characters survives escaping intact (wrapped
    // onto two lines at a space).
    assert!(
        texts
            .join(" ")
            .contains("Could not get to the desk (parking & \"transit\" <lot B>)"),
        "{texts:?}"
    );
    let bars = root
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.children().any(|c| c.has_tag_name("title")))
        .count();
    // Barriers anyone named: technical, assistance, selective promotion, parking (awareness
    // was named only by the suppressed leader) × 3 groups.
    assert_eq!(bars, 4 * 3);

    // A survey filter and a date window go through the same report.
    let (status, _, page) = get_page(
        &app,
        &cookie,
        "/admin/sites/clinic-a?survey=provider-pulse&since=&until=",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<td>fewer than 2</td><td>4</td><td>fewer than 2</td>"));
    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a?since=2026-03-05").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<td>3</td><td>fewer than 2</td><td>fewer than 2</td>"));
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a?since=tomorrow").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/static/admin.css")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[actix_web::test]
async fn responses_filters_pages_csv_and_escaping() {
    let t = admin_state().await;
    fixture(&t.state).await;
    for i in 0..55 {
        store_response(
            &t.state,
            "clinic-a",
            "patient-pulse",
            "patient",
            &format!("2026-04-01T10:{:02}:00Z", i),
            &[],
            &[("tried", text("no"))],
        )
        .await;
    }
    let evil = store_response(
        &t.state,
        "clinic-a",
        "patient-pulse",
        "patient",
        "2026-04-02T10:00:00Z",
        &["enrollment_technical"],
        &[
            ("tried", text("yes")),
            ("what_happened", AnswerValue::Choices(vec!["error".into()])),
            ("comments", text("<script>alert(1)</script>")),
        ],
    )
    .await;
    store_response(
        &t.state,
        "clinic-a",
        "patient-pulse",
        "patient",
        "2026-04-02T11:00:00Z",
        &[],
        &[
            ("tried", text("yes")),
            ("comments", text("=HYPERLINK(\"http://x\")")),
        ],
    )
    .await;
    add_person(&t.state, "vic", "clinic-a", Role::Viewer).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "vic", PASSWORD).await.session.unwrap();

    // 72 responses: a first page of 50 with a link to the next.
    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/clinic-a/responses").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("\">Open<span").count(), 50);
    let marker = "&amp;cursor=";
    let at = page.find(marker).expect("a next-page link") + marker.len();
    let cursor = &page[at..at + 36];
    let (_, _, page2) = get_page(
        &app,
        &cookie,
        &format!("/admin/sites/clinic-a/responses?cursor={cursor}"),
    )
    .await;
    assert_eq!(page2.matches("\">Open<span").count(), 22);
    assert!(!page2.contains("Next page"));

    let (_, _, providers) = get_page(
        &app,
        &cookie,
        "/admin/sites/clinic-a/responses?group=provider&survey=&tag=&since=&until=",
    )
    .await;
    assert_eq!(providers.matches("\">Open<span").count(), 4);
    let (_, _, tagged) = get_page(
        &app,
        &cookie,
        "/admin/sites/clinic-a/responses?tag=enrollment_technical&since=2026-04-01",
    )
    .await;
    assert_eq!(tagged.matches("\">Open<span").count(), 1);
    let (status, _, _) = get_page(
        &app,
        &cookie,
        "/admin/sites/clinic-a/responses?group=martians",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // One response: question texts, choice labels, tags with their plugin; the script is text.
    let (status, _, page) = get_page(
        &app,
        &cookie,
        &format!("/admin/sites/clinic-a/responses/{}", evil.id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "{page}"
    );
    assert!(page.contains("Anything else you want us to know?"));
    assert!(page.contains("The website showed an error"));
    assert!(page.contains("<td>barrier_keywords</td>"));
    let (status, _, _) = get_page(&app, &cookie, "/admin/sites/clinic-a/responses/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // CSV of the filtered set.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/admin/sites/clinic-a/responses.csv?since=2026-04-02")
            .cookie(cookie.clone())
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("clinic-a-responses.csv"));
    let csv_text = body_text(res).await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let comments = headers.iter().position(|h| h == "comments").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0][comments], "<script>alert(1)</script>",
        "CSV keeps the text as written"
    );
    assert_eq!(&rows[0][6], "enrollment_technical");
    assert_eq!(
        &rows[1][comments], "'=HYPERLINK(\"http://x\")",
        "formulas are made inert"
    );
}
