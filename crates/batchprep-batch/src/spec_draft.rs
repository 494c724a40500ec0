//! A `[pool]` spec drafted from a pool definition (`batchprep init --from`): the settings the short
//! spec has, taken from the pool as read, and a note for each one it cannot carry over. Secrets are
//! never copied: a registry password becomes the name of the variable to hold it.

use crate::pool::{Field, PoolDefinition};

/// The spec keys of one pool, in the order `batchprep.toml` lists them, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecDraft {
    /// `[pool]` keys and values, in the spec's order.
    pub pool: Vec<(&'static str, toml::Value)>,
    /// One entry per `[[pool.registries]]` table.
    pub registries: Vec<Vec<(&'static str, toml::Value)>>,
    /// What the spec does not carry over, one sentence each.
    pub notes: Vec<String>,
}

/// Drafts the spec of `pool`.
pub fn draft(pool: &PoolDefinition) -> SpecDraft {
    let mut d = SpecDraft {
        pool: Vec::new(),
        registries: Vec::new(),
        notes: Vec::new(),
    };
    let unknown = |f: &Field<String>| pool.unknowns.iter().any(|(p, _)| *p == f.pointer);
    let string = |d: &mut SpecDraft, key: &'static str, field: Option<&Field<String>>| match field {
        Some(f) if unknown(f) => d.notes.push(format!(
            "`{key}` is a template expression batchprep could not resolve ({}): set it by hand",
            f.pointer
        )),
        Some(f) => {
            d.pool.push((key, f.value.clone().into()));
        }
        None => {}
    };
    string(&mut d, "id", pool.id.as_ref());
    string(&mut d, "vm-size", pool.vm_size.as_ref());
    if let Some(image) = &pool.image {
        let part =
            |f: &Option<Field<String>>| f.as_ref().filter(|f| !unknown(f)).map(|f| f.value.clone());
        match (
            part(&image.publisher),
            part(&image.offer),
            part(&image.sku),
            &image.virtual_machine_image_id,
        ) {
            (Some(p), Some(o), Some(s), _) => {
                let version = part(&image.version).filter(|v| v != "latest");
                let text = match version {
                    Some(v) => format!("{p}:{o}:{s}:{v}"),
                    None => format!("{p}:{o}:{s}"),
                };
                d.pool.push(("image", text.into()));
            }
            (_, _, _, Some(id)) => d.notes.push(format!(
                "the pool uses the custom image `{}`: the spec takes marketplace images only, so `image` names one of those",
                id.value
            )),
            _ => d.notes.push(format!(
                "the image reference ({}) is not complete: set `image` by hand",
                image.pointer
            )),
        }
    }
    if let Some(agent) = &pool.node_agent_sku_id {
        if !unknown(agent) {
            d.notes.push(format!(
                "the pool names node agent `{}`; the spec takes it from the image catalog (set `node-agent` only for images the catalog does not know)",
                agent.value
            ));
        }
    }
    if pool.auto_scale {
        d.notes.push(
            "the pool autoscales: write its formula as `[pool.autoscale] formula = \"...\"`".into(),
        );
    } else {
        for (key, count) in [
            ("dedicated-nodes", pool.target_dedicated_nodes),
            ("low-priority-nodes", pool.target_low_priority_nodes),
        ] {
            if let Some(n) = count.and_then(|n| i64::try_from(n).ok()) {
                d.pool.push((key, n.into()));
            }
        }
    }
    if let Some(container) = &pool.container {
        let images: Vec<toml::Value> = container
            .image_names
            .iter()
            .filter(|f| !unknown(f))
            .map(|f| f.value.clone().into())
            .collect();
        if !images.is_empty() {
            d.pool.push(("images", images.into()));
        }
        for (i, r) in container.registries.iter().enumerate() {
            let Some(server) = r.server.as_ref().filter(|f| !unknown(f)) else {
                d.notes.push(format!(
                    "registry {} has no server batchprep could read: add it by hand",
                    r.pointer
                ));
                continue;
            };
            let mut entry = vec![("server", server.value.clone().into())];
            if let Some(identity) = r.identity.as_ref().filter(|f| !unknown(f)) {
                entry.push(("identity", identity.value.clone().into()));
            }
            if let Some(user) = r.username.as_ref().filter(|f| !unknown(f)) {
                entry.push(("username", user.value.clone().into()));
                // The password stays where it is: the spec names the variable that will hold it.
                entry.push(("password-env", password_env(i).into()));
            }
            d.registries.push(entry);
        }
    }
    string(&mut d, "subnet-id", pool.subnet_id.as_ref());
    if let Some(mode) = &pool.public_ip_provision {
        match mode.value.to_ascii_lowercase().as_str() {
            m @ ("batchmanaged" | "usermanaged" | "nopublicipaddresses") => {
                d.pool.push(("public-ip", m.to_owned().into()));
            }
            _ if unknown(mode) => {}
            other => d.notes.push(format!(
                "public IP provisioning `{other}` is not one the spec knows"
            )),
        }
    }
    if pool.start_task.is_some() {
        d.notes.push(
            "the pool's own start task is not carried over: `pool emit` writes batchprep's (Docker data root and bridge)".into(),
        );
    }
    d
}

/// The variable that holds the password of the `i`th registry.
fn password_env(i: usize) -> String {
    if i == 0 {
        "REGISTRY_PASSWORD".into()
    } else {
        format!("REGISTRY_{}_PASSWORD", i + 1)
    }
}
