//! The one place that makes a string from an input safe to print. Strings from images, registries,
//! templates and task files reach the human, JUnit and SARIF reports and error lines; a newline in
//! one would start a line of its own in a CI log (`##vso[...]`, `::error`), an ESC sequence would
//! drive the terminal, and a megabyte value would make a one-line error a megabyte long. Secrets in
//! URLs are cut out here too.

use std::{borrow::Cow, sync::RwLock};

/// The secrets this run holds (every [`crate::registry::Secret`]: registry passwords and tokens from
/// flags, credential files and pool definitions), masked in everything batchprep writes, whatever
/// field or message they turn up in.
static IN_USE: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret this run holds, to mask it in output (values under four characters are not
/// masked: they would hide ordinary text).
pub fn remember_secret(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut known = IN_USE.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_owned());
    }
}

/// `text` with every secret this run holds replaced by `***`.
pub fn mask_secrets_in_use(text: &str) -> Cow<'_, str> {
    let known = IN_USE.read().unwrap_or_else(|e| e.into_inner());
    if known.is_empty() {
        return Cow::Borrowed(text);
    }
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    match redact_secrets(text, &refs) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// The most characters of one input value shown in an error or finding.
pub const VALUE_CHARS: usize = 200;

/// Control characters (C0, DEL, C1) and line/paragraph separators and bidi controls escaped as
/// `\n`, `\r`, `\t` or `\u{..}`, so the text stays on one line and cannot drive a terminal; the
/// secrets this run holds masked.
pub fn printable(s: &str) -> Cow<'_, str> {
    match mask_secrets_in_use(s) {
        Cow::Borrowed(s) => escaped(s),
        Cow::Owned(masked) => Cow::Owned(escaped(&masked).into_owned()),
    }
}

fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// A multi-line text with each line made [`printable`]: the line breaks are kept, anything else
/// (a `\r`, an ESC, a newline that came from an input value joined in earlier) escaped.
pub fn printable_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&printable(line));
    }
    out
}

/// At most `max` characters of `s`, with a note of how many were cut.
pub fn shorten(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((end, _)) => {
            let rest = s[end..].chars().count();
            Cow::Owned(format!("{}... ({rest} more characters)", &s[..end]))
        }
    }
}

/// An input value as it may appear inside a one-line message: shortened, then escaped.
pub fn value(s: &str) -> String {
    printable(&shorten(s, VALUE_CHARS)).into_owned()
}

/// A whole message (an error line, a finding's text) made one printable line. Long messages are cut
/// at `4 * VALUE_CHARS` characters.
pub fn line(s: &str) -> String {
    printable(&shorten(s, 4 * VALUE_CHARS)).into_owned()
}

/// The part of a long source line around 1-based `column` (in characters), at most `width`
/// characters, and the column within that part. Short lines come back whole.
pub fn excerpt(line: &str, column: usize, width: usize) -> (String, usize) {
    let len = line.chars().count();
    if len <= width {
        return (line.to_owned(), column);
    }
    let half = width / 2;
    let start = column
        .saturating_sub(1)
        .saturating_sub(half)
        .min(len - width);
    let body: String = line.chars().skip(start).take(width).collect();
    let mut out = String::new();
    let mut col = column - start;
    if start > 0 {
        out.push_str("...");
        col += 3;
    }
    out.push_str(&body);
    if start + width < len {
        out.push_str("...");
    }
    (out, col)
}

/// A URL with its userinfo (`user:password@`) replaced by `***@`.
pub fn redact_userinfo(url: &str) -> Cow<'_, str> {
    let (scheme_end, rest) = match url.find("://") {
        Some(i) => (i + 3, &url[i + 3..]),
        None => (0, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}***{}", &url[..scheme_end], &rest[at..])),
        None => Cow::Borrowed(url),
    }
}

