//! Unit tests of the report statistics. The figures below were produced by
//! tests/stats/expected.py (statsmodels 0.15.0); tests/report_stats.rs re-runs that script and
//! compares, so a change on either side shows.

use super::*;

/// `proportion_confint(count, n, method="wilson")`: (count, n, lo, hi).
const WILSON: &[(u64, u64, f64, f64)] = &[
    (0, 1, 0.0, 0.7934506856227627),
    (1, 1, 0.2065493143772374, 1.0),
    (0, 5, 0.0, 0.43448246478317487),
    (5, 5, 0.5655175352168252, 1.0),
    (1, 7, 0.02567962434474355, 0.5131278292743189),
    (6, 7, 0.4868721707256809, 0.9743203756552563),
    (2, 8, 0.071479212752109, 0.5907245696898311),
    (4, 48, 0.032883756818091775, 0.19553301790367283),
    (7, 8, 0.5291118177871466, 0.9775825085499434),
    (21, 28, 0.5664432968100103, 0.8732350508070669),
    (50, 100, 0.4038315303659956, 0.5961684696340044),
    (1, 1000, 0.00017654637062607765, 0.005642558597957937),
    (999, 1000, 0.9943574414020421, 0.9998234536293739),
    (3, 12, 0.08894166839405476, 0.5323053349335658),
    (10, 11, 0.6226415635484044, 0.9837678271141153),
];
/// `confint_proportions_2indep(c1, n1, c2, n2, method="newcomb")`: (c1, n1, c2, n2, lo, hi).
const NEWCOMBE: &[(u64, u64, u64, u64, f64, f64)] = &[
    (6, 7, 0, 8, 0.3648617896887696, 0.9743203756552563),
    (5, 6, 2, 8, 0.060292066588482296, 0.8081284942565853),
    (4, 48, 10, 50, -0.25645855798863826, 0.02565676990056133),
    (0, 10, 0, 10, -0.27753279986288926, 0.27753279986288926),
    (10, 10, 0, 10, 0.6075093504305241, 1.0),
    (1, 7, 1, 8, -0.34734034541356784, 0.40207524794882893),
    (21, 28, 12, 28, 0.06383773274887539, 0.5261589697371509),
    (3, 12, 9, 12, -0.7277708768903111, -0.10075996660667219),
    (50, 100, 60, 100, -0.23212305420266283, 0.03730210321546354),
    (7, 8, 2, 8, 0.1394777379101627, 0.8308952222369572),
    (0, 5, 5, 5, -1.0, -0.38554900569034356),
    (1, 1, 0, 1, -0.12210872068194178, 1.0),
];
/// A linear search with statsmodels' interval: (fixed share, fixed n, other share, size).
const NEEDED: &[(f64, u64, f64, Option<u64>)] = &[
    (0.25, 48, 0.83, Some(3)),
    (0.5, 100, 0.6, Some(1251)),
    (0.1, 200, 0.3, Some(10)),
    (0.83, 12, 0.25, Some(3)),
    (0.4, 10, 0.45, None),
    (0.0, 30, 0.2, Some(5)),
    (1.0, 20, 0.8, Some(21)),
    (0.6, 40, 0.5, None),
    (0.3, 25, 0.3, None),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn wilson_matches_statsmodels() {
    for &(count, n, lo, hi) in WILSON {
        let ci = wilson(count, n).unwrap();
        assert!(close(ci.lo, lo) && close(ci.hi, hi), "{count}/{n}: {ci:?}");
    }
}

#[test]
fn wilson_edges_are_exact() {
    assert_eq!(wilson(0, 0), None);
    assert_eq!(wilson(3, 2), None);
    for n in 1..200 {
        assert_eq!(wilson(0, n).unwrap().lo, 0.0);
        assert_eq!(wilson(n, n).unwrap().hi, 1.0);
        let ci = wilson(n / 3, n).unwrap();
        assert!(
            0.0 <= ci.lo && ci.lo <= ci.hi && ci.hi <= 1.0,
            "{n}: {ci:?}"
        );
    }
    // The cell of issue 14's example: 4 of 48.
    assert_eq!(
        wilson(4, 48).map(|c| [(c.lo * 1e4).round(), (c.hi * 1e4).round()]),
        Some([329.0, 1955.0])
    );
}

#[test]
fn newcombe_matches_statsmodels() {
    for &(c1, n1, c2, n2, lo, hi) in NEWCOMBE {
        let ci = newcombe(c1, n1, c2, n2).unwrap();
        assert!(
            close(ci.lo, lo) && close(ci.hi, hi),
            "{c1}/{n1} − {c2}/{n2}: {ci:?}"
        );
        // Swapping the groups mirrors the interval.
        let swapped = newcombe(c2, n2, c1, n1).unwrap();
        assert!(close(swapped.lo, -hi) && close(swapped.hi, -lo));
    }
    assert_eq!(newcombe(1, 0, 1, 2), None);
    assert_eq!(newcombe(1, 2, 0, 0), None);
}

#[test]
fn respondents_needed_matches_a_linear_search_with_statsmodels() {
    for &(share, n, other, expected) in NEEDED {
        assert_eq!(
            respondents_needed(share, n, other),
            expected,
            "{share} of {n} against {other}"
        );
    }
}

#[test]
fn respondents_needed_is_the_first_size_that_makes_the_gap_evident() {
    // Against a linear search with this module's own interval, on a grid of cases.
    for fixed_n in [5u64, 12, 40] {
        for (a, b) in [(0.9, 0.2), (0.5, 0.1), (0.2, 0.7), (0.05, 0.5), (0.7, 0.4)] {
            let found = respondents_needed(a, fixed_n, b);
            let evident = |m: u64| evident_shares(a, fixed_n as f64, b, m as f64);
            let linear = (1..5000).find(|&m| evident(m));
            assert_eq!(found, linear, "{a} of {fixed_n} against {b}");
            if let Some(m) = found {
                // Once evident, more respondents keep it evident.
                assert!((m..m + 300).all(evident), "{a} {fixed_n} {b}");
            }
        }
    }
    assert_eq!(respondents_needed(0.5, 0, 0.2), None);
    assert_eq!(respondents_needed(0.3, 10, 0.3), None);
    // The other group alone cannot do it when the fixed group's interval covers the gap.
    assert_eq!(respondents_needed(0.5, 4, 0.45), None);
}
