//! What a respondent types is stored without control characters: an admin's terminal or
//! spreadsheet would interpret NUL, ESC (ANSI sequences), CSI (U+009B) and the like.

use std::borrow::Cow;

/// Removes every C0 and C1 control character (Unicode category Cc: U+0000–U+001F,
/// U+007F–U+009F) except tab and line feed, and turns CR LF and a lone CR into LF, so a
/// line break is one character whatever the browser sent.
pub fn clean_text(s: &str) -> Cow<'_, str> {
    let keep = |c: char| !c.is_control() || c == '\t' || c == '\n';
    if s.chars().all(keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() != Some(&'\n') {
                out.push('\n');
            }
        } else if keep(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::clean_text;

    #[test]
    fn controls_go_tab_and_newline_stay() {
        assert_eq!(clean_text("a\u{0}b\u{1b}[31mc\u{9b}d\u{7f}e"), "ab[31mcde");
        assert_eq!(clean_text("one\ttwo\nthree"), "one\ttwo\nthree");
        assert_eq!(clean_text("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert_eq!(clean_text("¿Qué? — ok"), "¿Qué? — ok");
    }
}
