//! The container part of the pre-flight alone (`lint`): each task against the image it names, with
//! the same image opener, the same rules and the same places in the task file as `check`.

use std::collections::BTreeMap;

use anyhow::Context;
use batchprep_batch::task::TaskContainer;
use batchprep_lint::{Finding, rules::container::ContainerFacts};
use batchprep_oci::{ImageSource, Platform, registry::image::RegistryAccess};

use crate::{
    TaskPlace, artifact_finding, container_findings,
    images::{open_all, open_on_node, source_of_argument},
};

/// One task to lint against an image.
pub struct ContainerJob<'a> {
    /// The image as given: a transport (`oci:DIR`, `docker://REF`) or a reference, which
    /// `[images.local]` may map to a local image.
    pub image: String,
    /// The container Batch starts for the task.
    pub task: TaskContainer,
    /// Where the task sits in its file, when it comes from one.
    pub place: Option<&'a TaskPlace>,
}

/// How `lint` reads images and runs the container rules.
pub struct ContainerLint<'a> {
    /// The platform of the nodes.
    pub node: &'a Platform,
    /// Image references read from local images instead of the registry (normalised reference →
    /// source).
    pub local: &'a BTreeMap<String, ImageSource>,
    /// How registry images are read.
    pub access: &'a RegistryAccess,
    /// Run options the node agent is known to accept (`[node-agent]`).
    pub accepted_run_options: &'a [String],
}

impl ContainerLint<'_> {
    /// Opens each distinct image once (several at a time), then runs the container rules on each
    /// job in order, handing `visit` the facts of each job whose image was read (for `--explain-run`
    /// and the JSON `containers`). An artifact given as an image is its finding, and the rules that
    /// need only the task still run; any other image that could not be read fails the run, the
    /// first in the order given.
    pub fn run(
        &self,
        jobs: &[ContainerJob<'_>],
        visit: &mut dyn FnMut(&ContainerFacts<'_>),
    ) -> anyhow::Result<Vec<Finding>> {
        let mut wanted: Vec<(String, ImageSource)> = Vec::new();
        for job in jobs {
            if wanted.iter().any(|(arg, _)| *arg == job.image) {
                continue;
            }
            let source = source_of_argument(&job.image, self.local)
                .with_context(|| format!("image `{}`", job.image))?;
            wanted.push((job.image.clone(), source));
        }
        let mut images = open_all(&wanted, &|source| {
            open_on_node(source, self.node, self.access)
        });
        let unreadable = jobs.iter().find(|job| match &images[&job.image] {
            Err(e) => artifact_finding(e, &job.task, &job.image, None).is_none(),
            Ok(_) => false,
        });
        if let Some(job) = unreadable
            && let Some(Err(e)) = images.remove(&job.image)
        {
            return Err(anyhow::Error::new(e).context(format!("image `{}`", job.image)));
        }
        let mut findings = Vec::new();
        for job in jobs {
            let facts = match &images[&job.image] {
                Ok(image) => ContainerFacts::new(image, &job.task, self.node),
                Err(e) => {
                    findings.extend(artifact_finding(e, &job.task, &job.image, job.place));
                    ContainerFacts::without_image(&job.task, self.node)
                }
            }
            .accepting(self.accepted_run_options);
            findings.extend(container_findings(&facts, job.place));
            if facts.image_read {
                visit(&facts);
            }
        }
        Ok(findings)
    }
}
