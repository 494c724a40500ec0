//! JSON with ARM-style template expressions, resolved as far as a pre-flight can: `parameters('x')`
//! takes the parameter's `defaultValue`, `variables('x')` the variable, `concat` and `format` of known
//! strings their result. Anything else stays [`Node::Unknown`] so checks say what they could not read
//! instead of guessing. Every node keeps the pointer of the place in the file it came from.

use serde_json::Value;

use crate::json_pos::push_token;

/// A resolved JSON value with its origin in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    /// The value.
    pub node: Node,
    /// JSON pointer of where the value was written (a parameter default or variable when substituted).
    pub origin: String,
}

/// A resolved JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Spanned>),
    /// An object, in file order.
    Object(Vec<(String, Spanned)>),
    /// A template expression that could not be resolved (the expression text).
    Unknown(String),
}

impl Spanned {
    /// The member `key`, compared case-insensitively (ARM property names are case-insensitive,
    /// and the data plane and ARM spell `nodeAgentSKUId` differently).
    pub fn get(&self, key: &str) -> Option<&Spanned> {
        match &self.node {
            Node::Object(members) => members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of member names.
    pub fn path(&self, keys: &[&str]) -> Option<&Spanned> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    /// The string value, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.node {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an unsigned integer (also from a numeric string).
    pub fn as_u64(&self) -> Option<u64> {
        match &self.node {
            Node::Number(n) => n.as_u64(),
            Node::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The boolean value (also from `"true"`/`"false"`).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.node {
            Node::Bool(b) => Some(*b),
            Node::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Node::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The elements, if it is an array.
    pub fn as_array(&self) -> Option<&[Spanned]> {
        match &self.node {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether the value is `null` (absent and null mean the same to the Batch API).
    pub fn is_null(&self) -> bool {
        matches!(self.node, Node::Null)
    }

    /// Every unresolved expression below this node, with its origin.
    pub fn unknowns(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.collect_unknowns(&mut out);
        out
    }

    fn collect_unknowns(&self, out: &mut Vec<(String, String)>) {
        match &self.node {
            Node::Unknown(expr) => out.push((self.origin.clone(), expr.clone())),
            Node::Array(items) => items.iter().for_each(|i| i.collect_unknowns(out)),
            Node::Object(members) => members.iter().for_each(|(_, v)| v.collect_unknowns(out)),
            _ => {}
        }
    }
}

/// Resolves expressions in `value` (found at `origin`) against a template's `parameters` and
/// `variables` (pointers `/parameters` and `/variables` at the document root).
pub struct Resolver<'a> {
    parameters: Option<&'a Value>,
    variables: Option<&'a Value>,
    depth: usize,
    /// Calls evaluated for the current top-level expression; see [`EXPANSION_BUDGET`].
    expansions: usize,
    /// While resolving a name's last segment: unknown arguments of `concat`/`format` become
    /// [`UNKNOWN_PART`] instead of failing the whole expression.
    lenient: bool,
}

/// The most nested expressions (through `parameters`/`variables`) followed for one value.
const DEPTH_LIMIT: usize = 16;

/// The most function calls evaluated for one top-level expression: variables that each `concat`
/// several references to the next fan out exponentially, which the depth limit alone does not stop.
const EXPANSION_BUDGET: usize = 10_000;

/// The longest string an expression may build (`format` and `concat` can multiply lengths).
const STRING_LIMIT: usize = 1024 * 1024;

/// The most nested calls the parser reads in one expression text (`concat(concat(...`).
const PARSE_DEPTH_LIMIT: usize = 64;

/// Stands for an unknown part of a string while resolving leniently.
const UNKNOWN_PART: char = '\u{1}';

impl<'a> Resolver<'a> {
    /// A resolver over a template document's root (plain documents have no parameters).
    pub fn new(root: &'a Value) -> Resolver<'a> {
        Resolver {
            parameters: root.get("parameters").filter(|p| p.is_object()),
            variables: root.get("variables").filter(|v| v.is_object()),
            depth: 0,
            expansions: 0,
            lenient: false,
        }
    }

    /// Resolves `value`, written at `origin`.
    pub fn resolve(&mut self, value: &Value, origin: &str) -> Spanned {
        let node = match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => match expression(s) {
                Some(expr) => return self.expression(expr, origin),
                // `[[` escapes a literal leading bracket.
                None if s.starts_with("[[") => Node::String(s[1..].to_owned()),
                None => Node::String(s.clone()),
            },
            Value::Array(items) => Node::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.resolve(v, &format!("{origin}/{i}")))
                    .collect(),
            ),
            Value::Object(members) => Node::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v, &push_token(origin, k))))
                    .collect(),
            ),
        };
        Spanned {
            node,
            origin: origin.to_owned(),
        }
    }

