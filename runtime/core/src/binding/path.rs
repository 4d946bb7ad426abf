//! Where an endpoint is below the base URL: [`PathTemplate`]s, checked,
//! filled from parameters for a request and matched against a request's
//! path by the server.

/// Where an endpoint is, below the base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathTemplate {
    /// `/xrpc/<NSID>`.
    Xrpc,
    /// A path such as `/v1/chats/{chatId}/leave`: segments separated by `/`,
    /// each either literal (`A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = @`) or a
    /// whole-segment `{variable}` naming a parameter of the endpoint.
    Template(&'static str),
}

impl PathTemplate {
    /// The template's variables, in order (none for [`PathTemplate::Xrpc`]),
    /// or why the template is not valid.
    pub fn variables(&self) -> Result<Vec<&'static str>, String> {
        match self {
            PathTemplate::Xrpc => Ok(Vec::new()),
            PathTemplate::Template(template) => check_path_template(template),
        }
    }
}

/// One segment of a parsed template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment<'t> {
    Literal(&'t str),
    Variable(&'t str),
}

/// Checks a path template, returning its variables in order.
///
/// A template starts with `/`; its segments are non-empty, either literal or
/// a whole `{name}` (`name`: a letter or `_`, then letters, digits or `_`);
/// a variable appears once; `.` and `..` segments and paths under `/xrpc`
/// (XRPC's own) are refused.
pub fn check_path_template(template: &str) -> Result<Vec<&str>, String> {
    let segments = parse_template(template)?;
    let mut variables: Vec<&str> = Vec::new();
    for segment in &segments {
        if let Segment::Variable(name) = segment {
            if variables.contains(name) {
                return Err(format!("variable `{{{name}}}` appears twice"));
            }
            variables.push(name);
        }
    }
    if segments.first() == Some(&Segment::Literal("xrpc")) {
        return Err("paths under `/xrpc` are XRPC's own".to_owned());
    }
    Ok(variables)
}

fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, String> {
    let Some(rest) = template.strip_prefix('/') else {
        return Err("a path template must start with `/`".to_owned());
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|segment| {
            if segment.is_empty() {
                return Err("a path template has no empty segments (`//` or a trailing `/`)".to_owned());
            }
            if let Some(inner) = segment.strip_prefix('{') {
                let Some(name) = inner.strip_suffix('}') else {
                    return Err(format!("segment `{segment}`: a variable is a whole segment, `{{name}}`"));
                };
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!(
                        "variable `{{{name}}}`: a name is a letter or `_`, then letters, digits or `_`"
                    ));
                }
                return Ok(Segment::Variable(name));
            }
            if segment == "." || segment == ".." {
                return Err(format!("segment `{segment}` is not allowed"));
            }
            if let Some(c) = segment.chars().find(|c| !is_literal_char(*c)) {
                return Err(format!(
                    "segment `{segment}`: `{c}` is not allowed in a literal segment"
                ));
            }
            Ok(Segment::Literal(segment))
        })
        .collect()
}

fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()+,;=@".contains(c)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes a path segment: everything but unreserved characters.
fn encode_segment(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// Decodes a percent-encoded path segment (`+` stays `+`); `None` for a bad
/// escape or bytes that are not UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A filled path, and the parameters left for the query string.
#[doc(hidden)]
pub type Expanded<'p> = (String, Vec<&'p (&'static str, String)>);

/// The path of a template with its variables filled from `pairs` (the
/// endpoint's parameters as query pairs), and the pairs left for the query
/// string.
///
/// Each variable takes exactly one pair of its name, non-empty and neither
/// `.` nor `..`. For the client of `atlex-client`.
#[doc(hidden)]
pub fn expand_path<'p>(
    template: &str,
    pairs: &'p [(&'static str, String)],
) -> Result<Expanded<'p>, String> {
    let segments = parse_template(template)?;
    let mut path = String::with_capacity(template.len() + 16);
    let mut used: Vec<&str> = Vec::new();
    for segment in &segments {
        path.push('/');
        match segment {
            Segment::Literal(text) => path.push_str(text),
            Segment::Variable(name) => {
                let mut values = pairs.iter().filter(|(k, _)| k == name);
                let value = match (values.next(), values.next()) {
                    (Some((_, value)), None) => value,
                    (None, _) => return Err(format!("path parameter `{name}` is not set")),
                    (Some(_), Some(_)) => {
                        return Err(format!("path parameter `{name}` has more than one value"));
                    }
                };
                if value.is_empty() || value == "." || value == ".." {
                    return Err(format!(
                        "path parameter `{name}` cannot be {value:?} (it must be a non-empty path segment)"
                    ));
                }
                encode_segment(value, &mut path);
                used.push(name);
            }
        }
    }
    if segments.is_empty() {
        path.push('/');
    }
    let rest = pairs.iter().filter(|(k, _)| !used.contains(k)).collect();
    Ok((path, rest))
}

