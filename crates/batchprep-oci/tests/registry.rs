//! The pull-access probe against a real distribution registry (anonymous, htpasswd, TLS, bearer
//! tokens) and, for what only Docker Hub does, against the in-process Hub server.

mod registry_harness;

use std::{sync::Arc, time::Duration};

use batchprep_oci::{
    Reference,
    registry::{
        Credential, CredentialPaths, CredentialSource, CredentialStore, Outcome, ProbeOptions,
        ProbeResult, Secret, probe_all,
    },
};
use registry_harness::{
    ALICE, ALICE_REFRESH_TOKEN, Auth, BOB, EVE, HubServer, Registry, TokenServer,
};

fn options() -> ProbeOptions {
    ProbeOptions {
        backoff: Duration::from_millis(10),
        ..ProbeOptions::default()
    }
}

fn probe(refs: &[String], store: CredentialStore, options: ProbeOptions) -> Vec<ProbeResult> {
    let refs: Vec<Reference> = refs.iter().map(|r| Reference::parse(r).unwrap()).collect();
    probe_all(&refs, Arc::new(store), options).unwrap()
}

/// `(reference, outcome)` pairs, for one exact assertion per test.
fn outcomes(results: &[ProbeResult]) -> Vec<(String, Outcome)> {
    results
        .iter()
        .map(|r| (r.reference.to_string(), r.outcome))
        .collect()
}

fn flags(user: &str, password: &str) -> CredentialStore {
    CredentialStore::load(
        &CredentialPaths::default(),
        Some(Credential::from_flags(user, Secret::new(password))),
    )
    .unwrap()
}

#[test]
fn anonymous_registry_pullable_and_missing_parts() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:1.0");
    let h = &registry.host;
    let refs = vec![
        format!("{h}/team/app:1.0"),
        format!("{h}/team/app:2.0"),
        format!("{h}/team/nothing:1.0"),
    ];
    let mut opts = options();
    opts.insecure_registries = vec![h.clone()];
    let results = probe(&refs, CredentialStore::anonymous(), opts);
    assert_eq!(
        outcomes(&results),
        vec![
            (refs[0].clone(), Outcome::Pullable),
            (refs[1].clone(), Outcome::ManifestNotFound),
            (refs[2].clone(), Outcome::RepositoryNotFound),
        ]
    );
    let ok = &results[0];
    assert!(
        ok.digest.as_deref().unwrap().starts_with("sha256:"),
        "{ok:?}"
    );
    assert_eq!(
        ok.media_type.as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(ok.platforms, vec!["linux/amd64"]);
    assert_eq!(ok.auth.to_string(), "anonymous");
    assert_eq!(
        results[1].detail.as_deref(),
        Some("team/app has no manifest 2.0")
    );
}

#[test]
fn plain_http_registry_is_refused_unless_named_insecure() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("app:1");
    let refs = vec![format!("{}/app:1", registry.host)];
    let results = probe(&refs, CredentialStore::anonymous(), options());
    assert_eq!(
        outcomes(&results),
        vec![(refs[0].clone(), Outcome::TlsError)]
    );
}

