//! The report in plain words: where the groups disagree most, and respondents per week.

use super::model::{Cell, Report};
use std::collections::BTreeMap;

/// A group id as people read it: "leadership" → "Leadership", "front_desk" → "Front desk".
pub fn group_title(group: &str) -> String {
    capitalize(&group.replace(['_', '-'], " "))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A share as a whole percentage; a small but non-zero share never shows as 0%.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        "under 1%".to_string()
    } else {
        format!("{:.0}%", p)
    }
}

/// "16", "2.5": how many times one share is the other.
fn times(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{:.0}", ratio)
    } else {
        let s = format!("{:.1}", ratio);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

/// Up to `max` sentences, largest gap first, about barriers where the groups that have
/// enough respondents disagree. When the lower group never names the barrier, the sentence
/// says so instead of dividing by zero.
pub fn disagreements(report: &Report, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for b in &report.barriers {
        if out.len() == max {
            break;
        }
        if !b.gap.is_some_and(|g| g > 0.0) {
            continue;
        }
        let counted: Vec<(&str, f64)> = b
            .by_group
            .0
            .iter()
            .filter_map(|(g, c)| match c {
                Cell::Counted { share, .. } => Some((g.as_str(), *share)),
                Cell::Suppressed { .. } => None,
            })
            .collect();
        let Some(&(hi_group, hi)) = counted.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            continue;
        };
        let Some(&(lo_group, lo)) = counted.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
            continue;
        };
        let sentence = if lo > 0.0 {
            format!(
                "{} respondents name “{}” {}× as often as {} respondents ({} vs {}).",
                group_title(hi_group),
                b.label,
                times(hi / lo),
                group_title(lo_group).to_lowercase(),
                percent(hi),
                percent(lo)
            )
        } else {
            format!(
                "{} of {} respondents name “{}”; no {} respondent does.",
                capitalize(&percent(hi)),
                group_title(hi_group).to_lowercase(),
                b.label,
                group_title(lo_group).to_lowercase()
            )
        };
        out.push(sentence);
    }
    out
}

/// Respondents of one week (Monday to Sunday, UTC) per group.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct WeekRow {
    /// The Monday, `YYYY-MM-DD`.
    pub week: String,
    /// In the given group order.
    pub counts: Vec<u64>,
    pub total: u64,
}

/// The last `weeks` consecutive weeks up to the latest one with responses (empty weeks
/// included, none before the first response), newest first.
pub fn weekly(
    by_day: &BTreeMap<u64, BTreeMap<String, u64>>,
    groups: &[String],
    weeks: usize,
) -> Vec<WeekRow> {
    // 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier.
    let monday = |day: u64| (day + 3) / 7 * 7;
    let mut per_week: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (day, counts) in by_day {
        let row = per_week
            .entry(monday(*day))
            .or_insert_with(|| vec![0; groups.len()]);
        for (i, g) in groups.iter().enumerate() {
            row[i] += counts.get(g).copied().unwrap_or(0);
        }
    }
    let (Some(first), Some(last)) = (per_week.keys().next(), per_week.keys().next_back()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut week = *last;
    while out.len() < weeks && week >= *first {
        let counts = per_week
            .get(&week)
            .cloned()
            .unwrap_or_else(|| vec![0; groups.len()]);
        out.push(WeekRow {
            week: crate::domain::time::date_of_day(week.saturating_sub(3)),
            total: counts.iter().sum(),
            counts,
        });
        if week < 7 {
            break;
        }
        week -= 7;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{BarrierRow, ByGroup, GroupRow};

    fn report(cells: Vec<(&str, Cell)>, gap: Option<f64>) -> Report {
        Report {
            site: "s".into(),
            min_cell: 5,
            groups: cells
                .iter()
                .map(|(g, _)| GroupRow {
                    group: g.to_string(),
                    respondents: Some(10),
                    suppressed: false,
                })
                .collect(),
            barriers: vec![BarrierRow {
                code: "awareness".into(),
                label: "Did not know about the portal".into(),
                by_group: ByGroup(cells.into_iter().map(|(g, c)| (g.to_string(), c)).collect()),
                gap,
            }],
            channels: Vec::new(),
        }
    }

    #[test]
    fn ratios_and_zero_shares_in_words() {
        let r = report(
            vec![
                (
                    "patient",
                    Cell::Counted {
                        count: 6,
                        share: 0.05,
                    },
                ),
                (
                    "leadership",
                    Cell::Counted {
                        count: 8,
                        share: 0.8,
                    },
                ),
                ("provider", Cell::Suppressed { suppressed: true }),
            ],
            Some(0.75),
        );
        assert_eq!(
            disagreements(&r, 3),
            ["Leadership respondents name “Did not know about the portal” 16× as often as patient respondents (80% vs 5%)."]
        );
        let r = report(
            vec![
                (
                    "front_desk",
                    Cell::Counted {
                        count: 0,
                        share: 0.0,
                    },
                ),
                (
                    "provider",
                    Cell::Counted {
                        count: 1,
                        share: 0.004,
                    },
                ),
            ],
            Some(0.004),
        );
        assert_eq!(
            disagreements(&r, 3),
            ["Under 1% of provider respondents name “Did not know about the portal”; no front desk respondent does."]
        );
        let agree = report(
            vec![
                (
                    "patient",
                    Cell::Counted {
                        count: 1,
                        share: 0.1,
                    },
                ),
                (
                    "provider",
                    Cell::Counted {
                        count: 1,
                        share: 0.1,
                    },
                ),
            ],
            Some(0.0),
        );
        assert!(
            disagreements(&agree, 3).is_empty(),
            "no gap, nothing to say"
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
}
