//! The submission pipeline: validate and evaluate on the work pool, then one store call that
//! returns once the response, its follow-ups and its counts are on disk. Shared by the JSON
//! API and the respondent form.

use super::evaluate::{evaluate, Hooks};
use super::{Chorus, ServiceError};
use crate::domain::time::rfc3339_of_id;
use crate::domain::{records_for, Action, Channel, FollowUp, StoredResponse};
use crate::services::sites::SiteRuntime;
use crate::store::{IdempotencyKey, Inserted, InvitationUse, NewResponse};
use crate::survey::{language, RawAnswer, Survey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

pub struct Submission {
    pub site: String,
    pub survey: String,
    pub answers: BTreeMap<String, RawAnswer>,
    /// `submission_id`, `Idempotency-Key` or the form's hidden id.
    pub idempotency_key: Option<Uuid>,
    pub language: Option<String>,
    /// The SHA-256 of the invitation token that admits it, on a personal link. The link is
    /// used up by the same write; the response does not record it.
    pub invitation: Option<String>,
    /// How it arrived, as the route and link it came by say (never a field the client sends).
    pub channel: Channel,
    /// The kiosk that gave the form, on the `kiosk` channel.
    pub kiosk: Option<Uuid>,
}

pub struct Submitted {
    pub response: StoredResponse,
    /// True when the same request had been stored under this key: `response` is the first one.
    pub replayed: bool,
}

/// Hex SHA-256 of a request as received: its survey, its answers and its language, in a
/// canonical JSON form (object keys sorted, no spaces), so the same request always gives the
/// same fingerprint.
pub fn fingerprint(
    survey: &str,
    answers: &BTreeMap<String, RawAnswer>,
    language: Option<&str>,
) -> String {
    let answers: serde_json::Map<String, serde_json::Value> = answers
        .iter()
        .map(|(k, v)| {
            let v = match v {
                RawAnswer::Json(v) => v.clone(),
                RawAnswer::Form(values) => serde_json::json!(values),
            };
            (k.clone(), v)
        })
        .collect();
    let request = serde_json::json!({
        "survey": survey,
        "answers": answers,
        "language": language,
    });
    let mut text = String::new();
    canonical(&request, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Builds the stored record of a submission to a running site: validated answers plus
/// everything the hooks produced; nothing is stored (the fuzz targets call it directly).
pub fn build_response(
    runtime: &SiteRuntime,
    submission: &Submission,
) -> Result<StoredResponse, ServiceError> {
    let survey = runtime
        .site
        .survey(&submission.survey)
        .ok_or_else(|| ServiceError::SurveyNotFound(submission.survey.clone()))?;
    build_record(runtime, survey, submission)
}

fn build_record(
    runtime: &SiteRuntime,
    survey: &Survey,
    submission: &Submission,
) -> Result<StoredResponse, ServiceError> {
    let language = match submission.language.as_deref() {
        None => None,
        Some(tag) => {
            let served = language::served(&runtime.site, None);
            Some(language::find(&served, tag).ok_or(ServiceError::InvalidLanguage(served))?)
        }
    };
    let id = Uuid::now_v7();
    let submitted_at = rfc3339_of_id(id);
    let evaluation = evaluate(
        &runtime.site,
        &runtime.rules,
        survey,
        &submission.answers,
        id,
        &submitted_at,
        Hooks::All,
    )
    .map_err(ServiceError::InvalidAnswers)?;
    let follow_ups = evaluation
        .outcome
        .actions
        .into_iter()
        .map(|(source, action)| FollowUp {
            id: Uuid::now_v7(),
            source,
            added_at: None,
            action,
        })
        .collect();
    Ok(StoredResponse {
        id,
        site: runtime.site.id().to_string(),
        survey: survey.id.clone(),
        survey_version: survey.version,
        group: survey.group.clone(),
        submitted_at,
        language,
        submission_id: submission.idempotency_key,
        channel: Some(submission.channel),
        kiosk: submission.kiosk,
        answers: evaluation.answers,
        tags: evaluation.outcome.tags,
        rule_errors: evaluation.outcome.errors,
        follow_ups,
    })
}

/// Runs the whole pipeline; returns only once the response is on disk.
pub async fn submit(chorus: &Chorus, submission: Submission) -> Result<Submitted, ServiceError> {
    let runtime: Arc<SiteRuntime> = chorus.site(&submission.site)?;
    let survey = runtime
        .site
        .survey(&submission.survey)
        .cloned()
        .ok_or_else(|| ServiceError::SurveyNotFound(submission.survey.clone()))?;
    // Validation and the rules are CPU work: the site's share of the work pool, not the async
    // workers.
    let site_id = submission.site.clone();
    let new = chorus
        .run_for_site(&site_id, move || {
            let idempotency = submission.idempotency_key.map(|key| IdempotencyKey {
                key,
                fingerprint: fingerprint(
                    &submission.survey,
                    &submission.answers,
                    submission.language.as_deref(),
                ),
            });
            let response = build_record(&runtime, &survey, &submission)?;
            Ok::<_, ServiceError>(NewResponse {
                follow_ups: records_for(&response),
                response,
                idempotency,
                invitation: submission.invitation.map(|token_sha256| InvitationUse {
                    token_sha256,
                    now_ms: crate::domain::time::now_ms(),
                }),
            })
        })
        .await??;
    match chorus.store.insert_response(new).await? {
        Inserted::New(response) => {
            chorus
                .metrics
                .response_stored(&response.site, &response.group);
            for e in &response.rule_errors {
                chorus.metrics.rule_error(&response.site, &e.source);
            }
            let webhooks = response
                .follow_ups
                .iter()
                .any(|f| matches!(f.action, Action::Webhook { .. }));
            if webhooks {
                chorus.outbox.notify_one();
            }
            Ok(Submitted {
                response: *response,
                replayed: false,
            })
        }
        Inserted::Replayed(first) => Ok(Submitted {
            response: *first,
            replayed: true,
        }),
        Inserted::KeyReused => Err(ServiceError::IdempotencyKeyReused),
        Inserted::Invitation(problem) => Err(problem.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_canonical() {
        let a: BTreeMap<String, RawAnswer> = [
            (
                "b".to_string(),
                RawAnswer::Json(serde_json::json!({"y": 1, "x": [2, "3"]})),
            ),
            ("a".to_string(), RawAnswer::Form(vec!["yes".into()])),
        ]
        .into_iter()
        .collect();
        let same = fingerprint("s", &a, Some("en"));
        assert_eq!(same, fingerprint("s", &a.clone(), Some("en")));
        assert_ne!(same, fingerprint("t", &a, Some("en")), "another survey");
        assert_ne!(same, fingerprint("s", &a, Some("es")), "another language");
        let mut other = a.clone();
        other.insert("a".into(), RawAnswer::Form(vec!["no".into()]));
        assert_ne!(same, fingerprint("s", &other, Some("en")), "other answers");
        let mut text = String::new();
        canonical(&serde_json::json!({"y": 1, "x": [2, "3"]}), &mut text);
        assert_eq!(text, r#"{"x":[2,"3"],"y":1}"#);
    }
}
