//! The barrier × group comparison (SPEC "Report", docs/report.md) computed from a tally: for
//! each barrier and group, only the respondents whose survey asked the barrier count; a share
//! comes with its Wilson interval, a gap with Newcombe's.

use super::follow_ups::QueueRow;
use super::stats::{newcombe, wilson};
use super::tally::{BarrierTally, Tally};
use super::trend::Trend;
use crate::survey::Site;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Report {
    pub site: String,
    /// Cells with fewer respondents than this are suppressed (SPEC extension: echoed).
    pub min_cell: u32,
    pub groups: Vec<GroupRow>,
    pub barriers: Vec<BarrierRow>,
    /// Respondents per channel per group (SPEC extension; `services::reports` fills it).
    pub channels: Vec<super::channels::ChannelRow>,
    /// What became of the follow-up tasks, per queue (SPEC "Second release").
    pub follow_ups: Vec<QueueRow>,
    /// `interval` and `periods`, when the report was asked `?interval=`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(inline, value_type = super::trend::TrendFields)]
    pub trend: Option<Trend>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct GroupRow {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respondents: Option<u64>,
    #[serde(skip_serializing_if = "is_false")]
    #[schema(required = false)]
    pub suppressed: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One barrier in one group.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    /// Asked of at least `min_cell` respondents: `share` = `count` / `asked`, its 95 % Wilson
    /// interval, and the tags of respondents who were not asked (`unprompted`).
    Counted {
        #[schema(minimum = 1)]
        asked: u64,
        count: u64,
        share: f64,
        ci: [f64; 2],
        unprompted: u64,
    },
    /// The group's surveys did not ask the barrier (`asked` is 0): mentions only.
    NotAsked {
        /// Always 0: what tells this cell from a counted one.
        #[schema(maximum = 0)]
        asked: u64,
        unprompted: u64,
    },
    /// Too few respondents to show anything.
    Suppressed { suppressed: bool },
}

impl Cell {
    /// The cell of a barrier in a group of `respondents`: suppressed when the group or the
    /// respondents asked are fewer than `min_cell`, so no number of a small set shows.
    pub fn of(respondents: u64, t: BarrierTally, min_cell: u64) -> Cell {
        if respondents < min_cell || (t.asked > 0 && t.asked < min_cell) {
            return Cell::Suppressed { suppressed: true };
        }
        if t.asked == 0 {
            return Cell::NotAsked {
                asked: 0,
                unprompted: t.unprompted,
            };
        }
        let ci = wilson(t.count, t.asked).map_or([0.0, 1.0], |i| i.as_array().map(round4));
        Cell::Counted {
            asked: t.asked,
            count: t.count,
            share: round4(t.count as f64 / t.asked as f64),
            ci,
            unprompted: t.unprompted,
        }
    }

    /// The share, for a counted cell.
    pub fn share(&self) -> Option<f64> {
        match self {
            Cell::Counted { share, .. } => Some(*share),
            _ => None,
        }
    }

    /// (count, asked) of a counted cell.
    pub fn counted(&self) -> Option<(u64, u64)> {
        match self {
            Cell::Counted { count, asked, .. } => Some((*count, *asked)),
            _ => None,
        }
    }

    /// Mentions by respondents who were not asked, where the cell shows them.
    pub fn unprompted(&self) -> u64 {
        match self {
            Cell::Counted { unprompted, .. } | Cell::NotAsked { unprompted, .. } => *unprompted,
            Cell::Suppressed { .. } => 0,
        }
    }
}

/// Name → value pairs serialized as a JSON object in their order (a group's cells in the
/// site's group order, a queue's outcomes in its order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// An object of `V`s (the names vary by site).
impl<V: utoipa::ToSchema> utoipa::PartialSchema for Ordered<V> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .additional_properties(Some(V::schema()))
            .into()
    }
}

impl<V: utoipa::ToSchema> utoipa::ToSchema for Ordered<V> {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        V::schemas(schemas);
    }
}

