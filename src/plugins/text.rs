//! Word matching for free-text answers: case-insensitive, whole words, phrases, and a trailing
//! `*` for "any word starting with".

/// Lower-case words of a text. Apostrophes are dropped (`don't` → `dont`) so that keywords match
/// with or without them; every other non-alphanumeric character separates words.
pub fn words(text: &str) -> Vec<String> {
    WordList::split(text, false).to_vec()
}

/// The words of a keyword, normalised as text words are, keeping a `*` (see `word_matches`).
pub fn keyword_words(keyword: &str) -> Vec<String> {
    WordList::split(keyword, true).to_vec()
}

/// The words of a text as `words` gives them, in one buffer: two allocations whatever the
/// number of words (matching a text against a compiled keyword set does this per response).
pub struct WordList {
    buffer: String,
    ends: Vec<usize>,
}

impl WordList {
    pub fn new(text: &str) -> WordList {
        WordList::split(text, false)
    }

    /// The one tokenizer: `keep_star` keeps `*` inside words (for keywords).
    fn split(text: &str, keep_star: bool) -> WordList {
        let mut buffer = String::with_capacity(text.len());
        let mut ends = Vec::new();
        let mut start = 0;
        for c in text.chars() {
            if c.is_alphanumeric() || (keep_star && c == '*') {
                buffer.extend(c.to_lowercase());
            } else if is_apostrophe(c) {
                continue;
            } else if buffer.len() > start {
                ends.push(buffer.len());
                start = buffer.len();
            }
        }
        if buffer.len() > start {
            ends.push(buffer.len());
        }
        WordList { buffer, ends }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buffer[start..self.ends[i]]
    }

    fn to_vec(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.get(i).to_string()).collect()
    }
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

/// A text split into words once, with a signature of its words (first byte and length), so
/// that matching a long keyword list rejects nearly every keyword with one table lookup.
pub struct Text {
    words: Vec<String>,
    /// For each ASCII first byte, bit `n` is set when a word of length `n` (63 for longer)
    /// starts with it; bit 0 marks "some word starts with it" (for `prefix*` keywords).
    signature: [u64; 128],
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl Text {
    pub fn new(text: &str) -> Text {
        let words = words(text);
        let mut signature = [0u64; 128];
        for w in &words {
            if let Some(&b) = w.as_bytes().first() {
                if b < 128 {
                    signature[b as usize] |= 1 | length_bit(w.len());
                }
            }
        }
        Text { words, signature }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Could a word matching this keyword word occur in the text? False means surely not.
    fn may_contain(&self, pattern: &str) -> bool {
        let (stem, prefix) = match pattern.strip_suffix('*') {
            Some(p) => (p, true),
            None => (pattern, false),
        };
        match stem.as_bytes().first() {
            Some(&b) if b < 128 => {
                let bits = self.signature[b as usize];
                if prefix {
                    bits & 1 != 0
                } else {
                    bits & length_bit(stem.len()) != 0
                }
            }
            _ => true,
        }
    }

    /// Does the keyword (a word or a phrase of words) occur in the text?
    pub fn contains(&self, keyword: &str) -> bool {
        // The usual keyword is lower-case ASCII words and spaces (maybe a `*`): split it in
        // place; anything else is normalised the way the text was.
        let simple = keyword
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' ' || b == b'*');
        if !simple {
            let pattern = keyword_words(keyword);
            let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
            return self.contains_at_any(&pattern);
        }
        let mut pattern = [""; MAX_PHRASE_WORDS];
        let mut len = 0;
        for w in keyword.split(' ').filter(|w| !w.is_empty()) {
            if len == MAX_PHRASE_WORDS {
                let long: Vec<&str> = keyword.split(' ').filter(|w| !w.is_empty()).collect();
                return self.contains_at_any(&long);
            }
            if !self.may_contain(w) {
                return false;
            }
            pattern[len] = w;
            len += 1;
        }
        self.contains_at_any(&pattern[..len])
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

    #[test]
    fn word_list_agrees_with_words() {
        for t in [
            "",
            "  ",
            "I don't know—CAFÉ's  open?",
            "one",
            "a,b,,c ",
            "İstanbul",
        ] {
            let list = WordList::new(t);
            let got: Vec<&str> = (0..list.len()).map(|i| list.get(i)).collect();
            assert_eq!(got, words(t), "text {t:?}");
        }
    }
}
