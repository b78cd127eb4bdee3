//! `rules/tests/*.toml`: each case runs the whole pipeline (validation, `show_if`, enabled
//! plugins, then the site's rules) without storing anything and compares what came out.

use super::evaluate::{duplicate_actions, evaluate, Evaluation, Hooks};
use crate::plugins::{RuleOutcome, SiteRules};
use crate::report::{build_report, Tally};
use crate::survey::load::{line_col, locate as locate_in_source, locate_in_file as locate_in_toml};
use crate::survey::{RawAnswer, Site, Survey};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<Case>,
    #[serde(default)]
    review: Vec<ReviewCase>,
}

/// A `[[review]]` case: responses that make a report, and what the `review` hooks return on it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewCase {
    name: String,
    #[serde(default)]
    responses: Vec<ReviewResponses>,
    expect_actions: Option<Vec<toml::Table>>,
}

/// `count` respondents who all gave these answers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewResponses {
    survey: String,
    #[serde(default = "one")]
    count: u64,
    #[serde(default)]
    answers: toml::Table,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    survey: String,
    #[serde(default)]
    answers: toml::Table,
    /// RFC 3339; a fixed instant when omitted so that results do not depend on the clock.
    #[serde(default)]
    submitted_at: Option<String>,
    expect_tags: Option<Vec<String>>,
    /// These tags at least (others may come too): a test that survives new barriers.
    expect_tags_include: Option<Vec<String>>,
    expect_actions: Option<Vec<toml::Table>>,
}

/// The "field" a case's warning is filed under: it is reported, never a failure.
const WARNING: &str = "";

/// The id every rule-test response gets.
const TEST_RESPONSE_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000);
const TEST_SUBMITTED_AT: &str = "2026-01-01T09:00:00.000Z";

/// Outcome of a site's `rules/tests/*.toml` cases.
#[derive(Debug, Default)]
pub struct RuleTestReport {
    pub cases: usize,
    /// `file:line:col: message` per failure; one rule error that breaks several cases is one
    /// line, at its first case, with the number of cases it broke.
    pub problems: Vec<String>,
    /// Warnings that do not fail a case (`file:line:col: case "name": message`), e.g. two
    /// rules creating a task in the same queue for one response; each once, at its first case.
    pub warnings: Vec<String>,
    /// Each distinct rule error: its line in `problems`, where and in which case it was
    /// first seen, and how many cases it broke.
    rule_errors: BTreeMap<String, SeenError>,
}

#[derive(Debug)]
struct SeenError {
    line: usize,
    at: String,
    case: String,
    cases: usize,
}

impl RuleTestReport {
    /// Records a rule error met by a case (`at`: `file:line:col`, `case`: `case "name"`).
    fn rule_error(&mut self, at: &str, case: &str, message: String) {
        if let Some(seen) = self.rule_errors.get_mut(&message) {
            seen.cases += 1;
            self.problems[seen.line] = format!(
                "{}: {message} (broke {} test cases, the first {})",
                seen.at, seen.cases, seen.case
            );
            return;
        }
        self.problems.push(format!("{at}: {case}: {message}"));
        self.rule_errors.insert(
            message,
            SeenError {
                line: self.problems.len() - 1,
                at: at.to_string(),
                case: case.to_string(),
                cases: 1,
            },
        );
    }
}

pub fn run_rule_tests(site: &Site, rules: &SiteRules) -> RuleTestReport {
    let mut report = RuleTestReport::default();
    for file in &site.rule_test_files {
        run_file(site, rules, file, &mut report);
    }
    report
}

