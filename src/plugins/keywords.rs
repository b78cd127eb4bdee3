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
    /// Keywords whose first word is a `stem*` prefix.
    by_prefix: Vec<usize>,
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

    /// Marks every keyword that occurs in the text.
    fn found(&self, text: &str) -> Vec<bool> {
        let index = &self.0;
        let mut found = vec![false; index.keywords.len()];
        let words = text::WordList::new(text);
        for at in 0..words.len() {
            let exact = index.by_first_word.get(words.get(at));
            let candidates = exact.into_iter().flatten().chain(&index.by_prefix);
            for &k in candidates {
                if !found[k] && matches_at(&index.keywords[k].words, &words, at) {
                    found[k] = true;
                }
            }
        }
        found
    }

    /// Does any keyword occur in the text?
    pub fn any_in(&self, text: &str) -> bool {
        self.found(text).contains(&true)
    }

    /// The keywords that occur in the text, in list order, as written.
    pub fn matching(&self, text: &str) -> Array {
        let found = self.found(text);
        self.0
            .keywords
            .iter()
            .zip(found)
            .filter(|(_, hit)| *hit)
            .map(|(k, _)| Dynamic::from(k.text.clone()))
            .collect()
    }

    /// The codes with at least one keyword in the text, in code order (`[]` for a flat list).
    pub fn codes_in(&self, text: &str) -> Array {
        let found = self.found(text);
        let mut hit = vec![false; self.0.codes.len()];
        for (k, _) in self.0.keywords.iter().zip(found).filter(|(_, f)| *f) {
            if let Some(h) = hit.get_mut(k.code) {
                *h = true;
            }
        }
        self.0
            .codes
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h)
            .map(|(c, _)| Dynamic::from(c.clone()))
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
    by_prefix: Vec<usize>,
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
            Some(first) if first.prefix => self.by_prefix.push(i),
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
