//! FHIR search parameters of the read endpoint, parsed (docs/fhir.md, "Searching"). Pure: the
//! HTTP layer hands over the query's pairs, the services run the search.
//!
//! Unknown parameters are refused rather than ignored (as a FHIR server does under
//! `Prefer: handling=strict`): a misspelt filter must not silently return everything.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// A search parameter Chorus cannot take: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    pub param: String,
    pub message: String,
}

impl SearchError {
    fn new(param: &str, message: impl Into<String>) -> SearchError {
        SearchError {
            param: param.to_string(),
            message: message.into(),
        }
    }
}

/// The survey a `Questionnaire.id` (`<site>.<survey>`) names; site and survey ids hold no dot.
pub fn split_questionnaire_id(id: &str) -> Option<(&str, &str)> {
    let (site, survey) = id.split_once('.')?;
    (!site.is_empty() && !survey.is_empty() && !survey.contains('.')).then_some((site, survey))
}

/// A Questionnaire as a QuestionnaireResponse names it: `…/Questionnaire/<id>` with an optional
/// `|version`, `Questionnaire/<id>`, or the bare id. The base of a full URL is not compared
/// with this server's: a proxy may show the server under another name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionnaireRef {
    pub site: String,
    pub survey: String,
    pub version: Option<String>,
}

impl QuestionnaireRef {
    pub fn parse(value: &str) -> Option<QuestionnaireRef> {
        let (reference, version) = match value.split_once('|') {
            Some((r, v)) => (r, Some(v.to_string())),
            None => (value, None),
        };
        let id = match reference.rsplit_once("Questionnaire/") {
            Some((_, id)) => id,
            None => reference,
        };
        let (site, survey) = split_questionnaire_id(id)?;
        Some(QuestionnaireRef {
            site: site.to_string(),
            survey: survey.to_string(),
            version: version.filter(|v| !v.is_empty()),
        })
    }
}

/// `GET /Questionnaire?url=&version=&status=`: every filter must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionnaireSearch {
    pub url: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
}

/// `GET /QuestionnaireResponse?questionnaire=&authored=&_count=&_cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseSearch {
    pub questionnaire: Option<QuestionnaireRef>,
    /// Inclusive lower bound of `authored` (milliseconds since the epoch).
    pub since_ms: Option<u64>,
    /// Exclusive upper bound of `authored`.
    pub until_ms: Option<u64>,
    pub count: Option<usize>,
    pub cursor: Option<String>,
}

/// `_format`, which every interaction accepts: only JSON is served.
fn format(value: &str) -> Result<(), SearchError> {
    match value {
        "json" | "application/json" | "application/fhir+json" => Ok(()),
        other => Err(SearchError::new(
            "_format",
            format!("\"{other}\" is not served; this server speaks application/fhir+json only"),
        )),
    }
}

fn once(slot: &mut Option<String>, param: &str, value: &str) -> Result<(), SearchError> {
    if slot.replace(value.to_string()).is_some() {
        return Err(SearchError::new(param, "given more than once"));
    }
    Ok(())
}

fn unknown(param: &str, known: &str) -> SearchError {
    SearchError::new(
        param,
        format!("not a search parameter of this resource (it takes: {known})"),
    )
}

/// The pairs of a request without a search (a read): only `_format` may be there.
pub fn parse_read(pairs: &[(String, String)]) -> Result<(), SearchError> {
    for (name, value) in pairs {
        match name.as_str() {
            "_format" => format(value)?,
            other => return Err(unknown(other, "_format")),
        }
    }
    Ok(())
}

pub fn parse_questionnaire_search(
    pairs: &[(String, String)],
) -> Result<QuestionnaireSearch, SearchError> {
    let mut search = QuestionnaireSearch::default();
    for (name, value) in pairs {
        match name.as_str() {
            "url" => once(&mut search.url, name, value)?,
            "version" => once(&mut search.version, name, value)?,
            "status" => once(&mut search.status, name, value)?,
            "_format" => format(value)?,
            other => return Err(unknown(other, "url, version, status, _format")),
        }
    }
    Ok(search)
}

