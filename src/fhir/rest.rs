//! The resources of the REST endpoint around Chorus's own (docs/fhir.md, "The endpoint"):
//! OperationOutcome for errors, the searchset Bundle, and the CapabilityStatement that says
//! exactly what the endpoint does.

use super::{FhirBase, Problem};
use serde::Serialize;
use serde_json::{json, Value};

/// The media type of every answer.
pub const FHIR_JSON: &str = "application/fhir+json";

/// `OperationOutcome.issue.code` (R4 value set `issue-type`, required binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueType {
    Invalid,
    Structure,
    Required,
    Value,
    Invariant,
    Security,
    Login,
    Forbidden,
    Processing,
    Conflict,
    NotSupported,
    Duplicate,
    NotFound,
    TooCostly,
    Exception,
    Timeout,
    Transient,
}

#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// Always `error`: Chorus reports only what stopped the request.
    pub severity: &'static str,
    pub code: IssueType,
    pub diagnostics: String,
    /// FHIRPath of the element at fault (an item by its linkId, a search parameter's name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    pub resource_type: &'static str,
    pub issue: Vec<Issue>,
}

impl OperationOutcome {
    pub fn new(issue: Vec<Issue>) -> OperationOutcome {
        OperationOutcome {
            resource_type: "OperationOutcome",
            issue,
        }
    }

    /// One error issue; `expression` names the element at fault, when there is one.
    pub fn error(code: IssueType, diagnostics: String, expression: Option<String>) -> Self {
        OperationOutcome::new(vec![Issue {
            severity: "error",
            code,
            diagnostics,
            expression: expression.into_iter().collect(),
        }])
    }

    /// One issue per problem of a posted QuestionnaireResponse, each item named by linkId.
    pub fn of_problems(problems: &[Problem]) -> OperationOutcome {
        OperationOutcome::new(
            problems
                .iter()
                .map(|p| Issue {
                    severity: "error",
                    code: if p.message.contains("needs an answer") {
                        IssueType::Required
                    } else {
                        IssueType::Invalid
                    },
                    diagnostics: p.to_string(),
                    expression: p
                        .link_id
                        .as_deref()
                        .map(item_expression)
                        .into_iter()
                        .collect(),
                })
                .collect(),
        )
    }
}

/// FHIRPath of the item with this linkId, at any depth of a QuestionnaireResponse.
pub fn item_expression(link_id: &str) -> String {
    format!("QuestionnaireResponse.repeat(item).where(linkId='{link_id}')")
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleLink {
    pub relation: &'static str,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry<T> {
    pub full_url: String,
    pub resource: T,
    pub search: EntrySearch,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntrySearch {
    pub mode: &'static str,
}

/// A `searchset` Bundle: the matches of one page, `self` and (when more match) `next` links.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle<T> {
    pub resource_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Only when every match is in this Bundle (counting a paged listing would read it all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    pub link: Vec<BundleLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry<T>>,
}

/// A searchset of `resource_type` resources, each `(id, resource)`, with its links. `whole`
/// says the page holds every match (the first page, and no `next`): only then is `total` known.
pub fn searchset<T>(
    base: &FhirBase,
    resource_type: &str,
    resources: Vec<(String, T)>,
    self_url: String,
    next_url: Option<String>,
    whole: bool,
) -> Bundle<T> {
    let total = (whole && next_url.is_none()).then_some(resources.len() as u64);
    let mut link = vec![BundleLink {
        relation: "self",
        url: self_url,
    }];
    link.extend(next_url.map(|url| BundleLink {
        relation: "next",
        url,
    }));
    Bundle {
        resource_type: "Bundle",
        kind: "searchset",
        total,
        link,
        entry: resources
            .into_iter()
            .map(|(id, resource)| BundleEntry {
                full_url: format!("{}/{resource_type}/{id}", base.as_str()),
                resource,
                search: EntrySearch { mode: "match" },
            })
            .collect(),
    }
}

/// When this CapabilityStatement last changed (its required `date`).
const CAPABILITIES_CHANGED: &str = "2026-12-01";

fn search_param(name: &str, kind: &str, documentation: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": documentation})
}

/// A resource built as JSON, with `resourceType` written first as FHIR JSON conventionally is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonResource {
    pub resource_type: &'static str,
    #[serde(flatten)]
    pub elements: Value,
}

/// The CapabilityStatement of the endpoint at `base`: exactly the interactions and search
/// parameters it serves, nothing more.
pub fn capability_statement(base: &FhirBase) -> JsonResource {
    let elements = json!({
        "status": "active",
        "date": CAPABILITIES_CHANGED,
        "publisher": "Chorus",
        "kind": "instance",
        "software": {"name": "Chorus", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {
            "description": "Chorus feedback surveys: surveys as Questionnaires, responses as QuestionnaireResponses",
            "url": base.as_str(),
        },
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Questionnaires are public. Reading QuestionnaireResponses takes an API token (Authorization: Bearer) of the response's site; creating one does not, as with the JSON API. Unknown search parameters are refused (400).",
            "security": {
                "cors": false,
                "description": "Authorization: Bearer TOKEN, the token of a Chorus user of the site (any role) or of all sites"
            },
            "resource": [
                {
                    "type": "Questionnaire",
                    "interaction": [{"code": "read"}, {"code": "search-type"}],
                    "versioning": "no-version",
                    "readHistory": false,
                    "searchParam": [
                        search_param("url", "uri", "The canonical URL, exactly, with or without |version"),
                        search_param("version", "token", "The survey version, exactly"),
                        search_param("status", "token", "Always active"),
                    ]
                },
                {
                    "type": "QuestionnaireResponse",
                    "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create"}],
                    "versioning": "no-version",
                    "readHistory": false,
                    "updateCreate": false,
                    "searchParam": [
                        search_param("questionnaire", "reference", "The Questionnaire answered: its canonical URL (with |version to keep one version), Questionnaire/<id> or <id>; required with a token of all sites"),
                        search_param("authored", "date", "When it was submitted; prefixes eq, ge, gt, le, lt, sa, eb; may be repeated"),
                    ]
                }
            ]
        }]
    });
    JsonResource {
        resource_type: "CapabilityStatement",
        elements,
    }
}
