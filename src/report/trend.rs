//! The report per week or month (`?interval=`): the same cells for each period, each
//! suppressed on its own, so a site can see whether what it changed worked.

use super::model::{build_report, BarrierRow, GroupRow};
use super::tally::Tally;
use crate::domain::time::{date_of_day, month_start_of_day, next_month_start};
use crate::survey::Site;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// Monday to Sunday, UTC.
    Week,
    /// Calendar months, UTC.
    Month,
}

impl std::str::FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            other => Err(format!("\"{other}\" is not an interval: week or month")),
        }
    }
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The first day of the period `day` is in.
    pub fn start_of(self, day: u64) -> u64 {
        match self {
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days earlier.
            Interval::Week => day.saturating_sub((day + 3) % 7),
            Interval::Month => month_start_of_day(day),
        }
    }

    /// The first day of the next period after the one starting at `start`.
    pub fn next(self, start: u64) -> u64 {
        match self {
            Interval::Week => self.start_of(start + 7),
            Interval::Month => next_month_start(start),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Trend {
    pub interval: Interval,
    /// Oldest first, consecutive from the first period with a response to the last one.
    pub periods: Vec<Period>,
}

/// The schema of a report's optional trend fields (`?interval=`): both or neither.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TrendFields {
    #[schema(required = false)]
    interval: Interval,
    #[schema(required = false)]
    periods: Vec<Period>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Period {
    /// The first day, `YYYY-MM-DD`.
    pub start: String,
    /// The first day after it.
    pub end: String,
    pub groups: Vec<GroupRow>,
    /// In the order of the whole report's barriers.
    pub barriers: Vec<BarrierRow>,
}

/// The periods of the days in `by_day` (day number → tally of that day); barriers in the
/// order of `order` (codes).
pub fn build_trend(
    site: &Site,
    interval: Interval,
    by_day: &BTreeMap<u64, Tally>,
    order: &[String],
) -> Trend {
    let mut per_period: BTreeMap<u64, Tally> = BTreeMap::new();
    for (day, tally) in by_day {
        per_period
            .entry(interval.start_of(*day))
            .or_default()
            .merge(tally);
    }
    let mut periods = Vec::new();
    if let (Some(&first), Some(&last)) = (per_period.keys().next(), per_period.keys().next_back()) {
        let empty = Tally::default();
        let mut start = first;
        while start <= last {
            let end = interval.next(start);
            let mut report = build_report(site, per_period.get(&start).unwrap_or(&empty));
            report.barriers.sort_by_key(|b| {
                order
                    .iter()
                    .position(|c| *c == b.code)
                    .unwrap_or(usize::MAX)
            });
            periods.push(Period {
                start: date_of_day(start),
                end: date_of_day(end),
                groups: report.groups,
                barriers: report.barriers,
            });
            start = end;
        }
    }
    Trend { interval, periods }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-03-02 is a Monday (day 20514); 2026-03-18, a Wednesday, is day 20530.
        assert_eq!(date_of_day(Interval::Week.start_of(20530)), "2026-03-16");
        assert_eq!(Interval::Week.start_of(20514), 20514);
        assert_eq!(Interval::Week.start_of(20520), 20514, "Sunday 8 March");
        assert_eq!(date_of_day(Interval::Month.start_of(20530)), "2026-03-01");
        assert_eq!(date_of_day(Interval::Month.next(20513)), "2026-04-01");
        // The first days of 1970 belong to the week of Monday 29 December 1969, which a day
        // number cannot hold: they start at day 0, and the next week on Monday 5 January.
        assert_eq!(Interval::Week.start_of(0), 0);
        assert_eq!(date_of_day(Interval::Week.next(0)), "1970-01-05");
        assert!("fortnight".parse::<Interval>().is_err());
    }
}
