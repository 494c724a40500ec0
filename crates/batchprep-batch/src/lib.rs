//! The Azure Batch model for batchprep: pool and task JSON (data plane and ARM), the container-task
//! semantics, the VM image catalog, start tasks and `daemon.json`, bridge conflict analysis and the
//! pool emitters. Knows nothing of rules.
pub mod catalog;
pub mod emit;
pub mod json_pos;
pub mod net;
pub mod plan;
pub mod pool;
pub mod pool_source;
pub mod prefetch;
pub mod spec;
pub mod spec_draft;
pub mod start_task;
pub mod task;
pub mod task_file;
pub mod template;
pub mod vm_size;
