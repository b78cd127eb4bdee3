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

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Does a (lower-case, apostrophe-free) text word match one keyword word? The keyword word is
/// compared case-insensitively without apostrophes; a trailing `*` matches any ending.
fn word_matches(word: &str, pattern: &str) -> bool {
    let (pattern, prefix) = match pattern.strip_suffix('*') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    // Keywords are nearly always plain lower-case ASCII: compare bytes.
    if is_plain(pattern) {
        return if prefix {
            word.starts_with(pattern)
        } else {
            word == pattern
        };
    }
    let mut text = word.chars();
    for expected in pattern
        .chars()
        .filter(|c| !is_apostrophe(*c))
        .flat_map(char::to_lowercase)
    {
        if text.next() != Some(expected) {
            return false;
        }
    }
    prefix || text.next().is_none()
}

/// Longest keyword phrase matched without allocating; longer ones take the slow path.
const MAX_PHRASE_WORDS: usize = 8;

/// A text split into words once, with the words sorted for lookup, so that matching a long
/// keyword list costs one binary search per keyword rather than a scan of the text.
pub struct Text {
    words: Vec<String>,
    /// Indexes into `words`, sorted by word.
    order: Vec<usize>,
}

impl Text {
    pub fn new(text: &str) -> Text {
        let words = words(text);
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by(|a, b| words[*a].cmp(&words[*b]));
        Text { words, order }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Does the keyword (a word or a phrase of words) occur in the text?
    pub fn contains(&self, keyword: &str) -> bool {
        // Fast path for the usual keyword, lower-case ASCII words and spaces: most keywords
        // are rejected by one binary search for their first word.
        let simple = keyword
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' ');
        if !simple {
            let pattern = split(keyword, true);
            let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
            return self.contains_at_any(&pattern);
        }
        let mut parts = keyword.split(' ').filter(|w| !w.is_empty());
        let Some(first) = parts.next() else {
            return false;
        };
        let start = self
            .order
            .partition_point(|i| self.words[*i].as_str() < first);
        let mut starts = self.order[start..]
            .iter()
            .take_while(|i| self.words[**i] == first)
            .peekable();
        if starts.peek().is_none() {
            return false;
        }
        let mut rest = [""; MAX_PHRASE_WORDS];
        let mut len = 0;
        for w in parts {
            if len == MAX_PHRASE_WORDS {
                let pattern: Vec<&str> = keyword.split(' ').filter(|w| !w.is_empty()).collect();
                return self.contains_at_any(&pattern);
            }
            rest[len] = w;
            len += 1;
        }
        let rest = &rest[..len];
        starts.any(|i| {
            i + 1 + rest.len() <= self.words.len()
                && rest.iter().zip(&self.words[i + 1..]).all(|(p, w)| w == p)
        })
    }

    fn contains_at_any(&self, pattern: &[&str]) -> bool {
        (0..self.words.len()).any(|i| self.matches_at(i, pattern))
    }

    fn matches_at(&self, at: usize, pattern: &[&str]) -> bool {
        !pattern.is_empty()
            && at + pattern.len() <= self.words.len()
            && pattern
                .iter()
                .zip(&self.words[at..])
                .all(|(p, w)| word_matches(w, p))
    }
}

/// A keyword word that is matched by plain equality: lower-case ASCII letters and digits.
fn is_plain(word: &str) -> bool {
    word.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub fn has_keyword(text: &str, keyword: &str) -> bool {
    Text::new(text).contains(keyword)
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
        assert!(has_keyword("Nobody told me", "NOBODY told"));
        assert!(has_keyword("a b c d e f g h i j", "a b c d e f g h i j"));
        assert!(!has_keyword("a b c d e f g h i", "a b c d e f g h i j"));
    }
}
