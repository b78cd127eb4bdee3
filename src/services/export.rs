//! Responses as CSV or JSON lines: one layout for `chorus export` and the admin download.

use super::audit::{self, Actor, Event};
use crate::domain::StoredResponse;
use crate::survey::Survey;
use std::sync::Arc;

const FIXED_COLUMNS: [&str; 11] = [
    "id",
    "submitted_at",
    "survey",
    "survey_version",
    "group",
    "language",
    "tags",
    "rule_errors",
    "follow_ups",
    // Empty for a response stored before channels were recorded.
    "channel",
    "kiosk",
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
/// [`super::csv_cell::SafeCsv`], which escapes every one.
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
        r.channel.map(|c| c.to_string()).unwrap_or_default(),
        r.kiosk.map(|k| k.to_string()).unwrap_or_default(),
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

/// Writes every response a query names as CSV (header first), reading the store page by page;
/// the export is audited (who, site, filters, rows).
pub async fn write_csv(
    store: &dyn crate::store::Store,
    actor: Actor<'_>,
    surveys: &[Arc<Survey>],
    mut query: crate::store::ResponseQuery,
    out: &mut dyn std::io::Write,
) -> Result<u64, ExportError> {
    let columns = question_columns(surveys);
    let mut w = super::csv_cell::SafeCsv::new(out);
    w.write_row(header(&columns))?;
    let filters = query.clone();
    query.limit = crate::store::MAX_PAGE;
    let mut n = 0;
    loop {
        let page = store.list_responses(&query).await?;
        for r in &page.items {
            w.write_row(row(r, &columns))?;
            n += 1;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    w.flush().map_err(|e| ExportError::Write(e.to_string()))?;
    audited(store, actor, &filters, "csv", n).await
}

/// Records an export: who, which site, the filters and how many rows.
async fn audited(
    store: &dyn crate::store::Store,
    actor: Actor<'_>,
    query: &crate::store::ResponseQuery,
    format: &str,
    rows: u64,
) -> Result<u64, ExportError> {
    let event = Event::ResponsesExported {
        query,
        format,
        rows,
    };
    audit::record(store, actor, event).await?;
    Ok(rows)
}

/// Writes every response a query names as JSON lines; the export is audited.
pub async fn write_jsonl(
    store: &dyn crate::store::Store,
    actor: Actor<'_>,
    query: crate::store::ResponseQuery,
    out: &mut dyn std::io::Write,
) -> Result<u64, ExportError> {
    write_lines(store, actor, query, "jsonl", out, serde_json::to_vec).await
}

/// Writes every response a query names as NDJSON, one FHIR R4 QuestionnaireResponse a line
/// (the FHIR Bulk Data format), mapped with the site's current definitions; audited.
pub async fn write_fhir(
    store: &dyn crate::store::Store,
    actor: Actor<'_>,
    site: &crate::survey::Site,
    public_base: &str,
    query: crate::store::ResponseQuery,
    out: &mut dyn std::io::Write,
) -> Result<u64, ExportError> {
    write_lines(store, actor, query, "fhir", out, |r| {
        serde_json::to_vec(&crate::fhir::stored_response_resource(site, r, public_base))
    })
    .await
}

/// One JSON line per response a query names, reading the store page by page.
async fn write_lines(
    store: &dyn crate::store::Store,
    actor: Actor<'_>,
    mut query: crate::store::ResponseQuery,
    format: &str,
    out: &mut dyn std::io::Write,
    line: impl Fn(&StoredResponse) -> serde_json::Result<Vec<u8>>,
) -> Result<u64, ExportError> {
    let failed = |e: &dyn std::fmt::Display| ExportError::Write(e.to_string());
    let filters = query.clone();
    query.limit = crate::store::MAX_PAGE;
    let mut n = 0;
    loop {
        let page = store.list_responses(&query).await?;
        for r in &page.items {
            let mut bytes = line(r).map_err(|e| failed(&e))?;
            bytes.push(b'\n');
            out.write_all(&bytes).map_err(|e| failed(&e))?;
            n += 1;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    audited(store, actor, &filters, format, n).await
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot write the export: {0}")]
    Write(String),
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        ExportError::Write(e.to_string())
    }
}