pub fn parse_response_search(pairs: &[(String, String)]) -> Result<ResponseSearch, SearchError> {
    let mut search = ResponseSearch::default();
    let mut questionnaire = None;
    for (name, value) in pairs {
        match name.as_str() {
            "questionnaire" => once(&mut questionnaire, name, value)?,
            "authored" => {
                let (since, until) = authored(value)?;
                search.since_ms = max(search.since_ms, since);
                search.until_ms = min(search.until_ms, until);
            }
            "_count" => {
                if search.count.is_some() {
                    return Err(SearchError::new(name, "given more than once"));
                }
                let n = value
                    .parse()
                    .map_err(|_| SearchError::new(name, "must be a whole number"))?;
                search.count = Some(n);
            }
            "_cursor" => once(&mut search.cursor, name, value)?,
            "_format" => format(value)?,
            other => {
                return Err(unknown(
                    other,
                    "questionnaire, authored, _count, _cursor, _format",
                ))
            }
        }
    }
    if let Some(value) = questionnaire {
        search.questionnaire = Some(QuestionnaireRef::parse(&value).ok_or_else(|| {
            SearchError::new(
                "questionnaire",
                format!("\"{value}\" is not a Questionnaire of this server (…/Questionnaire/<site>.<survey>[|version])"),
            )
        })?);
    }
    Ok(search)
}

fn max(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.into_iter().chain(b).max()
}

fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.into_iter().chain(b).min()
}

/// One `authored` value (FHIR date search: a prefix `eq` `ge` `gt` `le` `lt` `sa` `eb`, then a
/// date or dateTime) as the half-open range `[since, until)` it admits. A value stands for the
/// whole period of its precision: `2026-12` is the month, `ge2026-12` from its first instant,
/// `gt2026-12` from the next month on.
pub fn authored(value: &str) -> Result<(Option<u64>, Option<u64>), SearchError> {
    let (prefix, date) = match value.get(..2) {
        Some(p @ ("eq" | "ge" | "gt" | "le" | "lt" | "sa" | "eb" | "ne" | "ap")) => {
            (p, &value[2..])
        }
        _ => ("eq", value),
    };
    let (lo, hi) = period(date).ok_or_else(|| {
        SearchError::new(
            "authored",
            format!("\"{date}\" is not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)"),
        )
    })?;
    Ok(match prefix {
        "eq" => (Some(lo), Some(hi)),
        "ge" => (Some(lo), None),
        "gt" | "sa" => (Some(hi), None),
        "lt" | "eb" => (None, Some(lo)),
        "le" => (None, Some(hi)),
        other => {
            return Err(SearchError::new(
                "authored",
                format!("prefix \"{other}\" is not supported (eq, ge, gt, le, lt, sa, eb are)"),
            ))
        }
    })
}

