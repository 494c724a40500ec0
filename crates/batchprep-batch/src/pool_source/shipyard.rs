//! Batch Shipyard `pool.yaml`, with the `config.yaml` and `credentials.yaml` of the same config
//! directory (`shipyard pool add --configdir`), mapped to the Batch pool Shipyard itself created
//! (convoy/fleet.py `_construct_pool_object`, convoy/settings.py):
//!
//! - the platform image, lowercased; `native: true` on CentOS 7.4-7.7 or Ubuntu 16.04 becomes
//!   Shipyard's `microsoft-azure-batch` container image (`-rdma` on RDMA sizes); Windows and
//!   `microsoft-azure-batch` images are always native;
//! - the node agent: Shipyard asks Batch for the agent of the image; here the catalog answers, and an
//!   image it does not know leaves the agent unknown, never guessed;
//! - native pools get `containerConfiguration` with `global_resources.docker_images` as
//!   `containerImageNames` and the `credentials.docker_registry` logins of the registries those
//!   images name (Docker Hub as `hub`); other pools run Docker through Shipyard's own node prep;
//! - the start task is Shipyard's node prep, run as pool admin with `waitForSuccess`.
//!
//! YAML is read with `saphyr`, which keeps the line and column of every node.

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::{MAX_DEPTH, PoolFileError, SourceIndex, SourcePlace, node, object};
use crate::{
    catalog,
    json_pos::{Position, push_token},
    pool::{PoolDefinition, PoolShape, data_plane},
    spec::normalise_server,
    template::{Node, Spanned},
};

/// A Shipyard pool, as read for `check` or `pool emit --from-shipyard`.
#[derive(Debug, Clone)]
pub struct ShipyardPool {
    /// The pool as Shipyard creates it.
    pub pool: PoolDefinition,
    /// Where its values are, across the config directory's files.
    pub locations: SourceIndex,
    /// The config files read beside `pool.yaml`.
    pub files: Vec<PathBuf>,
    /// `global_resources` and `credentials`, for the registries of the images a migration prefetches.
    global: Option<Spanned>,
    credentials: Option<Spanned>,
}

/// Reads `pool.yaml` (text `text`) and the `config.yaml` and `credentials.yaml` beside it.
pub(super) fn read_configdir(path: &Path, text: &str) -> Result<ShipyardPool, PoolFileError> {
    let mut docs = vec![(path.to_path_buf(), text.to_owned())];
    docs.extend(beside(path, &["config.yaml", "credentials.yaml"]));
    read_shipyard(&docs)
}

/// The config files `names` of the config directory `path` is in, other than `path`, that exist.
pub(super) fn beside(path: &Path, names: &[&str]) -> Vec<(PathBuf, String)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    names
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| p != path)
        .filter_map(|p| batchprep_oci::input::read_text(&p).ok().map(|t| (p, t)))
        .collect()
}

/// Each document as a value tree, with where its values are; the first document is the one the
/// user named, so its errors carry no file name of their own.
pub(super) fn load(
    docs: &[(PathBuf, String)],
) -> Result<(Vec<Spanned>, SourceIndex), PoolFileError> {
    let mut index = SourceIndex {
        files: docs.iter().map(|(p, _)| p.clone()).collect(),
        ..SourceIndex::default()
    };
    let mut trees = Vec::new();
    for (i, (p, text)) in docs.iter().enumerate() {
        let file = (i > 0).then(|| p.clone());
        let loaded = MarkedYaml::load_from_str(text).map_err(|e| PoolFileError::Syntax {
            file: file.clone(),
            line: e.marker().line() as u32,
            column: e.marker().col() as u32 + 1,
            message: format!("not valid YAML: {}", e.info()),
        })?;
        let Some(doc) = loaded.first() else { continue };
        trees.push(
            convert(doc, "", i, &mut index, 0).map_err(|pos| PoolFileError::Syntax {
                file,
                line: pos.line,
                column: pos.column,
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            })?,
        );
    }
    Ok((trees, index))
}

