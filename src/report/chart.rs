//! Layout of the grouped bar chart (one row of bars per barrier, one colour per group).
//! The template draws it as SVG; everything here is numbers and plain strings, so every
//! text reaches the page through tera's escaping.

use super::insight::{group_title, percent};
use super::model::{Cell, Report};
use serde::Serialize;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub const GROUP_COLOURS: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

const WIDTH: u32 = 640;
const LEFT: u32 = 8;
const PLOT_WIDTH: u32 = 520;
const LEGEND_HEIGHT: u32 = 28;
const LABEL_HEIGHT: u32 = 18;
const BAR_HEIGHT: u32 = 12;
const BAR_GAP: u32 = 3;
const ROW_GAP: u32 = 14;

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub title: String,
    pub desc: String,
    pub legend: Vec<LegendItem>,
    pub rows: Vec<ChartRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegendItem {
    pub label: String,
    pub colour: &'static str,
    pub x: u32,
    pub text_x: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartRow {
    pub label: String,
    pub label_y: u32,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub colour: &'static str,
    /// Text after the bar: the percentage, or why there is none.
    pub value: String,
    pub value_x: u32,
    pub value_y: u32,
    /// The tooltip / accessible name of the bar.
    pub title: String,
}

/// The bar of the `i`th group at height `y`: its share, or why there is none.
fn bar(i: usize, group: &str, cell: &Cell, y: u32) -> Bar {
    let (width, value, title) = match cell {
        Cell::Counted { count, share } => {
            let w = (share * f64::from(PLOT_WIDTH)).round() as u32;
            (
                w,
                percent(*share),
                format!(
                    "{}: {} ({count} respondent{})",
                    group_title(group),
                    percent(*share),
                    if *count == 1 { "" } else { "s" }
                ),
            )
        }
        Cell::Suppressed { .. } => (
            0,
            "too few respondents".to_string(),
            format!("{}: too few respondents to show", group_title(group)),
        ),
    };
    Bar {
        x: LEFT,
        y,
        width,
        height: BAR_HEIGHT,
        colour: GROUP_COLOURS[i % GROUP_COLOURS.len()],
        value,
        value_x: LEFT + width + 4,
        value_y: y + BAR_HEIGHT - 2,
        title,
    }
}

/// The chart of the barriers that any group named, in the report's (gap) order.
pub fn layout(report: &Report, site_name: &str) -> Chart {
    let groups: Vec<&str> = report.groups.iter().map(|g| g.group.as_str()).collect();
    let mut legend = Vec::new();
    let mut x = LEFT;
    for (i, g) in groups.iter().enumerate() {
        let label = group_title(g);
        legend.push(LegendItem {
            colour: GROUP_COLOURS[i % GROUP_COLOURS.len()],
            x,
            text_x: x + 16,
            label: label.clone(),
        });
        x += 16 + 8 * label.chars().count() as u32 + 16;
    }
    let mut rows = Vec::new();
    let mut y = LEGEND_HEIGHT;
    for b in &report.barriers {
        let named = b
            .by_group
            .0
            .iter()
            .any(|(_, c)| matches!(c, Cell::Counted { count, .. } if *count > 0));
        if !named {
            continue;
        }
        let label_y = y + LABEL_HEIGHT - 5;
        let mut bar_y = y + LABEL_HEIGHT;
        let mut bars = Vec::new();
        for (i, (g, cell)) in b.by_group.0.iter().enumerate() {
            bars.push(bar(i, g, cell, bar_y));
            bar_y += BAR_HEIGHT + BAR_GAP;
        }
        rows.push(ChartRow {
            label: b.label.clone(),
            label_y,
            bars,
        });
        y = bar_y + ROW_GAP;
    }
    let desc = format!(
        "Grouped horizontal bars: for each barrier, the share of each group's respondents \
         who named it ({}), largest disagreement first. The table below has the same numbers.",
        groups
            .iter()
            .map(|g| group_title(g))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Chart {
        width: WIDTH,
        height: y.max(LEGEND_HEIGHT + 20),
        title: format!("How each group sees each barrier at {site_name}"),
        desc,
        legend,
        rows,
    }
}
