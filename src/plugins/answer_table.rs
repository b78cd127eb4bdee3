//! Tags from structured answers, by table: `answer_table(#{ question: #{ value: code } })` in a
//! script's top-level `const` is read once, at load; `answer_tags(response.answers, TABLE)` then
//! looks each answer up natively instead of walking `if`/`switch` chains per response.

use rhai::{Array, Dynamic, ImmutableString, Map};
use std::sync::Arc;

/// A compiled answer table. Cloning it is cheap: scripts copy it on every use.
#[derive(Clone, Debug)]
pub struct AnswerTable(Arc<Vec<Question>>);

#[derive(Debug)]
struct Question {
    id: ImmutableString,
    /// (answer value, codes) in the table's order.
    values: Vec<(String, Vec<ImmutableString>)>,
}

impl AnswerTable {
    /// `answer_table(#{ question: #{ value: "code" or ["code", ...] } })`: anything else is an
    /// error naming where it is.
    pub fn from_map(map: &Map) -> Result<AnswerTable, String> {
        AnswerTable::build(map, true)
    }

    /// A map passed straight to `answer_tags`: what is not a code is skipped.
    pub fn lenient(map: &Map) -> AnswerTable {
        AnswerTable::build(map, false).unwrap_or_else(|_| AnswerTable(Arc::new(Vec::new())))
    }

    fn build(map: &Map, strict: bool) -> Result<AnswerTable, String> {
        let mut questions = Vec::with_capacity(map.len());
        for (id, values) in map {
            let Some(values) = values.read_lock::<Map>() else {
                if strict {
                    return Err(format!(
                        "{id} must be a map of answer value to barrier code, like #{{ no: \"awareness\" }}, not {values}"
                    ));
                }
                continue;
            };
            let mut entries = Vec::with_capacity(values.len());
            for (value, codes) in values.iter() {
                match codes_of(codes) {
                    Some(codes) => entries.push((value.to_string(), codes)),
                    None if strict => {
                        return Err(format!(
                            "{id}.{value} must be a barrier code or an array of codes, not {codes}"
                        ))
                    }
                    None => {}
                }
            }
            questions.push(Question {
                id: id.as_str().into(),
                values: entries,
            });
        }
        Ok(AnswerTable(Arc::new(questions)))
    }

    /// The codes the answers call for: question by question in table order, each answer's
    /// values in the order given, every code once. A choice list counts each chosen value; a
    /// number matches the value written as digits (`#{ ease: #{ "1": "..." } }`).
    pub fn tags(&self, answers: &Map) -> Array {
        let mut tags: Vec<ImmutableString> = Vec::new();
        let mut add = |question: &Question, value: &str| {
            let found = question.values.iter().find(|(v, _)| v == value);
            for code in found.into_iter().flat_map(|(_, codes)| codes) {
                if !tags.contains(code) {
                    tags.push(code.clone());
                }
            }
        };
        for question in self.0.iter() {
            let Some(answer) = answers.get(question.id.as_str()) else {
                continue;
            };
            if let Some(text) = answer.read_lock::<ImmutableString>() {
                add(question, &text);
            } else if let Some(list) = answer.read_lock::<Array>() {
                for item in list.iter() {
                    if let Some(text) = item.read_lock::<ImmutableString>() {
                        add(question, &text);
                    }
                }
            } else if let Ok(n) = answer.as_int() {
                add(question, &n.to_string());
            }
        }
        tags.into_iter().map(Dynamic::from).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

fn codes_of(value: &Dynamic) -> Option<Vec<ImmutableString>> {
    if let Some(code) = value.read_lock::<ImmutableString>() {
        return Some(vec![code.clone()]);
    }
    let list = value.read_lock::<Array>()?;
    list.iter()
        .map(|c| c.read_lock::<ImmutableString>().map(|c| c.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> Dynamic {
        Dynamic::from(ImmutableString::from(s))
    }

    fn names(tags: Array) -> Vec<String> {
        tags.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn tags_from_single_and_multiple_choices_in_table_order() {
        let table = AnswerTable::from_map(&map(&[
            (
                "aware",
                Dynamic::from_map(map(&[("no", text("awareness"))])),
            ),
            (
                "why_not",
                Dynamic::from_map(map(&[
                    ("no_device", text("access_technology")),
                    ("didnt_know", text("awareness")),
                    (
                        "both",
                        Dynamic::from_array(vec![text("privacy_concern"), text("awareness")]),
                    ),
                ])),
            ),
            ("ease", Dynamic::from_map(map(&[("1", text("hard"))]))),
        ]))
        .unwrap();
        let answers = map(&[
            ("aware", text("no")),
            (
                "why_not",
                Dynamic::from_array(vec![text("no_device"), text("didnt_know"), text("both")]),
            ),
            ("ease", Dynamic::from_int(1)),
        ]);
        assert_eq!(
            names(table.tags(&answers)),
            ["awareness", "hard", "access_technology", "privacy_concern"]
        );
        let none = map(&[("aware", text("yes")), ("other", text("no"))]);
        assert!(table.tags(&none).is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_table_of_codes() {
        let flat = map(&[("aware", text("awareness"))]);
        assert!(AnswerTable::from_map(&flat)
            .unwrap_err()
            .contains("aware must be a map"));
        let number = map(&[(
            "aware",
            Dynamic::from_map(map(&[("no", Dynamic::from_int(3))])),
        )]);
        assert!(AnswerTable::from_map(&number)
            .unwrap_err()
            .contains("aware.no"));
        assert_eq!(
            AnswerTable::lenient(&number)
                .tags(&map(&[("aware", text("no"))]))
                .len(),
            0
        );
    }
}
