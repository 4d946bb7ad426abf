//! The format types against the atproto interop syntax vectors.
//!
//! `tests/vectors/syntax/` holds byte-identical copies of the interop files
//! `<format>_syntax_valid.txt`, `<format>_syntax_invalid.txt` and
//! `<format>_parse_invalid.txt`: one value per line, where empty lines and
//! lines starting with `#` are skipped. Lines are never trimmed, since some
//! invalid values differ from valid ones only by surrounding whitespace.
//!
//! Every line of a `_valid` file must be accepted, and every line of an
//! `_invalid` file rejected, consistently by `validate`, `FromStr` and serde
//! deserialization (from borrowed and from owned strings). All failures are
//! collected and reported together, with file and line number.
//!
//! Decisions recorded here:
//!
//! - `language_parse_invalid.txt` lists tags that are well-formed BCP 47 but
//!   not valid, because a variant or an extension singleton appears twice.
//!   Checking for repeats is cheap and needs no registry, so [`Language`]
//!   rejects them and they are tested like the other invalid vectors.
//! - `language_syntax_invalid.txt` has `de-419-DE` commented out ("allowing
//!   in naive parser"); being a comment it is not tested. [`Language`]
//!   rejects it (a second region is out of place).
//! - `aturi_syntax_invalid.txt` has the line `#at://did:plc:asdf123`, which by
//!   the file format is a comment, so it is not tested either.
//! - [`Cid`] is a decoded CID, so making one checks more than the syntax:
//!   `Cid::validate` is the syntax rule alone and accepts every
//!   `cid_syntax_valid.txt` vector, while three of them, contrived, do not
//!   decode as CIDs and are refused by `FromStr` and deserialization
//!   ([`UNDECODABLE_CIDS`]). Every other valid one is accepted and written
//!   back as it was read, whatever its multibase.

use std::collections::BTreeMap;
use std::fmt::{Debug, Display};
use std::path::PathBuf;
use std::str::FromStr;

use atlex::types::{
    AtIdentifier, AtUri, Cid, Datetime, Did, FormatError, Handle, Language, Nsid, RecordKey, Tid,
    Uri,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How many values (non-empty, non-comment lines) each vector file holds.
/// Counted independently of the reader below, so that a reader bug cannot
/// make the test check nothing.
const EXPECTED_COUNTS: &[(&str, usize)] = &[
    ("atidentifier_syntax_invalid.txt", 22),
    ("atidentifier_syntax_valid.txt", 11),
    ("aturi_syntax_invalid.txt", 72),
    ("aturi_syntax_valid.txt", 23),
    ("cid_syntax_invalid.txt", 10),
    ("cid_syntax_valid.txt", 8),
    ("datetime_parse_invalid.txt", 7),
    ("datetime_syntax_invalid.txt", 45),
    ("datetime_syntax_valid.txt", 35),
    ("did_syntax_invalid.txt", 18),
    ("did_syntax_valid.txt", 24),
    ("handle_syntax_invalid.txt", 48),
    ("handle_syntax_valid.txt", 71),
    ("language_parse_invalid.txt", 4),
    ("language_syntax_invalid.txt", 7),
    ("language_syntax_valid.txt", 18),
    ("nsid_syntax_invalid.txt", 27),
    ("nsid_syntax_valid.txt", 25),
    ("recordkey_syntax_invalid.txt", 11),
    ("recordkey_syntax_valid.txt", 16),
    ("tid_syntax_invalid.txt", 9),
    ("tid_syntax_valid.txt", 4),
    ("uri_syntax_invalid.txt", 12),
    ("uri_syntax_valid.txt", 9),
];

/// Vectors this crate knowingly disagrees with: (file, value, why). Empty:
/// every vector is honoured.
const DEVIATIONS: &[(&str, &str, &str)] = &[];

/// The `cid_syntax_valid.txt` vectors that pass the syntax rule but do not
/// decode as a CID: `Cid::validate` accepts them, making a [`Cid`] refuses
/// them.
const UNDECODABLE_CIDS: &[&str] = &[
    "mBcDxtdWx0aWhhc2g+",
    "z7x3CtScH765HvShXT",
    "7134036155352661643226414134664076",
];

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/syntax")
}

