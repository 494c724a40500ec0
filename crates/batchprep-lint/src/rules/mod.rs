//! The rules, one module each, and their registry.
//!
//! Every rule module declares its identity once, as `pub const RULE: Rule = Rule::new("name",
//! &[facts]);` (see [`Rule`]), and its family lists the module once: `container::RULES`,
//! `pool::RULES`, `network::RULES`, `registry::RULES`, `coverage::RULES`, `artifact::RULES`. [`all`] chains the
//! families; a test keeps it and the catalog under `rules/` one to one.
//!
//! Adding a rule, or converting one written in the older style (`pub const NAME: &str = "x";` and
//! `f.finding(NAME, ...)`), is mechanical:
//!
//! 1. write `rules/<name>.toml`;
//! 2. in the module, replace `pub const NAME: &str = "x";` by
//!    `pub const RULE: Rule = Rule::new("x", &[Fact::Task, Fact::Image]).at(TaskField::Program);`
//!    (`needs`: the facts the rule reads; a container rule that reads only the task needs
//!    `&[Fact::Task]` and then runs even when the image could not be read. `.at(...)`: the task field
//!    its findings point at, for container rules);
//! 3. replace `NAME` by `RULE` in its `f.finding(...)` / `Finding::new(...)` calls;
//! 4. add one line to the family list: for a container rule
//!    `ContainerRule { rule: x::RULE, check: x::check, linux_only: false }` in `container::RULES`
//!    (`linux_only`: models Linux exec, skipped for Windows images); for a pool rule
//!    `PoolRule { rule: x::RULE, check: x::check }` in `pool::RULES`.

pub mod artifact;
pub mod container;
pub mod coverage;
pub mod network;
pub mod pool;
pub mod registry;
mod rule;

pub use rule::{Fact, Rule, TaskField};

/// Every rule implemented in code, family by family.
pub fn all() -> impl Iterator<Item = Rule> {
    coverage::RULES
        .iter()
        .copied()
        .chain(artifact::RULES.iter().copied())
        .chain(container::RULES.iter().map(|r| r.rule))
        .chain(network::RULES.iter().copied())
        .chain(pool::RULES.iter().map(|r| r.rule))
        .chain(registry::RULES.iter().copied())
}

/// The rule with this catalog name, when code implements it.
pub fn by_name(name: &str) -> Option<Rule> {
    all().find(|r| r.name() == name)
}
