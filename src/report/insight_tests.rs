//! The report's sentences, on reports built from tallies with known counts.

use super::*;
use crate::report::{build_report, Tally};
use crate::survey::{codebook_for, Site, SiteConfig, Survey};
use std::collections::BTreeMap;
use std::sync::Arc;

fn survey(id: &str, group: &str, asks: Option<&[&str]>) -> Arc<Survey> {
    let mut s: Survey = toml::from_str(&format!(
        "id = \"{id}\"\ngroup = \"{group}\"\ntitle = \"T\"\n\
         [[questions]]\nid = \"q\"\nkind = \"yes_no\"\ntext = \"Q?\"\n"
    ))
    .unwrap();
    s.asks = asks.map(|a| a.iter().map(|c| c.to_string()).collect());
    Arc::new(s)
}

fn site() -> Site {
    let config: SiteConfig = toml::from_str(
        "id = \"s\"\nname = \"S\"\ngroups = [\"patient\", \"provider\", \"leadership\"]",
    )
    .unwrap();
    Site {
        codebook: codebook_for(&config),
        config,
        dir: Default::default(),
        surveys: vec![
            survey("p", "patient", Some(&["awareness", "enrollment_technical"])),
            survey("v", "provider", None),
            survey("l", "leadership", None),
        ],
        rule_files: vec![],
        rule_test_files: vec![],
    }
}

/// `n` respondents of a survey, with `tagged` of them per code.
fn add(t: &mut Tally, survey: &str, group: &str, n: u64, tagged: &[(&str, u64)]) {
    let tagged: BTreeMap<String, u64> = tagged.iter().map(|(c, k)| (c.to_string(), *k)).collect();
    t.add(survey, 1, group, n, &tagged);
}

#[test]
fn evident_gaps_name_both_groups_and_both_shares() {
    let site = site();
    let mut t = Tally::default();
    // Leaders blame awareness (10 of 12); patients do not (12 of 48).
    add(
        &mut t,
        "p",
        "patient",
        48,
        &[("awareness", 12), ("wrong_setting", 3)],
    );
    add(&mut t, "l", "leadership", 12, &[("awareness", 10)]);
    add(&mut t, "v", "provider", 3, &[]);
    let f = findings(&build_report(&site, &t), 5);
    assert_eq!(
        f.evident,
        [
            "83% of leadership respondents name “Did not know about the portal”, against 25% of \
          patient respondents: a gap of 58 points (95% interval 27 to 74 points)."
        ]
    );
    assert_eq!(f.none_evident, None);
    // Patients were not asked about the visit; the three who said so are apart.
    assert_eq!(
        f.unprompted,
        [
            "3 patient respondents mentioned “The visit is not the moment to talk about the \
          portal” without being asked."
        ]
    );
}

#[test]
fn large_gaps_that_could_be_chance_say_how_many_more_would_tell() {
    let site = site();
    let mut t = Tally::default();
    add(&mut t, "p", "patient", 40, &[("enrollment_technical", 16)]);
    add(&mut t, "l", "leadership", 5, &[("enrollment_technical", 0)]);
    let report = build_report(&site, &t);
    let b = report
        .barriers
        .iter()
        .find(|b| b.code == "enrollment_technical")
        .unwrap();
    assert!(!b.evident, "{b:?}");
    let f = findings(&report, 5);
    assert!(f.evident.is_empty());
    assert_eq!(
        f.none_evident.as_deref(),
        Some(
            "No difference between the groups is clear yet: with this many respondents, each \
             could be chance."
        )
    );
    let needed = crate::report::stats::respondents_needed(0.4, 40, 0.0).unwrap();
    assert_eq!(
        f.too_few,
        [format!(
            "40% of patient respondents name “Glitches, errors or lock-outs while enrolling”, \
             against 0% of leadership respondents, but with 5 leadership respondents asked \
             that could be chance: about {} more leadership respondents would tell, if the \
             shares held.",
            needed - 5
        )]
    );
}

#[test]
fn without_two_groups_there_is_nothing_to_compare() {
    let site = site();
    let mut t = Tally::default();
    add(&mut t, "p", "patient", 10, &[("awareness", 4)]);
    let f = findings(&build_report(&site, &t), 5);
    assert!(f.evident.is_empty() && f.too_few.is_empty() && f.unprompted.is_empty());
    assert_eq!(
        f.none_evident.as_deref(),
        Some(
            "No disagreement to report yet: at least two groups need 5 or more respondents \
             who were asked about the same barrier."
        )
    );
}

#[test]
fn weeks_are_consecutive_mondays_newest_first() {
    // 2026-03-02 is a Monday: day 20514. 2026-03-18 (Wednesday) is day 20530.
    let groups = vec!["patient".to_string(), "provider".to_string()];
    let mut by_day = BTreeMap::new();
    by_day.insert(20514, BTreeMap::from([("patient".to_string(), 2)]));
    by_day.insert(20520, BTreeMap::from([("provider".to_string(), 1)]));
    by_day.insert(20530, BTreeMap::from([("patient".to_string(), 4)]));
    let weeks = weekly(&by_day, &groups, 12);
    let labels: Vec<&str> = weeks.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(labels, ["2026-03-16", "2026-03-09", "2026-03-02"]);
    assert_eq!(weeks[0].counts, [4, 0]);
    assert_eq!(weeks[1].counts, [0, 0], "an empty week is shown");
    assert_eq!(weeks[2].counts, [2, 1]);
    assert_eq!(weekly(&by_day, &groups, 2).len(), 2);
}
