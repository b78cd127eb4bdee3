//! Key layout. Keys are their own index: `site 0 survey 0 id` with the UUID v7 id in its
//! big-endian byte form, so a prefix scan of (site, survey) comes out in time order and a
//! response costs one insert.

use uuid::Uuid;

pub const SEP: u8 = 0;

pub fn site_prefix(site: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(site.len() + 1);
    k.extend_from_slice(site.as_bytes());
    k.push(SEP);
    k
}

pub fn survey_prefix(site: &str, survey: &str) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.extend_from_slice(survey.as_bytes());
    k.push(SEP);
    k
}

pub fn response_key(site: &str, survey: &str, id: Uuid) -> Vec<u8> {
    let mut k = survey_prefix(site, survey);
    k.extend_from_slice(id.as_bytes());
    k
}

/// The id at the end of a response key.
pub fn id_of(key: &[u8]) -> Option<Uuid> {
    let start = key.len().checked_sub(16)?;
    Uuid::from_slice(&key[start..]).ok()
}

/// The survey part of a response key under `site_prefix`.
pub fn survey_of(key: &[u8], site_prefix_len: usize) -> Option<&[u8]> {
    let rest = key.get(site_prefix_len..)?;
    let end = rest.iter().position(|b| *b == SEP)?;
    Some(&rest[..end])
}

pub fn submission_key(site: &str, submission: Uuid) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.extend_from_slice(submission.as_bytes());
    k
}

/// Rule-error index key: `site 0 id`, so a site's entries sort by time.
pub fn rule_error_key(site: &str, id: Uuid) -> Vec<u8> {
    let mut k = site_prefix(site);
    k.extend_from_slice(id.as_bytes());
    k
}

pub use crate::domain::time::min_id_at_ms;

/// Smallest key strictly greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_within_a_survey() {
        let a = response_key("s", "x", min_id_at_ms(1));
        let b = response_key("s", "x", min_id_at_ms(2));
        assert!(a < b);
        assert_eq!(survey_of(&a, site_prefix("s").len()), Some(&b"x"[..]));
    }
}
