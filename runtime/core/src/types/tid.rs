//! The `tid` format.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{FormatError, Reason};

/// Number of characters in every TID.
const LEN: usize = 13;

/// Largest timestamp a TID holds: 53 bits of microseconds.
const MAX_TIMESTAMP: u64 = (1 << 53) - 1;

/// Largest clock identifier a TID holds: 10 bits.
const MAX_CLOCK_ID: u16 = (1 << 10) - 1;

string_newtype! {
    /// A timestamp identifier (Lexicon format `tid`), such as
    /// `3jzfcijpj2z2a`: a 64-bit integer written in base32-sortable.
    ///
    /// Accepted: exactly 13 characters from `234567abcdefghijklmnopqrstuvwxyz`
    /// (lowercase), the first one from `234567abcdefghij`, as in the spec's
    /// reference syntax.
    ///
    /// The integer holds a zero top bit, 53 bits of microseconds since the
    /// UNIX epoch and a 10-bit clock identifier. TIDs sort as strings in the
    /// same order as their integers, so the derived `Ord` is chronological.
    /// A first character from `c` to `j`, which the syntax allows, sets the
    /// top bit: [`Tid::to_u64`] keeps it, [`Tid::timestamp_micros`] ignores it.
    Tid, "tid"
}

impl Tid {
    /// The TID for a timestamp (microseconds since the UNIX epoch, at most
    /// 2^53 - 1) and a clock identifier (at most 1023).
    pub fn from_parts(timestamp_micros: u64, clock_id: u16) -> Result<Self, FormatError> {
        if timestamp_micros > MAX_TIMESTAMP {
            return Err(FormatError::new(
                Self::FORMAT,
                format!(
                    "timestamp too large: {timestamp_micros} microseconds, max {MAX_TIMESTAMP}"
                ),
                format!("timestamp {timestamp_micros}, clock id {clock_id}"),
            ));
        }
        if clock_id > MAX_CLOCK_ID {
            return Err(FormatError::new(
                Self::FORMAT,
                format!("clock id too large: {clock_id}, max {MAX_CLOCK_ID}"),
                format!("timestamp {timestamp_micros}, clock id {clock_id}"),
            ));
        }
        Ok(Self::from_u64(
            (timestamp_micros << 10) | u64::from(clock_id),
        ))
    }

    /// A TID for the current system time and `clock_id` (at most 1023). A
    /// clock set before 1970 gives timestamp zero.
    ///
    /// Two calls within the same microsecond give the same TID, and a clock
    /// set back gives smaller ones: for unique, increasing TIDs (record keys,
    /// repository revisions) use [`Tid::next`].
    pub fn now(clock_id: u16) -> Result<Self, FormatError> {
        Self::from_parts(system_micros().min(MAX_TIMESTAMP), clock_id)
    }

    /// A new TID from this process's generator: no two calls in the process
    /// return the same one, from any thread, and each is greater than every
    /// one returned before it.
    ///
    /// The timestamp is the system time, or one microsecond after the last
    /// TID's when the clock has not moved on since (many calls in one
    /// microsecond, a clock set back): TIDs then run ahead of the clock until
    /// it catches up. The clock identifier is drawn at random once per
    /// process (from the standard library's randomly keyed hasher, which
    /// the operating system seeds), so that TIDs made at the same moment by
    /// other processes most likely differ from this one's too.
    ///
    /// Fails only once the timestamps run out (a clock or a run of TIDs past
    /// 2^53 - 1 microseconds, in the year 2255); no TID is handed out then.
    ///
    /// ```
    /// use atlex_core::types::Tid;
    ///
    /// let first = Tid::next()?;
    /// let second = Tid::next()?;
    /// assert!(first < second);
    /// assert_eq!(first.clock_id(), second.clock_id());
    /// # Ok::<(), atlex_core::types::FormatError>(())
    /// ```
    pub fn next() -> Result<Self, FormatError> {
        static LAST: AtomicU64 = AtomicU64::new(0);
        static CLOCK_ID: OnceLock<u16> = OnceLock::new();
        let clock_id = *CLOCK_ID.get_or_init(random_clock_id);
        Self::next_from(&LAST, system_micros(), clock_id)
    }

