//! Word matching for free-text answers: case-insensitive, whole words, phrases, and a trailing
//! `*` for "any word starting with".

/// Lower-case words of a text. Apostrophes are dropped (`don't` → `dont`) so that keywords match
/// with or without them; every other non-alphanumeric character separates words.
pub fn words(text: &str) -> Vec<String> {
    split(text, false)
}

fn split(text: &str, keep_star: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || (keep_star && c == '*') {
            current.extend(c.to_lowercase());
        } else if c == '\'' || c == '\u{2019}' {
            continue;
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn word_matches(word: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => word.starts_with(prefix),
        None => word == pattern,
    }
}

/// Does the keyword (a word or a phrase of words) occur in `words`?
pub fn words_contain(words: &[String], keyword: &str) -> bool {
    let pattern = split(keyword, true);
    if pattern.is_empty() || pattern.len() > words.len() {
        return false;
    }
    words
        .windows(pattern.len())
        .any(|w| w.iter().zip(&pattern).all(|(a, p)| word_matches(a, p)))
}

pub fn has_keyword(text: &str, keyword: &str) -> bool {
    words_contain(&words(text), keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_words_and_phrases() {
        assert!(has_keyword("I got LOCKED out twice.", "locked out"));
        assert!(!has_keyword("unlocked", "locked"));
        assert!(has_keyword("The site crashed", "crash*"));
        assert!(has_keyword(
            "I don't have a computer",
            "dont have a computer"
        ));
        assert!(has_keyword(
            "I dont have a computer",
            "don't have a computer"
        ));
        assert!(!has_keyword("", "x"));
        assert!(!has_keyword("anything", ""));
    }
}
