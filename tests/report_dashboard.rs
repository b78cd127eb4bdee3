//! The demo dashboard after a realistic day (tests/fixtures/demo-seed, sent through the API):
//! its sentences are the study's real disagreements, from the evidence only — leaders blame
//! awareness, patients tried and failed on glitches, providers want someone else to promote
//! the portal at another moment; what could be chance is listed apart with the respondents it
//! needs; unprompted mentions apart; the follow-ups in words; the trend charts with their text
//! alternative; every chart text at 12 px or more.

mod admin_support;
mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use serde_json::json;

/// The session of a new admin of the demo site, signed in through the login form.
macro_rules! admin_cookie {
    ($t:expr, $app:expr) => {{
        admin_support::add_person(&$t.state, "ada", "demo-clinic", Role::Admin).await;
        admin_support::sign_in(&$app, "ada", admin_support::PASSWORD)
            .await
            .session
            .unwrap()
    }};
}

/// The demo site's dashboard (200).
macro_rules! dashboard {
    ($app:expr, $cookie:expr) => {{
        let (status, _, page) =
            admin_support::get_page(&$app, &$cookie, "/admin/sites/demo-clinic").await;
        assert_eq!(status, StatusCode::OK);
        page
    }};
}

/// The text between `<ul ... id="{id}">` and `</ul>`, split into its items.
fn list(page: &str, id: &str) -> Vec<String> {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no list {id}"));
    let end = start + page[start..].find("</ul>").unwrap();
    page[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| li.trim_end_matches("</li>").replace("&quot;", "\""))
        .collect()
}

#[actix_web::test]
async fn the_demo_dashboard_tells_the_studys_disagreements() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "helper", "demo-clinic", Role::Staff).await;
    common::demo_seed::send(&app, &t.state, &staff).await;
    let cookie = admin_cookie!(t, app);
    let page = dashboard!(app, cookie);

    assert_eq!(
        list(&page, "evident"),
        [
            "83% of leadership respondents name “Did not know about the portal”, against 25% of \
             patient respondents: a gap of 58 points (95% interval 27 to 74 points).",
            "54% of patient respondents name “Glitches, errors or lock-outs while enrolling”, \
             against 8% of leadership respondents: a gap of 46 points (95% interval 15 to 61 \
             points).",
            "50% of provider respondents name “The visit is not the moment to talk about the \
             portal”, against 8% of leadership respondents: a gap of 42 points (95% interval 6 \
             to 66 points).",
            "50% of provider respondents name “Disagreement about who should promote the \
             portal”, against 8% of leadership respondents: a gap of 42 points (95% interval 6 \
             to 66 points).",
        ]
    );
    let too_few = list(&page, "too-few");
    assert!(
        too_few[0].starts_with(
            "43% of provider respondents name “No one available to help with enrollment”, \
             against 8% of leadership respondents, but with 12 leadership respondents asked \
             that could be chance: about "
        ),
        "{too_few:?}"
    );
    assert_eq!(
        list(&page, "unprompted"),
        [
            "2 patient respondents mentioned “The visit is not the moment to talk about the \
             portal” without being asked.",
            "2 patient respondents mentioned “Could not get to the enrollment desk” without \
             being asked.",
        ]
    );
    let follow_ups = list(&page, "follow-up-figures");
    assert_eq!(
        follow_ups[0],
        "Of 16 patients who asked for a call back, 12 were done, 12 of them on time; half in \
         under an hour. 7 enrolled, 3 not reached, 2 declined. 1 was dismissed; 3 are still \
         open."
    );
    assert_eq!(
        follow_ups[1],
        "Of 6 reports for the practice manager, 3 were done, 3 of them on time; half in under \
         an hour. 2 acted on, 1 no action. 3 are still open."
    );
    assert!(
        follow_ups[2].starts_with("Fewer than 5 patients who could not get to the enrollment desk")
    );

    // Trends of the top barriers: a line chart each, with the same numbers as a table.
    assert!(
        page.contains("<title id=\"line-title-awareness\">"),
        "{page}"
    );
    for label in [
        "Did not know about the portal",
        "Glitches, errors or lock-outs while enrolling",
    ] {
        assert!(page.contains(&format!("“{label}” per week: share of those asked")));
    }
    assert!(
        page.contains("<td>83% (10 of 12)</td>"),
        "the trend table's cells"
    );
    // Every text of every chart is at least 12 px at the chart's own size, and no chart is
    // wider than a 390 px phone's column (358 px).
    let mut from = 0;
    let mut charts = 0;
    while let Some(start) = page[from..].find("<svg") {
        let start = from + start;
        let end = start + page[start..].find("</svg>").unwrap() + "</svg>".len();
        let doc = roxmltree::Document::parse(&page[start..end]).expect("well-formed SVG");
        let root = doc.root_element();
        let width: f64 = root.attribute("width").unwrap().parse().unwrap();
        assert!(width <= 358.0, "{width}");
        for text in root.descendants().filter(|n| n.has_tag_name("text")) {
            let size: f64 = text.attribute("font-size").unwrap().parse().unwrap();
            assert!(size >= 12.0, "{:?} at {size}", text.text());
        }
        charts += 1;
        from = end;
    }
    assert_eq!(charts, 1 + 3, "the bar chart and three trend charts");
}

/// Without evidence the dashboard lists no disagreement: it says so in one sentence, first
/// with no groups to compare, then with a large gap between five leaders and five patients
/// that could be chance (listed apart with the respondents it would need).
#[actix_web::test]
async fn without_evidence_the_dashboard_says_so_in_one_sentence() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = admin_cookie!(t, app);
    let page = dashboard!(app, cookie);
    assert!(
        page.contains(
            "<p id=\"none-evident\">No disagreement to report yet: at least two groups need 5 \
             or more respondents who were asked about the same barrier.</p>"
        ),
        "{page}"
    );
    assert!(!page.contains("id=\"evident\""));

    // Five leaders blame awareness; three of five patients did not know about the portal.
    let leader = json!({"role": "executive", "patient_barriers": ["dont_know"],
        "who_should": "nurse_ma", "when_best": "check_out", "help_available": "yes"});
    let unaware = json!({"aware": "no", "tried": "no", "why_not": ["didnt_know"],
        "contact_ok": "no"});
    let enrolled = json!({"aware": "yes", "tried": "yes", "enrolled": "yes",
        "what_happened": ["no_problem"], "contact_ok": "no"});
    let groups = json!([
        {"survey": "leadership-enrollment", "count": 5, "answers": leader},
        {"survey": "patient-enrollment", "count": 3, "answers": unaware},
        {"survey": "patient-enrollment", "count": 2, "answers": enrolled},
    ]);
    common::demo_seed::send_responses(&app, &groups).await;
    let page = dashboard!(app, cookie);
    assert!(
        page.contains(
            "<p id=\"none-evident\">No difference between the groups is clear yet: with this \
             many respondents, each could be chance.</p>"
        ),
        "{page}"
    );
    assert!(!page.contains("id=\"evident\""), "{page}");
    // Of two groups of one size, the one that needs fewer grows: more patients at 60% would
    // never do while five leaders at 100% could be as few as 57%; ten leaders at 100% against
    // 3 of 5 patients is evident (statsmodels' newcomb interval: 0.0041 to 0.7693; with nine,
    // -0.0114 to 0.7693).
    assert_eq!(
        list(&page, "too-few"),
        [
            "100% of leadership respondents name “Did not know about the portal”, against 60% of \
          patient respondents, but with 5 leadership respondents asked that could be chance: \
          about 5 more leadership respondents would tell, if the shares held."
        ]
    );
}
