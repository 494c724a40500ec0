//! Line and column of every value in a JSON text, by JSON pointer, so a finding about a pool or task
//! can point at the exact place in the user's file. serde_json forgets positions; this scanner walks
//! the text once (after serde_json has accepted it, so nesting is bounded by its recursion limit)
//! and records where each value starts. The index is a tree of reference tokens, not a map of whole
//! pointers, so its size is linear in the text however deep or wide the document is.

use std::collections::HashMap;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

/// Positions of the values of one JSON document, looked up by RFC 6901 pointer (`""` is the root).
#[derive(Debug, Clone, Default)]
pub struct PointerIndex {
    /// Node 0 is the root value (absent for an empty or invalid text).
    nodes: Vec<IndexNode>,
}

#[derive(Debug, Clone)]
struct IndexNode {
    position: Position,
    /// (parent node, reference token) -> child node, kept in the parent.
    children: HashMap<String, usize>,
}

const START: Position = Position { line: 1, column: 1 };

impl PointerIndex {
    /// Indexes `text`. Text that is not valid JSON yields an empty index (callers parse with
    /// serde_json too, which reports the error); every lookup then gives line 1, column 1.
    pub fn build(text: &str) -> PointerIndex {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            return PointerIndex::default();
        }
        let mut s = Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            nodes: Vec::new(),
        };
        s.value(None);
        PointerIndex { nodes: s.nodes }
    }

    /// Where the value at `pointer` starts; for a missing member, the nearest existing parent.
    pub fn position(&self, pointer: &str) -> Position {
        let Some(root) = self.nodes.first() else {
            return START;
        };
        let mut node = root;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            match node.children.get(&token) {
                Some(&child) => node = &self.nodes[child],
                None => break,
            }
        }
        node.position
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
    nodes: Vec<IndexNode>,
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

    /// Records the value starting here as child `token` of `parent`, returning its node.
    fn add(&mut self, parent: Option<(usize, String)>) -> usize {
        let id = self.nodes.len();
        self.nodes.push(IndexNode {
            position: Position {
                line: self.line,
                column: self.col,
            },
            children: HashMap::new(),
        });
        if let Some((p, token)) = parent {
            self.nodes[p].children.insert(token, id);
        }
        id
    }

    fn value(&mut self, parent: Option<(usize, String)>) {
        self.ws();
        let id = self.add(parent);
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
                            self.value(Some((id, key)));
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
                            self.value(Some((id, index.to_string())));
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
    fn invalid_or_deep_text_gives_an_empty_index() {
        // 30 KB of `[`: serde_json refuses it (recursion limit) before anything is indexed.
        let idx = PointerIndex::build(&"[".repeat(30_000));
        assert!(idx.nodes.is_empty());
        assert_eq!(idx.position("/0/0"), START);
        // A wide document with a long key holds the key once, not once per element.
        let key = "k".repeat(10_000);
        let text = format!("{{\"{key}\": [{}1]}}", "1,".repeat(5_000));
        let idx = PointerIndex::build(&text);
        let held: usize = idx
            .nodes
            .iter()
            .flat_map(|n| n.children.keys())
            .map(String::len)
            .sum();
        assert!(held < 40_000, "{held}");
        assert_eq!(
            idx.position(&format!("/{key}/5000")).column,
            10_000 + 7 + 2 * 5_000
        );
    }

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
