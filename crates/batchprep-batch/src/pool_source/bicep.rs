//! Bicep `Microsoft.Batch/batchAccounts/pools` resources, read without a Bicep compiler (none can be
//! installed here): a tokenizer and a small recursive-descent grammar for the declaration subset
//! (`param`, `var`, `resource`, nested child resources, decorators; `module`, `output`, `type` and the
//! rest are parsed and passed over), then an evaluator that resolves what is known before
//! deployment: literals, params with defaults, variables, string interpolation, object and array
//! literals, property access and indexing. A condition (`= if (...)`) or a loop (`[for ...]`) that is
//! not known is reported as unknown; a loop over a known array gives one pool per element. Every
//! nesting level counts against [`MAX_DEPTH`], so hostile input is an error, not a stack overflow.

use std::{collections::HashMap, path::Path};

use super::{MAX_DEPTH, PoolFileError, SourceIndex, node};
use crate::{
    json_pos::{Position, push_token},
    pool::{PoolDefinition, PoolShape, arm_shaped},
    template::{Node, Spanned},
};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A string: literal parts and `${...}` interpolations (as token lists).
    Str(Vec<StrPart>),
    Int(i64),
    Punct(&'static str),
    Newline,
}

#[derive(Debug, Clone, PartialEq)]
enum StrPart {
    Lit(String),
    Interp(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    tok: Tok,
    pos: Position,
    /// Byte range in the source, for the text of unknown expressions.
    start: usize,
    end: usize,
}

const PUNCT: &[&str] = &[
    "...", "==", "!=", "<=", ">=", "&&", "||", "??", ".?", "=>", "::", "{", "}", "[", "]", "(",
    ")", ",", ":", ".", "?", "!", "=", "<", ">", "+", "-", "*", "/", "%", "@", "|",
];

fn syntax(pos: Position, message: impl Into<String>) -> PoolFileError {
    PoolFileError::Syntax {
        file: None,
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

struct Lexer<'a> {
    text: &'a str,
    i: usize,
    line: u32,
    col: u32,
}

impl Lexer<'_> {
    fn pos(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.i..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn rest(&self) -> &str {
        &self.text[self.i..]
    }

    /// Tokens until the end, or until the `}` closing an interpolation (`depth` counts braces).
    fn tokens(&mut self, in_interp: bool, nesting: usize) -> Result<Vec<Token>, PoolFileError> {
        if nesting > MAX_DEPTH {
            return Err(syntax(
                self.pos(),
                format!("strings nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let mut out = Vec::new();
        let mut braces = 0usize;
        while let Some(c) = self.peek() {
            let pos = self.pos();
            let start = self.i;
            let tok = if c == '\n' {
                self.bump();
                Tok::Newline
            } else if c.is_whitespace() {
                self.bump();
                continue;
            } else if self.rest().starts_with("//") {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
                continue;
            } else if self.rest().starts_with("/*") {
                self.bump();
                self.bump();
                while !self.rest().starts_with("*/") {
                    if self.bump().is_none() {
                        return Err(syntax(pos, "comment `/*` is never closed"));
                    }
                }
                self.bump();
                self.bump();
                continue;
            } else if self.rest().starts_with("'''") {
                for _ in 0..3 {
                    self.bump();
                }
                let from = self.i;
                let Some(len) = self.rest().find("'''") else {
                    return Err(syntax(pos, "multi-line string `'''` is never closed"));
                };
                let lit = self.text[from..from + len].to_owned();
                while self.i < from + len + 3 {
                    self.bump();
                }
                // A newline right after the opening quotes is not part of the string.
                let lit = lit.strip_prefix('\n').map(str::to_owned).unwrap_or(lit);
                Tok::Str(vec![StrPart::Lit(lit)])
            } else if c == '\'' {
                self.bump();
                Tok::Str(self.string(pos, nesting)?)
            } else if c.is_ascii_digit() {
                let from = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
                let digits = &self.text[from..self.i];
                Tok::Int(
                    digits
                        .parse()
                        .map_err(|_| syntax(pos, format!("number `{digits}` is too large")))?,
                )
            } else if c.is_alphabetic() || c == '_' {
                let from = self.i;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.bump();
                }
                Tok::Ident(self.text[from..self.i].to_owned())
            } else if let Some(p) = PUNCT.iter().find(|p| self.rest().starts_with(**p)) {
                if in_interp && *p == "}" && braces == 0 {
                    self.bump();
                    return Ok(out);
                }
                match *p {
                    "{" => braces += 1,
                    "}" => braces = braces.saturating_sub(1),
                    _ => {}
                }
                for _ in 0..p.len() {
                    self.bump();
                }
                Tok::Punct(p)
            } else {
                return Err(syntax(pos, format!("unexpected character `{c}`")));
            };
            out.push(Token {
                tok,
                pos,
                start,
                end: self.i,
            });
        }
        if in_interp {
            return Err(syntax(self.pos(), "`${` is never closed"));
        }
        Ok(out)
    }

    /// The rest of a `'...'` string, with escapes and interpolations.
    fn string(&mut self, open: Position, nesting: usize) -> Result<Vec<StrPart>, PoolFileError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(syntax(open, "string is never closed"));
            };
            match c {
                '\'' => break,
                '\n' => return Err(syntax(open, "string is never closed on its line")),
                '\\' => {
                    let e = self
                        .bump()
                        .ok_or_else(|| syntax(open, "string is never closed"))?;
                    match e {
                        'n' => lit.push('\n'),
                        'r' => lit.push('\r'),
                        't' => lit.push('\t'),
                        '\\' | '\'' | '$' => lit.push(e),
                        'u' => {
                            let from = self.i;
                            while self.peek().is_some_and(|c| c != '}') {
                                self.bump();
                            }
                            self.bump();
                            let hex = self.text[from..self.i - 1].trim_start_matches('{');
                            lit.push(
                                u32::from_str_radix(hex, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .unwrap_or('\u{FFFD}'),
                            );
                        }
                        other => {
                            return Err(syntax(
                                open,
                                format!("unknown escape `\\{other}` in string"),
                            ));
                        }
                    }
                }
                '$' if self.peek() == Some('{') => {
                    self.bump();
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(StrPart::Interp(self.tokens(true, nesting + 1)?));
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        Ok(parts)
    }
}

/// An expression, with where it starts and its source range.
#[derive(Debug, Clone)]
struct Expr {
    kind: Kind,
    pos: Position,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone)]
enum Kind {
    Str(Vec<ExprPart>),
    Int(i64),
    Bool(bool),
    Null,
    Ident(String),
    Object(Vec<Member>),
    Array(Vec<Expr>),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[for x in xs: body]` / `[for (x, i) in xs: body]`.
    For {
        item: String,
        index: Option<String>,
        iterable: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if (cond) body` (resource bodies and loop bodies).
    If(Box<Expr>, Box<Expr>),
    /// Calls, operators, lambdas: never evaluated.
    Opaque,
}

#[derive(Debug, Clone)]
enum ExprPart {
    Lit(String),
    Interp(Expr),
}

#[derive(Debug, Clone)]
enum Member {
    Prop {
        key: String,
        pos: Position,
        value: Expr,
    },
    /// A nested child resource declaration.
    Resource(Resource),
    /// `...spread`: unknown members.
    Spread(Expr),
}

#[derive(Debug, Clone)]
struct Resource {
    name: String,
    kind: String,
    existing: bool,
    pos: Position,
    value: Expr,
}

struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
    depth: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn here(&self) -> Position {
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .map_or(Position { line: 1, column: 1 }, |t| t.pos)
    }

    fn start(&self) -> usize {
        self.toks.get(self.i).map_or(self.text.len(), |t| t.start)
    }

    fn last_end(&self) -> usize {
        self.i
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.end)
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    /// `p`, also at the start of a following line (a ternary or operator continued there).
    fn eat_across(&mut self, p: &str) -> bool {
        let mut j = self.i;
        while matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Newline)) {
            j += 1;
        }
        let yes = matches!(self.toks.get(j).map(|t| &t.tok), Some(Tok::Punct(q)) if *q == p);
        if yes {
            self.i = j + 1;
        }
        yes
    }

    fn eat(&mut self, p: &str) -> bool {
        let yes = self.is(p);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn expect(&mut self, p: &str) -> Result<(), PoolFileError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(syntax(
                self.here(),
                format!("expected `{p}`, found {}", self.describe()),
            ))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the file".into(),
            Some(Tok::Newline) => "the end of the line".into(),
            Some(Tok::Punct(p)) => format!("`{p}`"),
            Some(Tok::Ident(i)) => format!("`{i}`"),
            Some(Tok::Int(n)) => format!("`{n}`"),
            Some(Tok::Str(_)) => "a string".into(),
        }
    }

    fn newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline)) {
            self.i += 1;
        }
    }

    fn ident(&mut self) -> Result<String, PoolFileError> {
        match self.peek() {
            Some(Tok::Ident(i)) => {
                let i = i.clone();
                self.i += 1;
                Ok(i)
            }
            _ => Err(syntax(
                self.here(),
                format!("expected a name, found {}", self.describe()),
            )),
        }
    }

    fn enter(&mut self) -> Result<(), PoolFileError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax(
                self.here(),
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// Skips to the end of the line, over balanced brackets (types, decorators we do not read).
    fn skip_line(&mut self) -> Result<(), PoolFileError> {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Newline if depth == 0 => break,
                Tok::Punct("{" | "[" | "(") => depth += 1,
                Tok::Punct("}" | "]" | ")") => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.i += 1;
        }
        Ok(())
    }

    /// Skips tokens up to `=` at bracket depth 0 on this line (a param's type); true when found.
    fn skip_to_assign(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Newline if depth == 0 => return false,
                Tok::Punct("=") if depth == 0 => {
                    self.i += 1;
                    return true;
                }
                Tok::Punct("{" | "[" | "(") => depth += 1,
                Tok::Punct("}" | "]" | ")") => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.i += 1;
        }
        false
    }

    fn file(&mut self) -> Result<Vec<Decl>, PoolFileError> {
        let mut decls = Vec::new();
        loop {
            self.newlines();
            let Some(tok) = self.peek().cloned() else {
                break;
            };
            let pos = self.here();
            match tok {
                Tok::Punct("@") => {
                    self.i += 1;
                    self.expression()?;
                }
                Tok::Ident(word) => {
                    self.i += 1;
                    match word.as_str() {
                        "param" => {
                            let name = self.ident()?;
                            let default = if self.skip_to_assign() {
                                Some(self.expression()?)
                            } else {
                                None
                            };
                            decls.push(Decl::Param { name, pos, default });
                        }
                        "var" => {
                            let name = self.ident()?;
                            self.expect("=")?;
                            let value = self.expression()?;
                            decls.push(Decl::Var { name, value });
                        }
                        "resource" => decls.push(Decl::Resource(self.resource(pos)?)),
                        "module" | "output" | "type" | "metadata" | "targetScope" | "func"
                        | "import" | "using" | "extension" | "provider" => {
                            if self.skip_to_assign() {
                                self.expression()?;
                            } else {
                                self.skip_line()?;
                            }
                        }
                        other => {
                            return Err(syntax(
                                pos,
                                format!("`{other}` does not start a Bicep declaration"),
                            ));
                        }
                    }
                }
                _ => {
                    return Err(syntax(
                        pos,
                        format!("{} does not start a Bicep declaration", self.describe()),
                    ));
                }
            }
        }
        Ok(decls)
    }

    /// After `resource`: `name 'type@version' [existing] = value`.
    fn resource(&mut self, pos: Position) -> Result<Resource, PoolFileError> {
        let name = self.ident()?;
        let kind = match self.peek() {
            Some(Tok::Str(parts)) => match parts.as_slice() {
                [StrPart::Lit(s)] => s.clone(),
                _ => String::new(),
            },
            _ => {
                return Err(syntax(
                    self.here(),
                    format!(
                        "resource `{name}`: expected its type string, found {}",
                        self.describe()
                    ),
                ));
            }
        };
        self.i += 1;
        let existing = self.is_ident("existing");
        if existing {
            self.i += 1;
        }
        self.expect("=")?;
        let value = self.expression()?;
        Ok(Resource {
            name,
            kind,
            existing,
            pos,
            value,
        })
    }

    fn expression(&mut self) -> Result<Expr, PoolFileError> {
        self.enter()?;
        let start = self.start();
        let pos = self.here();
        let cond = self.binary(0)?;
        let e = if self.eat_across("?") {
            self.newlines();
            let a = self.expression()?;
            self.newlines();
            self.expect(":")?;
            self.newlines();
            let b = self.expression()?;
            self.made(
                Kind::Ternary(Box::new(cond), Box::new(a), Box::new(b)),
                pos,
                start,
            )
        } else {
            cond
        };
        self.depth -= 1;
        Ok(e)
    }

    fn made(&self, kind: Kind, pos: Position, start: usize) -> Expr {
        Expr {
            kind,
            pos,
            start,
            end: self.last_end(),
        }
    }

    /// Binary operators: not evaluated, only parsed (by precedence, so `a ? b : c` binds right).
    fn binary(&mut self, level: usize) -> Result<Expr, PoolFileError> {
        const LEVELS: &[&[&str]] = &[
            &["??"],
            &["||"],
            &["&&"],
            &["==", "!="],
            &["<", ">", "<=", ">="],
            &["|"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let start = self.start();
        let pos = self.here();
        let mut left = self.binary(level + 1)?;
        while LEVELS[level].iter().any(|p| self.eat_across(p)) {
            self.newlines();
            self.binary(level + 1)?;
            left = self.made(Kind::Opaque, pos, start);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, PoolFileError> {
        let start = self.start();
        let pos = self.here();
        if self.eat("!") || self.eat("-") {
            self.enter()?;
            self.unary()?;
            self.depth -= 1;
            return Ok(self.made(Kind::Opaque, pos, start));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, PoolFileError> {
        let start = self.start();
        let pos = self.here();
        let mut e = self.primary()?;
        loop {
            if self.eat(".") || self.eat(".?") || self.eat("::") {
                let name = self.ident()?;
                e = self.made(Kind::Member(Box::new(e), name), pos, start);
            } else if self.eat("[") {
                self.newlines();
                self.eat("?");
                let index = self.expression()?;
                self.newlines();
                self.expect("]")?;
                e = self.made(Kind::Index(Box::new(e), Box::new(index)), pos, start);
            } else if self.is("(") {
                self.args()?;
                e = self.made(Kind::Opaque, pos, start);
            } else if self.is("!")
                && matches!(
                    self.toks.get(self.i + 1).map(|t| &t.tok),
                    Some(Tok::Newline | Tok::Punct("." | "}" | "]" | ")" | ",")) | None
                )
            {
                // `x!`: a non-null assertion.
                self.i += 1;
            } else {
                return Ok(e);
            }
        }
    }

    fn args(&mut self) -> Result<(), PoolFileError> {
        self.expect("(")?;
        self.newlines();
        while !self.eat(")") {
            self.expression()?;
            self.newlines();
            if !self.eat(",") && !self.is(")") {
                return Err(syntax(
                    self.here(),
                    format!("expected `,` or `)`, found {}", self.describe()),
                ));
            }
            self.newlines();
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Expr, PoolFileError> {
        self.enter()?;
        let start = self.start();
        let pos = self.here();
        let Some(tok) = self.peek().cloned() else {
            return Err(syntax(pos, "expected a value, found the end of the file"));
        };
        let kind = match tok {
            Tok::Int(n) => {
                self.i += 1;
                Kind::Int(n)
            }
            Tok::Str(parts) => {
                self.i += 1;
                let mut out = Vec::new();
                for p in parts {
                    out.push(match p {
                        StrPart::Lit(s) => ExprPart::Lit(s),
                        StrPart::Interp(toks) => {
                            let mut inner = Parser {
                                toks: &toks,
                                i: 0,
                                depth: self.depth,
                                text: self.text,
                            };
                            inner.newlines();
                            let e = inner.expression()?;
                            ExprPart::Interp(e)
                        }
                    });
                }
                Kind::Str(out)
            }
            Tok::Ident(word) => {
                self.i += 1;
                match word.as_str() {
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    "null" => Kind::Null,
                    "if" if self.is("(") => {
                        self.expect("(")?;
                        self.newlines();
                        let cond = self.expression()?;
                        self.newlines();
                        self.expect(")")?;
                        self.newlines();
                        let body = self.expression()?;
                        Kind::If(Box::new(cond), Box::new(body))
                    }
                    _ if self.is("=>") => {
                        self.i += 1;
                        self.expression()?;
                        Kind::Opaque
                    }
                    _ => Kind::Ident(word),
                }
            }
            Tok::Punct("(") => {
                self.i += 1;
                self.newlines();
                let e = self.expression()?;
                self.newlines();
                if self.is(",") {
                    // A lambda's parameter list `(a, b) => ...`.
                    while !self.eat(")") {
                        self.i += 1;
                        if self.peek().is_none() {
                            return Err(syntax(pos, "`(` is never closed"));
                        }
                    }
                    self.expect("=>")?;
                    self.expression()?;
                    Kind::Opaque
                } else {
                    self.expect(")")?;
                    if self.eat("=>") {
                        self.expression()?;
                        Kind::Opaque
                    } else {
                        self.depth -= 1;
                        return Ok(Expr { start, ..e });
                    }
                }
            }
            Tok::Punct("{") => self.object()?,
            Tok::Punct("[") => self.array()?,
            _ => {
                return Err(syntax(
                    pos,
                    format!("expected a value, found {}", self.describe()),
                ));
            }
        };
        self.depth -= 1;
        Ok(self.made(kind, pos, start))
    }

    fn object(&mut self) -> Result<Kind, PoolFileError> {
        let open = self.here();
        self.expect("{")?;
        let mut members = Vec::new();
        loop {
            self.newlines();
            if self.eat("}") {
                return Ok(Kind::Object(members));
            }
            let pos = self.here();
            match self.peek().cloned() {
                Some(Tok::Punct("@")) => {
                    self.i += 1;
                    self.expression()?;
                    continue;
                }
                Some(Tok::Punct("...")) => {
                    self.i += 1;
                    members.push(Member::Spread(self.expression()?));
                }
                Some(Tok::Ident(w))
                    if w == "resource"
                        && matches!(
                            self.toks.get(self.i + 1).map(|t| &t.tok),
                            Some(Tok::Ident(_))
                        ) =>
                {
                    self.i += 1;
                    members.push(Member::Resource(self.resource(pos)?));
                }
                Some(Tok::Ident(key)) => {
                    self.i += 1;
                    self.expect(":")?;
                    self.newlines();
                    let value = self.expression()?;
                    members.push(Member::Prop { key, pos, value });
                }
                Some(Tok::Str(parts)) => {
                    // An interpolated key (`'${identity.id}'`) is kept as written.
                    let key = match parts.as_slice() {
                        [StrPart::Lit(s)] => s.clone(),
                        _ => {
                            let t = &self.toks[self.i];
                            self.text.get(t.start..t.end).unwrap_or_default().to_owned()
                        }
                    };
                    self.i += 1;
                    self.expect(":")?;
                    self.newlines();
                    let value = self.expression()?;
                    members.push(Member::Prop { key, pos, value });
                }
                None => return Err(syntax(open, "`{` is never closed")),
                _ => {
                    return Err(syntax(
                        pos,
                        format!("expected a property name, found {}", self.describe()),
                    ));
                }
            }
            if !self.eat(",") && !matches!(self.peek(), Some(Tok::Newline)) && !self.is("}") {
                return Err(syntax(
                    self.here(),
                    format!("expected a new line or `}}`, found {}", self.describe()),
                ));
            }
        }
    }

    fn array(&mut self) -> Result<Kind, PoolFileError> {
        let open = self.here();
        self.expect("[")?;
        self.newlines();
        if self.is_ident("for") {
            self.i += 1;
            let (item, index) = if self.eat("(") {
                let item = self.ident()?;
                self.expect(",")?;
                let index = self.ident()?;
                self.expect(")")?;
                (item, Some(index))
            } else {
                (self.ident()?, None)
            };
            if !self.is_ident("in") {
                return Err(syntax(
                    self.here(),
                    format!("expected `in`, found {}", self.describe()),
                ));
            }
            self.i += 1;
            let iterable = self.expression()?;
            self.expect(":")?;
            self.newlines();
            let body = self.expression()?;
            self.newlines();
            self.expect("]")?;
            return Ok(Kind::For {
                item,
                index,
                iterable: Box::new(iterable),
                body: Box::new(body),
            });
        }
        let mut items = Vec::new();
        loop {
            self.newlines();
            if self.eat("]") {
                return Ok(Kind::Array(items));
            }
            if self.peek().is_none() {
                return Err(syntax(open, "`[` is never closed"));
            }
            items.push(self.expression()?);
            if !self.eat(",") && !matches!(self.peek(), Some(Tok::Newline)) && !self.is("]") {
                return Err(syntax(
                    self.here(),
                    format!("expected a new line or `]`, found {}", self.describe()),
                ));
            }
        }
    }
}

enum Decl {
    Param {
        name: String,
        pos: Position,
        default: Option<Expr>,
    },
    Var {
        name: String,
        value: Expr,
    },
    Resource(Resource),
}

/// What names mean while evaluating: params, vars, loop variables.
struct Scope<'a> {
    text: &'a str,
    values: HashMap<String, Binding<'a>>,
    index: SourceIndex,
    evaluating: Vec<String>,
}

#[derive(Clone)]
enum Binding<'a> {
    /// A param default or variable, evaluated on first use at its pointer.
    Lazy(&'a Expr, String),
    Done(Spanned),
}

impl Scope<'_> {
    fn source(&self, e: &Expr) -> String {
        self.text.get(e.start..e.end).map_or_else(String::new, |s| {
            s.split_whitespace().collect::<Vec<_>>().join(" ")
        })
    }

    fn lookup(&mut self, name: &str, depth: usize) -> Option<Spanned> {
        match self.values.get(name)?.clone() {
            Binding::Done(v) => Some(v),
            Binding::Lazy(expr, at) => {
                if self.evaluating.iter().any(|n| n == name) {
                    return None;
                }
                self.evaluating.push(name.to_owned());
                let v = self.eval(expr, &at, depth + 1);
                self.evaluating.pop();
                self.values
                    .insert(name.to_owned(), Binding::Done(v.clone()));
                Some(v)
            }
        }
    }

    fn eval(&mut self, e: &Expr, at: &str, depth: usize) -> Spanned {
        let unknown = |s: &Self| node(Node::Unknown(s.source(e)), at);
        if depth > MAX_DEPTH * 4 {
            return unknown(self);
        }
        match &e.kind {
            Kind::Int(n) => node(Node::Number((*n).into()), at),
            Kind::Bool(b) => node(Node::Bool(*b), at),
            Kind::Null => node(Node::Null, at),
            Kind::Str(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        ExprPart::Lit(l) => s.push_str(l),
                        ExprPart::Interp(i) => match self.eval(i, at, depth + 1).node {
                            Node::String(v) => s.push_str(&v),
                            Node::Number(n) => s.push_str(&n.to_string()),
                            Node::Bool(b) => s.push_str(&b.to_string()),
                            _ => return unknown(self),
                        },
                    }
                }
                node(Node::String(s), at)
            }
            Kind::Ident(name) => self.lookup(name, depth).unwrap_or_else(|| unknown(self)),
            Kind::Object(members) => {
                let mut out = Vec::new();
                for m in members {
                    match m {
                        Member::Prop { key, pos, value } => {
                            let here = push_token(at, key);
                            self.index.record(&here, 0, *pos);
                            let v = self.eval(value, &here, depth + 1);
                            out.push((key.clone(), v));
                        }
                        Member::Spread(s) => {
                            let here = push_token(at, "...");
                            self.index.record(&here, 0, s.pos);
                            out.push((
                                "...".into(),
                                node(Node::Unknown(format!("...{}", self.source(s))), &here),
                            ));
                        }
                        Member::Resource(_) => {}
                    }
                }
                node(Node::Object(out), at)
            }
            Kind::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let here = format!("{at}/{i}");
                    self.index.record(&here, 0, item.pos);
                    out.push(self.eval(item, &here, depth + 1));
                }
                node(Node::Array(out), at)
            }
            Kind::Member(base, name) => {
                let b = self.eval(base, at, depth + 1);
                match b.get(name) {
                    Some(v) if matches!(b.node, Node::Object(_)) => v.clone(),
                    _ => unknown(self),
                }
            }
            Kind::Index(base, index) => {
                let b = self.eval(base, at, depth + 1);
                let i = self.eval(index, at, depth + 1);
                let found = match (&b.node, &i.node) {
                    (Node::Array(items), Node::Number(n)) => {
                        n.as_u64().and_then(|n| items.get(n as usize)).cloned()
                    }
                    (Node::Object(_), Node::String(k)) => b.get(k).cloned(),
                    _ => None,
                };
                found.unwrap_or_else(|| unknown(self))
            }
            Kind::Ternary(c, a, b) => match self.eval(c, at, depth + 1).as_bool() {
                Some(true) => self.eval(a, at, depth + 1),
                Some(false) => self.eval(b, at, depth + 1),
                None => unknown(self),
            },
            Kind::For { .. } | Kind::If(..) | Kind::Opaque => unknown(self),
        }
    }
}

/// The pools of a Bicep file.
pub(super) fn read(
    path: &Path,
    text: &str,
) -> Result<(Vec<PoolDefinition>, SourceIndex), PoolFileError> {
    let toks = Lexer {
        text,
        i: 0,
        line: 1,
        col: 1,
    }
    .tokens(false, 0)?;
    let decls = Parser {
        toks: &toks,
        i: 0,
        depth: 0,
        text,
    }
    .file()?;
    let mut scope = Scope {
        text,
        values: HashMap::new(),
        index: SourceIndex {
            files: vec![path.to_path_buf()],
            ..SourceIndex::default()
        },
        evaluating: Vec::new(),
    };
    let mut resources: Vec<(&Resource, bool)> = Vec::new();
    for d in &decls {
        match d {
            Decl::Param { name, pos, default } => {
                let at = push_token("/param", name);
                scope.index.record(&at, 0, *pos);
                if let Some(default) = default {
                    scope.index.record(&format!("{at}/default"), 0, default.pos);
                    scope.values.insert(
                        name.clone(),
                        Binding::Lazy(default, format!("{at}/default")),
                    );
                }
            }
            Decl::Var { name, value } => {
                let at = push_token("/var", name);
                scope.index.record(&at, 0, value.pos);
                scope.values.insert(name.clone(), Binding::Lazy(value, at));
            }
            Decl::Resource(r) => {
                collect(r, false, &mut resources);
            }
        }
    }
    let mut pools = Vec::new();
    for (r, nested) in resources {
        let kind = r.kind.split('@').next().unwrap_or_default();
        let is_pool = kind.eq_ignore_ascii_case("Microsoft.Batch/batchAccounts/pools")
            || (nested && kind.eq_ignore_ascii_case("pools"));
        if !is_pool || r.existing {
            continue;
        }
        let at = push_token("/resource", &r.name);
        scope.index.record(&at, 0, r.pos);
        pools.extend(resource_pools(&mut scope, r, &at));
    }
    if pools.is_empty() {
        return Err(PoolFileError::NoPool(
            "no `Microsoft.Batch/batchAccounts/pools` resource is declared in this file (pools created by a `module` are read from the module's own file)".into(),
        ));
    }
    Ok((pools, scope.index))
}

/// Top-level resources and the child resources nested in their bodies.
fn collect<'a>(r: &'a Resource, nested: bool, out: &mut Vec<(&'a Resource, bool)>) {
    out.push((r, nested));
    let mut body = &r.value;
    loop {
        match &body.kind {
            Kind::If(_, b) => body = &**b,
            Kind::For { body: b, .. } => body = &**b,
            _ => break,
        }
    }
    if let Kind::Object(members) = &body.kind {
        for m in members {
            if let Member::Resource(child) = m {
                // Only a batch account's children can be `pools`.
                let parent = r.kind.split('@').next().unwrap_or_default();
                collect(
                    child,
                    parent.eq_ignore_ascii_case("Microsoft.Batch/batchAccounts"),
                    out,
                );
            }
        }
    }
}

/// Strips `if (...)` wrappers: the body, and whether a known-false condition skips the pool. An
/// unknown condition is noted.
fn unwrap_if<'e>(
    scope: &mut Scope<'_>,
    mut body: &'e Expr,
    at: &str,
    notes: &mut Vec<(String, String)>,
) -> (&'e Expr, bool) {
    let mut skipped = false;
    while let Kind::If(cond, b) = &body.kind {
        match scope.eval(cond, at, 0).as_bool() {
            Some(true) => {}
            Some(false) => skipped = true,
            None => notes.push((at.to_owned(), format!("if ({})", scope.source(cond)))),
        }
        body = &**b;
    }
    (body, skipped)
}

