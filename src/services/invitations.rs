//! Invitation links (see `domain::invitation`): issuing them, and checking one before a
//! patient starts answering.

use super::audit::{self, Actor, Event};
use super::{Chorus, ServiceError};
use crate::domain::invitation::{
    check, check_request, new_token, token_sha256, Invitation, Issued,
};
use crate::domain::time::{now_ms, rfc3339_of_ms};

/// Creates `count` links to a survey valid for `expires_in_days`, stored in one batch.
pub async fn issue(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    survey: &str,
    count: u32,
    expires_in_days: u32,
) -> Result<Vec<Issued>, ServiceError> {
    check_request(count, expires_in_days)
        .map_err(|(field, message)| ServiceError::invalid_body(field, message))?;
    let expires_at_ms = now_ms() + i64::from(expires_in_days) * 24 * 3600 * 1000;
    let expires_at = rfc3339_of_ms(expires_at_ms);
    let mut records = Vec::with_capacity(count as usize);
    let mut issued = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let token = new_token();
        let hash = token_sha256(&token).expect("a new token is well-formed");
        records.push((
            hash,
            Invitation {
                site: site.to_string(),
                survey: survey.to_string(),
                expires_at: expires_at.clone(),
                expires_at_ms,
                used: false,
            },
        ));
        issued.push(Issued {
            token,
            expires_at: expires_at.clone(),
        });
    }
    chorus.store.put_invitations(&records).await?;
    let event = Event::InvitationsCreated {
        site,
        survey,
        count: u64::from(count),
        expires_in_days,
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    Ok(issued)
}

/// Whether an invitation token admits a response to this survey now; its hash if it does.
pub async fn check_link(
    chorus: &Chorus,
    site: &str,
    survey: &str,
    token: &str,
) -> Result<String, ServiceError> {
    let hash = token_sha256(token).ok_or(ServiceError::InvitationUnknown)?;
    let found = chorus.store.invitation(&hash).await?;
    check(found.as_ref(), site, survey, now_ms())?;
    Ok(hash)
}
