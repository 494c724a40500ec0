//! The rules, one module each. [`ALL`] lists every rule name in code; a test keeps it and the
//! catalog under `rules/` one to one.

pub mod container;
pub mod coverage;
pub mod network;
pub mod pool;
pub mod registry;

/// Every rule implemented in code, by name.
pub const ALL: &[&str] = &[
    coverage::registry_check_skipped::NAME,
    coverage::image_not_inspected::NAME,
    container::relative_entrypoint::NAME,
    container::workdir_relative_argument::NAME,
    container::executable_not_found::NAME,
    container::not_executable_by_task_user::NAME,
    container::shebang_interpreter_missing::NAME,
    container::shebang_crlf::NAME,
    container::nothing_to_run::NAME,
    container::entrypoint_swallows_command_line::NAME,
    container::platform_mismatch::NAME,
    container::gpus_run_option::NAME,
    container::runtime_run_option::NAME,
    container::redundant_rm_option::NAME,
    container::relative_workdir_option::NAME,
    container::unexpanded_variable::NAME,
    network::docker_bridge_overlap::NAME,
    network::docker_address_pool_overlap::NAME,
    pool::container_type_missing::NAME,
    pool::docker_data_root_on_os_disk::NAME,
    pool::invalid_registry_server::NAME,
    pool::legacy_pool_field::NAME,
    pool::missing_registry_credentials::NAME,
    pool::mutable_image_tag::NAME,
    pool::node_agent_mismatch::NAME,
    pool::node_image_end_of_life::NAME,
    pool::node_image_without_docker::NAME,
    pool::obsolete_docker_daemon_flags::NAME,
    pool::rdma_image_on_non_rdma_size::NAME,
    pool::retired_node_image::NAME,
    pool::task_image_not_prefetched::NAME,
    pool::task_missing_container_settings::NAME,
    pool::template_value_unknown::NAME,
    pool::unsupported_vm_size::NAME,
    registry::image_not_pullable::NAME,
    registry::docker_hub_rate_limit_risk::NAME,
];
