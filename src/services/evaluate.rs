//! The one evaluation of answers: validation (with `show_if`), then the site's hooks. Used by
//! submission, the dry run, the admin "try it" form and the rule tests, so they can never
//! disagree.

use crate::domain::Answers;
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
