//! Prefetch: the pool's `containerImageNames` (normalised references) and one `containerRegistries`
//! entry per registry that needs credentials, inferred from the image references. Docker Hub gets an
//! entry only when credentials are given: an anonymous entry would change nothing.

use batchprep_oci::Reference;

use crate::{
    plan::{Note, NoteLevel},
    spec::RegistryAuth,
};

/// A `containerRegistries` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// Registry host (`docker.io` for Docker Hub).
    pub server: String,
    /// How nodes authenticate.
    pub auth: RegistryAuth,
}

/// What the pool prefetches and the registries it needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefetch {
    /// `containerImageNames`, fully normalised (`docker.io/library/ubuntu:24.04`).
    pub container_image_names: Vec<String>,
    /// `containerRegistries`, in the order the spec lists them.
    pub registries: Vec<RegistryEntry>,
}

/// Builds the prefetch settings; what needs the user's attention goes to `notes`.
pub fn plan(
    images: &[Reference],
    registries: &[(String, RegistryAuth)],
    notes: &mut Vec<Note>,
) -> Prefetch {
    let container_image_names = images.iter().map(ToString::to_string).collect();
    let entries: Vec<RegistryEntry> = registries
        .iter()
        .map(|(server, auth)| RegistryEntry {
            server: server.clone(),
            auth: auth.clone(),
        })
        .collect();

    let mut unlisted: Vec<&str> = Vec::new();
    for image in images {
        let host = image.registry.as_str();
        if entries.iter().any(|e| e.server == host) || unlisted.contains(&host) {
            continue;
        }
        unlisted.push(host);
        if image.is_docker_hub() {
            notes.push(Note::new(
                NoteLevel::Note,
                format!(
                    "{} is pulled from Docker Hub anonymously: every node spends the anonymous pull quota of its public address; add a docker.io registry with credentials to raise it",
                    image.familiar()
                ),
            ));
        } else if host.ends_with(".azurecr.io") {
            notes.push(Note::new(
                NoteLevel::Warning,
                format!(
                    "{} is in Azure Container Registry {host}, which has no [[pool.registries]] entry: nodes pull anonymously, which fails unless anonymous pull is enabled on it",
                    image.familiar()
                ),
            ));
        } else {
            notes.push(Note::new(
                NoteLevel::Note,
                format!(
                    "{} is pulled from {host} without credentials; add a [[pool.registries]] entry if it is private",
                    image.familiar()
                ),
            ));
        }
    }
    for entry in &entries {
        if !images.iter().any(|i| i.registry == entry.server) {
            notes.push(Note::new(
                NoteLevel::Note,
                format!(
                    "registry {} is in the pool but no prefetched image comes from it; tasks that name it still use it",
                    entry.server
                ),
            ));
        }
    }
    Prefetch {
        container_image_names,
        registries: entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(list: &[&str]) -> Vec<Reference> {
        list.iter().map(|r| Reference::parse(r).unwrap()).collect()
    }

    #[test]
    fn hub_gets_an_entry_only_with_credentials() {
        let mut notes = Vec::new();
        let p = plan(
            &refs(&["ubuntu:24.04", "myacr.azurecr.io/render:2.1"]),
            &[],
            &mut notes,
        );
        assert_eq!(
            p.container_image_names,
            [
                "docker.io/library/ubuntu:24.04",
                "myacr.azurecr.io/render:2.1"
            ]
        );
        assert!(p.registries.is_empty());
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[1].level, NoteLevel::Warning);

        let mut notes = Vec::new();
        let hub = RegistryAuth::Password {
            username: "robot".into(),
            password_env: "HUB_TOKEN".into(),
        };
        let p = plan(
            &refs(&["ubuntu"]),
            &[("docker.io".into(), hub.clone())],
            &mut notes,
        );
        assert_eq!(
            p.registries,
            [RegistryEntry {
                server: "docker.io".into(),
                auth: hub
            }]
        );
        assert!(notes.is_empty());
    }
}
