//! Container image access for batchprep: references, local image sources (OCI layout, OCI archive,
//! docker-archive, a Docker engine's images), registries, layer streaming with digest checks, and the merged filesystem view.
//! Knows nothing of rules or Azure Batch.
//!
//! The entry point is [`open`]: parse an argument with [`ImageSource::parse`], open it for a
//! [`Platform`], then ask the [`Image`]'s [`MergedFs`] what a runtime would see ([`MergedFs::resolve`],
//! [`MergedFs::which`], [`MergedFs::removed_by`]). Layers from elsewhere (a registry) go through
//! [`index_layer`] into a [`LayerIndex`], and [`MergedFs::from_layers`] merges them.

mod config_json;
pub mod digest;
pub mod docker_daemon;
pub mod engine_api;
pub mod error;
pub mod exec;
pub mod fs;
pub mod image;
pub mod input;
pub mod layer;
pub mod loader;
mod local;
mod name_tree;
pub mod reference;
pub mod registry;
pub mod safe_text;
pub mod source;
pub mod user_db;

pub use digest::Digest;
pub use error::Error;
pub use fs::{Entry, EntryKind, MergedFs, MergedFsBuilder, Resolution, Resolved};
pub use image::{DEFAULT_PATH, Image, ImageConfig, Layer, OpenOptions, Platform, open};
pub use layer::{LayerEntries, LayerEntry, LayerEntryKind, LayerEntryRef, LayerIndex, index_layer};
pub use reference::{Reference, ReferenceError};
pub use source::ImageSource;
