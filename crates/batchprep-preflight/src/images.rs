//! Opening images, the same way for `inspect`, `lint` and `check`: local transports in place,
//! registry images through the registry client with the run's one registry setting.

use std::collections::BTreeMap;

use batchprep_oci::{
    Error, Image, ImageSource, OpenOptions, Platform,
    registry::image::{RegistryAccess, open as open_registry},
};

/// Opens `source`; a registry image with the registry settings of the run (`access`).
pub fn open(
    source: &ImageSource,
    options: &OpenOptions,
    access: &RegistryAccess,
) -> Result<Image, Error> {
    match source {
        ImageSource::Registry(reference) => open_registry(reference, options, access),
        local => batchprep_oci::open(local, options),
    }
}

/// Opens an image for nodes of platform `node` with `open`. An index without the nodes' platform is
/// a finding (platform-mismatch), not a read error: the image's first platform is read instead, so
/// the rules see what the nodes would be handed.
pub fn open_for_node(
    node: &Platform,
    open: impl Fn(&Platform) -> Result<Image, Error>,
) -> Result<Image, Error> {
    match open(node) {
        Err(Error::PlatformNotFound { available, .. }) if available != "no platforms" => {
            match available
                .split(", ")
                .next()
                .unwrap_or_default()
                .parse::<Platform>()
            {
                Ok(first) => open(&first),
                Err(_) => open(node),
            }
        }
        other => other,
    }
}

/// Opens `source` for nodes of platform `node` (see [`open_for_node`]).
pub fn open_on_node(
    source: &ImageSource,
    node: &Platform,
    access: &RegistryAccess,
) -> Result<Image, Error> {
    open_for_node(node, |platform| {
        let options = OpenOptions {
            platform: platform.clone(),
        };
        open(source, &options, access)
    })
}

/// The source of an image argument: the local image `[images.local]` maps its reference to, else
/// the argument as a transport (`oci:DIR`, `docker://REF`, a bare reference).
pub fn source_of_argument(
    arg: &str,
    local: &BTreeMap<String, ImageSource>,
) -> Result<ImageSource, Error> {
    let mapped = batchprep_oci::Reference::parse(arg)
        .ok()
        .and_then(|r| local.get(&r.to_string()).cloned());
    match mapped {
        Some(source) => Ok(source),
        None => ImageSource::parse(arg),
    }
}

/// Opens every image, at most eight at a time (a registry image is mostly waiting on the network),
/// keyed as given.
pub fn open_all(
    wanted: &[(String, ImageSource)],
    open: &(dyn Fn(&ImageSource) -> Result<Image, Error> + Sync),
) -> BTreeMap<String, Result<Image, Error>> {
    const PARALLEL: usize = 8;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL.min(wanted.len()))
            .map(|w| {
                scope.spawn(move || {
                    wanted
                        .iter()
                        .skip(w)
                        .step_by(PARALLEL)
                        .map(|(key, source)| (key.clone(), open(source)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}