    /// The TID after `last` (a timestamp, updated) for clock reading `now`:
    /// `now`, or `last` + 1 when `now` is not past it.
    fn next_from(last: &AtomicU64, now: u64, clock_id: u16) -> Result<Self, FormatError> {
        let after = |previous: u64| now.max(previous.saturating_add(1));
        let (Ok(previous) | Err(previous)) =
            last.fetch_update(Ordering::AcqRel, Ordering::Acquire, |previous| {
                Some(after(previous)).filter(|&next| next <= MAX_TIMESTAMP)
            });
        // Past the largest timestamp (the update was refused), this is the
        // error that says so.
        Self::from_parts(after(previous), clock_id)
    }

    /// The 64-bit integer this TID writes.
    pub fn to_u64(&self) -> u64 {
        self.0.bytes().fold(0u64, |acc, b| {
            (acc << 5) | u64::from(digit_value(b).unwrap_or(0))
        })
    }

    /// The timestamp: microseconds since the UNIX epoch (the 53 bits after
    /// the top bit).
    pub fn timestamp_micros(&self) -> u64 {
        (self.to_u64() >> 10) & MAX_TIMESTAMP
    }

    /// The clock identifier (the low 10 bits).
    pub fn clock_id(&self) -> u16 {
        // The mask keeps 10 bits, so the value always fits.
        u16::try_from(self.to_u64() & u64::from(MAX_CLOCK_ID)).unwrap_or_default()
    }

    fn from_u64(value: u64) -> Self {
        let text = (0..LEN)
            .rev()
            .map(|i| digit_char(value >> (5 * i)))
            .collect();
        Self(text)
    }
}

/// Microseconds since the UNIX epoch by the system clock; zero for a clock
/// set before 1970.
fn system_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
        })
}

/// A clock identifier drawn at random: 10 bits of a hash with the standard
/// library's random keys (seeded from the operating system's random source
/// once per thread, and different for each `RandomState`).
fn random_clock_id() -> u16 {
    use std::hash::BuildHasher as _;
    let hash = std::collections::hash_map::RandomState::new().hash_one(());
    // The mask keeps 10 bits, so the value always fits.
    u16::try_from(hash & u64::from(MAX_CLOCK_ID)).unwrap_or_default()
}

/// The base32-sortable digit (`234567abcdefghijklmnopqrstuvwxyz`) for the
/// low five bits of `value`.
fn digit_char(value: u64) -> char {
    // The mask keeps 5 bits, so the value always fits.
    let digit = u8::try_from(value & 31).unwrap_or_default();
    char::from(if digit < 6 {
        b'2' + digit
    } else {
        b'a' + (digit - 6)
    })
}

/// The value of a base32-sortable digit.
fn digit_value(b: u8) -> Option<u8> {
    match b {
        b'2'..=b'7' => Some(b - b'2'),
        b'a'..=b'z' => Some(b - b'a' + 6),
        _ => None,
    }
}

