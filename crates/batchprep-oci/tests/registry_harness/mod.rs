//! Test harness for the registry tests: a real CNCF distribution registry (Debian's
//! `docker-registry`) on 127.0.0.1 with a free port, in four set-ups (anonymous, htpasswd, TLS with a
//! CA made here, bearer tokens from a token server here that signs JWTs), images built with umoci and
//! pushed with skopeo, and an in-process server that answers like Docker Hub (rate-limit headers,
//! 429, and the faults a local registry cannot produce). Nothing leaves loopback.
//!
//! Shared by `batchprep-oci` and `batchprep` integration tests (`#[path]`-included).

#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::Write as _,
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{RawQuery, State},
    http::{HeaderMap, Method, Request, Response, StatusCode},
    routing::{any, get},
};
use base64::Engine as _;

/// The token server's users: (user, password, what they may do).
pub const ALICE: (&str, &str) = ("alice", "wonderland-s3cret");
/// A user whose tokens never grant anything outside `bob/`.
pub const BOB: (&str, &str) = ("bob", "builder-s3cret");
/// A user the token server refuses with 403.
pub const EVE: (&str, &str) = ("eve", "eavesdrop-s3cret");
/// The refresh token (identity token) that stands for alice.
pub const ALICE_REFRESH_TOKEN: &str = "alice-refresh-t0ken";
/// The token service name the registry is configured with.
pub const TOKEN_SERVICE: &str = "batchprep-test-registry";
const TOKEN_ISSUER: &str = "batchprep-test-issuer";

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a command and panics with its output when it fails (a missing tool fails the test).
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} (is it installed? scripts/install-test-deps): {e}")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A tiny single-layer linux/amd64 image in an OCI layout, built once per test process.
pub fn tiny_image() -> &'static Path {
    static IMAGE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, layout) = IMAGE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("oci");
        let l = layout.to_str().unwrap();
        run(Command::new("umoci").args(["init", "--layout", l]));
        run(Command::new("umoci").args(["new", "--image", &format!("{l}:tiny")]));
        // `umoci insert` (0.4.7) writes a tar without padding; unpack and repack writes a proper one.
        let bundle = dir.path().join("bundle");
        let b = bundle.to_str().unwrap();
        run(Command::new("umoci").args(["unpack", "--image", &format!("{l}:tiny"), b]));
        let app = bundle.join("rootfs/app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("run.sh"), "#!/bin/sh\necho hello\n").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(app.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        run(Command::new("umoci").args(["repack", "--image", &format!("{l}:tiny"), b]));
        run(Command::new("umoci").args([
            "config",
            "--image",
            &format!("{l}:tiny"),
            "--os",
            "linux",
            "--architecture",
            "amd64",
            "--config.entrypoint",
            "/app/run.sh",
        ]));
        (dir, layout)
    });
    layout
}

/// How the registry authenticates.
pub enum Auth {
    /// Anyone may pull and push.
    Anonymous,
    /// `auth.htpasswd` with one user.
    Htpasswd { user: String, password: String },
    /// `auth.token` against a [`TokenServer`].
    Token(TokenServer),
}

/// A running `docker-registry`; stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA that signed its certificate, when it serves TLS.
    pub ca_dir: Option<PathBuf>,
    /// Credentials for pushing (`user:pass`), when it needs them.
    push_creds: Option<String>,
    tls: bool,
    _dir: tempfile::TempDir,
    /// Where the access log goes, when it is kept.
    access_log: Option<PathBuf>,
    /// The token server, kept alive as long as the registry.
    pub token_server: Option<TokenServer>,
}

impl Registry {
    /// Starts a registry with `auth`, serving TLS (with a fresh CA) when `tls`.
    pub fn start(auth: Auth, tls: bool) -> Registry {
        Registry::start_with(auth, tls, false)
    }

    /// An anonymous plain-HTTP registry that keeps its access log (see [`Registry::requests`]).
    pub fn start_logged() -> Registry {
        Registry::start_with(Auth::Anonymous, false, true)
    }