#[test]
fn unreachable_registry_after_retries() {
    let port = registry_harness::free_port();
    let refs = vec![format!("127.0.0.1:{port}/app:1")];
    let results = probe(&refs, CredentialStore::anonymous(), options());
    assert_eq!(
        outcomes(&results),
        vec![(refs[0].clone(), Outcome::Unreachable)]
    );
    assert!(
        results[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("Connection refused"),
        "{:?}",
        results[0].detail
    );
}

#[test]
fn htpasswd_registry_basic_auth() {
    let (user, password) = ("ci", "basic-pa55word");
    let registry = Registry::start(
        Auth::Htpasswd {
            user: user.into(),
            password: password.into(),
        },
        true,
    );
    registry.push("team/app:1.0");
    let refs = vec![format!("{}/team/app:1.0", registry.host)];
    let mut opts = options();
    opts.cert_dir = registry.ca_dir.clone();

    let anonymous = probe(&refs, CredentialStore::anonymous(), opts.clone());
    assert_eq!(
        outcomes(&anonymous),
        vec![(refs[0].clone(), Outcome::CredentialsRequired)]
    );

    let wrong = probe(&refs, flags(user, "not-the-password"), opts.clone());
    assert_eq!(
        outcomes(&wrong),
        vec![(refs[0].clone(), Outcome::BadCredentials)]
    );

    let right = probe(&refs, flags(user, password), opts);
    assert_eq!(outcomes(&right), vec![(refs[0].clone(), Outcome::Pullable)]);
    assert_eq!(
        right[0].auth.to_string(),
        "basic as ci (command-line flags)"
    );
    assert_eq!(right[0].platforms, vec!["linux/amd64"]);
    // The secret is in no field of any result.
    for r in anonymous.iter().chain(&wrong).chain(&right) {
        let all = format!("{r:?} {}", serde_json::to_string(r).unwrap());
        assert!(
            !all.contains(password) && !all.contains("not-the-password"),
            "{all}"
        );
    }
}

#[test]
fn tls_registry_needs_its_ca_or_insecure() {
    let registry = Registry::start(Auth::Anonymous, true);
    registry.push("app:1");
    let refs = vec![format!("{}/app:1", registry.host)];

    let unknown_ca = probe(&refs, CredentialStore::anonymous(), options());
    assert_eq!(
        outcomes(&unknown_ca),
        vec![(refs[0].clone(), Outcome::TlsError)]
    );
    assert!(
        unknown_ca[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("certificate"),
        "{:?}",
        unknown_ca[0].detail
    );

    let mut with_ca = options();
    with_ca.cert_dir = registry.ca_dir.clone();
    let verified = probe(&refs, CredentialStore::anonymous(), with_ca);
    assert_eq!(
        outcomes(&verified),
        vec![(refs[0].clone(), Outcome::Pullable)]
    );

    let mut insecure = options();
    insecure.insecure_registries = vec![registry.host.clone()];
    let unverified = probe(&refs, CredentialStore::anonymous(), insecure);
    assert_eq!(
        outcomes(&unverified),
        vec![(refs[0].clone(), Outcome::Pullable)]
    );
}

#[test]
fn token_registry_challenge_flow() {
    let registry = Registry::start(Auth::Token(TokenServer::start()), false);
    registry.push("public/app:1");
    registry.push("private/app:1");
    registry.push("bob/app:1");
    let h = &registry.host;
    let public = format!("{h}/public/app:1");
    let private = format!("{h}/private/app:1");
    let bobs = format!("{h}/bob/app:1");
    let mut opts = options();
    opts.insecure_registries = vec![h.clone()];

    let anonymous = probe(
        &[public.clone(), private.clone()],
        CredentialStore::anonymous(),
        opts.clone(),
    );
    assert_eq!(
        outcomes(&anonymous),
        vec![
            (public.clone(), Outcome::Pullable),
            (private.clone(), Outcome::CredentialsRequired),
        ]
    );
    assert_eq!(anonymous[0].auth.to_string(), "bearer (anonymous token)");

    let alice = probe(
        std::slice::from_ref(&private),
        flags(ALICE.0, ALICE.1),
        opts.clone(),
    );
    assert_eq!(outcomes(&alice), vec![(private.clone(), Outcome::Pullable)]);
    assert_eq!(
        alice[0].auth.to_string(),
        "bearer as alice (command-line flags)"
    );

    // Bob's token is granted but lacks the scope: authenticated, not authorised.
    let bob = probe(
        &[bobs.clone(), private.clone()],
        flags(BOB.0, BOB.1),
        opts.clone(),
    );
    assert_eq!(
        outcomes(&bob),
        vec![
            (bobs.clone(), Outcome::Pullable),
            (private.clone(), Outcome::Denied)
        ]
    );

    // The token endpoint itself answers 403 for eve.
    let eve = probe(
        std::slice::from_ref(&public),
        flags(EVE.0, EVE.1),
        opts.clone(),
    );
    assert_eq!(outcomes(&eve), vec![(public.clone(), Outcome::Denied)]);

    let wrong = probe(
        std::slice::from_ref(&private),
        flags(ALICE.0, "wrong"),
        opts.clone(),
    );
    assert_eq!(
        outcomes(&wrong),
        vec![(private.clone(), Outcome::BadCredentials)]
    );

    // An ACR-style refresh token goes through `grant_type=refresh_token`.
    let acr = probe(
        std::slice::from_ref(&private),
        flags("00000000-0000-0000-0000-000000000000", ALICE_REFRESH_TOKEN),
        opts.clone(),
    );
    assert_eq!(outcomes(&acr), vec![(private.clone(), Outcome::Pullable)]);

    let missing = probe(
        &[format!("{h}/bob/app:9"), format!("{h}/bob/other:1")],
        flags(BOB.0, BOB.1),
        opts,
    );
    assert_eq!(
        outcomes(&missing),
        vec![
            (format!("{h}/bob/app:9"), Outcome::ManifestNotFound),
            (format!("{h}/bob/other:1"), Outcome::RepositoryNotFound),
        ]
    );
}

#[test]
fn credentials_from_auth_files_in_order() {
    let registry = Registry::start(
        Auth::Htpasswd {
            user: "ci".into(),
            password: "from-file".into(),
        },
        false,
    );
    registry.push("app:1");
    let h = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    // Docker's config has a wrong password; the containers auth.json (earlier in the order) is right.
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"https://{h}":{{"auth":"{}"}}}}}}"#,
            b64("ci:stale")
        ),
    )
    .unwrap();
    let auth_json = dir.path().join("auth.json");
    std::fs::write(
        &auth_json,
        format!(
            r#"{{"auths":{{"{h}/app":{{"auth":"{}"}}}}}}"#,
            b64("ci:from-file")
        ),
    )
    .unwrap();
    let paths = CredentialPaths {
        registry_auth_file: Some(auth_json.clone()),
        docker_config: Some(docker.clone()),
        ..CredentialPaths::default()
    };
    let mut opts = options();
    opts.insecure_registries = vec![h.clone()];
    let refs = vec![format!("{h}/app:1")];

    let store = CredentialStore::load(&paths, None).unwrap();
    let results = probe(&refs, store, opts.clone());
    assert_eq!(
        outcomes(&results),
        vec![(refs[0].clone(), Outcome::Pullable)]
    );
    assert_eq!(
        results[0].auth.source.as_deref(),
        Some(format!("{}", CredentialSource::AuthFile(auth_json)).as_str())
    );

    // Without the auth file, Docker's config is used, and its stale password is refused.
    let docker_only = CredentialPaths {
        docker_config: Some(docker.clone()),
        ..CredentialPaths::default()
    };
    let results = probe(
        &refs,
        CredentialStore::load(&docker_only, None).unwrap(),
        opts,
    );
    assert_eq!(
        outcomes(&results),
        vec![(refs[0].clone(), Outcome::BadCredentials)]
    );
    assert_eq!(
        results[0].auth.source.as_deref(),
        Some(format!("docker config {}", docker.join("config.json").display()).as_str())
    );
}

