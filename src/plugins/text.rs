//! Splitting free-text answers and keywords into words: lower case, apostrophes dropped, any
//! other non-alphanumeric character separating words (matching is in `keywords`).

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

#[cfg(test)]
mod tests {
    use super::*;

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
