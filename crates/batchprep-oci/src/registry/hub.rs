//! Docker Hub's pull limits (docs, 2025-03), kept as constants so a change in the published limits
//! is a one-line edit: per 6 hours, 100 pulls per IPv4 address (or IPv6 /64) for anonymous users,
//! 200 for a Personal account; paid plans are unlimited (fair use) and get no rate-limit headers.

/// Pulls per window for anonymous users, per egress address.
pub const ANONYMOUS_PULLS: u64 = 100;
/// Pulls per window for an authenticated Personal account.
pub const AUTHENTICATED_PULLS: u64 = 200;
/// The window, in seconds (6 hours).
pub const WINDOW_SECS: u64 = 6 * 60 * 60;
/// Nodes that share one BatchManaged public address (one address per up to 100 nodes).
pub const NODES_PER_BATCH_MANAGED_ADDRESS: u64 = 100;
