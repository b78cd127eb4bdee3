//! Plain-language scores of survey texts (docs/surveys.md, "Plain language").
//!
//! English: the Flesch–Kincaid grade, `0.39 · words/sentences + 11.8 · syllables/words − 15.59`.
//! Spanish: Fernández Huerta's readability (1959, as corrected by Law 2011),
//! `L = 206.84 − 60 · syllables/words − 1.02 · words/sentences`, put on a grade-like scale by
//! his own table (90–100 → 4th grade … 60–70 → 7th–8th grade): `grade = 4 + (100 − L) / 10`,
//! so grade 8 is L = 60, the lower end of "normal (for adults)".
//!
//! Syllables are counted by spelling, without a dictionary:
//! - English: groups of vowels (a, e, i, o, u, and y after the first letter) less a silent
//!   final `e` (not in a consonant + `le`: "ta-ble"), a silent `-es` (not after s, x, z, ch, sh,
//!   c or g: "pla-ces") and a silent `-ed` (not after t or d: "want-ed"); at least one a word.
//!   It agrees with dictionaries for most common words and is off by one for some
//!   ("quiet", "usually"), which moves a short text's grade by about one.
//! - Spanish: Spanish spelling is regular, so the count is exact for ordinary words: each run
//!   of vowels is one syllable, plus one for each hiatus inside it (two of a, e, o, or an
//!   accented í / ú next to another vowel: "dí-a", "po-e-ta"); the silent u of que, qui, gue,
//!   gui is not a vowel, ü is, and a final y is ("muy", "hoy").

/// Words, sentences and syllables of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
}

/// A score of one text in one language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Score {
    /// Flesch–Kincaid grade.
    FleschKincaid { grade: f64 },
    /// Fernández Huerta readability and its grade-like value.
    FernandezHuerta { score: f64, grade: f64 },
}

impl Score {
    /// The grade (or grade-like value) compared with the site's `reading_grade_max`.
    pub fn grade(self) -> f64 {
        match self {
            Score::FleschKincaid { grade } | Score::FernandezHuerta { grade, .. } => grade,
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Score::FleschKincaid { grade } => write!(f, "Flesch-Kincaid grade {grade:.1}"),
            Score::FernandezHuerta { score, grade } => {
                write!(f, "Fernández Huerta {score:.1} (about grade {grade:.1})")
            }
        }
    }
}

/// The words of a text: runs of letters, digits and inner apostrophes or hyphens.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// How many words a text has.
pub fn word_count(text: &str) -> usize {
    words(text).len()
}

/// Sentences end at `.`, `!`, `?` or `…` (and `;` in Spanish, as Fernández Huerta counted
/// them) followed by a space or the end; a text without one is one sentence.
fn sentences(text: &str, semicolon_ends: bool) -> usize {
    let ends = |c: char| matches!(c, '.' | '!' | '?' | '…') || (semicolon_ends && c == ';');
    let chars: Vec<char> = text.trim().chars().collect();
    let mut count = 0;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if ends(c) && next.is_none_or(|n| n.is_whitespace() || n == '"' || n == ')') {
            count += 1;
        }
    }
    let last_ends = chars
        .iter()
        .rev()
        .find(|c| !matches!(c, '"' | ')' | '”'))
        .is_some_and(|&c| ends(c));
    if last_ends {
        count.max(1)
    } else {
        count + 1
    }
}

fn is_english_vowel(c: char, first: bool) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') || (c == 'y' && !first)
}

/// English syllables of one lower-case word (see the module comment).
pub fn english_syllables(word: &str) -> usize {
    if word.contains('-') {
        return word.split('-').map(english_syllables).sum();
    }
    let letters: Vec<char> = word.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if letters.is_empty() {
        return usize::from(word.chars().any(|c| c.is_alphanumeric()));
    }
    let word: String = letters.iter().collect();
    let vowel = |i: usize| is_english_vowel(letters[i], i == 0);
    let mut groups = 0;
    for i in 0..letters.len() {
        if vowel(i) && (i == 0 || !vowel(i - 1)) {
            groups += 1;
        }
    }
    let n = letters.len();
    let consonant_at = |i: usize| i < n && !vowel(i);
    let ends = |s: &str| word.ends_with(s);
    let silent = if n > 2 && ends("e") && consonant_at(n - 2) {
        // "table", "people": a consonant + le ending is its own syllable.
        !(ends("le") && n > 3 && consonant_at(n - 3))
    } else if n > 3 && ends("es") && consonant_at(n - 3) {
        let before = &word[..n - 2];
        !["s", "x", "z", "ch", "sh", "c", "g"]
            .iter()
            .any(|e| before.ends_with(e))
    } else if n > 3 && ends("ed") && consonant_at(n - 3) {
        !(word.ends_with("ted") || word.ends_with("ded"))
    } else {
        false
    };
    (groups - usize::from(silent && groups > 1)).max(1)
}

