//! The report's statistics against statsmodels, live: tests/stats/expected.py computes the
//! Wilson and Newcombe intervals and the respondents needed with the pinned statsmodels, and
//! every figure must match src/report/stats.rs (whose unit tests hold a copy of them).

mod common;

use chorus::report::stats::{newcombe, respondents_needed, wilson};
use serde_json::Value;

fn close(a: f64, b: &Value) -> bool {
    (a - b.as_f64().expect("a number")).abs() < 1e-9
}

#[test]
fn intervals_and_sizes_match_statsmodels() {
    let Some(python) = common::python::venv_python("the statistics check (statsmodels)") else {
        return;
    };
    let out = common::python::run_script(&python, "tests/stats/expected.py", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let int = |v: &Value| v.as_u64().expect("a count");
    let wilson_cases = expected["wilson"].as_array().unwrap();
    for case in wilson_cases {
        let ci = wilson(int(&case[0]), int(&case[1])).unwrap();
        assert!(
            close(ci.lo, &case[2]) && close(ci.hi, &case[3]),
            "{case}: {ci:?}"
        );
    }
    let newcombe_cases = expected["newcombe"].as_array().unwrap();
    for case in newcombe_cases {
        let ci = newcombe(int(&case[0]), int(&case[1]), int(&case[2]), int(&case[3])).unwrap();
        assert!(
            close(ci.lo, &case[4]) && close(ci.hi, &case[5]),
            "{case}: {ci:?}"
        );
    }
    let needed_cases = expected["needed"].as_array().unwrap();
    for case in needed_cases {
        let found = respondents_needed(
            case[0].as_f64().unwrap(),
            int(&case[1]),
            case[2].as_f64().unwrap(),
        );
        assert_eq!(found, case[3].as_u64(), "{case}");
    }
    assert!(wilson_cases.len() >= 10 && newcombe_cases.len() >= 10 && needed_cases.len() >= 5);
}

/// The report endpoint's own figures on the demo seed: every counted cell's `ci` and every
/// gap's `gap_ci` (between the two groups of `gap_groups`), and `evident`, against statsmodels
/// run on the counts the report shows (the report rounds to 4 decimals).
#[actix_web::test]
async fn the_report_endpoint_matches_statsmodels() {
    use actix_web::test;
    let Some(python) = common::python::venv_python("the statistics check (statsmodels)") else {
        return;
    };
    let t = common::demo_state().await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "s", "demo-clinic", chorus::domain::Role::Staff).await;
    common::demo_seed::send(&app, &t.state, &staff).await;
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/report")
        .insert_header(("Authorization", format!("Bearer {staff}")))
        .to_request();
    let report: Value = test::read_body_json(test::call_service(&app, req).await).await;

    let int = |v: &Value| v.as_u64().expect("a count");
    let (mut cells, mut gaps) = (Vec::new(), Vec::new());
    for b in report["barriers"].as_array().unwrap() {
        for cell in b["by_group"].as_object().unwrap().values() {
            if cell.get("ci").is_some() {
                cells.push((int(&cell["count"]), int(&cell["asked"]), cell["ci"].clone()));
            }
        }
        if let Some([hi, lo]) = b["gap_groups"].as_array().map(|g| [&g[0], &g[1]]) {
            let (h, l) = (
                &b["by_group"][hi.as_str().unwrap()],
                &b["by_group"][lo.as_str().unwrap()],
            );
            let counts = [
                int(&h["count"]),
                int(&h["asked"]),
                int(&l["count"]),
                int(&l["asked"]),
            ];
            gaps.push((counts, b["gap_ci"].clone(), b["evident"].clone()));
        }
    }
    assert!(
        cells.len() >= 20 && gaps.len() >= 8,
        "{} cells, {} gaps",
        cells.len(),
        gaps.len()
    );
    let spec = serde_json::json!({
        "wilson": cells.iter().map(|(x, n, _)| [x, n]).collect::<Vec<_>>(),
        "newcombe": gaps.iter().map(|(c, _, _)| c).collect::<Vec<_>>(),
    });
    let arg = spec.to_string();
    let out = common::python::run_script(
        &python,
        "tests/stats/expected.py",
        &["--cases".as_ref(), arg.as_ref()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rounded = |shown: &Value, exact: &Value| {
        (shown.as_f64().unwrap() - exact.as_f64().unwrap()).abs() <= 0.5e-4 + 1e-12
    };
    for ((_, _, ci), e) in cells.iter().zip(expected["wilson"].as_array().unwrap()) {
        assert!(
            rounded(&ci[0], &e[2]) && rounded(&ci[1], &e[3]),
            "{ci} against {e}"
        );
    }
    for ((_, ci, evident), e) in gaps.iter().zip(expected["newcombe"].as_array().unwrap()) {
        assert!(
            rounded(&ci[0], &e[4]) && rounded(&ci[1], &e[5]),
            "{ci} against {e}"
        );
        assert_eq!(
            evident.as_bool().unwrap(),
            e[4].as_f64().unwrap() > 0.0,
            "{e}"
        );
    }
}