fn run_file(site: &Site, rules: &SiteRules, file: &Path, report: &mut RuleTestReport) {
    let source = match std::fs::read_to_string(file) {
        Ok(s) => s,
        Err(e) => {
            report
                .problems
                .push(format!("{}:1:1: cannot read: {e}", file.display()));
            return;
        }
    };
    let (cases, reviews) = match toml::from_str::<CaseFile>(&source) {
        Ok(f) => (f.case, f.review),
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(&source, s.start));
            report.problems.push(format!(
                "{}:{line}:{col}: {}",
                file.display(),
                e.message().trim()
            ));
            return;
        }
    };
    if cases.is_empty() && reviews.is_empty() {
        report
            .problems
            .push(format!("{}:1:1: no [[case]] in this file", file.display()));
    }
    let failures = cases
        .iter()
        .enumerate()
        .map(|(i, case)| ("case", i, &case.name, run_case(site, rules, case)))
        .chain(
            reviews
                .iter()
                .enumerate()
                .map(|(i, case)| ("review", i, &case.name, run_review_case(site, rules, case))),
        );
    for (table, i, name, mut problems) in failures {
        report.cases += 1;
        // A review case meets the same rule error once per group of responses: once is enough.
        let mut seen = std::collections::BTreeSet::new();
        problems.retain(|(field, message)| field.is_some() || seen.insert(message.clone()));
        for (field, message) in problems {
            let path = match field {
                Some(f) if f != WARNING => format!("{table}.{i}.{f}"),
                _ => format!("{table}.{i}"),
            };
            let (line, col) = locate_in_source(&source, &path)
                .map(|o| line_col(&source, o))
                .unwrap_or_else(|| locate_in_toml(file, &format!("{table}.{i}")));
            let at = format!("{}:{line}:{col}", file.display());
            let case = format!("{table} \"{name}\"");
            match field {
                None => report.rule_error(&at, &case, message),
                Some(WARNING) => {
                    if !report.warnings.iter().any(|w| w.ends_with(&message)) {
                        report
                            .warnings
                            .push(format!("{at}: {case}: warning: {message}"));
                    }
                }
                Some(_) => report.problems.push(format!("{at}: {case}: {message}")),
            }
        }
    }
}

/// A review case: each group of responses runs through validation and the `tag` hooks, the
/// report is built from their tags as the server would, then the `review` hooks run on it.
fn run_review_case(
    site: &Site,
    rules: &SiteRules,
    case: &ReviewCase,
) -> Vec<(Option<&'static str>, String)> {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (i, group) in case.responses.iter().enumerate() {
        let Some(survey) = site.survey(&group.survey) else {
            failures.push((
                Some("responses"),
                format!(
                    "responses {}: the site has no survey \"{}\"",
                    i + 1,
                    group.survey
                ),
            ));
            continue;
        };
        let outcome = match evaluated(
            site,
            rules,
            survey,
            &group.answers,
            TEST_SUBMITTED_AT,
            Hooks::TagsOnly,
        ) {
            Ok(e) => e.outcome,
            Err(problems) => {
                failures.push((
                    Some("responses"),
                    format!("responses {}: the answers are rejected: {problems}", i + 1),
                ));
                continue;
            }
        };
        failures.extend(outcome.errors.iter().map(|e| (None, rule_error_text(e))));
        // A code counts once per respondent, however many hooks emitted it.
        let tagged: std::collections::BTreeMap<String, u64> = outcome
            .tags
            .iter()
            .map(|t| (t.code.clone(), group.count))
            .collect();
        tally.add(
            &survey.id,
            survey.version,
            &survey.group,
            group.count,
            &tagged,
        );
    }
    if !failures.is_empty() {
        return failures;
    }
    let report = build_report(site, &tally);
    let outcome = rules.review(&report);
    failures.extend(outcome.errors.iter().map(|e| (None, rule_error_text(e))));
    if let Some(expected) = &case.expect_actions {
        if let Some(message) = compare_actions(expected, &outcome.actions) {
            failures.push((Some("expect_actions"), message));
        }
    }
    failures
}

fn rule_error_text(e: &crate::domain::RuleError) -> String {
    let at = match (e.line, e.col) {
        (Some(l), Some(c)) => format!(" at {l}:{c}"),
        _ => String::new(),
    };
    format!(
        "rule error in {} fn {}{at}: {}",
        e.source, e.hook, e.message
    )
}