    fn start_with(auth: Auth, tls: bool, access_log: bool) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: {}\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n  secret: batchprep-test\n",
            !access_log,
            dir.path().join("data").display()
        );
        let mut ca_dir = None;
        if tls {
            let (ca_pem, cert_pem, key_pem) = tls_material();
            let certs = dir.path().join("certs");
            std::fs::create_dir_all(&certs).unwrap();
            std::fs::write(certs.join("ca.crt"), ca_pem).unwrap();
            let cert = dir.path().join("server.crt");
            let key = dir.path().join("server.key");
            std::fs::write(&cert, cert_pem).unwrap();
            std::fs::write(&key, key_pem).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
            ca_dir = Some(certs);
        }
        let mut push_creds = None;
        let mut token_server = None;
        match auth {
            Auth::Anonymous => {}
            Auth::Htpasswd { user, password } => {
                let line = run(Command::new("htpasswd").args(["-Bbn", &user, &password]));
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, line.trim()).unwrap();
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: batchprep-basic\n    path: {}\n",
                    file.display()
                ));
                push_creds = Some(format!("{user}:{password}"));
            }
            Auth::Token(server) => {
                let bundle = dir.path().join("token-ca.pem");
                std::fs::write(&bundle, &server.keys.ca_pem).unwrap();
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    server.url,
                    bundle.display()
                ));
                push_creds = Some(format!("{}:{}", ALICE.0, ALICE.1));
                token_server = Some(server);
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log_path = access_log.then(|| dir.path().join("access.log"));
        let log = || match &log_path {
            Some(p) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .unwrap(),
            ),
            None => Stdio::null(),
        };
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(log())
            .stderr(log())
            .spawn()
            .expect("docker-registry must be installed (scripts/install-test-deps)");
        let registry = Registry {
            child,
            host,
            ca_dir,
            push_creds,
            tls,
            _dir: dir,
            access_log: log_path,
            token_server,
        };
        wait_for_port(port);
        registry
    }

    /// The requests in the access log so far, as `METHOD PATH` (`GET /v2/a/blobs/sha256:...`).
    pub fn requests(&self) -> Vec<String> {
        let path = self.access_log.as_ref().expect("started with start_logged");
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            // Combined log format: `... "GET /v2/... HTTP/1.1" 200 ...`.
            .filter_map(|line| line.split('"').nth(1))
            .filter_map(|request| request.rsplit_once(' ').map(|(r, _)| r.to_owned()))
            .collect()
    }

    /// Pushes the OCI layout image `layout:tag` as `repo_tag`.
    pub fn push_layout(&self, layout: &Path, tag: &str, repo_tag: &str) {
        let src = format!("oci:{}:{tag}", layout.display());
        let dest = format!("docker://{}/{repo_tag}", self.host);
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(c) = &self.push_creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.args([&src, &dest]);
        run(&mut cmd);
    }

    /// Pushes the tiny image as `repo:tag`.
    pub fn push(&self, repo_tag: &str) {
        let src = format!("oci:{}:tiny", tiny_image().display());
        let dest = format!("docker://{}/{repo_tag}", self.host);
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if let Some(c) = &self.push_creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.args([&src, &dest]);
        run(&mut cmd);
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) until something accepts connections on the port.
pub fn wait_for_port(port: u16) {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..200 {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr} after 200 tries");
}

/// A CA, and a server certificate for 127.0.0.1/localhost signed by it (PEM).
fn tls_material() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "batchprep test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// The token server's signing material: a CA (the registry's `rootcertbundle`) and a leaf key and
/// certificate that sign tokens (sent in the JWT `x5c` header).
struct TokenKeys {
    ca_pem: String,
    leaf_der_b64: String,
    leaf_key_pem: String,
}

fn token_keys() -> TokenKeys {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "batchprep token CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "batchprep token signer");
    let cert = params.signed_by(&key, &issuer).unwrap();
    TokenKeys {
        ca_pem: ca_cert.pem(),
        leaf_der_b64: base64::engine::general_purpose::STANDARD.encode(cert.der()),
        leaf_key_pem: key.serialize_pem(),
    }
}

/// Every request a test server saw: (method, path and query).
pub type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A runtime of the harness's own, on a background thread, for the in-process servers.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn serve(router: Router) -> (u16, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, router).await.unwrap();
    });
    (port, format!("http://127.0.0.1:{port}"))
}

/// The token server behind a token-auth registry (the Docker Hub-style challenge flow).
pub struct TokenServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    keys: Arc<TokenKeys>,
    /// Requests seen.
    pub seen: Seen,
}

