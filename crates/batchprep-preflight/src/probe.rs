//! The registry part of the pre-flight: each pool's images probed with the credentials the pool
//! itself carries, as its nodes will pull.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use batchprep_batch::pool::PoolDefinition;
use batchprep_lint::{Finding, rules::coverage::registry_check_skipped};
use batchprep_oci::{
    Reference,
    registry::{
        Credential, CredentialPaths, CredentialSource, CredentialStore, ProbeOptions, ProbeResult,
    },
};

/// What the registry probe of one pool found.
pub(crate) struct ProbedPool {
    pub results: Vec<ProbeResult>,
    /// The credentials each registry was probed with; images are read with the same.
    pub stores: BTreeMap<String, Arc<CredentialStore>>,
    /// How each registry was probed: the pool's own credentials, a stand-in, or anonymous.
    auth: BTreeMap<String, &'static str>,
    /// Registries probed with local credentials standing in for the pool's.
    pub notes: Vec<Finding>,
}

impl ProbedPool {
    /// How `registry` was probed, for the summary.
    pub fn auth_note(&self, registry: &str) -> &'static str {
        self.auth
            .get(registry)
            .copied()
            .unwrap_or("anonymous, as the nodes pull")
    }
}

/// Probes every image of `pool` with the credentials the pool itself carries: a registry with a
/// username and password in the file is probed with them; one whose credentials the file does not
/// hold (a managed identity, a template parameter) with the local credentials standing in, said in a
/// note; every other registry anonymously, as the nodes will pull.
pub(crate) fn probe_pool(
    pool: &PoolDefinition,
    pool_path: &Path,
    images: &[Reference],
    options: &ProbeOptions,
    local_credentials: &dyn Fn() -> anyhow::Result<CredentialStore>,
) -> anyhow::Result<ProbedPool> {
    let mut own: BTreeMap<String, Credential> = BTreeMap::new();
    let mut stand_in: Vec<String> = Vec::new();
    for r in pool.container.iter().flat_map(|c| &c.registries) {
        match r.usable_login() {
            Some((user, password)) => {
                let mut credential = Credential::from_flags(user.value.clone(), password.clone());
                credential.source = CredentialSource::PoolDefinition(pool_path.to_path_buf());
                own.insert(r.normalised_server(), credential);
            }
            None => stand_in.push(r.normalised_server()),
        }
    }
    let mut auth = BTreeMap::new();
    let mut notes = Vec::new();
    let mut groups: BTreeMap<String, Vec<Reference>> = BTreeMap::new();
    for image in images {
        groups
            .entry(image.registry.clone())
            .or_default()
            .push(image.clone());
    }
    let mut results = Vec::new();
    let mut stores = BTreeMap::new();
    for (registry, refs) in groups {
        let store = if let Some(credential) = own.get(&registry) {
            auth.insert(registry.clone(), "the pool's username and password");
            CredentialStore::load(&CredentialPaths::default(), Some(credential.clone()))?
        } else if stand_in.contains(&registry) {
            auth.insert(
                registry.clone(),
                "local credentials standing in for the pool's",
            );
            notes.push(registry_check_skipped::stand_in_credentials(
                pool.display_id(),
                &registry,
            ));
            local_credentials()?
        } else {
            CredentialStore::anonymous()
        };
        let store = Arc::new(store);
        stores.insert(registry.clone(), Arc::clone(&store));
        results.extend(batchprep_oci::registry::probe_all(
            &refs,
            store,
            options.clone(),
        )?);
    }
    Ok(ProbedPool {
        results,
        stores,
        auth,
        notes,
    })
}