/// Reads Shipyard config documents (the first is `pool.yaml`; others may be `config.yaml` and
/// `credentials.yaml`, told apart by their top-level keys).
pub fn read_shipyard(docs: &[(PathBuf, String)]) -> Result<ShipyardPool, PoolFileError> {
    let (trees, mut index) = load(docs)?;
    let find = |key: &str| trees.iter().find_map(|t| t.get(key));
    let Some(ps) = find("pool_specification") else {
        return Err(PoolFileError::NoPool(
            "no `pool_specification` in the Batch Shipyard file".into(),
        ));
    };
    let global = find("global_resources");
    let credentials = find("credentials");
    let pool = map_pool(ps, global, credentials);
    // The pool's `containerImageNames` is `global_resources.docker_images` (maybe in config.yaml):
    // an edit of the list (an image appended) is made there, so it is recorded there too.
    if let (Some(c), Some(images)) = (&pool.container, global.and_then(|g| g.get("docker_images")))
        && let Some(&place) = index.positions.get(&images.origin)
    {
        index
            .positions
            .insert(format!("{}/containerImageNames", c.pointer), place);
    }
    Ok(ShipyardPool {
        pool,
        locations: index,
        files: docs.iter().skip(1).map(|(p, _)| p.clone()).collect(),
        global: global.cloned(),
        credentials: credentials.cloned(),
    })
}

/// A YAML node as a value tree, recording positions; `Err` at the node nested too deep.
fn convert(
    y: &MarkedYaml<'_>,
    at: &str,
    file: usize,
    index: &mut SourceIndex,
    depth: usize,
) -> Result<Spanned, Position> {
    let pos = Position {
        line: y.span.start.line() as u32,
        column: y.span.start.col() as u32 + 1,
    };
    if depth > MAX_DEPTH {
        return Err(pos);
    }
    index.record(at, file, pos);
    Ok(match &y.data {
        YamlData::Value(Scalar::Null) => node(Node::Null, at),
        YamlData::Value(Scalar::Boolean(b)) => node(Node::Bool(*b), at),
        YamlData::Value(Scalar::Integer(i)) => node(Node::Number((*i).into()), at),
        YamlData::Value(Scalar::FloatingPoint(f)) => node(Node::String(f.to_string()), at),
        YamlData::Value(Scalar::String(s)) => node(Node::String(s.to_string()), at),
        YamlData::Representation(s, ..) => node(Node::String(s.to_string()), at),
        YamlData::Sequence(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.push(convert(item, &format!("{at}/{i}"), file, index, depth + 1)?);
            }
            node(Node::Array(out), at)
        }
        YamlData::Mapping(map) => {
            let mut out = Vec::new();
            for (k, v) in map {
                let key = match &k.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                    _ => continue,
                };
                let here = push_token(at, &key);
                let v = convert(v, &here, file, index, depth + 1)?;
                // Where a member is, is where its key is written.
                index.positions.insert(
                    here.clone(),
                    (
                        file,
                        Position {
                            line: k.span.start.line() as u32,
                            column: k.span.start.col() as u32 + 1,
                        },
                    ),
                );
                out.push((key, v));
            }
            node(Node::Object(out), at)
        }
        YamlData::Tagged(_, inner) => convert(inner, at, file, index, depth + 1)?,
        _ => node(Node::Unknown("a YAML alias".into()), at),
    })
}

fn lower(n: &Spanned) -> Option<String> {
    match &n.node {
        Node::String(s) => Some(s.to_ascii_lowercase()),
        Node::Number(x) => Some(x.to_string()),
        _ => None,
    }
}

fn string_at(s: impl Into<String>, at: &str) -> Spanned {
    node(Node::String(s.into()), at)
}

