//! The stored response record and what the rules attach to it.
//!
//! One record holds the response, its tags, its rule errors and its follow-ups (the actions as
//! the rules returned them); the tasks and deliveries those actions became are records of
//! their own (`task`, `delivery`), since they change after the response is stored.

use super::channel::Channel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A validated answer, in the shape SPEC gives for each question kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    Int(i64),
    Text(String),
    Choices(Vec<String>),
}

impl AnswerValue {
    /// The answer as form-field strings (one per checked option for multi-choice).
    pub fn as_form_values(&self) -> Vec<String> {
        match self {
            AnswerValue::Int(n) => vec![n.to_string()],
            AnswerValue::Text(s) => vec![s.clone()],
            AnswerValue::Choices(v) => v.clone(),
        }
    }
}

/// Question id → validated answer. Questions left unanswered or hidden are absent.
pub type Answers = BTreeMap<String, AnswerValue>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct StoredResponse {
    pub id: Uuid,
    pub site: String,
    pub survey: String,
    pub survey_version: u32,
    pub group: String,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_id: Option<Uuid>,
    /// How it arrived. `None` (JSON `null`) only on responses stored before channels were
    /// recorded: nothing tells how those came in.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// The kiosk it was given on, when `channel` is `kiosk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kiosk: Option<Uuid>,
    pub answers: Answers,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub rule_errors: Vec<RuleError>,
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
}

impl StoredResponse {
    pub fn tag_codes(&self) -> Vec<String> {
        self.tags.iter().map(|t| t.code.clone()).collect()
    }
    pub fn has_tag(&self, code: &str) -> bool {
        self.tags.iter().any(|t| t.code == code)
    }
    /// The distinct codes, each once: a code counts once per respondent.
    pub fn distinct_codes(&self) -> std::collections::BTreeSet<&str> {
        self.tags.iter().map(|t| t.code.as_str()).collect()
    }
}

/// A barrier code with the plugin or rule file that produced it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Tag {
    pub code: String,
    pub source: String,
}

/// A failure of one hook on one response; the response is stored regardless.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RuleError {
    /// Plugin name or rule file (`rules/<name>.rhai`).
    pub source: String,
    pub hook: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub col: Option<usize>,
    pub message: String,
    /// When a re-tag replaced this `tag`-hook error (the hook no longer fails that way): kept
    /// as history, not a current failure. Absent while it is current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Normal,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }
}

/// What a `follow_up` or `review` hook asked for (SPEC "Actions").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Task {
        queue: String,
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_hours: Option<i64>,
        #[serde(default)]
        priority: Priority,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Webhook {
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<serde_json::Value>,
    },
}

/// An action that became a follow-up of a stored response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct FollowUp {
    pub id: Uuid,
    pub source: String,
    /// When a catch-up added it (RFC 3339): its task opened, its webhook was sent, then.
    /// Absent on the follow-ups of the submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}
