//! Finding the line and column of a JSON pointer in the source text, so
//! diagnostics can point into the file as an editor shows it.
//!
//! `serde_json::Value` keeps no positions; instead this walks the text with a
//! small scanner that understands just enough JSON to skip values.

/// The 1-based line and column (in characters) where the value at `pointer`
/// starts in `text`, or `None` if the pointer does not lead to a value.
pub fn line_col(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let tokens = parse_pointer(pointer)?;
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let offset = scanner.find(&tokens, 0)?;
    let before = text.get(..offset)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..)?.chars().count() + 1;
    Some((line, col))
}

fn parse_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

const MAX_DEPTH: usize = 512;

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Walks to the value at `tokens`, starting at a value position; returns
    /// its byte offset.
    fn find(&mut self, tokens: &[String], depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let Some((first, rest)) = tokens.split_first() else {
            return Some(self.pos);
        };
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.eat(b':')?;
                    if key == *first {
                        return self.find(rest, depth + 1);
                    }
                    self.skip_value(depth + 1)?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let index: usize = first.parse().ok()?;
                self.pos += 1;
                for _ in 0..index {
                    self.skip_value(depth + 1)?;
                    self.eat(b',')?;
                }
                self.skip_ws();
                if self.peek()? == b']' {
                    return None;
                }
                self.find(rest, depth + 1)
            }
            _ => None,
        }
    }

    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == close {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.skip_ws();
                        self.string()?;
                        self.eat(b':')?;
                    }
                    self.skip_value(depth + 1)?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b if b == close => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                // A number or literal: runs until a delimiter.
                let start = self.pos;
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
                (self.pos > start).then_some(())
            }
        }
    }

    /// Reads a string literal and returns its decoded text.
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                }
                b'"' => {
                    let raw = self.bytes.get(start..self.pos - 1)?;
                    let raw = std::str::from_utf8(raw).ok()?;
                    if !escaped {
                        return Some(raw.to_owned());
                    }
                    // Let serde_json decode escapes; it already accepted the file.
                    return serde_json::from_str(&format!("\"{raw}\"")).ok();
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::line_col;

    const TEXT: &str = "{\n  \"a\": 1,\n  \"b\": {\n    \"c/d\": [true, {\"e\": \"x\\\"y\"}],\n    \"f\": null\n  }\n}";

    #[test]
    fn finds_nested_values() {
        assert_eq!(line_col(TEXT, ""), Some((1, 1)));
        assert_eq!(line_col(TEXT, "/a"), Some((2, 8)));
        assert_eq!(line_col(TEXT, "/b/c~1d"), Some((4, 12)));
        assert_eq!(line_col(TEXT, "/b/c~1d/1/e"), Some((4, 25)));
        assert_eq!(line_col(TEXT, "/b/f"), Some((5, 10)));
    }

    #[test]
    fn missing_paths_and_garbage_give_none() {
        assert_eq!(line_col(TEXT, "/zzz"), None);
        assert_eq!(line_col(TEXT, "/b/c~1d/7"), None);
        assert_eq!(line_col(TEXT, "a"), None);
        assert_eq!(line_col("{\"a\": [1, 2", "/a/5"), None);
        assert_eq!(line_col("{{{{", "/a"), None);
        assert_eq!(line_col("\"unterminated", "/a"), None);
        assert_eq!(line_col(&"[".repeat(10_000), "/0/0/0"), Some((1, 4)));
    }
}