/// The milliseconds `[lo, hi)` a date or dateTime of FHIR's precisions covers (dates in UTC).
fn period(value: &str) -> Option<(u64, u64)> {
    let ms = |t: OffsetDateTime| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    let day = |d: Date| ms(d.midnight().assume_utc());
    let parts: Vec<&str> = value.split('-').collect();
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => {
            let y = number(y, 4)?;
            let lo = Date::from_calendar_date(y, Month::January, 1).ok()?;
            let hi = Date::from_calendar_date(y + 1, Month::January, 1).ok()?;
            Some((day(lo)?, day(hi)?))
        }
        [y, m] => {
            let (y, m) = (number(y, 4)?, number(m, 2)?);
            let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
            let lo = Date::from_calendar_date(y, month, 1).ok()?;
            let (ny, nm) = if month == Month::December {
                (y + 1, Month::January)
            } else {
                (y, month.next())
            };
            let hi = Date::from_calendar_date(ny, nm, 1).ok()?;
            Some((day(lo)?, day(hi)?))
        }
        [_, _, d] if d.len() == 2 => {
            let lo = Date::parse(
                value,
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()?;
            Some((day(lo)?, day(lo.next_day()?)?))
        }
        _ => {
            let at = OffsetDateTime::parse(value, &Rfc3339).ok()?;
            let lo = ms(at)?;
            // Seconds precision covers the whole second; a fraction is taken to the millisecond.
            let width = if value.contains('.') { 1 } else { 1000 };
            Some((lo, lo + width))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn authored_values_stand_for_their_whole_period() {
        assert_eq!(authored("1970-01-02").unwrap(), (Some(DAY), Some(2 * DAY)));
        assert_eq!(authored("ge1970-01-02").unwrap(), (Some(DAY), None));
        assert_eq!(authored("gt1970-01-02").unwrap(), (Some(2 * DAY), None));
        assert_eq!(authored("lt1970-01-02").unwrap(), (None, Some(DAY)));
        assert_eq!(authored("le1970-01-02").unwrap(), (None, Some(2 * DAY)));
        assert_eq!(authored("1970").unwrap(), (Some(0), Some(365 * DAY)));
        assert_eq!(
            authored("1970-02").unwrap(),
            (Some(31 * DAY), Some(59 * DAY))
        );
        assert_eq!(authored("eq1970-12").unwrap().1, Some(365 * DAY));
        assert_eq!(
            authored("1970-01-01T00:00:01Z").unwrap(),
            (Some(1000), Some(2000))
        );
        assert_eq!(
            authored("ge1970-01-01T01:00:00+01:00").unwrap(),
            (Some(0), None)
        );
        assert_eq!(
            authored("1970-01-01T00:00:01.5Z").unwrap(),
            (Some(1500), Some(1501))
        );
        assert_eq!(authored("ne1970").unwrap_err().param, "authored");
        assert!(authored("yesterday").is_err());
        assert!(authored("1970-13").is_err());
        assert!(authored("1970-1-01").is_err());
    }

    #[test]
    fn several_authored_values_intersect() {
        let s = parse_response_search(&pairs(&[
            ("authored", "ge1970-01-02"),
            ("authored", "lt1970-01-05"),
            ("authored", "ge1970-01-03"),
        ]))
        .unwrap();
        assert_eq!((s.since_ms, s.until_ms), (Some(2 * DAY), Some(4 * DAY)));
    }

    #[test]
    fn questionnaire_references_in_every_form() {
        let expected = QuestionnaireRef {
            site: "demo-clinic".into(),
            survey: "patient-enrollment".into(),
            version: None,
        };
        for value in [
            "https://x.org/fhir/r4/Questionnaire/demo-clinic.patient-enrollment",
            "Questionnaire/demo-clinic.patient-enrollment",
            "demo-clinic.patient-enrollment",
        ] {
            assert_eq!(QuestionnaireRef::parse(value).as_ref(), Some(&expected));
        }
        let versioned = QuestionnaireRef::parse("Questionnaire/a.b|3").unwrap();
        assert_eq!(versioned.version.as_deref(), Some("3"));
        assert!(QuestionnaireRef::parse("Questionnaire/nodot").is_none());
        assert!(QuestionnaireRef::parse("a.b.c").is_none());
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        let e = parse_response_search(&pairs(&[("status", "completed")])).unwrap_err();
        assert_eq!(e.param, "status");
        let e = parse_questionnaire_search(&pairs(&[("url", "a"), ("url", "b")])).unwrap_err();
        assert_eq!(e.message, "given more than once");
        let e = parse_read(&pairs(&[("_format", "xml")])).unwrap_err();
        assert!(e.message.contains("application/fhir+json"));
        assert!(parse_read(&pairs(&[("_format", "json")])).is_ok());
        let e = parse_response_search(&pairs(&[("_count", "ten")])).unwrap_err();
        assert_eq!(e.param, "_count");
    }
}
