//! The `datetime` format.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{FormatError, Reason};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// 0000-01-01T00:00:00Z, in microseconds since the UNIX epoch.
const MIN_MICROS: i64 = days_from_civil(0, 1, 1) * SECONDS_PER_DAY * MICROS_PER_SECOND;

/// 9999-12-31T23:59:59.999999Z, in microseconds since the UNIX epoch.
const MAX_MICROS: i64 = days_from_civil(10_000, 1, 1) * SECONDS_PER_DAY * MICROS_PER_SECOND - 1;

string_newtype! {
    /// A date and time (Lexicon format `datetime`), such as
    /// `1985-04-12T23:20:50.123Z`.
    ///
    /// Accepted: the intersection of RFC 3339 and ISO 8601 that atproto
    /// uses, `YYYY-MM-DDTHH:MM:SS[.fraction]TZ`: a four-digit year, an
    /// uppercase `T`, a fraction of one or more digits, and a required
    /// timezone that is `Z` or `+hh:mm` / `-hh:mm` (but not `-00:00`). No
    /// whitespace. The fields must make a real date and time: month 1–12, a
    /// day that exists in that month, hour 0–23, minute 0–59, second 0–60
    /// (60 for a leap second), offset up to 23:59, and the time converted to
    /// UTC must not fall before year 0000.
    ///
    /// The string is kept as given, so it re-encodes losslessly. The derived
    /// `Ord` compares the strings; compare [`Datetime::timestamp_micros`] to
    /// order by time.
    Datetime, "datetime"
}

impl Datetime {
    /// The current time in UTC, with microseconds and `Z`, such as
    /// `2024-05-06T07:08:09.123456Z`.
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX),
            Err(err) => i64::try_from(err.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        Self(format_unix_micros(micros.clamp(MIN_MICROS, MAX_MICROS)))
    }

    /// The time `micros` microseconds after the UNIX epoch (before it, if
    /// negative), written in UTC with microseconds and `Z`. Fails outside
    /// years 0000 to 9999.
    pub fn from_unix_micros(micros: i64) -> Result<Self, FormatError> {
        if (MIN_MICROS..=MAX_MICROS).contains(&micros) {
            Ok(Self(format_unix_micros(micros)))
        } else {
            Err(FormatError::new(
                Self::FORMAT,
                "outside years 0000 to 9999",
                format!("{micros} microseconds since the UNIX epoch"),
            ))
        }
    }

    /// Microseconds since the UNIX epoch (negative before it), with the
    /// offset applied. Digits of the fraction past the sixth are dropped; a
    /// leap second counts as the first second of the next minute.
    pub fn timestamp_micros(&self) -> i64 {
        // The string was checked when the value was made, so parsing cannot
        // fail here; 0 only keeps this free of panics.
        parse(&self.0).map_or(0, |parts| parts.unix_micros())
    }
}

/// The fields of a datetime string.
struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// The first six digits of the fraction, as microseconds.
    micros: i64,
    /// The timezone offset east of UTC, in minutes.
    offset_minutes: i64,
}

impl Parts {
    fn unix_micros(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * SECONDS_PER_DAY + self.hour * 3600 + self.minute * 60 + self.second
            - self.offset_minutes * 60;
        seconds * MICROS_PER_SECOND + self.micros
    }
}

