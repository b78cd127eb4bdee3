//! Messages a beginner can act on, found in the script's text when rhai's own is not enough:
//! which answer was empty when a method was read on `()`, and which loop was running when a
//! hook ran out of operations or time (rhai gives no position for those). Only on the error
//! path: nothing here runs for a hook that succeeds.

use crate::survey::load::line_col;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    Punct(char),
}

/// The identifiers and punctuation of a script with their byte offsets; comments, strings and
/// characters are skipped (their content is not code).
fn tokens(text: &str) -> Vec<(Token<'_>, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if let Some(comment) = rest.strip_prefix("/*") {
            i += comment.find("*/").map_or(rest.len(), |e| e + 4);
        } else if c == b'"' || c == b'`' || c == b'\'' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != c {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            i = j + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            out.push((Token::Ident(&rest[..len]), i));
            i += len;
        } else {
            if !c.is_ascii_whitespace() {
                out.push((Token::Punct(c as char), i));
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Each `fn name(...) { body }` of the script: name and the token range of its body.
fn functions<'a>(toks: &[(Token<'a>, usize)]) -> Vec<(&'a str, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    for (i, window) in toks.windows(2).enumerate() {
        let (Token::Ident("fn"), Token::Ident(name)) = (window[0].0, window[1].0) else {
            continue;
        };
        let Some(open) = (i + 2..toks.len()).find(|&j| toks[j].0 == Token::Punct('{')) else {
            continue;
        };
        let mut depth = 0;
        for (j, (tok, _)) in toks.iter().enumerate().skip(open) {
            match tok {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        found.push((name, open + 1..j));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// Line and column of every loop (`while`, `loop`, `for`) the function `hook` can run: its own
/// and those of the script's functions it calls, directly or not. In text order.
pub fn loops_run_by(text: &str, hook: &str) -> Vec<(usize, usize)> {
    let toks = tokens(text);
    let fns = functions(&toks);
    let mut visited = vec![hook];
    let mut queue = vec![hook];
    let mut offsets = Vec::new();
    while let Some(name) = queue.pop() {
        for (_, body) in fns.iter().filter(|(n, _)| *n == name) {
            let body = &toks[body.clone()];
            for (k, (tok, at)) in body.iter().enumerate() {
                let Token::Ident(word) = tok else { continue };
                if matches!(*word, "while" | "loop" | "for") {
                    offsets.push(*at);
                }
                let called = body
                    .get(k + 1)
                    .is_some_and(|(t, _)| *t == Token::Punct('('));
                if called && !visited.contains(word) && fns.iter().any(|(n, _)| n == word) {
                    visited.push(word);
                    queue.push(word);
                }
            }
        }
    }
    offsets.sort_unstable();
    offsets.dedup();
    offsets.into_iter().map(|o| line_col(text, o)).collect()
}

/// Where the limit struck, as a message suffix and a position: the loop when the hook can run
/// one only, else the loops to look at (the position stays the hook's).
pub fn limit_place(text: &str, hook: &str) -> (String, Option<(usize, usize)>) {
    match loops_run_by(text, hook).as_slice() {
        [] => (String::new(), None),
        [(line, col)] => (
            format!(" in the loop at line {line}: check that it ends"),
            Some((*line, *col)),
        ),
        many => {
            let lines: Vec<String> = many.iter().map(|(l, _)| l.to_string()).collect();
            (
                format!(
                    " in one of the loops at lines {}: check that each ends",
                    lines.join(", ")
                ),
                None,
            )
        }
    }
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, col: usize) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let line_text = &text[start..];
    let within = line_text
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// The dotted name (`response.answers.comments`, `c`) that ends right before `end`.
fn name_before(text: &str, end: usize) -> Option<&str> {
    let before = text[..end].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let name = before[start..].trim_matches('.');
    (!name.is_empty()).then_some(name)
}

/// What `name` stands for: itself, or the right side of its `let name = …;` before `end`.
fn resolved<'a>(text: &'a str, name: &'a str, end: usize) -> &'a str {
    let pattern = format!("let {name} =");
    text[..end]
        .rfind(&pattern)
        .and_then(|at| {
            let value = &text[at + pattern.len()..end];
            value.split(';').next().map(str::trim)
        })
        .filter(|v| !v.is_empty())
        .unwrap_or(name)
}

/// For rhai's "Function not found: to_lower (())" (a function given `()`): which answer was
/// empty and how to test for it. `None` when no argument was `()`.
pub fn unanswered_hint(text: &str, signature: &str, line: usize, col: usize) -> Option<String> {
    let (function, args) = signature.split_once(" (")?;
    let args = args.strip_suffix(')')?;
    if !args.split(", ").any(|a| a == "()") {
        return None;
    }
    let at = offset_of(text, line, col)?;
    // `x.f()`: rhai points at `f`, the value is the name before the dot. `f(x)`: the first
    // argument.
    let value = if text[..at].trim_end().ends_with('.') {
        name_before(text, text[..at].trim_end().len() - 1)?
    } else {
        let open = at + text[at..].find('(')? + 1;
        let close = text[open..].find([',', ')'])? + open;
        text[open..close].trim()
    };
    let source = resolved(text, value, at);
    let what = match source.rsplit_once("answers.") {
        Some((_, answer))
            if answer
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!("the answer `{answer}` is empty (not answered, or hidden by show_if)")
        }
        _ => format!("`{value}` is () (nothing: an unanswered answer reads as ())"),
    };
    Some(format!(
        "{what}, and `{function}` cannot be used on (); test it first with `if is_answered({value}) {{ … }}`, or give a default: `({value} ?? \"\")`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "fn tag(response) {\n    // while in a comment\n    let s = \"for loop\";\n    spin(3);\n    []\n}\nfn spin(n) {\n    let i = 0;\n    while i < n { i += 1; }\n}\nfn other() { loop { } }\n";

    #[test]
    fn finds_the_loops_a_hook_can_reach_and_only_those() {
        assert_eq!(loops_run_by(SCRIPT, "tag"), vec![(9, 5)]);
        assert_eq!(loops_run_by(SCRIPT, "other"), vec![(11, 14)]);
        assert_eq!(limit_place(SCRIPT, "tag").1, Some((9, 5)));
        let two = "fn tag(r) {\n  for x in [] {}\n  loop {}\n}\n";
        let (text, place) = limit_place(two, "tag");
        assert_eq!(place, None);
        assert!(text.contains("lines 2, 3"), "{text}");
    }

    #[test]
    fn names_the_empty_answer_of_a_method_or_a_call() {
        let method =
            "fn tag(response) {\n  let c = response.answers.comments;\n  c.to_lower()\n}\n";
        let hint = unanswered_hint(method, "to_lower (())", 3, 5).unwrap();
        assert!(hint.starts_with("the answer `comments` is empty"), "{hint}");
        assert!(hint.contains("is_answered(c)"), "{hint}");
        let call = "fn tag(r) { to_lower(r.answers.why) }";
        let hint = unanswered_hint(call, "to_lower (())", 1, 13).unwrap();
        assert!(hint.starts_with("the answer `why` is empty"), "{hint}");
        let direct = "fn tag(r) {\n  r.answers.note.len()\n}";
        let hint = unanswered_hint(direct, "len (())", 2, 18).unwrap();
        assert!(hint.contains("is_answered(r.answers.note)"), "{hint}");
        assert_eq!(unanswered_hint(direct, "len (i64)", 2, 18), None);
    }
}
