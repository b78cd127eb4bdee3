//! The FHIR R4 endpoint's work (docs/fhir.md, "The endpoint"): the same surveys, the same
//! scoping and the same submission pipeline as the JSON API, mapped by `crate::fhir`.

use super::submit::{submit, Submission, Submitted};
use super::{paging, Chorus, ServiceError};
use crate::domain::user::ALL_SITES;
use crate::domain::User;
use crate::fhir::search::{split_questionnaire_id, QuestionnaireRef};
use crate::fhir::search::{QuestionnaireSearch, ResponseSearch};
use crate::fhir::{self, Problem, Questionnaire, QuestionnaireResponse};
use crate::store::{Page, ResponseQuery};
use uuid::Uuid;

fn questionnaire_not_found(id: &str) -> ServiceError {
    ServiceError::ResourceNotFound(format!("Questionnaire/{id}"))
}

/// The Questionnaire of `<site>.<survey>`, as the site now defines the survey.
pub fn questionnaire(
    chorus: &Chorus,
    public_base: &str,
    id: &str,
) -> Result<Questionnaire, ServiceError> {
    let (site, survey) = split_questionnaire_id(id).ok_or_else(|| questionnaire_not_found(id))?;
    let runtime = chorus
        .sites
        .get(site)
        .ok_or_else(|| questionnaire_not_found(id))?;
    let survey = runtime
        .site
        .survey(survey)
        .ok_or_else(|| questionnaire_not_found(id))?;
    Ok(fhir::questionnaire(&runtime.site, survey, public_base))
}

/// Every Questionnaire (the surveys of every site, by site and survey order) that matches all
/// the filters given; `url` is the canonical URL, with or without `|version`. Only the current version of a survey is served, always `active`.
pub fn search_questionnaires(
    chorus: &Chorus,
    public_base: &str,
    search: &QuestionnaireSearch,
) -> Vec<Questionnaire> {
    let mut found = Vec::new();
    let mut ids = chorus.sites.ids();
    ids.sort();
    for id in ids {
        let Some(runtime) = chorus.sites.get(&id) else {
            continue;
        };
        for survey in &runtime.site.surveys {
            let q = fhir::questionnaire(&runtime.site, survey, public_base);
            let matches = |filter: &Option<String>, value: Option<&str>| {
                filter.as_deref().is_none_or(|f| Some(f) == value)
            };
            // `url` may carry the version as a canonical does (`url|version`).
            let versioned = format!(
                "{}|{}",
                q.url.as_deref().unwrap_or_default(),
                survey.version
            );
            let url_matches = matches(&search.url, q.url.as_deref())
                || matches(&search.url, Some(versioned.as_str()));
            if url_matches
                && matches(&search.version, q.version.as_deref())
                && matches(&search.status, Some(q.status.as_str()))
            {
                found.push(q);
            }
        }
    }
    found
}

