//! Container image access for batchprep: references, local image sources (OCI layout, OCI archive,
//! docker-archive), registries, layer streaming with digest checks, and the merged filesystem view.
//! Knows nothing of rules or Azure Batch.

pub mod reference;
pub mod registry;

pub use reference::{Reference, ReferenceError};