/// The `len` ASCII digits of `b` starting at `start`, as a number.
fn digits(b: &[u8], start: usize, len: usize) -> Option<i64> {
    b.get(start..start.checked_add(len)?)?
        .iter()
        .try_fold(0i64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
}

/// Checks that `b[at]` is `expected`.
fn punct(b: &[u8], at: usize, expected: u8, reason: &'static str) -> Result<(), Reason> {
    if b.get(at) == Some(&expected) {
        Ok(())
    } else {
        Err(reason.into())
    }
}

fn parse(s: &str) -> Result<Parts, Reason> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4).ok_or("year must be four digits")?;
    punct(b, 4, b'-', "expected '-' after the four-digit year")?;
    let month = digits(b, 5, 2).ok_or("month must be two digits")?;
    punct(b, 7, b'-', "expected '-' after the two-digit month")?;
    let day = digits(b, 8, 2).ok_or("day must be two digits")?;
    punct(
        b,
        10,
        b'T',
        "date and time must be separated by an uppercase 'T'",
    )?;
    let hour = digits(b, 11, 2).ok_or("hour must be two digits")?;
    punct(b, 13, b':', "expected ':' after the two-digit hour")?;
    let minute = digits(b, 14, 2).ok_or("minute must be two digits")?;
    punct(
        b,
        16,
        b':',
        "expected ':' after the two-digit minute (seconds are required)",
    )?;
    let second = digits(b, 17, 2).ok_or("second must be two digits")?;

    let mut pos = 19;
    let mut micros = 0;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let fraction = b.get(pos..).unwrap_or_default();
        let len = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if len == 0 {
            return Err("fractional seconds need at least one digit after '.'".into());
        }
        // The first six digits, padded with zeros when there are fewer.
        micros = (0..6).fold(0, |acc, i| {
            let digit = fraction.get(i).filter(|_| i < len).map_or(0, |d| d - b'0');
            acc * 10 + i64::from(digit)
        });
        pos += len;
    }

    let (offset_minutes, pos) = parse_timezone(b, pos)?;
    if pos != b.len() {
        return Err("unexpected characters after the timezone".into());
    }

    if !(1..=12).contains(&month) {
        return Err(format!("month out of range: {month:02}").into());
    }
    let month_days = days_in_month(year, month);
    if !(1..=month_days).contains(&day) {
        return Err(format!(
            "day out of range: {day:02} (month {month:02} of {year:04} has {month_days} days)"
        )
        .into());
    }
    if hour > 23 {
        return Err(format!("hour out of range: {hour:02}").into());
    }
    if minute > 59 {
        return Err(format!("minute out of range: {minute:02}").into());
    }
    if second > 60 {
        return Err(format!("second out of range: {second:02}").into());
    }
    let parts = Parts {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
        offset_minutes,
    };
    // Only a time in year 0000 with a positive offset can fall before it.
    if year == 0 && parts.unix_micros() < MIN_MICROS {
        return Err("falls before year 0000 once converted to UTC".into());
    }
    Ok(parts)
}

