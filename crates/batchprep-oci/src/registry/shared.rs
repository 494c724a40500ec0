//! What a process builds once and every registry read shares: the async runtime, one registry
//! client (connection pool, TLS roots, tokens) per registry and credential, and content by digest.
//!
//! A `check` reads many images that share blobs at once. Each distinct blob is fetched, verified and
//! indexed once: the first reader of a digest takes its slot, the others wait on the slot and get
//! the same `Arc`. Small verified blobs (manifests, configs) the probe already fetched are kept too,
//! so the image reader does not ask for them again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
};

use crate::LayerIndex;

/// Values computed at most once per key, whoever asks first; the others wait for it. A failure is
/// not remembered: the next asker tries again (and reports its own error).
pub(crate) struct Flights<T> {
    slots: Mutex<HashMap<String, Arc<Mutex<Option<T>>>>>,
}

impl<T: Clone> Flights<T> {
    fn new() -> Flights<T> {
        Flights {
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`, computing it with `make` unless someone did or is doing so.
    pub(crate) fn get_or_try<E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let slot = lock(&self.slots).entry(key.to_owned()).or_default().clone();
        let mut value = lock(&slot);
        if let Some(v) = &*value {
            return Ok(v.clone());
        }
        let v = make()?;
        *value = Some(v.clone());
        Ok(v)
    }

    /// Offers a value already at hand; never waits (a slot being filled keeps its own value).
    pub(crate) fn offer(&self, key: &str, value: T) {
        let slot = lock(&self.slots).entry(key.to_owned()).or_default().clone();
        if let Ok(mut v) = slot.try_lock()
            && v.is_none()
        {
            *v = Some(value);
        }
    }
}

/// A lock that survives a panic elsewhere (the maps hold only finished values).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The process-wide registry state.
pub(crate) struct Shared {
    /// One runtime for every registry read (built on first use).
    pub(crate) runtime: Result<tokio::runtime::Runtime, String>,
    /// Registry clients by registry, transport settings and credential.
    pub(crate) clients: Mutex<HashMap<String, oci_client::Client>>,
    /// Layer indexes by layer digest.
    pub(crate) layers: Flights<Arc<LayerIndex>>,
    /// Manifests and configs by digest, verified against it.
    pub(crate) blobs: Flights<Arc<[u8]>>,
    /// Manifest digests by `registry/repository:tag`, as this process first saw them.
    pub(crate) tags: Mutex<HashMap<String, String>>,
}

/// The state, built on first use.
pub(crate) fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}")),
        clients: Mutex::new(HashMap::new()),
        layers: Flights::new(),
        blobs: Flights::new(),
        tags: Mutex::new(HashMap::new()),
    })
}

/// The key of a tag in [`Shared::tags`].
pub(crate) fn tag_key(registry: &str, repository: &str, tag: &str) -> String {
    format!("{registry}/{repository}:{tag}")
}

/// Records a small blob whose content was checked against `digest` (by the probe), and, when it is
/// a manifest fetched by tag, what the tag named.
pub(crate) fn remember(digest: &str, body: &[u8], tag: Option<String>) {
    let s = shared();
    s.blobs.offer(digest, Arc::from(body));
    if let Some(tag) = tag {
        lock(&s.tags)
            .entry(tag)
            .or_insert_with(|| digest.to_owned());
    }
}
