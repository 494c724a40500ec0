//! The `[pool]` section of `batchprep.toml`: the short spec a pool is written from. Parsed from the file
//! text (not a detached table) so that every error names the key and the line it is on.

use std::path::Path;

use batchprep_oci::Reference;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{self, ImageRef};

/// The `[pool]` section.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolSpec {
    /// Pool id (1-64 letters, digits, `-`, `_`).
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// VM size (`Standard_NC6s_v3`).
    #[schemars(with = "String")]
    pub vm_size: Spanned<String>,
    /// Marketplace image: `publisher:offer:sku[:version]` or an alias (`ubuntu-hpc-2404`).
    #[schemars(with = "String")]
    pub image: Spanned<String>,
    /// Dedicated nodes (fixed scale).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub dedicated_nodes: Option<Spanned<u32>>,
    /// Spot/low-priority nodes (fixed scale).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub low_priority_nodes: Option<Spanned<u32>>,
    /// Autoscale instead of fixed node counts.
    #[serde(default)]
    #[schemars(with = "Option<AutoscaleSpec>")]
    pub autoscale: Option<Spanned<AutoscaleSpec>>,
    /// Task slots per node.
    #[serde(default)]
    pub task_slots_per_node: Option<u32>,
    /// Images to prefetch onto every node.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub images: Vec<Spanned<String>>,
    /// Registries and how nodes authenticate to them.
    #[serde(default)]
    #[schemars(with = "Vec<RegistrySpec>")]
    pub registries: Vec<Spanned<RegistrySpec>>,
    /// Where Docker keeps its data: `auto` (the temp disk), `keep`, or an absolute path.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub data_root: Option<Spanned<String>>,
    /// The subnet nodes join.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Public IP provisioning.
    #[serde(default)]
    #[schemars(with = "Option<PublicIp>")]
    pub public_ip: Option<Spanned<PublicIp>>,
    /// Public IP resource ids, with `public-ip = "usermanaged"`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub public_ip_ids: Option<Spanned<Vec<String>>>,
    /// Node agent SKU, needed only for images that are not in the catalog.
    #[serde(default)]
    pub node_agent: Option<String>,
}

/// `[pool.autoscale]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AutoscaleSpec {
    /// The most dedicated nodes the generated formula asks for.
    #[serde(default)]
    pub max_nodes: Option<u32>,
    /// A formula of your own, used as given.
    #[serde(default)]
    pub formula: Option<String>,
    /// How often the formula runs (ISO 8601 duration, default `PT5M`).
    #[serde(default)]
    pub evaluation_interval: Option<String>,
}

/// One `[[pool.registries]]` entry.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistrySpec {
    /// Registry host (`myacr.azurecr.io`, `docker.io`).
    pub server: String,
    /// User-assigned managed identity resource id (ACR with `AcrPull`).
    #[serde(default)]
    pub identity: Option<String>,
    /// User name.
    #[serde(default)]
    pub username: Option<String>,
    /// The environment variable that holds the password (never the password itself).
    #[serde(default)]
    pub password_env: Option<String>,
}

/// `public-ip`: how nodes get public addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PublicIp {
    /// Batch creates and manages them.
    BatchManaged,
    /// The ids in `public-ip-ids`.
    UserManaged,
    /// No public addresses (outbound through the VNet's NAT).
    NoPublicIpAddresses,
}

/// The data-root policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataRoot {
    /// Move to the image family's temp disk when the image keeps Docker's data on the OS disk.
    Auto,
    /// Leave Docker's data root where the image has it.
    Keep,
    /// Move to this absolute path.
    Path(String),
}

impl DataRoot {
    /// Reads `auto`, `keep` or an absolute path.
    pub fn parse(s: &str) -> Option<DataRoot> {
        match s {
            "auto" => Some(DataRoot::Auto),
            "keep" => Some(DataRoot::Keep),
            p if p.starts_with('/') && !p.contains(['\n', '\0']) && p.len() > 1 => {
                Some(DataRoot::Path(p.trim_end_matches('/').to_owned()))
            }
            _ => None,
        }
    }
}

/// How a registry authenticates, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryAuth {
    /// A user-assigned managed identity.
    Identity(String),
    /// A user name and the environment variable that holds the password.
    Password {
        /// User name.
        username: String,
        /// Environment variable name.
        password_env: String,
    },
}