/// The variables of a template in a request path, decoded: `None` when the
/// path does not fit the template or a value does not decode.
#[doc(hidden)]
pub fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let segments = parse_template(template).ok()?;
    let given: Vec<&str> = match path.strip_prefix('/')? {
        "" => Vec::new(),
        rest => rest.split('/').collect(),
    };
    if given.len() != segments.len() {
        return None;
    }
    let mut values = Vec::new();
    for (segment, text) in segments.iter().zip(given) {
        match segment {
            Segment::Literal(literal) => {
                if *literal != text {
                    return None;
                }
            }
            Segment::Variable(name) => {
                let value = decode_segment(text)?;
                if value.is_empty() {
                    return None;
                }
                values.push((*name, value));
            }
        }
    }
    Some(values)
}

/// The route a template is mounted at in axum: variables renamed by
/// position (`/v1/chats/{p0}/leave`), so that templates differing only in
/// variable names share one route.
#[doc(hidden)]
pub fn route_path(template: &str) -> Option<String> {
    let segments = parse_template(template).ok()?;
    if segments.is_empty() {
        return Some("/".to_owned());
    }
    let mut out = String::new();
    let mut n = 0;
    for segment in segments {
        out.push('/');
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Variable(_) => {
                out.push_str(&format!("{{p{n}}}"));
                n += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            check_path_template("/v1/chats/{chatId}/leave"),
            Ok(vec!["chatId"])
        );
        assert_eq!(check_path_template("/conversations.leave"), Ok(vec![]));
        assert_eq!(check_path_template("/"), Ok(vec![]));
        for bad in [
            "",
            "v1/chats",
            "/v1//chats",
            "/v1/chats/",
            "/v1/{a}/{a}",
            "/v1/x{a}",
            "/v1/{a}x",
            "/v1/{1a}",
            "/v1/{}",
            "/v1/a b",
            "/v1/a%20b",
            "/v1/:id",
            "/v1/*rest",
            "/v1/..",
            "/xrpc/com.example.x",
            "/xrpc",
        ] {
            assert!(check_path_template(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expand_and_match() {
        let pairs = vec![("chatId", "456".to_owned()), ("other", "a b".to_owned())];
        let (path, rest) = expand_path("/v1/chats/{chatId}/leave", &pairs).unwrap();
        assert_eq!(path, "/v1/chats/456/leave");
        assert_eq!(rest, vec![&("other", "a b".to_owned())]);

        let odd = vec![("id", "a/b c%é".to_owned())];
        let (path, _) = expand_path("/x/{id}", &odd).unwrap();
        assert_eq!(path, "/x/a%2Fb%20c%25%C3%A9");
        assert_eq!(
            match_path("/x/{id}", &path),
            Some(vec![("id", "a/b c%é".to_owned())])
        );

        for bad in ["", ".", ".."] {
            let pairs = vec![("id", bad.to_owned())];
            assert!(expand_path("/x/{id}", &pairs).is_err(), "{bad:?}");
        }
        assert!(expand_path("/x/{id}", &[]).is_err());
        let twice = vec![("id", "1".to_owned()), ("id", "2".to_owned())];
        assert!(expand_path("/x/{id}", &twice).is_err());

        assert_eq!(match_path("/x/{id}", "/y/1"), None);
        assert_eq!(match_path("/x/{id}", "/x/1/2"), None);
        assert_eq!(match_path("/x/{id}", "/x/%zz"), None);
        assert_eq!(match_path("/x/{id}", "/x/%ff"), None);
        assert_eq!(match_path("/x/{id}", "/x/%4"), None);
        assert_eq!(match_path("/x/{id}", "/x/%+F"), None);
        assert_eq!(match_path("/", "/"), Some(vec![]));
    }
}
