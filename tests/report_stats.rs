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
