//! Content digests (`sha256:<hex>`, `sha512:<hex>`): parsing, so a digest can safely name a blob file,
//! and hashing, so every blob read is checked against the digest it is named by.

use sha2::{Digest as _, Sha256, Sha512};

use crate::Error;

/// A parsed, well-formed digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    /// `sha256` or `sha512`.
    pub algorithm: Algorithm,
    /// Lowercase hex.
    pub hex: String,
}

/// The hash algorithms OCI images use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-256, the default.
    Sha256,
    /// SHA-512, allowed by the OCI spec.
    Sha512,
}

impl Algorithm {
    /// The name used in digests.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`; `location` names where the
    /// text came from for the error.
    pub fn parse(text: &str, location: &str) -> Result<Digest, Error> {
        let invalid = || Error::InvalidDigest {
            digest: text.to_owned(),
            location: location.to_owned(),
        };
        let (alg, hex) = text.split_once(':').ok_or_else(invalid)?;
        let (algorithm, len) = match alg {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return Err(invalid()),
        };
        if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid());
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// An incremental hasher for either algorithm.
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

/// Checks `bytes` against `expected`; `blob` names the blob for the error.
pub(crate) fn verify(bytes: &[u8], expected: &Digest, blob: &str) -> Result<(), Error> {
    let actual = Digest::of(expected.algorithm, bytes);
    if &actual != expected {
        return Err(Error::DigestMismatch {
            blob: blob.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_digests() {
        let d = Digest::parse(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "x",
        )
        .unwrap();
        assert_eq!(d, Digest::of(Algorithm::Sha256, b""));
        for bad in ["sha256:abc", "md5:00", "sha256:../../etc/passwd", "nocolon"] {
            assert_eq!(
                Digest::parse(bad, "index.json").unwrap_err().to_string(),
                format!("invalid digest `{bad}` in index.json")
            );
        }
    }
}
