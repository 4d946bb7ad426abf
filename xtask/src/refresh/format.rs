//! Lexicon JSON written the way the upstream files are: prettier's JSON
//! style, 2-space indentation and 80 columns.
//!
//! prettier prints an object or array on one line when it fits (with the
//! comma that follows it), and across lines otherwise; an object also stays
//! across lines when its source had a line break after `{`, and an array of
//! two or more objects (or arrays) with more than one member each always
//! breaks. The source of a refreshed document is the previous version of
//! the file, so [`Layout::of`] reads which of its objects were written across
//! lines; objects a new version adds follow the width rule alone. The output
//! is a function of the value and that layout only.

use std::collections::HashSet;

use serde_json::Value;

/// The line width prettier wraps at.
const WIDTH: usize = 80;

/// The objects of a JSON text written across lines, by JSON pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    expanded: HashSet<String>,
    /// Members (by JSON pointer) with a blank line before them, which
    /// prettier keeps when their object or array is written across lines.
    blank_before: HashSet<String>,
}

impl Layout {
    /// The layout of `text`; an empty layout when it is not JSON. (The
    /// parser's defaults accept more than JSON; the text was read as JSON
    /// before.)
    pub(crate) fn of(text: &str) -> Self {
        let mut layout = Self::default();
        if let Ok(parsed) =
            jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default())
            && let Some(root) = &parsed.value
        {
            layout.collect(text, root, &mut String::new());
        }
        layout
    }

    fn collect(&mut self, text: &str, value: &jsonc_parser::ast::Value<'_>, pointer: &mut String) {
        use jsonc_parser::ast::Value as Ast;
        use jsonc_parser::common::Ranged as _;
        match value {
            Ast::Object(object) => {
                if let Some(first) = object.properties.first()
                    && text
                        .get(object.range.start..first.range.start)
                        .is_some_and(|gap| gap.contains('\n'))
                {
                    self.expanded.insert(pointer.clone());
                }
                let mut previous_end = None;
                for prop in &object.properties {
                    let len = pointer.len();
                    push_key(pointer, prop.name.as_str());
                    self.note_gap(text, previous_end, prop.range.start, pointer);
                    self.collect(text, &prop.value, pointer);
                    pointer.truncate(len);
                    previous_end = Some(prop.range.end);
                }
            }
            Ast::Array(array) => {
                let mut previous_end = None;
                for (i, element) in array.elements.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    let range = element.range();
                    self.note_gap(text, previous_end, range.start, pointer);
                    self.collect(text, element, pointer);
                    pointer.truncate(len);
                    previous_end = Some(range.end);
                }
            }
            _ => {}
        }
    }

    /// Notes a blank line between the member before (ending at
    /// `previous_end`) and the one at `start`.
    fn note_gap(&mut self, text: &str, previous_end: Option<usize>, start: usize, pointer: &str) {
        if let Some(gap) = previous_end.and_then(|end| text.get(end..start))
            && gap.matches('\n').count() > 1
        {
            self.blank_before.insert(pointer.to_owned());
        }
    }
}

/// Appends `/key` to a JSON pointer, escaped.
fn push_key(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

/// `value` as a file: prettier's layout, objects written across lines in
/// `layout` kept so, and a final newline.
pub(crate) fn write(value: &Value, layout: &Layout) -> String {
    let mut printer = Printer {
        layout,
        out: String::new(),
    };
    printer.value(value, &mut String::new(), 0, 0, 0);
    printer.out.push('\n');
    printer.out
}

struct Printer<'a> {
    layout: &'a Layout,
    out: String,
}

impl Printer<'_> {
    /// Prints `value` at `column` of a line indented by `indent`, followed
    /// by `trailing` characters before the next line break.
    fn value(
        &mut self,
        value: &Value,
        pointer: &mut String,
        indent: usize,
        column: usize,
        trailing: usize,
    ) {
        let members = match value {
            Value::Object(map) if !map.is_empty() => map.len(),
            Value::Array(items) if !items.is_empty() => items.len(),
            _ => {
                self.out.push_str(&flat(value));
                return;
            }
        };
        if !self.must_break(value, pointer) {
            let line = flat(value);
            if column + line.chars().count() + trailing <= WIDTH {
                self.out.push_str(&line);
                return;
            }
        }
        let inner = indent + 2;
        match value {
            Value::Object(map) => {
                self.out.push_str("{\n");
                for (i, (key, item)) in map.iter().enumerate() {
                    let printed = string(key);
                    let len = pointer.len();
                    push_key(pointer, key);
                    self.blank_line(pointer, i);
                    self.out.push_str(&" ".repeat(inner));
                    self.out.push_str(&printed);
                    self.out.push_str(": ");
                    let last = i + 1 == members;
                    let column = inner + printed.chars().count() + 2;
                    self.value(item, pointer, inner, column, usize::from(!last));
                    pointer.truncate(len);
                    self.out.push_str(if last { "\n" } else { ",\n" });
                }
                self.out.push_str(&" ".repeat(indent));
                self.out.push('}');
            }
            Value::Array(items) => {
                self.out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.blank_line(pointer, i);
                    self.out.push_str(&" ".repeat(inner));
                    let last = i + 1 == members;
                    self.value(item, pointer, inner, inner, usize::from(!last));
                    pointer.truncate(len);
                    self.out.push_str(if last { "\n" } else { ",\n" });
                }
                self.out.push_str(&" ".repeat(indent));
                self.out.push(']');
            }
            _ => {}
        }
    }

    /// A blank line before member `i` at `pointer` when the layout has one
    /// there (never before the first).
    fn blank_line(&mut self, pointer: &str, i: usize) {
        if i > 0 && self.layout.blank_before.contains(pointer) {
            self.out.push('\n');
        }
    }

    /// Whether `value` breaks across lines whatever the width: an object
    /// written across lines before, an array of several objects (or arrays)
    /// with more than one member each, or anything containing one.
    fn must_break(&self, value: &Value, pointer: &mut String) -> bool {
        match value {
            Value::Object(map) => {
                if self.layout.expanded.contains(pointer.as_str()) {
                    return true;
                }
                map.iter().any(|(key, item)| {
                    let len = pointer.len();
                    push_key(pointer, key);
                    let breaks = self.must_break(item, pointer);
                    pointer.truncate(len);
                    breaks
                })
            }
            Value::Array(items) => {
                let wide = |item: &Value| match item {
                    Value::Object(map) => map.len() > 1,
                    Value::Array(items) => items.len() > 1,
                    _ => false,
                };
                let same_kind = items.iter().all(|item| {
                    matches!(
                        (item, &items[0]),
                        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
                    )
                });
                if items.len() > 1 && same_kind && items.iter().all(wide) {
                    return true;
                }
                items.iter().enumerate().any(|(i, item)| {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    let breaks = self.must_break(item, pointer);
                    pointer.truncate(len);
                    breaks
                })
            }
            _ => false,
        }
    }
}

/// `value` on one line: `{ "a": 1, "b": [2, 3] }`.
fn flat(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{}: {}", string(key), flat(item)))
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flat).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(text) => string(text),
        other => other.to_string(),
    }
}

/// A JSON string literal.
fn string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}
