//! Layout of a trend: one small line chart per barrier, each group's share per period (a
//! break where a period has no share), with the same numbers as a table for its text
//! alternative. 350 units wide like the bar chart, text at 12 units or more.

use super::chart::{legend, LegendItem, GROUP_COLOURS, WIDTH};
use super::insight::{group_title, percent};
use super::model::Cell;
use super::trend::{Interval, Trend};
use serde::Serialize;

const LEFT: u32 = 40;
const RIGHT: u32 = 24;
const PLOT_HEIGHT: u32 = 110;
const AXIS_HEIGHT: u32 = 24;
/// At most this many period labels under the axis.
const MAX_X_LABELS: usize = 5;
/// Dash patterns per group, so the lines differ without colour too.
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

#[derive(Debug, Clone, Serialize)]
pub struct LineChart {
    pub width: u32,
    pub height: u32,
    pub title: String,
    pub desc: String,
    pub legend: Vec<LegendItem>,
    /// The plot area: left, top, right, bottom.
    pub plot: [u32; 4],
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub series: Vec<Series>,
    /// The text alternative: one row per period.
    pub rows: Vec<TrendRow>,
    /// The group titles, the table's columns.
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub x: u32,
    pub y: u32,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub colour: &'static str,
    pub dash: &'static str,
    /// `points` attributes of the polylines (a share missing in a period breaks the line).
    pub lines: Vec<String>,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub x: u32,
    pub y: u32,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub period: String,
    pub cells: Vec<String>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "2026-03-02" → "2 Mar" (a week) or "Mar 2026" (a month).
fn period_label(interval: Interval, start: &str) -> String {
    let mut parts = start.split('-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    let month = m
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("?");
    match interval {
        Interval::Week => format!(
            "{} {month}",
            d.and_then(|d| d.parse::<u32>().ok()).unwrap_or(0)
        ),
        Interval::Month => format!("{month} {}", y.unwrap_or("")),
    }
}

fn cell_text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Counted {
            asked,
            count,
            share,
            ..
        }) => format!("{} ({count} of {asked})", percent(*share)),
        Some(Cell::NotAsked { .. }) => "not asked".into(),
        _ => "too few".into(),
    }
}

/// The chart of one barrier over the last `max_periods` periods of a trend; `None` when the
/// trend has no period.
pub fn trend_chart(
    trend: &Trend,
    code: &str,
    label: &str,
    groups: &[String],
    max_periods: usize,
) -> Option<LineChart> {
    let periods = &trend.periods[trend.periods.len().saturating_sub(max_periods)..];
    if periods.is_empty() {
        return None;
    }
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    let (legend, legend_height) = legend(&names, 4);
    let top = 4 + legend_height + 6;
    let (right, bottom) = (WIDTH - RIGHT, top + PLOT_HEIGHT);
    let n = periods.len();
    let x_of = |i: usize| {
        if n == 1 {
            (LEFT + right) / 2
        } else {
            LEFT + ((right - LEFT) as usize * i / (n - 1)) as u32
        }
    };
    let y_of =
        |share: f64| bottom - (share.clamp(0.0, 1.0) * f64::from(PLOT_HEIGHT)).round() as u32;
    let cells = |i: usize, g: &str| {
        periods[i]
            .barriers
            .iter()
            .find(|b| b.code == code)
            .and_then(|b| b.by_group.get(g))
            .copied()
    };
    let step = n.div_ceil(MAX_X_LABELS);
    let x_ticks = (0..n)
        .filter(|i| (n - 1 - i).is_multiple_of(step))
        .map(|i| Tick {
            x: x_of(i),
            y: bottom + 17,
            label: period_label(trend.interval, &periods[i].start),
        })
        .collect();
    let y_ticks = [0.0, 0.5, 1.0]
        .iter()
        .map(|s| Tick {
            x: LEFT - 6,
            y: y_of(*s) + 4,
            label: percent(*s),
        })
        .collect();
    let mut series = Vec::new();
    for (gi, g) in names.iter().enumerate() {
        let (mut lines, mut points, mut run) = (Vec::new(), Vec::new(), Vec::new());
        for (i, period) in periods.iter().enumerate() {
            match cells(i, g).and_then(|c| c.share()) {
                Some(share) => {
                    let (x, y) = (x_of(i), y_of(share));
                    run.push(format!("{x},{y}"));
                    points.push(Point {
                        x,
                        y,
                        title: format!(
                            "{}, {}: {}",
                            group_title(g),
                            period_label(trend.interval, &period.start),
                            cell_text(cells(i, g).as_ref())
                        ),
                    });
                }
                None if !run.is_empty() => lines.push(std::mem::take(&mut run).join(" ")),
                None => {}
            }
        }
        if !run.is_empty() {
            lines.push(run.join(" "));
        }
        series.push(Series {
            colour: GROUP_COLOURS[gi % GROUP_COLOURS.len()],
            dash: DASHES[gi % DASHES.len()],
            lines,
            points,
        });
    }
    let rows = (0..n)
        .map(|i| TrendRow {
            period: periods[i].start.clone(),
            cells: names
                .iter()
                .map(|g| cell_text(cells(i, g).as_ref()))
                .collect(),
        })
        .collect();
    let per = trend.interval.as_str();
    Some(LineChart {
        width: WIDTH,
        height: bottom + AXIS_HEIGHT,
        title: format!("“{label}”: share of each group per {per}"),
        desc: format!(
            "Lines: for each group, the share of its respondents asked about “{label}” who \
             named it, per {per}, oldest first; a gap in a line is a {per} with too few \
             respondents or none asked. The table after the chart has the same numbers."
        ),
        legend,
        plot: [LEFT, top, right, bottom],
        y_ticks,
        x_ticks,
        series,
        rows,
        columns: names.iter().map(|g| group_title(g)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_people_write_them() {
        assert_eq!(period_label(Interval::Week, "2026-03-02"), "2 Mar");
        assert_eq!(period_label(Interval::Month, "2026-12-01"), "Dec 2026");
    }
}
