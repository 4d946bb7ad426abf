//! An npm package as a source of lexicons: fetched with `npm pack`, then
//! read from the lexicon JSON files it ships or, when it ships none (as
//! `@atproto/api`, which bundles them in `dist/client/lexicons.js`), from
//! the `schemaDict` object literal of its JavaScript, evaluated with `node`.

use std::ffi::OsStr;
use std::path::Path;

use atlex_codegen::diff::LexiconSet;
use serde_json::Value;

use super::{Tools, run_tool};

/// Evaluates the object literal assigned to `schemaDict` in the file named
/// by the first argument, in a context of its own (no `require`, no
/// globals), and prints `Object.values` of it as JSON. The literal ends at
/// the first `}` at the start of a line after which it parses: generated
/// code indents everything inside it.
const EVALUATE: &str = r#"
const fs = require('node:fs');
const vm = require('node:vm');
const text = fs.readFileSync(process.argv[1], 'utf8');
const found = /\bschemaDict\s*=\s*\{/.exec(text);
if (!found) {
  console.error('no `schemaDict = {` in ' + process.argv[1]);
  process.exit(3);
}
const start = found.index + found[0].length - 1;
let end = start;
for (;;) {
  end = text.indexOf('\n}', end + 1);
  if (end < 0) {
    console.error('the object literal of schemaDict does not end where a line starts with `}`');
    process.exit(3);
  }
  let dict;
  try {
    dict = vm.runInNewContext('(' + text.slice(start, end + 2) + ')', Object.create(null), {
      timeout: 30000,
    });
  } catch (e) {
    if (e && e.name === 'SyntaxError') continue;
    throw e;
  }
  process.stdout.write(JSON.stringify(Object.values(dict)));
  break;
}
"#;

/// Reads the lexicons of the npm package `spec` (`@atproto/api`, or with
/// `@VERSION`), working in `scratch`; whether they were bundled in
/// JavaScript (see [`restore_refs`]).
pub(super) fn read(
    spec: &str,
    tools: &Tools,
    scratch: &Path,
) -> Result<(LexiconSet, bool), String> {
    let name_part = spec.strip_prefix('@').unwrap_or(spec);
    if spec.is_empty() || name_part.is_empty() {
        return Err("error: `npm:` needs a package name (npm:@atproto/api)".to_owned());
    }
    // A bare name lets npm pick the newest version whose `engines` fit the
    // running Node.js; the newest published one is the `latest` tag.
    let spec = if name_part.contains('@') {
        spec.to_owned()
    } else {
        format!("{spec}@latest")
    };
    let packed = run_tool(
        &tools.npm,
        &[
            OsStr::new("pack"),
            OsStr::new(&spec),
            OsStr::new("--json"),
            OsStr::new("--ignore-scripts"),
            OsStr::new("--pack-destination"),
            scratch.as_os_str(),
        ],
        scratch,
        &format!("fetching {spec} from the npm registry"),
    )?;
    let packed: Value = serde_json::from_slice(&packed)
        .map_err(|e| format!("error: `npm pack --json` printed something that is not JSON: {e}"))?;
    let entry = packed.get(0);
    let field = |key: &str| entry.and_then(|e| e.get(key)).and_then(Value::as_str);
    let (Some(filename), Some(id)) = (field("filename"), field("id")) else {
        return Err(format!(
            "error: `npm pack --json` did not name the tarball of {spec}"
        ));
    };
    let tarball = scratch.join(filename);
    let unpacked = scratch.join("unpacked");
    let file = std::fs::File::open(&tarball)
        .map_err(|e| format!("error: opening {}: {e}", tarball.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(&unpacked)
        .map_err(|e| format!("error: unpacking {filename}: {e}"))?;
    read_package(&unpacked, &format!("npm:{id}"), tools)
}

/// Reads the lexicons of an unpacked package in `dir`, labelled `label`;
/// whether they were bundled in JavaScript.
pub(super) fn read_package(
    dir: &Path,
    label: &str,
    tools: &Tools,
) -> Result<(LexiconSet, bool), String> {
    let mut json_files = Vec::new();
    let mut js_files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| format!("error: reading the package: {e}"))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file()
            || path.components().any(|c| c.as_os_str() == "node_modules")
        {
            continue;
        }
        if name.ends_with(".json") && name != "package.json" {
            json_files.push(path.to_path_buf());
        } else if [".js", ".cjs", ".mjs"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            js_files.push(path.to_path_buf());
        }
    }
    let relative = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();

    // Lexicon JSON files, where the package ships them.
    let mut set = LexiconSet::new(label);
    for path in &json_files {
        let text =
            std::fs::read(path).map_err(|e| format!("error: reading {}: {e}", path.display()))?;
        let Ok(value) = serde_json::from_slice::<Value>(&text) else {
            continue;
        };
        if let (Some(_), Some(id)) = (
            value.get("lexicon"),
            value.get("id").and_then(Value::as_str),
        ) {
            set.insert(id.to_owned(), &relative(path), Ok(value.clone()));
        }
    }
    if !set.documents.is_empty() {
        return Ok((set, false));
    }

    // Else the schemas bundled in JavaScript.
    let mut bundle = None;
    for path in &js_files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if declares_schema_dict(&text) {
            bundle = Some(path);
            break;
        }
    }
    let Some(bundle) = bundle else {
        return Err(format!(
            "error: {label} ships no lexicon JSON files and no JavaScript declaring \
             `schemaDict = {{…}}`; it is not a package of lexicons"
        ));
    };
    let file = relative(bundle);
    let printed = run_tool(
        &tools.node,
        &[OsStr::new("-e"), OsStr::new(EVALUATE), bundle.as_os_str()],
        dir,
        &format!("evaluating the lexicons bundled in {file} of {label}"),
    )?;
    let values: Vec<Value> = serde_json::from_slice(&printed).map_err(|e| {
        format!("error: the schemas node printed from {file} are not a JSON array: {e}")
    })?;
    let mut set = LexiconSet::new(format!("{label} ({file}, evaluated with node)"));
    for (i, value) in values.into_iter().enumerate() {
        let Some(id) = value.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return Err(format!(
                "error: schema {i} of `schemaDict` in {file} of {label} has no `id`; it is \
                 not a lexicon document"
            ));
        };
        set.insert(id.clone(), &format!("{file}#{id}"), Ok(value));
    }
    Ok((set, true))
}

