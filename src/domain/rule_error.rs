//! The rule-error index: the rule errors of one response, or of one `review` run, listed
//! newest first on the rules page and by `GET .../rule-errors`.

use super::response::{RuleError, StoredResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// In JSON: `response_id` (the review run's id for a review), `survey`, `group` (both empty
/// for a review), `submitted_at`, `errors`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleErrorEntry {
    #[serde(rename = "response_id")]
    pub id: Uuid,
    #[serde(flatten)]
    pub source: ErrorSource,
    #[serde(rename = "submitted_at")]
    pub at: String,
    pub errors: Vec<RuleError>,
}

/// What failed: the hooks on a response of a survey, or a `review` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SourceFields", into = "SourceFields")]
pub enum ErrorSource {
    Response { survey: String, group: String },
    Review,
}

#[derive(Serialize, Deserialize)]
struct SourceFields {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    group: String,
}

impl From<SourceFields> for ErrorSource {
    fn from(f: SourceFields) -> ErrorSource {
        if f.survey.is_empty() {
            ErrorSource::Review
        } else {
            ErrorSource::Response {
                survey: f.survey,
                group: f.group,
            }
        }
    }
}

impl From<ErrorSource> for SourceFields {
    fn from(s: ErrorSource) -> SourceFields {
        match s {
            ErrorSource::Response { survey, group } => SourceFields { survey, group },
            ErrorSource::Review => SourceFields {
                survey: String::new(),
                group: String::new(),
            },
        }
    }
}

impl RuleErrorEntry {
    pub fn of(response: &StoredResponse) -> RuleErrorEntry {
        RuleErrorEntry {
            id: response.id,
            source: ErrorSource::Response {
                survey: response.survey.clone(),
                group: response.group.clone(),
            },
            at: response.submitted_at.clone(),
            errors: response.rule_errors.clone(),
        }
    }

    /// The response it belongs to, if any.
    pub fn response_id(&self) -> Option<Uuid> {
        match self.source {
            ErrorSource::Response { .. } => Some(self.id),
            ErrorSource::Review => None,
        }
    }
}
