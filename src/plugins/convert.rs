//! Conversions between Chorus values and rhai values.

use crate::domain::Tag;
use crate::survey::{AnswerValue, Answers, Site};
use rhai::{Array, Dynamic, ImmutableString, Map};
use std::collections::HashMap;
use uuid::Uuid;

/// The facts about one response that hooks see (SPEC "Plugins and rules").
pub struct ResponseFacts<'a> {
    pub id: Uuid,
    pub site: &'a str,
    pub survey: &'a str,
    pub survey_version: u32,
    pub group: &'a str,
    pub submitted_at: &'a str,
    pub answers: &'a Answers,
}

/// The strings responses keep repeating (site, survey and group ids, choice values), made once
/// per compiled copy: a response's map shares them instead of allocating its own. In a busy
/// server the allocations, not the copying, were most of what building the map cost.
pub struct CommonTexts(HashMap<Box<str>, ImmutableString, ahash::RandomState>);

impl CommonTexts {
    pub fn of_site(site: &Site) -> CommonTexts {
        let mut texts = vec![site.id(), "yes", "no"];
        for survey in &site.surveys {
            texts.extend([survey.id.as_str(), survey.group.as_str()]);
            for question in &survey.questions {
                texts.extend(question.options.iter().map(|o| o.value.as_str()));
            }
        }
        CommonTexts(texts.into_iter().map(|t| (t.into(), t.into())).collect())
    }

    /// The same texts, sharing nothing with `self` (see `compiled`).
    pub fn fresh_copy(&self) -> CommonTexts {
        CommonTexts(self.0.keys().map(|t| (t.clone(), (&**t).into())).collect())
    }

    fn text(&self, s: &str) -> Dynamic {
        Dynamic::from(
            self.0
                .get(s)
                .cloned()
                .unwrap_or_else(|| ImmutableString::from(s)),
        )
    }

    fn answer(&self, value: &AnswerValue) -> Dynamic {
        match value {
            AnswerValue::Int(n) => Dynamic::from_int(*n),
            AnswerValue::Text(s) => self.text(s),
            AnswerValue::Choices(list) => {
                Dynamic::from_array(list.iter().map(|v| self.text(v)).collect())
            }
        }
    }
}

/// The `response` argument of every hook: built once per response, its `tags` updated in place
/// when the tag hooks add some. It is shared and read-only, so passing it to a hook copies
/// nothing, and a hook that tries to change it gets an error instead of changing what the next
/// hook sees (`let r = response;` still gives a hook its own copy to change).
///
/// Only the outer map is shared: rhai's size checks refuse (by panicking) a shared value nested
/// inside a map, which any hook copying the response and changing the copy would run into.
pub struct ResponseValue {
    current: Dynamic,
}

impl ResponseValue {
    pub fn new(facts: &ResponseFacts<'_>, texts: &CommonTexts) -> ResponseValue {
        let mut answers = Map::new();
        for (question, value) in facts.answers {
            answers.insert(question.as_str().into(), texts.answer(value));
        }
        let mut id = Uuid::encode_buffer();
        let mut map = Map::new();
        map.insert(
            "id".into(),
            Dynamic::from(ImmutableString::from(
                &*facts.id.hyphenated().encode_lower(&mut id),
            )),
        );
        map.insert("site".into(), texts.text(facts.site));
        map.insert("survey".into(), texts.text(facts.survey));
        map.insert(
            "survey_version".into(),
            Dynamic::from_int(i64::from(facts.survey_version)),
        );
        map.insert("group".into(), texts.text(facts.group));
        map.insert(
            "submitted_at".into(),
            Dynamic::from(ImmutableString::from(facts.submitted_at)),
        );
        map.insert("answers".into(), Dynamic::from_map(answers));
        map.insert("tags".into(), Dynamic::from_array(Array::new()));
        ResponseValue {
            current: Dynamic::from_map(map).into_read_only().into_shared(),
        }
    }

    /// The response to pass to the next hook.
    pub fn current(&self) -> Dynamic {
        self.current.clone()
    }

    /// From now on, the response carries these tags. Changed in place: no hook is running, so
    /// nothing but the next hooks will read it. rhai keeps "read-only" on each value, not on
    /// the map holding it, so the new array is marked read-only itself.
    pub fn set_tags(&mut self, tags: &[Tag]) {
        let codes: Array = tags
            .iter()
            .map(|t| Dynamic::from(ImmutableString::from(t.code.as_str())))
            .collect();
        if let Some(mut map) = self.current.write_lock::<Map>() {
            map.insert("tags".into(), Dynamic::from_array(codes).into_read_only());
        }
    }
}

/// JSON (plugin settings, rule-test answers) as a rhai value; `null` is `()`.
pub fn from_json(value: &serde_json::Value) -> Dynamic {
    use serde_json::Value;
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => Dynamic::from_array(items.iter().map(from_json).collect()),
        Value::Object(map) => Dynamic::from_map(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), from_json(v)))
                .collect(),
        ),
    }
}

/// A rhai value as JSON (webhook payloads). Values JSON cannot hold (functions, ranges, custom
/// types) are an error naming their type.
pub fn to_json(value: &Dynamic) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a number JSON can hold"));
    }
    if value.is_string() || value.is_char() {
        return Ok(Value::String(value.to_string()));
    }
    if let Some(items) = value.read_lock::<Array>() {
        return items
            .iter()
            .map(to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut out = serde_json::Map::new();
        for (k, v) in map.iter() {
            out.insert(k.to_string(), to_json(v)?);
        }
        return Ok(Value::Object(out));
    }
    Err(format!(
        "a {} cannot be sent as JSON",
        value.type_name().rsplit("::").next().unwrap_or("value")
    ))
}