/// Whether JavaScript text assigns an object literal to `schemaDict`.
fn declares_schema_dict(text: &str) -> bool {
    text.match_indices("schemaDict").any(|(at, name)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].trim_start();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
            && after
                .strip_prefix('=')
                .is_some_and(|rest| rest.trim_start().starts_with('{'))
    })
}

/// Undoes what `@atproto/lexicon` does to the schemas it bundles
/// (`resolveRefUris`): every `ref` and union member, and every string
/// starting with `#` in other arrays (`knownValues`), is made a `lex:` URI
/// (`#view` → `lex:app.bsky.embed.record#view`, `app.bsky.actor.defs` →
/// `lex:app.bsky.actor.defs`). Both `#view` and the document's own NSID
/// followed by `#view` become the same URI, so where `old` (the file's
/// current version) has a reference at the same place that means the same,
/// its spelling is kept; elsewhere a reference into the document itself is
/// written `#name`, as upstream writes most.
pub(super) fn restore_refs(value: &mut Value, old: Option<&Value>) {
    let Some(id) = value.get("id").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    restore(value, &id, old);
}

fn restore(value: &mut Value, id: &str, old: Option<&Value>) {
    let Value::Object(map) = value else {
        return;
    };
    let old_map = old.and_then(Value::as_object);
    match map.get("type").and_then(Value::as_str) {
        Some("ref") => {
            let old_ref = old_map.and_then(|o| o.get("ref")).and_then(Value::as_str);
            if let Some(Value::String(uri)) = map.get_mut("ref") {
                *uri = unresolve(uri, id, old_ref.into_iter());
            }
        }
        Some("union") => {
            let old_refs: Vec<&str> = old_map
                .and_then(|o| o.get("refs"))
                .and_then(Value::as_array)
                .map(|refs| refs.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(Value::Array(refs)) = map.get_mut("refs") {
                for item in refs {
                    if let Value::String(uri) = item {
                        *uri = unresolve(uri, id, old_refs.iter().copied());
                    }
                }
            }
        }
        _ => {
            for (key, item) in map.iter_mut() {
                let old_item = old_map.and_then(|o| o.get(key));
                match item {
                    Value::Array(items) => {
                        let own = format!("lex:{id}#");
                        for (i, element) in items.iter_mut().enumerate() {
                            let old_element = old_item.and_then(|o| o.get(i));
                            match element {
                                Value::String(text) => {
                                    if let Some(name) = text.strip_prefix(&own) {
                                        *text = format!("#{name}");
                                    }
                                }
                                Value::Object(_) => restore(element, id, old_element),
                                _ => {}
                            }
                        }
                    }
                    Value::Object(_) => restore(item, id, old_item),
                    _ => {}
                }
            }
        }
    }
}

/// A `lex:` URI as a reference in document `id`: the first of `old` that
/// resolves to it, else `#name` within the document, else the URI without
/// `lex:`.
fn unresolve<'o>(uri: &str, id: &str, mut old: impl Iterator<Item = &'o str>) -> String {
    if let Some(same) = old.find(|o| resolve(o, id) == uri) {
        return same.to_owned();
    }
    let Some(target) = uri.strip_prefix("lex:") else {
        return uri.to_owned();
    };
    match target
        .strip_prefix(id)
        .and_then(|rest| rest.strip_prefix('#'))
    {
        Some(name) => format!("#{name}"),
        None => target.to_owned(),
    }
}

/// `@atproto/lexicon`'s `toLexUri`: the `lex:` URI of a reference in
/// document `id`.
fn resolve(reference: &str, id: &str) -> String {
    if reference.starts_with("lex:") {
        reference.to_owned()
    } else if reference.starts_with('#') {
        format!("lex:{id}{reference}")
    } else {
        format!("lex:{reference}")
    }
}