/// Shipyard's pool, as a data-plane body.
fn map_pool(
    ps: &Spanned,
    global: Option<&Spanned>,
    credentials: Option<&Spanned>,
) -> PoolDefinition {
    let vm_size = ps.get("vm_size").and_then(lower).unwrap_or_default();
    let rdma = vm_size.ends_with('r') || vm_size.contains("r_") || vm_size.contains("rs");
    let vm_at = ps
        .get("vm_configuration")
        .map_or(ps.origin.clone(), |v| v.origin.clone());
    let platform = ps
        .path(&["vm_configuration", "platform_image"])
        .filter(|p| p.get("publisher").is_some());
    let custom = ps.path(&["vm_configuration", "custom_image"]);
    let (image, agent, native, native_at) = match (platform, custom) {
        (Some(p), _) => {
            let field = |k: &str| {
                p.get(k)
                    .and_then(|v| lower(v).map(|s| (s, v.origin.clone())))
            };
            let (mut publisher, p_at) = field("publisher").unwrap_or_default();
            let (mut offer, o_at) = field("offer").unwrap_or_default();
            let (mut sku, s_at) = field("sku").unwrap_or_default();
            let version = field("version").unwrap_or(("latest".into(), p.origin.clone()));
            let asked = p.get("native").and_then(Spanned::as_bool).unwrap_or(false);
            let native_at = p
                .get("native")
                .map_or(p.origin.clone(), |n| n.origin.clone());
            let mut native =
                publisher == "microsoftwindowsserver" || publisher == "microsoft-azure-batch";
            if !native && asked {
                let rdma_suffix = if rdma { "-rdma" } else { "" };
                if publisher == "canonical" && offer == "ubuntuserver" && sku == "16.04-lts" {
                    publisher = "microsoft-azure-batch".into();
                    offer = format!("ubuntu-server-container{rdma_suffix}");
                    sku = sku.replace('.', "-");
                    native = true;
                } else if publisher == "openlogic"
                    && offer.starts_with("centos")
                    && ["7.4", "7.5", "7.6", "7.7"].contains(&sku.as_str())
                {
                    publisher = "microsoft-azure-batch".into();
                    offer = format!("centos-container{rdma_suffix}");
                    sku = sku.replace('.', "-");
                    native = true;
                }
            }
            let agent = match catalog::lookup(&publisher, &offer, &sku).and_then(|i| i.node_agent())
            {
                Some(agent) => string_at(agent, &p.origin),
                None => node(
                    Node::Unknown(format!(
                        "the node agent Batch lists for {publisher}:{offer}:{sku}"
                    )),
                    &p.origin,
                ),
            };
            let image = object(
                &p.origin,
                vec![
                    ("publisher", Some(string_at(publisher, &p_at))),
                    ("offer", Some(string_at(offer, &o_at))),
                    ("sku", Some(string_at(sku, &s_at))),
                    ("version", Some(string_at(version.0, &version.1))),
                ],
            );
            (Some(image), Some(agent), native, native_at)
        }
        (None, Some(c)) => {
            let agent = c
                .get("node_agent")
                .map(|a| string_at(lower(a).unwrap_or_default(), &a.origin));
            let windows =
                agent.as_ref().and_then(Spanned::as_str) == Some("batch.node.windows amd64");
            let native = windows || c.get("native").and_then(Spanned::as_bool).unwrap_or(false);
            let native_at = c
                .get("native")
                .map_or(c.origin.clone(), |n| n.origin.clone());
            let image = object(
                &c.origin,
                vec![("virtualMachineImageId", c.get("arm_image_id").cloned())],
            );
            (Some(image), agent, native, native_at)
        }
        (None, None) => (None, None, false, vm_at.clone()),
    };
    let container = native.then(|| {
        let images = global
            .and_then(|g| g.get("docker_images"))
            .filter(|i| i.as_array().is_some());
        let registries = registries(images, global, credentials, &native_at);
        object(
            &native_at,
            vec![
                ("type", Some(string_at("dockerCompatible", &native_at))),
                ("containerImageNames", images.cloned()),
                ("containerRegistries", registries),
            ],
        )
    });
    let vm = object(
        &vm_at,
        vec![
            ("imageReference", image),
            ("nodeAgentSKUId", agent),
            ("containerConfiguration", container),
        ],
    );
    // Shipyard's node prep script, elevated, waited for.
    let start = object(
        &ps.origin,
        vec![
            (
                "commandLine",
                Some(string_at("shipyard_nodeprep.sh", &ps.origin)),
            ),
            ("waitForSuccess", Some(node(Node::Bool(true), &ps.origin))),
            (
                "userIdentity",
                Some(object(
                    &ps.origin,
                    vec![(
                        "autoUser",
                        Some(object(
                            &ps.origin,
                            vec![
                                ("scope", Some(string_at("pool", &ps.origin))),
                                ("elevationLevel", Some(string_at("admin", &ps.origin))),
                            ],
                        )),
                    )],
                )),
            ),
        ],
    );
    let autoscale = ps.get("autoscale").filter(|a| {
        a.get("formula").is_some_and(|f| !f.is_null())
            || a.get("scenario").is_some_and(|s| !s.is_null())
    });
    let count = ps.get("vm_count");
    let body = object(
        &ps.origin,
        vec![
            ("id", ps.get("id").cloned()),
            ("vmSize", ps.get("vm_size").cloned()),
            ("virtualMachineConfiguration", Some(vm)),
            ("startTask", Some(start)),
            (
                "networkConfiguration",
                ps.path(&["virtual_network", "arm_subnet_id"])
                    .map(|s| object(&s.origin.clone(), vec![("subnetId", Some(s.clone()))])),
            ),
            (
                "targetDedicatedNodes",
                count
                    .and_then(|c| c.get("dedicated"))
                    .filter(|_| autoscale.is_none())
                    .cloned(),
            ),
            (
                "targetLowPriorityNodes",
                count
                    .and_then(|c| c.get("low_priority"))
                    .filter(|_| autoscale.is_none())
                    .cloned(),
            ),
            (
                "enableAutoScale",
                autoscale.map(|a| node(Node::Bool(true), &a.origin)),
            ),
        ],
    );
    data_plane(&body, PoolShape::Shipyard)
}