/// The values of a vector file with their 1-based line numbers: every line
/// that is not empty and does not start with `#`, untrimmed.
fn values(text: &str) -> Vec<(usize, &str)> {
    text.split('\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(index, line)| (index + 1, line))
        .collect()
}

/// Runs `line` through every way of making a `T` and checks that they agree.
/// Returns whether `line` was accepted.
fn probe<T>(line: &str, validate: fn(&str) -> Result<(), FormatError>) -> Result<bool, String>
where
    T: FromStr<Err = FormatError> + Display + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let validated = validate(line);
    let parsed = line.parse::<T>();
    let json = serde_json::to_string(line).map_err(|err| err.to_string())?;
    let borrowed = serde_json::from_str::<T>(&json);
    let owned = serde_json::from_value::<T>(serde_json::Value::String(line.to_owned()));
    match (validated, parsed, borrowed, owned) {
        (Ok(()), Ok(value), Ok(borrowed), Ok(owned)) => {
            if value.to_string() != line {
                return Err(format!("parsed value changed: {value}"));
            }
            if borrowed != value || owned != value {
                return Err("deserialized value differs from parsed value".into());
            }
            let written = serde_json::to_string(&value).map_err(|err| err.to_string())?;
            if written != json {
                return Err(format!("serialized as {written}, expected {json}"));
            }
            Ok(true)
        }
        (Err(err), Err(parse_err), Err(borrowed), Err(owned)) => {
            if err != parse_err {
                return Err(format!("validate said {err}, FromStr said {parse_err}"));
            }
            if err.value != line || err.reason.is_empty() {
                return Err(format!(
                    "error does not carry the value and a reason: {err:?}"
                ));
            }
            for de_err in [borrowed, owned] {
                if !de_err.to_string().contains(&err.to_string()) {
                    return Err(format!("deserialize error {de_err} lacks {err}"));
                }
            }
            Ok(false)
        }
        (validated, parsed, borrowed, owned) => Err(format!(
            "disagreement: validate {:?}, FromStr {:?}, deserialize borrowed {:?}, owned {:?}",
            validated.is_ok(),
            parsed.is_ok(),
            borrowed.is_ok(),
            owned.is_ok()
        )),
    }
}

/// Checks a `cid` vector that passes the syntax rule but does not decode:
/// `validate` accepts it, and every way of making a [`Cid`] refuses it with
/// the same error, which says so. Returns whether the syntax rule accepted
/// it.
fn probe_undecodable_cid(line: &str) -> Result<bool, String> {
    if let Err(err) = Cid::validate(line) {
        return Err(format!("the syntax rule refuses it: {err}"));
    }
    let json = serde_json::to_string(line).map_err(|err| err.to_string())?;
    let parsed = line
        .parse::<Cid>()
        .err()
        .ok_or("FromStr accepted it although it does not decode")?;
    if !parsed.reason.starts_with("not a decodable CID") || parsed.value != line {
        return Err(format!("FromStr refused it for another reason: {parsed:?}"));
    }
    let borrowed = serde_json::from_str::<Cid>(&json).err();
    let owned = serde_json::from_value::<Cid>(serde_json::Value::String(line.to_owned())).err();
    for de_err in [borrowed, owned] {
        match de_err {
            Some(err) if err.to_string().contains(&parsed.to_string()) => {}
            other => return Err(format!("deserialize said {other:?}, FromStr {parsed}")),
        }
    }
    Ok(true)
}

/// Checks `line` against the type for `format` (the file name's prefix).
fn check(format: &str, line: &str) -> Result<bool, String> {
    match format {
        "atidentifier" => probe::<AtIdentifier>(line, AtIdentifier::validate),
        "aturi" => probe::<AtUri>(line, AtUri::validate),
        "cid" if UNDECODABLE_CIDS.contains(&line) => probe_undecodable_cid(line),
        "cid" => probe::<Cid>(line, Cid::validate),
        "datetime" => probe::<Datetime>(line, Datetime::validate),
        "did" => probe::<Did>(line, Did::validate),
        "handle" => probe::<Handle>(line, Handle::validate),
        "language" => probe::<Language>(line, Language::validate),
        "nsid" => probe::<Nsid>(line, Nsid::validate),
        "recordkey" => probe::<RecordKey>(line, RecordKey::validate),
        "tid" => probe::<Tid>(line, Tid::validate),
        "uri" => probe::<Uri>(line, Uri::validate),
        other => Err(format!("no type for format {other:?}")),
    }
}

