//! Time as Chorus keeps it: milliseconds since the epoch (UTC) and RFC 3339 with milliseconds.
//! Ids are UUID v7, whose first 48 bits are the creation time in milliseconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

pub const DAY_MS: u64 = 86_400_000;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 (UTC, milliseconds) of milliseconds since the epoch.
pub fn rfc3339_of_ms(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// RFC 3339 (UTC, milliseconds) of the instant inside a UUID v7.
pub fn rfc3339_of_id(id: Uuid) -> String {
    rfc3339_of_ms(ms_of_id(id) as i64)
}

/// RFC 3339 of now.
pub fn now_rfc3339() -> String {
    rfc3339_of_ms(now_ms())
}

/// Milliseconds since the epoch inside a UUID v7 (0 for other versions).
pub fn ms_of_id(id: Uuid) -> u64 {
    id.get_timestamp()
        .map(|t| {
            let (secs, nanos) = t.to_unix();
            secs * 1000 + u64::from(nanos / 1_000_000)
        })
        .unwrap_or(0)
}

/// Days since 1970-01-01 (UTC) of the instant inside a UUID v7.
pub fn day_of_id(id: Uuid) -> u64 {
    ms_of_id(id) / DAY_MS
}

/// The smallest UUID v7 at or after a millisecond timestamp: a seek position for time bounds.
pub fn min_id_at_ms(ms: u64) -> Uuid {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    Uuid::from_bytes(b)
}

/// Milliseconds since the epoch of an RFC 3339 instant.
pub fn ms_of_rfc3339(at: &str) -> Option<i64> {
    OffsetDateTime::parse(at, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Milliseconds since the epoch of an RFC 3339 instant or a `YYYY-MM-DD` date (UTC midnight);
/// the message says what was expected.
pub fn parse_instant_ms(value: &str) -> Result<u64, String> {
    let bad = || format!("\"{value}\" is neither an RFC 3339 time nor a YYYY-MM-DD date");
    let at = match OffsetDateTime::parse(value, &Rfc3339) {
        Ok(t) => t,
        Err(_) => time::Date::parse(
            value,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| bad())?
        .midnight()
        .assume_utc(),
    };
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad())
}

/// Day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn date_of_day(day: u64) -> String {
    OffsetDateTime::from_unix_timestamp(day as i64 * 86_400)
        .map(|t| {
            t.date()
                .format(&time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// The day number of the first day of the UTC month that `day` is in.
pub fn month_start_of_day(day: u64) -> u64 {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(day as i64 * 86_400) else {
        return day;
    };
    day - u64::from(t.day() - 1)
}

/// The day number of the first day of the month after the one that starts at `start`.
pub fn next_month_start(start: u64) -> u64 {
    // Every month has 28 to 31 days: 32 days on is always inside the next month.
    month_start_of_day(start + 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_time_round_trips() {
        let id = Uuid::now_v7();
        let ms = ms_of_id(id);
        assert!(min_id_at_ms(ms) <= id);
        assert!(min_id_at_ms(ms + 1) > id);
        assert_eq!(ms_of_rfc3339(&rfc3339_of_id(id)), Some(ms as i64));
    }

    #[test]
    fn instants_and_dates_parse() {
        assert_eq!(parse_instant_ms("1970-01-02"), Ok(DAY_MS));
        assert_eq!(parse_instant_ms("1970-01-01T00:00:01Z"), Ok(1000));
        assert!(parse_instant_ms("yesterday").is_err());
        assert_eq!(date_of_day(1), "1970-01-02");
    }

    #[test]
    fn months_start_on_the_first() {
        // 2026-03-18 is day 20530; 2026-03-01 is 20513; 2026-04-01 is 20544.
        assert_eq!(month_start_of_day(20530), 20513);
        assert_eq!(month_start_of_day(20513), 20513);
        assert_eq!(next_month_start(20513), 20544);
        assert_eq!(
            date_of_day(next_month_start(month_start_of_day(20530))),
            "2026-04-01"
        );
        // February of a leap year.
        let feb = month_start_of_day(20513 - 1);
        assert_eq!(date_of_day(feb), "2026-02-01");
        assert_eq!(next_month_start(feb), 20513);
    }
}