/// `docker_registries(config)`: the fallback and additional registries and those the images name,
/// each with its `credentials.docker_registry` login; Docker Hub's login is `hub`.
fn registries(
    images: Option<&Spanned>,
    global: Option<&Spanned>,
    credentials: Option<&Spanned>,
    at: &str,
) -> Option<Spanned> {
    let logins = credentials.and_then(|c| c.get("docker_registry"))?;
    let mut servers: Vec<String> = Vec::new();
    if let Some(extra) = global
        .and_then(|g| g.path(&["additional_registries", "docker"]))
        .and_then(Spanned::as_array)
    {
        servers.extend(extra.iter().filter_map(|s| s.as_str().map(str::to_owned)));
    }
    for image in images.and_then(Spanned::as_array).into_iter().flatten() {
        if let Some((first, _)) = image.as_str().and_then(|s| s.split_once('/'))
            && (first.contains('.') || first.contains(':'))
            && first != "localhost"
            && !servers.iter().any(|s| s == first)
        {
            servers.push(first.to_owned());
        }
    }
    let mut out = Vec::new();
    let mut login = |key: &str, server: Option<&str>| {
        let Some(entry) = logins.get(key) else { return };
        let password = entry
            .get("password")
            .filter(|p| !p.is_null())
            .cloned()
            .or_else(|| {
                entry.get("password_keyvault_secret_id").map(|k| {
                    node(
                        Node::Unknown(format!(
                            "a Key Vault secret ({})",
                            k.as_str().unwrap_or("?")
                        )),
                        &k.origin,
                    )
                })
            });
        let (Some(user), Some(password)) =
            (entry.get("username").filter(|u| !u.is_null()), password)
        else {
            return;
        };
        out.push(object(
            &entry.origin,
            vec![
                (
                    "registryServer",
                    server.map(|s| string_at(normalise_server(s), &entry.origin)),
                ),
                ("username", Some(user.clone())),
                ("password", Some(password)),
            ],
        ));
    };
    login("hub", None);
    for s in &servers {
        login(s, Some(s));
    }
    (!out.is_empty()).then(|| node(Node::Array(out), at))
}

