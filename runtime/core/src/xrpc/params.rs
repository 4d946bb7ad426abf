//! Query-string parameters, and the error of a closed set of values.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A closed string enum met a value outside its list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {value:?}; expected one of {expected:?}")]
pub struct UnknownValue {
    /// The value found.
    pub value: String,
    /// The values the lexicon allows.
    pub expected: &'static [&'static str],
}

/// An endpoint's query-string parameters.
///
/// Encoding follows the XRPC rules: each parameter is `name=value`; an array
/// repeats its name once per item; booleans are `true`/`false`; integers are
/// decimal.
pub trait Params: Sized {
    /// Appends the parameters that are set.
    fn write_query(&self, query: &mut QueryWriter);
    /// Reads the parameters from a parsed query string.
    fn read_query(query: &QueryReader<'_>) -> Result<Self, ParamsError>;
}

impl Params for () {
    fn write_query(&self, _query: &mut QueryWriter) {}

    fn read_query(_query: &QueryReader<'_>) -> Result<Self, ParamsError> {
        Ok(())
    }
}

/// A value that can stand in a query string: anything with `FromStr` and
/// `Display` (integers, booleans, strings, format types, generated string
/// enums).
pub trait ParamValue: Sized {
    /// Parses one occurrence.
    fn parse_param(text: &str) -> Result<Self, String>;
    /// Formats one occurrence.
    fn format_param(&self) -> String;
}

impl<T> ParamValue for T
where
    T: FromStr + fmt::Display,
    T::Err: fmt::Display,
{
    fn parse_param(text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: T::Err| e.to_string())
    }

    fn format_param(&self) -> String {
        self.to_string()
    }
}

/// Collects `name=value` pairs of a query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryWriter {
    pairs: Vec<(&'static str, String)>,
}

impl QueryWriter {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    // The generic methods here and on `QueryReader` are kept out of line:
    // each `Params` type's writer and reader calls one per parameter, and
    // one copy per parameter type is enough.
    /// Appends a required parameter.
    #[inline(never)]
    pub fn required<T: ParamValue>(&mut self, name: &'static str, value: &T) {
        self.pairs.push((name, value.format_param()));
    }

    /// Appends an optional parameter if it is set.
    #[inline(never)]
    pub fn optional<T: ParamValue>(&mut self, name: &'static str, value: &Option<T>) {
        if let Some(value) = value {
            self.required(name, value);
        }
    }

    /// Appends one pair per item.
    #[inline(never)]
    pub fn list<T: ParamValue>(&mut self, name: &'static str, values: &[T]) {
        for value in values {
            self.required(name, value);
        }
    }

    /// Appends one pair per item, if the list is set.
    #[inline(never)]
    pub fn optional_list<T: ParamValue>(&mut self, name: &'static str, values: &Option<Vec<T>>) {
        if let Some(values) = values {
            self.list(name, values);
        }
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }

