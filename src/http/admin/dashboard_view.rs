//! What the dashboard shows of a report: the table cells, the trend charts of the top
//! barriers and the follow-up sentences, as plain values for the template.

use crate::report::follow_up_words::queue_sentence;
use crate::report::insight::{percent, points};
use crate::report::line_chart::{trend_chart, LineChart};
use crate::report::{Cell, Report};
use crate::survey::Site;
use serde::Serialize;

/// How many barriers get a trend chart, and how many periods each shows.
const TREND_BARRIERS: usize = 3;
const TREND_PERIODS: usize = 12;

/// One table row: a barrier with a display cell per group.
#[derive(Serialize)]
pub struct TableRow {
    code: String,
    label: String,
    cells: Vec<TableCell>,
    gap: Option<String>,
    evident: bool,
}

#[derive(Serialize)]
pub struct TableCell {
    /// `counted`, `not_asked` or `suppressed`.
    kind: &'static str,
    /// "7 of 10 (70%)".
    text: String,
    /// The 95 % interval, "40–89%".
    interval: String,
    /// Mentions without being asked, when there are any.
    unprompted: u64,
}

fn table_cell(c: &Cell) -> TableCell {
    match c {
        Cell::Counted {
            asked,
            count,
            share,
            ci,
            unprompted,
        } => TableCell {
            kind: "counted",
            text: format!("{count} of {asked} ({})", percent(*share)),
            interval: format!(
                "{}–{}",
                percent(ci[0]).trim_end_matches('%'),
                percent(ci[1])
            ),
            unprompted: *unprompted,
        },
        Cell::NotAsked { unprompted, .. } => TableCell {
            kind: "not_asked",
            text: "not asked".into(),
            interval: String::new(),
            unprompted: *unprompted,
        },
        Cell::Suppressed { .. } => TableCell {
            kind: "suppressed",
            text: "too few".into(),
            interval: String::new(),
            unprompted: 0,
        },
    }
}

pub fn table_rows(report: &Report) -> Vec<TableRow> {
    report
        .barriers
        .iter()
        .map(|b| TableRow {
            code: b.code.clone(),
            label: b.label.clone(),
            cells: b.by_group.0.iter().map(|(_, c)| table_cell(c)).collect(),
            gap: b.gap.map(points),
            evident: b.evident,
        })
        .collect()
}

#[derive(Serialize)]
pub struct TrendView {
    code: String,
    label: String,
    chart: LineChart,
}

/// Line charts of the first barriers with a gap, in the report's order.
pub fn trend_views(report: &Report, site: &Site) -> Vec<TrendView> {
    let Some(trend) = &report.trend else {
        return Vec::new();
    };
    report
        .barriers
        .iter()
        .filter(|b| b.gap.is_some())
        .take(TREND_BARRIERS)
        .filter_map(|b| {
            let chart = trend_chart(trend, &b.code, &b.label, &site.config.groups, TREND_PERIODS)?;
            Some(TrendView {
                code: b.code.clone(),
                label: b.label.clone(),
                chart,
            })
        })
        .collect()
}

/// One sentence per follow-up queue.
pub fn follow_up_sentences(report: &Report, site: &Site) -> Vec<String> {
    report
        .follow_ups
        .iter()
        .map(|row| queue_sentence(site, row))
        .collect()
}

/// One row of "How the responses arrived": a channel and its respondents per group.
#[derive(Serialize)]
pub struct ChannelLine {
    channel: &'static str,
    /// Per group, in the site's order: the number, or "fewer than N".
    cells: Vec<String>,
}

pub fn channel_lines(report: &Report) -> Vec<ChannelLine> {
    use crate::report::channels::ChannelCell;
    report
        .channels
        .iter()
        .map(|row| ChannelLine {
            channel: row.channel.map_or("not recorded", |c| c.as_str()),
            cells: row
                .by_group
                .0
                .iter()
                .map(|(_, cell)| match cell {
                    ChannelCell::Counted { respondents } => respondents.to_string(),
                    ChannelCell::Suppressed { .. } => format!("fewer than {}", report.min_cell),
                })
                .collect(),
        })
        .collect()
}