/// Reads the timezone starting at `b[pos]`: `Z` or `±hh:mm`. Returns the
/// offset east of UTC in minutes and the position after the timezone.
fn parse_timezone(b: &[u8], pos: usize) -> Result<(i64, usize), Reason> {
    match b.get(pos) {
        None => Err("timezone is required ('Z' or ±hh:mm)".into()),
        Some(b'Z') => Ok((0, pos + 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let hours = digits(b, pos + 1, 2);
            let colon = b.get(pos + 3) == Some(&b':');
            let minutes = digits(b, pos + 4, 2);
            let (Some(hours), true, Some(minutes)) = (hours, colon, minutes) else {
                return Err("timezone offset must be ±hh:mm".into());
            };
            if sign == b'-' && hours == 0 && minutes == 0 {
                return Err("offset -00:00 is not allowed (use Z or +00:00)".into());
            }
            if hours > 23 || minutes > 59 {
                return Err(
                    format!("timezone offset out of range: {hours:02}:{minutes:02}").into(),
                );
            }
            let offset = hours * 60 + minutes;
            Ok((if sign == b'-' { -offset } else { offset }, pos + 6))
        }
        Some(_) => Err("timezone must be 'Z' (uppercase) or ±hh:mm".into()),
    }
}

fn check(s: &str) -> Result<(), Reason> {
    parse(s).map(|_| ())
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian
/// calendar.
///
/// Counts in 400-year eras that start on March 1st, so the leap day is the
/// last day of its year and every era has the same 146,097 days.
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    // Months counted from March: March is 0, February is 11.
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719,468 days lie between 0000-03-01 and 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) `days` days after 1970-01-01: the inverse of
/// [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    // Remove the leap days (every 4th year, not every 100th, every 400th)
    // to find the year within the era.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes a UNIX time in microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
fn format_unix_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_valid() {
        let now = Datetime::now();
        assert!(Datetime::validate(now.as_str()).is_ok(), "{now}");
        assert_eq!(now.len(), "2024-05-06T07:08:09.123456Z".len(), "{now}");
        assert!(now.ends_with('Z'));
        // After 2024-01-01.
        assert!(now.timestamp_micros() > 1_704_067_200_000_000);
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (days_from_civil(0, 1, 1)..days_from_civil(10_000, 1, 1)).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!((1..=days_in_month(y, m)).contains(&d));
        }
    }

    #[test]
    fn from_unix_micros_and_back() {
        for micros in [0, 1, -1, 482_196_050_123_456, MIN_MICROS, MAX_MICROS] {
            let dt = Datetime::from_unix_micros(micros).unwrap();
            assert!(Datetime::validate(dt.as_str()).is_ok(), "{dt}");
            assert_eq!(dt.timestamp_micros(), micros, "{dt}");
        }
        assert_eq!(
            Datetime::from_unix_micros(482_196_050_123_456).unwrap(),
            "1985-04-12T23:20:50.123456Z"
        );
        assert_eq!(
            Datetime::from_unix_micros(MIN_MICROS).unwrap(),
            "0000-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Datetime::from_unix_micros(MAX_MICROS).unwrap(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert!(Datetime::from_unix_micros(MIN_MICROS - 1).is_err());
        assert!(Datetime::from_unix_micros(MAX_MICROS + 1).is_err());
    }

    #[test]
    fn timestamp_applies_offset_and_fraction() {
        let micros = |s: &str| Datetime::new(s).unwrap().timestamp_micros();
        let utc = micros("1985-04-12T23:20:50.123Z");
        assert_eq!(utc, 482_196_050_123_000);
        assert_eq!(micros("1985-04-13T01:20:50.123+02:00"), utc);
        assert_eq!(micros("1985-04-12T16:20:50.123-07:00"), utc);
        assert_eq!(micros("1985-04-12T23:20:50.1234567Z"), utc + 456);
        assert_eq!(micros("1985-04-12T23:20:50.1Z"), utc - 23_000);
        assert_eq!(micros("1985-04-12T23:20:50Z"), utc - 123_000);
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Datetime::validate(s).unwrap_err().reason;
        assert_eq!(reason("1985-13-12T23:20:50Z"), "month out of range: 13");
        assert_eq!(
            reason("1985-02-29T23:20:50Z"),
            "day out of range: 29 (month 02 of 1985 has 28 days)"
        );
        assert!(Datetime::validate("1984-02-29T23:20:50Z").is_ok());
        assert_eq!(
            reason("0000-01-01T00:00:00+01:00"),
            "falls before year 0000 once converted to UTC"
        );
        assert_eq!(
            reason("1985-04-12T23:20:50.123-00:00"),
            "offset -00:00 is not allowed (use Z or +00:00)"
        );
        assert_eq!(
            reason("1985-04-12T23:20:50.123"),
            "timezone is required ('Z' or ±hh:mm)"
        );
        assert_eq!(
            reason("1985-04-12t23:20:50Z"),
            "date and time must be separated by an uppercase 'T'"
        );
        assert_eq!(
            reason("1985-04-12T23:20:50.Z"),
            "fractional seconds need at least one digit after '.'"
        );
        assert_eq!(
            reason("1985-04-12T23:20:50Z "),
            "unexpected characters after the timezone"
        );
        assert_eq!(
            reason("1985-04-12T23:20:50+24:00"),
            "timezone offset out of range: 24:00"
        );
        assert!(Datetime::validate("1985-04-12T23:59:60Z").is_ok());
    }

    #[test]
    fn serde_round_trip() {
        let dt = Datetime::new("1985-04-12T23:20:50.123+01:45").unwrap();
        let json = serde_json::to_string(&dt).unwrap();
        assert_eq!(json, "\"1985-04-12T23:20:50.123+01:45\"");
        assert_eq!(serde_json::from_str::<Datetime>(&json).unwrap(), dt);
        let err = serde_json::from_str::<Datetime>("\"1985-00-12T23:20:50Z\"").unwrap_err();
        assert!(err.to_string().contains("month out of range: 00"), "{err}");
    }
}
