//! Respondents and tagged respondents per survey, survey version and group: what a report is
//! computed from. The version matters because what a survey asks (`asks`) may differ by
//! version.

use crate::survey::Site;
use std::collections::BTreeMap;

/// (survey, survey version, group).
pub type TallyKey = (String, u32, String);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TallyRow {
    pub respondents: u64,
    /// Code → respondents tagged with it.
    pub tagged: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: BTreeMap<TallyKey, TallyRow>,
}

/// One barrier in one group: respondents asked about it, tagged among them, and tagged among
/// those not asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BarrierTally {
    pub asked: u64,
    pub count: u64,
    pub unprompted: u64,
}

impl Tally {
    /// Adds `respondents` of a survey version, `tagged` of them with each code.
    pub fn add(
        &mut self,
        survey: &str,
        version: u32,
        group: &str,
        respondents: u64,
        tagged: &BTreeMap<String, u64>,
    ) {
        let row = self
            .rows
            .entry((survey.to_string(), version, group.to_string()))
            .or_default();
        row.respondents += respondents;
        for (code, n) in tagged {
            *row.tagged.entry(code.clone()).or_default() += n;
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        for ((survey, version, group), row) in &other.rows {
            self.add(survey, *version, group, row.respondents, &row.tagged);
        }
    }

    pub fn respondents_of(&self, group: &str) -> u64 {
        self.rows
            .iter()
            .filter(|((_, _, g), _)| g == group)
            .map(|(_, r)| r.respondents)
            .sum()
    }

    /// A barrier in a group. A survey the site no longer has asked every barrier (what it
    /// asked is not known), as a survey without `asks` does.
    pub fn barrier(&self, site: &Site, group: &str, code: &str) -> BarrierTally {
        let mut out = BarrierTally::default();
        for ((survey, version, g), row) in &self.rows {
            if g != group {
                continue;
            }
            let tagged = row.tagged.get(code).copied().unwrap_or(0);
            let asked = site.survey(survey).is_none_or(|s| s.asked(*version, code));
            if asked {
                out.asked += row.respondents;
                out.count += tagged;
            } else {
                out.unprompted += tagged;
            }
        }
        out
    }
}
