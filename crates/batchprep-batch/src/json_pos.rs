//! Line and column of every value in a JSON text, by JSON pointer, so a finding about a pool or task
//! can point at the exact place in the user's file. serde_json forgets positions; this scanner walks
//! the text once (after serde_json has accepted it) and records where each value starts.

use std::collections::HashMap;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

/// Positions of the values of one JSON document, keyed by RFC 6901 pointer (`""` is the root).
#[derive(Debug, Clone, Default)]
pub struct PointerIndex {
    positions: HashMap<String, Position>,
}

impl PointerIndex {
    /// Indexes `text`. Text that is not valid JSON yields a partial index (callers parse with
    /// serde_json first, which reports the error).
    pub fn build(text: &str) -> PointerIndex {
        let mut s = Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            positions: HashMap::new(),
        };
        s.value(String::new());
        PointerIndex {
            positions: s.positions,
        }
    }

    /// Where the value at `pointer` starts; for a missing member, the nearest existing parent.
    pub fn position(&self, pointer: &str) -> Position {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Position { line: 1, column: 1 },
            }
        }
    }
}

/// Appends one reference token to a pointer, escaping `~` and `/`.
pub fn push_token(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
    positions: HashMap<String, Position>,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn value(&mut self, pointer: String) {
        self.ws();
        self.positions.insert(
            pointer.clone(),
            Position {
                line: self.line,
                column: self.col,
            },
        );
        match self.peek() {
            Some('{') => {
                self.bump();
                loop {
                    self.ws();
                    match self.peek() {
                        Some('}') => {
                            self.bump();
                            return;
                        }
                        Some('"') => {
                            let key = self.string();
                            self.ws();
                            if self.peek() == Some(':') {
                                self.bump();
                            }
                            self.value(push_token(&pointer, &key));
                            self.ws();
                            if self.peek() == Some(',') {
                                self.bump();
                            }
                        }
                        _ => return,
                    }
                }
            }
            Some('[') => {
                self.bump();
                let mut index = 0usize;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            return;
                        }
                        None => return,
                        _ => {
                            let before = self.i;
                            self.value(format!("{pointer}/{index}"));
                            index += 1;
                            self.ws();
                            if self.peek() == Some(',') {
                                self.bump();
                            } else if self.i == before {
                                return;
                            }
                        }
                    }
                }
            }
            Some('"') => {
                self.string();
            }
            _ => {
                while matches!(self.peek(), Some(c) if !matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\n' | '\r'))
                {
                    self.bump();
                }
            }
        }
    }

    /// Reads a string literal and returns its decoded text.
    fn string(&mut self) -> String {
        let mut out = String::new();
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            match c {
                '"' => break,
                '\\' => {
                    let Some(e) = self.bump() else { break };
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                            let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                            // Surrogate pairs only matter for keys with astral characters; keep a
                            // replacement character rather than decoding pairs.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_pointer() {
        let text =
            "{\n  \"pool\": {\n    \"id\": \"p\",\n    \"a/b\": [1, {\"x\": true}]\n  }\n}\n";
        let idx = PointerIndex::build(text);
        assert_eq!(idx.position(""), Position { line: 1, column: 1 });
        assert_eq!(
            idx.position("/pool/id"),
            Position {
                line: 3,
                column: 11
            }
        );
        assert_eq!(
            idx.position("/pool/a~1b/1/x"),
            Position {
                line: 4,
                column: 22
            }
        );
        // A missing member points at its nearest parent.
        assert_eq!(
            idx.position("/pool/missing"),
            Position {
                line: 2,
                column: 11
            }
        );
    }

    #[test]
    fn columns_count_characters_and_escapes() {
        let text = "{\"é\\\"k\": \"v\", \"n\": 1}";
        let idx = PointerIndex::build(text);
        assert_eq!(
            idx.position("/é\"k"),
            Position {
                line: 1,
                column: 10
            }
        );
        assert_eq!(
            idx.position("/n"),
            Position {
                line: 1,
                column: 20
            }
        );
    }
}