#[test]
fn malformed_credentials_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.json");
    std::fs::write(
        &file,
        r#"{"auths":{"example.com":{"auth":"bm9jb2xvbg=="}}}"#,
    )
    .unwrap();
    let paths = CredentialPaths {
        registry_auth_file: Some(file.clone()),
        ..CredentialPaths::default()
    };
    let store = CredentialStore::load(&paths, None).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(store.resolve("example.com", "app"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "credentials file {}: `auths.example.com.auth` is not base64 of `user:password`",
            file.display()
        )
    );
    std::fs::write(&file, "{not json").unwrap();
    let err = CredentialStore::load(&paths, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "credentials file {} is not valid JSON: key must be a string at line 1 column 2",
            file.display()
        )
    );
    // serde's message would quote a value, and a value here may be a password: only its kind.
    std::fs::write(&file, r#"{"auths": {"example.com": {"auth": 31337314}}}"#).unwrap();
    let err = CredentialStore::load(&paths, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "credentials file {} is not valid JSON: invalid type: integer, expected a string at line 1 column 43",
            file.display()
        )
    );
}

fn hub_options(hub: &HubServer) -> ProbeOptions {
    ProbeOptions {
        docker_hub_host: hub.host.clone(),
        insecure_registries: vec![hub.host.clone()],
        ..options()
    }
}