/// A `[pool]` spec that is wrong: the message names the key, the line locates it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}line {line}: {message}", file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
#[non_exhaustive]
pub struct SpecError {
    /// The file, when known.
    pub file: Option<String>,
    /// 1-based line.
    pub line: usize,
    /// What is wrong, naming the key.
    pub message: String,
}

/// A spec that parsed and passed the checks that need nothing but the spec itself.
#[derive(Debug, Clone)]
pub struct CheckedSpec {
    /// The raw spec.
    pub spec: PoolSpec,
    /// The marketplace image.
    pub image: ImageRef,
    /// The prefetch list, normalised.
    pub images: Vec<Reference>,
    /// Registries with their checked authentication, in spec order.
    pub registries: Vec<(String, RegistryAuth)>,
    /// The data-root policy (default `auto`).
    pub data_root: DataRoot,
}

#[derive(Deserialize)]
struct SpecFile {
    pool: Option<PoolSpec>,
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl PoolSpec {
    /// Parses the `[pool]` section of a `batchprep.toml` text; `Ok(None)` when there is none. Other
    /// sections are left to their owners.
    pub fn from_config_text(
        text: &str,
        file: Option<&Path>,
    ) -> Result<Option<PoolSpec>, SpecError> {
        let file_name = file.map(|f| f.display().to_string());
        let parsed: SpecFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            let message = e.message().trim().replace('\n', "; ");
            let message = match message.strip_prefix("unknown field") {
                Some(rest) => format!("[pool]: unknown key{rest}"),
                None => format!("[pool]: {message}"),
            };
            SpecError {
                file: file_name.clone(),
                line,
                message,
            }
        })?;
        Ok(parsed.pool)
    }

    /// Checks what the spec alone can tell: references, the image name, node counts, registries,
    /// data root. Every problem is collected, in file order.
    pub fn check(self, text: &str, file: Option<&Path>) -> Result<CheckedSpec, Vec<SpecError>> {
        let file_name = file.map(|f| f.display().to_string());
        let mut errors = Vec::new();
        let mut err = |span: std::ops::Range<usize>, message: String| {
            errors.push(SpecError {
                file: file_name.clone(),
                line: line_of(text, span.start),
                message,
            })
        };

        let id = self.id.get_ref();
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            err(
                self.id.span(),
                format!("[pool] id: `{id}` must be 1-64 letters, digits, `-` or `_`"),
            );
        }
        if self.vm_size.get_ref().trim().is_empty() {
            err(
                self.vm_size.span(),
                "[pool] vm-size: must not be empty".into(),
            );
        }
        let image = match catalog::resolve(self.image.get_ref()) {
            Ok(i) => Some(i),
            Err(e) => {
                err(self.image.span(), format!("[pool] image: {e}"));
                None
            }
        };

        let fixed = self.dedicated_nodes.is_some() || self.low_priority_nodes.is_some();
        match &self.autoscale {
            Some(auto) if fixed => err(
                auto.span(),
                "[pool] autoscale: cannot be combined with dedicated-nodes or low-priority-nodes"
                    .into(),
            ),
            Some(auto) => {
                let a = auto.get_ref();
                match (&a.formula, a.max_nodes) {
                    (None, None) => err(
                        auto.span(),
                        "[pool.autoscale]: needs max-nodes (or a formula of your own)".into(),
                    ),
                    (Some(_), Some(_)) => err(
                        auto.span(),
                        "[pool.autoscale]: max-nodes and formula exclude each other (put the cap in the formula)"
                            .into(),
                    ),
                    _ => {}
                }
            }
            None if !fixed => err(
                self.id.span(),
                "[pool]: set dedicated-nodes, low-priority-nodes, or [pool.autoscale]".into(),
            ),
            None => {}
        }

        let mut images = Vec::new();
        for img in &self.images {
            match Reference::parse(img.get_ref()) {
                Ok(r) if !images.contains(&r) => images.push(r),
                Ok(_) => err(
                    img.span(),
                    format!("[pool] images: `{}` is listed twice", img.get_ref()),
                ),
                Err(e) => err(img.span(), format!("[pool] images: {e}")),
            }
        }

        let mut registries: Vec<(String, RegistryAuth)> = Vec::new();
        for entry in &self.registries {
            let r = entry.get_ref();
            let server = normalise_server(&r.server);
            if server.is_empty() {
                err(
                    entry.span(),
                    "[[pool.registries]] server: must not be empty".into(),
                );
                continue;
            }
            if registries.iter().any(|(s, _)| *s == server) {
                err(
                    entry.span(),
                    format!("[[pool.registries]] server: `{server}` is listed twice"),
                );
                continue;
            }
            let auth = match (&r.identity, &r.username, &r.password_env) {
                (Some(id), None, None) => {
                    if !id
                        .to_ascii_lowercase()
                        .contains("/providers/microsoft.managedidentity/userassignedidentities/")
                    {
                        err(
                            entry.span(),
                            format!(
                                "[[pool.registries]] identity: `{id}` is not a user-assigned identity resource id (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)"
                            ),
                        );
                        continue;
                    }
                    RegistryAuth::Identity(id.clone())
                }
                (None, Some(user), Some(var)) => {
                    if var.is_empty()
                        || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || var.starts_with(|c: char| c.is_ascii_digit())
                    {
                        err(
                            entry.span(),
                            format!(
                                "[[pool.registries]] password-env: the value ({} characters) is not an environment variable name (letters, digits and `_`); give the name of the variable that holds the password, not the password",
                                var.chars().count()
                            ),
                        );
                        continue;
                    }
                    RegistryAuth::Password {
                        username: user.clone(),
                        password_env: var.clone(),
                    }
                }
                (Some(_), _, _) => {
                    err(
                        entry.span(),
                        format!(
                            "[[pool.registries]] `{server}`: identity excludes username and password-env"
                        ),
                    );
                    continue;
                }
                (None, None, None) => {
                    err(
                        entry.span(),
                        format!(
                            "[[pool.registries]] `{server}`: set identity, or username and password-env"
                        ),
                    );
                    continue;
                }
                (None, Some(_), None) => {
                    err(
                        entry.span(),
                        format!(
                            "[[pool.registries]] `{server}`: username needs password-env (the variable that holds the password)"
                        ),
                    );
                    continue;
                }
                (None, None, Some(_)) => {
                    err(
                        entry.span(),
                        format!("[[pool.registries]] `{server}`: password-env needs username"),
                    );
                    continue;
                }
            };
            registries.push((server, auth));
        }

        let data_root = match &self.data_root {
            None => DataRoot::Auto,
            Some(d) => DataRoot::parse(d.get_ref()).unwrap_or_else(|| {
                err(
                    d.span(),
                    format!(
                        "[pool] data-root: `{}` is not `auto`, `keep` or an absolute path",
                        d.get_ref()
                    ),
                );
                DataRoot::Keep
            }),
        };
        let public_ip = self.public_ip.as_ref().map(|p| *p.get_ref());
        if let Some(ids) = &self.public_ip_ids
            && public_ip != Some(PublicIp::UserManaged)
        {
            err(
                ids.span(),
                "[pool] public-ip-ids: needs public-ip = \"usermanaged\"".into(),
            );
        }
        if let Some(p) = &self.public_ip
            && public_ip == Some(PublicIp::NoPublicIpAddresses)
            && self.subnet_id.is_none()
        {
            err(
                p.span(),
                "[pool] public-ip: \"nopublicipaddresses\" needs subnet-id".into(),
            );
        }

        match image {
            Some(image) if errors.is_empty() => Ok(CheckedSpec {
                spec: self,
                image,
                images,
                registries,
                data_root,
            }),
            _ => Err(errors),
        }
    }
}

/// A registry host as Batch and Docker name it: `docker.io` for every Docker Hub alias, lowercase,
/// no scheme or trailing slash.
pub fn normalise_server(server: &str) -> String {
    let s = server.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    // A path (`docker.io/v1/`, `myacr.azurecr.io/`) is not part of the registry's name.
    let host = s.split('/').next().unwrap_or_default().to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io"
        | "registry-1.docker.io"
        | "registry.hub.docker.com"
        | "hub.docker.com" => "docker.io".to_owned(),
        _ => host,
    }
}
