//! The rhai layer: the only module that touches rhai.
//!
//! A site's enabled plugins and rule files are compiled once per (re)load into `SiteRules`.
//! Every submission runs every `tag` hook (plugins in site order, then rules in file-name order),
//! then every `follow_up` hook with all the tags. Whatever a script does — throw, loop, return
//! the wrong thing — becomes a `RuleError` next to the response, never a lost response.

mod answer_table;
mod compile;
mod compiled;
mod convert;
mod engine;
mod hints;
mod hooks;
mod keywords;
mod review;
mod text;

pub use engine::Limits;
pub use review::{ReviewOutcome, ScriptInfo};

use crate::domain::{Action, RuleError, StoredResponse, Tag};
use crate::survey::{Answers, LoadError, Site, Survey};
use compiled::CompiledRules;
use convert::{ResponseFacts, ResponseValue};
use hooks::Hook;
use std::path::Path;
use std::sync::Arc;
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

fn facts_of(response: &StoredResponse) -> ResponseFacts<'_> {
    ResponseFacts {
        id: response.id,
        site: &response.site,
        survey: &response.survey,
        survey_version: response.survey_version,
        group: &response.group,
        submitted_at: &response.submitted_at,
        answers: &response.answers,
    }
}

/// A site's enabled plugins and rules, compiled once per (re)load (and once more by each
/// thread that runs them, see `compiled`).
pub struct SiteRules {
    loaded: Arc<CompiledRules>,
}

impl SiteRules {
    pub fn compile(site: &Site, plugins_dir: &Path) -> Result<SiteRules, Vec<LoadError>> {
        SiteRules::compile_with_limits(site, plugins_dir, Limits::default())
    }

    pub fn compile_with_limits(
        site: &Site,
        plugins_dir: &Path,
        limits: Limits,
    ) -> Result<SiteRules, Vec<LoadError>> {
        Ok(SiteRules {
            loaded: Arc::new(CompiledRules::compile(site, plugins_dir, limits)?),
        })
    }

    /// This thread's copy of the scripts, to run hooks on.
    fn local(&self) -> Arc<CompiledRules> {
        compiled::local_copy(&self.loaded)
    }

    /// Plugin names and rule files, in the order their hooks run.
    pub fn sources(&self) -> Vec<&str> {
        self.loaded
            .scripts
            .iter()
            .map(|s| s.source.as_str())
            .collect()
    }

    /// Runs every hook on a new response; with `follow_ups` false only the `tag` hooks.
    pub fn evaluate(&self, input: &RuleInput<'_>, follow_ups: bool) -> RuleOutcome {
        let facts = ResponseFacts {
            id: input.id,
            site: input.site.id(),
            survey: &input.survey.id,
            survey_version: input.survey.version,
            group: &input.survey.group,
            submitted_at: input.submitted_at,
            answers: input.answers,
        };
        self.run(&facts, follow_ups)
    }

    /// Re-runs only the `tag` hooks on a stored response (re-tagging never re-triggers
    /// follow-ups).
    pub fn retag(&self, response: &StoredResponse) -> (Vec<Tag>, Vec<RuleError>) {
        let outcome = self.run(&facts_of(response), false);
        (outcome.tags, outcome.errors)
    }

    /// Runs every hook on a stored response as if it were submitted now: what a catch-up of
    /// follow-ups compares with the follow-ups it has.
    pub fn rerun(&self, response: &StoredResponse) -> RuleOutcome {
        self.run(&facts_of(response), true)
    }

    fn run(&self, facts: &ResponseFacts<'_>, follow_ups: bool) -> RuleOutcome {
        // A site with no plugins and no rules: nothing to convert, nothing to run.
        if self.loaded.scripts.is_empty() {
            return RuleOutcome::default();
        }
        let outcome = self.run_hooks(facts, follow_ups);
        text::forget_last_split();
        outcome
    }

    fn run_hooks(&self, facts: &ResponseFacts<'_>, follow_ups: bool) -> RuleOutcome {
        let rules = self.local();
        let runner = rules.runner();
        // The answers become rhai values once per response; every hook shares them.
        let mut response = ResponseValue::new(facts, &rules.texts);
        let mut outcome = RuleOutcome::default();
        for script in rules.scripts.iter().filter(|s| s.tag.is_some()) {
            let value = match runner.call(script, Hook::Tag, response.current()) {
                Ok(v) => v,
                Err(e) => {
                    outcome.errors.push(*e);
                    continue;
                }
            };
            let (codes, mut errors) = runner.tags_of(script, value);
            outcome.errors.append(&mut errors);
            let known = outcome.tags.len();
            for code in codes {
                if !outcome.tags.iter().any(|t| t.code == code.as_str()) {
                    outcome.tags.push(Tag {
                        code: code.to_string(),
                        source: script.source.clone(),
                    });
                }
            }
            if outcome.tags.len() > known {
                response.set_tags(&outcome.tags);
            }
        }
        if !follow_ups {
            return outcome;
        }
        runner.run_action_hook(
            &rules.scripts,
            Hook::FollowUp,
            response.current(),
            &mut outcome.actions,
            &mut outcome.errors,
        );
        outcome
    }
}