/// A case's TOML answers evaluated as a submission would be; the problems joined otherwise.
fn evaluated(
    site: &Site,
    rules: &SiteRules,
    survey: &Survey,
    answers: &toml::Table,
    submitted_at: &str,
    hooks: Hooks,
) -> Result<Evaluation, String> {
    let raw: BTreeMap<String, RawAnswer> = answers
        .iter()
        .map(|(k, v)| (k.clone(), RawAnswer::Json(toml_to_json(v))))
        .collect();
    evaluate(
        site,
        rules,
        survey,
        &raw,
        TEST_RESPONSE_ID,
        submitted_at,
        hooks,
    )
    .map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Each failure of one case as (the field it is about, message).
fn run_case(site: &Site, rules: &SiteRules, case: &Case) -> Vec<(Option<&'static str>, String)> {
    let Some(survey) = site.survey(&case.survey) else {
        return vec![(
            Some("survey"),
            format!("the site has no survey \"{}\"", case.survey),
        )];
    };
    let submitted_at = case.submitted_at.as_deref().unwrap_or(TEST_SUBMITTED_AT);
    let outcome = match evaluated(site, rules, survey, &case.answers, submitted_at, Hooks::All) {
        Ok(e) => e.outcome,
        Err(problems) => {
            return vec![(
                Some("answers"),
                format!("the answers are rejected: {problems}"),
            )];
        }
    };
    let mut failures = Vec::new();
    for e in &outcome.errors {
        failures.push((None, rule_error_text(e)));
    }
    for warning in duplicate_actions(&outcome.actions) {
        failures.push((Some(WARNING), warning));
    }
    if let Some(expected) = &case.expect_tags {
        if let Some(message) = compare_tags(expected, &outcome) {
            failures.push((Some("expect_tags"), message));
        }
    }
    if let Some(expected) = &case.expect_tags_include {
        if let Some(message) = missing_tags(expected, &outcome) {
            failures.push((Some("expect_tags_include"), message));
        }
    }
    if let Some(expected) = &case.expect_actions {
        if let Some(message) = compare_actions(expected, &outcome.actions) {
            failures.push((Some("expect_actions"), message));
        }
    }
    failures
}

fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// The codes the hooks emitted, and those of `expected` among them that are missing.
fn got_and_missing<'a>(
    expected: &'a [String],
    outcome: &'a RuleOutcome,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let got: Vec<&str> = outcome.tags.iter().map(|t| t.code.as_str()).collect();
    let missing = expected
        .iter()
        .map(String::as_str)
        .filter(|e| !got.contains(e))
        .collect();
    (got, missing)
}

fn compare_tags(expected: &[String], outcome: &RuleOutcome) -> Option<String> {
    let (got, missing) = got_and_missing(expected, outcome);
    let unexpected: Vec<String> = outcome
        .tags
        .iter()
        .filter(|t| !expected.contains(&t.code))
        .map(|t| format!("{} (from {})", t.code, t.source))
        .collect();
    if missing.is_empty() && unexpected.is_empty() {
        return None;
    }
    let mut detail = Vec::new();
    if !missing.is_empty() {
        detail.push(format!("missing {}", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        detail.push(format!("unexpected {}", unexpected.join(", ")));
    }
    Some(format!(
        "expected tags [{}], got [{}] ({})",
        expected.join(", "),
        got.join(", "),
        detail.join("; ")
    ))
}

/// `expect_tags_include`: which of these the hooks did not emit.
fn missing_tags(expected: &[String], outcome: &RuleOutcome) -> Option<String> {
    let (got, missing) = got_and_missing(expected, outcome);
    (!missing.is_empty()).then(|| {
        format!(
            "expected tags to include [{}], got [{}] (missing {})",
            expected.join(", "),
            got.join(", "),
            missing.join(", ")
        )
    })
}

/// Each action as the JSON an expectation is compared with: its fields plus `source`.
fn action_json(source: &str, action: &crate::domain::Action) -> Value {
    let mut v = serde_json::to_value(action).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("source".into(), Value::String(source.to_string()));
    }
    v
}

/// Listed keys must match; a listed map (e.g. a webhook `payload`) matches on its listed keys
/// too, anything else must be equal.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|got| matches(v, got))),
        _ => expected == actual,
    }
}

/// One-to-one assignment of expectations to actions (order ignored), by backtracking: the lists
/// are a handful of items long.
fn assign(expected: &[Value], actual: &[Value], used: &mut Vec<bool>) -> bool {
    let Some((first, rest)) = expected.split_first() else {
        return true;
    };
    for (i, a) in actual.iter().enumerate() {
        if !used[i] && matches(first, a) {
            used[i] = true;
            if assign(rest, actual, used) {
                return true;
            }
            used[i] = false;
        }
    }
    false
}

fn compare_actions(
    expected: &[toml::Table],
    actions: &[(String, crate::domain::Action)],
) -> Option<String> {
    let expected: Vec<Value> = expected
        .iter()
        .map(|t| toml_to_json(&toml::Value::Table(t.clone())))
        .collect();
    let actual: Vec<Value> = actions.iter().map(|(s, a)| action_json(s, a)).collect();
    let mut used = vec![false; actual.len()];
    if expected.len() == actual.len() && assign(&expected, &actual, &mut used) {
        return None;
    }
    let show = |list: &[Value]| {
        list.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "expected actions [{}], got [{}]",
        show(&expected),
        show(&actual)
    ))
}