impl ShipyardPool {
    /// The pool as a `batchprep.toml` `[pool]` spec, for `pool emit --from-shipyard`: the migration
    /// off Shipyard writes the same pool in any surface, as a Batch container pool that prefetches
    /// `job_images` too. Registry passwords are never copied: each login gets a `password-env`
    /// variable to hold it. What the spec cannot say is an error naming it.
    pub fn to_spec(&self, job_images: &[String]) -> Result<ShipyardSpec, PoolFileError> {
        let p = &self.pool;
        let missing = |what: &str| {
            PoolFileError::NoPool(format!(
                "the Shipyard pool has no {what} batchprep can write"
            ))
        };
        let mut t = toml::Table::new();
        let put = |t: &mut toml::Table, k: &str, v: toml::Value| {
            t.insert(k.to_owned(), v);
        };
        put(
            &mut t,
            "id",
            p.id.as_ref()
                .ok_or_else(|| missing("`id`"))?
                .value
                .clone()
                .into(),
        );
        put(
            &mut t,
            "vm-size",
            p.vm_size
                .as_ref()
                .ok_or_else(|| missing("`vm_size`"))?
                .value
                .clone()
                .into(),
        );
        let image = p.image.as_ref().ok_or_else(|| missing("platform image"))?;
        let part = |f: &Option<crate::pool::Field<String>>| f.as_ref().map(|f| f.value.clone());
        let (Some(publisher), Some(offer), Some(sku)) =
            (part(&image.publisher), part(&image.offer), part(&image.sku))
        else {
            return Err(missing(
                "marketplace image (a custom image is not a `[pool]` image)",
            ));
        };
        let version = part(&image.version).unwrap_or_else(|| "latest".into());
        put(
            &mut t,
            "image",
            format!("{publisher}:{offer}:{sku}:{version}").into(),
        );
        if let Some(agent) = &p.node_agent_sku_id {
            put(&mut t, "node-agent", agent.value.clone().into());
        }
        if p.auto_scale {
            return Err(missing(
                "fixed size (Shipyard autoscale scenarios have no formula to write; set vm_count)",
            ));
        }
        put(
            &mut t,
            "dedicated-nodes",
            (p.target_dedicated_nodes.unwrap_or(0) as i64).into(),
        );
        put(
            &mut t,
            "low-priority-nodes",
            (p.target_low_priority_nodes.unwrap_or(0) as i64).into(),
        );
        // A migration runs Batch's own containers: prefetch what Shipyard preloaded
        // (`global_resources.docker_images`) and what the jobs run, with each registry's login.
        let mut images: Vec<String> = self
            .global
            .as_ref()
            .and_then(|g| g.get("docker_images"))
            .and_then(Spanned::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect();
        for i in job_images {
            if !images.contains(i) {
                images.push(i.clone());
            }
        }
        if !images.is_empty() {
            let list = images
                .iter()
                .map(|i| toml::Value::from(i.as_str()))
                .collect();
            put(&mut t, "images", toml::Value::Array(list));
        }
        let as_node = node(
            Node::Array(images.iter().map(|i| string_at(i.as_str(), "")).collect()),
            "",
        );
        let logins = registries(
            Some(&as_node),
            self.global.as_ref(),
            self.credentials.as_ref(),
            "",
        );
        let mut registries = Vec::new();
        for r in logins.as_ref().and_then(Spanned::as_array).unwrap_or(&[]) {
            let server = r
                .get("registryServer")
                .and_then(Spanned::as_str)
                .unwrap_or("docker.io")
                .to_owned();
            let var: String = format!(
                "{}_PASSWORD",
                server.split('.').next().unwrap_or("REGISTRY")
            )
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() {
                    ch.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
            let mut e = toml::Table::new();
            e.insert("server".into(), server.into());
            if let Some(u) = r.get("username").and_then(Spanned::as_str) {
                e.insert("username".into(), u.into());
            }
            e.insert("password-env".into(), var.into());
            registries.push(toml::Value::Table(e));
        }
        if !registries.is_empty() {
            put(&mut t, "registries", toml::Value::Array(registries));
        }
        if let Some(subnet) = &p.subnet_id {
            put(&mut t, "subnet-id", subnet.value.clone().into());
        }
        let mut doc = toml::Table::new();
        doc.insert("pool".into(), toml::Value::Table(t));
        let text = toml::to_string(&doc).map_err(|e| PoolFileError::NoPool(e.to_string()))?;
        // Where each key of the spec came from, so an error about it cites the Shipyard file.
        let field = |f: &Option<crate::pool::Field<String>>| f.as_ref().map(|f| f.pointer.clone());
        let from = [
            ("id = ", field(&p.id)),
            ("vm-size = ", field(&p.vm_size)),
            ("image = ", Some(image.pointer.clone())),
            ("node-agent = ", field(&p.node_agent_sku_id)),
            ("dedicated-nodes = ", Some(p.pointer.clone())),
            ("low-priority-nodes = ", Some(p.pointer.clone())),
            (
                "images = ",
                self.global
                    .as_ref()
                    .and_then(|g| g.get("docker_images"))
                    .map(|i| i.origin.clone()),
            ),
            (
                "[[pool.registries]]",
                self.credentials.as_ref().map(|c| c.origin.clone()),
            ),
            ("subnet-id = ", field(&p.subnet_id)),
        ];
        let mut origins: Vec<(usize, SourcePlace)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let (_, pointer) = from.iter().find(|(k, _)| line.starts_with(k))?;
                Some((i + 1, self.locations.locate(pointer.as_deref()?)))
            })
            .collect();
        origins.sort_by_key(|(line, _)| *line);
        Ok(ShipyardSpec { text, origins })
    }
}

