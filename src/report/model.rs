//! The barrier × group comparison (SPEC "Report") computed from a tally.

use super::tally::Tally;
use crate::survey::Site;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub site: String,
    /// Groups with fewer respondents than this are suppressed (SPEC extension: echoed).
    pub min_cell: u32,
    pub groups: Vec<GroupRow>,
    pub barriers: Vec<BarrierRow>,
    /// Respondents per channel per group (SPEC extension; `services::reports` fills it).
    pub channels: Vec<super::channels::ChannelRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRow {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respondents: Option<u64>,
    #[serde(skip_serializing_if = "is_false")]
    pub suppressed: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Cell {
    Counted { count: u64, share: f64 },
    Suppressed { suppressed: bool },
}

impl Cell {
    pub fn share(&self) -> Option<f64> {
        match self {
            Cell::Counted { share, .. } => Some(*share),
            Cell::Suppressed { .. } => None,
        }
    }
}

/// Group → cell, serialized as a JSON object in the site's group order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ByGroup(pub Vec<(String, Cell)>);

impl Serialize for ByGroup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (group, cell) in &self.0 {
            map.serialize_entry(group, cell)?;
        }
        map.end()
    }
}

impl ByGroup {
    pub fn get(&self, group: &str) -> Option<&Cell> {
        self.0.iter().find(|(g, _)| g == group).map(|(_, c)| c)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BarrierRow {
    pub code: String,
    pub label: String,
    pub by_group: ByGroup,
    /// Largest minus smallest share across the groups that are not suppressed; `null` when
    /// fewer than two groups have enough respondents (there is nothing to compare).
    pub gap: Option<f64>,
}

/// Shares and gaps are rounded to 4 decimal places (the counts are exact).
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Builds the report: groups in the site's order, every codebook barrier (default codebook
/// then the site's additions), sorted by gap descending, ties (and `null` gaps, last) in
/// codebook order.
pub fn build_report(site: &Site, tally: &Tally) -> Report {
    let min_cell = u64::from(site.config.min_cell);
    let groups: Vec<GroupRow> = site
        .config
        .groups
        .iter()
        .map(|g| {
            let n = tally.respondents_of(g);
            let suppressed = n < min_cell;
            GroupRow {
                group: g.clone(),
                respondents: (!suppressed).then_some(n),
                suppressed,
            }
        })
        .collect();
    let mut barriers: Vec<BarrierRow> = site
        .codebook
        .iter()
        .map(|b| {
            let by_group = ByGroup(
                groups
                    .iter()
                    .map(|g| {
                        let cell = match g.respondents {
                            None => Cell::Suppressed { suppressed: true },
                            Some(n) => {
                                let count = tally.tagged_of(&g.group, &b.code);
                                Cell::Counted {
                                    count,
                                    share: round4(count as f64 / n as f64),
                                }
                            }
                        };
                        (g.group.clone(), cell)
                    })
                    .collect(),
            );
            let shares: Vec<f64> = by_group.0.iter().filter_map(|(_, c)| c.share()).collect();
            let gap = (shares.len() >= 2).then(|| {
                let max = shares.iter().copied().fold(f64::MIN, f64::max);
                let min = shares.iter().copied().fold(f64::MAX, f64::min);
                round4(max - min)
            });
            BarrierRow {
                code: b.code.clone(),
                label: b.label.clone(),
                by_group,
                gap,
            }
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
    }
}
