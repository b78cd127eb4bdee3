//! Keyword lists compiled once: `keyword_set(...)` in a script's top-level `const` builds a
//! `KeywordSet` at load, so a hook matching a text against a hundred keywords looks up each word
//! of the text instead of re-reading (and re-splitting) every keyword on every response.

use super::text;
use rhai::{Array, Dynamic, ImmutableString, Map};
use std::collections::HashMap;

type WordMap = HashMap<String, Vec<usize>, ahash::RandomState>;
use std::sync::Arc;

/// A compiled keyword list, either flat (`keyword_set([...])`) or by code
/// (`keyword_set(#{ code: [...] })`). Cloning it is cheap: scripts copy it on every use.
#[derive(Clone)]
pub struct KeywordSet(Arc<Index>);

struct Index {
    /// Codes in key order; empty for a flat list.
    codes: Vec<ImmutableString>,
    keywords: Vec<Keyword>,
    /// Keywords whose first word must equal the key.
    by_first_word: WordMap,
    /// Keywords whose first word is a `stem*` prefix, by the stem's first character.
    by_prefix: HashMap<char, Vec<usize>, ahash::RandomState>,
    /// Keywords whose first word is a bare `*`, which matches any word.
    by_any_word: Vec<usize>,
}

struct Keyword {
    /// As written, for `matching_words`.
    text: ImmutableString,
    /// Index into `codes` (0 for a flat list).
    code: usize,
    /// Normalised words (lower case, no apostrophes); a trailing `*` means "starts with".
    words: Vec<Pattern>,
}

struct Pattern {
    stem: String,
    prefix: bool,
}

impl Pattern {
    fn matches(&self, word: &str) -> bool {
        if self.prefix {
            word.starts_with(&self.stem)
        } else {
            word == self.stem
        }
    }
}

impl KeywordSet {
    /// `keyword_set([keywords])`.
    pub fn from_list(list: &Array) -> Result<KeywordSet, String> {
        KeywordSet::list(list, Strict::Yes)
    }

    /// `keyword_set(#{ code: [keywords] })`; a code may also have a single keyword string.
    pub fn from_map(map: &Map) -> Result<KeywordSet, String> {
        KeywordSet::map(map, Strict::Yes)
    }

    /// A list passed straight to `has_any_word` or `matching_words`: what is not a string is
    /// skipped, as those helpers always did.
    pub fn lenient_list(list: &Array) -> KeywordSet {
        KeywordSet::list(list, Strict::No).unwrap_or_else(|_| Builder::default().finish(Vec::new()))
    }

    /// A map passed straight to `keyword_tags`: what is not a keyword is skipped.
    pub fn lenient_map(map: &Map) -> KeywordSet {
        KeywordSet::map(map, Strict::No).unwrap_or_else(|_| Builder::default().finish(Vec::new()))
    }

    fn list(list: &Array, strict: Strict) -> Result<KeywordSet, String> {
        let mut builder = Builder::default();
        builder.add_list(0, list, strict)?;
        Ok(builder.finish(Vec::new()))
    }

    fn map(map: &Map, strict: Strict) -> Result<KeywordSet, String> {
        let mut builder = Builder::default();
        let mut codes = Vec::with_capacity(map.len());
        for (i, (code, keywords)) in map.iter().enumerate() {
            if let Some(one) = keywords.read_lock::<ImmutableString>() {
                builder.add(i, one.clone());
            } else if let Some(list) = keywords.read_lock::<Array>() {
                builder
                    .add_list(i, &list, strict)
                    .map_err(|e| format!("{code}: {e}"))?;
            } else if strict == Strict::Yes {
                return Err(format!(
                    "{code} must be a keyword or an array of keywords, not {}",
                    keywords.type_name()
                ));
            }
            codes.push(ImmutableString::from(code.as_str()));
        }
        Ok(builder.finish(codes))
    }

    /// The keywords that occur in the text, by index, ascending. Usually none or a few, so a
    /// list (no allocation while empty) rather than a flag per keyword.
    fn found(&self, text: &str) -> Vec<usize> {
        let index = &self.0;
        let mut found = Vec::new();
        text::with_words(text, |words| {
            for at in 0..words.len() {
                let word = words.get(at);
                let exact = index.by_first_word.get(word).map(Vec::as_slice);
                let prefixed = word
                    .chars()
                    .next()
                    .and_then(|c| index.by_prefix.get(&c))
                    .map(Vec::as_slice);
                let candidates = exact.into_iter().chain(prefixed).flatten();
                for &k in candidates.chain(&index.by_any_word) {
                    if !found.contains(&k) && matches_at(&index.keywords[k].words, words, at) {
                        found.push(k);
                    }
                }
            }
        });
        found.sort_unstable();
        found
    }

    /// Does any keyword occur in the text?
    pub fn any_in(&self, text: &str) -> bool {
        !self.found(text).is_empty()
    }

    /// The keywords that occur in the text, in list order, as written.
    pub fn matching(&self, text: &str) -> Array {
        self.found(text)
            .into_iter()
            .map(|k| Dynamic::from(self.0.keywords[k].text.clone()))
            .collect()
    }