/// A Shipyard pool as a `[pool]` spec, with where in the Shipyard files each of its lines came from.
#[derive(Debug, Clone)]
pub struct ShipyardSpec {
    /// The `batchprep.toml` text.
    pub text: String,
    /// (1-based spec line, the place in the Shipyard files), by line.
    origins: Vec<(usize, SourcePlace)>,
}

impl ShipyardSpec {
    /// Where the value on `line` of the spec was written in the Shipyard files: the place of the
    /// nearest key at or above it.
    pub fn origin(&self, line: usize) -> Option<&SourcePlace> {
        self.origins
            .iter()
            .rev()
            .find(|(l, _)| *l <= line)
            .map(|(_, place)| place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_centos_becomes_shipyards_container_image() {
        let pool = "pool_specification:\n  id: mpi\n  vm_configuration:\n    platform_image:\n      offer: CentOS\n      publisher: OpenLogic\n      sku: '7.6'\n      native: true\n  vm_count:\n    dedicated: 2\n  vm_size: STANDARD_D1_V2\n";
        let config = "global_resources:\n  docker_images:\n  - myacr.azurecr.io/mpi:latest\n";
        let creds = "credentials:\n  docker_registry:\n    myacr.azurecr.io:\n      username: u\n      password: p\n";
        let read = read_shipyard(&[
            ("pool.yaml".into(), pool.into()),
            ("config.yaml".into(), config.into()),
            ("credentials.yaml".into(), creds.into()),
        ])
        .unwrap();
        let p = &read.pool;
        let image = p.image.as_ref().unwrap();
        assert_eq!(image.offer.as_ref().unwrap().value, "centos-container");
        assert_eq!(image.sku.as_ref().unwrap().value, "7-6");
        // The catalog lists centos-container 7-8 only, so the agent of 7-6 is unknown, not guessed.
        assert!(p.node_agent_sku_id.is_none());
        assert!(
            p.unknowns.iter().any(|(_, what)| what
                == "the node agent Batch lists for microsoft-azure-batch:centos-container:7-6"),
            "{:?}",
            p.unknowns
        );
        let c = p.container.as_ref().unwrap();
        assert_eq!(c.image_names[0].value, "myacr.azurecr.io/mpi:latest");
        let place = read.locations.locate(&c.image_names[0].pointer);
        assert_eq!(place.file, PathBuf::from("config.yaml"));
        // The scalar itself, after the `- ` of its sequence entry.
        assert_eq!(place.position, Position { line: 3, column: 5 });
        assert_eq!(c.registries[0].username.as_ref().unwrap().value, "u");
        assert_eq!(p.fixed_node_count(), Some(2));
        let size = p.vm_size.as_ref().unwrap();
        assert_eq!(
            read.locations.locate(&size.pointer).position,
            Position {
                line: 11,
                column: 3
            }
        );
    }

    #[test]
    fn not_native_has_no_container_configuration() {
        let pool = "pool_specification:\n  id: p\n  vm_configuration:\n    platform_image:\n      publisher: Canonical\n      offer: UbuntuServer\n      sku: 18.04-LTS\n  vm_size: STANDARD_D2_V2\n";
        let read = read_shipyard(&[("pool.yaml".into(), pool.into())]).unwrap();
        assert!(read.pool.container.is_none());
        let spec = read.to_spec(&[]).unwrap().text;
        assert!(
            spec.contains("image = \"canonical:ubuntuserver:18.04-lts:latest\""),
            "{spec}"
        );
        assert!(
            read.pool
                .unknowns
                .iter()
                .any(|(_, e)| e.contains("canonical:ubuntuserver:18.04-lts"))
        );
    }
}