    fn expression(&mut self, expr: &str, origin: &str) -> Spanned {
        let unknown = || Spanned {
            node: Node::Unknown(format!("[{expr}]")),
            origin: origin.to_owned(),
        };
        if self.depth > DEPTH_LIMIT {
            return unknown();
        }
        if self.depth == 0 {
            self.expansions = 0;
        }
        let Some(call) = parse_call(expr.trim()) else {
            return unknown();
        };
        self.depth += 1;
        let result = self.call(&call, origin);
        self.depth -= 1;
        result.unwrap_or_else(unknown)
    }

    fn call(&mut self, call: &Call, origin: &str) -> Option<Spanned> {
        self.expansions += 1;
        if self.expansions > EXPANSION_BUDGET {
            return None;
        }
        match (
            call.name.to_ascii_lowercase().as_str(),
            call.args.as_slice(),
        ) {
            ("parameters", [Arg::Str(name)]) => {
                let param = self.parameters?.get(name.as_str())?;
                let default = param.get("defaultValue")?;
                let at = format!("{}/defaultValue", push_token("/parameters", name));
                Some(self.resolve(default, &at))
            }
            ("variables", [Arg::Str(name)]) => {
                let var = self.variables?.get(name.as_str())?;
                Some(self.resolve(var, &push_token("/variables", name)))
            }
            ("concat", args) => {
                let mut s = String::new();
                for a in args {
                    s.push_str(&self.arg_string(a, origin)?);
                    if s.len() > STRING_LIMIT {
                        return None;
                    }
                }
                Some(string_at(s, origin))
            }
            ("format", [fmt, args @ ..]) => {
                let mut s = self.arg_string(fmt, origin)?;
                for (i, a) in args.iter().enumerate() {
                    s = s.replace(&format!("{{{i}}}"), &self.arg_string(a, origin)?);
                    if s.len() > STRING_LIMIT {
                        return None;
                    }
                }
                Some(string_at(s, origin))
            }
            _ => None,
        }
    }

