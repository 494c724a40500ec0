//! `batchprep start-task`: the start task that moves Docker's data root off the OS disk and sets the
//! bridge, as a bash script (`--format sh`) or the data-plane `startTask` object (`--format json`).

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use batchprep_batch::{
    catalog,
    net::{self, AddressPool as NetPool},
    spec::DataRoot,
    start_task::{AddressPool, DataRootTarget, StartTask},
};
use batchprep_oci::Reference;

/// Output format of `start-task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The bash script.
    Sh,
    /// The data-plane `startTask` object.
    Json,
}

/// Arguments of `batchprep start-task`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where Docker keeps its data: `auto` (the temp disk of the image family, checked at run time),
    /// `keep`, or an absolute path.
    #[arg(long, value_name = "auto|keep|PATH", default_value = "auto")]
    pub data_root: String,
    /// docker0's address and prefix (`10.199.0.1/24`).
    #[arg(long, value_name = "CIDR")]
    pub bip: Option<String>,
    /// Docker's address pools, comma-separated `BASE/SIZE` (`10.200.0.0/16/24`) or
    /// `base=10.200.0.0/16,size=24` (repeatable).
    #[arg(long, value_name = "BASE/SIZE,...")]
    pub default_address_pools: Vec<String>,
    /// The pool's marketplace image (`publisher:offer:sku` or an alias such as `ubuntu-hpc-2404`):
    /// decides where `auto` looks for the temp disk.
    #[arg(long, value_name = "IMAGE")]
    pub pool_image: Option<String>,
    /// An image to pull again when it is not in the new data root (repeatable).
    #[arg(long, value_name = "IMAGE", num_args = 1..)]
    pub prefetch: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Sh)]
    pub format: Format,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let task = build(&args)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Sh => out.write_all(task.script().as_bytes())?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &task.to_rest())?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn build(args: &Args) -> anyhow::Result<StartTask> {
    let family = match &args.pool_image {
        Some(image) => {
            let image = catalog::resolve(image).context("--pool-image")?;
            match image.known {
                Some(k) => Some(k.os_family),
                None => anyhow::bail!(
                    "--pool-image: {image} is not in batchprep's image catalog; give --data-root PATH instead of auto"
                ),
            }
        }
        None => None,
    };
    let data_root = match DataRoot::parse(&args.data_root) {
        Some(DataRoot::Auto) => DataRootTarget::auto_for(family),
        Some(DataRoot::Keep) => DataRootTarget::Keep,
        Some(DataRoot::Path(p)) => DataRootTarget::Path(p),
        _ => anyhow::bail!(
            "--data-root: `{}` is not `auto`, `keep` or an absolute path",
            args.data_root
        ),
    };
    let bip = args
        .bip
        .as_deref()
        .map(|b| net::parse_cidr(b, "--bip").map(|net| (b, net)))
        .transpose()?
        .map(|(b, net)| match net::bip_refused(net) {
            Some(why) => Err(anyhow::anyhow!("--bip: `{b}`: {why}")),
            None => Ok(b.to_owned()),
        })
        .transpose()?;
    let mut pools = Vec::new();
    for value in &args.default_address_pools {
        for part in split_pools(value) {
            let pool: NetPool = NetPool::parse(&part, "--default-address-pools")?;
            pools.push(AddressPool {
                base: pool.base.to_string(),
                size: pool.size,
            });
        }
    }
    let mut prefetch = Vec::new();
    for image in &args.prefetch {
        let r = Reference::parse(image).with_context(|| format!("--prefetch {image}"))?;
        prefetch.push(r.to_string());
    }
    let task = StartTask {
        data_root,
        bip,
        default_address_pools: pools,
        prefetch,
    };
    if !task.is_needed() {
        anyhow::bail!(
            "nothing to do: --data-root keep without --bip or --default-address-pools leaves Docker as it is"
        );
    }
    Ok(task)
}

/// `BASE/SIZE,BASE/SIZE` or Docker's `base=..,size=..` (whose commas belong to one pool).
fn split_pools(value: &str) -> Vec<String> {
    if value.contains('=') {
        vec![value.to_owned()]
    } else {
        value.split(',').map(|p| p.trim().to_owned()).collect()
    }
}