/// Spanish syllables of one lower-case word (see the module comment).
pub fn spanish_syllables(word: &str) -> usize {
    let chars: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    if chars.is_empty() {
        return usize::from(word.chars().any(|c| c.is_alphanumeric()));
    }
    let n = chars.len();
    // The u of que, qui, gue, gui is silent.
    let silent_u = |i: usize| {
        chars[i] == 'u'
            && i > 0
            && (chars[i - 1] == 'q' || chars[i - 1] == 'g')
            && matches!(chars.get(i + 1), Some('e' | 'i' | 'é' | 'í'))
    };
    let is_vowel = |i: usize| match chars[i] {
        'a' | 'e' | 'i' | 'o' | 'á' | 'é' | 'í' | 'ó' | 'ú' | 'ü' => true,
        'u' => !silent_u(i),
        // A final y is a vowel ("muy", "hoy", "y"); elsewhere a consonant ("yo", "mayo").
        'y' => i == n - 1 && (n == 1 || !matches!(chars[i - 1], 'y')),
        _ => false,
    };
    // Strong for a hiatus: a, e, o, and the stressed í, ú.
    let strong = |c: char| matches!(c, 'a' | 'e' | 'o' | 'á' | 'é' | 'ó' | 'í' | 'ú');
    let mut syllables = 0;
    let mut previous: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        if !is_vowel(i) {
            previous = None;
            continue;
        }
        match previous {
            None => syllables += 1,
            Some(p) if strong(p) && strong(c) => syllables += 1,
            Some(_) => {}
        }
        previous = Some(c);
    }
    syllables.max(1)
}

/// Counts of a text, syllables counted by the given rule.
pub fn counts(text: &str, syllables: fn(&str) -> usize, semicolon_ends: bool) -> Counts {
    let words = words(text);
    Counts {
        words: words.len(),
        sentences: sentences(text, semicolon_ends),
        syllables: words.iter().map(|w| syllables(w)).sum(),
    }
}

/// Flesch–Kincaid grade of an English text; `None` without words.
pub fn flesch_kincaid_grade(text: &str) -> Option<f64> {
    let c = counts(text, english_syllables, false);
    (c.words > 0).then(|| {
        let (w, s, y) = (c.words as f64, c.sentences as f64, c.syllables as f64);
        0.39 * w / s + 11.8 * y / w - 15.59
    })
}

/// Flesch reading ease of an English text (for reference; the check uses the grade).
pub fn flesch_reading_ease(text: &str) -> Option<f64> {
    let c = counts(text, english_syllables, false);
    (c.words > 0).then(|| {
        let (w, s, y) = (c.words as f64, c.sentences as f64, c.syllables as f64);
        206.835 - 1.015 * w / s - 84.6 * y / w
    })
}

/// Fernández Huerta readability of a Spanish text (higher is easier); `None` without words.
pub fn fernandez_huerta(text: &str) -> Option<f64> {
    let c = counts(text, spanish_syllables, true);
    (c.words > 0).then(|| {
        let (w, s, y) = (c.words as f64, c.sentences as f64, c.syllables as f64);
        206.84 - 60.0 * y / w - 1.02 * w / s
    })
}

/// The grade-like value of a Fernández Huerta score: 4 + (100 − L) / 10.
pub fn huerta_grade(score: f64) -> f64 {
    4.0 + (100.0 - score) / 10.0
}

/// The score of a text in a language (a tag such as "en", "es-MX"); `None` for a language
/// without a formula here, or a text without words.
pub fn score(text: &str, language: &str) -> Option<Score> {
    match language.split('-').next().unwrap_or_default() {
        "en" => flesch_kincaid_grade(text).map(|grade| Score::FleschKincaid { grade }),
        "es" => fernandez_huerta(text).map(|score| Score::FernandezHuerta {
            score,
            grade: huerta_grade(score),
        }),
        _ => None,
    }
}

#[cfg(test)]
#[path = "readability_tests.rs"]
mod tests;
