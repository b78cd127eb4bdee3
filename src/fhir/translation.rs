//! The core `translation` extension on a primitive's `_x` element:
//! `{"extension": [{"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": "es"},
//! {"url": "content", "valueString": "..."}]}]}`.

use super::types::{Element, Extension};
use super::TRANSLATION;
use std::collections::BTreeMap;

/// Language tag → translated text.
pub type Texts = BTreeMap<String, String>;

/// The `_x` element for these translations, or `None` when there are none.
pub fn element(texts: &Texts) -> Option<Element> {
    if texts.is_empty() {
        return None;
    }
    let extension = texts
        .iter()
        .map(|(lang, content)| Extension {
            extension: vec![
                Extension {
                    value_code: Some(lang.clone()),
                    ..Extension::new("lang")
                },
                Extension {
                    value_string: Some(content.clone()),
                    ..Extension::new("content")
                },
            ],
            ..Extension::new(TRANSLATION)
        })
        .collect();
    Some(Element { extension })
}

/// The translations an `_x` element holds; malformed translation extensions are skipped.
pub fn read(element: Option<&Element>) -> Texts {
    let mut texts = Texts::new();
    for ext in element.map_or(&[][..], |e| &e.extension) {
        if ext.url != TRANSLATION {
            continue;
        }
        let part = |name: &str| ext.extension.iter().find(|e| e.url == name);
        let lang = part("lang").and_then(|e| e.value_code.clone());
        let content = part("content").and_then(|e| e.value_string.clone());
        if let (Some(lang), Some(content)) = (lang, content) {
            texts.insert(lang, content);
        }
    }
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translations_survive_a_json_round_trip() {
        let texts = Texts::from([("es".to_string(), "Hola".to_string())]);
        let json = serde_json::to_value(element(&texts).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"extension": [{"url": TRANSLATION, "extension": [
                {"url": "lang", "valueCode": "es"},
                {"url": "content", "valueString": "Hola"}
            ]}]})
        );
        let back: Element = serde_json::from_value(json).unwrap();
        assert_eq!(read(Some(&back)), texts);
        assert!(element(&Texts::new()).is_none());
    }
}
