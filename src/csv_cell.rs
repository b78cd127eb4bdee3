//! Every CSV Chorus writes (the admin download, `chorus export`, `chorus invite`) goes
//! through [`SafeCsv`], so that no cell can run as a spreadsheet formula (OWASP "CSV
//! Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets
//! a leading apostrophe, which spreadsheets read as "this is text" and do not show. A plain
//! number (`-3`, `+4.5`) is left as it is: it is not a formula. Control characters other than
//! tab and newline are removed first, as they are from answers on input (records stored
//! before that rule existed are cleaned on the way out). Quoting and doubled quotes are the
//! `csv` crate's.

use crate::survey::sanitize::clean_text;
use std::borrow::Cow;
use std::io;

/// Characters that make a spreadsheet treat a cell as a formula (OWASP's list), also after
/// leading spaces, which some programs skip.
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];
/// Cells that start with these are prefixed too (OWASP lists tab and CR; a line feed is
/// what a CR becomes once cleaned).
const BLANK_STARTS: [char; 3] = ['\t', '\r', '\n'];

fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && parts.next().is_none_or(all_digits)
}

/// The cell as it is safe to write: without control characters, inert if it would start a
/// formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    let cleaned = clean_text(value);
    let head = cleaned.trim_start();
    let formula = head.starts_with(FORMULA_STARTS) && !is_plain_number(head);
    if formula || cleaned.starts_with(BLANK_STARTS) {
        Cow::Owned(format!("'{cleaned}"))
    } else {
        cleaned
    }
}

/// A CSV writer that passes every cell through [`cell`].
pub struct SafeCsv<W: io::Write> {
    inner: csv::Writer<W>,
}

impl<W: io::Write> SafeCsv<W> {
    pub fn new(out: W) -> Self {
        SafeCsv {
            inner: csv::Writer::from_writer(out),
        }
    }

    pub fn write_row<I>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.inner
            .write_record(cells.into_iter().map(|c| cell(c.as_ref()).into_owned()))
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, String> {
        self.inner.into_inner().map_err(|e| e.error().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_made_inert_numbers_and_text_are_not() {
        for bad in [
            "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\r=1", "-", "+", "  =1",
        ] {
            assert!(cell(bad).starts_with('\''), "{bad:?} → {:?}", cell(bad));
        }
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("\r\n=1"), "'\n=1");
        for fine in [
            "-3",
            "+4.5",
            "12",
            "0.25",
            "hello",
            "2026-04-01T10:00:00Z",
            "é=1",
            "1e3=1",
        ] {
            assert_eq!(cell(fine), fine);
        }
        assert_eq!(cell("a\u{0}b\u{1b}c"), "abc");
    }
}
