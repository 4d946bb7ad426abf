//! When a server says calls may be made again: the `ratelimit-reset` and
//! `Retry-After` response headers.
//!
//! Both are read forgivingly: a value that does not parse, or that lies past
//! what [`SystemTime`] can hold, counts as absent. Nothing here panics,
//! whatever the server sends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::RETRY_AFTER;

/// The rate-limit header of the atproto reference servers.
const RATELIMIT_RESET: &str = "ratelimit-reset";

/// A `ratelimit-reset` below this many seconds is a delay (as in the IETF
/// `RateLimit` header drafts) rather than a Unix time, which would lie before
/// September 2001.
const DELAY_THRESHOLD: u64 = 1_000_000_000;

/// When the server says requests may be made again, from the headers of a
/// response received at `now`: `ratelimit-reset` (Unix seconds, or a delay in
/// seconds when small) if it parses, else `Retry-After` (delay in seconds or
/// an HTTP-date).
pub(crate) fn reset_time(headers: &HeaderMap, now: SystemTime) -> Option<SystemTime> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value| std::str::from_utf8(value.as_bytes()).ok())
    };
    text(RATELIMIT_RESET)
        .and_then(|value| parse_ratelimit_reset(value, now))
        .or_else(|| text(RETRY_AFTER.as_str()).and_then(|value| parse_retry_after(value, now)))
}

/// Reads `ratelimit-reset`: Unix seconds (`1700000000`, a fraction allowed),
/// or a delay in seconds when the number is too small to be a recent date.
pub(crate) fn parse_ratelimit_reset(text: &str, now: SystemTime) -> Option<SystemTime> {
    let seconds = parse_seconds(text)?;
    if seconds.as_secs() < DELAY_THRESHOLD {
        now.checked_add(seconds)
    } else {
        UNIX_EPOCH.checked_add(seconds)
    }
}

/// Reads `Retry-After`: a delay in seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, or the obsolete RFC 850 and asctime
/// forms).
pub(crate) fn parse_retry_after(text: &str, now: SystemTime) -> Option<SystemTime> {
    let text = text.trim();
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        now.checked_add(parse_seconds(text)?)
    } else {
        parse_http_date(text)
    }
}

/// A non-negative decimal number of seconds, with an optional fraction.
fn parse_seconds(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let mut nanos = 0u32;
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut scale = 100_000_000u32;
        for digit in fraction.bytes().take(9) {
            nanos += u32::from(digit - b'0') * scale;
            scale /= 10;
        }
    }
    // `nanos` is below one second, so this cannot overflow.
    Some(Duration::new(seconds, nanos))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Reads an HTTP-date in any of the three forms of RFC 9110:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
/// - asctime: `Sun Nov  6 08:49:37 1994`
///
/// The weekday is not checked against the date.
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (day, month, year, time) = match text.split_once(',') {
        Some((_weekday, rest)) => {
            let mut parts = rest.split_whitespace();
            let date = parts.next()?;
            let (day, month, year) = if date.contains('-') {
                let mut date = date.split('-');
                let fields = (date.next()?, date.next()?, date.next()?);
                if date.next().is_some() {
                    return None;
                }
                fields
            } else {
                (date, parts.next()?, parts.next()?)
            };
            let time = parts.next()?;
            let zone = parts.next()?;
            if !matches!(zone, "GMT" | "UTC" | "UT" | "Z") || parts.next().is_some() {
                return None;
            }
            (day, month, year, time)
        }
        None => {
            let mut parts = text.split_whitespace();
            let _weekday = parts.next()?;
            let month = parts.next()?;
            let day = parts.next()?;
            let time = parts.next()?;
            let year = parts.next()?;
            if parts.next().is_some() {
                return None;
            }
            (day, month, year, time)
        }
    };

    let day = parse_number(day, 1, 2)?;
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))
        .and_then(|i| u32::try_from(i + 1).ok())?;
    let year = match year.len() {
        // RFC 850's two-digit years: RFC 9110 reads a year more than 50 years
        // ahead as the past century; pivoting at 70 (the Unix epoch) agrees
        // for any date this client will meet.
        2 => {
            let yy = parse_number(year, 2, 2)?;
            if yy >= 70 { 1900 + yy } else { 2000 + yy }
        }
        _ => parse_number(year, 4, 4)?,
    };
    let mut clock = time.split(':');
    let hour = parse_number(clock.next()?, 2, 2)?;
    let minute = parse_number(clock.next()?, 2, 2)?;
    let second = parse_number(clock.next()?, 2, 2)?;
    if clock.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }

    let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
    let seconds =
        days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second);
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))
    }
}

/// A number of `min..=max` ASCII digits.
fn parse_number(text: &str, min: usize, max: usize) -> Option<u32> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let expected = Some(at(784_111_777));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
        assert_eq!(
            parse_http_date("Wed, 18 May 2033 03:33:20 GMT"),
            Some(at(2_000_000_000))
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(at(1_709_164_800))
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(at(0))
        );
        assert_eq!(
            parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"),
            UNIX_EPOCH.checked_sub(Duration::from_secs(1))
        );
    }

    #[test]
    fn bad_http_dates_are_absent() {
        for text in [
            "",
            ",",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 2023 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37:00 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT trailing",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37",
            "soon",
            "Sun, ０6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
    }

    #[test]
    fn retry_after_delays_and_dates() {
        let now = at(1_000);
        assert_eq!(parse_retry_after("120", now), Some(at(1_120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(now));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(now + Duration::from_millis(1_500))
        );
        assert_eq!(
            parse_retry_after("Wed, 18 May 2033 03:33:20 GMT", now),
            Some(at(2_000_000_000))
        );
        for text in [
            "-1",
            "1e3",
            "12abc",
            "1.",
            "1.x",
            "99999999999999999999999",
            "18446744073709551615",
        ] {
            assert_eq!(parse_retry_after(text, now), None, "{text:?}");
        }
    }

    #[test]
    fn ratelimit_reset_unix_seconds_or_delay() {
        let now = at(1_700_000_000);
        assert_eq!(
            parse_ratelimit_reset("1700000060", now),
            Some(at(1_700_000_060))
        );
        assert_eq!(parse_ratelimit_reset("30", now), Some(at(1_700_000_030)));
        assert_eq!(parse_ratelimit_reset("abc", now), None);
        assert_eq!(parse_ratelimit_reset("", now), None);
        assert_eq!(parse_ratelimit_reset("18446744073709551615", now), None);
    }

    #[test]
    fn headers_prefer_ratelimit_reset() {
        let now = at(1_000);
        let mut headers = HeaderMap::new();
        assert_eq!(reset_time(&headers, now), None);
        headers.insert(RETRY_AFTER, http::HeaderValue::from_static("5"));
        assert_eq!(reset_time(&headers, now), Some(at(1_005)));
        headers.insert(
            RATELIMIT_RESET,
            http::HeaderValue::from_static("2000000000"),
        );
        assert_eq!(reset_time(&headers, now), Some(at(2_000_000_000)));
        headers.insert(RATELIMIT_RESET, http::HeaderValue::from_static("garbage"));
        assert_eq!(reset_time(&headers, now), Some(at(1_005)));
        headers.insert(
            RETRY_AFTER,
            http::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert_eq!(reset_time(&headers, now), None);
    }
}
