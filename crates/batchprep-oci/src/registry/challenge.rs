//! The registry's side of authentication: the `WWW-Authenticate` challenge it answers with
//! (Basic, or Bearer with a token realm) and the token its realm hands back.

use std::collections::HashMap;

use reqwest::header;

use super::Secret;

/// A `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other(String),
}

/// The token in a token endpoint's answer (`token` or `access_token`).
pub(super) fn token_from_body(body: &[u8]) -> Option<Secret> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|t| t.as_str()).filter(|t| !t.is_empty()))
        .map(Secret::new)
}

/// Parses the first challenge of `WWW-Authenticate`.
pub(super) fn parse_challenge(headers: &header::HeaderMap) -> Challenge {
    let Some(value) = headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
    else {
        return Challenge::Other("(no WWW-Authenticate header)".into());
    };
    let (scheme, params) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::Other(scheme.to_owned());
    }
    let params = parse_auth_params(params);
    match params.get("realm") {
        Some(realm) => Challenge::Bearer {
            realm: realm.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        },
        None => Challenge::Other("Bearer without a realm".into()),
    }
}

/// `realm="https://auth.docker.io/token",service="registry.docker.io",scope="a,b"`.
fn parse_auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.insert(key, value);
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let mut h = header::HeaderMap::new();
        h.insert(
            header::WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            parse_challenge(&h),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/ubuntu:pull".into()),
            }
        );
        h.insert(
            header::WWW_AUTHENTICATE,
            r#"Basic realm="Registry Realm""#.parse().unwrap(),
        );
        assert_eq!(parse_challenge(&h), Challenge::Basic);
    }
}