fn check(s: &str) -> Result<(), Reason> {
    if s.len() != LEN {
        return Err(format!("must be exactly {LEN} characters, got {} bytes", s.len()).into());
    }
    if let Some(c) = super::first_refused(s, |b| digit_value(b).is_some()) {
        return Err(format!(
            "invalid character {c:?}: only lowercase base32-sortable digits 234567a-z are allowed"
        )
        .into());
    }
    if !s.starts_with(|c: char| matches!(c, '2'..='7' | 'a'..='j')) {
        return Err("first character must be one of 234567abcdefghij".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_round_trip() {
        for (ts, clock) in [
            (0, 0),
            (1, 1),
            (1_700_000_000_123_456, 42),
            (MAX_TIMESTAMP, MAX_CLOCK_ID),
        ] {
            let tid = Tid::from_parts(ts, clock).unwrap();
            assert!(Tid::validate(tid.as_str()).is_ok(), "{tid}");
            assert_eq!(tid.timestamp_micros(), ts);
            assert_eq!(tid.clock_id(), clock);
            assert_eq!(Tid::new(tid.as_str()).unwrap(), tid);
        }
        assert_eq!(Tid::from_parts(0, 0).unwrap(), "2222222222222");
        assert_eq!(
            Tid::from_parts(MAX_TIMESTAMP, MAX_CLOCK_ID).unwrap(),
            "bzzzzzzzzzzzz"
        );
    }

    #[test]
    fn known_value() {
        let tid = Tid::new("3jzfcijpj2z2a").unwrap();
        assert_eq!(tid.timestamp_micros(), 1_688_137_381_887_007);
        assert_eq!(tid.clock_id(), 6);
        assert_eq!(
            Tid::from_parts(tid.timestamp_micros(), tid.clock_id()).unwrap(),
            tid
        );
    }

    #[test]
    fn from_parts_rejects_out_of_range() {
        let err = Tid::from_parts(MAX_TIMESTAMP + 1, 0).unwrap_err();
        assert!(err.reason.starts_with("timestamp too large"), "{err}");
        let err = Tid::from_parts(0, 1024).unwrap_err();
        assert_eq!(err.reason, "clock id too large: 1024, max 1023");
    }

    #[test]
    fn order_is_chronological() {
        let a = Tid::from_parts(1_000, 5).unwrap();
        let b = Tid::from_parts(1_001, 0).unwrap();
        assert!(a < b);
        let now = Tid::now(7).unwrap();
        assert!(now > b);
        assert_eq!(now.clock_id(), 7);
        assert!(Tid::now(1024).is_err());
    }

    #[test]
    fn next_is_unique_and_increasing_across_threads() {
        const THREADS: usize = 8;
        const CALLS: usize = 5_000;
        let runs: Vec<Vec<Tid>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| (0..CALLS).map(|_| Tid::next().unwrap()).collect::<Vec<_>>())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let clock_id = runs[0][0].clock_id();
        let mut all = std::collections::HashSet::new();
        for run in &runs {
            assert!(run.windows(2).all(|pair| pair[0] < pair[1]));
            assert!(run.iter().all(|tid| tid.clock_id() == clock_id));
            all.extend(run.iter().cloned());
        }
        assert_eq!(all.len(), THREADS * CALLS);
        // Later calls are greater than all of these.
        let later = Tid::next().unwrap();
        assert!(all.iter().all(|tid| *tid < later));
        assert!(Tid::validate(later.as_str()).is_ok());
    }

    #[test]
    fn next_runs_ahead_of_a_clock_that_stands_still_or_goes_back() {
        let last = AtomicU64::new(0);
        let readings = [1_000, 1_000, 1_000, 999, 500, 0, 1_002, 2_000, 1_999, 5_000];
        let expected = [
            1_000, 1_001, 1_002, 1_003, 1_004, 1_005, 1_006, 2_000, 2_001, 5_000,
        ];
        let got: Vec<u64> = readings
            .iter()
            .map(|&now| {
                let tid = Tid::next_from(&last, now, 9).unwrap();
                assert_eq!(tid.clock_id(), 9);
                tid.timestamp_micros()
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(last.load(Ordering::Acquire), 5_000);
    }

    #[test]
    fn next_fails_once_the_timestamps_run_out() {
        let last = AtomicU64::new(MAX_TIMESTAMP - 1);
        let tid = Tid::next_from(&last, 0, 3).unwrap();
        assert_eq!(tid.timestamp_micros(), MAX_TIMESTAMP);
        let err = Tid::next_from(&last, 0, 3).unwrap_err();
        assert!(err.reason.starts_with("timestamp too large"), "{err}");
        // Nothing was taken.
        assert_eq!(last.load(Ordering::Acquire), MAX_TIMESTAMP);
        // A clock past the range is refused too, and leaves the last as it was.
        let last = AtomicU64::new(0);
        assert!(Tid::next_from(&last, MAX_TIMESTAMP + 1, 3).is_err());
        assert!(Tid::next_from(&last, u64::MAX, 3).is_err());
        assert_eq!(last.load(Ordering::Acquire), 0);
    }

    #[test]
    fn clock_ids_are_drawn_at_random() {
        let drawn: std::collections::HashSet<u16> = (0..64).map(|_| random_clock_id()).collect();
        assert!(drawn.iter().all(|&id| id <= MAX_CLOCK_ID));
        // 64 draws from 1024 values: all equal only if nothing is random.
        assert!(drawn.len() > 1, "{drawn:?}");
    }

    #[test]
    fn reasons_and_serde() {
        let reason = |s: &str| Tid::validate(s).unwrap_err().reason;
        assert_eq!(reason("222"), "must be exactly 13 characters, got 3 bytes");
        assert_eq!(
            reason("kjzfcijpj2z2a"),
            "first character must be one of 234567abcdefghij"
        );
        assert!(reason("3jzfcijpj2z21").starts_with("invalid character '1'"));
        assert!(reason("3jzfcijpj2zé").starts_with("invalid character 'é'"));
        let tid = Tid::new("3jzfcijpj2z2a").unwrap();
        let json = serde_json::to_string(&tid).unwrap();
        assert_eq!(serde_json::from_str::<Tid>(&json).unwrap(), tid);
        let err = serde_json::from_str::<Tid>("\"zzzzzzzzzzzzz\"").unwrap_err();
        assert!(err.to_string().contains("first character"), "{err}");
    }
}
