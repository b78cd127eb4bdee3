//! The rhai layer: the only module that touches rhai.
//!
//! INTERFACE ONLY for now; the engine, sandbox and hooks land with the plugin layer.

use crate::response::{Action, RuleError, Tag};
use crate::survey::{Answers, LoadError, Site, Survey};
use std::path::Path;
use uuid::Uuid;

/// What the hooks see of one response.
pub struct RuleInput<'a> {
    pub id: Uuid,
    pub site: &'a Site,
    pub survey: &'a Survey,
    pub submitted_at: &'a str,
    pub answers: &'a Answers,
}

/// Everything the hooks produced for one response.
#[derive(Debug, Default, Clone)]
pub struct RuleOutcome {
    pub tags: Vec<Tag>,
    /// (source, action) in the order emitted.
    pub actions: Vec<(String, Action)>,
    pub errors: Vec<RuleError>,
}

/// A site's enabled plugins and rules, compiled once per (re)load.
pub struct SiteRules {}

impl SiteRules {
    pub fn compile(_site: &Site, _plugins_dir: &Path) -> Result<SiteRules, Vec<LoadError>> {
        Ok(SiteRules {})
    }

    pub fn evaluate(&self, _input: &RuleInput<'_>) -> RuleOutcome {
        RuleOutcome::default()
    }
}

/// Outcome of a site's `rules/tests/*.toml` cases.
#[derive(Debug, Default)]
pub struct RuleTestReport {
    pub cases: usize,
    /// `file:line:col: message` per failure.
    pub problems: Vec<String>,
}

pub fn run_rule_tests(_site: &Site, _rules: &SiteRules) -> RuleTestReport {
    RuleTestReport::default()
}