/// Splits a vector file name into its format and whether its values are
/// valid.
fn classify(file: &str) -> Option<(&str, bool)> {
    if let Some(format) = file.strip_suffix("_syntax_valid.txt") {
        Some((format, true))
    } else if let Some(format) = file.strip_suffix("_syntax_invalid.txt") {
        Some((format, false))
    } else {
        file.strip_suffix("_parse_invalid.txt")
            .map(|format| (format, false))
    }
}

#[test]
fn syntax_vectors() {
    let expected: BTreeMap<&str, usize> = EXPECTED_COUNTS.iter().copied().collect();
    let mut files: Vec<String> = std::fs::read_dir(vector_dir())
        .expect("vector directory exists")
        .map(|entry| {
            entry
                .expect("readable directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 file name")
        })
        .collect();
    files.sort();
    let listed: Vec<&str> = expected.keys().copied().collect();
    assert_eq!(files, listed, "vector files differ from EXPECTED_COUNTS");

    let mut failures = Vec::new();
    let mut deviations_seen = 0;
    let mut checked = BTreeMap::new();
    for file in &files {
        let (format, want_valid) = classify(file).expect(
            "file name ends in _syntax_valid.txt, _syntax_invalid.txt or _parse_invalid.txt",
        );
        let text = std::fs::read_to_string(vector_dir().join(file)).expect("readable vector file");
        let mut count = 0;
        for (number, line) in values(&text) {
            count += 1;
            let deviation = DEVIATIONS
                .iter()
                .find(|(f, value, _)| f == file && *value == line);
            let want = want_valid != deviation.is_some();
            match check(format, line) {
                Ok(got) if got == want => {
                    if deviation.is_some() {
                        deviations_seen += 1;
                    }
                }
                Ok(got) => failures.push(format!(
                    "{file}:{number}: {:?} was {}, expected {}{}",
                    shorten(line),
                    if got { "accepted" } else { "rejected" },
                    if want { "accepted" } else { "rejected" },
                    if got {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            check_reason(format, line).unwrap_or_else(|| "no reason".into())
                        )
                    },
                )),
                Err(problem) => {
                    failures.push(format!("{file}:{number}: {:?}: {problem}", shorten(line)));
                }
            }
        }
        checked.insert(file.as_str(), count);
    }

    for (file, count) in &checked {
        println!("{file}: {count} vectors checked");
    }
    println!(
        "{} vectors checked in all, {deviations_seen} known deviations",
        checked.values().sum::<usize>()
    );
    assert!(
        failures.is_empty(),
        "{} vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        deviations_seen,
        DEVIATIONS.len(),
        "a listed deviation matches no vector line"
    );
    assert_eq!(checked, expected, "vectors checked per file");
    let valid_cids = std::fs::read_to_string(vector_dir().join("cid_syntax_valid.txt"))
        .expect("readable vector file");
    let valid_cids = values(&valid_cids);
    for cid in UNDECODABLE_CIDS {
        assert!(
            valid_cids.iter().any(|(_, line)| line == cid),
            "{cid:?} is listed as undecodable but is no valid vector"
        );
    }
}

/// The rejection reason for `line`, for failure messages.
fn check_reason(format: &str, line: &str) -> Option<String> {
    let result = match format {
        "atidentifier" => AtIdentifier::validate(line),
        "aturi" => AtUri::validate(line),
        "cid" => Cid::validate(line),
        "datetime" => Datetime::validate(line),
        "did" => Did::validate(line),
        "handle" => Handle::validate(line),
        "language" => Language::validate(line),
        "nsid" => Nsid::validate(line),
        "recordkey" => RecordKey::validate(line),
        "tid" => Tid::validate(line),
        "uri" => Uri::validate(line),
        _ => return None,
    };
    result.err().map(|err| err.reason)
}

