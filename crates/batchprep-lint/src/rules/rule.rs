//! Rule identity as a type: a [`Rule`] is a catalog name plus what the rule needs to run (its
//! [`Fact`]s) and, for task rules, the task field its findings point at. A rule is named by its
//! `RULE` constant, never by a string, so a finding can only be made for a rule that exists.

use crate::{RuleDoc, rule_doc};

/// A fact a rule reads. A rule runs whenever every fact it needs was gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    /// A task's container settings, command line and run options.
    Task,
    /// The image: config, platform and merged filesystem.
    Image,
    /// A pool definition.
    Pool,
    /// The network ranges the nodes must reach.
    Network,
    /// What the registry answered.
    Registry,
}

/// The field of a task a container finding points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskField {
    /// `/containerSettings/imageName`: the image (its ENTRYPOINT, CMD, platform).
    ImageName,
    /// `/commandLine`.
    CommandLine,
    /// `/containerSettings/containerRunOptions`.
    ContainerRunOptions,
    /// `/containerSettings/containerHostBatchBindMounts`.
    BindMounts,
    /// Wherever the program the container starts comes from: the ENTRYPOINT (`imageName`), an
    /// `--entrypoint` run option, or the command line. Resolved per finding.
    Program,
}

impl TaskField {
    /// The JSON pointer of the field, relative to the task.
    pub fn pointer(self) -> &'static str {
        match self {
            TaskField::ImageName | TaskField::Program => "/containerSettings/imageName",
            TaskField::CommandLine => "/commandLine",
            TaskField::ContainerRunOptions => "/containerSettings/containerRunOptions",
            TaskField::BindMounts => "/containerSettings/containerHostBatchBindMounts",
        }
    }
}

/// One rule: its catalog name, the facts it needs, and the task field its findings are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    name: &'static str,
    needs: &'static [Fact],
    field: Option<TaskField>,
}

impl Rule {
    /// A rule named `name` (as in `rules/<name>.toml`) that runs once `needs` were gathered.
    pub const fn new(name: &'static str, needs: &'static [Fact]) -> Self {
        Rule {
            name,
            needs,
            field: None,
        }
    }

    /// The task field this rule's findings point at.
    pub const fn at(mut self, field: TaskField) -> Self {
        self.field = Some(field);
        self
    }

    /// The stable kebab-case name.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The facts the rule reads.
    pub const fn needs(self) -> &'static [Fact] {
        self.needs
    }

    /// Whether the rule reads `fact`.
    pub fn needs_fact(self, fact: Fact) -> bool {
        self.needs.contains(&fact)
    }

    /// The task field its findings point at, for task rules.
    pub const fn field(self) -> Option<TaskField> {
        self.field
    }

    /// The catalog entry. Every rule has one (the catalog tests check), so this only fails in a
    /// build whose catalog and code disagree.
    pub fn doc(self) -> Option<&'static RuleDoc> {
        rule_doc(self.name)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}
