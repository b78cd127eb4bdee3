//! Survey definitions, exactly as the TOML files spell them (SPEC "Survey files").

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    pub id: String,
    pub group: String,
    pub title: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default = "default_true")]
    pub anonymous: bool,
    pub questions: Vec<Question>,
    /// The barrier codes this version of the survey asks about: the codes its questions can
    /// produce as an answer (SPEC "Survey `asks`", docs/surveys.md). `None` asks every barrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asks: Option<Vec<String>>,
    /// What earlier versions asked, where it differs from `asks`: version (a TOML key, so a
    /// string) → codes. A version not listed asked what `asks` says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub asks_by_version: BTreeMap<String, Vec<String>>,
    /// Translations keyed by language tag (SPEC extension, see docs/surveys.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, SurveyTranslation>,
}

fn default_version() -> u32 {
    1
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    YesNo,
    SingleChoice,
    MultiChoice,
    Scale,
    Number,
    Text,
}

impl QuestionKind {
    pub fn has_options(self) -> bool {
        matches!(self, QuestionKind::SingleChoice | QuestionKind::MultiChoice)
    }
    pub fn is_integer(self) -> bool {
        matches!(self, QuestionKind::Scale | QuestionKind::Number)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// Default cap on free text when a survey sets no `max_length`.
pub const DEFAULT_TEXT_MAX_LENGTH: usize = 2000;
/// Widest scale the form can render as a row of radio buttons.
pub const MAX_SCALE_POINTS: i64 = 11;

impl Question {
    pub fn option(&self, value: &str) -> Option<&ChoiceOption> {
        self.options.iter().find(|o| o.value == value)
    }
    pub fn text_max_length(&self) -> usize {
        self.max_length.unwrap_or(DEFAULT_TEXT_MAX_LENGTH)
    }
    /// Inclusive bounds of a scale, defaulting to 1..=5.
    pub fn scale_bounds(&self) -> (i64, i64) {
        (self.min.unwrap_or(1), self.max.unwrap_or(5))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// A literal a `show_if` compares against: an option value, "yes"/"no", or an integer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Literal {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Literal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<Literal>>,
}

/// Texts of a survey in one more language; anything left out falls back to the original.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyTranslation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub questions: BTreeMap<String, QuestionTranslation>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionTranslation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
    /// Option value → translated label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl Survey {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The codes a response of `version` was asked about; `None` when it was asked every one.
    /// An earlier version listed in `asks_by_version` asked what it lists; any other version
    /// asked what `asks` says.
    pub fn asks_at(&self, version: u32) -> Option<&[String]> {
        if version != self.version {
            if let Some(codes) = self.asks_by_version.get(&version.to_string()) {
                return Some(codes);
            }
        }
        self.asks.as_deref()
    }

    /// Did a response of `version` ask about `code`?
    pub fn asked(&self, version: u32, code: &str) -> bool {
        self.asks_at(version)
            .is_none_or(|codes| codes.iter().any(|c| c == code))
    }
}