    /// The percent-encoded query string, without a leading `?`.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

/// A parsed query string, read by name.
#[derive(Clone, Debug, Default)]
pub struct QueryReader<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> QueryReader<'a> {
    /// Parses a percent-encoded query string (without the leading `?`).
    pub fn parse(query: &'a str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes()).collect(),
        }
    }

    /// Reads already-decoded pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    fn parse_one<T: ParamValue>(name: &str, text: &str) -> Result<T, ParamsError> {
        T::parse_param(text).map_err(|reason| invalid(name, text, reason))
    }

    /// The one value of parameter `name`, if it appears; an error if it
    /// appears more than once. With `empty_is_missing`, a single empty value
    /// counts as absent.
    // Out of line, as is everything here that does not depend on the
    // parameter's type: each `Params` type's reader calls these once per
    // parameter.
    #[inline(never)]
    fn single<'s>(
        &'s self,
        name: &'s str,
        empty_is_missing: bool,
    ) -> Result<Option<&'s str>, ParamsError> {
        let mut values = self.values(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ParamsError::Repeated {
                name: name.to_owned(),
            });
        }
        if empty_is_missing && first.is_empty() {
            return Ok(None);
        }
        Ok(Some(first))
    }

    /// A parameter that must appear exactly once. Given empty (`?convoId=`)
    /// it counts as missing, as the reference server has it.
    #[inline(never)]
    pub fn required<T: ParamValue>(&self, name: &str) -> Result<T, ParamsError> {
        match self.single(name, true)? {
            Some(text) => Self::parse_one(name, text),
            None => Err(missing(name)),
        }
    }

    /// A parameter that may appear at most once.
    #[inline(never)]
    pub fn optional<T: ParamValue>(&self, name: &str) -> Result<Option<T>, ParamsError> {
        match self.single(name, false)? {
            Some(text) => Self::parse_one(name, text).map(Some),
            None => Ok(None),
        }
    }

    /// An array parameter that must have at least one item.
    #[inline(never)]
    pub fn list<T: ParamValue>(&self, name: &str) -> Result<Vec<T>, ParamsError> {
        self.optional_list(name)?.ok_or_else(|| missing(name))
    }

    /// An array parameter; `None` when it does not appear.
    #[inline(never)]
    pub fn optional_list<T: ParamValue>(&self, name: &str) -> Result<Option<Vec<T>>, ParamsError> {
        let values = self
            .values(name)
            .map(|text| Self::parse_one(name, text))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(if values.is_empty() {
            None
        } else {
            Some(values)
        })
    }
}

#[cold]
#[inline(never)]
fn missing(name: &str) -> ParamsError {
    ParamsError::Missing {
        name: name.to_owned(),
    }
}

#[cold]
#[inline(never)]
fn invalid(name: &str, text: &str, reason: String) -> ParamsError {
    ParamsError::Invalid {
        name: name.to_owned(),
        value: text.to_owned(),
        reason,
    }
}

/// A query string that does not fit an endpoint's parameters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// A required parameter is absent.
    #[error("missing required parameter `{name}`")]
    Missing {
        /// The parameter.
        name: String,
    },
    /// A single-valued parameter appears more than once.
    #[error("parameter `{name}` given more than once")]
    Repeated {
        /// The parameter.
        name: String,
    },
    /// A value does not parse as the parameter's type.
    #[error("invalid value {value:?} for parameter `{name}`: {reason}")]
    Invalid {
        /// The parameter.
        name: String,
        /// The text given.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let mut w = QueryWriter::new();
        w.required("limit", &5i64);
        w.optional("cursor", &Some("a b&c".to_string()));
        w.optional::<bool>("flag", &None);
        w.list("members", &["x".to_string(), "y".to_string()]);
        w.required("yes", &true);
        let text = w.to_query_string();
        assert_eq!(text, "limit=5&cursor=a+b%26c&members=x&members=y&yes=true");

        let r = QueryReader::parse(&text);
        assert_eq!(r.required::<i64>("limit").unwrap(), 5);
        assert_eq!(
            r.optional::<String>("cursor").unwrap().as_deref(),
            Some("a b&c")
        );
        assert_eq!(r.optional::<bool>("flag").unwrap(), None);
        assert_eq!(r.list::<String>("members").unwrap(), vec!["x", "y"]);
        assert!(r.required::<bool>("yes").unwrap());
    }

    #[test]
    fn query_errors() {
        let r = QueryReader::parse("limit=abc&a=1&a=2");
        assert!(matches!(
            r.required::<i64>("limit"),
            Err(ParamsError::Invalid { .. })
        ));
        assert!(matches!(
            r.optional::<i64>("a"),
            Err(ParamsError::Repeated { .. })
        ));
        assert!(matches!(
            r.required::<i64>("b"),
            Err(ParamsError::Missing { .. })
        ));
        assert!(matches!(
            r.list::<i64>("b"),
            Err(ParamsError::Missing { .. })
        ));
    }
}
