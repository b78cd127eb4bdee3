//! Waiting-room kiosks (docs/kiosk.md): registering one for a survey, the single-use
//! enrolment that gives a tablet its long-lived cookie, revoking, and recognising a kiosk
//! from its cookie. Only SHA-256 hashes of the enrolment token and of the cookie are stored.

use super::audit::{self, Actor, Event};
use super::{Chorus, ServiceError};
use crate::domain::invitation::{new_token, token_sha256};
use crate::domain::kiosk::{
    Kiosk, DEFAULT_IDLE_S, DEFAULT_RETURN_DELAY_S, IDLE_RANGE_S, MAX_NAME_CHARS,
    RETURN_DELAY_RANGE_S,
};
use crate::domain::time::now_rfc3339;
use crate::survey::{language, Site};
use uuid::Uuid;

/// What an admin asks for; absent settings take their defaults.
#[derive(Debug, Clone, Default)]
pub struct NewKiosk {
    pub name: String,
    pub survey: String,
    pub language: Option<String>,
    pub return_delay_s: Option<u32>,
    pub idle_s: Option<u32>,
}

/// A kiosk just registered, with its enrolment token (shown once, never stored).
pub struct Registered {
    pub kiosk: Kiosk,
    pub enrolment_token: String,
}

fn in_range(field: &str, value: u32, (lo, hi): (u32, u32)) -> Result<u32, ServiceError> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(ServiceError::invalid_body(
            field,
            format!("must be {lo} to {hi} seconds"),
        ))
    }
}

/// Checks a request against the site: the survey exists, the language is one it serves.
fn checked(site: &Site, new: &NewKiosk) -> Result<Kiosk, ServiceError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::invalid_body(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let survey = site
        .survey(new.survey.trim())
        .ok_or_else(|| ServiceError::SurveyNotFound(new.survey.clone()))?;
    let language = match new.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => {
            let served = language::served(site, Some(survey));
            Some(language::find(&served, tag).ok_or(ServiceError::InvalidLanguage(served))?)
        }
    };
    let return_delay = new.return_delay_s.unwrap_or(DEFAULT_RETURN_DELAY_S);
    Ok(Kiosk {
        id: Uuid::now_v7(),
        site: site.id().to_string(),
        survey: survey.id.clone(),
        name: name.to_string(),
        language,
        return_delay_s: in_range("return_delay_s", return_delay, RETURN_DELAY_RANGE_S)?,
        idle_s: in_range("idle_s", new.idle_s.unwrap_or(DEFAULT_IDLE_S), IDLE_RANGE_S)?,
        created_at: now_rfc3339(),
        enrolment_sha256: None,
        cookie_sha256: None,
        enrolled_at: None,
        revoked_at: None,
    })
}

pub async fn register(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &Site,
    new: &NewKiosk,
) -> Result<Registered, ServiceError> {
    let mut kiosk = checked(site, new)?;
    let enrolment_token = new_token();
    kiosk.enrolment_sha256 = token_sha256(&enrolment_token);
    chorus.store.put_kiosk(&kiosk).await?;
    audited(chorus, actor, "kiosk_registered", &kiosk).await?;
    Ok(Registered {
        kiosk,
        enrolment_token,
    })
}

pub async fn list(chorus: &Chorus, site: &str) -> Result<Vec<Kiosk>, ServiceError> {
    Ok(chorus.store.list_kiosks(site).await?)
}

/// The name of a site's kiosk, for the pages that show a kiosk response (`None`: no such kiosk).
pub async fn name_of(
    chorus: &Chorus,
    site: &str,
    id: Uuid,
) -> Result<Option<String>, ServiceError> {
    Ok(chorus.store.kiosk(site, id).await?.map(|k| k.name))
}

pub async fn revoke(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    id: Uuid,
) -> Result<Kiosk, ServiceError> {
    let kiosk = chorus
        .store
        .revoke_kiosk(site, id, &now_rfc3339())
        .await?
        .ok_or_else(|| ServiceError::KioskNotFound(id.to_string()))?;
    audited(chorus, actor, "kiosk_revoked", &kiosk).await?;
    Ok(kiosk)
}

/// Records what happened to a kiosk (its secrets never go into the entry).
async fn audited(
    chorus: &Chorus,
    actor: Actor<'_>,
    action: &'static str,
    kiosk: &Kiosk,
) -> Result<(), ServiceError> {
    let (id, site, survey) = (kiosk.id.to_string(), &kiosk.site, &kiosk.survey);
    let event = Event::Kiosk {
        action,
        site,
        id: &id,
        survey,
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    Ok(())
}

/// The kiosk an unused enrolment token would enrol, if any (the confirmation page).
pub async fn pending_enrolment(
    chorus: &Chorus,
    site: &str,
    token: &str,
) -> Result<Option<Kiosk>, ServiceError> {
    let Some(hash) = token_sha256(token) else {
        return Ok(None);
    };
    let kiosks = chorus.store.list_kiosks(site).await?;
    Ok(kiosks
        .into_iter()
        .find(|k| !k.is_revoked() && k.enrolment_sha256.as_deref() == Some(hash.as_str())))
}

/// Uses an enrolment token up: the kiosk and the value of its new cookie; `None` for a token
/// that is unknown, used or revoked.
pub async fn enrol(chorus: &Chorus, token: &str) -> Result<Option<(Kiosk, String)>, ServiceError> {
    let Some(hash) = token_sha256(token) else {
        return Ok(None);
    };
    let cookie = new_token();
    let cookie_hash = token_sha256(&cookie).expect("a new token is well-formed");
    let enrolled = chorus
        .store
        .enrol_kiosk(&hash, &cookie_hash, &now_rfc3339())
        .await?;
    if let Some(k) = &enrolled {
        audited(chorus, Actor::System, "kiosk_enrolled", k).await?;
    }
    Ok(enrolled.map(|k| (k, cookie)))
}

/// The live kiosk a cookie belongs to, if it is one for this site and survey. Anything else
/// (no cookie, unknown, revoked, another survey) is `None`: the page falls back to the public
/// survey.
pub async fn of_cookie(
    chorus: &Chorus,
    cookie: Option<&str>,
    site: &str,
    survey: &str,
) -> Result<Option<Kiosk>, ServiceError> {
    let Some(hash) = cookie.and_then(token_sha256) else {
        return Ok(None);
    };
    let found = chorus.store.kiosk_by_cookie(&hash).await?;
    Ok(found.filter(|k| !k.is_revoked() && k.site == site && k.survey == survey))
}
