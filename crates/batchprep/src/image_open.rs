//! Opening an image for `inspect` and `lint`: local transports in place, registry images through the
//! registry client with the credentials and settings of the environment, and `--no-cache`.

use batchprep_oci::{
    Error, Image, ImageSource, OpenOptions,
    registry::image::{RegistryAccess, open as open_registry},
};

/// Opens `source`; for a registry image, `no_cache` reads every layer instead of the layer-index cache.
pub fn open(source: &ImageSource, options: &OpenOptions, no_cache: bool) -> Result<Image, Error> {
    match source {
        ImageSource::Registry(reference) => {
            let mut access = RegistryAccess::from_env()?;
            if no_cache {
                access.cache_dir = None;
            }
            open_registry(reference, options, &access)
        }
        local => batchprep_oci::open(local, options),
    }
}