    /// The codes with at least one keyword in the text, in code order (`[]` for a flat list).
    pub fn codes_in(&self, text: &str) -> Array {
        let mut codes: Vec<usize> = self
            .found(text)
            .into_iter()
            .map(|k| self.0.keywords[k].code)
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes
            .into_iter()
            .filter_map(|c| self.0.codes.get(c))
            .map(|c| Dynamic::from(c.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.0.keywords.len()
    }
}

/// Does the keyword (a word, a phrase, maybe with `prefix*` words) occur in the text?
pub fn has_keyword(text: &str, keyword: &str) -> bool {
    let mut builder = Builder::default();
    builder.add(0, keyword.into());
    builder.finish(Vec::new()).any_in(text)
}

/// Whether a malformed keyword list is an error (`keyword_set`) or skipped (the helpers that take
/// a list or map directly, which always skipped what was not a keyword).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strict {
    Yes,
    No,
}

fn matches_at(pattern: &[Pattern], words: &text::WordList, at: usize) -> bool {
    !pattern.is_empty()
        && at + pattern.len() <= words.len()
        && pattern
            .iter()
            .enumerate()
            .all(|(i, p)| p.matches(words.get(at + i)))
}

#[derive(Default)]
struct Builder {
    keywords: Vec<Keyword>,
    by_first_word: WordMap,
    by_prefix: HashMap<char, Vec<usize>, ahash::RandomState>,
    by_any_word: Vec<usize>,
}

impl Builder {
    fn add_list(&mut self, code: usize, list: &Array, strict: Strict) -> Result<(), String> {
        for item in list {
            match item.read_lock::<ImmutableString>() {
                Some(k) => self.add(code, k.clone()),
                None if strict == Strict::Yes => {
                    return Err(format!("a keyword must be a string, not {}", item))
                }
                None => {}
            }
        }
        Ok(())
    }

    fn add(&mut self, code: usize, keyword: ImmutableString) {
        let words: Vec<Pattern> = text::keyword_words(&keyword)
            .into_iter()
            .map(|w| match w.strip_suffix('*') {
                Some(stem) => Pattern {
                    stem: stem.to_string(),
                    prefix: true,
                },
                None => Pattern {
                    stem: w,
                    prefix: false,
                },
            })
            .collect();
        let i = self.keywords.len();
        match words.first() {
            // A keyword with no words never matches: `has_word(t, "")` is false too.
            None => {}
            Some(first) if first.prefix => match first.stem.chars().next() {
                Some(c) => self.by_prefix.entry(c).or_default().push(i),
                None => self.by_any_word.push(i),
            },
            Some(first) => self
                .by_first_word
                .entry(first.stem.clone())
                .or_default()
                .push(i),
        }
        self.keywords.push(Keyword {
            text: keyword,
            code,
            words,
        });
    }

    fn finish(self, codes: Vec<ImmutableString>) -> KeywordSet {
        KeywordSet(Arc::new(Index {
            codes,
            keywords: self.keywords,
            by_first_word: self.by_first_word,
            by_prefix: self.by_prefix,
            by_any_word: self.by_any_word,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Array {
        items.iter().map(|s| Dynamic::from(s.to_string())).collect()
    }

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

    /// Every keyword form matches exactly as `has_word` does.
    #[test]
    fn agrees_with_has_word() {
        let keywords = [
            "locked out",
            "crash*",
            "dont have a computer",
            "NOBODY told",
            "error*",
            "x",
            "",
            "café",
            "a b c d e f g h i j",
        ];
        let texts = [
            "I got LOCKED out twice.",
            "The site crashed",
            "I don't have a computer",
            "Nobody told me",
            "errors everywhere",
            "unlocked",
            "",
            "le Café était fermé",
            "a b c d e f g h i j",
            "a b c d e f g h i",
        ];
        let set = KeywordSet::from_list(&list(&keywords)).unwrap();
        for t in texts {
            let expected: Vec<String> = keywords
                .iter()
                .filter(|k| has_keyword(t, k))
                .map(|k| k.to_string())
                .collect();
            let got: Vec<String> = set.matching(t).iter().map(|d| d.to_string()).collect();
            assert_eq!(got, expected, "text {t:?}");
            assert_eq!(set.any_in(t), !expected.is_empty(), "text {t:?}");
        }
    }

    #[test]
    fn codes_in_key_order() {
        let mut map = Map::new();
        map.insert("technical".into(), Dynamic::from_array(list(&["error*"])));
        map.insert("awareness".into(), Dynamic::from("never heard"));
        let set = KeywordSet::from_map(&map).unwrap();
        let codes: Vec<String> = set
            .codes_in("Errors, and I never heard of it")
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(codes, ["awareness", "technical"]);
        assert!(set.codes_in("fine").is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_keyword() {
        let mut map = Map::new();
        map.insert("technical".into(), Dynamic::from(3_i64));
        assert!(KeywordSet::from_map(&map).is_err());
        assert!(KeywordSet::from_list(&vec![Dynamic::from(1_i64)]).is_err());
    }
}