/// One pool per resource, or per element of a known loop; unknown conditions and loops are reported.
fn resource_pools(scope: &mut Scope<'_>, r: &Resource, at: &str) -> Vec<PoolDefinition> {
    let mut notes: Vec<(String, String)> = Vec::new();
    let (body, skipped) = unwrap_if(scope, &r.value, at, &mut notes);
    if skipped {
        return Vec::new();
    }
    let Kind::For {
        item,
        index,
        iterable,
        body: each,
    } = &body.kind
    else {
        return vec![one_pool(scope, body, at, notes)];
    };
    let mut pools = Vec::new();
    let items = scope.eval(iterable, at, 0);
    match &items.node {
        Node::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                let saved_item = scope
                    .values
                    .insert(item.clone(), Binding::Done(element.clone()));
                let saved_index = index.as_ref().map(|n| {
                    let number = node(Node::Number(i.into()), at);
                    (
                        n.clone(),
                        scope.values.insert(n.clone(), Binding::Done(number)),
                    )
                });
                let mut n = notes.clone();
                let (b, skip) = unwrap_if(scope, each, at, &mut n);
                if !skip {
                    pools.push(one_pool(scope, b, at, n));
                }
                restore(scope, item, saved_item);
                if let Some((name, saved)) = saved_index {
                    restore(scope, &name, saved);
                }
            }
        }
        _ => {
            // The loop's elements are not known: one pool read with the loop variables unknown.
            let saved = scope.values.remove(item);
            let saved_index = index.as_ref().and_then(|n| scope.values.remove(n));
            notes.push((
                at.to_owned(),
                format!(
                    "for {} in {}",
                    index
                        .as_ref()
                        .map_or(item.clone(), |i| format!("({item}, {i})")),
                    scope.source(iterable)
                ),
            ));
            let (b, _) = unwrap_if(scope, each, at, &mut notes);
            pools.push(one_pool(scope, b, at, notes));
            restore(scope, item, saved);
            if let Some(n) = index {
                restore(scope, n, saved_index);
            }
        }
    }
    pools
}

