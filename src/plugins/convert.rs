//! Conversions between Chorus values and rhai values.

use crate::survey::{AnswerValue, Answers};
use rhai::{Array, Dynamic, ImmutableString, Map};

/// The facts about one response that hooks see (SPEC "Plugins and rules").
pub struct ResponseFacts<'a> {
    pub id: String,
    pub site: &'a str,
    pub survey: &'a str,
    pub survey_version: u32,
    pub group: &'a str,
    pub submitted_at: &'a str,
    pub answers: &'a Answers,
}

fn text(s: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(s))
}

pub fn answer(value: &AnswerValue) -> Dynamic {
    match value {
        AnswerValue::Int(n) => Dynamic::from_int(*n),
        AnswerValue::Text(s) => text(s),
        AnswerValue::Choices(list) => Dynamic::from_array(list.iter().map(|v| text(v)).collect()),
    }
}

/// The `response` map, built once per response; `tags` is filled per hook.
///
/// `answers` is shared by every hook and read-only: reading it costs nothing per hook, and a
/// hook that tries to change it gets an error instead of changing what the next hook sees
/// (`let a = response.answers;` still gives a hook its own copy to change).
pub fn response_map(facts: &ResponseFacts<'_>) -> Map {
    let answers: Map = facts
        .answers
        .iter()
        .map(|(k, v)| (k.as_str().into(), answer(v)))
        .collect();
    let answers = Dynamic::from_map(answers).into_read_only().into_shared();
    let mut map = Map::new();
    map.insert("id".into(), text(&facts.id));
    map.insert("site".into(), text(facts.site));
    map.insert("survey".into(), text(facts.survey));
    map.insert(
        "survey_version".into(),
        Dynamic::from_int(i64::from(facts.survey_version)),
    );
    map.insert("group".into(), text(facts.group));
    map.insert("submitted_at".into(), text(facts.submitted_at));
    map.insert("answers".into(), answers);
    map.insert("tags".into(), Dynamic::from_array(Array::new()));
    map
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
