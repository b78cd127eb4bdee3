//! Readability scores on texts whose scores are published, and syllable counts on words whose
//! syllables dictionaries give.

use super::*;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// The example of the Flesch–Kincaid article (Wikipedia): 13 words, 24 syllables, one sentence:
/// reading ease 37.5, grade 11.3.
#[test]
fn the_platypus_sentence_scores_as_published() {
    let text = "The Australian platypus is seemingly a hybrid of a mammal and reptilian creature.";
    let c = counts(text, english_syllables, false);
    assert_eq!(
        c,
        Counts {
            words: 13,
            sentences: 1,
            syllables: 24
        }
    );
    assert!(close(flesch_kincaid_grade(text).unwrap(), 11.3, 0.05));
    assert!(close(flesch_reading_ease(text).unwrap(), 37.5, 0.05));
}

/// The published extremes: one-syllable, one-word sentences give the highest reading ease
/// (121.22) and the lowest grade (−3.40).
#[test]
fn one_word_sentences_reach_the_published_extremes() {
    let text = "Go. Run! Stop? Sit.";
    assert_eq!(counts(text, english_syllables, false).sentences, 4);
    assert!(close(flesch_reading_ease(text).unwrap(), 121.22, 0.005));
    assert!(close(flesch_kincaid_grade(text).unwrap(), -3.40, 0.005));
    assert_eq!(flesch_kincaid_grade(" … "), None);
}

#[test]
fn english_syllables_agree_with_the_dictionary_on_common_words() {
    let words = [
        ("the", 1),
        ("free", 1),
        ("care", 1),
        ("table", 2),
        ("people", 2),
        ("whole", 1),
        ("website", 2),
        ("someone", 2),
        ("before", 2),
        ("today", 2),
        ("tried", 1),
        ("signed", 1),
        ("wanted", 2),
        ("needed", 2),
        ("showed", 1),
        ("happened", 2),
        ("makes", 1),
        ("minutes", 2),
        ("places", 2),
        ("messages", 3),
        ("boxes", 2),
        ("you", 1),
        ("yes", 1),
        ("only", 2),
        ("anything", 3),
        ("information", 4),
        ("questions", 2),
        ("patient", 2),
        ("enrollment", 3),
        ("computer", 3),
        ("smartphone", 2),
        ("internet", 3),
        ("don't", 1),
        ("sign-up", 2),
        ("48", 1),
    ];
    for (word, expected) in words {
        assert_eq!(english_syllables(word), expected, "{word}");
    }
}

#[test]
fn spanish_syllables_follow_spelling() {
    let words = [
        ("portal", 2),
        ("paciente", 3),
        ("página", 3),
        ("aplicación", 4),
        ("resultados", 4),
        ("enviar", 2),
        ("equipo", 3),
        ("quiere", 2),
        ("guerra", 2),
        ("pingüino", 3),
        ("día", 2),
        ("país", 2),
        ("poeta", 3),
        ("leer", 2),
        ("oído", 3),
        ("ciudad", 2),
        ("uruguay", 3),
        ("ahora", 3),
        ("hoy", 1),
        ("muy", 1),
        ("y", 1),
        ("yo", 1),
        ("inscribirse", 4),
        ("teléfono", 4),
    ];
    for (word, expected) in words {
        assert_eq!(spanish_syllables(word), expected, "{word}");
    }
}

/// A demo help text, counted by hand: 26 words, 47 syllables, one sentence:
/// L = 206.84 − 60 · 47/26 − 1.02 · 26 = 71.86 ("algo fácil", 6th grade), grade-like 6.8.
#[test]
fn fernandez_huerta_of_a_hand_counted_text() {
    let text = "El portal del paciente es la página web o la aplicación donde puede ver los \
                resultados de sus pruebas y enviar mensajes a su equipo médico.";
    let c = counts(text, spanish_syllables, true);
    assert_eq!(
        c,
        Counts {
            words: 26,
            sentences: 1,
            syllables: 47
        }
    );
    let l = fernandez_huerta(text).unwrap();
    assert!(close(l, 206.84 - 60.0 * 47.0 / 26.0 - 1.02 * 26.0, 1e-9));
    assert!(close(l, 71.86, 0.005));
    assert!(close(huerta_grade(l), 6.81, 0.005));
    // Opening marks do not end sentences; the semicolon does, as Fernández Huerta counted.
    let two = "¿Qué pasó cuando intentó inscribirse? Marque todas; las que correspondan.";
    assert_eq!(counts(two, spanish_syllables, true).sentences, 3);
}

#[test]
fn each_language_gets_its_formula() {
    assert!(matches!(
        score("The cat sat on the mat.", "en-US"),
        Some(Score::FleschKincaid { .. })
    ));
    let es = score("Todo salió bien.", "es-MX").unwrap();
    assert!(matches!(es, Score::FernandezHuerta { .. }));
    assert!(es.to_string().starts_with("Fernández Huerta "), "{es}");
    assert_eq!(score("Tudo correu bem.", "pt-BR"), None);
    // Grade 8 is the lower end of "normal" in Fernández Huerta's table.
    assert_eq!(huerta_grade(60.0), 8.0);
}