    fn arg_string(&mut self, arg: &Arg, origin: &str) -> Option<String> {
        let known = match arg {
            Arg::Str(s) => Some(s.clone()),
            Arg::Int(i) => Some(i.to_string()),
            Arg::Call(c) => self.call(c, origin).and_then(|v| match v.node {
                Node::String(s) => Some(s),
                Node::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        };
        known.or_else(|| self.lenient.then(|| UNKNOWN_PART.to_string()))
    }

    /// The last `/` segment of a resource name such as
    /// `[format('{0}/{1}', parameters('account'), 'render')]` when that segment is known, even if
    /// the account part is not: a pool's id is the last segment of its ARM resource name.
    pub fn last_segment(&mut self, name: &str) -> Option<String> {
        let text = match expression(name) {
            Some(expr) => {
                self.lenient = true;
                self.expansions = 0;
                let value = parse_call(expr.trim()).and_then(|c| self.call(&c, ""));
                self.lenient = false;
                value?.as_str()?.to_owned()
            }
            None => name.to_owned(),
        };
        let last = text.rsplit('/').next()?;
        (!last.is_empty() && !last.contains(UNKNOWN_PART)).then(|| last.to_owned())
    }
}

fn string_at(s: String, origin: &str) -> Spanned {
    Spanned {
        node: Node::String(s),
        origin: origin.to_owned(),
    }
}

/// `[expr]` -> `expr`; `[[...` is an escaped literal.
fn expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    (!inner.starts_with('[')).then_some(inner)
}

#[derive(Debug)]
struct Call {
    name: String,
    args: Vec<Arg>,
}

#[derive(Debug)]
enum Arg {
    Str(String),
    Int(i64),
    Call(Call),
}

/// Parses `name(arg, ...)` where args are `'strings'`, integers or nested calls. Property access
/// (`resourceGroup().location`) and anything else is not understood.
fn parse_call(s: &str) -> Option<Call> {
    let (call, rest) = parse_call_prefix(s, 0)?;
    rest.trim().is_empty().then_some(call)
}

fn parse_call_prefix(s: &str, depth: usize) -> Option<(Call, &str)> {
    if depth >= PARSE_DEPTH_LIMIT {
        return None;
    }
    let open = s.find('(')?;
    let name = s[..open].trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut rest = &s[open + 1..];
    let mut args = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(')') {
            return Some((
                Call {
                    name: name.to_owned(),
                    args,
                },
                r,
            ));
        }
        if !args.is_empty() {
            rest = rest.strip_prefix(',')?.trim_start();
        }
        if let Some(r) = rest.strip_prefix('\'') {
            // '' is an escaped quote inside an ARM string literal.
            let mut lit = String::new();
            let mut chars = r.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if matches!(chars.peek(), Some((_, '\''))) {
                        lit.push('\'');
                        chars.next();
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    lit.push(c);
                }
            }
            rest = &r[end?..];
            args.push(Arg::Str(lit));
        } else if rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(rest.len());
            args.push(Arg::Int(rest[..len].parse().ok()?));
            rest = &rest[len..];
        } else {
            let (call, r) = parse_call_prefix(rest, depth + 1)?;
            args.push(Arg::Call(call));
            rest = r;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn deep_nesting_and_fan_out_end_in_unknown() {
        let deep = format!("[{}'x'{}]", "concat(".repeat(20_000), ")".repeat(20_000));
        let doc = json!({ "v": deep });
        let v = Resolver::new(&doc).resolve(&doc["v"], "/v");
        assert!(matches!(v.node, Node::Unknown(_)));

        // Each variable concatenates the next four times: 4^16 calls without a budget.
        let mut vars = serde_json::Map::new();
        for i in 0..16 {
            let n = format!("variables('v{}')", i + 1);
            vars.insert(
                format!("v{i}"),
                json!(format!("[concat({n}, {n}, {n}, {n})]")),
            );
        }
        vars.insert("v16".into(), json!("abc"));
        let doc = json!({ "variables": vars, "x": "[variables('v0')]" });
        let x = Resolver::new(&doc).resolve(&doc["x"], "/x");
        // The budget runs out deep inside; the variable that could not be read is unknown.
        assert!(
            matches!(&x.node, Node::Unknown(e) if e.starts_with("[concat(variables(")),
            "{x:?}"
        );

        // `format` multiplies lengths with one call per level.
        let mut vars = serde_json::Map::new();
        let fmt = "{0}".repeat(100);
        for i in 0..8 {
            vars.insert(
                format!("v{i}"),
                json!(format!("[format('{fmt}', variables('v{}'))]", i + 1)),
            );
        }
        vars.insert("v8".into(), json!("abcd"));
        let doc = json!({ "variables": vars, "x": "[variables('v0')]" });
        let x = Resolver::new(&doc).resolve(&doc["x"], "/x");
        assert!(matches!(x.node, Node::Unknown(_)));
    }

    #[test]
    fn resolves_parameters_variables_and_concat() {
        let doc = json!({
            "parameters": {"size": {"type": "string", "defaultValue": "Standard_D2s_v3"}, "noDefault": {"type": "string"}},
            "variables": {"os": {"sku": "2404"}, "pool": "[concat('p-', parameters('size'))]"},
            "pool": {
                "vmSize": "[parameters('size')]",
                "vm": "[variables('os')]",
                "id": "[format('{0}/{1}', 'acct', variables('pool'))]",
                "image": "[parameters('noDefault')]",
                "loc": "[resourceGroup().location]",
                "lit": "[[not an expression]"
            }
        });
        let mut r = Resolver::new(&doc);
        let pool = r.resolve(&doc["pool"], "/pool");
        let size = pool.get("vmsize").unwrap();
        assert_eq!(size.as_str(), Some("Standard_D2s_v3"));
        assert_eq!(size.origin, "/parameters/size/defaultValue");
        let sku = pool.path(&["vm", "sku"]).unwrap();
        assert_eq!(
            (sku.as_str(), sku.origin.as_str()),
            (Some("2404"), "/variables/os/sku")
        );
        assert_eq!(
            pool.get("id").unwrap().as_str(),
            Some("acct/p-Standard_D2s_v3")
        );
        assert_eq!(
            pool.get("lit").unwrap().as_str(),
            Some("[not an expression]")
        );
        assert_eq!(
            pool.unknowns(),
            vec![
                (
                    "/pool/image".to_owned(),
                    "[parameters('noDefault')]".to_owned()
                ),
                (
                    "/pool/loc".to_owned(),
                    "[resourceGroup().location]".to_owned()
                ),
            ]
        );
    }
}