impl TokenServer {
    /// Starts the server: alice may pull and push everything, bob only `bob/*`, eve is refused
    /// (403), anonymous users may pull `public/*`; alice's refresh token works as alice.
    pub fn start() -> TokenServer {
        let keys = Arc::new(token_keys());
        let seen: Seen = Arc::default();
        let state = (keys.clone(), seen.clone());
        let router = Router::new()
            .route("/token", get(token).post(token))
            .with_state(state);
        let (_, url) = serve(router);
        TokenServer { url, keys, seen }
    }
}

type TokenState = (Arc<TokenKeys>, Seen);

async fn token(
    State((keys, seen)): State<TokenState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response<Body> {
    let query = query.unwrap_or_default();
    seen.lock()
        .unwrap()
        .push((method.to_string(), format!("/token?{query}")));
    let mut params = parse_form(&query);
    params.extend(parse_form(&body));
    let user = if method == Method::POST {
        let grant = params
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.as_str());
        let refresh = params
            .iter()
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.as_str());
        match (grant, refresh) {
            (Some("refresh_token"), Some(ALICE_REFRESH_TOKEN)) => Some(ALICE.0),
            _ => return status(StatusCode::UNAUTHORIZED),
        }
    } else {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            None => None,
            Some(h) => {
                let decoded = h
                    .strip_prefix("Basic ")
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                match decoded.split_once(':') {
                    Some((u, p)) if (u, p) == ALICE => Some(ALICE.0),
                    Some((u, p)) if (u, p) == BOB => Some(BOB.0),
                    Some((u, p)) if (u, p) == EVE => return status(StatusCode::FORBIDDEN),
                    _ => return status(StatusCode::UNAUTHORIZED),
                }
            }
        }
    };
    let mut access = Vec::new();
    for (_, scope) in params.iter().filter(|(k, _)| k == "scope") {
        let parts: Vec<&str> = scope.split(':').collect();
        if parts.len() != 3 || parts[0] != "repository" {
            continue;
        }
        let (name, actions) = (parts[1], parts[2].split(',').collect::<Vec<_>>());
        let granted: Vec<&str> = match user {
            Some("alice") => actions,
            Some("bob") if name.starts_with("bob/") => actions,
            None if name.starts_with("public/") => {
                actions.into_iter().filter(|a| *a == "pull").collect()
            }
            _ => Vec::new(),
        };
        access.push(serde_json::json!({"type": "repository", "name": name, "actions": granted}));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": user.unwrap_or(""),
        "aud": TOKEN_SERVICE,
        "exp": now + 600,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", access.len()),
        "access": access,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.x5c = Some(vec![keys.leaf_der_b64.clone()]);
    let key = jsonwebtoken::EncodingKey::from_ec_pem(keys.leaf_key_pem.as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let body = serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 600});
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn status(code: StatusCode) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .unwrap()
}

fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A server that answers like Docker Hub for the repositories a test names, including the faults a
/// local registry cannot produce. Every repository is under `library/`:
///
/// - `library/ubuntu` — pullable with `ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76`;
/// - `library/paid` — pullable, no rate-limit headers (unlimited);
/// - `library/limited` — 429 with `Retry-After: 3600` and a TOOMANYREQUESTS body;
/// - `library/flaky` — 503 on the first manifest request, then like `ubuntu`;
/// - `library/retry-after` — 429 with `Retry-After: 1` on the first request, then like `ubuntu`;
/// - `library/html` — 200 with an HTML page;
/// - `library/huge` — a 5 MiB manifest (by Content-Length);
/// - `library/loop` — redirects to itself;
/// - `library/notag` — the repository exists, the tag does not (404; tags list 200);
/// - anything else — 401 after the anonymous token, as Hub answers for private and missing repos.
pub struct HubServer {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Requests seen.
    pub seen: Seen,
}

impl HubServer {
    /// Starts the server.
    pub fn start() -> HubServer {
        let seen: Seen = Arc::default();
        let counters: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let port = free_port_listener();
        let host = format!("127.0.0.1:{}", port.1);
        let state = HubState {
            seen: seen.clone(),
            counters,
            realm: format!("http://{host}/token"),
        };
        let router = Router::new()
            .route("/token", get(hub_token))
            .fallback(any(hub))
            .with_state(state);
        runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(port.0).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
        HubServer { host, seen }
    }

