//! The rules, one module each. [`ALL`] lists every rule name in code; a test keeps it and the
//! catalog under `rules/` one to one.

/// Every rule implemented in code, by name.
pub const ALL: &[&str] = &[];
