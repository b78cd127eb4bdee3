//! Which language a respondent page is in: `?lang=` (or the form's `_lang`), then the
//! browser's `Accept-Language` (with q-values), then the site's default language. Only the
//! languages the survey is written in are ever chosen.

use crate::survey::language::find;

/// Picks the page language from what the page can be shown in (`available`, the site's
/// default first), an explicit choice and the `Accept-Language` header.
pub fn choose(available: &[String], explicit: Option<&str>, accept: Option<&str>) -> String {
    let default = available.first().cloned().unwrap_or_else(|| "en".into());
    if let Some(lang) = explicit.and_then(|l| find(available, l)) {
        return lang;
    }
    let Some(accept) = accept else {
        return default;
    };
    let mut wanted: Vec<(f32, usize, &str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && q > 0.0 && q <= 1.0).then_some((q, i, tag))
        })
        .collect();
    // Highest q first; equal q keeps the header's order.
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, tag) in wanted {
        if tag == "*" {
            return default;
        }
        if let Some(lang) = find(available, tag) {
            return lang;
        }
    }
    default
}

/// A language's name in that language, for the language switch.
pub fn native_name(lang: &str) -> &str {
    let primary = lang.split('-').next().unwrap_or(lang);
    match primary.to_ascii_lowercase().as_str() {
        "en" => "English",
        "es" => "Español",
        "fr" => "Français",
        "pt" => "Português",
        "zh" => "中文",
        "vi" => "Tiếng Việt",
        "ko" => "한국어",
        "ru" => "Русский",
        "ar" => "العربية",
        "ht" => "Kreyòl ayisyen",
        "tl" => "Tagalog",
        "de" => "Deutsch",
        "it" => "Italiano",
        "pl" => "Polski",
        _ => lang,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        vec!["en".into(), "es".into()]
    }

    #[test]
    fn explicit_choice_wins_when_available() {
        assert_eq!(choose(&langs(), Some("es"), Some("en")), "es");
        assert_eq!(choose(&langs(), Some("ES"), None), "es");
        assert_eq!(choose(&langs(), Some("fr"), Some("es")), "es");
        assert_eq!(choose(&langs(), Some("fr"), None), "en");
    }

    #[test]
    fn accept_language_follows_q_values_and_primary_tags() {
        assert_eq!(
            choose(&langs(), None, Some("es-MX,es;q=0.9,en;q=0.8")),
            "es"
        );
        assert_eq!(choose(&langs(), None, Some("en;q=0.5, es;q=0.9")), "es");
        assert_eq!(choose(&langs(), None, Some("fr, es;q=0.1")), "es");
        assert_eq!(choose(&langs(), None, Some("es;q=0, en")), "en");
        assert_eq!(choose(&langs(), None, Some("fr, *;q=0.5, es;q=0.1")), "en");
        assert_eq!(choose(&langs(), None, Some("garbage;q=x")), "en");
        assert_eq!(choose(&langs(), None, None), "en");
    }

    #[test]
    fn a_regional_translation_answers_its_language() {
        let langs: Vec<String> = vec!["en".into(), "pt-BR".into()];
        assert_eq!(choose(&langs, None, Some("pt")), "pt-BR");
        assert_eq!(choose(&langs, None, Some("pt-PT")), "pt-BR");
        assert_eq!(choose(&langs, Some("pt-br"), None), "pt-BR");
    }

    #[test]
    fn a_survey_in_one_language_is_always_in_that_language() {
        assert_eq!(choose(&["en".into()], Some("es"), Some("es")), "en");
    }
}
