//! The `review` hook: a script's look at the site's whole report (SPEC extension, see
//! docs/rules.md "The review hook"), and what the rules page shows of each script.

use super::convert;
use super::hooks::Hook;
use super::SiteRules;
use crate::domain::{Action, RuleError};
use crate::report::Report;
use std::path::PathBuf;

/// What the `review` hooks of a site returned for one report.
#[derive(Debug, Default, Clone)]
pub struct ReviewOutcome {
    /// (source, action) in the order emitted.
    pub actions: Vec<(String, Action)>,
    pub errors: Vec<RuleError>,
}

/// One compiled plugin or rule as the rules page shows it.
#[derive(Debug, Clone)]
pub struct ScriptInfo {
    /// Plugin name or `rules/<file>.rhai`.
    pub source: String,
    pub path: PathBuf,
    /// The text of the running version.
    pub text: String,
    /// The hooks it defines, in pipeline order (`tag`, `follow_up`, `review`).
    pub hooks: Vec<&'static str>,
    pub is_plugin: bool,
}

impl SiteRules {
    /// Does any enabled plugin or rule define `fn review`?
    pub fn has_review(&self) -> bool {
        self.loaded.scripts.iter().any(|s| s.review.is_some())
    }

    /// The enabled plugins and the site's rules, in the order their hooks run.
    pub fn scripts(&self) -> Vec<ScriptInfo> {
        self.loaded
            .scripts
            .iter()
            .map(|s| ScriptInfo {
                source: s.source.clone(),
                path: s.path.clone(),
                text: s.text.clone(),
                hooks: [Hook::Tag, Hook::FollowUp, Hook::Review]
                    .into_iter()
                    .filter(|h| s.hook(*h).is_some())
                    .map(Hook::name)
                    .collect(),
                is_plugin: !s.source.starts_with("rules/"),
            })
            .collect()
    }

    /// Runs every `review` hook (plugins in site order, then rules) on a report; actions are
    /// validated like those of `follow_up`, each bad one becomes a rule error.
    pub fn review(&self, report: &Report) -> ReviewOutcome {
        let rules = self.local();
        let runner = rules.runner();
        // The same shape as the report API: serialize once, convert once, copy per hook.
        let report = serde_json::to_value(report)
            .map(|v| convert::from_json(&v))
            .unwrap_or_default();
        let mut outcome = ReviewOutcome::default();
        runner.run_action_hook(
            &rules.scripts,
            Hook::Review,
            report,
            &mut outcome.actions,
            &mut outcome.errors,
        );
        outcome
    }
}
