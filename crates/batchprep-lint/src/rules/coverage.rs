//! What a run could not check, reported as notes so that "not checked" is never read as "passed".

/// `--offline` (or no way to reach the registry): pull access and Docker Hub risk were not checked.
pub mod registry_check_skipped {
    /// Rule name.
    pub const NAME: &str = "registry-check-skipped";
}

/// An image the container rules could not read (offline without a local copy, or unreadable).
pub mod image_not_inspected {
    /// Rule name.
    pub const NAME: &str = "image-not-inspected";
}
