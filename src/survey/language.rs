//! The languages a site serves (BCP 47 tags): its `default_language`, then every language its
//! surveys are translated into. A response records one of these, never a tag a client made up.

use super::definition::Survey;
use super::site::Site;

/// The languages `survey` can be shown in (every survey of the site when `None`), the site's
/// default first.
pub fn served(site: &Site, survey: Option<&Survey>) -> Vec<String> {
    let mut out = vec![site.config.default_language.clone()];
    let surveys: Vec<&Survey> = match survey {
        Some(s) => vec![s],
        None => site.surveys.iter().map(|s| s.as_ref()).collect(),
    };
    for s in surveys {
        for lang in s.translations.keys() {
            if !out.contains(lang) {
                out.push(lang.clone());
            }
        }
    }
    out
}

/// The served language a tag asks for: `es-MX` finds `es-MX`, then `es`, then any other
/// `es-…` (`pt` finds `pt-BR`); case does not matter. `None` when none fits.
pub fn find(available: &[String], tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.is_empty() || tag.len() > 35 {
        return None;
    }
    let primary = |t: &str| t.split('-').next().unwrap_or_default().to_ascii_lowercase();
    let wanted = primary(tag);
    available
        .iter()
        .find(|a| a.eq_ignore_ascii_case(tag))
        .or_else(|| available.iter().find(|a| a.eq_ignore_ascii_case(&wanted)))
        .or_else(|| available.iter().find(|a| primary(a) == wanted))
        .cloned()
}