/// At most the first 80 characters of `s`, for failure messages.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// The counts above match a plain reading of the files, the way a person
/// would count them (`grep -v '^#' | grep -cv '^$'`).
#[test]
fn expected_counts_match_files() {
    for (file, count) in EXPECTED_COUNTS {
        let bytes = std::fs::read(vector_dir().join(file)).expect("readable vector file");
        let plain = bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty() && line.first() != Some(&b'#'))
            .count();
        assert_eq!(plain, *count, "{file}");
    }
}

/// No input makes a validator panic: every vector line, cut at every
/// character and with awkward characters inserted everywhere, through every
/// type.
#[test]
fn hostile_inputs_do_not_panic() {
    let validators: &[fn(&str) -> bool] = &[
        |s| AtIdentifier::validate(s).is_ok() == AtIdentifier::new(s).is_ok(),
        |s| AtUri::validate(s).is_ok() == AtUri::new(s).is_ok(),
        // A CID must also decode: the syntax rule accepts more.
        |s| match (Cid::validate(s), Cid::new(s)) {
            (Ok(()), Ok(_)) | (Err(_), Err(_)) => true,
            (Ok(()), Err(err)) => {
                err.reason.starts_with("not a decodable CID")
                    || err.reason == "CIDv0 is not allowed; use CIDv1"
            }
            (Err(_), Ok(_)) => false,
        },
        |s| Datetime::validate(s).is_ok() == Datetime::new(s).is_ok(),
        |s| Did::validate(s).is_ok() == Did::new(s).is_ok(),
        |s| Handle::validate(s).is_ok() == Handle::new(s).is_ok(),
        |s| Language::validate(s).is_ok() == Language::new(s).is_ok(),
        |s| Nsid::validate(s).is_ok() == Nsid::new(s).is_ok(),
        |s| RecordKey::validate(s).is_ok() == RecordKey::new(s).is_ok(),
        |s| Tid::validate(s).is_ok() == Tid::new(s).is_ok(),
        |s| Uri::validate(s).is_ok() == Uri::new(s).is_ok(),
    ];
    let mut inputs: Vec<String> = [
        "",
        "%",
        "did:",
        "did:a:%",
        "did:a:%0",
        "did:a:%é",
        "at://",
        "at:///",
        "at://a.b//",
        "x",
        "x-",
        "-",
        ".",
        "1985-04-12T23:20:50.",
        "1985-04-12T23:20:50+",
        "1985-04-12T23:20:50+0é:00",
        "9999-12-31T23:59:59.999999999-23:59",
        "0000-01-01T00:00:00.000000+23:59",
        "\u{0}",
        "\u{FEFF}did:plc:abc",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    for big in ["a", "é", "%", ".", "-", "9"] {
        inputs.push(big.repeat(100_000));
    }
    inputs.push(format!("at://{}", "a.".repeat(50_000)));
    inputs.push(format!("1985-04-12T23:20:50.{}Z", "1".repeat(100_000)));

    let dir = vector_dir();
    for (file, _) in EXPECTED_COUNTS {
        let text = std::fs::read_to_string(dir.join(file)).expect("readable vector file");
        for (_, line) in values(&text) {
            inputs.push(line.to_owned());
            if line.len() > 300 {
                continue;
            }
            let boundaries: Vec<usize> = line
                .char_indices()
                .map(|(i, _)| i)
                .chain([line.len()])
                .collect();
            for &at in &boundaries {
                inputs.push(line[..at].to_owned());
                for insert in ["é", "💩", "\u{0}", " ", "%", ":", "/"] {
                    inputs.push(format!("{}{insert}{}", &line[..at], &line[at..]));
                }
            }
        }
    }
    for input in &inputs {
        for (index, agrees) in validators.iter().enumerate() {
            assert!(
                agrees(input),
                "validator {index} disagrees with new() on {input:?}"
            );
        }
    }
}
