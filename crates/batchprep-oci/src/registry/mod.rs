//! Registries: where credentials come from, and whether a reference can be pulled (the probe behind
//! `batchprep registry check`). Docker Hub's documented pull limits live here too, as constants the
//! rate-limit rule uses.

mod challenge;
pub mod credentials;
pub mod hub;
pub mod image;
mod outcome;
pub mod probe;
mod secret;
mod shared;
mod transport;

pub use credentials::{
    Credential, CredentialError, CredentialPaths, CredentialSource, CredentialStore, SecretKind,
};
pub use probe::{
    AuthScheme, AuthUsed, Outcome, ProbeError, ProbeOptions, ProbeResult, PullProbe, RateLimit,
    probe_all,
};
pub use secret::Secret;
pub use transport::TransportError;