    /// The manifest requests seen, as `METHOD path`.
    pub fn manifest_requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, p)| p.contains("/manifests/"))
            .map(|(m, p)| format!("{m} {p}"))
            .collect()
    }
}

fn free_port_listener() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[derive(Clone)]
struct HubState {
    seen: Seen,
    counters: Arc<Mutex<HashMap<String, u32>>>,
    realm: String,
}

async fn hub_token() -> Response<Body> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(r#"{"token":"hub-anonymous-token"}"#))
        .unwrap()
}

const HUB_DIGEST: &str = "sha256:2e863c44b718727c860746568e1d54afd13b2fa71b160f5cd9058fc436217b30";

async fn hub(State(state): State<HubState>, request: Request<Body>) -> Response<Body> {
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    state
        .seen
        .lock()
        .unwrap()
        .push((method.clone(), path.clone()));
    let authorized = request.headers().get("authorization").is_some();
    if path == "/v2/" {
        // As Docker Hub answers the version check.
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("docker-distribution-api-version", "registry/2.0")
            .header(
                "www-authenticate",
                format!(
                    r#"Bearer realm="{}",service="registry.docker.io""#,
                    state.realm
                ),
            )
            .body(Body::empty())
            .unwrap();
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return status(StatusCode::NOT_FOUND);
    };
    let full = ["/manifests/", "/tags/"]
        .iter()
        .find_map(|m| rest.split_once(m).map(|(r, _)| r.to_owned()))
        .unwrap_or_default();
    let repo = full
        .strip_prefix("library/")
        .unwrap_or("-private-")
        .to_owned();
    let challenge = format!(
        r#"Bearer realm="{}",service="registry.docker.io",scope="repository:{full}:pull""#,
        state.realm
    );
    if !authorized {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", challenge)
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ))
            .unwrap();
    }
    let count = {
        let mut c = state.counters.lock().unwrap();
        let n = c.entry(repo.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let limited = |b: axum::http::response::Builder| {
        b.header("ratelimit-limit", "100;w=21600")
            .header("ratelimit-remaining", "76;w=21600")
            .header("docker-ratelimit-source", "192.0.2.10")
    };
    let manifest = || {
        limited(Response::builder())
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .header("docker-content-digest", HUB_DIGEST)
            .header("content-length", "1234")
            .body(Body::empty())
            .unwrap()
    };
    match repo.as_str() {
        "ubuntu" => manifest(),
        "flaky" if count == 1 => status(StatusCode::SERVICE_UNAVAILABLE),
        "flaky" => manifest(),
        "retry-after" if count == 1 => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", "1")
            .body(Body::empty())
            .unwrap(),
        "retry-after" => manifest(),
        "paid" => Response::builder()
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .header("docker-content-digest", HUB_DIGEST)
            .body(Body::empty())
            .unwrap(),
        "limited" => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header("retry-after", "3600")
            .header("ratelimit-limit", "100;w=21600")
            .header("ratelimit-remaining", "0;w=21600")
            .header("docker-ratelimit-source", "192.0.2.10")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
            ))
            .unwrap(),
        "html" => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::from("<html><body>Welcome to our proxy</body></html>"))
            .unwrap(),
        "huge" => Response::builder()
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .header("content-length", (5 * 1024 * 1024).to_string())
            .body(Body::empty())
            .unwrap(),
        "loop" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", path.clone())
            .body(Body::empty())
            .unwrap(),
        "notag" if path.contains("/tags/list") => Response::builder()
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"library/notag","tags":["1.0"]}"#))
            .unwrap(),
        "notag" => status(StatusCode::NOT_FOUND),
        _ => Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", challenge)
            .body(Body::empty())
            .unwrap(),
    }
}

/// Writes an executable `docker-credential-NAME` into `dir` that answers `answer` (JSON) for
/// `server_url` and "credentials not found" for any other.
pub fn credential_helper(dir: &Path, name: &str, server_url: &str, answer: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r url\nif [ \"$url\" = '{server_url}' ]; then\n  printf '%s\\n' '{answer}'\nelse\n  echo 'credentials not found in native keychain'\n  exit 1\nfi"
    )
    .unwrap();
    drop(f);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
