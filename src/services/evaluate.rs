//! The one evaluation of answers: validation (with `show_if`), then the site's hooks. Used by
//! submission, the dry run, the admin "try it" form and the rule tests, so they can never
//! disagree.

use crate::domain::{Action, Answers};
use crate::plugins::{RuleInput, RuleOutcome, SiteRules};
use crate::survey::{validate, FieldError, RawAnswer, Site, Survey};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The answers as the hooks saw them and what the hooks made of them.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub answers: Answers,
    pub outcome: RuleOutcome,
}

/// Which hooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hooks {
    /// `tag`, then `follow_up`: a submission and its previews.
    All,
    /// Only `tag` (re-tagging never re-triggers follow-ups).
    TagsOnly,
}

/// Validates `raw` against `survey` and runs the site's hooks as response `id` submitted at
/// `submitted_at`; the validation problems (every one, in question order) otherwise.
pub fn evaluate(
    site: &Site,
    rules: &SiteRules,
    survey: &Survey,
    raw: &BTreeMap<String, RawAnswer>,
    id: Uuid,
    submitted_at: &str,
    hooks: Hooks,
) -> Result<Evaluation, Vec<FieldError>> {
    let answers = validate(survey, raw)?;
    let outcome = rules.evaluate(
        &RuleInput {
            id,
            site,
            survey,
            submitted_at,
            answers: &answers,
        },
        hooks == Hooks::All,
    );
    Ok(Evaluation { answers, outcome })
}

/// A warning for each queue (task) or webhook target that actions of two or more plugins or
/// rules go to for one response: a patient would get two front-desk calls, or the help desk
/// two messages. Several actions of one rule are that rule's intent and are not warned about.
pub fn duplicate_actions(actions: &[(String, Action)]) -> Vec<String> {
    let mut by_place: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (source, action) in actions {
        let place = match action {
            Action::Task { queue, .. } => ("task", queue.as_str()),
            Action::Webhook { target, .. } => ("webhook", target.as_str()),
        };
        let sources = by_place.entry(place).or_default();
        if !sources.contains(&source.as_str()) {
            sources.push(source);
        }
    }
    by_place
        .into_iter()
        .filter(|(_, sources)| sources.len() > 1)
        .map(|((kind, place), sources)| {
            let what = match kind {
                "task" => format!("a task in queue \"{place}\""),
                _ => format!("a webhook to \"{place}\""),
            };
            format!(
                "{} each create {what} for this response: it would get {} (make one rule create it, or test in the other that it is not already there)",
                sources.join(" and "),
                sources.len()
            )
        })
        .collect()
}
