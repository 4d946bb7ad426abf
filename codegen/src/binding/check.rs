//! Checking bindings against the lexicons: each endpoint entry combined
//! with its file's settings and the defaults, and checked against its
//! endpoint (method and input, path variables, body formats, the success
//! flag, declared errors, one route per endpoint).

use std::collections::BTreeMap;

use atlex::binding::{BearerUse, BodyFormat, HttpMethod};

use super::read::{EndpointEntry, Reader, Settings, parse_file};
use super::{EndpointBinding, EnvelopeSpec};
use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Diagnostics, Location};
use crate::json::{self, Subject};
use crate::lexicon::{EndpointSchema, SchemaKind};

/// Reads every binding file of the catalog and checks each binding against
/// its endpoint's lexicon. Endpoints outside `in_scope` (generated
/// elsewhere) are skipped with a warning; those `left_out` of generation (invalid,
/// or not selected) silently.
pub fn resolve(
    catalog: &Catalog,
    in_scope: &dyn Fn(&str) -> bool,
    left_out: &dyn Fn(&str) -> bool,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, EndpointBinding> {
    let mut out: BTreeMap<String, EndpointBinding> = BTreeMap::new();
    let mut first_seen: BTreeMap<String, Location> = BTreeMap::new();
    let mut routes: BTreeMap<(HttpMethod, String), (String, Location)> = BTreeMap::new();
    for (file, text) in catalog.binding_sources() {
        let Some(parsed) = parse_file(file.clone(), text, diagnostics) else {
            continue;
        };
        for entry in &parsed.endpoints {
            let mut reader = Reader {
                json: json::Reader::unpositioned(
                    parsed.file.clone(),
                    Subject::Binding(entry.nsid.clone()),
                    diagnostics,
                ),
            };
            let location = reader.location(&entry.pointer);
            if let Some(first) = first_seen.get(&entry.nsid) {
                reader.diagnostics.push(
                    Diagnostic::error(location, format!("`{}` is bound twice", entry.nsid))
                        .with_related(first.clone(), "first bound here"),
                );
                continue;
            }
            first_seen.insert(entry.nsid.clone(), location.clone());
            if left_out(&entry.nsid) {
                continue;
            }
            if !in_scope(&entry.nsid) {
                reader.warning(
                    &entry.pointer,
                    format!(
                        "`{}` is generated elsewhere; its binding is ignored here",
                        entry.nsid
                    ),
                );
                continue;
            }
            let Some(binding) = check(&mut reader, catalog, &parsed.api, entry) else {
                continue;
            };
            if let Some(path) = &binding.path
                && let Some(route) = normalized_route(path)
            {
                let key = (binding.method, route);
                if let Some((other, first)) = routes.get(&key) {
                    let message = format!(
                        "`{}` and `{other}` are both bound to {} {path}",
                        entry.nsid, binding.method
                    );
                    reader.diagnostics.push(
                        Diagnostic::error(location, message)
                            .with_related(first.clone(), "bound here"),
                    );
                    continue;
                }
                routes.insert(key, (entry.nsid.clone(), location));
            }
            out.insert(entry.nsid.clone(), binding);
        }
    }
    out
}

/// A template with its variables unnamed, to find two bindings of one route.
pub(crate) fn normalized_route(template: &str) -> Option<String> {
    atlex::binding::check_path_template(template).ok()?;
    Some(
        template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Combines an entry with its file's settings and checks it against the
/// lexicon.
fn check(
    reader: &mut Reader<'_>,
    catalog: &Catalog,
    api: &Settings,
    entry: &EndpointEntry,
) -> Option<EndpointBinding> {
    let nsid = entry.nsid.as_str();
    let Some(lexicon) = catalog.get(nsid) else {
        reader.error(&entry.pointer, format!("no lexicon `{nsid}` is loaded"));
        return None;
    };
    let main = lexicon.document.def("main").map(|d| &d.schema.kind);
    let (schema, is_query) = match main {
        Some(SchemaKind::Query(e)) => (e, true),
        Some(SchemaKind::Procedure(e)) => (e, false),
        Some(other) => {
            reader.error(
                &entry.pointer,
                format!(
                    "`{nsid}` is a {}; only queries and procedures can be bound",
                    other.type_name()
                ),
            );
            return None;
        }
        None => {
            reader.error(
                &entry.pointer,
                format!("`{nsid}` has no main definition to bind"),
            );
            return None;
        }
    };
    let settings = api.overlay(&entry.settings);
    let mut ok = true;

    let method = entry.method.as_ref().map_or(
        if is_query {
            HttpMethod::Get
        } else {
            HttpMethod::Post
        },
        |(m, _)| *m,
    );
    if !method.has_body() && schema.input.is_some() {
        let at = entry
            .method
            .as_ref()
            .map_or(entry.pointer.as_str(), |(_, at)| at);
        reader.error(
            at,
            format!("`{nsid}` takes an input, which a {method} request cannot carry"),
        );
        ok = false;
    }

    if let Some((template, at)) = &entry.path {
        ok &= check_path_variables(reader, schema, template, at);
    }

    let input_encoding = schema.input.as_ref().map(|b| b.encoding.as_str());
    let body = match &settings.body {
        Some((formats, at)) => {
            let structured = formats.iter().any(|f| *f != BodyFormat::Encoding);
            match input_encoding {
                None => reader.warning(at, format!("`{nsid}` has no input; `body` has no effect")),
                Some(encoding) if structured && encoding != "application/json" => {
                    reader.error(
                        at,
                        format!(
                            "`json` and `form` bodies need a JSON input; `{nsid}` takes {encoding}"
                        ),
                    );
                    ok = false;
                }
                Some(_) => {}
            }
            formats.clone()
        }
        None => vec![BodyFormat::Encoding],
    };

    let mut envelope = settings.envelope.clone().unwrap_or_else(EnvelopeSpec::xrpc);
    for pointer in &settings.success_when {
        if !envelope.also_ok.contains(pointer) {
            envelope.also_ok.push(pointer.clone());
        }
    }
    if envelope.ok_flag.is_none() && !settings.success_when.is_empty() {
        reader.warning(
            &entry.pointer,
            "`successWhen` has no effect: the envelope has no `okFlag`",
        );
    }
    let declared: Vec<&str> = schema.errors.iter().map(|e| e.name.as_str()).collect();
    for (name, status, at) in &settings.error_statuses {
        if !declared.contains(&name.as_str()) && at.starts_with(&entry.pointer) {
            reader.warning(at, format!("`{nsid}` declares no error `{name}`"));
        }
        envelope.error_statuses.retain(|(n, _)| n != name);
        envelope.error_statuses.push((name.clone(), *status));
    }
    if let Some(flag) = &envelope.ok_flag {
        ok &= check_output_field(reader, schema, flag, &entry.pointer);
    }

    let (bearer, api_key) = match (&settings.bearer, &settings.api_key) {
        (None, None) => (BearerUse::Optional, None),
        (bearer, key) => (bearer.unwrap_or(BearerUse::Optional), key.clone().flatten()),
    };
    ok.then(|| EndpointBinding {
        nsid: nsid.to_owned(),
        method,
        is_query,
        path: entry.path.as_ref().map(|(t, _)| t.clone()),
        base_url: settings.base_url.clone(),
        body,
        bearer,
        api_key,
        envelope,
        check_request: settings.check_request.unwrap_or(true),
    })
}

/// Every path variable is a required scalar parameter.
fn check_path_variables(
    reader: &mut Reader<'_>,
    schema: &EndpointSchema,
    template: &str,
    at: &str,
) -> bool {
    let Ok(variables) = atlex::binding::check_path_template(template) else {
        return false;
    };
    let params = schema.parameters.as_deref().and_then(|p| match &p.kind {
        SchemaKind::Params(o) => Some(o),
        _ => None,
    });
    let mut ok = true;
    for variable in variables {
        let problem = match params.and_then(|p| p.property(variable).map(|s| (p, s))) {
            None => Some("names no parameter of the endpoint".to_owned()),
            Some((params, schema)) => {
                let scalar = matches!(
                    schema.kind,
                    SchemaKind::Integer(_) | SchemaKind::String(_) | SchemaKind::Boolean(_)
                );
                if !scalar {
                    Some(format!(
                        "is a parameter of type `{}`; path variables are integers, strings or booleans",
                        schema.kind.type_name()
                    ))
                } else if !params.is_required(variable) {
                    Some("is an optional parameter; path variables must be required".to_owned())
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            reader.error(at, format!("path variable `{{{variable}}}` {problem}"));
            ok = false;
        }
    }
    ok
}

/// A success flag needs a JSON output; a one-level flag that is not one of
/// its fields gets a warning.
fn check_output_field(
    reader: &mut Reader<'_>,
    schema: &EndpointSchema,
    flag: &str,
    pointer: &str,
) -> bool {
    let nsid = match &reader.subject {
        Subject::Binding(nsid) => nsid.clone(),
        _ => String::new(),
    };
    match schema.output.as_ref().map(|b| b.encoding.as_str()) {
        Some("application/json") => {}
        Some(encoding) => {
            reader.error(
                pointer,
                format!(
                    "`{nsid}` answers {encoding}; an envelope with `okFlag` needs a JSON output"
                ),
            );
            return false;
        }
        None => {
            reader.error(
                pointer,
                format!("`{nsid}` has no output; an envelope with `okFlag` needs a JSON output"),
            );
            return false;
        }
    }
    let Some(name) = flag.strip_prefix('/').filter(|n| !n.contains('/')) else {
        return true;
    };
    let object = schema
        .output
        .as_ref()
        .and_then(|b| b.schema.as_deref())
        .and_then(|s| match &s.kind {
            SchemaKind::Object(o) => Some(o),
            _ => None,
        });
    if let Some(object) = object
        && object.property(name).is_none()
    {
        reader.warning(
            pointer,
            format!("the output of `{nsid}` has no field `{name}`, the envelope's success flag"),
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_normalize() {
        assert_eq!(
            normalized_route("/v1/chats/{chatId}/leave").as_deref(),
            Some("/v1/chats/{}/leave")
        );
        assert_eq!(
            normalized_route("/v1/chats/{id}/leave"),
            normalized_route("/v1/chats/{chatId}/leave")
        );
        assert_eq!(normalized_route("bad"), None);
    }
}
