//! The few Docker Engine API calls `docker-daemon:` needs, over the socket `DOCKER_HOST` names
//! (`unix://PATH` or `tcp://HOST:PORT`, plain HTTP) or the default `/var/run/docker.sock`.
//!
//! Requests are HTTP/1.0 on a fresh connection each: the engine then answers without chunked
//! encoding and ends the body by closing, so a response body is just the rest of the stream, read
//! as it arrives (an image export is never held or written anywhere).

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    net::TcpStream,
    os::unix::net::UnixStream,
};

use crate::Error;

/// The socket used when `DOCKER_HOST` is unset, as the docker CLI does.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Error bodies and header blocks above this size are cut (they are one-line JSON messages).
const SMALL_LIMIT: u64 = 64 * 1024;

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineHost {
    /// A unix socket path.
    Unix(String),
    /// `host:port`, plain HTTP.
    Tcp(String),
}

impl EngineHost {
    /// The host from `DOCKER_HOST`, or the default socket. TLS (`DOCKER_TLS_VERIFY`) is refused
    /// rather than silently ignored.
    pub fn from_env() -> Result<EngineHost, Error> {
        if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
            return Err(Error::Engine {
                host: std::env::var("DOCKER_HOST").unwrap_or_default(),
                detail: "DOCKER_TLS_VERIFY is set, but docker-daemon: speaks plain HTTP only; \
                         use a unix socket"
                    .into(),
            });
        }
        match std::env::var("DOCKER_HOST") {
            Ok(host) if !host.is_empty() => EngineHost::parse(&host),
            _ => EngineHost::parse(DEFAULT_HOST),
        }
    }

    /// Parses `unix://PATH` or `tcp://HOST:PORT`.
    pub fn parse(host: &str) -> Result<EngineHost, Error> {
        let bad = |detail: &str| Error::Engine {
            host: host.to_owned(),
            detail: detail.to_owned(),
        };
        if let Some(path) = host.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad("DOCKER_HOST names no socket path"));
            }
            Ok(EngineHost::Unix(path.to_owned()))
        } else if let Some(addr) = host.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            match addr.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => {
                    Ok(EngineHost::Tcp(addr.to_owned()))
                }
                _ => Err(bad("expected tcp://HOST:PORT")),
            }
        } else {
            Err(bad(
                "DOCKER_HOST must be unix://PATH or tcp://HOST:PORT for docker-daemon:",
            ))
        }
    }
}

impl std::fmt::Display for EngineHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineHost::Unix(p) => write!(f, "unix://{p}"),
            EngineHost::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// A connection of either kind.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

/// A response body, read as the engine sends it.
pub struct Body(BufReader<Stream>);

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// `GET path` on the engine; a non-2xx answer becomes an error carrying the engine's message.
pub fn get(host: &EngineHost, path: &str) -> Result<Body, Error> {
    let fail = |detail: String| Error::Engine {
        host: host.to_string(),
        detail,
    };
    let connect_fail = |e: io::Error| {
        fail(format!(
            "cannot connect ({e}); is dockerd running, and DOCKER_HOST right?"
        ))
    };
    let mut stream = match host {
        EngineHost::Unix(p) => Stream::Unix(UnixStream::connect(p).map_err(connect_fail)?),
        EngineHost::Tcp(a) => Stream::Tcp(TcpStream::connect(a).map_err(connect_fail)?),
    };
    let request = format!("GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: batchprep\r\n\r\n");
    let sent = match &mut stream {
        Stream::Unix(s) => s.write_all(request.as_bytes()),
        Stream::Tcp(s) => s.write_all(request.as_bytes()),
    };
    sent.map_err(|e| fail(format!("cannot send the request: {e}")))?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    let read_fail = |e: io::Error| fail(format!("cannot read the answer: {e}"));
    (&mut reader)
        .take(SMALL_LIMIT)
        .read_line(&mut status_line)
        .map_err(read_fail)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| fail("the answer is not HTTP; is DOCKER_HOST a Docker engine?".into()))?;
    // Headers: nothing in them matters to a body that ends with the connection.
    let mut header_bytes = 0u64;
    loop {
        let mut line = String::new();
        let n = (&mut reader)
            .take(SMALL_LIMIT)
            .read_line(&mut line)
            .map_err(read_fail)?;
        header_bytes += n as u64;
        if n == 0 || line == "\r\n" || line == "\n" || header_bytes > SMALL_LIMIT {
            break;
        }
    }
    if !(200..300).contains(&status) {
        let mut body = Vec::new();
        let _ = (&mut reader).take(SMALL_LIMIT).read_to_end(&mut body);
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
        return Err(Error::EngineRefused {
            host: host.to_string(),
            status,
            message,
        });
    }
    Ok(Body(reader))
}

/// `name` escaped for a URL path: image names keep `/`, `:` and `@`, everything else unusual is
/// percent-encoded.
pub fn path_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse() {
        assert_eq!(
            EngineHost::parse("unix:///run/docker.sock").unwrap(),
            EngineHost::Unix("/run/docker.sock".into())
        );
        assert_eq!(
            EngineHost::parse("tcp://127.0.0.1:2375").unwrap(),
            EngineHost::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            EngineHost::parse("ssh://me@host").unwrap_err().to_string(),
            "Docker engine at ssh://me@host: DOCKER_HOST must be unix://PATH or tcp://HOST:PORT \
             for docker-daemon:"
        );
        assert_eq!(
            EngineHost::parse("tcp://127.0.0.1")
                .unwrap_err()
                .to_string(),
            "Docker engine at tcp://127.0.0.1: expected tcp://HOST:PORT"
        );
    }

    #[test]
    fn names_are_escaped_for_paths() {
        assert_eq!(
            path_escape("localhost:5000/a/b:1@sha256:ab"),
            "localhost:5000/a/b:1@sha256:ab"
        );
        assert_eq!(path_escape("a b?#%"), "a%20b%3F%23%25");
    }
}
