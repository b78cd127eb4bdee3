//! The report in plain words, from the evidence only: where the groups disagree (evident
//! gaps), where it is too soon to tell, what was mentioned without being asked; and
//! respondents per week.

use super::model::{BarrierRow, Cell, Report};
use super::stats::respondents_needed;
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

/// A difference of shares in percentage points: 0.583 → "58 points".
pub fn points(diff: f64) -> String {
    let p = (diff * 100.0).round() as i64;
    format!("{p} point{}", if p.abs() == 1 { "" } else { "s" })
}

/// "1 patient respondent", "3 patient respondents".
fn respondents(n: u64, group: &str) -> String {
    format!(
        "{n} {} respondent{}",
        group_title(group).to_lowercase(),
        if n == 1 { "" } else { "s" }
    )
}

/// Gaps that are not evident are listed apart from this size on (20 percentage points).
pub const LARGE_GAP: f64 = 0.2;

/// The report in sentences, from the evidence only (docs/report.md "The dashboard's words").
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Findings {
    /// Evident gaps, largest first, each naming both groups and both shares.
    pub evident: Vec<String>,
    /// Large gaps that are not evident, with how many more respondents would tell.
    pub too_few: Vec<String>,
    /// The one sentence when nothing is evident.
    pub none_evident: Option<String>,
    /// Mentions by respondents whose survey did not ask the barrier.
    pub unprompted: Vec<String>,
}

/// "83% of leadership respondents name “…”, against 25% of patient respondents".
fn both_shares(b: &BarrierRow, hi: (&str, f64), lo: (&str, f64)) -> String {
    capitalize(&format!(
        "{} of {} respondents name “{}”, against {} of {} respondents",
        percent(hi.1),
        group_title(hi.0).to_lowercase(),
        b.label,
        percent(lo.1),
        group_title(lo.0).to_lowercase()
    ))
}

/// The sentence of an evident gap.
fn evident_sentence(b: &BarrierRow, hi: (&str, f64), lo: (&str, f64)) -> String {
    let range = b
        .gap_ci
        .map(|[l, h]| format!(" (95% interval {} to {})", (l * 100.0).round(), points(h)))
        .unwrap_or_default();
    format!(
        "{}: a gap of {}{range}.",
        both_shares(b, hi, lo),
        points(hi.1 - lo.1)
    )
}

/// The sentence of a large gap that is not evident: how many more respondents the group with
/// fewer of them asked would need, if both shares held, for the gap to become evident (of two
/// groups of one size, the one that needs fewer).
fn too_few_sentence(b: &BarrierRow, hi: (&str, &Cell), lo: (&str, &Cell)) -> Option<String> {
    let ((hx, hn), (lx, ln)) = (hi.1.counted()?, lo.1.counted()?);
    let (hs, ls) = (hx as f64 / hn as f64, lx as f64 / ln as f64);
    let grow_lo = (lo.0, ln, ls, hn, hs);
    let grow_hi = (hi.0, hn, hs, ln, ls);
    // The smaller group grows; the other stays as it is.
    let candidates = match ln.cmp(&hn) {
        std::cmp::Ordering::Less => vec![grow_lo],
        std::cmp::Ordering::Greater => vec![grow_hi],
        std::cmp::Ordering::Equal => vec![grow_lo, grow_hi],
    };
    let grown = candidates
        .into_iter()
        .map(|(group, n, share, fixed_n, fixed_share)| {
            let needed = respondents_needed(fixed_share, fixed_n, share);
            (group, n, needed)
        })
        .min_by_key(|(_, _, needed)| needed.unwrap_or(u64::MAX));
    let (small, small_n, needed) = grown?;
    let tell = match needed {
        Some(m) if m > small_n => {
            let more = respondents(m - small_n, small);
            format!(
                "about {} would tell, if the shares held",
                more.replacen(' ', " more ", 1)
            )
        }
        _ => "more respondents in both groups are needed to tell".to_string(),
    };
    Some(format!(
        "{}, but with {} asked that could be chance: {tell}.",
        both_shares(b, (hi.0, hs), (lo.0, ls)),
        respondents(small_n, small)
    ))
}

/// The findings of a report: up to `max` evident gaps and `max` large gaps that are not
/// evident, in the report's (gap) order, and every unprompted mention shown.
pub fn findings(report: &Report, max: usize) -> Findings {
    let mut out = Findings::default();
    for b in &report.barriers {
        let Some((hi, lo)) = b.gap_cells() else {
            continue;
        };
        let (Some(hs), Some(ls)) = (hi.1.share(), lo.1.share()) else {
            continue;
        };
        if b.evident {
            if out.evident.len() < max {
                out.evident
                    .push(evident_sentence(b, (hi.0, hs), (lo.0, ls)));
            }
        } else if b.gap.is_some_and(|g| g >= LARGE_GAP) && out.too_few.len() < max {
            out.too_few.extend(too_few_sentence(b, hi, lo));
        }
    }
    if out.evident.is_empty() {
        let any_gap = report.barriers.iter().any(|b| b.gap.is_some());
        out.none_evident = Some(if any_gap {
            "No difference between the groups is clear yet: with this many respondents, each \
             could be chance."
                .to_string()
        } else {
            format!(
                "No disagreement to report yet: at least two groups need {} or more \
                 respondents who were asked about the same barrier.",
                report.min_cell
            )
        });
    }
    for b in &report.barriers {
        for (g, cell) in &b.by_group.0 {
            let n = cell.unprompted();
            if n > 0 {
                out.unprompted.push(format!(
                    "{} mentioned “{}” without being asked.",
                    capitalize(&respondents(n, g)),
                    b.label
                ));
            }
        }
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
#[path = "insight_tests.rs"]
mod tests;
