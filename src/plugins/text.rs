//! Splitting free-text answers and keywords into words: lower case, apostrophes dropped, any
//! other non-alphanumeric character separating words (matching is in `keywords`).

use std::cell::RefCell;

/// Lower-case words of a text. Apostrophes are dropped (`don't` → `dont`) so that keywords match
/// with or without them; every other non-alphanumeric character separates words.
pub fn words(text: &str) -> Vec<String> {
    WordList::split(text, false).to_vec()
}

/// The words of a keyword, normalised as text words are, keeping a `*` (a prefix, see
/// `keywords`).
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
        let mut list = WordList {
            buffer: String::with_capacity(text.len()),
            ends: Vec::new(),
        };
        list.fill(text, keep_star);
        list
    }

    /// Replaces the words with those of `text`, reusing the buffers.
    fn fill(&mut self, text: &str, keep_star: bool) {
        let (buffer, ends) = (&mut self.buffer, &mut self.ends);
        buffer.clear();
        ends.clear();
        let mut start = 0;
        for c in text.chars() {
            if c.is_alphanumeric() || (keep_star && c == '*') {
                // Most answers are ASCII, which needs no case-mapping tables.
                if c.is_ascii() {
                    buffer.push(c.to_ascii_lowercase());
                } else {
                    buffer.extend(c.to_lowercase());
                }
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

thread_local! {
    /// The last text split on this thread and its words: one response's hooks often match the
    /// same answer (the comments) against several keyword sets.
    static LAST_SPLIT: RefCell<(String, WordList)> = const {
        RefCell::new((
            String::new(),
            WordList {
                buffer: String::new(),
                ends: Vec::new(),
            },
        ))
    };
}

/// Runs `f` on the words of `text`, split once however many keyword sets look at it.
pub fn with_words<T>(text: &str, f: impl FnOnce(&WordList) -> T) -> T {
    LAST_SPLIT.with(|cell| match cell.try_borrow_mut() {
        Ok(mut last) => {
            let (last_text, words) = &mut *last;
            if last_text != text {
                last_text.clear();
                last_text.push_str(text);
                words.fill(text, false);
            }
            f(words)
        }
        Err(_) => f(&WordList::new(text)),
    })
}

/// Drops this thread's copy of the last text split (a response's answers are not kept around
/// once its hooks have run).
pub fn forget_last_split() {
    LAST_SPLIT.with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.0.clear();
            last.1.buffer.clear();
            last.1.ends.clear();
        }
    });
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
