//! Layout of the grouped bar chart (one row of bars per barrier, one colour per group, a line
//! across each bar for its 95 % interval). Drawn narrow (350 units wide) so that on a 390 px
//! phone it is shown at its own size or larger and no text falls under 12 px; labels wrap.
//! The template draws it as SVG; everything here is numbers and plain strings, so every text
//! reaches the page through tera's escaping.

use super::insight::{group_title, percent};
use super::model::{Cell, Report};
use serde::Serialize;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
pub const GROUP_COLOURS: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// The smallest text of the charts, in SVG units (= CSS px at the chart's own size).
pub const MIN_FONT: u32 = 12;
pub const WIDTH: u32 = 350;
const LEFT: u32 = 4;
const PLOT_WIDTH: u32 = 270;
const LEGEND_LINE: u32 = 18;
const LABEL_LINE: u32 = 16;
const BAR_HEIGHT: u32 = 12;
const BAR_GAP: u32 = 3;
const ROW_GAP: u32 = 12;
/// Characters of a label line at 13 px in 340 units.
const LABEL_CHARS: usize = 42;

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
    pub y: u32,
    pub text_x: u32,
    pub text_y: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartRow {
    pub lines: Vec<TextLine>,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TextLine {
    pub text: String,
    pub y: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub colour: &'static str,
    /// The 95 % interval as a line across the bar (x from, x to, y); none without a share.
    pub ci: Option<(u32, u32, u32)>,
    /// Text after the bar: the percentage, or why there is none.
    pub value: String,
    pub value_x: u32,
    pub value_y: u32,
    /// The tooltip / accessible name of the bar.
    pub title: String,
}

/// Splits a label into lines of at most `width` characters, at spaces where it can.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && len > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn x_of(share: f64) -> u32 {
    LEFT + (share.clamp(0.0, 1.0) * f64::from(PLOT_WIDTH)).round() as u32
}

/// The bar of the `i`th group at height `y`: its share, or why there is none.
fn bar(i: usize, group: &str, cell: &Cell, y: u32) -> Bar {
    let who = group_title(group);
    let (width, ci, value, title) = match cell {
        Cell::Counted {
            asked,
            count,
            share,
            ci,
            ..
        } => (
            // At least a sliver, so that a 0% bar still shows its group's colour.
            (x_of(*share) - LEFT).max(2),
            Some((x_of(ci[0]), x_of(ci[1]), y + BAR_HEIGHT / 2)),
            percent(*share),
            format!(
                "{who}: {} ({count} of {asked} asked; 95% interval {} to {})",
                percent(*share),
                percent(ci[0]),
                percent(ci[1])
            ),
        ),
        // A sliver in the group's colour says whose row it is.
        Cell::NotAsked { .. } => (
            3,
            None,
            "not asked".to_string(),
            format!("{who}: their survey does not ask about this"),
        ),
        Cell::Suppressed { .. } => (
            3,
            None,
            "too few".to_string(),
            format!("{who}: too few respondents to show"),
        ),
    };
    let end = ci.map_or(LEFT + width, |(_, to, _)| to.max(LEFT + width));
    Bar {
        x: LEFT,
        y,
        width,
        height: BAR_HEIGHT,
        colour: GROUP_COLOURS[i % GROUP_COLOURS.len()],
        ci,
        value,
        value_x: end + 4,
        value_y: y + BAR_HEIGHT - 1,
        title,
    }
}

/// Legend items for the groups, wrapped onto more lines when they do not fit; and the height
/// they take.
pub fn legend(groups: &[&str], top: u32) -> (Vec<LegendItem>, u32) {
    let mut items = Vec::new();
    let (mut x, mut y) = (LEFT, top);
    for (i, g) in groups.iter().enumerate() {
        let label = group_title(g);
        let advance = 16 + 7 * label.chars().count() as u32 + 14;
        if x > LEFT && x + advance > WIDTH {
            x = LEFT;
            y += LEGEND_LINE;
        }
        items.push(LegendItem {
            colour: GROUP_COLOURS[i % GROUP_COLOURS.len()],
            x,
            y,
            text_x: x + 16,
            text_y: y + 11,
            label,
        });
        x += advance;
    }
    (items, y + LEGEND_LINE + 6 - top)
}

/// The chart of the barriers that any group named, in the report's (gap) order.
pub fn layout(report: &Report, site_name: &str) -> Chart {
    let groups: Vec<&str> = report.groups.iter().map(|g| g.group.as_str()).collect();
    let (legend, legend_height) = legend(&groups, 4);
    let mut rows = Vec::new();
    let mut y = 4 + legend_height;
    for b in &report.barriers {
        let named = b
            .by_group
            .0
            .iter()
            .any(|(_, c)| c.counted().is_some_and(|(count, _)| count > 0));
        if !named {
            continue;
        }
        let mut lines = Vec::new();
        for text in wrap(&b.label, LABEL_CHARS) {
            y += LABEL_LINE;
            lines.push(TextLine { text, y: y - 4 });
        }
        let mut bars = Vec::new();
        for (i, (g, cell)) in b.by_group.0.iter().enumerate() {
            bars.push(bar(i, g, cell, y));
            y += BAR_HEIGHT + BAR_GAP;
        }
        rows.push(ChartRow { lines, bars });
        y += ROW_GAP;
    }
    let desc = format!(
        "Grouped horizontal bars: for each barrier, the share of each group's respondents \
         who were asked about it and named it ({}), with a line for its 95% interval, \
         largest disagreement first. The table below has the same numbers.",
        groups
            .iter()
            .map(|g| group_title(g))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Chart {
        width: WIDTH,
        height: y.max(legend_height + 40),
        title: format!("How each group sees each barrier at {site_name}"),
        desc,
        legend,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wrap_at_spaces() {
        let lines = wrap(
            "Portal pitched during a clinical visit: too much at once",
            LABEL_CHARS,
        );
        assert_eq!(
            lines,
            [
                "Portal pitched during a clinical visit:",
                "too much at once"
            ]
        );
        assert!(lines.iter().all(|l| l.chars().count() <= LABEL_CHARS));
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn a_long_legend_wraps_inside_the_width() {
        let groups = ["patient", "provider", "leadership", "front_desk", "billing"];
        let (items, height) = legend(&groups, 4);
        assert!(items
            .iter()
            .all(|i| i.text_x + 7 * i.label.len() as u32 <= WIDTH));
        assert!(items.iter().any(|i| i.y > 4), "a second line");
        assert!(height >= 2 * LEGEND_LINE);
    }
}
