//! One CSV layout for responses, shared by `chorus export` and the admin download.

use crate::response::StoredResponse;
use crate::survey::Survey;
use std::sync::Arc;

const FIXED_COLUMNS: [&str; 9] = [
    "id",
    "submitted_at",
    "survey",
    "survey_version",
    "group",
    "language",
    "tags",
    "rule_errors",
    "follow_ups",
];

/// Answers to questions in no current survey definition, as `id=value | …`, so none is lost.
const OTHER_ANSWERS: &str = "other_answers";

/// Answer columns: every question id of the surveys, in survey and question order.
pub fn question_columns(surveys: &[Arc<Survey>]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for survey in surveys {
        for q in &survey.questions {
            if !columns.contains(&q.id) {
                columns.push(q.id.clone());
            }
        }
    }
    columns
}

pub fn header(columns: &[String]) -> Vec<&str> {
    FIXED_COLUMNS
        .iter()
        .copied()
        .chain(columns.iter().map(String::as_str))
        .chain([OTHER_ANSWERS])
        .collect()
}

/// One row; multi-choice values are joined by `;`. Cells are raw: write them with
/// [`crate::csv_cell::SafeCsv`], which escapes every one.
pub fn row(r: &StoredResponse, columns: &[String]) -> Vec<String> {
    let mut row = vec![
        r.id.to_string(),
        r.submitted_at.clone(),
        r.survey.clone(),
        r.survey_version.to_string(),
        r.group.clone(),
        r.language.clone().unwrap_or_default(),
        r.tag_codes().join(";"),
        r.rule_errors.len().to_string(),
        r.follow_ups.len().to_string(),
    ];
    for c in columns {
        let value = r.answers.get(c).map(|a| a.as_form_values().join(";"));
        row.push(value.unwrap_or_default());
    }
    let other: Vec<String> = r
        .answers
        .iter()
        .filter(|(k, _)| !columns.contains(k))
        .map(|(k, v)| format!("{k}={}", v.as_form_values().join(";")))
        .collect();
    row.push(other.join(" | "));
    row
}
