//! Reading a permission's parameters against its resource's schema: which
//! names it takes, which are lists, which is positional, which are required,
//! and what each value must look like.

use super::syntax::{Lookup, Param, Source};

/// One parameter of a resource.
pub(crate) struct Def {
    pub(crate) name: &'static str,
    /// A list (a repeated parameter, a JSON array) rather than one value.
    pub(crate) list: bool,
    pub(crate) required: bool,
    pub(crate) check: fn(&str) -> bool,
}

/// A resource's parameters; `positional` names the one the string form may
/// give after the `:`.
pub(crate) struct Schema {
    pub(crate) params: &'static [Def],
    pub(crate) positional: &'static str,
}

/// Why a permission was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownParam(String),
    Repeated(&'static str),
    NotAList(&'static str),
    EmptyList(&'static str),
    Twice(&'static str),
    BadValue(&'static str, String),
    Missing(&'static str),
    /// `rpc` with `*` for both the methods and the service.
    EveryMethodOfEveryService,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownParam(name) => write!(f, "it takes no parameter `{name}`"),
            Self::Repeated(name) => write!(f, "`{name}` takes one value, and is given more"),
            Self::NotAList(name) => write!(f, "`{name}` is a list"),
            Self::EmptyList(name) => write!(f, "`{name}` is an empty list"),
            Self::Twice(name) => {
                write!(f, "`{name}` is given both after the `:` and as a parameter")
            }
            Self::BadValue(name, value) => write!(f, "`{value}` is not a valid `{name}`"),
            Self::Missing(name) => write!(f, "`{name}` is required"),
            Self::EveryMethodOfEveryService => {
                f.write_str("`lxm` and `aud` cannot both be `*` (every method of every service)")
            }
        }
    }
}

/// The values read, one entry per parameter of the schema in its order:
/// `None` when not given (the caller applies the default).
pub(crate) type Values<'a> = Vec<Option<Vec<&'a str>>>;

pub(crate) fn read<'a>(schema: &Schema, source: &'a impl Source) -> Result<Values<'a>, Refusal> {
    for name in source.names() {
        if !schema.params.iter().any(|def| def.name == name) {
            return Err(Refusal::UnknownParam(name.to_owned()));
        }
    }
    let mut values = Vec::with_capacity(schema.params.len());
    for def in schema.params {
        let lookup = if def.list {
            source.multi(def.name)
        } else {
            source.single(def.name)
        };
        let positional = (def.name == schema.positional)
            .then(|| source.positional())
            .flatten();
        match lookup {
            Lookup::WrongShape if def.list => return Err(Refusal::NotAList(def.name)),
            Lookup::WrongShape => return Err(Refusal::Repeated(def.name)),
            Lookup::Values(_) if positional.is_some() => return Err(Refusal::Twice(def.name)),
            Lookup::Values(given) => {
                if given.is_empty() {
                    return Err(Refusal::EmptyList(def.name));
                }
                values.push(Some(checked(def, &given)?));
            }
            Lookup::Absent => match positional {
                Some(value) => values.push(Some(checked(def, &[Param::Str(value)])?)),
                None if def.required => return Err(Refusal::Missing(def.name)),
                None => values.push(None),
            },
        }
    }
    Ok(values)
}

fn checked<'a>(def: &Def, given: &[Param<'a>]) -> Result<Vec<&'a str>, Refusal> {
    given
        .iter()
        .map(|param| match param.as_str() {
            Some(value) if (def.check)(value) => Ok(value),
            Some(value) => Err(Refusal::BadValue(def.name, value.to_owned())),
            None => Err(Refusal::BadValue(
                def.name,
                "a value that is not a string".into(),
            )),
        })
        .collect()
}