/// Whether a field or parameter named `name` may hold a secret (password, secret, token, auth,
/// key material), so its value is never printed.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "auth",
        "credential",
        "accountkey",
        "sas",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// A serde_json error without the value it quotes (`invalid type: string "hunter2", expected u16`
/// would print a password): its kind and position only.
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    format!(
        "{} at line {} column {}",
        serde_message(text),
        e.line(),
        e.column()
    )
}

/// A serde message with the quoted input value cut out: `invalid type: string "hunter2", expected
/// u16` -> `invalid type: string, expected u16`; `unknown variant `x`, expected ...` likewise.
pub fn serde_message(text: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let kind = if prefix == "unknown variant " {
                ""
            } else {
                rest.split([' ', ',']).next().unwrap_or("")
            };
            let expected = rest.rfind(", expected").map_or("", |i| &rest[i..]);
            let sep = if kind.is_empty() { "" } else { " " };
            return line(&format!("{}{sep}{kind}{expected}", prefix.trim_end()));
        }
    }
    line(text)
}

/// A template expression as it may be shown: string literals other than the names given to
/// `parameters(...)` / `variables(...)` become `'***'` (a literal may be a password), then
/// shortened and escaped like any [`value`].
pub fn template_expression(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(start) = rest.find('\'') {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        // The literal runs to the next quote not doubled (`''` escapes a quote).
        let body = &from[1..];
        let bytes = body.as_bytes();
        let mut end = None;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else {
            out.push_str("'***");
            rest = "";
            break;
        };
        let head = out.trim_end().to_ascii_lowercase();
        if head.ends_with("parameters(") || head.ends_with("variables(") {
            out.push_str(&from[..end + 2]);
        } else {
            out.push_str("'***'");
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    value(&out)
}

/// The values in a JSON document that may be secrets: strings and numbers under members whose
/// names say so ([`is_secret_name`]), and the `defaultValue` of `securestring`/`secureobject`
/// template parameters. Text that is not JSON has none found this way.
pub fn json_secrets(text: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(members) => {
                let secure = members
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("type"))
                    .and_then(|(_, t)| t.as_str())
                    .is_some_and(|t| t.to_ascii_lowercase().starts_with("secure"));
                for (k, v) in members {
                    let secret =
                        is_secret_name(k) || (secure && k.eq_ignore_ascii_case("defaultValue"));
                    match v {
                        serde_json::Value::String(s) if secret => out.push(s.clone()),
                        serde_json::Value::Number(n) if secret => out.push(n.to_string()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        walk(&v, &mut out);
    }
    out
}

/// The values assigned to names that may be secrets ([`is_secret_name`]) in a line-oriented
/// source: Terraform/HCL and TOML (`password = "x"`), Bicep and YAML (`password: 'x'`,
/// `password: x`). A value is a quoted string or, unquoted, the rest of the line; over-matching
/// is safe, since these are only masked where a source line is shown.
pub fn assignment_secrets(text: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
    let mut out = Vec::new();
    for line in text.lines() {
        // Every `name = value` / `name: value` on the line: one-line objects hold several.
        let mut rest = line;
        while let Some(start) = rest.find(ident) {
            let after = &rest[start..];
            let end = after.find(|c: char| !ident(c)).unwrap_or(after.len());
            let key = &after[..end];
            let tail = after[end..].trim_start_matches(['"', '\'']).trim_start();
            rest = &after[end..];
            let Some(value) = tail.strip_prefix(['=', ':']) else {
                continue;
            };
            if value.starts_with('=') || !is_secret_name(key) {
                continue;
            }
            let value = value.trim_start();
            let found = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                _ => value.split([' ', ',', '}', ']', '#']).next().unwrap_or(""),
            };
            if !found.is_empty() && !matches!(found, "{" | "[" | "|" | ">") {
                out.push(found.to_owned());
            }
        }
    }
    out
}

/// An I/O error's reason, one line.
pub fn io_reason(e: &std::io::Error) -> String {
    line(&e.to_string())
}

/// `text` with every occurrence of each secret (of at least four characters) replaced by `***`.
pub fn redact_secrets<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(s) {
            out = Cow::Owned(out.replace(s, "***"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_use_are_masked_wherever_they_appear() {
        remember_secret("s3cr3t-in-use");
        remember_secret("abc");
        assert_eq!(
            printable("docker login -p s3cr3t-in-use\nabc"),
            "docker login -p ***\\nabc"
        );
        assert_eq!(mask_secrets_in_use("x=s3cr3t-in-use;"), "x=***;");
    }

    #[test]
    fn escapes_controls_and_shortens() {
        assert_eq!(
            printable("a\n##vso[x]\r\t\u{1b}[31m\u{202e}"),
            "a\\n##vso[x]\\r\\t\\u{1b}[31m\\u{202e}"
        );
        assert!(matches!(printable("plain é"), Cow::Borrowed(_)));
        assert_eq!(shorten("abcdef", 3), "abc... (3 more characters)");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(
            value(&"x".repeat(1_000_000)).len(),
            200 + "... (999800 more characters)".len()
        );
    }

    #[test]
    fn excerpts_long_lines_around_the_column() {
        assert_eq!(excerpt("short", 2, 10), ("short".to_owned(), 2));
        let line: String = ('a'..='z').collect();
        let (part, col) = excerpt(&line, 13, 6);
        assert_eq!((part.as_str(), col), ("...jklmno...", 7));
        assert_eq!(&part[col - 1..col], "m");
        assert_eq!(excerpt(&line, 1, 6), ("abcdef...".to_owned(), 1));
        assert_eq!(excerpt(&line, 26, 6), ("...uvwxyz".to_owned(), 9));
    }

    #[test]
    fn serde_errors_lose_the_quoted_value() {
        let e = serde_json::from_str::<u16>("\"hunter2\"").unwrap_err();
        assert_eq!(
            json_error(&e),
            "invalid type: string, expected u16 at line 1 column 9"
        );
        assert_eq!(
            serde_message("unknown variant `pw`, expected `a` or `b`"),
            "unknown variant, expected `a` or `b`"
        );
        assert_eq!(
            serde_message("missing field `layers`"),
            "missing field `layers`"
        );
    }

    #[test]
    fn template_literals_are_hidden_but_names_kept() {
        assert_eq!(
            template_expression("[concat(parameters('user'), ':', 'hun''ter2')]"),
            "[concat(parameters('user'), '***', '***')]"
        );
        assert_eq!(template_expression("[f('open"), "[f('***");
    }

    #[test]
    fn redacts_userinfo_and_secrets() {
        assert_eq!(
            redact_userinfo("https://u:pw@host/x@y"),
            "https://***@host/x@y"
        );
        assert_eq!(redact_userinfo("u:pw@host"), "***@host");
        assert_eq!(redact_userinfo("https://host/a@b"), "https://host/a@b");
        assert_eq!(
            redact_secrets("say hunter2!", &["hunter2", "ab"]),
            "say ***!"
        );
        let doc = r#"{"parameters": {"p": {"type": "secureString", "defaultValue": "s3cret!"}},
            "x": {"password": 1234567, "user": "bob", "auth": {"token": "tok-123"}}}"#;
        assert_eq!(json_secrets(doc), ["s3cret!", "1234567", "tok-123"]);
        assert!(
            is_secret_name("adminPassword") && is_secret_name("auths") && !is_secret_name("vmSize")
        );
        let sources = "password = \"tf-pw\"\n  adminPassword: 'bicep-pw'\nregistry_password: yaml-pw # note\nuser = \"bob\"\npassword_env = {\nr: [{ server: 'x', password: 'one-line-pw' }]\nif a == b\n";
        assert_eq!(
            assignment_secrets(sources),
            ["tf-pw", "bicep-pw", "yaml-pw", "one-line-pw"]
        );
    }
}