impl<V> Ordered<V> {
    pub fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Group → cell.
pub type ByGroup = Ordered<Cell>;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct BarrierRow {
    pub code: String,
    pub label: String,
    #[schema(inline)]
    pub by_group: ByGroup,
    /// Largest minus smallest share across the groups with a share; `null` when fewer than
    /// two groups have one (there is nothing to compare).
    #[schema(required = true)]
    pub gap: Option<f64>,
    /// The 95 % Newcombe interval of the difference between the two groups that define the
    /// gap (larger share minus smaller); `null` without a gap.
    #[schema(required = true)]
    pub gap_ci: Option<[f64; 2]>,
    /// Those two groups, the larger share first (SPEC extension); `null` without a gap.
    #[schema(required = true)]
    pub gap_groups: Option<[String; 2]>,
    /// The lower bound of `gap_ci` is above 0: the gap is more than chance would make.
    pub evident: bool,
}

/// A group and its cell.
pub type GroupCell<'a> = (&'a str, &'a Cell);

impl BarrierRow {
    /// The two cells that define the gap, larger share first.
    pub fn gap_cells(&self) -> Option<(GroupCell<'_>, GroupCell<'_>)> {
        let [hi, lo] = self.gap_groups.as_ref()?;
        Some((
            (hi.as_str(), self.by_group.get(hi)?),
            (lo.as_str(), self.by_group.get(lo)?),
        ))
    }
}

/// Shares and intervals are rounded to 4 decimal places (the counts are exact).
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The gap of a barrier: between the first group with the largest share and the first other
/// group with the smallest, in the site's group order.
fn with_gap(code: String, label: String, by_group: ByGroup) -> BarrierRow {
    let counted: Vec<(&str, u64, u64)> = by_group
        .0
        .iter()
        .filter_map(|(g, c)| c.counted().map(|(x, n)| (g.as_str(), x, n)))
        .collect();
    let share = |&(_, x, n): &(&str, u64, u64)| x as f64 / n as f64;
    let mut gap = None;
    if counted.len() >= 2 {
        let hi = (0..counted.len())
            .reduce(|a, b| {
                if share(&counted[b]) > share(&counted[a]) {
                    b
                } else {
                    a
                }
            })
            .unwrap_or(0);
        let lo = (0..counted.len())
            .filter(|i| *i != hi)
            .reduce(|a, b| {
                if share(&counted[b]) < share(&counted[a]) {
                    b
                } else {
                    a
                }
            })
            .unwrap_or(0);
        let ((hg, hx, hn), (lg, lx, ln)) = (counted[hi], counted[lo]);
        gap = newcombe(hx, hn, lx, ln).map(|ci| {
            (
                round4(share(&counted[hi]) - share(&counted[lo])),
                ci,
                [hg.to_string(), lg.to_string()],
            )
        });
    }
    BarrierRow {
        code,
        label,
        gap: gap.as_ref().map(|g| g.0),
        gap_ci: gap.as_ref().map(|g| g.1.as_array().map(round4)),
        evident: gap.as_ref().is_some_and(|g| g.1.lo > 0.0),
        gap_groups: gap.map(|g| g.2),
        by_group,
    }
}

/// Builds the report: groups in the site's order, every codebook barrier (default codebook
/// then the site's additions), sorted by gap descending, ties (and `null` gaps, last) in
/// codebook order. No follow-ups and no trend: the report service adds those.
pub fn build_report(site: &Site, tally: &Tally) -> Report {
    let min_cell = u64::from(site.config.min_cell);
    let respondents: Vec<(String, u64)> = site
        .config
        .groups
        .iter()
        .map(|g| (g.clone(), tally.respondents_of(g)))
        .collect();
    let groups = respondents
        .iter()
        .map(|(g, n)| GroupRow {
            group: g.clone(),
            respondents: (*n >= min_cell).then_some(*n),
            suppressed: *n < min_cell,
        })
        .collect();
    let mut barriers: Vec<BarrierRow> = site
        .codebook
        .iter()
        .map(|b| {
            let by_group = Ordered(
                respondents
                    .iter()
                    .map(|(g, n)| {
                        let cell = Cell::of(*n, tally.barrier(site, g, &b.code), min_cell);
                        (g.clone(), cell)
                    })
                    .collect(),
            );
            with_gap(b.code.clone(), b.label.clone(), by_group)
        })
        .collect();
    // A stable sort keeps codebook order among equal gaps.
    barriers.sort_by(|a, b| match (a.gap, b.gap) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Report {
        site: site.id().to_string(),
        min_cell: site.config.min_cell,
        groups,
        barriers,
        channels: Vec::new(),
        follow_ups: Vec::new(),
        trend: None,
    }
}
