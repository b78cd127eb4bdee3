//! Invitation links: single-use survey links a clinic hands to one patient
//! (`/s/{site}/{survey}?t=TOKEN`).
//!
//! A token is 256 random bits; only its SHA-256 is stored, with the site, the survey, when it
//! expires and whether it has been used. Nothing says to whom it was given, and a response never
//! records the token, so answers stay anonymous. The token is consumed in the same store write
//! as the response it admits.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most links one request or command may create.
pub const MAX_COUNT: u32 = 1000;
/// Longest validity, in days.
pub const MAX_DAYS: u32 = 365;
pub const DEFAULT_DAYS: u32 = 30;
/// Length of a token: 32 bytes in unpadded base64url.
const TOKEN_LEN: usize = 43;

/// What the store keeps about one link.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Invitation {
    pub site: String,
    pub survey: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub expires_at_ms: i64,
    /// Set when a response was stored with it. When is deliberately not kept: a time would let
    /// whoever holds the list of links match them to responses.
    pub used: bool,
}

/// Why a link does not open the survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationProblem {
    #[error("this invitation link is not known")]
    Unknown,
    #[error("this invitation link has already been used")]
    Used,
    #[error("this invitation link has expired")]
    Expired,
}

/// A link just created: the token itself is shown once and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_at: String,
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored key of a token; `None` for anything that cannot be a token (no store lookup).
pub fn token_sha256(token: &str) -> Option<String> {
    let plausible = token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| hex::encode(Sha256::digest(token.as_bytes())))
}

/// The path of a survey link with its token.
pub fn link_path(site: &str, survey: &str, token: &str) -> String {
    format!("/s/{site}/{survey}?t={token}")
}

/// Whether a stored invitation (or its absence) admits a response to this survey now.
pub fn check(
    invitation: Option<&Invitation>,
    site: &str,
    survey: &str,
    now_ms: i64,
) -> Result<(), InvitationProblem> {
    match invitation {
        None => Err(InvitationProblem::Unknown),
        Some(i) if i.site != site || i.survey != survey => Err(InvitationProblem::Unknown),
        Some(i) if i.used => Err(InvitationProblem::Used),
        Some(i) if i.expires_at_ms <= now_ms => Err(InvitationProblem::Expired),
        Some(_) => Ok(()),
    }
}

/// The limits of one request for links, in words a caller can act on.
pub fn check_request(count: u32, expires_in_days: u32) -> Result<(), (&'static str, String)> {
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(("count", format!("count must be from 1 to {MAX_COUNT}")));
    }
    if !(1..=MAX_DAYS).contains(&expires_in_days) {
        return Err((
            "expires_in_days",
            format!("expires_in_days must be from 1 to {MAX_DAYS}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(used: bool, expires_at_ms: i64) -> Invitation {
        Invitation {
            site: "s".into(),
            survey: "x".into(),
            expires_at: String::new(),
            expires_at_ms,
            used,
        }
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert_ne!(a, new_token());
        assert_eq!(token_sha256(&a).unwrap().len(), 64);
        assert_eq!(token_sha256("short"), None);
        assert_eq!(token_sha256(&format!("{}!", &a[1..])), None);
    }

    #[test]
    fn a_link_opens_only_its_own_survey_once_before_it_expires() {
        let ok = invitation(false, 1000);
        assert_eq!(check(Some(&ok), "s", "x", 999), Ok(()));
        assert_eq!(
            check(Some(&ok), "s", "x", 1000),
            Err(InvitationProblem::Expired)
        );
        assert_eq!(
            check(Some(&ok), "s", "y", 1),
            Err(InvitationProblem::Unknown)
        );
        assert_eq!(
            check(Some(&ok), "t", "x", 1),
            Err(InvitationProblem::Unknown)
        );
        assert_eq!(check(None, "s", "x", 1), Err(InvitationProblem::Unknown));
        let used = invitation(true, 1000);
        assert_eq!(
            check(Some(&used), "s", "x", 1),
            Err(InvitationProblem::Used)
        );
    }

    #[test]
    fn request_limits() {
        assert!(check_request(1, 1).is_ok());
        assert!(check_request(1000, 365).is_ok());
        assert_eq!(check_request(0, 30).unwrap_err().0, "count");
        assert_eq!(check_request(1001, 30).unwrap_err().0, "count");
        assert_eq!(check_request(5, 0).unwrap_err().0, "expires_in_days");
        assert_eq!(check_request(5, 366).unwrap_err().0, "expires_in_days");
    }
}