/// A stored response as a QuestionnaireResponse, looked up in the sites `user` may read: a
/// response of another site is not found, whatever its id. The reading is audited.
pub async fn response(
    chorus: &Chorus,
    user: &User,
    public_base: &str,
    id: &str,
) -> Result<QuestionnaireResponse, ServiceError> {
    let not_found = || ServiceError::ResourceNotFound(format!("QuestionnaireResponse/{id}"));
    let uuid = Uuid::parse_str(id).map_err(|_| not_found())?;
    let mut sites = chorus.sites.ids();
    sites.retain(|s| user.can_access(s));
    sites.sort();
    for site in sites {
        let actor = super::audit::Actor::User(&user.name);
        let stored = match super::responses::read(chorus, actor, &site, uuid).await {
            Ok(stored) => stored,
            Err(ServiceError::ResponseNotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let runtime = chorus.site(&site)?;
        return Ok(fhir::stored_response_resource(
            &runtime.site,
            &stored,
            public_base,
        ));
    }
    Err(not_found())
}

/// The site a response search reads: the `questionnaire`'s, else the token's own. A token of
/// every site must name the questionnaire (a search reads one site's responses).
pub fn response_search_site(user: &User, search: &ResponseSearch) -> Result<String, ServiceError> {
    match (&search.questionnaire, user.site.as_str()) {
        (Some(q), _) => Ok(q.site.clone()),
        (None, ALL_SITES) => Err(ServiceError::invalid_query(
            "questionnaire",
            "required with a token of every site: name the Questionnaire whose responses to list",
        )),
        (None, own) => Ok(own.to_string()),
    }
}

/// One page of a site's responses as QuestionnaireResponses, oldest first, through the store's
/// cursor paging (`_count` 1–1000, default 50; `_cursor` the previous page's `next`). With a
/// `|version` on the questionnaire, responses to other versions are left out of each page, so
/// a page may hold fewer than `_count`; `next` still leads on. The listing is audited.
pub async fn search_responses(
    chorus: &Chorus,
    actor: super::audit::Actor<'_>,
    site: &str,
    public_base: &str,
    search: &ResponseSearch,
) -> Result<Page<QuestionnaireResponse>, ServiceError> {
    let limit = paging::limit(search.count).map_err(|_| {
        ServiceError::invalid_query(
            "_count",
            format!("must be between 1 and {}", crate::store::MAX_PAGE),
        )
    })?;
    let query = ResponseQuery {
        site: site.to_string(),
        survey: search.questionnaire.as_ref().map(|q| q.survey.clone()),
        since_ms: search.since_ms,
        until_ms: search.until_ms,
        after: paging::cursor("_cursor", search.cursor.as_deref())?,
        limit,
        ..ResponseQuery::default()
    };
    let page = super::responses::list(chorus, actor, &query).await?;
    let version = search
        .questionnaire
        .as_ref()
        .and_then(|q| q.version.clone());
    let kept: Vec<_> = page
        .items
        .into_iter()
        .filter(|r| {
            version
                .as_deref()
                .is_none_or(|v| v == r.survey_version.to_string())
        })
        .collect();
    let items = match kept.is_empty() {
        true => Vec::new(),
        false => {
            let runtime = chorus.site(site)?;
            kept.iter()
                .map(|r| fhir::stored_response_resource(&runtime.site, r, public_base))
                .collect()
        }
    };
    Ok(Page {
        items,
        next: page.next,
    })
}

/// The idempotency key a QuestionnaireResponse carries itself: an `identifier` that is a
/// `urn:uuid:` (what Chorus writes for a response's submission id).
fn identifier_key(qr: &QuestionnaireResponse) -> Option<Uuid> {
    let value = qr.identifier.as_ref()?.value.as_deref()?;
    Uuid::parse_str(value.strip_prefix("urn:uuid:")?).ok()
}

/// Submits a posted QuestionnaireResponse through the submission pipeline (validation,
/// show_if, tags, follow-ups, idempotency), as a form post or the JSON API would. The key is
/// the `Idempotency-Key` header, else the resource's `urn:uuid:` identifier; it is bound to
/// site, survey and a hash of the answers and language the resource gives (the elements
/// Chorus ignores do not count). Returns the stored response as a QuestionnaireResponse.
pub async fn submit_response(
    chorus: &Chorus,
    public_base: &str,
    qr: QuestionnaireResponse,
    header_key: Option<Uuid>,
) -> Result<(Submitted, QuestionnaireResponse), ServiceError> {
    let refuse = |message: String| ServiceError::InvalidResource(vec![Problem::resource(message)]);
    let canonical = qr.questionnaire.clone().ok_or_else(|| {
        refuse("questionnaire is missing: name the Questionnaire answered by its canonical url|version".into())
    })?;
    let unknown = || {
        refuse(format!(
            "questionnaire \"{canonical}\" is not a Questionnaire of this server"
        ))
    };
    let target = QuestionnaireRef::parse(&canonical).ok_or_else(unknown)?;
    let runtime = chorus.sites.get(&target.site).ok_or_else(unknown)?;
    let survey = runtime
        .site
        .survey(&target.survey)
        .cloned()
        .ok_or_else(unknown)?;
    let idempotency_key = header_key.or_else(|| identifier_key(&qr));
    let language = qr.language.clone();
    let (site, base) = (runtime.clone(), public_base.to_string());
    let answers = chorus
        .run_for_site(&target.site, move || {
            fhir::answers_from_questionnaire_response(&site.site, &survey, &qr, &base)
        })
        .await?
        .map_err(ServiceError::InvalidResource)?;
    let done = submit(
        chorus,
        Submission {
            site: target.site,
            survey: target.survey,
            answers,
            idempotency_key,
            language,
            invitation: None,
            channel: crate::domain::Channel::Fhir,
            kiosk: None,
        },
    )
    .await?;
    let resource = fhir::stored_response_resource(&runtime.site, &done.response, public_base);
    Ok((done, resource))
}
