//! Respondents and tagged respondents per group: what a report is computed from.

use std::collections::BTreeMap;

/// Respondents and tagged respondents per group (and per group × code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub respondents: BTreeMap<String, u64>,
    /// (group, code) → respondents of that group tagged with the code.
    pub tagged: BTreeMap<(String, String), u64>,
}

impl Tally {
    /// Adds `respondents` of a group, `tagged` of them with each code.
    pub fn add(&mut self, group: &str, respondents: u64, tagged: &BTreeMap<String, u64>) {
        *self.respondents.entry(group.to_string()).or_default() += respondents;
        for (code, n) in tagged {
            *self
                .tagged
                .entry((group.to_string(), code.clone()))
                .or_default() += n;
        }
    }

    pub fn respondents_of(&self, group: &str) -> u64 {
        self.respondents.get(group).copied().unwrap_or(0)
    }

    pub fn tagged_of(&self, group: &str, code: &str) -> u64 {
        self.tagged
            .get(&(group.to_string(), code.to_string()))
            .copied()
            .unwrap_or(0)
    }

    pub fn merge(&mut self, other: &Tally) {
        for (g, n) in &other.respondents {
            *self.respondents.entry(g.clone()).or_default() += n;
        }
        for (k, n) in &other.tagged {
            *self.tagged.entry(k.clone()).or_default() += n;
        }
    }
}
