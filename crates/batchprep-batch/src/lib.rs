//! The Azure Batch model for batchprep: pool and task JSON (data plane and ARM), the container-task
//! semantics, the VM image catalog, start tasks and `daemon.json`, bridge conflict analysis and the
//! pool emitters. Knows nothing of rules.
pub mod net;
pub mod task;