#[test]
fn docker_hub_rate_limit_headers_and_no_pulls_spent() {
    let hub = HubServer::start();
    let refs: Vec<String> = [
        "ubuntu:24.04",
        "paid",
        "limited",
        "private/thing",
        "notag:9.9",
    ]
    .map(String::from)
    .to_vec();
    let results = probe(&refs, CredentialStore::anonymous(), hub_options(&hub));
    assert_eq!(
        outcomes(&results),
        vec![
            ("docker.io/library/ubuntu:24.04".into(), Outcome::Pullable),
            ("docker.io/library/paid:latest".into(), Outcome::Pullable),
            (
                "docker.io/library/limited:latest".into(),
                Outcome::RateLimited
            ),
            (
                "docker.io/private/thing:latest".into(),
                Outcome::CredentialsRequired
            ),
            (
                "docker.io/library/notag:9.9".into(),
                Outcome::ManifestNotFound
            ),
        ]
    );
    let rl = results[0].rate_limit.as_ref().unwrap();
    assert_eq!(
        (rl.limit, rl.remaining, rl.window_secs),
        (Some(100), Some(76), Some(21600))
    );
    assert_eq!(rl.source.as_deref(), Some("192.0.2.10"));
    assert_eq!(results[1].rate_limit, None);
    assert_eq!(results[2].retry_after_secs, Some(3600));
    assert_eq!(
        results[2].detail.as_deref(),
        Some("the registry answered 429 Too Many Requests, retry after 3600s")
    );
    // Platforms are not fetched from Docker Hub, and no manifest was ever fetched with GET.
    assert!(results[0].platforms.is_empty());
    let gets: Vec<String> = hub
        .manifest_requests()
        .into_iter()
        .filter(|r| !r.starts_with("HEAD "))
        .collect();
    assert_eq!(gets, Vec::<String>::new());
}

#[test]
fn docker_hub_faults_are_clear_outcomes() {
    let hub = HubServer::start();
    let refs: Vec<String> = ["flaky", "retry-after", "html", "huge", "loop"]
        .map(String::from)
        .to_vec();
    let results = probe(&refs, CredentialStore::anonymous(), hub_options(&hub));
    let got: Vec<(Outcome, Option<String>)> = results
        .iter()
        .map(|r| (r.outcome, r.detail.clone()))
        .collect();
    assert_eq!(got[0], (Outcome::Pullable, None), "503 then 200 is retried");
    assert_eq!(
        got[1],
        (Outcome::Pullable, None),
        "Retry-After: 1 is honoured"
    );
    assert_eq!(
        got[2],
        (
            Outcome::Error,
            Some(
                "the server answered an HTML page (text/html), not a manifest: is this a registry?"
                    .into()
            )
        )
    );
    assert_eq!(
        got[3],
        (
            Outcome::Error,
            Some("the manifest is 5242880 bytes, over the 4 MiB limit".into())
        )
    );
    assert_eq!(got[4].0, Outcome::Error);
    assert!(
        got[4]
            .1
            .as_deref()
            .unwrap()
            .starts_with("redirect loop or too many redirects"),
        "{:?}",
        got[4]
    );
}

#[test]
fn every_outcome_is_produced_by_some_test() {
    // The outcomes asserted above, by test; a new outcome must get a test here too.
    let covered = [
        Outcome::Pullable,            // anonymous_registry_pullable_and_missing_parts
        Outcome::CredentialsRequired, // htpasswd_registry_basic_auth, token_registry_challenge_flow
        Outcome::BadCredentials,      // htpasswd_registry_basic_auth, token_registry_challenge_flow
        Outcome::Denied,              // token_registry_challenge_flow
        Outcome::RepositoryNotFound,  // anonymous_registry_pullable_and_missing_parts
        Outcome::ManifestNotFound,    // anonymous_registry_pullable_and_missing_parts
        Outcome::RateLimited,         // docker_hub_rate_limit_headers_and_no_pulls_spent
        Outcome::Unreachable,         // unreachable_registry_after_retries
        Outcome::TlsError,            // tls_registry_needs_its_ca_or_insecure
        Outcome::Error,               // docker_hub_faults_are_clear_outcomes
    ];
    assert_eq!(covered, Outcome::ALL);
}

#[test]
fn tags_of_one_image_read_its_platforms_once() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("app:1");
    registry.push("app:2");
    let h = &registry.host;
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let mut opts = options();
    opts.insecure_registries = vec![h.clone()];
    opts.log = Some(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_owned())
    }));
    let refs = vec![format!("{h}/app:1"), format!("{h}/app:2")];
    let results = probe(&refs, CredentialStore::anonymous(), opts);
    assert_eq!(results[0].platforms, vec!["linux/amd64"]);
    assert_eq!(results[1].platforms, vec!["linux/amd64"]);
    assert_eq!(results[0].digest, results[1].digest);
    let lines = lines.lock().unwrap();
    let heads = lines.iter().filter(|l| l.contains(": HEAD ")).count();
    let gets = lines.iter().filter(|l| l.contains(": GET ")).count();
    // One HEAD per tag; the manifest and config GETs once for the shared digest.
    assert_eq!((heads, gets), (2, 2), "{lines:#?}");
}
