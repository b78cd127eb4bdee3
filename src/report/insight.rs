//! The report in plain words: where the groups disagree most, and respondents per week.

use super::model::{Cell, Report};
use std::collections::BTreeMap;

/// A group id as people read it: "leadership" → "Leadership", "front_desk" → "Front desk".
pub fn group_title(group: &str) -> String {
    let spaced = group.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
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
                percent(hi),
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

/// Day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn day_label(day: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day as i64 * 86_400)
        .map(|t| {
            t.date()
                .format(&time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        })
        .unwrap_or_default()
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
            week: day_label(week.saturating_sub(3)),
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
