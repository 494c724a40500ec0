//! Opening an image for `inspect`, `lint` and `check`: local transports in place, registry images
//! through the registry client with the run's one registry setting (flags > environment > config).

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
