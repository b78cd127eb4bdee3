//! The submission pipeline: validate, run the site's hooks, store one record, wait until it is
//! durable. Shared by the JSON API and the respondent form.

use crate::app::AppState;
use crate::errors::ApiError;
use crate::followups::records_for;
use crate::plugins::RuleInput;
use crate::response::{FollowUp, StoredResponse};
use crate::sites::SiteRuntime;
use crate::store::Inserted;
use crate::survey::{language, validate, RawAnswer};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

pub struct Submission {
    pub site: String,
    pub survey: String,
    pub answers: BTreeMap<String, RawAnswer>,
    pub submission_id: Option<Uuid>,
    pub language: Option<String>,
}

pub struct Submitted {
    pub response: StoredResponse,
    /// True when this submission id had already been stored: `response` is the first one.
    pub replayed: bool,
}

/// RFC 3339 (UTC, milliseconds) of the instant inside a UUID v7.
pub fn timestamp_of(id: Uuid) -> String {
    let (secs, nanos) = id.get_timestamp().map(|t| t.to_unix()).unwrap_or((0, 0));
    timestamp_of_ms(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
}

/// RFC 3339 (UTC, milliseconds) of milliseconds since the epoch.
pub fn timestamp_of_ms(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// Builds the stored record: validated answers plus everything the hooks produced.
pub fn build_response(
    runtime: &SiteRuntime,
    submission: &Submission,
) -> Result<StoredResponse, ApiError> {
    let survey = runtime
        .site
        .survey(&submission.survey)
        .ok_or_else(|| ApiError::SurveyNotFound(submission.survey.clone()))?;
    let answers = validate(survey, &submission.answers).map_err(ApiError::InvalidAnswers)?;
    let language = match submission.language.as_deref() {
        None => None,
        Some(tag) => {
            let served = language::served(&runtime.site, None);
            Some(language::find(&served, tag).ok_or(ApiError::InvalidLanguage(served))?)
        }
    };
    let id = Uuid::now_v7();
    let submitted_at = timestamp_of(id);
    let outcome = runtime.rules.evaluate(&RuleInput {
        id,
        site: &runtime.site,
        survey,
        submitted_at: &submitted_at,
        answers: &answers,
    });
    let follow_ups = outcome
        .actions
        .into_iter()
        .map(|(source, action)| FollowUp {
            id: Uuid::now_v7(),
            source,
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
        submission_id: submission.submission_id,
        answers,
        tags: outcome.tags,
        rule_errors: outcome.errors,
        follow_ups,
    })
}

/// Runs the whole pipeline; returns only once the response is on disk.
pub async fn submit(state: &AppState, submission: Submission) -> Result<Submitted, ApiError> {
    submit_with(state, submission, None).await
}

/// As `submit`, admitted by an invitation link (the SHA-256 of its token), which is consumed
/// in the same write as the response. The response does not record the link.
pub async fn submit_invited(
    state: &AppState,
    submission: Submission,
    token_sha256: String,
) -> Result<Submitted, ApiError> {
    submit_with(state, submission, Some(token_sha256)).await
}

async fn submit_with(
    state: &AppState,
    submission: Submission,
    invitation: Option<String>,
) -> Result<Submitted, ApiError> {
    let runtime: Arc<SiteRuntime> = state
        .sites
        .get(&submission.site)
        .ok_or_else(|| ApiError::SiteNotFound(submission.site.clone()))?;
    if runtime.site.survey(&submission.survey).is_none() {
        return Err(ApiError::SurveyNotFound(submission.survey.clone()));
    }
    let store = Arc::clone(&state.store);
    // Script evaluation and sled writes block: keep them off the async workers.
    let (response, inserted) = state
        .work
        .run(move || {
            let response = build_response(&runtime, &submission)?;
            let records = records_for(&response);
            let inserted = match &invitation {
                None => store.insert_response(&response, &records)?,
                Some(hash) => store
                    .insert_invited_response(
                        &response,
                        &records,
                        hash,
                        crate::invitations::now_ms(),
                    )
                    .map_err(|e| match e {
                        crate::store::StoreError::Invitation(p) => ApiError::from(p),
                        other => ApiError::Store(other),
                    })?,
            };
            Ok::<_, ApiError>((response, inserted))
        })
        .await
        .ok_or(ApiError::Unavailable)??;
    // Counted as soon as it is stored, so the report agrees with the store even if the flush
    // below fails (the response may then still be on disk).
    if matches!(inserted, Inserted::New) {
        state.report.record(&response);
    }
    state.store.durable().await?;
    Ok(match inserted {
        Inserted::New => {
            state
                .metrics
                .response_stored(&response.site, &response.group);
            for e in &response.rule_errors {
                state.metrics.rule_error(&response.site, &e.source);
            }
            if response
                .follow_ups
                .iter()
                .any(|f| matches!(f.action, crate::response::Action::Webhook { .. }))
            {
                state.outbox.notify_one();
            }
            Submitted {
                response,
                replayed: false,
            }
        }
        Inserted::Duplicate(first) => Submitted {
            response: *first,
            replayed: true,
        },
    })
}