fn restore<'a>(scope: &mut Scope<'a>, name: &str, saved: Option<Binding<'a>>) {
    match saved {
        Some(s) => {
            scope.values.insert(name.to_owned(), s);
        }
        None => {
            scope.values.remove(name);
        }
    }
}

fn one_pool(
    scope: &mut Scope<'_>,
    body: &Expr,
    at: &str,
    notes: Vec<(String, String)>,
) -> PoolDefinition {
    let resource = scope.eval(body, at, 0);
    let mut pool = arm_shaped(&resource, PoolShape::Bicep);
    // `'${account}/render'`: the account may be unknown, the pool id (the last segment) is not.
    if pool.id.is_none()
        && let Kind::Object(members) = &body.kind
        && let Some(Kind::Str(parts)) = members.iter().find_map(|m| match m {
            Member::Prop { key, value, .. } if key == "name" => Some(&value.kind),
            _ => None,
        })
        && let Some(ExprPart::Lit(last)) = parts.last()
        && let Some((_, id)) = last.rsplit_once('/')
        && !id.is_empty()
    {
        let pointer = push_token(at, "name");
        pool.unknowns.retain(|(p, _)| *p != pointer);
        pool.id = Some(crate::pool::Field {
            value: id.to_owned(),
            pointer,
        });
    }
    pool.unknowns.splice(0..0, notes);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools(text: &str) -> Vec<PoolDefinition> {
        read(Path::new("p.bicep"), text).unwrap().0
    }

    #[test]
    fn reads_params_vars_interpolation_and_positions() {
        let text = "param size string = 'Standard_D2s_v3'\nparam acct string\nvar sku = '2404'\n\nresource pool 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {\n  name: '${acct}/render'\n  properties: {\n    vmSize: size\n    deploymentConfiguration: {\n      virtualMachineConfiguration: {\n        imageReference: { publisher: 'microsoft-dsvm', offer: 'ubuntu-hpc', sku: sku }\n        nodeAgentSkuId: 'batch.node.ubuntu ${sku == 'x' ? 'a' : 'b'}'\n      }\n    }\n  }\n}\n";
        let (pools, index) = read(Path::new("p.bicep"), text).unwrap();
        let p = &pools[0];
        let size = p.vm_size.as_ref().unwrap();
        assert_eq!(size.value, "Standard_D2s_v3");
        assert_eq!(size.pointer, "/param/size/default");
        assert_eq!(
            index.locate(&size.pointer).position,
            Position {
                line: 1,
                column: 21
            }
        );
        let sku = p.image.as_ref().unwrap().sku.as_ref().unwrap();
        assert_eq!(
            (sku.value.as_str(), sku.pointer.as_str()),
            ("2404", "/var/sku")
        );
        assert_eq!(
            index.locate("/resource/pool/properties/vmSize").position,
            Position { line: 8, column: 5 }
        );
        // The name's account part is a param without default; the pool id, its last segment, is known.
        assert_eq!(p.display_id(), "render");
        // A conditional is not evaluated: reported as unknown, never guessed.
        assert_eq!(
            p.unknowns,
            vec![(
                "/resource/pool/properties/deploymentConfiguration/virtualMachineConfiguration/nodeAgentSkuId".to_owned(),
                "'batch.node.ubuntu ${sku == 'x' ? 'a' : 'b'}'".to_owned()
            )]
        );
    }

    #[test]
    fn loops_over_known_arrays_give_one_pool_each() {
        let text = "var names = [\n  'a'\n  'b'\n]\nresource pools 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = [for (n, i) in names: {\n  name: n\n  properties: { vmSize: 'Standard_D2s_v3' }\n}]\n";
        let ids: Vec<String> = pools(text)
            .iter()
            .map(|p| p.display_id().to_owned())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        let unknown = pools(&text.replace("var names = [\n  'a'\n  'b'\n]", "param names array"));
        assert_eq!(unknown.len(), 1);
        assert_eq!(
            unknown[0].unknowns[0],
            (
                "/resource/pools".to_owned(),
                "for (n, i) in names".to_owned()
            )
        );
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_crash() {
        let deep = format!("var x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let err = read(Path::new("p.bicep"), &deep).unwrap_err().to_string();
        assert!(err.contains("nested deeper than 64 levels"), "{err}");
        let strings = format!("var x = {}\n", "'${".repeat(10_000));
        assert!(read(Path::new("p.bicep"), &strings).is_err());
    }
}
